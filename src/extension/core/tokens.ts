// Token layout helpers (docs/model-format.md): per branch, scales coarse to fine, row-major inside
// a scale. Scale masks select what the decoder adds up.

import { scaleOffsets } from '../../shared/tokenLayout';
import type { TokenMap } from './types';

export { scaleOffsets };

/** One map per branch and scale, branch-major. indices[branch] has length L. */
export function tokenMaps(indices: ArrayLike<number>[], scales: number[]): TokenMap[] {
  const offsets = scaleOffsets(scales);
  const maps: TokenMap[] = [];
  indices.forEach((idx, branch) => {
    scales.forEach((side, scale) => {
      const start = offsets[scale];
      maps.push({ branch, scale, side, indices: Array.from({ length: side * side }, (_, i) => idx[start + i]) });
    });
  });
  return maps;
}

/** Mask rows [P][N]: branch p keeps scale k when keep(p, k). */
export function scaleMask(branches: number, scales: number, keep: (p: number, k: number) => boolean): number[][] {
  return Array.from({ length: branches }, (_, p) => Array.from({ length: scales }, (_, k) => (keep(p, k) ? 1 : 0)));
}

export const progressiveMask = (P: number, N: number, k: number) => scaleMask(P, N, (_p, j) => j <= k);
export const contributionMask = (P: number, N: number, k: number) => scaleMask(P, N, (_p, j) => j === k);
export const branchOnlyMask = (P: number, N: number, branch: number) => scaleMask(P, N, (p) => p === branch);
