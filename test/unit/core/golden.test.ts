// Parity with the training pipeline: test/fixtures/golden (see its README) holds PNG inputs,
// PyTorch's indices for them, and PyTorch's decoder outputs for several scale masks.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelRuntime, loadImage, toTensor } from '../../../src/extension/core';
import { TEST_GOLDEN, TEST_MODEL, hasRealModel, tmpDir } from './helpers';

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

  /** Decodes every fixture item under all its masks and compares with PyTorch's outputs. */
  async function checkDecoded(runtime: ModelRuntime, shared: boolean) {
    let worst = 0;
    for (const item of items) {
      const masks = item.decoded.map((d) => d.mask);
      const outs = await runtime.decode(shared ? [item.indices] : item.decoded.map(() => item.indices), masks);
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
    return worst;
  }

  it('decodes PyTorch indices to the same images for every mask', async () => {
    assert.ok((await checkDecoded(rt, false)) >= 0);
  });

  it('decodes one row of indices under several masks to the same images (shared indices)', async function () {
    if (!rt.pkg.manifest.graphs.decoder.sharedIndices) this.skip();
    await checkDecoded(rt, true);
  });

  it('a decoder without sharedIndices gets the row repeated by the host, with the same images', async () => {
    // A package exported before the flag existed: same graphs, manifest without it.
    const copy = tmpDir('ifi-noshare-');
    for (const f of fs.readdirSync(TEST_MODEL)) {
      if (f === 'manifest.json' || /^(encoder|decoder)\.onnx$|^codebooks\.bin$/.test(f)) fs.copyFileSync(path.join(TEST_MODEL, f), path.join(copy, f));
    }
    const m = JSON.parse(fs.readFileSync(path.join(copy, 'manifest.json'), 'utf8'));
    delete m.graphs.decoder.sharedIndices;
    for (const g of Object.keys(m.graphs)) if (g !== 'encoder' && g !== 'decoder') delete m.graphs[g];
    delete m.classes;
    delete m.generator;
    fs.writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(m));
    const plain = await ModelRuntime.load(copy, { provider: 'cpu' });
    try {
      assert.equal(plain.pkg.manifest.graphs.decoder.sharedIndices, undefined);
      await checkDecoded(plain, true);
    } finally {
      await plain.dispose();
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
