// The inspector webview on packages of other shapes (issue 14), from REAL inspections: a converted
// VAR package (one branch, 256 px, scales up to 16 x 16; test/support/converted.ts) and a streamed
// inspection (the head with the full reconstruction first, then each tile) of the built-in model.

import * as assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { ModelRuntime, inspect, type InspectProgress } from '../../src/extension/core';
import type { Inspection } from '../../src/shared/types';
import { PROTOCOL_VERSION } from '../../src/shared/protocol/common';
import { convertedPackage } from '../support/converted';
import { launch, openWebview, repoRoot, type WebviewPage } from './harness';

const init = { kind: 'init', protocol: PROTOCOL_VERSION, info: { title: 'cat-face.png', resource: 'file:///samples/cat-face.png', mode: 'image' } };
const testid = (id: string): string => `[data-testid="${id}"]`;
const decoded = (w: WebviewPage, id: string) =>
  w.page.$eval(testid(id), (img) => !img.classList.contains('pending') && (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 1);

async function waitReady(w: WebviewPage): Promise<void> {
  await w.page.waitForFunction(() => (window as unknown as { __posted: { kind: string }[] }).__posted.some((m) => m.kind === 'ready'), undefined, { timeout: 15_000 });
  await w.send(init);
}

/** A real inspection of the sample, with the events the core streamed on the way. */
async function inspectSample(modelDir: string): Promise<{ ins: Inspection; events: InspectProgress[] }> {
  const rt = await ModelRuntime.load(modelDir, { provider: 'cpu' });
  try {
    const events: InspectProgress[] = [];
    const ins = await inspect(rt, `${repoRoot()}/samples/cat-face.png`, { onProgress: (e) => events.push(e) });
    return { ins, events };
  } finally {
    await rt.dispose();
  }
}


describe('inspector webview: any package shape, streamed tiles (headless Chromium)', function () {
  this.timeout(600_000);
  let browser: Browser;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  it('a one-branch (VAR) model: no ablation, Swap disabled with the reason, 16 x 16 maps hoverable, 256-px images at 1:1', async () => {
    this.timeout(900_000);
    const { ins } = await inspectSample(convertedPackage('var'));
    const w = await openWebview(browser, { theme: 'light' });
    await waitReady(w);
    await w.send({ kind: 'inspection', inspection: ins });
    await w.page.waitForSelector('#app[data-state="ready"]');
    assert.equal(await w.page.$$eval('section.ablation', (s) => s.length), 0, 'no ablation section');
    for (const id of ['ablation-semantic', 'ablation-detail', 'generate-from-detail', 'generate-from-semantic', 'token-map-detail', 'token-map-semantic']) {
      assert.equal(await w.page.$(testid(id)), null, `${id} absent`);
    }
    const swap = await w.page.$eval(testid('swap-branches'), (b) => ({ disabled: b.hasAttribute('disabled'), title: (b as HTMLElement).title }));
    assert.ok(swap.disabled, 'swap disabled');
    assert.match(swap.title, /needs a model with a detail and a semantic branch; ".*" has one branch/);
    const options = await w.page.$$eval(`${testid('export-format')} vscode-option`, (os) => os.map((o) => o.getAttribute('value')));
    assert.ok(options.length > 0 && !options.some((o) => /ablation/.test(o ?? '')), options.join(','));
    // the full reconstruction at 1:1: a 256-px image shown 256 CSS px wide (inside its border)
    const rec = await w.page.$eval(testid('reconstruction'), (img) => ({ natural: (img as HTMLImageElement).naturalWidth, shown: img.clientWidth }));
    assert.deepEqual(rec, { natural: 256, shown: 256 });
    // the last scale is 16 x 16: hover a cell of the big map and read it back
    const box = (await (await w.page.$(testid('token-map-single')))!.boundingBox())!;
    const side = 16;
    const [row, col] = [11, 4];
    const cell = box.width / side;
    assert.ok(cell >= 12, `cells of ${cell} px stay hoverable`);
    await w.page.mouse.move(box.x + (col + 0.5) * cell, box.y + (row + 0.5) * cell);
    const info = await w.page.textContent(testid('token-info'));
    const token = 680 - 256 + row * side + col; // the last scale's tokens close the branch
    assert.equal(info, `single · scale 10/10 (16×16) · row ${row + 1}, col ${col + 1} · token ${token + 1} of 680 · code ${ins.indices[0][token]}`);
    assert.match((await w.page.textContent('.map-figure figcaption')) ?? '', /^Tokens/);
    assert.equal(await w.page.$$eval(`${testid('usage-image')} .usage-branch`, (b) => b.length), 1);
    assert.equal(await w.page.textContent(testid('usage-distinct-single')), `${ins.usage[0].used} of 680 tokens`);
    assert.deepEqual(w.pageErrors, []);
    assert.deepEqual(await w.cspViolations(), []);
  });

  it('a streamed inspection: the full reconstruction shows first with placeholders and a tile count, the rest fill in, Cancel asks the host', async () => {
    const { ins, events } = await inspectSample(`${repoRoot()}/models/imagefolder-mini`);
    const N = ins.progressive.length;
    const w = await openWebview(browser, { theme: 'dark' });
    await waitReady(w);
    const [head, ...rest] = events;
    assert.ok(head.kind === 'head');
    await w.send({ kind: 'inspectionStart', head: head.head, total: head.total });
    await w.send({ kind: 'tile', tile: head.tile, done: head.done, total: head.total });
    await w.page.waitForSelector('#app[data-state="decoding"]');
    assert.equal(await w.page.getAttribute('#app', 'data-scale'), String(N), 'starts at the full reconstruction');
    assert.ok(await decoded(w, 'reconstruction'), 'the full reconstruction is shown');
    assert.ok(await w.page.$eval(testid('contribution'), (img) => img.classList.contains('pending')), 'the contribution is a placeholder');
    assert.ok(await w.page.$eval(testid('ablation-semantic'), (img) => img.classList.contains('pending')));
    assert.equal(await w.page.textContent(testid('psnr')), `${ins.psnrByScale[N - 1].toFixed(2)} dB`);
    assert.match((await w.page.textContent('#status')) ?? '', new RegExp(`Decoding 1 of ${2 * N + 1} tiles`));
    assert.equal(await w.page.getAttribute(testid('tile-progress'), 'value'), '1');
    await w.page.keyboard.press('Home'); // scale 1: not decoded yet
    assert.ok(await w.page.$eval(testid('reconstruction'), (img) => img.classList.contains('pending')));
    assert.equal(await w.page.textContent(testid('psnr')), '–');
    // the token maps are there from the start
    assert.ok(await w.page.$eval(testid('token-map-semantic'), (c) => (c as HTMLCanvasElement).width > 0));
    await w.page.click(testid('cancel'));
    await w.page.waitForFunction(() => (window as unknown as { __posted: { kind: string; request?: { type: string } }[] }).__posted.some((m) => m.request?.type === 'cancel'));
    for (const e of rest.slice(0, 5)) await w.send({ kind: 'tile', tile: e.tile, done: e.done, total: e.total });
    assert.ok(await decoded(w, 'reconstruction'), 'scale 1 arrived');
    for (const e of rest.slice(5)) await w.send({ kind: 'tile', tile: e.tile, done: e.done, total: e.total });
    for (const id of ['contribution', 'ablation-semantic', 'ablation-detail', 'ablation-both']) assert.ok(await decoded(w, id), `${id} arrived`);
    // the finished inspection keeps the views (no rebuild): the same element, now final
    await w.page.$eval(testid('token-map-semantic'), (c) => ((c as HTMLElement).dataset.mark = 'kept'));
    await w.send({ kind: 'inspection', inspection: ins });
    await w.page.waitForSelector('#app[data-state="ready"]');
    assert.equal(await w.page.getAttribute(testid('token-map-semantic'), 'data-mark'), 'kept');
    assert.equal(await w.page.getAttribute('#app', 'data-scale'), '1');
    assert.deepEqual(w.pageErrors, []);
    assert.deepEqual(await w.cspViolations(), []);
  });
});
