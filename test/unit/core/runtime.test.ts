// Real behaviour on the real model (models/imagefolder-mini, or IFI_TEST_MODEL).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { MAX_DECODE_BATCH, ModelRuntime, UserError, decodePlan, decodeRuns, fromTensor, inspect, inspectIndices, inspectMany, loadImage, toTensor, psnr, type Inspection, type InspectProgress } from '../../../src/extension/core';
import { forgetProviderFailures, vulkanLoaderFound } from '../../../src/extension/core/providers';
import { TEST_MODEL, hasRealModel, tmpDir, webgpuSkipPattern } from './helpers';

describe('ModelRuntime and inspect (real model)', function () {
  this.timeout(120_000);
  let rt: ModelRuntime;
  let dir: string;
  let photo: string;
  before(async function () {
    if (!hasRealModel()) this.skip();
    rt = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu', threads: 2 });
    dir = tmpDir('ifi-rt-');
    photo = path.join(dir, 'pattern.png');
    // A smooth pattern with some structure, 96x72 so the crop path runs.
    const raw = Buffer.alloc(96 * 72 * 3);
    for (let y = 0; y < 72; y++) {
      for (let x = 0; x < 96; x++) raw.set([128 + 100 * Math.sin(x / 9), 128 + 100 * Math.cos(y / 7), (x + y) % 256], (y * 96 + x) * 3);
    }
    await sharp(raw, { raw: { width: 96, height: 72, channels: 3 } }).png().toFile(photo);
  });
  after(async () => rt?.dispose());

  it('reports model info from the manifest', () => {
    const i = rt.info();
    const m = JSON.parse(fs.readFileSync(path.join(TEST_MODEL, 'manifest.json'), 'utf8'));
    assert.equal(i.name, m.name);
    assert.deepEqual(i.scales, m.scales);
    assert.equal(i.tokensPerBranch, m.tokensPerBranch);
    assert.deepEqual(i.branches.map((b) => b.role), ['detail', 'semantic']);
    assert.equal(i.builtIn, false);
  });

  it('creates sessions lazily, on first use', async () => {
    const fresh = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu' });
    assert.deepEqual(fresh.providerReport().chosen, {});
    await fresh.ready();
    assert.deepEqual(fresh.providerReport().chosen, { encoder: 'cpu', decoder: 'cpu' });
    await fresh.dispose();
    await assert.rejects(fresh.encode(new Float32Array(3 * fresh.imageSize ** 2)), /after dispose/);
  });

  it('falls back from webgpu to cpu on this machine and says why', async function () {
    forgetProviderFailures();
    const gpu = await ModelRuntime.load(TEST_MODEL, { provider: 'auto' });
    try {
      const report = await gpu.ready();
      if (report.chosen.encoder !== 'cpu') this.skip(); // a machine with a working GPU provider
      assert.equal(report.chosen.decoder, 'cpu');
      if (report.available.includes('webgpu')) {
        assert.match(report.skipped.find((s) => s.provider === 'webgpu')!.reason, webgpuSkipPattern(vulkanLoaderFound()));
      }
    } finally {
      await gpu.dispose();
    }
  });

  it('encodes to [B][P][L] indices inside each codebook, deterministically', async () => {
    const S = rt.imageSize;
    const img = await loadImage(photo, { size: S, resize: 'crop', background: '#fff', pixelLimit: 1e8 });
    const t = toTensor(img.rgb, S, rt.pkg.manifest.image.mean, rt.pkg.manifest.image.std);
    const [a] = await rt.encode(t);
    const [b] = await rt.encode(t);
    assert.deepEqual(a, b);
    assert.equal(a.length, 2);
    a.forEach((row, p) => {
      assert.equal(row.length, rt.pkg.manifest.tokensPerBranch);
      assert.ok(row.every((v) => Number.isInteger(v) && v >= 0 && v < rt.info().branches[p].codebookSize));
    });
  });

  it('rejects out-of-range indices before running the graph', async () => {
    const L = rt.pkg.manifest.tokensPerBranch;
    const bad = [[new Array(L).fill(0), new Array(L).fill(1_000_000)]];
    await assert.rejects(rt.decode(bad, [[new Array(10).fill(1), new Array(10).fill(1)]]), (e: unknown) => e instanceof UserError && e.message === `tokens: token 1 of ${rt.pkg.manifest.tokensPerBranch} in the ${rt.pkg.manifest.branches[1].role} branch is 1000000, outside the codebook (codes 0..${rt.pkg.manifest.branches[1].codebookSize - 1})`);
  });

  let one: Inspection;
  it('inspects an image: every field of the Inspection shape', async () => {
    one = await inspect(rt, photo, { resize: 'crop', background: '#ffffff', pixelLimit: 100e6 });
    const N = rt.scales.length;
    const S = rt.imageSize;
    assert.equal(one.image, photo);
    assert.equal(one.progressive.length, N);
    assert.equal(one.contribution.length, N);
    assert.equal(one.psnrByScale.length, N);
    assert.equal(one.ssimByScale.length, N);
    assert.equal(one.tokenMaps.length, 2 * N);
    assert.equal(one.codeColours.length, 2);
    assert.equal(one.codeColours[0].length, rt.info().branches[0].codebookSize);
    assert.equal(one.usage.length, 2);
    for (const png of [one.input, ...one.progressive, ...one.contribution, one.ablation!.semantic, one.ablation!.detail]) {
      assert.deepEqual([png.width, png.height], [S, S]);
      const meta = await sharp(Buffer.from(png.pngBase64, 'base64')).metadata();
      assert.deepEqual([meta.format, meta.width], ['png', S]);
    }
    assert.ok(one.notes.some((n) => /centre-cropped 96x72/.test(n)));
    assert.ok(one.timingsMs.total > 0);
    assert.ok(one.usage.every((u) => u.histogram.reduce((a, c) => a + c, 0) === rt.pkg.manifest.tokensPerBranch));
    assert.ok(JSON.stringify(one).length > 0); // survives JSON (no Infinity/NaN surprises)
    assert.ok([...one.psnrByScale, ...one.ssimByScale].every(Number.isFinite));
  });

  it('reconstructs better with more scales', function () {
    // Only a trained model improves with scales; the provisional smoke export does not.
    const steps = Number((rt.info().provenance as { steps?: number }).steps ?? Infinity);
    if (steps < 500) this.skip();
    const p = one.psnrByScale;
    assert.ok(p[p.length - 1] > p[0] + 1, `PSNR by scale ${p.map((x) => x.toFixed(2))}`);
    assert.ok(one.ssimByScale[p.length - 1] > one.ssimByScale[0]);
  });

  it('full reconstruction = progressive[N-1]; metrics are measured against the resized input', async () => {
    const S = rt.imageSize;
    const { mean, std } = rt.pkg.manifest.image;
    const full = await rt.decode([one.indices], [one.indices.map(() => rt.scales.map(() => 1))]);
    const rgb = fromTensor(full, S, mean, std);
    const input = await loadImage(photo, { size: S, resize: 'crop', background: '#ffffff', pixelLimit: 1e8 });
    assert.ok(Math.abs(psnr(input.rgb, rgb) - one.psnrByScale[rt.scales.length - 1]) < 0.05);
  });

  it('batched inspection equals one-by-one inspection', async () => {
    const other = path.join(dir, 'other.png');
    await sharp({ create: { width: 40, height: 40, channels: 3, background: '#3366cc' } }).png().toFile(other);
    const [a, b] = await inspectMany(rt, [photo, other], {});
    assert.deepEqual(a.indices, one.indices);
    const single = await inspect(rt, other, {});
    assert.deepEqual(b.indices, single.indices);
    a.psnrByScale.forEach((v, k) => assert.ok(Math.abs(v - one.psnrByScale[k]) < 0.05));
  });

  it('splits the decoder batch only when asked to, with the same results', async () => {
    const [a, b] = await inspectMany(rt, [photo, photo], { maxDecodeBatch: 21 });
    // Batch size may change float summation order in onnxruntime: allow one 8-bit step.
    const pixels = async (png: { pngBase64: string }) => new Uint8Array(await sharp(Buffer.from(png.pngBase64, 'base64')).raw().toBuffer());
    const pairs = [
      ...a.progressive.map((p, k) => [p, one.progressive[k]]),
      ...b.contribution.map((p, k) => [p, one.contribution[k]]),
      [b.ablation!.semantic, one.ablation!.semantic],
      [b.ablation!.detail, one.ablation!.detail],
    ];
    for (const [x, y] of pairs) {
      const [px, py] = [await pixels(x), await pixels(y)];
      assert.ok(px.every((v, i) => Math.abs(v - py[i]) <= 1));
    }
  });

  it('streams an inspection: the tokens with the full reconstruction first, then every other tile once', async () => {
    const events: InspectProgress[] = [];
    const r = await inspect(rt, photo, { onProgress: (e) => events.push(e) });
    const N = rt.scales.length;
    assert.equal(events.length, 2 * N + 1);
    const [first, ...rest] = events;
    assert.ok(first.kind === 'head');
    assert.deepEqual([first.tile.kind, first.tile.scale], ['progressive', N - 1]);
    assert.deepEqual(first.tile.png, r.progressive[N - 1]);
    assert.deepEqual(first.tile.quality, { psnr: r.psnrByScale[N - 1], ssim: r.ssimByScale[N - 1] });
    assert.deepEqual(first.head.indices, r.indices);
    assert.deepEqual(first.head.tokenMaps, r.tokenMaps);
    assert.deepEqual(first.head.usage, r.usage);
    assert.deepEqual(first.head.input, r.input);
    assert.ok(rest.every((e) => e.kind === 'tile'));
    assert.deepEqual(events.map((e) => e.done), Array.from({ length: 2 * N + 1 }, (_, i) => i + 1));
    assert.ok(events.every((e) => e.total === 2 * N + 1 && e.item === 0));
    const seen = new Set(events.map((e) => `${e.tile.kind}${e.tile.scale}`));
    assert.equal(seen.size, 2 * N + 1, 'no tile twice');
    for (const e of rest) {
      const { kind, scale, png, quality } = e.tile;
      if (kind === 'progressive') assert.deepEqual([png, quality], [r.progressive[scale], { psnr: r.psnrByScale[scale], ssim: r.ssimByScale[scale] }]);
      else if (kind === 'contribution') assert.deepEqual([png, quality], [r.contribution[scale], undefined]);
      else {
        const b = kind === 'ablation-semantic' ? 'semantic' : 'detail';
        assert.deepEqual([png, quality], [r.ablation![b], r.ablationMetrics![b]]);
      }
    }
    assert.ok(r.timingsMs.firstView > 0 && r.timingsMs.firstView <= r.timingsMs.total);
  });

  it('inspects token indices (a generated sample): the same tiles as the image they came from, measured against the full decode', async () => {
    const t = await inspectIndices(rt, one.indices, { name: 'sample 1', notes: ['generated'] });
    const N = rt.scales.length;
    assert.equal(t.source, 'tokens');
    assert.equal(one.source, undefined);
    assert.equal(t.image, 'sample 1');
    assert.deepEqual(t.notes, ['generated']);
    assert.deepEqual(t.indices, one.indices);
    assert.deepEqual(t.tokenMaps, one.tokenMaps);
    assert.deepEqual(t.usage, one.usage);
    // same indices, same decoder runs: the same pictures
    assert.deepEqual(t.progressive, one.progressive);
    assert.deepEqual(t.contribution, one.contribution);
    assert.deepEqual(t.ablation, one.ablation);
    // the full decode stands in for the input, so the last scale matches it exactly
    assert.deepEqual(t.input, one.progressive[N - 1]);
    assert.equal(t.psnrByScale[N - 1], 100);
    assert.ok(Math.abs(t.ssimByScale[N - 1] - 1) < 1e-12);
    assert.ok(t.psnrByScale[0] < t.psnrByScale[N - 2], 'coarse scales are further from the final image');
    // malformed tokens: a specific error before any graph runs
    const runs = rt.graphRuns;
    const bad = (indices: number[][], re: RegExp) =>
      assert.rejects(inspectIndices(rt, indices, { name: 'x' }), (e: unknown) => e instanceof UserError && e.code === 'BAD_ARGUMENT' && re.test(e.message));
    const L = rt.pkg.manifest.tokensPerBranch;
    const V = rt.pkg.manifest.branches[1].codebookSize;
    await bad([one.indices[0]], new RegExp(`2 rows of ${L} indices`));
    await bad([one.indices[0], one.indices[1].slice(1)], new RegExp(`2 rows of ${L}`));
    await bad([one.indices[0], one.indices[1].map((c, i) => (i === 7 ? V : c))], new RegExp(`token 8 of \\d+ in the semantic branch is ${V}, outside the codebook \\(codes 0\\.\\.${V - 1}\\)`));
    await bad([one.indices[0].map((c, i) => (i === 3 ? 1.5 : c)), one.indices[1]], /token 4 of \d+ in the detail branch is 1.5/);
    assert.equal(rt.graphRuns, runs);
  });

  it('can be cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(inspect(rt, photo, { signal: ac.signal }), (e: unknown) => e instanceof UserError && e.code === 'CANCELLED');
  });

  it('drops a queued graph run whose signal aborts before its turn, without running it', async () => {
    const all = one.indices.map(() => rt.scales.map(() => 1));
    const before = rt.graphRuns;
    const ac = new AbortController();
    const first = rt.decode([one.indices], Array.from({ length: 21 }, () => all));
    const queued = rt.decode([one.indices], [all], ac.signal);
    queued.catch(() => undefined); // rejected while `first` is awaited
    const after = rt.decode([one.indices], [all]);
    ac.abort(); // while the first run is still ahead of it in the queue
    await first;
    await assert.rejects(queued, (e: unknown) => e instanceof UserError && e.code === 'CANCELLED');
    await after; // the queue goes on past the dropped run
    assert.equal(rt.graphRuns, before + decodeRuns(21, MAX_DECODE_BATCH, 2).length + 1);
  });

  it('spreads a decode over two single-threaded workers on CPU, with the tiles of one run', async () => {
    const plan = decodePlan(rt.branchCount, rt.scales.length, rt.pkg.roles).map((t) => t.mask);
    const before = rt.graphRuns;
    const spread = await rt.decode([one.indices], plan);
    assert.equal(rt.graphRuns - before, 4, 'runs of 6, 5, 5, 5');
    assert.equal(rt.workerCount, 2);
    const single = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu', threads: 1 });
    const whole = await single.decode([one.indices], plan, undefined, plan.length); // one worker, one run
    assert.equal(single.workerCount, 1);
    await single.dispose();
    assert.equal(spread.length, whole.length);
    let worst = 0;
    for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs(spread[i] - whole[i]));
    assert.ok(worst < 1e-5, `tiles differ by ${worst}`);
  });

  it("runs graphs off the caller's thread: its event loop keeps turning during a decode", async () => {
    const plan = decodePlan(rt.branchCount, rt.scales.length, rt.pkg.roles).map((t) => t.mask);
    let ticks = 0;
    let done = false;
    const spin = () => {
      ticks++;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    const runs = rt.graphRuns;
    await rt.decode([one.indices], [...plan, ...plan]);
    done = true;
    // onnxruntime-node runs a session synchronously on its calling thread: there the loop could
    // turn only between runs (8 of them here).
    assert.ok(ticks > 10 * (rt.graphRuns - runs), `${ticks} turns of the event loop`);
  });

  it('a worker thread that dies fails its runs with the reason, and the next run starts a new one', async () => {
    const all = one.indices.map(() => rt.scales.map(() => 1));
    const made = rt.sessionsCreated;
    const pending = rt.decode([one.indices], Array.from({ length: 14 }, () => all));
    pending.catch(() => undefined); // rejected while the threads are being ended
    // the thread ends as if it had crashed (not through dispose)
    const slots = (rt as unknown as { slots: { worker?: { worker: { terminate(): Promise<number> } } }[] }).slots;
    await Promise.all(slots.map((s) => s.worker?.worker.terminate()));
    await assert.rejects(pending, (e: unknown) => e instanceof Error && e.name === 'OrtWorkerGone' && /onnxruntime worker thread exited/.test(e.message));
    const again = await rt.decode([one.indices], [all]);
    assert.equal(again.length, 3 * rt.imageSize ** 2);
    assert.ok(rt.sessionsCreated > made, 'sessions made again in the new worker');
    const after = await inspect(rt, photo);
    assert.deepEqual(after.indices, one.indices);
    assert.deepEqual(after.progressive, one.progressive);
  });
});

describe('decodeRuns', () => {
  it('splits tiles into runs of at most maxBatch, even, in a multiple of the workers', () => {
    assert.deepEqual(decodeRuns(21, 7, 1), [7, 7, 7]);
    assert.deepEqual(decodeRuns(21, 7, 2), [6, 5, 5, 5]);
    assert.deepEqual(decodeRuns(10, 7, 2), [5, 5]);
    assert.deepEqual(decodeRuns(1, 7, 2), [1]);
    assert.deepEqual(decodeRuns(3, 7, 2), [2, 1]);
    assert.deepEqual(decodeRuns(21, 21, 1), [21]);
    assert.deepEqual(decodeRuns(15, 7, 3), [5, 5, 5]);
    for (let tiles = 1; tiles < 50; tiles++) {
      for (const workers of [1, 2, 4]) {
        const r = decodeRuns(tiles, 7, workers);
        assert.equal(r.reduce((a, b) => a + b, 0), tiles);
        assert.ok(Math.max(...r) <= 7 && Math.max(...r) - Math.min(...r) <= 1 && Math.min(...r) >= 1);
      }
    }
  });
});
