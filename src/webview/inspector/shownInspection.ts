// The inspection a panel shows, which may still be decoding: the host sends its head (tokens,
// maps, usage, input) with the full reconstruction first, then every other tile as it is decoded
// (on a large model each is a second or more). A tile not decoded yet is undefined; the views show
// a placeholder for it. A finished inspection is the same shape with every tile present.

import type { Inspection, InspectionHead, PngImage, TileUpdate } from '../../shared/types';

export type Quality = { psnr: number; ssim: number };

export interface ShownInspection extends InspectionHead {
  progressive: (PngImage | undefined)[];
  contribution: (PngImage | undefined)[];
  psnrByScale: (number | undefined)[];
  ssimByScale: (number | undefined)[];
  /** each branch alone: only for a two-branch model */
  ablation?: { semantic?: PngImage; detail?: PngImage };
  ablationMetrics?: { semantic?: Quality; detail?: Quality };
  /** tiles decoded so far, of `total` */
  done: number;
  total: number;
}

/** Whether the model has the detail and semantic branches that ablation and swapping need. */
export function hasTwoBranches(head: Pick<InspectionHead, 'model'>): boolean {
  return head.model.branches.length >= 2;
}

/** An inspection whose tiles are about to arrive. */
export function startShown(head: InspectionHead, total: number): ShownInspection {
  const N = head.model.scales.length;
  const empty = <T>() => new Array<T | undefined>(N).fill(undefined);
  return {
    ...head,
    progressive: empty(),
    contribution: empty(),
    psnrByScale: empty(),
    ssimByScale: empty(),
    ...(hasTwoBranches(head) ? { ablation: {}, ablationMetrics: {} } : {}),
    done: 0,
    total,
  };
}

/** A finished inspection, as shown. */
export function finishedShown(ins: Inspection): ShownInspection {
  const tiles = ins.progressive.length + ins.contribution.length - 1 + (ins.ablation ? 2 : 0);
  return { ...ins, done: tiles, total: tiles };
}

/** Puts a decoded tile in place (progressive 0 is contribution 0 too). */
export function addTile(s: ShownInspection, t: TileUpdate, done: number): void {
  s.done = Math.max(s.done, done);
  if (t.kind === 'progressive') {
    s.progressive[t.scale] = t.png;
    s.psnrByScale[t.scale] = t.quality?.psnr;
    s.ssimByScale[t.scale] = t.quality?.ssim;
    if (t.scale === 0) s.contribution[0] = t.png;
  } else if (t.kind === 'contribution') {
    s.contribution[t.scale] = t.png;
  } else if (s.ablation && s.ablationMetrics) {
    const branch = t.kind === 'ablation-semantic' ? 'semantic' : 'detail';
    s.ablation[branch] = t.png;
    s.ablationMetrics[branch] = t.quality;
  }
}

/** Whether every tile has arrived. */
export function isComplete(s: ShownInspection): boolean {
  return s.done >= s.total;
}
