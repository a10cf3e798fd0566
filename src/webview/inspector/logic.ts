// Pure view logic of the inspector (no DOM): scale stepping, token lookup, highlight sets,
// formatting. Unit-tested in test/unit/webview.

import type { BranchRole, InspectionHead, TokenMap } from '../../shared/types';
import { scaleOffsets } from '../../shared/tokenLayout';

export type Branch = 0 | 1;
export const BRANCH_NAMES = ['detail', 'semantic'] as const;

/** A branch's name in captions: its role, or plain "Tokens" for a one-branch model's only branch. */
export function branchLabel(role: BranchRole | string): string {
  return role === 'semantic' ? 'Semantic branch' : role === 'detail' ? 'Detail branch' : 'Tokens';
}

export function clampScale(k: number, n: number): number {
  if (!Number.isFinite(k)) return n - 1;
  return Math.max(0, Math.min(n - 1, Math.round(k)));
}

/** New scale index for a navigation key, or null when the key is not a stepper key. */
export function scaleForKey(key: string, current: number, n: number): number | null {
  switch (key) {
    case 'ArrowLeft':
    case 'ArrowDown':
      return clampScale(current - 1, n);
    case 'ArrowRight':
    case 'ArrowUp':
      return clampScale(current + 1, n);
    case 'Home':
      return 0;
    case 'End':
      return n - 1;
    default:
      return null;
  }
}

export { scaleOffsets };

export function tokenMap(ins: Pick<InspectionHead, 'tokenMaps'>, branch: number, scale: number): TokenMap | undefined {
  return ins.tokenMaps.find((m) => m.branch === branch && m.scale === scale);
}

export interface TokenInfo {
  branch: number;
  branchName: string;
  scale: number;
  side: number;
  row: number;
  col: number;
  /** index within the branch's flat token sequence */
  token: number;
  code: number;
}

export function tokenAt(ins: Pick<InspectionHead, 'tokenMaps' | 'model'>, branch: number, scale: number, row: number, col: number): TokenInfo | null {
  const map = tokenMap(ins, branch, scale);
  if (!map || row < 0 || col < 0 || row >= map.side || col >= map.side) return null;
  const offsets = scaleOffsets(ins.model.scales);
  const pos = row * map.side + col;
  return {
    branch,
    branchName: ins.model.branches[branch]?.role ?? BRANCH_NAMES[branch] ?? `branch ${branch}`,
    scale,
    side: map.side,
    row,
    col,
    token: offsets[scale] + pos,
    code: map.indices[pos],
  };
}

/** Cell under a point of a square map drawn at `sizePx` CSS pixels. */
export function cellAt(x: number, y: number, sizePx: number, side: number): { row: number; col: number } | null {
  if (sizePx <= 0 || x < 0 || y < 0 || x >= sizePx || y >= sizePx) return null;
  const col = Math.floor((x / sizePx) * side);
  const row = Math.floor((y / sizePx) * side);
  return { row: Math.min(side - 1, row), col: Math.min(side - 1, col) };
}

/**
 * Where a token's cell sits on the image, as percentages of the image side: the latent grid is
 * spatially aligned with the image, so cell (row, col) of a side x side map covers that part.
 * (The decoder attends globally: this is where the token sits, not all that it affects.)
 */
export function tokenRegion(row: number, col: number, side: number): { left: number; top: number; size: number } {
  const size = 100 / side;
  return { left: col * size, top: row * size, size };
}

/** The cell an arrow key moves a side x side map's cursor to (clamped at the edges); null for other keys. */
export function moveCell(key: string, row: number, col: number, side: number): { row: number; col: number } | null {
  const clamp = (v: number) => Math.max(0, Math.min(side - 1, v));
  switch (key) {
    case 'ArrowLeft':
      return { row: clamp(row), col: clamp(col - 1) };
    case 'ArrowRight':
      return { row: clamp(row), col: clamp(col + 1) };
    case 'ArrowUp':
      return { row: clamp(row - 1), col: clamp(col) };
    case 'ArrowDown':
      return { row: clamp(row + 1), col: clamp(col) };
    default:
      return null;
  }
}

/** How many positions use (branch, code), per scale. */
export function codeOccurrences(ins: Pick<InspectionHead, 'tokenMaps' | 'model'>, branch: number, code: number): number[] {
  return ins.model.scales.map((_, k) => tokenMap(ins, branch, k)?.indices.filter((c) => c === code).length ?? 0);
}

/**
 * Positions in text count from 1 (scale, row, column, token), as the scale label's "tokens 25–40 of
 * 286" does; codes are codebook entries, 0..V-1 (docs/inspector.md, "Numbering").
 */
export function describeToken(t: TokenInfo, nScales: number, tokensPerBranch: number): string {
  return `${t.branchName} · scale ${t.scale + 1}/${nScales} (${t.side}×${t.side}) · row ${t.row + 1}, col ${t.col + 1} · token ${t.token + 1} of ${tokensPerBranch} · code ${t.code}`;
}

export function formatDb(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return v === Infinity ? '∞ dB' : '–';
  return `${v.toFixed(2)} dB`;
}

export function formatSsim(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3);
}

export function formatPct(v: number): string {
  return `${(100 * v).toFixed(1)} %`;
}

export function deadCodes(histogram: readonly number[]): number[] {
  const out: number[] = [];
  histogram.forEach((c, i) => {
    if (c === 0) out.push(i);
  });
  return out;
}

export function topCodes(histogram: readonly number[], n: number): { code: number; count: number }[] {
  return histogram
    .map((count, code) => ({ code, count }))
    .filter((e) => e.count > 0)
    .sort((a, b) => b.count - a.count || a.code - b.code)
    .slice(0, n);
}

/** Bins a long histogram into at most `bins` bars (sum per bin). */
export function binHistogram(histogram: readonly number[], bins: number): number[] {
  if (histogram.length <= bins) return [...histogram];
  const out = new Array<number>(bins).fill(0);
  histogram.forEach((c, i) => {
    out[Math.floor((i * bins) / histogram.length)] += c;
  });
  return out;
}

export interface CurvePoint {
  x: number;
  y: number;
}

/** Points of the PSNR-vs-scale curve in a w x h box with padding; non-finite values are clamped. */
export function curvePoints(values: readonly number[], w: number, h: number, pad: number): { points: CurvePoint[]; min: number; max: number } {
  const finite = values.filter((v) => Number.isFinite(v));
  let min = finite.length ? Math.min(...finite) : 0;
  let max = finite.length ? Math.max(...finite) : 1;
  if (max - min < 1e-6) {
    min -= 1;
    max += 1;
  }
  const n = values.length;
  const points = values.map((v, i) => {
    const vv = Number.isFinite(v) ? v : v > 0 ? max : min;
    return {
      x: pad + (n <= 1 ? 0 : (i * (w - 2 * pad)) / (n - 1)),
      y: pad + (1 - (vv - min) / (max - min)) * (h - 2 * pad),
    };
  });
  return { points, min, max };
}

/**
 * The order branches are shown in, everywhere (token maps, ablation, codebook usage): the semantic
 * branch first, then the others in package order.
 */
export function branchOrder(roles: readonly string[]): number[] {
  const idx = roles.map((_, i) => i);
  return [...idx.filter((i) => roles[i] === 'semantic'), ...idx.filter((i) => roles[i] !== 'semantic')];
}
