// Statistics against values computed by hand on tiny inputs.

import * as assert from 'node:assert/strict';
import { PSNR_CAP, branchUsage, perplexity, psnr, ssim } from '../../../src/extension/core';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

describe('PSNR', () => {
  it('is 10 log10(255^2 / MSE)', () => {
    // 4 values, one off by 2: MSE = 4/4 = 1 -> 20 log10(255) = 48.1308...
    close(psnr(Uint8Array.from([0, 10, 20, 30]), Uint8Array.from([0, 10, 22, 30])), 48.13080360867910, 1e-9);
    // all off by 255: MSE = 255^2 -> 0 dB
    close(psnr(Uint8Array.from([0, 0]), Uint8Array.from([255, 255])), 0);
  });
  it('caps identical images (JSON has no Infinity)', () => {
    assert.equal(psnr(Uint8Array.from([1, 2, 3]), Uint8Array.from([1, 2, 3])), PSNR_CAP);
  });
});

describe('SSIM', () => {
  const C1 = (0.01 * 255) ** 2;
  it('is 1 for identical images', () => {
    const a = Uint8Array.from({ length: 12 * 12 * 3 }, (_, i) => (i * 7) % 256);
    close(ssim(a, a, 12, 12), 1, 1e-12);
  });
  it('reduces to (2ab + C1) / (a^2 + b^2 + C1) for two flat images', () => {
    const a = new Uint8Array(16 * 16 * 3).fill(100);
    const b = new Uint8Array(16 * 16 * 3).fill(120);
    close(ssim(a, b, 16, 16), (2 * 100 * 120 + C1) / (100 ** 2 + 120 ** 2 + C1), 1e-9);
  });
  it('matches a direct computation on a 3x3 single-channel image (window = image)', () => {
    // Window shrinks to 3x3 (the image); Gaussian sigma 1.5 weights w = g g^T.
    const x = [10, 20, 30, 40, 50, 60, 70, 80, 90];
    const y = [12, 18, 33, 41, 47, 66, 69, 85, 88];
    const g1 = [Math.exp(-1 / 4.5), 1, Math.exp(-1 / 4.5)];
    const s1 = g1.reduce((a, v) => a + v, 0);
    const w = [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => (g1[r] * g1[c]) / (s1 * s1)));
    const E = (f: (i: number) => number) => w.reduce((a, wi, i) => a + wi * f(i), 0);
    const mx = E((i) => x[i]);
    const my = E((i) => y[i]);
    const vx = E((i) => x[i] ** 2) - mx ** 2;
    const vy = E((i) => y[i] ** 2) - my ** 2;
    const cxy = E((i) => x[i] * y[i]) - mx * my;
    const C2 = (0.03 * 255) ** 2;
    const expected = ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx ** 2 + my ** 2 + C1) * (vx + vy + C2));
    close(ssim(Uint8Array.from(x), Uint8Array.from(y), 3, 3, 1), expected, 1e-12);
  });
  it('drops for structural change and is symmetric', () => {
    const a = Uint8Array.from({ length: 16 * 16 }, (_, i) => ((i % 16) < 8 ? 50 : 200));
    const b = Uint8Array.from({ length: 16 * 16 }, (_, i) => (Math.floor(i / 16) < 8 ? 50 : 200));
    const s = ssim(a, b, 16, 16, 1);
    assert.ok(s < 0.5, String(s));
    close(s, ssim(b, a, 16, 16, 1), 1e-12);
  });
});

describe('code statistics', () => {
  it('perplexity is exp(entropy)', () => {
    close(perplexity([5, 5, 5, 5, 0, 0]), 4); // uniform over 4 used codes
    close(perplexity([10, 0, 0]), 1);
    // p = (1/2, 1/4, 1/4): H = 1.5 ln 2 -> exp(H) = 2^1.5
    close(perplexity([2, 1, 1]), 2 ** 1.5, 1e-12);
    assert.equal(perplexity([0, 0]), 0);
  });

  it('counts per branch and per scale, utilisation and perplexity', () => {
    // scales [1, 2]: 5 tokens; codebook of 6
    const u = branchUsage(1, [[3, 3, 3, 0, 5]], [1, 2], 6);
    assert.equal(u.branch, 1);
    assert.deepEqual(u.histogram, [1, 0, 0, 3, 0, 1]);
    assert.deepEqual(u.perScale, [[[3, 1]], [[0, 1], [3, 2], [5, 1]]]);
    assert.equal(u.used, 3);
    close(u.utilisation, 0.5);
    // p = (1/5, 3/5, 1/5)
    close(u.perplexity, Math.exp(-(2 * 0.2 * Math.log(0.2) + 0.6 * Math.log(0.6))), 1e-12);
  });

  it('aggregates several images', () => {
    const u = branchUsage(0, [[1, 2, 2, 2, 2], [1, 0, 0, 0, 0]], [1, 2], 4);
    assert.deepEqual(u.histogram, [4, 2, 4, 0]);
    assert.deepEqual(u.perScale[0], [[1, 2]]);
    assert.equal(u.used, 3);
  });
});
