import * as assert from 'node:assert/strict';
import { codeColours, exportNpy, tokenMaps, scaleOffsets, decodePlan, candidates, gpuOrder, parseTokenFile, UserError } from '../../../src/extension/core';
import { shortReason } from '../../../src/extension/core/providers';
import { PROVIDERS } from '../../../src/shared/types';
import { symmetricEigen } from '../../../src/extension/core/colours';

describe('token files (the extension\'s "Tokens (.json)")', () => {
  const good = { format: 'imagefolder-tokens', formatVersion: 1, model: { name: 'm' }, indices: [[1, 2], [3, 0]], byScale: [] };
  it('reads the model name and the indices', () => {
    assert.deepEqual(parseTokenFile(JSON.stringify(good), 'a.tokens.json'), { model: 'm', indices: [[1, 2], [3, 0]] });
  });
  it('names the file and the problem for anything else', () => {
    const bad = (text: string, re: RegExp) =>
      assert.throws(() => parseTokenFile(text, 'a.tokens.json'), (e: unknown) => e instanceof UserError && e.code === 'BAD_ARGUMENT' && /^a\.tokens\.json: /.test(e.message) && re.test(e.message));
    bad('{"format": ', /not JSON/);
    bad('[1, 2]', /not a token file/);
    bad(JSON.stringify({ ...good, format: 'other' }), /"format" is "other", expected "imagefolder-tokens"/);
    bad(JSON.stringify({ ...good, formatVersion: 2 }), /formatVersion 2 is not supported/);
    bad(JSON.stringify({ ...good, model: {} }), /"model.name" is missing/);
    bad(JSON.stringify({ ...good, indices: [1, 2] }), /one array of codes per branch/);
    bad(JSON.stringify({ ...good, indices: [[1, 2], [3, -1]] }), /"indices"\[1\]\[1\] is -1, not a code/);
    bad(JSON.stringify({ ...good, indices: [[1, '2']] }), /"indices"\[0\]\[1\] is "2"/);
  });
});

describe('token layout', () => {
  it('splits scales row-major, branch-major', () => {
    assert.deepEqual(scaleOffsets([1, 1, 2, 3]), [0, 1, 2, 6]);
    const maps = tokenMaps([[7, 8, 0, 1, 2, 3], [9, 9, 4, 5, 6, 7]], [1, 1, 2]);
    assert.equal(maps.length, 6);
    assert.deepEqual(maps[2], { branch: 0, scale: 2, side: 2, indices: [0, 1, 2, 3] });
    assert.deepEqual(maps[3], { branch: 1, scale: 0, side: 1, indices: [9] });
  });

  it('plans the decoder tiles: the full reconstruction first, progressive, contributions, ablations', () => {
    const plan = decodePlan(2, 3, { detail: 0, semantic: 1 });
    assert.equal(plan.length, 2 * 3 + 1);
    const at = (i: number) => [plan[i].kind, plan[i].scale, plan[i].mask];
    assert.deepEqual(at(0), ['progressive', 2, [[1, 1, 1], [1, 1, 1]]]); // full, first
    assert.deepEqual(at(1), ['progressive', 0, [[1, 0, 0], [1, 0, 0]]]); // progressive 1 scale (= contribution 0)
    assert.deepEqual(at(3), ['contribution', 1, [[0, 1, 0], [0, 1, 0]]]); // contribution of scale 1
    assert.deepEqual(at(5), ['ablation-semantic', 2, [[0, 0, 0], [1, 1, 1]]]); // semantic only
    assert.deepEqual(at(6), ['ablation-detail', 2, [[1, 1, 1], [0, 0, 0]]]); // detail only
  });

  it('plans no ablations for a one-branch model: 2N-1 tiles', () => {
    const plan = decodePlan(1, 4);
    assert.deepEqual(plan.map((t) => `${t.kind}${t.scale}`), ['progressive3', 'progressive0', 'progressive1', 'progressive2', 'contribution1', 'contribution2', 'contribution3']);
    assert.deepEqual(plan[4].mask, [[0, 1, 0, 0]]);
  });

  it('plans only the measured tiles without contributions (cli tokenize): N progressive + 2 ablations', () => {
    const plan = decodePlan(2, 4, { detail: 0, semantic: 1 }, false);
    assert.deepEqual(plan.map((t) => `${t.kind}${t.scale}`), ['progressive3', 'progressive0', 'progressive1', 'progressive2', 'ablation-semantic3', 'ablation-detail3']);
  });
});

describe('npy export', () => {
  it('writes a numpy 1.0 int64 array of shape (P, L)', () => {
    const buf = exportNpy([[1, 2, 3], [4095, 0, -1]]);
    assert.equal(buf.subarray(0, 6).toString('latin1'), '\x93NUMPY');
    assert.deepEqual([buf[6], buf[7]], [1, 0]);
    const hlen = buf.readUInt16LE(8);
    assert.equal((10 + hlen) % 64, 0);
    const header = buf.subarray(10, 10 + hlen).toString('latin1');
    assert.match(header, /^\{'descr': '<i8', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    const data = [...Array(6)].map((_, i) => Number(buf.readBigInt64LE(10 + hlen + 8 * i)));
    assert.deepEqual(data, [1, 2, 3, 4095, 0, -1]);
    assert.equal(buf.length, 10 + hlen + 48);
  });
});

describe('code colours (PCA of the codebook, normalised for a cosine lookup)', () => {
  it('finds eigenvalues of a symmetric matrix', () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    assert.ok(Math.abs(values[0] - 3) < 1e-12 && Math.abs(values[1] - 1) < 1e-12);
    assert.ok(Math.abs(Math.abs(vectors[0][0]) - Math.SQRT1_2) < 1e-12);
  });

  it('gives identical directions the same colour regardless of length', () => {
    const D = 4;
    const cb = Float32Array.from([1, 0, 0, 0, 5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0.7, 0.7, 0, 0]);
    const c = codeColours(cb, 6, D);
    assert.deepEqual(c[0], c[1]);
    assert.notDeepEqual(c[0], c[2]);
    for (const rgb of c) assert.ok(rgb.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
  });

  it('maps the main direction of variation to red, and similar codes to similar colours', () => {
    // Codes spread along an arc in the x-y plane (after normalisation the largest spread is along
    // one direction), with tiny noise in z: neighbours on the arc must get close colours.
    const V = 64;
    const D = 3;
    const cb = new Float32Array(V * D);
    for (let i = 0; i < V; i++) {
      const a = (i / (V - 1)) * Math.PI * 0.9;
      cb.set([Math.cos(a), Math.sin(a), 0.01 * Math.sin(i * 12.9898)], i * D);
    }
    const c = codeColours(cb, V, D);
    const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    const neighbour = Math.max(...c.slice(1).map((rgb, i) => dist(rgb, c[i])));
    const ends = dist(c[0], c[V - 1]);
    assert.ok(neighbour < ends / 5, `neighbours ${neighbour} vs ends ${ends}`);
    // Red follows the first principal component: it varies monotonically-ish end to end.
    assert.ok(Math.abs(c[0][0] - c[V - 1][0]) > 150, `red ${c[0][0]} -> ${c[V - 1][0]}`);
  });

  it('colours a Euclidean codebook (VAR) by position: same direction, other length, other colour', () => {
    // codes along one ray at lengths 1..8 plus two off-axis: cosine makes the ray one colour, Euclidean a ramp
    const D = 3;
    const V = 10;
    const cb = new Float32Array(V * D);
    for (let i = 0; i < 8; i++) cb.set([i + 1, 0, 0], i * D);
    cb.set([0, 4, 0], 8 * D);
    cb.set([0, 0, 4], 9 * D);
    const cos = codeColours(cb, V, D, 'cosine');
    const euc = codeColours(cb, V, D, 'euclidean');
    assert.deepEqual(cos[0], cos[7]);
    assert.notDeepEqual(euc[0], euc[7]);
    const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    // neighbours on the ray are closer in colour than its two ends
    assert.ok(dist(euc[3], euc[4]) < dist(euc[0], euc[7]) / 3, `${dist(euc[3], euc[4])} vs ${dist(euc[0], euc[7])}`);
    assert.deepEqual(codeColours(cb, V, D), cos, 'cosine is the default');
  });

  it('is deterministic (eigenvector signs fixed)', () => {
    const cb = Float32Array.from({ length: 50 * 8 }, (_, i) => Math.sin(i * 1.7) + Math.cos(i * 0.3));
    assert.deepEqual(codeColours(cb, 50, 8), codeColours(Float32Array.from(cb), 50, 8));
  });
});

describe('provider candidates', () => {
  it('orders GPU providers per platform, CPU last', () => {
    assert.deepEqual(gpuOrder('linux'), ['cuda', 'webgpu']);
    assert.deepEqual(gpuOrder('win32'), ['cuda', 'dml', 'webgpu']);
    assert.deepEqual(gpuOrder('darwin'), ['coreml', 'webgpu']);
    const c = candidates('auto', ['cpu', 'webgpu', 'cuda'], 'linux', () => true);
    assert.deepEqual(c.map((x) => x.provider), ['cuda', 'webgpu', 'cpu']);
    assert.ok(c.every((x) => !x.skipReason));
  });
  it('skips providers the build does not offer, with a reason', () => {
    const c = candidates('dml', ['cpu', 'webgpu'], 'linux');
    assert.equal(c[0].provider, 'dml');
    assert.match(c[0].skipReason!, /not offered by onnxruntime-node on linux/);
    assert.equal(c[1].provider, 'cpu');
    assert.deepEqual(candidates('cpu', PROVIDERS, 'linux').map((x) => x.provider), ['cpu']);
  });
  it('shortens native error messages to the readable part', () => {
    const webgpu =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(...)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
    assert.equal(shortReason(webgpu), 'No supported adapters');
    assert.equal(shortReason('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'), 'Failed to load shared library');
  });
});
