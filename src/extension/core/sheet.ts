// Contact sheet of an inspection: every tile the panel shows, in one PNG to share or put in a report
// (the paper's scale-by-scale figures). Composed by sharp from the inspection's own PNGs, so the
// sheet holds exactly the pixels the panel showed.

import type { Inspection } from '../../shared/types';
import { loadSharp } from './native';

export interface SheetOptions {
  /** pixel repeat factor (nearest neighbour: tokens stay crisp), 1..8; default 2 for tiles under 128 px, else 1 */
  zoom?: number;
  /** white space between tiles, in model pixels */
  gap?: number;
  /**
   * Captions written into the PNG (sharp composites SVG text), so the file explains itself outside
   * the tool: a title line, a header above each column and a label left of each row. Default: on
   * (contact sheets and swap sheets always carry them; false gives the bare grid).
   */
  captions?: boolean;
}

/** Text written into a sheet; each row label is one or two lines (keep lines under ~22 characters: the band is 170 px). */
export interface SheetCaptions {
  title: string;
  columns: string[];
  rows: string[][];
}

/** Caption bands, in final pixels: one text line is LINE_PX high, row labels take LEFT_PX. */
const LINE_PX = 22;
const LEFT_PX = 170;
const FONT = "font-family='DejaVu Sans, Verdana, sans-serif' font-size='13' fill='#000000'";

/** Where the grid sits in a captioned sheet: below the title and column headers, right of the row labels. */
export function captionBands(c: SheetCaptions | undefined): { left: number; top: number } {
  return c ? { left: LEFT_PX, top: 2 * LINE_PX } : { left: 0, top: 0 };
}

/** The swap sheet's captions: row 0 each image's own tokens, row 1 each column's detail tokens with the other's semantic ones. */
export function swapSheetCaptions(a: string, b: string, model: string): SheetCaptions {
  return { title: `A = ${a}, B = ${b} · model ${model}`, columns: ['A', 'B'], rows: [['own tokens,', 'decoded'], ['detail of this column', "+ the other's semantic"]] };
}

/** The contact sheet's captions (sheetLayout's rows and columns; without ablations, two rows). */
export function contactSheetCaptions(scales: number, title: string, ablations = true): SheetCaptions {
  return {
    title,
    columns: ['input', ...Array.from({ length: scales }, (_, k) => `scale ${k + 1}`)],
    rows: ablations
      ? [['input; then scales', `1 to k decoded`], ['semantic branch only;', 'then scale k alone'], ['detail branch only']]
      : [['input; then scales', `1 to k decoded`], ['', 'then scale k alone']],
  };
}

const xml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

/**
 * Where each tile goes: [row, column] in a grid of N+1 columns (N = scales) and 3 rows, or 2 rows
 * without branch ablations (a one-branch model).
 */
export function sheetLayout(scales: number, ablations = true): { name: string; row: number; col: number }[] {
  const cells = [{ name: 'input', row: 0, col: 0 }];
  for (let k = 0; k < scales; k++) {
    cells.push({ name: `progressive-${k + 1}`, row: 0, col: k + 1 });
    cells.push({ name: `contribution-${k + 1}`, row: 1, col: k + 1 });
  }
  // under the input: the two ablations (the full reconstruction, both branches, is row 0's last tile)
  if (ablations) cells.push({ name: 'ablation-semantic', row: 1, col: 0 }, { name: 'ablation-detail', row: 2, col: 0 });
  return cells;
}

/**
 * Row 0: the model's input, then the reconstruction from scales 1..k for every k. Row 1: semantic
 * branch only, then each scale's own contribution. Row 2: detail branch only. (One branch: no
 * ablations, and row 1's first cell stays empty.)
 */
export async function contactSheet(ins: Pick<Inspection, 'input' | 'progressive' | 'contribution' | 'ablation' | 'image'> & { model: { name: string } }, options: SheetOptions = {}): Promise<Buffer> {
  const tiles: Record<string, string> = { input: ins.input.pngBase64 };
  if (ins.ablation) {
    tiles['ablation-semantic'] = ins.ablation.semantic.pngBase64;
    tiles['ablation-detail'] = ins.ablation.detail.pngBase64;
  }
  ins.progressive.forEach((p, k) => (tiles[`progressive-${k + 1}`] = p.pngBase64));
  ins.contribution.forEach((p, k) => (tiles[`contribution-${k + 1}`] = p.pngBase64));
  const ablations = ins.ablation !== undefined;
  const cells = sheetLayout(ins.progressive.length, ablations).map((c) => ({ pngBase64: tiles[c.name], row: c.row, col: c.col }));
  const name = ins.image.split(/[\\/]/).pop() ?? ins.image;
  const captions = options.captions === false ? undefined : contactSheetCaptions(ins.progressive.length, `${name} · model ${ins.model.name} · ${ins.progressive.length} scales`, ablations);
  return gridSheet(cells, ins.input.width, ins.input.height, options, captions);
}

/**
 * Square tiles of one size (PNG, base64) at [row, col] of a grid on white, gaps between, enlarged by
 * zoom; with `captions` (unless options.captions is false) the text is drawn at the final size
 * around the grid (captionBands).
 */
export async function gridSheet(
  cells: { pngBase64: string; row: number; col: number }[],
  tileWidth: number,
  tileHeight: number,
  options: SheetOptions = {},
  captions?: SheetCaptions,
): Promise<Buffer> {
  const zoom = options.zoom ?? (tileWidth < 128 ? 2 : 1); // a 256-px model's sheet is already ~2800 px wide
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
  const grid = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .removeAlpha()
    .resize(width * zoom, height * zoom, { kernel: 'nearest' });
  const labels = options.captions === false ? undefined : captions;
  if (!labels) return grid.png().toBuffer();
  const { left, top } = captionBands(labels);
  // wide enough for the title too (DejaVu Sans Bold at 13 px: under 9 px a character)
  const W = Math.max(left + width * zoom, 12 + 9 * labels.title.length);
  const H = top + height * zoom;
  const centre = (i: number) => (gap + i * step + S / 2) * zoom;
  const texts = [
    `<text x='6' y='${LINE_PX - 6}' ${FONT} font-weight='bold'>${xml(labels.title)}</text>`,
    ...labels.columns.map((t, c) => `<text x='${left + centre(c)}' y='${2 * LINE_PX - 6}' text-anchor='middle' ${FONT}>${xml(t)}</text>`),
    ...labels.rows.flatMap((lines, r) =>
      lines.map((t, i) => `<text x='6' y='${top + centre(r) + (i - (lines.length - 1) / 2) * 16 + 5}' ${FONT}>${xml(t)}</text>`),
    ),
  ];
  const svg = `<svg xmlns='http://www.w3.org/2000/svg' width='${W}' height='${H}'>${texts.join('')}</svg>`;
  const { data: out, info: o } = await sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } })
    .composite([
      { input: await grid.png().toBuffer(), left, top },
      { input: Buffer.from(svg), left: 0, top: 0 },
    ])
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(out, { raw: { width: o.width, height: o.height, channels: o.channels } }).removeAlpha().png().toBuffer();
}
