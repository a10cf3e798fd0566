// The inspector webview bundle in headless Chromium with the production CSP: renders every view
// from an inspection produced by the runtime core, steps scales with the keyboard, shows token info
// on hover, highlights a code across maps on click, persists state, and logs no CSP violation.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { Inspection } from '../../src/shared/types';
import { PROTOCOL_VERSION } from '../../src/shared/protocol/common';
import { launch, openWebview, repoRoot, type WebviewPage } from './harness';
import { loadInspection, SAMPLE } from './inspection';

const init = { kind: 'init', protocol: PROTOCOL_VERSION, info: { title: 'cat-face.png', resource: 'file:///samples/cat-face.png', mode: 'image' } };

async function waitReady(w: WebviewPage): Promise<void> {
  try {
    await w.page.waitForFunction(() => (window as unknown as { __posted: { kind: string }[] }).__posted.some((m) => m.kind === 'ready'), undefined, { timeout: 15_000 });
  } catch (e) {
    throw new Error(`webview never said ready: ${(e as Error).message}\nconsole: ${JSON.stringify(w.console)}\nerrors: ${JSON.stringify(w.pageErrors)}`);
  }
}

async function rendered(w: WebviewPage, ins: Inspection): Promise<void> {
  await waitReady(w);
  await w.send(init);
  await w.send({ kind: 'busy', message: 'Tokenizing cat-face.png…' });
  await w.page.waitForSelector('#app[data-state="busy"]');
  await w.send({ kind: 'inspection', inspection: ins });
  await w.page.waitForSelector('#app[data-state="ready"]');
}

const testid = (id: string): string => `[data-testid="${id}"]`;

async function scaleOf(w: WebviewPage): Promise<number> {
  return Number(await w.page.getAttribute('#app', 'data-scale'));
}

function assertClean(w: WebviewPage, violations: string[]): void {
  assert.deepEqual(violations, [], 'CSP violations');
  const csp = w.console.filter((m) => /Content Security Policy|Refused to/i.test(m.text));
  assert.deepEqual(csp, [], 'CSP messages in the console');
  const errors = w.console.filter((m) => m.type === 'error');
  assert.deepEqual(errors, [], 'console errors');
  assert.deepEqual(w.pageErrors, [], 'uncaught page errors');
  assert.deepEqual(w.remoteRequests, [], 'requests outside the webview origin');
}

describe('inspector webview (headless Chromium, production CSP)', function () {
  // generous: the CI machines have 2 cores, often shared with training runs
  this.timeout(300_000);
  let browser: Browser;
  let ins: Inspection;
  let real = false;

  before(async () => {
    const r = await loadInspection();
    ins = r.inspection;
    real = r.real;
    console.log(`      using ${real ? 'a REAL inspection (built-in model)' : 'a SYNTHETIC inspection (built-in model not present yet)'} of ${SAMPLE}`);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  it('renders original, reconstruction, metrics, curve, token maps, ablations and usage', async () => {
    const w = await openWebview(browser, { theme: 'dark' });
    await rendered(w, ins);
    const n = ins.progressive.length;
    assert.equal(await scaleOf(w), n, 'starts at the full reconstruction');
    for (const id of ['original', 'reconstruction', 'contribution', 'ablation-semantic', 'ablation-detail', 'ablation-both']) {
      const ok = await w.page.$eval(testid(id), (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0);
      assert.ok(ok, `${id} image decoded`);
    }
    const psnr = await w.page.textContent(testid('psnr'));
    assert.equal(psnr, `${ins.psnrByScale[n - 1].toFixed(2)} dB`);
    assert.equal(await w.page.textContent(testid('ssim')), ins.ssimByScale[n - 1].toFixed(3));
    assert.equal(await w.page.$$eval(`${testid('psnr-curve')} circle`, (c) => c.length), n);
    for (const role of ['detail', 'semantic']) {
      // every cell is painted in its code's colour (PCA colours from the codebook)
      const b = role === 'detail' ? 0 : 1;
      const map = ins.tokenMaps.find((m) => m.branch === b && m.scale === n - 1)!;
      const centres = await w.page.$eval(
        testid(`token-map-${role}`),
        (c, side) => {
          const cv = c as HTMLCanvasElement;
          const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
          const cell = cv.width / side;
          const out: number[][] = [];
          for (let r = 0; r < side; r++)
            for (let q = 0; q < side; q++) {
              const x = Math.floor((q + 0.5) * cell);
              const y = Math.floor((r + 0.5) * cell);
              const i = (y * cv.width + x) * 4;
              out.push([d[i], d[i + 1], d[i + 2]]);
            }
          return out;
        },
        map.side,
      );
      centres.forEach((rgb, i) => assert.deepEqual(rgb, ins.codeColours[b][map.indices[i]], `${role} cell ${i}`));
      assert.equal(await w.page.$$eval(`canvas[data-testid^="token-strip-${role}-"]`, (c) => c.length), n);
      const hist = await w.page.$eval(testid(`usage-histogram-${role}`), (c) => (c as HTMLCanvasElement).width);
      assert.ok(hist > 0);
      const u = ins.usage[role === 'detail' ? 0 : 1];
      assert.equal(await w.page.textContent(testid(`usage-distinct-${role}`)), `${u.used} of ${ins.model.tokensPerBranch} tokens`);
    }
    assert.match((await w.page.textContent(testid('status'))) ?? '', new RegExp(ins.model.name));
    assertClean(w, await w.cspViolations());
    await w.page.context().close();
  });

  it('steps scales with Left/Right/Home/End, buttons and the slider, updating reconstruction and PSNR', async () => {
    const w = await openWebview(browser, { theme: 'light' });
    await rendered(w, ins);
    const n = ins.progressive.length;
    const src = () => w.page.getAttribute(testid('reconstruction'), 'src');
    await w.page.locator('body').click({ position: { x: 5, y: 5 } });
    await w.page.keyboard.press('Home');
    assert.equal(await scaleOf(w), 1);
    const first = await src();
    assert.equal(await w.page.textContent(testid('psnr')), `${ins.psnrByScale[0].toFixed(2)} dB`);
    await w.page.keyboard.press('ArrowRight');
    await w.page.keyboard.press('ArrowRight');
    assert.equal(await scaleOf(w), 3);
    assert.equal(await w.page.inputValue(testid('scale-slider')), '3');
    assert.equal(await w.page.textContent(testid('psnr')), `${ins.psnrByScale[2].toFixed(2)} dB`);
    assert.equal(await src(), `data:image/png;base64,${ins.progressive[2].pngBase64}`);
    assert.equal(await w.page.getAttribute(testid('contribution'), 'src'), `data:image/png;base64,${ins.contribution[2].pngBase64}`);
    assert.notEqual(await src(), first);
    await w.page.keyboard.press('ArrowLeft');
    assert.equal(await scaleOf(w), 2);
    await w.page.keyboard.press('End');
    assert.equal(await scaleOf(w), n);
    await w.page.keyboard.press('ArrowRight');
    assert.equal(await scaleOf(w), n, 'clamped at the last scale');
    await w.page.click(testid('scale-first'));
    assert.equal(await scaleOf(w), 1);
    await w.page.click(testid('scale-next'));
    assert.equal(await scaleOf(w), 2);
    await w.page.fill(testid('scale-slider'), '6');
    assert.equal(await scaleOf(w), 6);
    // the slider keeps keyboard focus semantics of a native range input
    await w.page.focus(testid('scale-slider'));
    await w.page.keyboard.press('ArrowRight');
    assert.equal(await scaleOf(w), 7);
    // clicking a point of the PSNR curve jumps there
    await w.page.click(`${testid('psnr-curve')} circle[data-scale="3"]`);
    assert.equal(await scaleOf(w), 4);
    // play runs through to the last scale
    await w.page.click(testid('scale-last'));
    await w.page.click(testid('play'));
    assert.equal(await scaleOf(w), 1, 'play restarts from scale 1 at the end');
    await w.page.waitForFunction((last) => document.getElementById('app')?.dataset.scale === String(last) && !document.getElementById('app')?.dataset.playing, n, { timeout: 20_000 });
    // state persisted for restore
    const st = (await w.state()) as { scale: number; resource: string };
    assert.equal(st.scale, n - 1);
    assert.equal(st.resource, init.info.resource);
    assertClean(w, await w.cspViolations());
    await w.page.context().close();
  });

  it('hovering a token shows branch, scale, position and code; clicking highlights that code in every map', async () => {
    const w = await openWebview(browser, { theme: 'dark' });
    await rendered(w, ins);
    await w.page.locator('body').click({ position: { x: 5, y: 5 } });
    await w.page.keyboard.press('Home');
    for (let i = 0; i < 4; i++) await w.page.keyboard.press('ArrowRight');
    assert.equal(await scaleOf(w), 5);
    const k = 4;
    const side = ins.model.scales[k];
    const map = ins.tokenMaps.find((m) => m.branch === 1 && m.scale === k)!;
    const box = (await w.page.locator(testid('token-map-semantic')).boundingBox())!;
    const row = side - 1;
    const col = 1;
    await w.page.mouse.move(box.x + ((col + 0.5) * box.width) / side, box.y + ((row + 0.5) * box.height) / side);
    const info = await w.page.$eval(testid('token-info'), (el) => ({ text: el.textContent ?? '', ...(el as HTMLElement).dataset }) as Record<string, string>);
    const code = map.indices[row * side + col];
    assert.equal(info.branch, 'semantic');
    assert.equal(info.scale, '5');
    assert.equal(info.row, String(row + 1)); // positions count from 1 in the panel
    assert.equal(info.col, String(col + 1));
    assert.equal(info.code, String(code));
    assert.match(info.text, new RegExp(`semantic · scale 5/${ins.model.scales.length} \\(${side}×${side}\\) · row ${row + 1}, col ${col + 1} · token \\d+ of ${ins.model.tokensPerBranch} · code ${code}`));
    // the token's cell is outlined where it sits on the input, the reconstruction and the contribution
    for (const pic of ['original', 'reconstruction', 'contribution']) {
      const img = (await w.page.locator(testid(pic)).boundingBox())!;
      const region = w.page.locator(testid(`token-region-${pic}`));
      assert.ok(await region.isVisible(), `${pic}: outline shown`);
      const r = (await region.boundingBox())!;
      const cell = img.width / side;
      assert.ok(Math.abs(r.x - (img.x + col * cell)) <= 1.5 && Math.abs(r.y - (img.y + row * cell)) <= 1.5, `${pic}: outline at row ${row}, col ${col}`);
      assert.ok(Math.abs(r.width - cell) <= 1.5 && Math.abs(r.height - cell) <= 1.5, `${pic}: outline one cell wide (${r.width} vs ${cell})`);
    }
    // hover the detail map too
    const dbox = (await w.page.locator(testid('token-map-detail')).boundingBox())!;
    await w.page.mouse.move(dbox.x + dbox.width / side / 2, dbox.y + dbox.height / side / 2);
    const dinfo = await w.page.$eval(testid('token-info'), (el) => ({ ...(el as HTMLElement).dataset }));
    assert.equal(dinfo.branch, 'detail');
    assert.equal(dinfo.code, String(ins.tokenMaps.find((m) => m.branch === 0 && m.scale === k)!.indices[0]));
    // leaving the maps hides the outline
    await w.page.mouse.move(2, 2);
    assert.equal(await w.page.locator(testid('token-region-original')).isVisible(), false);
    await w.page.mouse.move(dbox.x + dbox.width / side / 2, dbox.y + dbox.height / side / 2);
    // keyboard: a focused map has a cell cursor that arrows move (not the scale), Enter highlights its code
    await w.page.locator(testid('token-map-detail')).focus();
    await w.page.keyboard.press('ArrowRight');
    await w.page.keyboard.press('ArrowDown');
    const kinfo = await w.page.$eval(testid('token-info'), (el) => ({ ...(el as HTMLElement).dataset }));
    assert.deepEqual([kinfo.branch, kinfo.row, kinfo.col], ['detail', '2', '2']);
    assert.equal(await scaleOf(w), 5, 'arrows on a focused map move its cursor, not the scale');
    assert.equal(await w.page.getAttribute(testid('token-region-reconstruction'), 'data-row'), '2');
    const kcode = ins.tokenMaps.find((m) => m.branch === 0 && m.scale === k)!.indices[side + 1];
    await w.page.keyboard.press('Enter');
    assert.equal(await w.page.getAttribute('#app', 'data-highlight'), `0:${kcode}`);
    await w.page.keyboard.press('Escape');
    await w.page.locator('body').click({ position: { x: 5, y: 5 } });
    assert.equal(await w.page.locator(testid('token-region-original')).isVisible(), false, 'outline hidden when the map loses focus');
    // click the semantic token: highlight everywhere it occurs (all scales of the semantic branch)
    await w.page.mouse.click(box.x + ((col + 0.5) * box.width) / side, box.y + ((row + 0.5) * box.height) / side);
    assert.equal(await w.page.getAttribute('#app', 'data-highlight'), `1:${code}`);
    for (let s = 0; s < ins.model.scales.length; s++) {
      const want = ins.tokenMaps.find((m) => m.branch === 1 && m.scale === s)!.indices.filter((c) => c === code).length;
      const got = await w.page.getAttribute(testid(`token-strip-semantic-${s + 1}`), 'data-highlighted');
      assert.equal(got, String(want), `semantic scale ${s + 1}`);
      assert.equal(await w.page.getAttribute(testid(`token-strip-detail-${s + 1}`), 'data-highlighted'), '0');
    }
    const total = ins.indices[1].filter((c) => c === code).length;
    assert.match((await w.page.textContent(testid('highlight-info'))) ?? '', new RegExp(`semantic code ${code}, used ${total}×`));
    const st = (await w.state()) as { highlight: unknown };
    assert.deepEqual(st.highlight, { branch: 1, code });
    // highlighted pixels differ from the unhighlighted rendering
    await w.page.keyboard.press('Escape');
    assert.equal(await w.page.getAttribute('#app', 'data-highlight'), null);
    assertClean(w, await w.cspViolations());
    await w.page.context().close();
  });

  it('sends typed requests with ids for export, re-run, folder usage, model selection and branch swap', async () => {
    const w = await openWebview(browser, { theme: 'dark' });
    await rendered(w, ins);
    await w.page.click(testid('export'));
    // the toolkit dropdown's other formats: a tile at the selected scale, and the contact sheet
    const exportAs = async (value: string) => {
      await w.page.$eval(testid('export-format'), (d, v) => ((d as HTMLElement & { value: string }).value = v), value);
      await w.page.click(testid('export'));
    };
    await exportAs('png-contribution');
    await exportAs('sheet');
    await w.page.click(testid('reinspect'));
    await w.page.click(testid('folder-usage-button'));
    await w.page.click(testid('select-model'));
    await w.page.click(testid('swap-branches'));
    await w.page.keyboard.press('Home');
    await w.page.click(testid('ablation-semantic-figure'));
    const reqs = (await w.posted()).filter((m) => m.kind === 'request') as unknown as { id: number; request: unknown }[];
    assert.deepEqual(
      reqs.map((r) => r.request),
      [
        { type: 'export', format: 'tokens-json' },
        { type: 'export', format: 'png', target: 'contribution', scale: ins.progressive.length - 1 },
        { type: 'export', format: 'sheet' },
        { type: 'reinspect' },
        { type: 'folderUsage' },
        { type: 'selectModel' },
        { type: 'swapWith' },
      ],
    );
    const ids = reqs.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, 'unique request ids');
    // a folder aggregate arriving later is shown below this image's usage
    await w.send({
      kind: 'folderUsage',
      usage: {
        folder: '/samples',
        images: 7,
        failedTotal: 1,
        failed: [{ image: 'sub/bad <i>.png', reason: 'not an image format that can be read' }],
        branches: ins.usage.map((u) => ({
          branch: u.branch,
          histogram: u.histogram,
          used: u.used,
          utilisation: u.utilisation,
          perplexity: u.perplexity,
          dead: 3,
          top: [{ code: 5, count: 9, images: ['a.png', 'b <b>.png'] }],
        })),
      },
    });
    await w.page.waitForSelector(`${testid('folder-usage')}:not([hidden])`);
    assert.match((await w.page.textContent(testid('folder-usage-title'))) ?? '', /7 images \(1 could not be read, listed below\)/);
    assert.equal(await w.page.textContent(`${testid('folder-unreadable')} li`), 'sub/bad <i>.png: not an image format that can be read');
    assert.equal(await w.page.textContent(testid('folder-usage-dead-semantic')), '3');
    assert.equal(await w.page.textContent(testid('folder-usage-top-semantic')), '5 ×9 (a.png, b <b>.png)', 'file names shown as text');
    // errors from the host are shown in the status line
    await w.send({ kind: 'error', message: 'Could not tokenize x.png: truncated PNG.', code: 'IMAGE_CORRUPT' });
    await w.page.waitForSelector('#app[data-state="error"]');
    assert.match((await w.page.textContent(testid('status'))) ?? '', /truncated PNG/);
    assert.equal(await w.page.getAttribute('#app', 'data-error-code'), 'IMAGE_CORRUPT');
    assertClean(w, await w.cspViolations());
    await w.page.context().close();
  });

  it('Play stops when the user picks a scale with a button, the slider or the curve (issue 17, item 1)', async () => {
    const w = await openWebview(browser, { theme: 'dark' });
    await rendered(w, ins);
    const n = ins.progressive.length;
    const playing = () => w.page.getAttribute('#app', 'data-playing');
    const picks: [string, () => Promise<unknown>, number][] = [
      ['«', () => w.page.click(testid('scale-first')), 1],
      ['‹', () => w.page.click(testid('scale-prev')), -1],
      ['›', () => w.page.click(testid('scale-next')), -1],
      ['»', () => w.page.click(testid('scale-last')), n],
      ['slider', () => w.page.fill(testid('scale-slider'), '2'), 2],
      ['curve', () => w.page.click(`${testid('psnr-curve')} circle[data-scale="1"]`), 2],
    ];
    for (const [what, pick, want] of picks) {
      await w.page.click(testid('scale-first'));
      await w.page.click(testid('play'));
      assert.equal(await playing(), 'true', what);
      await w.page.waitForFunction(() => Number(document.getElementById('app')?.dataset.scale) >= 3, undefined, { timeout: 20_000 });
      await pick();
      const at = await scaleOf(w);
      if (want > 0) assert.equal(at, want, what);
      assert.equal(await playing(), null, `${what}: Play stopped`);
      assert.equal((await w.page.textContent(testid('play')))?.trim(), 'Play', `${what}: the button says Play again`);
      await w.page.waitForTimeout(1500); // two Play steps (700 ms each)
      assert.equal(await scaleOf(w), at, `${what}: the scale stays where the user put it`);
    }
    assertClean(w, await w.cspViolations());
    await w.page.context().close();
  });

  it('numbers tokens from 1 in the scale label and on hover alike (issue 17, item 2)', async () => {
    const w = await openWebview(browser, { theme: 'light' });
    await rendered(w, ins);
    await w.page.fill(testid('scale-slider'), '6');
    const k = 5;
    const side = ins.model.scales[k];
    const first = ins.model.scales.slice(0, k).reduce((a, s) => a + s * s, 0) + 1;
    const last = first + side * side - 1;
    assert.match((await w.page.textContent(testid('scale-label'))) ?? '', new RegExp(`tokens ${first}–${last} of ${ins.model.tokensPerBranch}`));
    const box = (await w.page.locator(testid('token-map-detail')).boundingBox())!;
    const hover = async (row: number, col: number) => {
      await w.page.mouse.move(box.x + ((col + 0.5) * box.width) / side, box.y + ((row + 0.5) * box.height) / side);
      return w.page.$eval(testid('token-info'), (el) => ({ text: el.textContent ?? '', ...(el as HTMLElement).dataset }) as Record<string, string>);
    };
    const a = await hover(0, 0);
    assert.match(a.text, new RegExp(`row 1, col 1 · token ${first} of ${ins.model.tokensPerBranch} ·`));
    assert.deepEqual([a.row, a.col, a.token], ['1', '1', String(first)]);
    const b = await hover(side - 1, side - 1);
    assert.match(b.text, new RegExp(`row ${side}, col ${side} · token ${last} of ${ins.model.tokensPerBranch} ·`));
    assert.equal(b.token, String(last));
    // the token's code is the one at that position of the exported indices (arrays count from 0)
    assert.equal(b.code, String(ins.indices[0][last - 1]));
    await w.page.context().close();
  });

  it('codebook usage: semantic first like the token maps and ablation; for one image, distinct codes per tokens (issue 17, item 4)', async () => {
    const w = await openWebview(browser, { theme: 'dark' });
    await rendered(w, ins);
    const order = (sel: string) => w.page.$$eval(sel, (els) => els.map((e) => (e as HTMLElement).dataset.testid ?? ''));
    assert.deepEqual(await order('canvas.token-map'), ['token-map-semantic', 'token-map-detail']);
    assert.deepEqual(await order('[data-testid^="ablation-"][data-testid$="-figure"]'), ['ablation-semantic-figure', 'ablation-detail-figure', 'ablation-both-figure']);
    assert.deepEqual(await order('[data-testid="usage-image"] figure.usage-branch'), ['usage-branch-semantic', 'usage-branch-detail']);
    const stats = (await w.page.textContent(testid('usage-stats-semantic'))) ?? '';
    assert.match(stats, new RegExp(`distinct codes${ins.usage[1].used} of ${ins.model.tokensPerBranch} tokens`));
    assert.doesNotMatch(stats, /dead codes|utilisation/, 'codebook-wide counts say nothing about one image');
    assert.match((await w.page.textContent(testid('usage-scale'))) ?? '', /^semantic: \d+ distinct codes at scale \d+ · detail: /);
    await w.page.context().close();
  });

  it('a folder result in an inspector is scrolled into view and names the images it could not read (issue 17, item 3)', async () => {
    const w = await openWebview(browser, { theme: 'dark' });
    await rendered(w, ins);
    await w.page.setViewportSize({ width: 900, height: 500 });
    await w.page.evaluate(() => window.scrollTo(0, 0));
    const usage = {
      folder: '/samples',
      images: 7,
      failedTotal: 2,
      failed: [
        { image: 'corrupt.png', reason: 'corrupt PNG: the IDAT chunk at byte 54 fails its CRC check' },
        { image: 'cats/empty.jpg', reason: 'empty file (0 bytes), not an image' },
      ],
      branches: ins.usage.map((u) => ({ ...u, dead: u.histogram.filter((c) => c === 0).length })),
    };
    await w.send({ kind: 'folderUsage', usage });
    await w.page.waitForSelector(`${testid('folder-usage')}:not([hidden])`);
    const inView = await w.page.$eval(testid('folder-usage-title'), (el) => {
      const r = el.getBoundingClientRect();
      return r.top >= 0 && r.top < window.innerHeight;
    });
    assert.ok(inView, 'the folder result is on screen');
    assert.equal(await w.page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid), 'folder-usage-title');
    assert.match((await w.page.textContent(testid('status'))) ?? '', /folder usage of 7 images below/);
    assert.deepEqual(await w.page.$$eval(`${testid('folder-unreadable')} li`, (l) => l.map((x) => x.textContent)), [
      'corrupt.png: corrupt PNG: the IDAT chunk at byte 54 fails its CRC check',
      'cats/empty.jpg: empty file (0 bytes), not an image',
    ]);
    await w.page.context().close();
    // the folder page names them too
    const f = await openWebview(browser, { theme: 'light' });
    await waitReady(f);
    await f.send({ kind: 'init', protocol: PROTOCOL_VERSION, info: { title: 'samples', resource: 'file:///samples', mode: 'folder' } });
    await f.send({ kind: 'folderUsage', usage: { ...usage, failedTotal: 102 } });
    await f.page.waitForSelector('#app[data-state="ready"][data-mode="folder"]');
    assert.match((await f.page.textContent(testid('folder-usage-title'))) ?? '', /7 images \(102 could not be read, listed below\)/);
    assert.deepEqual(await f.page.$$eval(`${testid('folder-unreadable')} li`, (l) => l.map((x) => x.textContent)), [
      'corrupt.png: corrupt PNG: the IDAT chunk at byte 54 fails its CRC check',
      'cats/empty.jpg: empty file (0 bytes), not an image',
      '… and 100 more',
    ]);
    await f.page.context().close();
  });

  it('restores scale and highlight from saved webview state', async () => {
    const code = ins.indices[0][5];
    const w = await openWebview(browser, {
      theme: 'hc',
      state: { resource: init.info.resource, mode: 'image', scale: 3, ablation: 'detail', highlight: { branch: 0, code } },
    });
    await rendered(w, ins);
    assert.equal(await scaleOf(w), 4);
    assert.equal(await w.page.getAttribute('#app', 'data-highlight'), `0:${code}`);
    assert.equal(await w.page.getAttribute(testid('ablation-detail-figure'), 'aria-pressed'), 'true');
    assertClean(w, await w.cspViolations());
    await w.page.context().close();
  });

  it('renders a folder-mode panel from folder usage alone', async () => {
    const w = await openWebview(browser, { theme: 'light' });
    await waitReady(w);
    await w.send({ kind: 'init', protocol: PROTOCOL_VERSION, info: { title: 'samples', resource: 'file:///samples', mode: 'folder' } });
    await w.send({
      kind: 'folderUsage',
      usage: { folder: '/samples', images: 6, failedTotal: 0, failed: [], branches: ins.usage.map((u) => ({ ...u, dead: u.histogram.filter((c) => c === 0).length })) },
    });
    await w.page.waitForSelector('#app[data-state="ready"][data-mode="folder"]');
    assert.ok(await w.page.$(testid('folder-usage-histogram-semantic')));
    assertClean(w, await w.cspViolations());
    await w.page.context().close();
  });

  it('a generated sample: its image stands in for the input, and no folder or teacher-forcing actions', async () => {
    const w = await openWebview(browser, { theme: 'dark' });
    await waitReady(w);
    const info = { title: 'Flags, seed 3, sample 1', resource: 'imagefolder-generated:1', mode: 'generated' };
    await w.send({ kind: 'init', protocol: PROTOCOL_VERSION, info });
    await w.send({ kind: 'inspection', inspection: { ...ins, source: 'tokens', input: ins.progressive[ins.progressive.length - 1], notes: ['Generated by "m": Flags, seed 3, sample 1.'] } });
    await w.page.waitForSelector('#app[data-state="ready"][data-mode="generated"]');
    assert.equal(await w.page.textContent(testid('title')), info.title);
    assert.match((await w.page.textContent('figure:has([data-testid="original"]) figcaption')) ?? '', /^Full decode of these tokens: all scales, both branches/);
    assert.match((await w.page.textContent(testid('notes'))) ?? '', /Generated by "m": Flags, seed 3/);
    for (const id of ['folder-usage-button', 'generate-from-detail', 'generate-from-semantic', 'swap-branches']) assert.equal(await w.page.$(testid(id)), null, `${id} absent`);
    for (const id of ['reinspect', 'export', 'select-model', 'token-map-semantic']) assert.ok(await w.page.$(testid(id)), `${id} present`);
    const st = (await w.state()) as { mode: string; resource: string };
    assert.deepEqual([st.mode, st.resource], ['generated', info.resource]);
    assertClean(w, await w.cspViolations());
    await w.page.context().close();
  });

  it('provider reasons fold into one collapsed line: a CPU user sees no GPU notes on each inspection', async () => {
    const w = await openWebview(browser, { theme: 'dark' });
    const provider = {
      chosen: { encoder: 'cpu', decoder: 'cpu' },
      skipped: [{ provider: 'webgpu', reason: 'No supported adapters (no Vulkan loader, libvulkan.so.1: with a GPU, on Debian/Ubuntu: apt install libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2)' }],
      available: ['cpu', 'webgpu'],
      choice: { provider: 'cpu', reason: 'cpu is the only provider that can run this model here (webgpu cannot run here: see the skipped providers)', timings: [], cached: false },
    };
    await rendered(w, { ...ins, notes: [], provider } as Inspection);
    assert.equal(await w.page.isVisible(testid('notes')), false, 'no notes list when the image has no notes');
    const details = testid('provider-details');
    assert.equal(await w.page.$eval(details, (d) => (d as HTMLDetailsElement).open), false, 'folded by default');
    assert.equal((await w.page.textContent(`${details} summary`))?.trim(), 'Runs on cpu: why');
    assert.equal(await w.page.isVisible(`${details} li`), false);
    await w.page.click(`${details} summary`);
    const lines = await w.page.$$eval(`${details} li`, (els) => els.map((e) => e.textContent ?? ''));
    assert.match(lines[0], /^cpu is the only provider/);
    assert.match(lines[1], /^webgpu not used: No supported adapters .*apt install libvulkan1 libglvnd0/);
    // a measured choice says what it measured
    const measured = { ...provider, skipped: [], chosen: { encoder: 'webgpu', decoder: 'webgpu' }, choice: { provider: 'webgpu', reason: 'webgpu 21 ms vs cpu 34 ms per 7-tile decoder run (encoder 27 ms vs 42 ms): webgpu kept', timings: [], cached: true } };
    await w.send({ kind: 'inspection', inspection: { ...ins, notes: [], provider: measured } });
    await w.page.waitForFunction(() => /Runs on webgpu/.test(document.querySelector('[data-testid="provider-details"] summary')?.textContent ?? ''));
    assert.match((await w.page.textContent(`${details} li`)) ?? '', /webgpu kept \(measured earlier on this machine\)$/);
  });

  it('takes light and dark screenshots (README copies with IFI_UPDATE_SCREENSHOTS=1)', async () => {
    const dir = path.join(repoRoot(), 'test-results', 'webview');
    fs.mkdirSync(dir, { recursive: true });
    for (const theme of ['light', 'dark'] as const) {
      const w = await openWebview(browser, { theme, width: 1100, height: 1000 });
      await rendered(w, ins);
      await w.page.locator('body').click({ position: { x: 5, y: 5 } });
      await w.page.keyboard.press('Home');
      for (let i = 0; i < 5; i++) await w.page.keyboard.press('ArrowRight');
      const box = (await w.page.locator(testid('token-map-semantic')).boundingBox())!;
      const side = ins.model.scales[5];
      await w.page.mouse.click(box.x + (1.5 * box.width) / side, box.y + (1.5 * box.height) / side);
      await w.page.mouse.move(box.x + (2.5 * box.width) / side, box.y + (1.5 * box.height) / side);
      const out = path.join(dir, `inspector-${theme}${real ? '' : '-synthetic'}.png`);
      await w.page.screenshot({ path: out, fullPage: true });
      assert.ok(fs.statSync(out).size > 10_000);
      if (process.env.IFI_UPDATE_SCREENSHOTS === '1') {
        if (!real) throw new Error('README screenshots need the real built-in model');
        const docs = path.join(repoRoot(), 'docs', 'screenshots');
        fs.mkdirSync(docs, { recursive: true });
        fs.copyFileSync(out, path.join(docs, `inspector-${theme}.png`));
      }
      assertClean(w, await w.cspViolations());
      await w.page.context().close();
    }
  });
});
