// Seeded random numbers for sampling: xoshiro128** 1.1 (Blackman & Vigna), its state filled by
// SplitMix64, both exactly as in the authors' public-domain reference C code (tests pin the first
// outputs against it). Every sample of a batch has its own stream, so sample i of seed s is the
// same image whatever the batch size:
//
//   sample i of seed s: SplitMix64 started at x = s XOR (i * 0xD1B54A32D192ED03 mod 2^64);
//   its first two 64-bit outputs, low word first, are the xoshiro state words s0..s3;
//   a uniform number in [0, 1) is next() / 2^32.

import { MAX_GENERATE_SEED } from '../../../shared/limits';
import { UserError } from '../errors';

const MASK64 = (1n << 64n) - 1n;
const STREAM_STRIDE = 0xd1b54a32d192ed03n;

/** SplitMix64 (Steele, Lea, Flood), reference constants. */
export class SplitMix64 {
  private x: bigint;
  constructor(seed: bigint) {
    this.x = seed & MASK64;
  }
  next(): bigint {
    this.x = (this.x + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }
}

/** xoshiro128** 1.1: 32-bit outputs, period 2^128 - 1. */
export class Xoshiro128ss {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(state: [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v >>> 0);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new Error('xoshiro128**: the state must not be all zero');
  }

  /** Next 32-bit output as an unsigned integer. */
  next(): number {
    const s1 = this.s1;
    const r = Math.imul(s1, 5);
    const rot = (r << 7) | (r >>> 25);
    const result = Math.imul(rot, 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  float(): number {
    return this.next() / 4294967296;
  }
}

/** The largest seed accepted (seeds are non-negative safe integers). */

export function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UserError('BAD_ARGUMENT', `seed must be an integer from 0 to ${MAX_GENERATE_SEED} (got ${seed})`);
  return seed;
}

/** The random stream of sample `sample` of seed `seed` (see the header). */
export function sampleStream(seed: number, sample: number): Xoshiro128ss {
  checkSeed(seed);
  const start = BigInt(seed) ^ ((BigInt(sample) * STREAM_STRIDE) & MASK64);
  const sm = new SplitMix64(start);
  const a = sm.next();
  const b = sm.next();
  const lo = (v: bigint) => Number(v & 0xffffffffn);
  const hi = (v: bigint) => Number(v >> 32n);
  // An all-zero state cannot come out of two SplitMix64 outputs in practice; guard anyway.
  const state: [number, number, number, number] = [lo(a), hi(a), lo(b), hi(b)];
  if (state.every((v) => v === 0)) state[0] = 1;
  return new Xoshiro128ss(state);
}
