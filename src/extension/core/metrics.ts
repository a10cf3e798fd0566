// Reconstruction quality and code statistics. Images are compared as the 8-bit sRGB pixels the
// user sees (the model output rounded to bytes vs the resized input), so the numbers match what
// any image tool would measure on the exported PNGs.

import type { BranchUsage } from '../../shared/types';

/** JSON has no Infinity: identical images report this instead. */
export const PSNR_CAP = 100;

export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error('psnr: size mismatch');
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    se += d * d;
  }
  if (se === 0) return PSNR_CAP;
  return Math.min(PSNR_CAP, 10 * Math.log10((255 * 255 * a.length) / se));
}

const K1 = 0.01;
const K2 = 0.03;
const L = 255;

function gaussian(size: number, sigma: number): Float64Array {
  const g = new Float64Array(size);
  const c = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) sum += g[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < size; i++) g[i] /= sum;
  return g;
}

/**
 * SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, over the 'valid'
 * region (no padding), per RGB channel, averaged. Images smaller than 11 px use a window as large
 * as the image. a, b: HWC bytes with `channels` channels.
 */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number, channels = 3): number {
  return ssimAgainst(ssimReference(a, width, height, channels), b);
}

/**
 * The reference image's half of SSIM: its windowed mean and mean square per channel. An
 * inspection compares one input with N + 2 reconstructions (every scale, both branch ablations),
 * so this is computed once per image
 * (ssimAgainst then filters 3 quantities instead of 5). Results are bit-identical to computing
 * everything per pair: every sum adds the same terms in the same order.
 */
export interface SsimReference {
  a: Uint8Array;
  width: number;
  height: number;
  channels: number;
  g: Float64Array;
  /** filtered x and x^2, [channel][oh][ow] */
  mx: Float64Array;
  mxx: Float64Array;
}

export function ssimReference(a: Uint8Array, width: number, height: number, channels = 3): SsimReference {
  if (a.length !== width * height * channels) throw new Error('ssim: size mismatch');
  const win = Math.min(11, width, height);
  const g = gaussian(win, 1.5);
  const half = win >> 1;
  const odd = win & 1;
  const ow = width - win + 1;
  const oh = height - win + 1;
  const tmp = new Float64Array(2 * ow * height);
  const mx = new Float64Array(channels * ow * oh);
  const mxx = new Float64Array(channels * ow * oh);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < ow; x++) {
        let sx = 0, sxx = 0;
        const i0 = (y * width + x) * channels + c;
        // The window is symmetric (g[k] = g[win-1-k]), so each pair of mirrored taps shares one
        // multiply by its weight (here and in ssimAgainst): ~25 % less time than one multiply per
        // tap, within 1e-16 of it.
        for (let k = 0; k < half; k++) {
          const p1 = a[i0 + k * channels];
          const p2 = a[i0 + (win - 1 - k) * channels];
          const w = g[k];
          sx += w * (p1 + p2);
          sxx += w * (p1 * p1 + p2 * p2);
        }
        if (odd) {
          const p = a[i0 + half * channels];
          sx += g[half] * p;
          sxx += g[half] * p * p;
        }
        const o = 2 * (y * ow + x);
        tmp[o] = sx;
        tmp[o + 1] = sxx;
      }
    }
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let m = 0, mm = 0;
        const o0 = 2 * (y * ow + x);
        for (let k = 0; k < half; k++) {
          const o1 = o0 + k * 2 * ow;
          const o2 = o0 + (win - 1 - k) * 2 * ow;
          const w = g[k];
          m += w * (tmp[o1] + tmp[o2]);
          mm += w * (tmp[o1 + 1] + tmp[o2 + 1]);
        }
        if (odd) {
          const o = o0 + half * 2 * ow;
          m += g[half] * tmp[o];
          mm += g[half] * tmp[o + 1];
        }
        mx[(c * oh + y) * ow + x] = m;
        mxx[(c * oh + y) * ow + x] = mm;
      }
    }
  }
  return { a, width, height, channels, g, mx, mxx };
}

export function ssimAgainst(ref: SsimReference, b: Uint8Array): number {
  const { a, width, height, channels, g, mx: refMx, mxx: refMxx } = ref;
  if (b.length !== a.length) throw new Error('ssim: size mismatch');
  const win = g.length;
  const half = win >> 1;
  const odd = win & 1;
  const ow = width - win + 1;
  const oh = height - win + 1;
  const C1 = (K1 * L) ** 2;
  const C2 = (K2 * L) ** 2;
  const tmp = new Float64Array(3 * ow * height);
  let total = 0;
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < ow; x++) {
        let sy = 0, syy = 0, sxy = 0;
        const i0 = (y * width + x) * channels + c;
        for (let k = 0; k < half; k++) {
          const i = i0 + k * channels;
          const j = i0 + (win - 1 - k) * channels;
          const q1 = b[i];
          const q2 = b[j];
          const w = g[k];
          sy += w * (q1 + q2);
          syy += w * (q1 * q1 + q2 * q2);
          sxy += w * (a[i] * q1 + a[j] * q2);
        }
        if (odd) {
          const i = i0 + half * channels;
          const q = b[i];
          const w = g[half];
          sy += w * q;
          syy += w * q * q;
          sxy += w * a[i] * q;
        }
        const o = 3 * (y * ow + x);
        tmp[o] = sy;
        tmp[o + 1] = syy;
        tmp[o + 2] = sxy;
      }
    }
    let sum = 0;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let my = 0, myy = 0, mxy = 0;
        const o0 = 3 * (y * ow + x);
        for (let k = 0; k < half; k++) {
          const o1 = o0 + k * 3 * ow;
          const o2 = o0 + (win - 1 - k) * 3 * ow;
          const w = g[k];
          my += w * (tmp[o1] + tmp[o2]);
          myy += w * (tmp[o1 + 1] + tmp[o2 + 1]);
          mxy += w * (tmp[o1 + 2] + tmp[o2 + 2]);
        }
        if (odd) {
          const o = o0 + half * 3 * ow;
          const w = g[half];
          my += w * tmp[o];
          myy += w * tmp[o + 1];
          mxy += w * tmp[o + 2];
        }
        const r = (c * oh + y) * ow + x;
        const mx = refMx[r];
        const vx = refMxx[r] - mx * mx;
        const vy = myy - my * my;
        const cxy = mxy - mx * my;
        sum += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
      }
    }
    total += sum / (ow * oh);
  }
  return total / channels;
}

/** exp(entropy) in nats of a count histogram: the effective number of codes in use. */
export function perplexity(counts: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i];
  if (n === 0) return 0;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) {
      const p = counts[i] / n;
      h -= p * Math.log(p);
    }
  }
  return Math.exp(h);
}

/** Code usage of one branch: indices is the branch's L tokens (or several images' worth, concatenated per image). */
export function branchUsage(branch: number, indicesPerImage: ArrayLike<number>[], scales: number[], codebookSize: number): BranchUsage {
  const histogram = new Array<number>(codebookSize).fill(0);
  const perScaleMaps = scales.map(() => new Map<number, number>());
  for (const idx of indicesPerImage) {
    let t = 0;
    scales.forEach((pn, k) => {
      const m = perScaleMaps[k];
      for (let j = 0; j < pn * pn; j++, t++) {
        const code = idx[t];
        histogram[code]++;
        m.set(code, (m.get(code) ?? 0) + 1);
      }
    });
  }
  const used = histogram.reduce((a, c) => a + (c > 0 ? 1 : 0), 0);
  return {
    branch,
    histogram,
    perScale: perScaleMaps.map((m) => [...m.entries()].sort((x, y) => x[0] - y[0])),
    used,
    utilisation: used / codebookSize,
    perplexity: perplexity(histogram),
  };
}
