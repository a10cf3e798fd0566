// The inspector UI: builds the views once per inspection and updates them on state changes.

import type { BranchSelection, Inspection, PngImage } from '../../shared/types';
import type { FolderUsageView, PngTarget, WebviewState } from '../../shared/protocol/inspector';
import type { HostToWebview, PanelInfo, Request } from '../../shared/protocol/messages';
import { histogramCanvas, psnrCurve } from './charts';
import type { ViewHost } from '../channel';
import { h, pngSrc } from '../dom';
import {
  branchOrder,
  cellAt,
  clampScale,
  codeOccurrences,
  deadCodes,
  describeToken,
  formatDb,
  formatPct,
  formatSsim,
  scaleForKey,
  moveCell,
  tokenAt,
  tokenRegion,
  topCodes,
} from './logic';
import { drawTokenMap, type Highlight } from './tokenCanvas';
import { badge, button, divider, dropdown, progressRing, setDisabled } from '../toolkit';

const MAP_PX = 264;
const STRIP_PX = 66;
const PLAY_MS = 700;

export class App {
  private info: PanelInfo | undefined;
  private ins: Inspection | undefined;
  private folder: FolderUsageView | undefined;
  private scale: number;
  private ablation: BranchSelection;
  private highlight: Highlight | null;
  private hover: { branch: number; row: number; col: number } | null = null;
  private playTimer: number | undefined;
  private readonly root: HTMLElement;
  private readonly status: HTMLElement;
  private readonly content: HTMLElement;
  // elements updated on scale/highlight changes
  private els: Record<string, HTMLElement> = {};
  private canvases: { branch: number; scale: number | 'selected'; el: HTMLCanvasElement; px: number }[] = [];
  /** overlays on the compare images that outline the hovered token's cell */
  private regions: HTMLElement[] = [];

  constructor(
    private readonly host: ViewHost<WebviewState>,
    restored: WebviewState | undefined,
  ) {
    this.scale = restored?.scale ?? Number.MAX_SAFE_INTEGER;
    this.ablation = restored?.ablation ?? 'both';
    this.highlight = restored?.highlight ?? null;
    const app = document.getElementById('app');
    if (!app) throw new Error('#app missing');
    this.root = app;
    this.root.replaceChildren();
    this.status = h('p', { id: 'status', testid: 'status', role: 'status', 'aria-live': 'polite' }, 'Waiting for the extension…');
    this.content = h('div', { id: 'content', class: 'content' });
    this.root.append(this.status, this.content);
    window.addEventListener('keydown', (e) => this.onKey(e));
  }

  // ------------------------------------------------------------------ messages from the host

  receive(m: HostToWebview): void {
    switch (m.kind) {
      case 'init':
        this.info = m.info;
        this.root.dataset.mode = m.info.mode;
        document.title = m.info.title;
        this.persist();
        return;
      case 'busy':
        this.setState('busy', m.message, true);
        return;
      case 'inspection':
        this.ins = m.inspection;
        this.scale = clampScale(this.scale, m.inspection.progressive.length);
        this.renderInspection();
        this.setState('ready', this.readyText(), false);
        return;
      case 'folderUsage':
        this.folder = m.usage;
        this.renderFolderUsage(true);
        if (this.info?.mode === 'folder' || !this.ins) this.setState('ready', `${m.usage.images} images in ${m.usage.folder}`, false);
        else this.setState('ready', `${this.readyText()} · folder usage of ${m.usage.images} images below`, false);
        return;
      case 'error':
        this.setState(m.code === 'CANCELLED' ? (this.ins ? 'ready' : 'cancelled') : 'error', m.message, false);
        this.root.dataset.errorCode = m.code ?? '';
        return;
      case 'response':
        return; // handled by the request layer
    }
  }

  private readyText(): string {
    const i = this.ins;
    if (!i) return '';
    const chosen = [...new Set(Object.values(i.provider.chosen))].join('+') || 'n/a';
    const total = i.timingsMs.total ?? Object.values(i.timingsMs).reduce((a, b) => a + b, 0);
    return `${i.model.name} · ${chosen} · ${Math.round(total)} ms`;
  }

  private setState(state: string, text: string, busy: boolean): void {
    this.root.dataset.state = state;
    this.root.setAttribute('aria-busy', String(busy));
    this.status.replaceChildren();
    if (busy) {
      this.status.append(progressRing(), h('span', {}, text));
      this.status.append(
        button('Cancel', {
          testid: 'cancel',
          onClick: () => void this.host.request({ type: 'cancel', target: 0 }),
        }),
      );
    } else {
      this.status.append(h('span', {}, text));
    }
    this.status.classList.toggle('error', state === 'error');
  }

  private persist(): void {
    if (!this.info || this.info.mode === 'generate') return;
    this.host.saveState({
      resource: this.info.resource,
      mode: this.info.mode,
      scale: Math.min(this.scale, 63),
      ablation: this.ablation,
      highlight: this.highlight,
    });
  }

  // ------------------------------------------------------------------ layout

  private renderInspection(): void {
    const ins = this.ins;
    if (!ins) return;
    this.stopPlay();
    this.els = {};
    this.canvases = [];
    this.regions = [];
    const n = ins.progressive.length;
    const parts: HTMLElement[] = [this.toolbar(), this.status, this.notes(ins), providerDetails(ins)];
    parts.push(this.compareSection(ins), this.stepperSection(n));
    parts.push(divider(), this.tokenSection(ins));
    parts.push(divider(), this.ablationSection(ins));
    parts.push(divider(), this.usageSection(ins));
    this.content.replaceChildren(...parts);
    this.update();
    if (this.folder) this.renderFolderUsage();
  }

  private toolbar(): HTMLElement {
    const i = this.ins;
    const generated = this.info?.mode === 'generated';
    const fmt = dropdown(
      [
        { value: 'tokens-json', label: 'Tokens (.json)' },
        { value: 'tokens-npy', label: 'Tokens (.npy)' },
        { value: 'png', label: 'Reconstruction at this scale (.png)' },
        { value: 'png-contribution', label: "This scale's contribution (.png)" },
        { value: 'png-ablation-semantic', label: 'Semantic-only reconstruction (.png)' },
        { value: 'png-ablation-detail', label: 'Detail-only reconstruction (.png)' },
        { value: 'png-input', label: 'Model input (.png)' },
        { value: 'sheet', label: 'Contact sheet: every scale and branch (.png)' },
      ],
      'export-format',
      'Export format',
    );
    const exp = button('Export…', {
      testid: 'export',
      title: 'Save tokens or the reconstruction to a file you choose',
      onClick: () => {
        const f = fmt.value();
        let req: Request;
        if (f === 'tokens-json' || f === 'tokens-npy' || f === 'sheet') req = { type: 'export', format: f };
        else {
          const target = (f === 'png' ? 'progressive' : f.slice(4)) as PngTarget;
          req = { type: 'export', format: 'png', target, scale: this.scale };
        }
        void this.host.request(req);
      },
    });
    const bar = h(
      'header',
      { class: 'toolbar' },
      h('h1', { testid: 'title' }, this.info?.title ?? (i ? i.image.split(/[\\/]/).pop() ?? '' : '')),
      i ? badge(`${i.model.name}`, 'model-name') : null,
      i ? h('span', { class: 'muted', testid: 'provider' }, `provider: ${Object.entries(i.provider.chosen).map(([g, p]) => `${g} ${p}`).join(', ')}`) : null,
      h('span', { class: 'spacer' }),
      button('Re-run', { testid: 'reinspect', title: 'Tokenize the image again', onClick: () => void this.host.request({ type: 'reinspect' }) }),
      // a generated sample has no folder and no image to teacher-force from
      generated
        ? null
        : button('Folder usage', {
            testid: 'folder-usage-button',
            title: 'Codebook usage aggregated over every image in this folder',
            onClick: () => void this.host.request({ type: 'folderUsage' }),
          }),
      button('Model…', { testid: 'select-model', title: 'Select the tokenizer model', onClick: () => void this.host.request({ type: 'selectModel' }) }),
      // teacher forcing from this image (paper Fig. 8): the host checks the model has a generator
      i && this.info?.mode !== 'folder' && !generated
        ? button('Generate with detail tokens', {
            testid: 'generate-from-detail',
            title: "Open the Generate view with this image's detail tokens kept at every scale (the semantic ones are sampled)",
            onClick: () => void this.host.request({ type: 'generateFrom', force: 'detail' }),
          })
        : null,
      i && this.info?.mode !== 'folder' && !generated
        ? button('… semantic tokens', {
            testid: 'generate-from-semantic',
            title: "Open the Generate view with this image's semantic tokens kept at every scale (the detail ones are sampled)",
            onClick: () => void this.host.request({ type: 'generateFrom', force: 'semantic' }),
          })
        : null,
      i && this.info?.mode !== 'folder' && !generated
        ? button('Swap branches with…', {
            testid: 'swap-branches',
            title: "Decode this image's detail tokens with another image's semantic tokens, and the reverse (asks for the other image)",
            onClick: () => void this.host.request({ type: 'swapWith' }),
          })
        : null,
      fmt.element,
      exp,
    );
    return bar;
  }

  /** Notes about this image (and a provider the user named but did not get); provider details are folded away. */
  private notes(ins: Inspection): HTMLElement {
    const el = h('ul', { class: 'notes', testid: 'notes' }, ...ins.notes.map((t) => h('li', {}, t)));
    el.hidden = ins.notes.length === 0;
    return el;
  }

  /** withRegion: the image also outlines a hovered token's cell (see showTokenRegion). */
  private figure(testid: string, caption: HTMLElement, alt: string, withRegion = false): { fig: HTMLElement; img: HTMLImageElement } {
    const img = h('img', { testid, alt, class: 'pic', draggable: 'false' });
    if (!withRegion) return { fig: h('figure', {}, img, h('figcaption', {}, caption)), img };
    const region = h('div', { class: 'token-region', testid: `token-region-${testid}`, 'aria-hidden': 'true' });
    region.hidden = true;
    this.regions.push(region);
    return { fig: h('figure', {}, h('div', { class: 'pic-box' }, img, region), h('figcaption', {}, caption)), img };
  }

  /** Outlines a token's cell on the input, reconstruction and contribution; null hides it. */
  private showTokenRegion(cell: { row: number; col: number; side: number } | null): void {
    for (const r of this.regions) {
      r.hidden = cell === null;
      if (!cell) continue;
      const { left, top, size } = tokenRegion(cell.row, cell.col, cell.side);
      Object.assign(r.style, { left: `${left}%`, top: `${top}%`, width: `${size}%`, height: `${size}%` });
      Object.assign(r.dataset, { row: String(cell.row + 1), col: String(cell.col + 1), side: String(cell.side) });
    }
  }

  private setImage(img: HTMLImageElement, p: PngImage): void {
    const src = pngSrc(p.pngBase64);
    if (img.getAttribute('src') !== src) img.src = src;
    img.width = p.width;
    img.height = p.height;
  }

  private compareSection(ins: Inspection): HTMLElement {
    const [caption, alt] =
      ins.source === 'tokens'
        ? ['Full decode of these tokens: all scales, both branches (the reference of PSNR/SSIM)', 'full decode of the tokens, all scales']
        : [`Input as the model sees it (${ins.input.width}×${ins.input.height})`, 'input image after resize'];
    const orig = this.figure('original', h('span', {}, caption), alt, true);
    this.setImage(orig.img, ins.input);
    const psnr = h('span', { testid: 'psnr', class: 'metric' });
    const ssim = h('span', { testid: 'ssim', class: 'metric' });
    const recCap = h('span', { testid: 'reconstruction-caption' });
    const rec = this.figure('reconstruction', h('span', {}, recCap, h('br'), 'PSNR ', psnr, ' · SSIM ', ssim), 'reconstruction', true);
    const conCap = h('span', { testid: 'contribution-caption' });
    const con = this.figure('contribution', conCap, "this scale's own contribution", true);
    Object.assign(this.els, { psnr, ssim, recCap, conCap, recImg: rec.img, conImg: con.img });
    return h('section', { class: 'compare', 'aria-label': 'Original and reconstruction' }, orig.fig, rec.fig, con.fig);
  }

  private stepperSection(n: number): HTMLElement {
    const slider = h('input', {
      type: 'range',
      min: '1',
      max: String(n),
      step: '1',
      testid: 'scale-slider',
      id: 'scale-slider',
      'aria-label': 'Number of scales',
    });
    slider.addEventListener('input', () => this.stepTo(Number(slider.value) - 1));
    const label = h('span', { testid: 'scale-label', class: 'scale-label' });
    const play = button('Play', { testid: 'play', title: 'Step through all scales', onClick: () => this.togglePlay() });
    const curve = h('div', { class: 'curve-box', testid: 'psnr-curve-box' });
    Object.assign(this.els, { slider, scaleLabel: label, play, curve });
    const controls = h(
      'div',
      { class: 'stepper-controls', role: 'group', 'aria-label': 'Scale stepper (Left/Right, Home/End)' },
      button('«', { testid: 'scale-first', ariaLabel: 'First scale (Home)', appearance: 'icon', onClick: () => this.stepTo(0) }),
      button('‹', { testid: 'scale-prev', ariaLabel: 'Previous scale (Left)', appearance: 'icon', onClick: () => this.stepTo(this.scale - 1) }),
      slider,
      button('›', { testid: 'scale-next', ariaLabel: 'Next scale (Right)', appearance: 'icon', onClick: () => this.stepTo(this.scale + 1) }),
      button('»', { testid: 'scale-last', ariaLabel: 'Last scale (End)', appearance: 'icon', onClick: () => this.stepTo(n - 1) }),
      play,
    );
    return h('section', { class: 'stepper', testid: 'stepper' }, h('div', { class: 'stepper-left' }, controls, label), curve);
  }

  private tokenSection(ins: Inspection): HTMLElement {
    const info = h('p', { testid: 'token-info', class: 'token-info', 'aria-live': 'off' }, 'Hover a token to see branch, scale, position and code; click to highlight that code everywhere.');
    const hlInfo = h('span', { testid: 'highlight-info', class: 'muted' });
    const clear = button('Clear highlight', { testid: 'clear-highlight', onClick: () => this.setHighlight(null) });
    Object.assign(this.els, { tokenInfo: info, hlInfo, clear });
    const big = (branch: number): HTMLElement => {
      const role = ins.model.branches[branch]?.role ?? String(branch);
      const c = h('canvas', { testid: `token-map-${role}`, class: 'token-map', tabindex: '0', 'aria-label': `${role} token map at the selected scale` });
      this.attachCanvas(c, branch, 'selected', MAP_PX);
      const cap = h('figcaption', {}, `${role === 'semantic' ? 'Semantic' : 'Detail'} branch`, h('span', { class: 'muted', testid: `token-map-${role}-caption` }));
      this.els[`cap-${branch}`] = cap.lastElementChild as HTMLElement;
      return h('figure', { class: 'map-figure' }, c, cap);
    };
    const strip = h('div', { class: 'strip', testid: 'token-strip' });
    const order = branchOrder(ins.model.branches.map((b) => b.role));
    for (const b of order) {
      const role = ins.model.branches[b]?.role ?? String(b);
      const row = h('div', { class: 'strip-row' }, h('span', { class: 'strip-label' }, role));
      ins.model.scales.forEach((_, k) => {
        const c = h('canvas', { testid: `token-strip-${role}-${k + 1}`, class: 'strip-map', 'aria-label': `${role} scale ${k + 1}` });
        c.dataset.scale = String(k);
        this.attachCanvas(c, b, k, STRIP_PX);
        row.append(c);
      });
      strip.append(row);
    }
    return h(
      'section',
      { class: 'tokens', 'aria-label': 'Token maps' },
      h('h2', {}, 'Token maps ', h('span', { class: 'muted' }, 'semantic vs detail, coloured by code similarity')),
      h('div', { class: 'maps' }, ...order.map(big)),
      info,
      h('div', { class: 'highlight-bar' }, hlInfo, clear),
      h('h3', {}, 'All scales'),
      strip,
    );
  }

  private attachCanvas(c: HTMLCanvasElement, branch: number, scale: number | 'selected', px: number): void {
    this.canvases.push({ branch, scale, el: c, px });
    const scaleOf = (): number => (scale === 'selected' ? this.scale : scale);
    const cell = (e: MouseEvent): { row: number; col: number } | null => {
      const ins = this.ins;
      if (!ins) return null;
      const side = ins.model.scales[scaleOf()];
      const r = c.getBoundingClientRect();
      return cellAt(e.clientX - r.left, e.clientY - r.top, Math.min(r.width, r.height), side);
    };
    /** Shows the token at (row, col): its description, its cell on the images, and on a big map the cursor. */
    const point = (row: number, col: number): void => {
      if (!this.ins) return;
      const t = tokenAt(this.ins, branch, scaleOf(), row, col);
      if (!t) return;
      const text = describeToken(t, this.ins.model.scales.length, this.ins.model.tokensPerBranch);
      const info = this.els.tokenInfo;
      info.textContent = text;
      // counted from 1 like the text (docs/inspector.md, "Numbering")
      Object.assign(info.dataset, { branch: t.branchName, scale: String(t.scale + 1), row: String(t.row + 1), col: String(t.col + 1), token: String(t.token + 1), code: String(t.code) });
      c.title = text;
      this.showTokenRegion({ row: t.row, col: t.col, side: t.side });
      if (scale === 'selected') {
        this.hover = { branch, row, col };
        this.drawCanvases(true);
      }
    };
    const unpoint = (): void => {
      this.showTokenRegion(null);
      if (this.hover) {
        this.hover = null;
        this.drawCanvases(true);
      }
    };
    const toggleHighlight = (row: number, col: number): void => {
      const t = this.ins && tokenAt(this.ins, branch, scaleOf(), row, col);
      if (!t) return;
      const same = this.highlight && this.highlight.branch === branch && this.highlight.code === t.code;
      this.setHighlight(same ? null : { branch, code: t.code });
    };
    c.addEventListener('mousemove', (e) => {
      const p = cell(e);
      if (p) point(p.row, p.col);
    });
    c.addEventListener('mouseleave', unpoint);
    c.addEventListener('click', (e) => {
      const p = cell(e);
      if (!p) return;
      if (scale !== 'selected' && e.altKey) this.stepTo(scale);
      toggleHighlight(p.row, p.col);
    });
    if (scale === 'selected') {
      // Keyboard: a focused big map has a cell cursor (arrows move it, Enter/Space highlight its
      // code); Home/End and the other keys still reach the panel's scale stepper.
      const cursor = (): { row: number; col: number } => (this.hover?.branch === branch ? this.hover : { row: 0, col: 0 });
      c.addEventListener('focus', () => {
        const p = cursor();
        point(p.row, p.col);
      });
      c.addEventListener('blur', unpoint);
      c.addEventListener('keydown', (e) => {
        if (!this.ins || e.altKey || e.ctrlKey || e.metaKey) return;
        const p = cursor();
        const next = moveCell(e.key, p.row, p.col, this.ins.model.scales[this.scale]);
        if (next) point(next.row, next.col);
        else if (e.key === 'Enter' || e.key === ' ') toggleHighlight(p.row, p.col);
        else return;
        e.preventDefault();
        e.stopPropagation();
      });
    }
    c.addEventListener('dblclick', () => {
      if (scale !== 'selected') this.stepTo(scale);
    });
  }

  private ablationSection(ins: Inspection): HTMLElement {
    const fig = (which: BranchSelection, img: PngImage, title: string, m: { psnr: number; ssim: number }): HTMLElement => {
      const f = this.figure(
        `ablation-${which}`,
        h('span', {}, title, h('br'), `PSNR ${formatDb(m.psnr)} · SSIM ${formatSsim(m.ssim)}`),
        title,
      );
      this.setImage(f.img, img);
      f.fig.classList.add('selectable');
      f.fig.dataset.testid = `ablation-${which}-figure`;
      f.fig.tabIndex = 0;
      const pick = (): void => {
        this.ablation = which;
        this.persist();
        this.update();
      };
      f.fig.addEventListener('click', pick);
      f.fig.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') pick();
      });
      this.els[`ablation-${which}`] = f.fig;
      return f.fig;
    };
    const last = ins.progressive.length - 1;
    return h(
      'section',
      { class: 'ablation', 'aria-label': 'Branch ablation' },
      h('h2', {}, 'Branch ablation ', h('span', { class: 'muted' }, 'all scales, one branch dropped')),
      h(
        'div',
        { class: 'figs' },
        fig('semantic', ins.ablation.semantic, 'Semantic only', ins.ablationMetrics.semantic),
        fig('detail', ins.ablation.detail, 'Detail only', ins.ablationMetrics.detail),
        fig('both', ins.progressive[last], 'Both branches', { psnr: ins.psnrByScale[last], ssim: ins.ssimByScale[last] }),
      ),
    );
  }

  private usageSection(ins: Inspection): HTMLElement {
    const perBranch = h('div', { class: 'usage-grid', testid: 'usage-image' });
    this.els.usageImage = perBranch;
    this.fillUsage(perBranch, ins.usage, 'usage');
    const folder = h('div', { class: 'usage-grid', testid: 'folder-usage' });
    folder.hidden = true;
    this.els.folderUsage = folder;
    // focusable so that a folder result arriving later can be scrolled to and announced
    this.els.folderTitle = h('h3', { testid: 'folder-usage-title', tabindex: '-1' });
    this.els.folderTitle.hidden = true;
    this.els.folderFailed = h('div', { testid: 'folder-unreadable' });
    this.els.folderFailed.hidden = true;
    return h(
      'section',
      { class: 'usage', 'aria-label': 'Codebook usage' },
      h('h2', {}, 'Codebook usage ', h('span', { class: 'muted' }, 'this image')),
      h('p', { class: 'muted', testid: 'usage-scale' }),
      perBranch,
      this.els.folderTitle,
      this.els.folderFailed,
      folder,
    );
  }

  /** The unreadable images of a folder result, each with its reason. */
  private unreadableList(f: FolderUsageView): HTMLElement[] {
    if (f.failedTotal === 0) return [];
    const more = f.failedTotal - f.failed.length;
    return [
      h('p', {}, `${f.failedTotal} image${f.failedTotal === 1 ? '' : 's'} could not be read:`),
      h('ul', { class: 'unreadable' }, ...f.failed.map((x) => h('li', {}, h('code', {}, x.image), `: ${x.reason}`)), more > 0 ? h('li', { class: 'muted' }, `… and ${more} more`) : null),
    ];
  }

  /**
   * Per-branch usage, semantic branch first. For one image (prefix 'usage') the meaningful numbers
   * are how many distinct codes its tokens use and their perplexity; dead codes and utilisation of
   * the whole codebook only mean something over many images (the folder aggregate).
   */
  private fillUsage(target: HTMLElement, branches: readonly (FolderUsageView['branches'][number] | Inspection['usage'][number])[], prefix: 'usage' | 'folder-usage'): void {
    const roles = this.ins?.model.branches.map((b) => b.role) ?? ['detail', 'semantic'];
    const byBranch = new Map(branches.map((u) => [u.branch, u]));
    const ordered = branchOrder(roles).flatMap((b) => (byBranch.has(b) ? [byBranch.get(b)!] : []));
    target.replaceChildren(
      ...ordered.map((u) => {
        const role = roles[u.branch] ?? String(u.branch);
        const hl = this.highlight && this.highlight.branch === u.branch ? this.highlight.code : null;
        const tokens = u.histogram.reduce((a, b) => a + b, 0);
        const row = (dt: string, testid: string, dd: string | HTMLElement) => [h('dt', {}, dt), typeof dd === 'string' ? h('dd', { testid }, dd) : dd];
        const top = 'top' in u && u.top ? u.top : undefined;
        const topDd = top
          ? h('dd', { testid: `${prefix}-top-${role}` }, h('ul', { class: 'top-codes' }, ...top.map((t) => h('li', {}, `${t.code} ×${t.count}`, h('span', { class: 'muted' }, t.images.length ? ` (${t.images.join(', ')})` : '')))))
          : h('dd', { testid: `${prefix}-top-${role}` }, topCodes(u.histogram, 5).map((t) => `${t.code}×${t.count}`).join(', ') || '–');
        const rows =
          prefix === 'usage'
            ? [
                ...row('distinct codes', `${prefix}-distinct-${role}`, `${u.used} of ${tokens} tokens`),
                ...row('perplexity', `${prefix}-perplexity-${role}`, u.perplexity.toFixed(1)),
                ...row('top codes', '', topDd),
              ]
            : [
                ...row('used', `${prefix}-used-${role}`, `${u.used} / ${u.histogram.length}`),
                ...row('utilisation', `${prefix}-utilisation-${role}`, formatPct(u.utilisation)),
                ...row('perplexity', `${prefix}-perplexity-${role}`, u.perplexity.toFixed(1)),
                ...row('dead codes', `${prefix}-dead-${role}`, String('dead' in u ? u.dead : deadCodes(u.histogram).length)),
                ...row('top codes', '', topDd),
              ];
        return h(
          'figure',
          { class: 'usage-branch', testid: `${prefix}-branch-${role}` },
          h('figcaption', {}, role === 'semantic' ? 'Semantic branch' : role === 'detail' ? 'Detail branch' : `${role} branch`),
          histogramCanvas(u.histogram, `${prefix}-histogram-${role}`, hl, `${role} code histogram`),
          h('dl', { class: 'stats', testid: `${prefix}-stats-${role}` }, ...rows),
        );
      }),
    );
  }

  /** reveal: a result that just arrived in an inspector is scrolled to (it sits below the image's views). */
  private renderFolderUsage(reveal = false): void {
    const f = this.folder;
    if (!f) return;
    const unreadable = f.failedTotal ? ` (${f.failedTotal} could not be read, listed below)` : '';
    if (!this.ins) {
      // folder mode (or no image yet): a page of its own
      const grid = h('div', { class: 'usage-grid', testid: 'folder-usage' });
      this.els.folderUsage = grid;
      this.content.replaceChildren(
        h('header', { class: 'toolbar' }, h('h1', { testid: 'title' }, this.info?.title ?? f.folder)),
        this.status,
        h('section', { class: 'usage' }, h('h2', { testid: 'folder-usage-title' }, `Codebook usage over ${f.images} images${unreadable}`), grid, h('div', { testid: 'folder-unreadable' }, ...this.unreadableList(f))),
      );
    } else {
      const t = this.els.folderTitle;
      t.hidden = false;
      t.textContent = `Folder aggregate: ${f.images} images${unreadable}`;
      this.els.folderFailed.replaceChildren(...this.unreadableList(f));
      this.els.folderFailed.hidden = f.failedTotal === 0;
      this.els.folderUsage.hidden = false;
      if (reveal) {
        t.scrollIntoView({ block: 'start' });
        t.focus({ preventScroll: true });
      }
    }
    this.fillUsage(this.els.folderUsage, f.branches, 'folder-usage');
  }

  // ------------------------------------------------------------------ state changes

  setScale(k: number): void {
    const ins = this.ins;
    if (!ins) return;
    const next = clampScale(k, ins.progressive.length);
    if (next === this.scale) return;
    this.scale = next;
    this.hover = null;
    this.showTokenRegion(null);
    this.persist();
    this.update();
  }

  setHighlight(hl: Highlight | null): void {
    this.highlight = hl;
    this.persist();
    this.update();
    if (this.ins) {
      this.fillUsage(this.els.usageImage, this.ins.usage, 'usage');
      if (this.folder) this.fillUsage(this.els.folderUsage, this.folder.branches, 'folder-usage');
    }
  }

  private update(): void {
    const ins = this.ins;
    if (!ins) return;
    const k = this.scale;
    const n = ins.progressive.length;
    const side = ins.model.scales[k];
    this.root.dataset.scale = String(k + 1);
    this.setImage(this.els.recImg as HTMLImageElement, ins.progressive[k]);
    this.setImage(this.els.conImg as HTMLImageElement, ins.contribution[k]);
    this.els.recCap.textContent = `Reconstruction from scales 1–${k + 1}`;
    this.els.conCap.textContent = `Scale ${k + 1} alone (${side}×${side} tokens per branch)`;
    this.els.psnr.textContent = formatDb(ins.psnrByScale[k]);
    this.els.ssim.textContent = formatSsim(ins.ssimByScale[k]);
    const slider = this.els.slider as HTMLInputElement;
    slider.value = String(k + 1);
    slider.setAttribute('aria-valuetext', `${k + 1} of ${n} scales`);
    const offs = ins.model.scales.slice(0, k).reduce((a, s) => a + s * s, 0);
    this.els.scaleLabel.textContent = `Scale ${k + 1} of ${n} · ${side}×${side} · tokens ${offs + 1}–${offs + side * side} of ${ins.model.tokensPerBranch}`;
    for (const id of ['scale-first', 'scale-prev']) setDisabled(this.byTestid(id), k === 0);
    for (const id of ['scale-next', 'scale-last']) setDisabled(this.byTestid(id), k === n - 1);
    this.els.curve.replaceChildren(psnrCurve(ins.psnrByScale, k, (i) => this.stepTo(i)));
    for (const b of [0, 1]) {
      const cap = this.els[`cap-${b}`];
      if (cap) cap.textContent = ` · scale ${k + 1} (${side}×${side})`;
    }
    const usageScale = this.content.querySelector<HTMLElement>('[data-testid="usage-scale"]');
    if (usageScale) {
      usageScale.textContent = branchOrder(ins.model.branches.map((b) => b.role))
        .map((b) => ins.usage.find((u) => u.branch === b))
        .filter((u) => u !== undefined)
        .map((u) => `${ins.model.branches[u.branch]?.role ?? u.branch}: ${u.perScale[k]?.length ?? 0} distinct codes at scale ${k + 1}`)
        .join(' · ');
    }
    // highlight
    const hl = this.highlight;
    if (hl) {
      const occ = codeOccurrences(ins, hl.branch, hl.code);
      const total = occ.reduce((a, b) => a + b, 0);
      const role = ins.model.branches[hl.branch]?.role ?? String(hl.branch);
      this.els.hlInfo.textContent = `Highlighted: ${role} code ${hl.code}, used ${total}× (scales ${occ
        .map((c, i) => (c ? `${i + 1}:${c}` : ''))
        .filter(Boolean)
        .join(', ')})`;
      this.root.dataset.highlight = `${hl.branch}:${hl.code}`;
    } else {
      this.els.hlInfo.textContent = 'No code highlighted.';
      delete this.root.dataset.highlight;
    }
    setDisabled(this.els.clear, !hl);
    for (const which of ['semantic', 'detail', 'both'] as const) {
      const f = this.els[`ablation-${which}`];
      if (f) {
        f.classList.toggle('selected', this.ablation === which);
        f.setAttribute('aria-pressed', String(this.ablation === which));
      }
    }
    this.drawCanvases(false);
  }

  private drawCanvases(onlySelected: boolean): void {
    const ins = this.ins;
    if (!ins) return;
    for (const c of this.canvases) {
      if (onlySelected && c.scale !== 'selected') continue;
      const k = c.scale === 'selected' ? this.scale : c.scale;
      const hover = c.scale === 'selected' && this.hover && this.hover.branch === c.branch ? this.hover : null;
      drawTokenMap(c.el, ins, c.branch, k, { highlight: this.highlight, hover, sizePx: c.px });
      if (c.scale !== 'selected') c.el.classList.toggle('current', k === this.scale);
    }
  }

  private byTestid(id: string): HTMLElement {
    const el = this.content.querySelector<HTMLElement>(`[data-testid="${id}"]`);
    if (!el) throw new Error(`missing ${id}`);
    return el;
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.ins || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target as HTMLElement | null;
    const tag = t?.tagName?.toLowerCase() ?? '';
    if (t?.id === 'scale-slider') return; // the range input steps itself (fires 'input')
    if (tag === 'vscode-dropdown' || tag === 'textarea' || (tag === 'input' && t?.getAttribute('type') !== 'range')) return;
    if (e.key === 'Escape' && this.highlight) {
      this.setHighlight(null);
      return;
    }
    const next = scaleForKey(e.key, this.scale, this.ins.progressive.length);
    if (next === null) return;
    e.preventDefault();
    this.stepTo(next);
  }

  /** A scale the user picked (key, button, slider, curve, strip): it ends Play, as a pause would. */
  private stepTo(k: number): void {
    this.stopPlay();
    this.setScale(k);
  }

  private togglePlay(): void {
    if (this.playTimer !== undefined) {
      this.stopPlay();
      return;
    }
    const ins = this.ins;
    if (!ins) return;
    const n = ins.progressive.length;
    if (this.scale >= n - 1) this.setScale(0);
    this.els.play.textContent = 'Pause';
    this.root.dataset.playing = 'true';
    this.playTimer = window.setInterval(() => {
      if (this.scale >= n - 1) this.stopPlay();
      else this.setScale(this.scale + 1);
    }, PLAY_MS);
  }

  private stopPlay(): void {
    if (this.playTimer !== undefined) window.clearInterval(this.playTimer);
    this.playTimer = undefined;
    if (this.els.play) this.els.play.textContent = 'Play';
    delete this.root.dataset.playing;
  }
}

/**
 * One folded line about the execution provider: which one runs and, unfolded, why (`auto`'s
 * measurement or the only provider that can run) and why each other provider was passed over.
 * A CPU-only user sees one quiet line, not the GPU providers' reasons on every inspection.
 */
export function providerDetails(ins: Inspection): HTMLElement {
  const r = ins.provider;
  const used = [...new Set(Object.values(r.chosen))].join('+') || 'n/a';
  const lines = [
    ...(r.choice ? [`${r.choice.reason}${r.choice.cached ? ' (measured earlier on this machine)' : ''}`] : []),
    ...r.skipped.map((s) => `${s.provider} not used: ${s.reason}`),
  ];
  const el = h(
    'details',
    { class: 'provider-details', testid: 'provider-details' },
    h('summary', {}, `Runs on ${used}${lines.length > 0 ? ': why' : ''}`),
    h('ul', {}, ...lines.map((t) => h('li', {}, t))),
  );
  el.hidden = lines.length === 0;
  return el;
}
