// Branch ablation: the decode with only the semantic tokens, only the detail tokens, and both (all
// scales), with their PSNR/SSIM. Picking one marks it (kept in the panel's state).

import type { BranchSelection, Inspection, PngImage } from '../../shared/types';
import { h } from '../dom';
import { figure, setImage } from './figures';
import { formatDb, formatSsim } from './logic';

export class AblationView {
  readonly element: HTMLElement;
  private readonly figures = new Map<BranchSelection, HTMLElement>();

  constructor(ins: Inspection, ablation: NonNullable<Inspection['ablation']>, metrics: NonNullable<Inspection['ablationMetrics']>, pick: (which: BranchSelection) => void) {
    const fig = (which: BranchSelection, img: PngImage, title: string, m: { psnr: number; ssim: number }): HTMLElement => {
      const f = figure(`ablation-${which}`, h('span', {}, title, h('br'), `PSNR ${formatDb(m.psnr)} · SSIM ${formatSsim(m.ssim)}`), title);
      setImage(f.img, img);
      f.fig.classList.add('selectable');
      f.fig.dataset.testid = `ablation-${which}-figure`;
      f.fig.tabIndex = 0;
      f.fig.addEventListener('click', () => pick(which));
      f.fig.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') pick(which);
      });
      this.figures.set(which, f.fig);
      return f.fig;
    };
    const last = ins.progressive.length - 1;
    this.element = h(
      'section',
      { class: 'ablation', 'aria-label': 'Branch ablation' },
      h('h2', {}, 'Branch ablation ', h('span', { class: 'muted' }, 'all scales, one branch dropped')),
      h(
        'div',
        { class: 'figs' },
        fig('semantic', ablation.semantic, 'Semantic only', metrics.semantic),
        fig('detail', ablation.detail, 'Detail only', metrics.detail),
        fig('both', ins.progressive[last], 'Both branches', { psnr: ins.psnrByScale[last], ssim: ins.ssimByScale[last] }),
      ),
    );
  }

  update(selected: BranchSelection): void {
    for (const [which, f] of this.figures) {
      f.classList.toggle('selected', selected === which);
      f.setAttribute('aria-pressed', String(selected === which));
    }
  }
}
