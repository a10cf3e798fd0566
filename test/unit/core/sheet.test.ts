// The contact sheet export on a real inspection (real model, real image): every tile lands where
// sheetLayout says, pixel for pixel, at the requested zoom.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import sharp from 'sharp';
import { captionBands, contactSheet, contactSheetCaptions, inspect, ModelRuntime, sheetLayout, type Inspection, type PngImage } from '../../../src/extension/core';
import { REPO, TEST_MODEL, hasRealModel } from './helpers';

async function rgb(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function tileOf(ins: Inspection, name: string): PngImage {
  const [kind, k] = [name.replace(/-\d+$/, ''), Number(name.split('-').pop()) - 1];
  if (name === 'input') return ins.input;
  if (name === 'ablation-semantic') return ins.ablation!.semantic;
  if (name === 'ablation-detail') return ins.ablation!.detail;
  return kind === 'progressive' ? ins.progressive[k] : ins.contribution[k];
}

describe('contact sheet (real model)', function () {
  this.timeout(120_000);
  let rt: ModelRuntime;
  let ins: Inspection;
  before(async function () {
    if (!hasRealModel()) this.skip();
    rt = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu', threads: 2 });
    ins = await inspect(rt, path.join(REPO, 'samples', 'cat-face.png'));
  });
  after(async () => rt?.dispose());

  it('lays out the input, every scale, every contribution and both ablations', () => {
    const N = ins.progressive.length;
    const cells = sheetLayout(N);
    assert.equal(cells.length, 1 + 2 * N + 2);
    assert.equal(new Set(cells.map((c) => `${c.row},${c.col}`)).size, cells.length, 'no two tiles share a cell');
    assert.ok(cells.every((c) => c.row >= 0 && c.row < 3 && c.col >= 0 && c.col <= N));
  });

  for (const [zoom, gap, captions] of [[1, 2, false], [3, 0, false], [2, 2, true]] as const) {
    it(`puts each tile's exact pixels in its cell (zoom ${zoom}, gap ${gap}${captions ? ', below and right of the captions' : ', no captions'})`, async () => {
      const S = ins.input.width;
      const N = ins.progressive.length;
      const sheet = await rgb(await contactSheet(ins, { zoom, gap, captions }));
      const step = S + gap;
      const { left, top } = captionBands(captions ? contactSheetCaptions(N, '') : undefined);
      assert.equal(sheet.width, left + (gap + (N + 1) * step) * zoom);
      assert.equal(sheet.height, top + (gap + 3 * step) * zoom);
      for (const c of sheetLayout(N)) {
        const tile = await rgb(Buffer.from(tileOf(ins, c.name).pngBase64, 'base64'));
        let diff = 0;
        for (let y = 0; y < S * zoom; y++) {
          for (let x = 0; x < S * zoom; x++) {
            const sx = left + (gap + c.col * step) * zoom + x;
            const sy = top + (gap + c.row * step) * zoom + y;
            const t = (Math.floor(y / zoom) * S + Math.floor(x / zoom)) * 3;
            const s = (sy * sheet.width + sx) * 3;
            for (let ch = 0; ch < 3; ch++) diff = Math.max(diff, Math.abs(sheet.data[s + ch] - tile.data[t + ch]));
          }
        }
        assert.equal(diff, 0, `${c.name} at row ${c.row}, column ${c.col}`);
      }
      if (gap > 0 && !captions) {
        // the gap is white: the sheet's first row of pixels
        assert.ok(sheet.data.subarray(0, sheet.width * 3).every((v) => v === 255));
      }
    });
  }

  it('writes row and column captions into the PNG by default (issue 17, item 6)', async () => {
    const N = ins.progressive.length;
    const zoom = 2;
    const gap = 2;
    const S = ins.input.width;
    const bare = await rgb(await contactSheet(ins, { captions: false }));
    const sheet = await rgb(await contactSheet(ins));
    const { left, top } = captionBands(contactSheetCaptions(N, ''));
    assert.deepEqual([sheet.width - bare.width, sheet.height - bare.height], [left, top], 'bands for the captions');
    // dark (text) pixels in a box of the band: the title, each column's header, each row's label
    const inked = (x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (sheet.data[(y * sheet.width + x) * 3] < 128) n++;
      return n;
    };
    assert.ok(inked(0, 0, 300, top / 2) > 50, 'title');
    for (let c = 0; c <= N; c++) {
      const x0 = left + (gap + c * (S + gap)) * zoom;
      assert.ok(inked(x0, top / 2, x0 + S * zoom, top) > 20, `column ${c} header`);
    }
    for (let r = 0; r < 3; r++) {
      const y0 = top + (gap + r * (S + gap)) * zoom;
      assert.ok(inked(0, y0, left - 4, y0 + S * zoom) > 20, `row ${r} label`);
    }
    assert.ok(inked(left - 4, top, left, sheet.height) === 0, 'labels stay in their band');
    const c = contactSheetCaptions(N, 'x');
    assert.deepEqual([c.columns[0], c.columns[N]], ['input', `scale ${N}`]);
    assert.deepEqual(c.rows.map((r) => r.join(' ')), ['input; then scales 1 to k decoded', 'semantic branch only; then scale k alone', 'detail branch only']);
  });

  it('refuses a zoom or gap outside its range', async () => {
    await assert.rejects(contactSheet(ins, { zoom: 0 }), /zoom must be an integer from 1 to 8/);
    await assert.rejects(contactSheet(ins, { zoom: 1.5 }), /zoom/);
    await assert.rejects(contactSheet(ins, { gap: -1 }), /gap must be an integer from 0 to 64/);
  });
});
