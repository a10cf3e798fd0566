// Token maps on canvas: one cell per token, coloured by its code (PCA colours of the codebook,
// normalised for a cosine lookup: similar codes, similar colours), drawn crisp (pixelated) at any size.

import type { InspectionHead } from '../../shared/types';
import { cssVar } from '../dom';
import { tokenMap } from './logic';

export interface Highlight {
  branch: number;
  code: number;
}

export interface DrawOptions {
  highlight: Highlight | null;
  hover: { row: number; col: number } | null;
  /** target size of the canvas backing store in pixels */
  sizePx: number;
}

export function drawTokenMap(canvas: HTMLCanvasElement, ins: Pick<InspectionHead, 'tokenMaps' | 'codeColours'>, branch: number, scale: number, o: DrawOptions): void {
  const map = tokenMap(ins, branch, scale);
  const ctx = canvas.getContext('2d');
  if (!map || !ctx) return;
  const side = map.side;
  const cell = Math.max(2, Math.floor(o.sizePx / side));
  const size = cell * side;
  if (canvas.width !== size) canvas.width = size;
  if (canvas.height !== size) canvas.height = size;
  const colours = ins.codeColours[branch] ?? [];
  const bg = cssVar('--vscode-editor-background', '#1e1e1e');
  const ring = cssVar('--vscode-focusBorder', '#007fd4');
  const gap = cell >= 8 ? 1 : 0;
  ctx.fillStyle = bg;
  ctx.fillRect(0, 0, size, size);
  const hl = o.highlight;
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const code = map.indices[r * side + c];
      const rgb = colours[code] ?? [128, 128, 128];
      let alpha = 1;
      if (hl) alpha = hl.branch === branch && hl.code === code ? 1 : hl.branch === branch ? 0.12 : 0.3;
      ctx.globalAlpha = alpha;
      ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
      ctx.fillRect(c * cell, r * cell, cell - gap, cell - gap);
    }
  }
  ctx.globalAlpha = 1;
  if (hl && hl.branch === branch) {
    ctx.strokeStyle = ring;
    ctx.lineWidth = Math.max(1, Math.floor(cell / 8));
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        if (map.indices[r * side + c] === hl.code) {
          const lw = ctx.lineWidth;
          ctx.strokeRect(c * cell + lw / 2, r * cell + lw / 2, cell - gap - lw, cell - gap - lw);
        }
      }
    }
  }
  if (o.hover) {
    ctx.strokeStyle = cssVar('--vscode-foreground', '#ccc');
    ctx.lineWidth = Math.max(1, Math.floor(cell / 6));
    const lw = ctx.lineWidth;
    ctx.strokeRect(o.hover.col * cell + lw / 2, o.hover.row * cell + lw / 2, cell - gap - lw, cell - gap - lw);
  }
  canvas.dataset.highlighted = hl && hl.branch === branch ? String(map.indices.filter((x) => x === hl.code).length) : '0';
}
