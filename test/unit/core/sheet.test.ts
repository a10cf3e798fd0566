// The contact sheet export on a real inspection (real model, real image): every tile lands where
// sheetLayout says, pixel for pixel, at the requested zoom.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import sharp from 'sharp';
import { contactSheet, inspect, ModelRuntime, sheetLayout, type Inspection, type PngImage } from '../../../src/extension/core';
import { REPO, TEST_MODEL, hasRealModel } from './helpers';

async function rgb(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function tileOf(ins: Inspection, name: string): PngImage {
  const [kind, k] = [name.replace(/-\d+$/, ''), Number(name.split('-').pop()) - 1];
  if (name === 'input') return ins.input;
  if (name === 'ablation-semantic') return ins.ablation.semantic;
  if (name === 'ablation-detail') return ins.ablation.detail;
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

  for (const [zoom, gap] of [[1, 2], [3, 0]] as const) {
    it(`puts each tile's exact pixels in its cell (zoom ${zoom}, gap ${gap})`, async () => {
      const S = ins.input.width;
      const N = ins.progressive.length;
      const sheet = await rgb(await contactSheet(ins, { zoom, gap }));
      const step = S + gap;
      assert.equal(sheet.width, (gap + (N + 1) * step) * zoom);
      assert.equal(sheet.height, (gap + 3 * step) * zoom);
      for (const c of sheetLayout(N)) {
        const tile = await rgb(Buffer.from(tileOf(ins, c.name).pngBase64, 'base64'));
        let diff = 0;
        for (let y = 0; y < S * zoom; y++) {
          for (let x = 0; x < S * zoom; x++) {
            const sx = (gap + c.col * step) * zoom + x;
            const sy = (gap + c.row * step) * zoom + y;
            const t = (Math.floor(y / zoom) * S + Math.floor(x / zoom)) * 3;
            const s = (sy * sheet.width + sx) * 3;
            for (let ch = 0; ch < 3; ch++) diff = Math.max(diff, Math.abs(sheet.data[s + ch] - tile.data[t + ch]));
          }
        }
        assert.equal(diff, 0, `${c.name} at row ${c.row}, column ${c.col}`);
      }
      if (gap > 0) {
        // the gap is white: the sheet's first row of pixels
        assert.ok(sheet.data.subarray(0, sheet.width * 3).every((v) => v === 255));
      }
    });
  }

  it('refuses a zoom or gap outside its range', async () => {
    await assert.rejects(contactSheet(ins, { zoom: 0 }), /zoom must be an integer from 1 to 8/);
    await assert.rejects(contactSheet(ins, { zoom: 1.5 }), /zoom/);
    await assert.rejects(contactSheet(ins, { gap: -1 }), /gap must be an integer from 0 to 64/);
  });
});
