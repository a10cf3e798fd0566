// Code colours for token maps: codes are projected on their three principal components, which become
// R, G and B, so codes the lookup treats as close get close colours. With a cosine lookup (ImageFolder)
// codes are l2-normalised first: codes pointing the same way get the same colour, whatever their
// length. With a Euclidean lookup (VAR) length matters to the lookup, so it matters to the colour too.

import type { CodeLookup } from '../../shared/types';

export type Rgb = [number, number, number];

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (D is small: ~32). */
export function symmetricEigen(a: Float64Array, n: number): { values: number[]; vectors: Float64Array[] } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p];
          const akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k];
          const aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => m[y * n + y] - m[x * n + x]);
  return {
    values: order.map((i) => m[i * n + i]),
    vectors: order.map((i) => Float64Array.from({ length: n }, (_, k) => v[k * n + i])),
  };
}

/** codebook: V*D floats (row per code). Returns one RGB colour per code. */
export function codeColours(codebook: Float32Array, V: number, D: number, lookup: CodeLookup = 'cosine'): Rgb[] {
  const x = new Float64Array(V * D);
  for (let i = 0; i < V; i++) {
    let norm = 0;
    for (let d = 0; d < D; d++) norm += codebook[i * D + d] ** 2;
    const inv = lookup === 'cosine' ? 1 / Math.max(Math.sqrt(norm), 1e-12) : 1;
    for (let d = 0; d < D; d++) x[i * D + d] = codebook[i * D + d] * inv;
  }
  const mean = new Float64Array(D);
  for (let i = 0; i < V; i++) for (let d = 0; d < D; d++) mean[d] += x[i * D + d] / V;
  for (let i = 0; i < V; i++) for (let d = 0; d < D; d++) x[i * D + d] -= mean[d];
  const cov = new Float64Array(D * D);
  for (let i = 0; i < V; i++) {
    for (let a = 0; a < D; a++) {
      const xa = x[i * D + a];
      if (xa === 0) continue;
      for (let b = a; b < D; b++) cov[a * D + b] += xa * x[i * D + b];
    }
  }
  for (let a = 0; a < D; a++) for (let b = a; b < D; b++) cov[b * D + a] = cov[a * D + b] /= Math.max(1, V - 1);
  const { values, vectors } = symmetricEigen(cov, D);
  const comps: Float64Array[] = [];
  for (let c = 0; c < 3; c++) {
    const vec = vectors[c] ?? new Float64Array(D);
    // Eigenvector signs are arbitrary; fix them so colours do not flip between runs/platforms.
    let big = 0;
    for (let d = 0; d < D; d++) if (Math.abs(vec[d]) > Math.abs(big)) big = vec[d];
    if (big < 0) for (let d = 0; d < D; d++) vec[d] = -vec[d];
    comps.push(vec);
  }
  // +-2 standard deviations of each component span 0..255 (vivid, few clipped); mid-grey where flat.
  const spread = comps.map((_, c) => 2 * Math.sqrt(Math.max(values[c] ?? 0, 0)));
  const out: Rgb[] = [];
  for (let i = 0; i < V; i++) {
    const rgb = [0, 0, 0] as Rgb;
    for (let c = 0; c < 3; c++) {
      let p = 0;
      for (let d = 0; d < D; d++) p += x[i * D + d] * comps[c][d];
      const u = spread[c] > 1e-9 ? p / spread[c] : 0;
      rgb[c] = Math.round(((Math.max(-1, Math.min(1, u)) + 1) / 2) * 255);
    }
    out.push(rgb);
  }
  return out;
}
