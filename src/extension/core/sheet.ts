// Contact sheet of an inspection: every tile the panel shows, in one PNG to share or put in a report
// (the paper's scale-by-scale figures). Composed by sharp from the inspection's own PNGs, so the
// sheet holds exactly the pixels the panel showed.

import type { Inspection } from '../../shared/types';
import { loadSharp } from './native';

export interface SheetOptions {
  /** pixel repeat factor (nearest neighbour: tokens stay crisp), 1..8 */
  zoom?: number;
  /** white space between tiles, in model pixels */
  gap?: number;
}

/** Where each tile goes: [row, column] in a grid of N+1 columns (N = scales) and 3 rows. */
export function sheetLayout(scales: number): { name: string; row: number; col: number }[] {
  const cells = [{ name: 'input', row: 0, col: 0 }];
  for (let k = 0; k < scales; k++) {
    cells.push({ name: `progressive-${k + 1}`, row: 0, col: k + 1 });
    cells.push({ name: `contribution-${k + 1}`, row: 1, col: k + 1 });
  }
  // under the input: the two ablations (the full reconstruction, both branches, is row 0's last tile)
  cells.push({ name: 'ablation-semantic', row: 1, col: 0 }, { name: 'ablation-detail', row: 2, col: 0 });
  return cells;
}

/**
 * Row 0: the model's input, then the reconstruction from scales 1..k for every k. Row 1: semantic
 * branch only, then each scale's own contribution. Row 2: detail branch only.
 */
export async function contactSheet(ins: Pick<Inspection, 'input' | 'progressive' | 'contribution' | 'ablation'>, options: SheetOptions = {}): Promise<Buffer> {
  const tiles: Record<string, string> = {
    input: ins.input.pngBase64,
    'ablation-semantic': ins.ablation.semantic.pngBase64,
    'ablation-detail': ins.ablation.detail.pngBase64,
  };
  ins.progressive.forEach((p, k) => (tiles[`progressive-${k + 1}`] = p.pngBase64));
  ins.contribution.forEach((p, k) => (tiles[`contribution-${k + 1}`] = p.pngBase64));
  const cells = sheetLayout(ins.progressive.length).map((c) => ({ pngBase64: tiles[c.name], row: c.row, col: c.col }));
  return gridSheet(cells, ins.input.width, ins.input.height, options);
}

/** Square tiles of one size (PNG, base64) at [row, col] of a grid on white, gaps between, enlarged by zoom. */
export async function gridSheet(cells: { pngBase64: string; row: number; col: number }[], tileWidth: number, tileHeight: number, options: SheetOptions = {}): Promise<Buffer> {
  const zoom = options.zoom ?? 2;
  const gap = options.gap ?? 2;
  if (!Number.isInteger(zoom) || zoom < 1 || zoom > 8) throw new RangeError(`sheet zoom must be an integer from 1 to 8 (got ${zoom})`);
  if (!Number.isInteger(gap) || gap < 0 || gap > 64) throw new RangeError(`sheet gap must be an integer from 0 to 64 (got ${gap})`);
  const S = tileWidth;
  if (S !== tileHeight) throw new Error(`sheet: tiles must be square (got ${S}x${tileHeight})`);
  const step = S + gap;
  const width = gap + (Math.max(...cells.map((c) => c.col)) + 1) * step;
  const height = gap + (Math.max(...cells.map((c) => c.row)) + 1) * step;
  const sharp = loadSharp();
  // sharp resizes before it composites within one pipeline, so compose to raw pixels, then enlarge
  const { data, info } = await sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(cells.map((c) => ({ input: Buffer.from(c.pngBase64, 'base64'), left: gap + c.col * step, top: gap + c.row * step })))
    .raw()
    .toBuffer({ resolveWithObject: true }); // compositing may add an alpha channel: take sharp's word for it
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .removeAlpha()
    .resize(width * zoom, height * zoom, { kernel: 'nearest' })
    .png()
    .toBuffer();
}
