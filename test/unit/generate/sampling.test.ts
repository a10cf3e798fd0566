import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PairSampler, RowSampler, SplitMix64, Xoshiro128ss, checkSettings, guidanceWeight, kthLargest, sampleStream, topPThreshold, UserError } from '../../../src/extension/core';
import { REPO } from '../core/helpers';

interface RefCase {
  vector: string;
  scale: number;
  scales: number;
  cfg: number;
  topK: number;
  topP: number;
  temperature: number;
  t: number;
  kept: number;
  probs: number[];
  draws: { u: number; index: number }[];
}
interface Ref {
  vectors: Record<string, { cond: number[]; uncond: number[] }>;
  cases: RefCase[];
}

describe('generate: random numbers', () => {
  it('xoshiro128** matches the reference C implementation', () => {
    // first outputs of the authors' xoshiro128starstar.c from the state {1, 2, 3, 4}
    const r = new Xoshiro128ss([1, 2, 3, 4]);
    assert.deepEqual(
      Array.from({ length: 8 }, () => r.next()),
      [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849],
    );
  });

  it('SplitMix64 matches the reference C implementation', () => {
    const a = new SplitMix64(0n);
    assert.deepEqual([a.next(), a.next()], [16294208416658607535n, 7960286522194355700n]);
    const b = new SplitMix64(1234567n);
    assert.deepEqual([b.next(), b.next(), b.next()], [6457827717110365317n, 3203168211198807973n, 9817491932198370423n]);
  });

  it('gives each seed and each sample its own reproducible stream', () => {
    const draw = (seed: number, sample: number) => {
      const r = sampleStream(seed, sample);
      return Array.from({ length: 6 }, () => r.float());
    };
    assert.deepEqual(draw(7, 0), draw(7, 0));
    assert.notDeepEqual(draw(7, 0), draw(8, 0));
    assert.notDeepEqual(draw(7, 0), draw(7, 1));
    assert.notDeepEqual(draw(0, 1), draw(1, 0));
    assert.ok(draw(Number.MAX_SAFE_INTEGER, 63).every((u) => u >= 0 && u < 1));
    assert.throws(() => sampleStream(-1, 0), UserError);
    assert.throws(() => sampleStream(1.5, 0), UserError);
  });

  it('draws uniform numbers (mean and spread of 20 000 draws)', () => {
    const r = sampleStream(42, 0);
    const n = 20000;
    const bins = new Array(10).fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const u = r.float();
      sum += u;
      bins[Math.floor(u * 10)]++;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
    for (const c of bins) assert.ok(Math.abs(c - n / 10) < 0.06 * (n / 10), `bins ${bins}`);
  });
});

describe('generate: sampling matches the PyTorch reference', () => {
  const ref = JSON.parse(fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'sampling-reference.json'), 'utf8')) as Ref;

  it('has cases with ties, guidance, temperature, top-k and top-p', () => {
    assert.ok(ref.cases.length >= 60);
    assert.ok(ref.cases.some((c) => c.topK > 0 && c.kept > c.topK), 'a top-k case that keeps ties');
    assert.ok(ref.cases.some((c) => c.topP < 0.01 && c.kept > 1), 'a top-p case that keeps tied most likely tokens');
  });

  for (const c of ref.cases) {
    const name = `${c.vector}: scale ${c.scale}/${c.scales}, cfg ${c.cfg}, top-k ${c.topK}, top-p ${c.topP}, temperature ${c.temperature}`;
    it(name, () => {
      const v = ref.vectors[c.vector];
      const V = v.cond.length;
      const t = guidanceWeight(c.cfg, c.scale, c.scales);
      assert.ok(Math.abs(t - c.t) < 1e-15, `t ${t} vs ${c.t}`);
      const s = new RowSampler(V).load(v.cond, 0, v.uncond, 0, t, c.temperature).filter(c.topK, c.topP);
      const p = s.probabilities();
      let kept = 0;
      for (let i = 0; i < V; i++) {
        assert.equal(p[i] > 0, c.probs[i] > 0, `token ${i} kept by one side only`);
        assert.ok(Math.abs(p[i] - c.probs[i]) < 1e-12, `token ${i}: ${p[i]} vs ${c.probs[i]}`);
        if (p[i] > 0) kept++;
      }
      assert.equal(kept, c.kept);
      for (const d of c.draws) assert.equal(s.draw(d.u), d.index, `u = ${d.u}`);
    });
  }

  it('selects the k-th largest value like a sort does (with ties)', () => {
    const r = sampleStream(3, 0);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r.float() * 300);
      const levels = 1 + Math.floor(r.float() * 40); // few levels: many ties
      const a = Float64Array.from({ length: n }, () => Math.floor(r.float() * levels) / levels);
      const sorted = Float64Array.from(a).sort();
      const k = 1 + Math.floor(r.float() * n);
      assert.equal(kthLargest(Float64Array.from(a), n, k), sorted[n - k], `n ${n}, k ${k}`);
    }
  });

  it("finds top-p's threshold like walking the sorted values from the top (with ties)", () => {
    const r = sampleStream(4, 0);
    for (let trial = 0; trial < 500; trial++) {
      const n = 1 + Math.floor(r.float() * 300);
      const levels = 1 + Math.floor(r.float() * (trial % 2 ? 12 : 5000)); // few levels: many ties
      const a = Float64Array.from({ length: n }, () => (1 + Math.floor(r.float() * levels)) / levels);
      const z = a.reduce((x, y) => x + y, 0) * (1 + r.float()); // candidates hold part of the mass
      const topP = r.float() < 0.1 ? 1e-6 : r.float();
      // reference: groups of equal values from the top, kept while the mass above them is < topP * z
      const sorted = Float64Array.from(a).sort().reverse();
      let above = 0;
      let want = sorted[0];
      for (let j = 0; j < n; ) {
        const v = sorted[j];
        if (!(above / z < topP)) break;
        want = v;
        while (j < n && sorted[j] === v) above += sorted[j++];
      }
      assert.equal(topPThreshold(Float64Array.from(a), n, z, topP), want, `n ${n}, levels ${levels}, topP ${topP}`);
    }
  });

  it('keeps every token when filtering is off and only the argmax (with ties) at top-k 1', () => {
    const s = new RowSampler(5).load([1, 3, 3, 0, 2], 0, undefined, 0, 0, 1);
    assert.equal(s.filter(0, 1).probabilities().filter((x) => x > 0).length, 5);
    assert.deepEqual(Array.from(s.filter(1, 1).probabilities(), (x) => x > 0), [false, true, true, false, false]);
    assert.equal(s.filter(1, 1).argmax(), 1);
  });

  it('rejects bad settings with a reason', () => {
    const ok = { cfg: 3, topK: 600, topP: 0.95, temperature: 1 };
    assert.deepEqual(checkSettings(ok), ok);
    const bad = (o: Partial<typeof ok>, re: RegExp) => assert.throws(() => checkSettings({ ...ok, ...o }), (e: unknown) => e instanceof UserError && e.code === 'BAD_ARGUMENT' && re.test(e.message));
    bad({ cfg: -1 }, /cfg/);
    bad({ topK: 1.5 }, /top-k/);
    bad({ topP: 0 }, /top-p/);
    bad({ topP: 1.5 }, /top-p/);
    bad({ temperature: 0 }, /temperature/);
    bad({ cfg: NaN }, /cfg/);
  });
});

/** Exact joint filter by enumerating the V^2 pairs: top-k (ties kept) then top-p (mass strictly above < top-p). */
function bruteJoint(a: number[], b: number[], topK: number, topP: number): number[] {
  const V = a.length;
  const ma = Math.max(...a);
  const mb = Math.max(...b);
  const q: number[] = [];
  for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) q.push(Math.exp(a[i] - ma) * Math.exp(b[j] - mb));
  const desc = [...q].sort((x, y) => y - x);
  let thr = topK > 0 && topK < q.length ? desc[topK - 1] : 0;
  const z = q.filter((x) => x >= thr).reduce((s, x) => s + x, 0);
  if (topP < 1) {
    const keep = q.map((x) => x >= thr && q.filter((y) => y > x && y >= thr).reduce((s, y) => s + y, 0) < topP * z);
    thr = Math.max(thr, Math.min(...q.filter((_, k) => keep[k])));
  }
  const kept = q.map((x) => (x >= thr ? x : 0));
  const t = kept.reduce((s, x) => s + x, 0);
  return kept.map((x) => x / t);
}

describe('generate: joint sampling experiment', () => {
  it('filters the pair distribution like an exact enumeration of the pairs', () => {
    const r = sampleStream(77, 0);
    const V = 9;
    for (const [topK, topP] of [
      [0, 1],
      [5, 1],
      [20, 1],
      [0, 0.5],
      [0, 0.9],
      [30, 0.8],
      [1, 1],
      [0, 1e-6],
    ]) {
      const a = Array.from({ length: V }, () => r.float() * 6 - 3);
      const b = Array.from({ length: V }, () => r.float() * 6 - 3);
      const s = new PairSampler(V);
      s.detail.load(a, 0, undefined, 0, 0, 1);
      s.semantic.load(b, 0, undefined, 0, 0, 1);
      const [i, j] = s.sample(topK, topP, r.float(), r.float());
      const p = s.pairProbabilities();
      const want = bruteJoint(a, b, topK, topP);
      for (let k = 0; k < V * V; k++) {
        assert.equal(p[k] > 0, want[k] > 0, `top-k ${topK}, top-p ${topP}: pair ${k} kept by one side only`);
        assert.ok(Math.abs(p[k] - want[k]) < 1e-9, `pair ${k}: ${p[k]} vs ${want[k]}`);
      }
      assert.ok(p[i * V + j] > 0, 'the drawn pair is a kept pair');
    }
  });

  it('draws pairs with their joint probabilities (10 000 draws, 5 x 5 pairs)', () => {
    const V = 5;
    const s = new PairSampler(V);
    const a = [1, 0.2, -0.5, 0.7, -2];
    const b = [0.3, -1, 1.2, 0, 0.5];
    s.detail.load(a, 0, undefined, 0, 0, 1);
    s.semantic.load(b, 0, undefined, 0, 0, 1);
    const r = sampleStream(5, 0);
    const counts = new Array(V * V).fill(0);
    const n = 10000;
    for (let k = 0; k < n; k++) {
      const [i, j] = s.sample(6, 0.9, r.float(), r.float());
      counts[i * V + j]++;
    }
    const p = s.pairProbabilities();
    for (let k = 0; k < V * V; k++) {
      const sd = Math.sqrt(p[k] * (1 - p[k]) * n) + 1;
      assert.ok(Math.abs(counts[k] - p[k] * n) < 5 * sd, `pair ${k}: ${counts[k]} draws, expected ${p[k] * n}`);
    }
  });
});
