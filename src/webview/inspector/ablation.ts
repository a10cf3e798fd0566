// Branch ablation (two-branch models): the decode with only the semantic tokens, only the detail
// tokens, and both (all scales), with their PSNR/SSIM. Picking one marks it (kept in the panel's state).

import type { BranchSelection, PngImage } from '../../shared/types';
import type { Quality, ShownInspection } from './shownInspection';
import { h } from '../dom';
import { figure, setImage } from './figures';
import { formatDb, formatSsim } from './logic';

export class AblationView {
  readonly element: HTMLElement;
  private readonly figures = new Map<BranchSelection, HTMLElement>();
  private readonly pictures: { which: BranchSelection; img: HTMLImageElement; metrics: HTMLElement }[] = [];

  /** The pictures fill in as their tiles arrive (update). */
  constructor(
    private readonly ins: ShownInspection,
    pick: (which: BranchSelection) => void,
  ) {
    const fig = (which: BranchSelection, title: string): HTMLElement => {
      const metrics = h('span', { testid: `ablation-${which}-metrics` });
      const f = figure(`ablation-${which}`, h('span', {}, title, h('br'), metrics), title);
      f.fig.classList.add('selectable');
      f.fig.dataset.testid = `ablation-${which}-figure`;
      f.fig.tabIndex = 0;
      f.fig.addEventListener('click', () => pick(which));
      f.fig.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') pick(which);
      });
      this.figures.set(which, f.fig);
      this.pictures.push({ which, img: f.img, metrics });
      return f.fig;
    };
    this.element = h(
      'section',
      { class: 'ablation', 'aria-label': 'Branch ablation' },
      h('h2', {}, 'Branch ablation ', h('span', { class: 'muted' }, 'all scales, one branch dropped')),
      h('div', { class: 'figs' }, fig('semantic', 'Semantic only'), fig('detail', 'Detail only'), fig('both', 'Both branches')),
    );
  }

  update(selected: BranchSelection): void {
    for (const [which, f] of this.figures) {
      f.classList.toggle('selected', selected === which);
      f.setAttribute('aria-pressed', String(selected === which));
    }
    const ins = this.ins;
    const last = ins.progressive.length - 1;
    for (const p of this.pictures) {
      const [png, q]: [PngImage | undefined, Quality | undefined] =
        p.which === 'both'
          ? [ins.progressive[last], ins.psnrByScale[last] === undefined ? undefined : { psnr: ins.psnrByScale[last]!, ssim: ins.ssimByScale[last]! }]
          : [ins.ablation?.[p.which], ins.ablationMetrics?.[p.which]];
      setImage(p.img, png, ins.model.imageSize);
      p.metrics.textContent = `PSNR ${formatDb(q?.psnr)} · SSIM ${formatSsim(q?.ssim)}`;
    }
  }
}
