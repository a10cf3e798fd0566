// Loads an exported package in onnxruntime-node and checks it against PyTorch's golden fixtures.
// usage: node training/tests/check_package.js <package dir> <fixtures dir>
const ort = require('onnxruntime-node');
const sharp = require('sharp');
const fs = require('fs');
const path = require('path');

async function main() {
  const [dir, fix] = process.argv.slice(2);
  const golden = JSON.parse(fs.readFileSync(path.join(fix, 'golden.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const enc = await ort.InferenceSession.create(path.join(dir, 'encoder.onnx'));
  const dec = await ort.InferenceSession.create(path.join(dir, 'decoder.onnx'));
  const [P, L, N] = [manifest.branches.length, manifest.tokensPerBranch, manifest.scales.length];
  let total = 0, equal = 0, maxDiff = 0;
  for (const item of golden.items) {
    const { data, info } = await sharp(path.join(fix, item.image)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const S = info.width, x = new Float32Array(3 * S * S);
    for (let i = 0; i < S * S; i++) for (let c = 0; c < 3; c++) x[c * S * S + i] = data[i * 3 + c] / 127.5 - 1;
    const out = await enc.run({ image: new ort.Tensor('float32', x, [1, 3, S, S]) });
    for (let p = 0; p < P; p++) for (let l = 0; l < L; l++) {
      total++;
      if (Number(out.indices.data[p * L + l]) === item.indices[p][l]) equal++;
    }
    const indices = new ort.Tensor('int64', BigInt64Array.from(item.indices.flat().map(BigInt)), [1, P, L]);
    // One run with the item's indices shared by all its masks (manifest graphs.decoder.sharedIndices).
    const B = item.decoded.length;
    const masks = new ort.Tensor('float32', Float32Array.from(item.decoded.flatMap((d) => d.mask.flat())), [B, P, N]);
    const shared = manifest.graphs.decoder.sharedIndices ? (await dec.run({ indices, scale_mask: masks })).image.data : null;
    for (const [j, d] of item.decoded.entries()) {
      const r = await dec.run({ indices, scale_mask: new ort.Tensor('float32', Float32Array.from(d.mask.flat()), [1, P, N]) });
      const ref = new Float32Array(new Uint8Array(fs.readFileSync(path.join(fix, d.file))).buffer);
      for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - r.image.data[i]));
      if (shared) for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - shared[j * ref.length + i]));
    }
  }
  if (!manifest.graphs.decoder.sharedIndices) {
    console.error('manifest graphs.decoder.sharedIndices is not set (export.py writes it)');
    process.exit(1);
  }
  const agreement = equal / total;
  console.log(`indices agreement ${agreement.toFixed(5)}, max decoder difference ${maxDiff.toExponential(2)}`);
  if (agreement < 0.999 || maxDiff > 1e-3) {
    console.error('parity check failed');
    process.exit(1);
  }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
