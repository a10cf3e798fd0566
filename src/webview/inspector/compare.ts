// The input next to the reconstruction from the selected scales and that scale's own
// contribution, with PSNR/SSIM, and the outline of a hovered token's cell on all three.

import type { ShownInspection } from './shownInspection';
import { h } from '../dom';
import { figure, setImage } from './figures';
import { formatDb, formatSsim, tokenRegion } from './logic';

export class CompareView {
  readonly element: HTMLElement;
  private readonly psnr: HTMLElement;
  private readonly ssim: HTMLElement;
  private readonly recCaption: HTMLElement;
  private readonly conCaption: HTMLElement;
  private readonly recImg: HTMLImageElement;
  private readonly conImg: HTMLImageElement;
  /** overlays on the three pictures that outline the hovered token's cell */
  private readonly regions: HTMLElement[] = [];

  constructor(private readonly ins: ShownInspection) {
    const [caption, alt] =
      ins.source === 'tokens'
        ? ['Full decode of these tokens: all scales, both branches (the reference of PSNR/SSIM)', 'full decode of the tokens, all scales']
        : [`Input as the model sees it (${ins.input.width}×${ins.input.height})`, 'input image after resize'];
    const orig = figure('original', h('span', {}, caption), alt, this.regions);
    setImage(orig.img, ins.input);
    this.psnr = h('span', { testid: 'psnr', class: 'metric' });
    this.ssim = h('span', { testid: 'ssim', class: 'metric' });
    this.recCaption = h('span', { testid: 'reconstruction-caption' });
    const rec = figure('reconstruction', h('span', {}, this.recCaption, h('br'), 'PSNR ', this.psnr, ' · SSIM ', this.ssim), 'reconstruction', this.regions);
    this.conCaption = h('span', { testid: 'contribution-caption' });
    const con = figure('contribution', this.conCaption, "this scale's own contribution", this.regions);
    this.recImg = rec.img;
    this.conImg = con.img;
    this.element = h('section', { class: 'compare', 'aria-label': 'Original and reconstruction' }, orig.fig, rec.fig, con.fig);
  }

  /** Shows scale k (0-based). */
  update(k: number): void {
    const ins = this.ins;
    const side = ins.model.scales[k];
    setImage(this.recImg, ins.progressive[k], ins.model.imageSize);
    setImage(this.conImg, ins.contribution[k], ins.model.imageSize);
    this.recCaption.textContent = `Reconstruction from scales 1–${k + 1}`;
    this.conCaption.textContent = `Scale ${k + 1} alone (${side}×${side} tokens per branch)`;
    this.psnr.textContent = formatDb(ins.psnrByScale[k]);
    this.ssim.textContent = formatSsim(ins.ssimByScale[k]);
  }

  /** Outlines a token's cell on the input, reconstruction and contribution; null hides it. */
  showTokenRegion(cell: { row: number; col: number; side: number } | null): void {
    for (const r of this.regions) {
      r.hidden = cell === null;
      if (!cell) continue;
      const { left, top, size } = tokenRegion(cell.row, cell.col, cell.side);
      Object.assign(r.style, { left: `${left}%`, top: `${top}%`, width: `${size}%`, height: `${size}%` });
      Object.assign(r.dataset, { row: String(cell.row + 1), col: String(cell.col + 1), side: String(cell.side) });
    }
  }
}
