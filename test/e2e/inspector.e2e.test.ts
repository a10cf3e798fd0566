// End-to-end tests in a real VS Code (code-server 4.100.3) with the development build of the
// extension installed in a fresh extensions folder (issue 5, tests 1-7). Screenshots of every step
// are written to test-results/e2e/. Run with `npm run test:e2e`.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log, openWorkbench, REPO, SLOW_MS, startCodeServer, waitFor, type CodeServer, type Workbench } from './harness';
import {
  appState,
  assertNoWebviewProblems,
  canvasColours,
  expectImage,
  focusWebview,
  imgInfo,
  pressAndExpectScale,
  psnr,
  sliderMax,
  INSPECT_TIMEOUT,
  TOKENIZE,
  tokenizeFromExplorer,
  waitForInspector,
} from './inspect';

const IMAGE = 'cat-face.png';

describe('e2e: the inspector in VS Code (code-server 4.100.3)', function () {
  this.timeout(900_000);
  let vs: CodeServer;
  let wb: Workbench;

  before(async function () {
    this.timeout(900_000);
    vs = await startCodeServer({ extension: { kind: 'folder', dir: REPO } });
    wb = await openWorkbench(vs, 'dev');
    await wb.screenshot('workbench');
    // The extension's menu entries appear once the extension host has scanned the extension.
    await wb.waitForExtensionMenu(IMAGE, TOKENIZE);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await wb.screenshot(`FAILED-${this.currentTest.title.slice(0, 40)}`);
  });

  after(async () => {
    await wb?.close();
    await vs?.stop();
  });

  it('1. explorer right-click > "Tokenize Image" opens the inspector with reconstruction and token maps', async () => {
    const labels = await wb.openContextMenu(IMAGE);
    await wb.screenshot('context-menu');
    await wb.closeMenus();
    assert.ok(labels.some((l) => TOKENIZE.test(l)), `menu: ${labels.join(' | ')}`);

    const web = await tokenizeFromExplorer(wb, IMAGE);
    assert.ok((await wb.tabTitles()).some((t) => t === `Inspector: ${IMAGE}`), `tabs: ${(await wb.tabTitles()).join(', ')}`);
    const original = await expectImage(web, 'original');
    const rec = await expectImage(web, 'reconstruction');
    assert.notEqual(rec.src, original.src, 'the reconstruction is a picture of its own');
    for (const role of ['semantic', 'detail']) {
      const c = await canvasColours(web, `token-map-${role}`);
      assert.ok(c.width > 0 && c.colours > 1, `token map ${role} is drawn: ${JSON.stringify(c)}`);
      await web.locator(`[data-testid="token-strip-${role}-1"]`).first().waitFor({ state: 'attached' });
    }
    const p = await psnr(web);
    assert.ok(Number.isFinite(p) && p > 5, `PSNR at full scale ${p}`);
    log(`full-scale PSNR ${p} dB, status "${(await appState(web)).status}"`);
    await wb.screenshot('inspector');
  });

  it('2. stepping from scale 1 to the last changes the reconstruction and PSNR rises overall', async () => {
    const web = wb.webview();
    await waitForInspector(wb);
    const n = await sliderMax(web);
    assert.ok(n >= 2, `scales: ${n}`);
    await focusWebview(web);
    await pressAndExpectScale(wb, 'Home', 1);
    await wb.screenshot('scale-1');
    const srcs = [(await imgInfo(web, 'reconstruction')).src];
    const psnrs = [await psnr(web)];
    for (let k = 2; k <= n; k++) {
      await pressAndExpectScale(wb, 'ArrowRight', k);
      await waitFor(`reconstruction of scale ${k}`, async () => (await imgInfo(web, 'reconstruction')).src !== srcs[srcs.length - 1], 5000, 100).catch(() => undefined);
      srcs.push((await imgInfo(web, 'reconstruction')).src);
      psnrs.push(await psnr(web));
      if (k === Math.ceil(n / 2)) await wb.screenshot(`scale-${k}`);
    }
    await wb.screenshot(`scale-${n}`);
    log(`PSNR by scale: ${psnrs.map((v) => v.toFixed(2)).join(', ')}`);
    const changed = srcs.slice(1).filter((s, i) => s !== srcs[i]).length;
    assert.ok(changed >= n - 2, `the reconstruction changed at ${changed} of ${n - 1} steps`);
    assert.ok(psnrs[n - 1] > psnrs[0] + 1, `PSNR rises from scale 1 (${psnrs[0]}) to ${n} (${psnrs[n - 1]})`);
    const rises = psnrs.slice(1).filter((v, i) => v >= psnrs[i] - 0.05).length;
    assert.ok(rises >= Math.ceil((n - 1) * 0.6), `PSNR rose (or held) at ${rises} of ${n - 1} steps: ${psnrs.join(', ')}`);
    // Left and End keys too
    await pressAndExpectScale(wb, 'ArrowLeft', n - 1);
    await pressAndExpectScale(wb, 'End', n);
  });

  it('3. semantic-only and detail-only ablations render', async () => {
    const web = wb.webview();
    const sem = await expectImage(web, 'ablation-semantic');
    const det = await expectImage(web, 'ablation-detail');
    const both = await expectImage(web, 'ablation-both');
    assert.notEqual(sem.src, det.src, 'semantic-only and detail-only differ');
    assert.notEqual(sem.src, both.src, 'semantic-only differs from both branches');
    const fig = web.locator('[data-testid="ablation-semantic-figure"]').first();
    await fig.scrollIntoViewIfNeeded();
    await fig.click();
    await waitFor('semantic-only to be selected', async () => (await fig.getAttribute('aria-pressed')) === 'true', 5000, 100);
    await wb.screenshot('ablation-semantic-only');
    const detFig = web.locator('[data-testid="ablation-detail-figure"]').first();
    await detFig.click();
    await waitFor('detail-only to be selected', async () => (await detFig.getAttribute('aria-pressed')) === 'true', 5000, 100);
    await wb.screenshot('ablation-detail-only');
  });

  it('4. "Open With... > ImageFolder Inspector" works and the panels survive a window reload', async () => {
    await wb.runCommand('View: Close All Editors');
    await waitFor('no editors', async () => (await wb.tabTitles()).length === 0, 15_000);
    await wb.contextMenu('rocket.png', /^Open With/);
    await wb.screenshot('open-with-pick');
    await wb.pickQuickPick('ImageFolder Inspector');
    await waitFor('the custom editor tab', async () => (await wb.tabTitles()).includes('rocket.png'), 120_000);
    let rocket = await wb.webviewFor('rocket.png', INSPECT_TIMEOUT);
    await waitForInspector(wb, ['ready'], INSPECT_TIMEOUT, rocket);
    await expectImage(rocket, 'reconstruction');
    await wb.screenshot('open-with-inspector');

    // Also a tokenize panel beside it, moved to scale 1; then reload the window: both come back.
    let sunflower = await tokenizeFromExplorer(wb, 'sunflower.png');
    await focusWebview(sunflower);
    await pressAndExpectScale(wb, 'Home', 1, sunflower);
    log(`tabs before reload: ${(await wb.tabTitles()).join(', ')}`);
    await wb.reloadWindow('rocket.png');
    await waitFor(
      'the inspector tabs to be restored',
      async () => {
        const t = await wb.tabTitles();
        return t.includes('rocket.png') && t.includes('Inspector: sunflower.png');
      },
      SLOW_MS,
    );
    sunflower = await wb.webviewFor('sunflower.png', INSPECT_TIMEOUT);
    const s = await waitForInspector(wb, ['ready'], INSPECT_TIMEOUT, sunflower);
    log(`sunflower after reload: ${JSON.stringify(s)}`);
    assert.equal(s.scale, 1, 'the restored panel keeps its scale (webview state)');
    rocket = await wb.webviewFor('rocket.png', INSPECT_TIMEOUT);
    await waitForInspector(wb, ['ready'], INSPECT_TIMEOUT, rocket);
    await expectImage(rocket, 'reconstruction');
    await wb.screenshot('after-reload');
  });

  it('5. a corrupt image gives an error notification and the next image still works', async () => {
    await wb.runCommand('View: Close All Editors');
    await wb.contextMenuWithEffect(
      'corrupt.png',
      TOKENIZE,
      async () => (await wb.tabTitles()).includes('Inspector: corrupt.png') || (await wb.notifications()).some((n) => /corrupt\.png/.test(n)),
      90_000,
    );
    const note = await wb.waitForNotification(/corrupt\.png.*(complete PNG|could not|cannot|failed|decode|corrupt)/i, INSPECT_TIMEOUT);
    log(`notification: ${note}`);
    await wb.screenshot('corrupt-notification');
    assert.match(note, /PNG|image|decode|read/i, 'the message says what is wrong');
    const s = await appState(wb.webview()).catch(() => undefined);
    if (s) assert.notEqual(s.state, 'ready', 'the corrupt image is not shown as a result');

    const apple = await tokenizeFromExplorer(wb, 'red-apple.png');
    await expectImage(apple, 'reconstruction');
    await wb.screenshot('next-image-after-error');
  });

  it('6. no CSP violation or uncaught error in the webview console', async () => {
    log(`console: ${wb.console.length} messages, ${wb.console.filter((c) => c.webview).length} from webviews`);
    assertNoWebviewProblems(wb);
  });

  it('7. generation preview', function () {
    const manifest = path.join(REPO, 'models', 'imagefolder-mini', 'manifest.json');
    const hasGenerator =
      fs.existsSync(manifest) && /"generator"\s*:/.test(fs.readFileSync(manifest, 'utf8'));
    if (!hasGenerator) {
      log('SKIPPED: the built-in model has no generator yet (manifest.graphs.generator); this test is written when the generator issue lands');
      this.skip();
    }
    assert.fail('the built-in model has a generator: write the generation preview test (issue 5, test 7)');
  });
});

