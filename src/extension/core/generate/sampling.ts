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
   * selection (O(V)); top-p sorts only the tokens it could keep. A token j with
   * e_j < (1 - topP) * z / V (z: mass kept by top-k) has more than topP * z above it, so it is
   * dropped unsorted.
   */
  filter(topK: number, topP: number): this {
    const V = this.vocab;
    const l = this.logits;
    const w = this.weights;
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (l[i] > max) max = l[i];
    if (!Number.isFinite(max)) throw new Error(`generator logits are not finite (max ${max})`);
    for (let i = 0; i < V; i++) w[i] = Math.exp(l[i] - max);
    const scratch = this.sorted;
    let thr = 0;
    if (topK > 0 && topK < V) {
      scratch.set(w);
      thr = kthLargest(scratch, V, topK);
    }
    if (topP < 1) {
      let z = 0;
      for (let i = 0; i < V; i++) if (w[i] >= thr) z += w[i];
      const floor = Math.max(thr, ((1 - topP) * z) / V);
      let m = 0;
      for (let i = 0; i < V; i++) if (w[i] >= floor) scratch[m++] = w[i];
      const cand = scratch.subarray(0, m).sort(); // ascending; holds the maximum (1) at least
      // groups of equal weights from the top: keep while the mass above is < topP * z
      let above = 0;
      let j = m - 1;
      let pThr = cand[m - 1];
      while (j >= 0) {
        const v = cand[j];
        if (j < m - 1 && !(above / z < topP)) break;
        while (j >= 0 && cand[j] === v) {
          above += v;
          j--;
        }
        pThr = v;
      }
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
