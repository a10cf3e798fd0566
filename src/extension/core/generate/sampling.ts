// Sampling of one position's tokens from the generator's logits, in the host (not in the graphs),
// following docs/model-format.md and the ImageFolder/VAR recipe:
//
//   guidance   t = cfg * k / (N - 1) at scale k (0 at the first scale, cfg at the last);
//              logits = (1 + t) * cond - t * uncond
//   temperature logits /= temperature
//   top-k      keep every logit >= the k-th largest (ties at the threshold are kept); 0 = off
//   top-p      on the softmax of what top-k kept: keep token j when the probability mass of the
//              tokens strictly more likely than j is < top-p; the most likely token (and its
//              ties) is always kept; 1 = off
//   sample     the first index whose cumulative kept weight exceeds u * total, u uniform in [0, 1)
//
// The rule for top-p is VAR's "cumulative mass from the top" rule made independent of how a sort
// orders equal values, so tied tokens are kept or dropped together (training/tests/
// sampling_reference.py computes the same distributions with PyTorch for the tests).
// Arithmetic is float64 throughout, on the float32 logits the graph returns.

import { UserError } from '../errors';

export interface SamplingSettings {
  /** classifier-free guidance scale at the last scale (0 = no guidance) */
  cfg: number;
  /** keep the k most likely tokens (ties kept); 0 = off */
  topK: number;
  /** nucleus: smallest set of most likely tokens with mass >= topP; 1 = off */
  topP: number;
  temperature: number;
}

/** Guidance weight t at scale k of N (linear ramp). */
export function guidanceWeight(cfg: number, scale: number, scales: number): number {
  return scales > 1 ? (cfg * scale) / (scales - 1) : 0;
}

export function checkSettings(s: SamplingSettings): SamplingSettings {
  const bad = (m: string) => new UserError('BAD_ARGUMENT', m);
  if (!Number.isFinite(s.cfg) || s.cfg < 0) throw bad(`cfg must be a number >= 0 (got ${s.cfg})`);
  if (!Number.isInteger(s.topK) || s.topK < 0) throw bad(`top-k must be an integer >= 0, 0 = off (got ${s.topK})`);
  if (!Number.isFinite(s.topP) || s.topP <= 0 || s.topP > 1) throw bad(`top-p must be in (0, 1], 1 = off (got ${s.topP})`);
  if (!Number.isFinite(s.temperature) || s.temperature <= 0) throw bad(`temperature must be a number > 0 (got ${s.temperature})`);
  return s;
}

/**
 * Filters and samples rows of V logits. Holds its scratch buffers, so one instance serves every
 * position of a run without allocating.
 */
export class RowSampler {
  /** the row being sampled (guided, tempered logits); fill with `load` */
  readonly logits: Float64Array;
  /** unnormalised kept weights after `filter` (0 = dropped) */
  readonly weights: Float64Array;
  private readonly sorted: Float64Array;
  private total = 0;

  constructor(readonly vocab: number) {
    this.logits = new Float64Array(vocab);
    this.weights = new Float64Array(vocab);
    this.sorted = new Float64Array(vocab);
  }

  /**
   * logits = ((1 + t) * cond - t * uncond) / temperature for the V values starting at the offsets;
   * `uncond` may be omitted when t = 0.
   */
  load(cond: ArrayLike<number>, condOffset: number, uncond: ArrayLike<number> | undefined, uncondOffset: number, t: number, temperature: number): this {
    const V = this.vocab;
    const l = this.logits;
    // division, not multiplication by 1 / temperature: the reference computes it that way
    if (t === 0 || uncond === undefined) {
      for (let i = 0; i < V; i++) l[i] = cond[condOffset + i] / temperature;
    } else {
      const a = 1 + t;
      for (let i = 0; i < V; i++) l[i] = (a * cond[condOffset + i] - t * uncond[uncondOffset + i]) / temperature;
    }
    return this;
  }

  /**
   * Applies top-k then top-p to `logits`; fills `weights`. Works on e = exp(logit - max), whose
   * order is the logits' order, without sorting the whole row: the top-k threshold comes from a
   * selection on the logits (O(V)), and only the tokens it keeps are exponentiated; top-p's
   * threshold comes from a weighted selection over the tokens it could keep. With n tokens kept by top-k holding mass z, a token j with
   * e_j < (1 - topP) * z / n has less than (1 - topP) * z at or below it among them, so more than
   * topP * z above it: it is dropped without entering the selection.
   */
  filter(topK: number, topP: number): this {
    const V = this.vocab;
    const l = this.logits;
    const w = this.weights;
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (l[i] > max) max = l[i];
    if (!Number.isFinite(max)) throw new Error(`generator logits are not finite (max ${max})`);
    const scratch = this.sorted;
    let thr = 0;
    let n = V;
    if (topK > 0 && topK < V) {
      scratch.set(l);
      const kth = kthLargest(scratch, V, topK);
      n = 0;
      for (let i = 0; i < V; i++) {
        if (l[i] >= kth) {
          w[i] = Math.exp(l[i] - max);
          n++;
        } else w[i] = 0;
      }
      thr = Math.exp(kth - max);
    } else {
      for (let i = 0; i < V; i++) w[i] = Math.exp(l[i] - max);
    }
    if (topP < 1) {
      let z = 0;
      for (let i = 0; i < V; i++) if (w[i] >= thr) z += w[i];
      const floor = Math.max(thr, ((1 - topP) * z) / n);
      let m = 0;
      for (let i = 0; i < V; i++) if (w[i] >= floor) scratch[m++] = w[i];
      const pThr = topPThreshold(scratch, m, z, topP);
      if (pThr > thr) thr = pThr;
    }
    let total = 0;
    for (let i = 0; i < V; i++) {
      if (w[i] >= thr) total += w[i];
      else w[i] = 0;
    }
    this.total = total;
    return this;
  }

  /** The filtered distribution, normalised (a copy). */
  probabilities(): Float64Array {
    const p = new Float64Array(this.vocab);
    for (let i = 0; i < this.vocab; i++) p[i] = this.weights[i] / this.total;
    return p;
  }

  /** Index drawn from the filtered weights with the uniform number u in [0, 1). */
  draw(u: number): number {
    const w = this.weights;
    const target = u * this.total;
    let acc = 0;
    let last = -1;
    for (let i = 0; i < this.vocab; i++) {
      const x = w[i];
      if (x > 0) {
        acc += x;
        last = i;
        if (acc > target) return i;
      }
    }
    return last; // u * total rounded up to the total
  }

  /** Index of the largest filtered weight (first on ties). */
  argmax(): number {
    let best = 0;
    for (let i = 1; i < this.vocab; i++) if (this.weights[i] > this.weights[best]) best = i;
    return best;
  }
}

/**
 * Top-p's threshold over the candidate weights a[0..n) of a row with total mass z: the smallest
 * value v such that the values strictly greater than v hold mass / z < topP (the kept tokens are
 * those >= v; equal values are kept or dropped together). A weighted selection: three-way
 * partitions around a pivot, descending only into the side that holds the answer, O(n) expected
 * instead of a sort. Reorders `a`.
 */
export function topPThreshold(a: Float64Array, n: number, z: number, topP: number): number {
  let lo = 0;
  let hi = n; // the answer lies in a[lo..hi)
  let above = 0; // mass of the values greater than all of a[lo..hi)
  let kept = Infinity;
  while (lo < hi) {
    const x = a[lo];
    const y = a[(lo + hi) >> 1];
    const w = a[hi - 1];
    const pivot = x < y ? (y < w ? y : x < w ? w : x) : x < w ? x : y < w ? w : y;
    // a[lo..gt) > pivot, a[gt..i) == pivot, a[lt..hi) < pivot
    let gt = lo;
    let i = lo;
    let lt = hi;
    let greater = 0;
    let equal = 0;
    while (i < lt) {
      const v = a[i];
      if (v > pivot) {
        a[i] = a[gt];
        a[gt] = v;
        gt++;
        i++;
        greater += v;
      } else if (v < pivot) {
        lt--;
        a[i] = a[lt];
        a[lt] = v;
      } else {
        i++;
        equal += v;
      }
    }
    if (!((above + greater) / z < topP)) {
      hi = gt; // the pivot is dropped: the answer is among the greater values
      continue;
    }
    kept = pivot;
    above += greater + equal;
    if (!(above / z < topP)) break; // nothing below the pivot is kept
    lo = lt;
  }
  return kept;
}

/**
 * The k-th largest of a[0..n) (the value at index n - k of the ascending order), by Hoare's
 * selection with a median-of-three pivot; reorders `a`.
 */
export function kthLargest(a: Float64Array, n: number, k: number): number {
  const target = n - k;
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const x = a[lo];
    const y = a[(lo + hi) >> 1];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // a[lo..j] <= pivot, a[i..hi] >= pivot, a[j+1..i-1] == pivot
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/**
 * Experimental joint sampling of a position's two tokens: the pair (detail i, semantic j) drawn
 * from the product distribution p_d(i) * p_s(j) with top-k and top-p applied to the V^2 pairs
 * instead of to each branch alone. Pairs are never enumerated: the kept set is
 * { (i, j) : w_d(i) * w_s(j) >= theta }, theta found by bisection (in log space, to about 1e-12
 * relative) on the count and mass of pairs above a threshold, each evaluated in O(V) with the
 * branches' weights sorted. Ties at the threshold are kept as far as float precision resolves
 * them; `folded` (independent) sampling is the reference behaviour, this is an experiment.
 */
export class PairSampler {
  readonly detail: RowSampler;
  readonly semantic: RowSampler;
  private readonly aDesc: Float64Array;
  private readonly bAsc: Float64Array;
  /** bSuffix[j] = sum of bAsc[j..V) */
  private readonly bSuffix: Float64Array;
  private theta = 0;
  private rowMass: Float64Array;

  constructor(readonly vocab: number) {
    this.detail = new RowSampler(vocab);
    this.semantic = new RowSampler(vocab);
    this.aDesc = new Float64Array(vocab);
    this.bAsc = new Float64Array(vocab);
    this.bSuffix = new Float64Array(vocab + 1);
    this.rowMass = new Float64Array(vocab);
  }

  /** count and mass of pairs with product >= theta (two pointers over the sorted weights) */
  private above(theta: number): { count: number; mass: number } {
    const V = this.vocab;
    const a = this.aDesc;
    const b = this.bAsc;
    let j = 0;
    let count = 0;
    let mass = 0;
    for (let i = 0; i < V; i++) {
      const ai = a[i];
      if (ai <= 0) break;
      const x = theta / ai; // grows as a_i shrinks
      while (j < V && b[j] < x) j++;
      if (j >= V) break;
      count += V - j;
      mass += ai * this.bSuffix[j];
    }
    return { count, mass };
  }

  /** largest theta in [lo, 1] with pred(theta) true (pred monotone: true below, false above) */
  private bisect(lo: number, pred: (theta: number) => boolean): number {
    if (pred(1)) return 1;
    let l = Math.log(lo);
    let h = 0;
    for (let it = 0; it < 64 && h - l > 1e-12; it++) {
      const m = (l + h) / 2;
      if (pred(Math.exp(m))) l = m;
      else h = m;
    }
    return Math.exp(l);
  }

  /**
   * Filters the pair distribution of the rows loaded into `detail` and `semantic` (their load()),
   * then returns [detail index, semantic index] drawn with u1 (row) and u2 (column).
   */
  sample(topK: number, topP: number, u1: number, u2: number): [number, number] {
    const V = this.vocab;
    const a = this.detail.filter(0, 1).weights; // exp(l - max): max 1
    const b = this.semantic.filter(0, 1).weights;
    this.aDesc.set(a);
    this.aDesc.sort().reverse();
    this.bAsc.set(b);
    this.bAsc.sort();
    this.bSuffix[V] = 0;
    for (let j = V - 1; j >= 0; j--) this.bSuffix[j] = this.bSuffix[j + 1] + this.bAsc[j];
    let minPos = 1;
    for (let i = 0; i < V; i++) if (this.aDesc[i] > 0 && this.aDesc[i] < minPos) minPos = this.aDesc[i];
    let minB = 1;
    for (let j = 0; j < V; j++) if (this.bAsc[j] > 0) { minB = this.bAsc[j]; break; }
    const floor = Math.max(minPos * minB * 0.5, Number.MIN_VALUE);
    let theta = floor;
    if (topK > 0 && topK < V * V) theta = this.bisect(floor, (t) => this.above(t).count >= topK);
    if (topP < 1) {
      const z = this.above(theta).mass;
      const tp = this.bisect(theta, (t) => this.above(t).mass >= topP * z);
      if (tp > theta) theta = tp;
    }
    this.theta = theta;
    // row i's kept mass a_i * sum{ b_j : b_j >= theta / a_i }, in index order
    const rows = this.rowMass;
    let total = 0;
    for (let i = 0; i < V; i++) {
      const ai = a[i];
      let m = 0;
      if (ai > 0) {
        const x = theta / ai;
        let lo = 0;
        let hi = V; // first index with bAsc >= x
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (this.bAsc[mid] < x) lo = mid + 1;
          else hi = mid;
        }
        m = ai * this.bSuffix[lo];
      }
      rows[i] = m;
      total += m;
    }
    let i = pick(rows, V, u1 * total);
    if (i < 0) i = this.detail.argmax();
    const x = theta / a[i];
    let colTotal = 0;
    for (let j = 0; j < V; j++) if (b[j] >= x) colTotal += b[j];
    const target = u2 * colTotal;
    let acc = 0;
    let last = -1;
    for (let j = 0; j < V; j++) {
      if (b[j] >= x) {
        acc += b[j];
        last = j;
        if (acc > target) return [i, j];
      }
    }
    return [i, last >= 0 ? last : this.semantic.argmax()];
  }

  /** The kept pair distribution of the last sample() (V^2 values, row-major); for tests. */
  pairProbabilities(): Float64Array {
    const V = this.vocab;
    const a = this.detail.weights;
    const b = this.semantic.weights;
    const p = new Float64Array(V * V);
    let total = 0;
    for (let i = 0; i < V; i++) {
      for (let j = 0; j < V; j++) {
        const q = a[i] > 0 && b[j] >= this.theta / a[i] ? a[i] * b[j] : 0;
        p[i * V + j] = q;
        total += q;
      }
    }
    for (let k = 0; k < p.length; k++) p[k] /= total;
    return p;
  }
}

/** first index whose cumulative weight exceeds target; the last positive one if none; -1 if all 0 */
function pick(w: Float64Array, n: number, target: number): number {
  let acc = 0;
  let last = -1;
  for (let i = 0; i < n; i++) {
    if (w[i] > 0) {
      acc += w[i];
      last = i;
      if (acc > target) return i;
    }
  }
  return last;
}
