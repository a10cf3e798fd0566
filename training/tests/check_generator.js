// Runs the exported generator scale by scale with its KV cache, feeding the fixture's tokens
// (teacher forcing), and compares the logits with PyTorch's full-sequence pass.
// usage: node training/tests/check_generator.js <package dir> <generator fixtures dir>
const ort = require('onnxruntime-node');
const fs = require('fs');
const path = require('path');

async function main() {
  const [dir, fix] = process.argv.slice(2);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const golden = JSON.parse(fs.readFileSync(path.join(fix, 'golden.json'), 'utf8'));
  const gen = await ort.InferenceSession.create(path.join(dir, m.graphs.generator.file));
  const nxt = await ort.InferenceSession.create(path.join(dir, m.graphs.nextInput.file));
  const scales = m.scales, N = scales.length, L = m.tokensPerBranch, V = m.branches[0].codebookSize;
  const [depth, , heads, , hd] = m.graphs.generator.inputs.past_keys;
  const inDim = m.graphs.generator.inputs.x_in[2];
  const indices = new ort.Tensor('int64', BigInt64Array.from(golden.indices.flat().map(BigInt)), [1, 2, L]);
  let pastK = new ort.Tensor('float32', new Float32Array(0), [depth, 1, heads, 0, hd]);
  let pastV = pastK, start = 0, maxDiff = 0, rowDiff = 0;
  for (let k = 0; k < N; k++) {
    const T = scales[k] * scales[k];
    let x = new Float32Array(T * inDim);
    if (k > 0) {
      const mask = new Float32Array(2 * N);
      for (let p = 0; p < 2; p++) for (let j = 0; j < k; j++) mask[p * N + j] = 1;
      const r = await nxt.run({ indices, scale_mask: new ort.Tensor('float32', mask, [1, 2, N]) });
      x = r.next_input.data.slice((start - 1) * inDim, (start - 1 + T) * inDim);
    }
    const positions = BigInt64Array.from({ length: T }, (_, i) => BigInt(start + i));
    const out = await gen.run({ class_id: new ort.Tensor('int64', BigInt64Array.from([BigInt(golden.classId)]), [1]),
      x_in: new ort.Tensor('float32', x, [1, T, inDim]), positions: new ort.Tensor('int64', positions, [T]),
      past_keys: pastK, past_values: pastV });
    pastK = out.present_keys; pastV = out.present_values;
    for (let t = 0; t < T; t++) {
      const row = out.logits.data.subarray(t * 2 * V, (t + 1) * 2 * V);
      let sum = 0; for (const v of row) sum += v;
      rowDiff = Math.max(rowDiff, Math.abs(sum - golden.rowSum[start + t]) / (1 + Math.abs(golden.rowSum[start + t])));
      ['detail', 'semantic'].forEach((b, p) => {
        const g = golden.top5[b];
        g.indices[start + t].forEach((ix, j) => { maxDiff = Math.max(maxDiff, Math.abs(row[p * V + ix] - g.values[start + t][j])); });
      });
    }
    start += T;
  }
  console.log(`generator KV-cache parity: max top-5 logit difference ${maxDiff.toExponential(2)}, row-sum relative ${rowDiff.toExponential(2)}`);
  if (maxDiff > 1e-3 || rowDiff > 1e-3) { console.error('generator parity failed'); process.exit(1); }
}
main().catch((e) => { console.error(e.message); process.exit(1); });
