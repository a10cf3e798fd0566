// Runs a package's encoder and decoder in onnxruntime-node for the converters' parity check
// (training/convert/package.py writes the inputs, reads the outputs back).
// usage: node parity.js <package dir> <work dir with shapes.json, images.f32, indices.i64, masks.f32>
const path = require('path');
const fs = require('fs');
const ort = require(require.resolve('onnxruntime-node', { paths: [path.join(__dirname, '..', '..')] }));

function f32(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

async function main() {
  const [pkg, dir] = process.argv.slice(2);
  const shapes = JSON.parse(fs.readFileSync(path.join(dir, 'shapes.json'), 'utf8'));
  const enc = await ort.InferenceSession.create(path.join(pkg, 'encoder.onnx'));
  const out = await enc.run({ image: new ort.Tensor('float32', f32(path.join(dir, 'images.f32')), shapes.images) });
  fs.writeFileSync(path.join(dir, 'out-indices.i64'), Buffer.from(out.indices.data.buffer, out.indices.data.byteOffset, out.indices.data.byteLength));
  const ib = fs.readFileSync(path.join(dir, 'indices.i64'));
  const indices = new BigInt64Array(ib.buffer.slice(ib.byteOffset, ib.byteOffset + ib.byteLength));
  const dec = await ort.InferenceSession.create(path.join(pkg, 'decoder.onnx'));
  const r = await dec.run({
    indices: new ort.Tensor('int64', indices, shapes.indices),
    scale_mask: new ort.Tensor('float32', f32(path.join(dir, 'masks.f32')), shapes.masks),
  });
  fs.writeFileSync(path.join(dir, 'out-images.f32'), Buffer.from(r.image.data.buffer, r.image.data.byteOffset, r.image.data.byteLength));
}
main().catch((e) => { console.error(e.message); process.exit(1); });
