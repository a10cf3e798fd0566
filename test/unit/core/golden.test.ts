// Parity with the training pipeline: test/fixtures/golden (see its README) holds PNG inputs,
// PyTorch's indices for them, and PyTorch's decoder outputs for several scale masks.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelRuntime, loadImage, toTensor } from '../../../src/extension/core';
import { TEST_GOLDEN, TEST_MODEL, hasRealModel } from './helpers';

interface GoldenItem {
  image: string;
  indices: number[][];
  decoded: { name: string; mask: number[][]; file: string }[];
}

function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

describe('parity with the PyTorch golden fixtures', function () {
  this.timeout(120_000);
  let rt: ModelRuntime;
  let items: GoldenItem[] = [];
  before(async function () {
    const golden = path.join(TEST_GOLDEN, 'golden.json');
    if (!hasRealModel() || !fs.existsSync(golden)) this.skip();
    items = JSON.parse(fs.readFileSync(golden, 'utf8')).items;
    rt = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu' });
  });
  after(async () => rt?.dispose());

  it('encodes the fixture PNGs to the same indices as PyTorch', async () => {
    const S = rt.imageSize;
    const { mean, std } = rt.pkg.manifest.image;
    let total = 0;
    let same = 0;
    for (const item of items) {
      const img = await loadImage(path.join(TEST_GOLDEN, item.image), { size: S, resize: 'crop', background: '#ffffff', pixelLimit: 1e8 });
      const [got] = await rt.encode(toTensor(img.rgb, S, mean, std));
      got.forEach((row, p) =>
        row.forEach((v, t) => {
          total++;
          if (v === item.indices[p][t]) same++;
        }),
      );
    }
    // Cosine argmax can flip where two codes tie within float noise (onnxruntime and PyTorch
    // sum in different orders); a flip at a coarse scale then changes the residual after it.
    // Acceptance from issue 2 (training/export): at least 99.9 % of positions equal.
    assert.ok(same / total >= 0.999, `${same}/${total} indices agree`);
  });

  it('decodes PyTorch indices to the same images for every mask', async () => {
    let worst = 0;
    for (const item of items) {
      const outs = await rt.decode(item.decoded.map(() => item.indices), item.decoded.map((d) => d.mask));
      const n = outs.length / item.decoded.length;
      item.decoded.forEach((d, j) => {
        const want = readF32(path.join(TEST_GOLDEN, d.file));
        assert.equal(want.length, n);
        let maxDiff = 0;
        for (let i = 0; i < n; i++) maxDiff = Math.max(maxDiff, Math.abs(outs[j * n + i] - want[i]));
        worst = Math.max(worst, maxDiff);
        assert.ok(maxDiff <= 1e-3, `${item.image} ${d.name}: max |diff| ${maxDiff}`);
      });
    }
    assert.ok(worst >= 0);
  });
});
