import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GeneratorGraphs, ModelRuntime, UserError, generate, generatorSpec, hasGenerator, type GenerateOptions } from '../../../src/extension/core';
import { REPO, writeSmallPackage } from '../core/helpers';

const TINY = path.join(REPO, 'test', 'fixtures', 'tiny-model');
const GOLDEN = path.join(REPO, 'test', 'fixtures', 'tiny-model-golden', 'generator-golden.json');

interface Golden {
  classId: number;
  indices: number[][];
  top5: Record<'detail' | 'semantic', { indices: number[][]; values: number[][] }>;
  rowSum: number[];
}

const isUser = (code: string, re?: RegExp) => (e: unknown) => e instanceof UserError && e.code === code && (!re || re.test(e.message));

describe('generate: tiny package (generator graphs, meaningless weights)', function () {
  this.timeout(300_000);
  let rt: ModelRuntime;
  const golden = JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) as Golden;
  const base: GenerateOptions = { className: 'b', cfg: 3, topK: 600, topP: 0.95, temperature: 1, decode: false };

  before(async () => {
    rt = await ModelRuntime.load(TINY, { provider: 'cpu', threads: 1 });
  });
  after(async () => {
    await rt?.dispose();
  });

  it('reads the generator part of the package', () => {
    assert.ok(hasGenerator(rt));
    const s = generatorSpec(rt);
    assert.deepEqual(s.classes, ['a', 'b', 'c']);
    assert.equal(s.nullClass, 3);
    assert.deepEqual([s.depth, s.heads, s.headDim, s.inDim, s.vocab], [2, 2, 32, 64, 1024]);
    assert.deepEqual(s.defaults, { cfg: 3, topK: 600, topP: 0.95, temperature: 1 });
  });

  it("KV-cache steps reproduce PyTorch's teacher-forced logits", async () => {
    const g = new GeneratorGraphs(rt);
    const { scales, offsets, L, P, spec } = g;
    const V = spec.vocab;
    const indices = BigInt64Array.from(golden.indices.flat().map(BigInt));
    assert.equal(indices.length, P * L);
    const cls = BigInt64Array.from([BigInt(golden.classId)]);
    let cache = g.emptyCache(1);
    let next: Float32Array | undefined;
    let maxDiff = 0;
    let rowDiff = 0;
    for (let k = 0; k < scales.length; k++) {
      if (k > 0) next = await g.nextInput(indices, 1, k);
      const T = scales[k] ** 2;
      const r = await g.step(k, cls, g.scaleInput(next, k, 1, 1), cache);
      cache = r.cache;
      assert.equal(cache.keys.dims[3], offsets[k] + T);
      for (let t = 0; t < T; t++) {
        const pos = offsets[k] + t;
        const row = r.logits.subarray(t * 2 * V, (t + 1) * 2 * V);
        let sum = 0;
        for (const v of row) sum += v;
        rowDiff = Math.max(rowDiff, Math.abs(sum - golden.rowSum[pos]) / (1 + Math.abs(golden.rowSum[pos])));
        (['detail', 'semantic'] as const).forEach((b, h) => {
          golden.top5[b].indices[pos].forEach((ix, j) => {
            maxDiff = Math.max(maxDiff, Math.abs(row[h * V + ix] - golden.top5[b].values[pos][j]));
          });
        });
      }
    }
    assert.ok(maxDiff < 1e-3, `max top-5 logit difference ${maxDiff}`);
    assert.ok(rowDiff < 1e-3, `row-sum relative difference ${rowDiff}`);
    assert.equal(g.runs.generator, scales.length);
  });

  it('same seed gives the same tokens, another seed other tokens; samples of a batch differ', async () => {
    const a = await generate(rt, { ...base, seed: 11, count: 2 });
    const b = await generate(rt, { ...base, seed: 11, count: 2 });
    const c = await generate(rt, { ...base, seed: 12, count: 2 });
    assert.deepEqual(a.samples.map((s) => s.tokens), b.samples.map((s) => s.tokens));
    assert.notDeepEqual(a.samples[0].tokens, c.samples[0].tokens);
    assert.notDeepEqual(a.samples[0].tokens, a.samples[1].tokens);
    const L = rt.pkg.manifest.tokensPerBranch;
    for (const s of a.samples) {
      assert.equal(s.tokens.length, 2);
      for (const row of s.tokens) {
        assert.equal(row.length, L);
        assert.ok(row.every((v) => Number.isInteger(v) && v >= 0 && v < 1024));
      }
    }
    assert.deepEqual(a.settings, { cfg: 3, topK: 600, topP: 0.95, temperature: 1, classId: 1, className: 'b', seed: 11, count: 2, mode: 'cache' });
    assert.deepEqual(a.runs, { generator: 10, nextInput: 9, decoder: 0 });
  });

  it("sample i of a seed does not depend on the batch's other samples", async () => {
    const one = await generate(rt, { ...base, seed: 21, count: 1 });
    const three = await generate(rt, { ...base, seed: 21, count: 3 });
    assert.deepEqual(three.samples[0].tokens, one.samples[0].tokens);
  });

  it('joint sampling (experiment) is reproducible and differs from folded sampling', async () => {
    const a = await generate(rt, { ...base, seed: 8, joint: true });
    const b = await generate(rt, { ...base, seed: 8, joint: true });
    const f = await generate(rt, { ...base, seed: 8 });
    assert.equal(a.settings.joint, true);
    assert.deepEqual(a.samples[0].tokens, b.samples[0].tokens);
    assert.notDeepEqual(a.samples[0].tokens, f.samples[0].tokens);
    await assert.rejects(generate(rt, { ...base, joint: true, forceDetailFrom: golden.indices }), isUser('BAD_ARGUMENT', /joint/));
  });

  it('recomputing the prefix gives the same tokens as the KV cache', async () => {
    const a = await generate(rt, { ...base, seed: 5, count: 1 });
    const r = await generate(rt, { ...base, seed: 5, count: 1, mode: 'recompute' });
    assert.deepEqual(r.samples[0].tokens, a.samples[0].tokens);
    assert.equal(r.runs.generator, 55); // 1 + 2 + ... + 10 steps
  });

  it('greedy settings (top-k 1, no guidance) do not depend on the seed', async () => {
    const g = { ...base, cfg: 0, topK: 1, topP: 1 };
    const a = await generate(rt, { ...g, seed: 1 });
    const b = await generate(rt, { ...g, seed: 999 });
    assert.deepEqual(a.samples[0].tokens, b.samples[0].tokens);
  });

  it('teacher forcing keeps the reference detail tokens exactly and samples the semantic ones', async () => {
    const ref = golden.indices;
    const free = await generate(rt, { ...base, seed: 3, count: 2 });
    const forced = await generate(rt, { ...base, seed: 3, count: 2, forceDetailFrom: ref });
    assert.equal(forced.settings.forced, 'detail');
    for (const s of forced.samples) {
      assert.deepEqual(s.tokens[0], ref[0]);
      assert.notDeepEqual(s.tokens[1], ref[1]);
    }
    // the two samples' semantic tokens differ: they are sampled, not copied
    assert.notDeepEqual(forced.samples[0].tokens[1], forced.samples[1].tokens[1]);
    // scale 0 sees no forced token yet: with the same seed its semantic token is the free run's
    assert.equal(forced.samples[0].tokens[1][0], free.samples[0].tokens[1][0]);
    const rev = await generate(rt, { ...base, seed: 3, forceSemanticFrom: ref });
    assert.equal(rev.settings.forced, 'semantic');
    assert.deepEqual(rev.samples[0].tokens[1], ref[1]);
    assert.notDeepEqual(rev.samples[0].tokens[0], ref[0]);
  });

  it('reports each scale with previews, the last one being the final image', async () => {
    const seen: { k: number; n: number; bytes: number[]; sampled: number }[] = [];
    const r = await generate(rt, {
      ...base,
      seed: 2,
      count: 2,
      decode: true,
      onScale: (k, previews, progress) => {
        const later = progress.tokens[0][1].slice(rt.pkg.manifest.tokensPerBranch - 121);
        seen.push({ k, n: previews?.length ?? 0, bytes: previews?.map((p) => p.length) ?? [], sampled: k < 9 ? later.filter((v) => v !== 0).length : -1 });
      },
    });
    const S = rt.imageSize;
    assert.deepEqual(seen.map((s) => s.k), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(seen.every((s) => s.n === 2 && s.bytes.every((b) => b === S * S * 3)));
    assert.ok(seen.slice(0, 9).every((s) => s.sampled === 0), 'the last scale is not sampled before its turn');
    assert.equal(r.samples[0].rgb?.length, S * S * 3);
    assert.equal(r.runs.decoder, 10);
  });

  it('cancels between scales', async () => {
    const ac = new AbortController();
    const scalesSeen: number[] = [];
    await assert.rejects(
      generate(rt, {
        ...base,
        seed: 1,
        signal: ac.signal,
        onScale: (k) => {
          scalesSeen.push(k);
          if (k === 3) ac.abort();
        },
      }),
      isUser('CANCELLED'),
    );
    assert.deepEqual(scalesSeen, [0, 1, 2, 3]);
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(generate(rt, { ...base, signal: pre.signal }), isUser('CANCELLED'));
  });

  it('rejects bad classes, settings and references with a reason', async () => {
    await assert.rejects(generate(rt, { ...base, className: 'zebra' }), isUser('BAD_ARGUMENT', /unknown class 'zebra' \(this model's classes: a, b, c\)/));
    await assert.rejects(generate(rt, { cfg: 1 }), isUser('BAD_ARGUMENT', /a class is required/));
    await assert.rejects(generate(rt, { classId: 3 }), isUser('BAD_ARGUMENT', /class id must be an integer from 0 to 2/));
    await assert.rejects(generate(rt, { ...base, count: 0 }), isUser('BAD_ARGUMENT', /count/));
    await assert.rejects(generate(rt, { ...base, topP: 2 }), isUser('BAD_ARGUMENT', /top-p/));
    await assert.rejects(generate(rt, { ...base, seed: -3 }), isUser('BAD_ARGUMENT', /seed/));
    await assert.rejects(generate(rt, { ...base, forceDetailFrom: [golden.indices[0]] }), isUser('BAD_ARGUMENT', /reference indices must be 2 rows of 286 indices \(one row per branch\), got 286$/));
    await assert.rejects(generate(rt, { ...base, forceDetailFrom: [[1, 2], golden.indices[1]] }), isUser('BAD_ARGUMENT', /reference indices must be 2 rows of 286 indices \(one row per branch\), got 2 \+ 286/));
    await assert.rejects(generate(rt, { ...base, forceDetailFrom: golden.indices, forceSemanticFrom: golden.indices }), isUser('BAD_ARGUMENT', /not both/));
    // the class name is also accepted case-insensitively, and the class id agrees
    const r = await generate(rt, { ...base, className: 'B', classId: 1, seed: 4 });
    assert.equal(r.settings.className, 'b');
  });
});

describe('generate: package without a generator', () => {
  it('says the model has no generator', async () => {
    const rt = await ModelRuntime.load(writeSmallPackage(), { provider: 'cpu' });
    try {
      assert.equal(hasGenerator(rt), false);
      assert.throws(() => generatorSpec(rt), isUser('MODEL_NO_GENERATOR', /this model has no generator/));
      await assert.rejects(generate(rt, { className: 'a' }), isUser('MODEL_NO_GENERATOR', /this model has no generator/));
    } finally {
      await rt.dispose();
    }
  });

  it('names a generator graph that is declared but missing', async () => {
    const tiny = JSON.parse(fs.readFileSync(path.join(TINY, 'manifest.json'), 'utf8'));
    const dir = writeSmallPackage((m) => {
      m.graphs.generator = tiny.graphs.generator;
      m.graphs.nextInput = { ...tiny.graphs.nextInput, inputs: { indices: [-1, 2, 14], scale_mask: [-1, 2, 3] }, outputs: { next_input: [-1, 13, 64] } };
      m.classes = ['x'];
      m.generator = { nullClass: 1 };
    });
    const rt = await ModelRuntime.load(dir, { provider: 'cpu' });
    try {
      assert.throws(() => generatorSpec(rt), isUser('MODEL_MISSING_FILE', /generator.onnx is missing/));
    } finally {
      await rt.dispose();
    }
  });
});
