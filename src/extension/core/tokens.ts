// Token layout helpers (docs/model-format.md): per branch, scales coarse to fine, row-major inside
// a scale. Scale masks select what the decoder adds up.

import { scaleOffsets } from '../../shared/tokenLayout';
import { UserError } from './errors';
import type { TokenMap } from '../../shared/types';

export { scaleOffsets };

/**
 * Token indices from outside the encoder (a token file, a generated sample, a reference image's
 * tokens) checked against a package's layout before they reach a graph: P rows of L integers, each
 * inside its branch's codebook. `what` names them in the message.
 */
export function checkIndices(
  layout: { tokensPerBranch: number; branches: readonly { codebookSize: number; role?: string }[] },
  indices: ArrayLike<ArrayLike<number>>,
  what = 'tokens',
): void {
  const { tokensPerBranch: L, branches } = layout;
  const P = branches.length;
  const rows = Array.from(indices);
  if (rows.length !== P || rows.some((row) => row?.length !== L)) {
    throw new UserError('BAD_ARGUMENT', `${what} must be ${P} rows of ${L} indices (one row per branch), got ${rows.map((r) => r?.length ?? 0).join(' + ') || 'none'}`);
  }
  rows.forEach((row, p) => {
    const V = branches[p].codebookSize;
    for (let t = 0; t < L; t++) {
      const v = row[t];
      if (!Number.isInteger(v) || v < 0 || v >= V) {
        // positions counted from 1, as everywhere in text (docs/inspector.md, "Numbering"); codes are codebook entries 0..V-1
        const branch = branches[p].role ? `the ${branches[p].role} branch` : `branch ${p + 1}`;
        throw new UserError('BAD_ARGUMENT', `${what}: token ${t + 1} of ${L} in ${branch} is ${v}, outside the codebook (codes 0..${V - 1})`);
      }
    }
  });
}

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

/**
 * Tokens that take the semantic branch (index `semanticBranch`, the package's `semanticBranch`)
 * from one image and every other branch from another (both [branch][token], encoded by the same
 * model): what each branch carries shows in their decode.
 */
export function mixBranches(semanticBranch: number, detailFrom: readonly (readonly number[])[], semanticFrom: readonly (readonly number[])[]): number[][] {
  return detailFrom.map((row, p) => [...(p === semanticBranch ? semanticFrom[p] : row)]);
}
