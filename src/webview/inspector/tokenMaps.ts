// The token maps: one big map per branch at the selected scale (with a keyboard cell cursor) and a
// strip of every scale, coloured by code. Hovering a token describes it and outlines its cell on
// the pictures; clicking highlights its code everywhere.

import type { InspectionHead } from '../../shared/types';
import { h } from '../dom';
import { button, setDisabled } from '../toolkit';
import { branchLabel, branchOrder, cellAt, codeOccurrences, describeToken, moveCell, tokenAt } from './logic';
import { drawTokenMap, type Highlight } from './tokenCanvas';

const MAP_PX = 264;
const STRIP_PX = 66;

export interface TokenMapsActions {
  scale(): number;
  highlight(): Highlight | null;
  /** a scale the user picked (on the strip) */
  pick(k: number): void;
  setHighlight(hl: Highlight | null): void;
  /** outline a token's cell on the pictures; null hides it */
  showTokenRegion(cell: { row: number; col: number; side: number } | null): void;
}

interface MapCanvas {
  branch: number;
  /** 'selected': the big map, which follows the selected scale */
  scale: number | 'selected';
  el: HTMLCanvasElement;
  px: number;
}

export class TokenMapsView {
  readonly element: HTMLElement;
  private readonly tokenInfo: HTMLElement;
  private readonly highlightInfo: HTMLElement;
  private readonly clear: HTMLElement;
  /** the big maps' "· scale k" captions, by branch */
  private readonly captions = new Map<number, HTMLElement>();
  private readonly canvases: MapCanvas[] = [];
  /** the hovered (or keyboard-cursor) cell of a big map */
  private hover: { branch: number; row: number; col: number } | null = null;

  constructor(
    private readonly ins: InspectionHead,
    private readonly actions: TokenMapsActions,
  ) {
    this.tokenInfo = h('p', { testid: 'token-info', class: 'token-info', 'aria-live': 'off' }, 'Hover a token to see branch, scale, position and code; click to highlight that code everywhere.');
    this.highlightInfo = h('span', { testid: 'highlight-info', class: 'muted' });
    this.clear = button('Clear highlight', { testid: 'clear-highlight', onClick: () => actions.setHighlight(null) });
    const big = (branch: number): HTMLElement => {
      const role = ins.model.branches[branch]?.role ?? String(branch);
      const c = h('canvas', { testid: `token-map-${role}`, class: 'token-map', tabindex: '0', 'aria-label': `${role} token map at the selected scale` });
      this.attach(c, branch, 'selected', MAP_PX);
      const caption = h('span', { class: 'muted', testid: `token-map-${role}-caption` });
      this.captions.set(branch, caption);
      return h('figure', { class: 'map-figure' }, c, h('figcaption', {}, branchLabel(role), caption));
    };
    const strip = h('div', { class: 'strip', testid: 'token-strip' });
    const order = branchOrder(ins.model.branches.map((b) => b.role));
    for (const b of order) {
      const role = ins.model.branches[b]?.role ?? String(b);
      const row = h('div', { class: 'strip-row' }, h('span', { class: 'strip-label' }, role));
      ins.model.scales.forEach((_, k) => {
        const c = h('canvas', { testid: `token-strip-${role}-${k + 1}`, class: 'strip-map', 'aria-label': `${role} scale ${k + 1}` });
        c.dataset.scale = String(k);
        this.attach(c, b, k, STRIP_PX);
        row.append(c);
      });
      strip.append(row);
    }
    this.element = h(
      'section',
      { class: 'tokens', 'aria-label': 'Token maps' },
      h('h2', {}, 'Token maps ', h('span', { class: 'muted' }, `${ins.model.branches.length >= 2 ? 'semantic vs detail, ' : ''}coloured by code similarity`)),
      h('div', { class: 'maps' }, ...order.map(big)),
      this.tokenInfo,
      h('div', { class: 'highlight-bar' }, this.highlightInfo, this.clear),
      h('h3', {}, 'All scales'),
      strip,
    );
  }

  /** The selected scale changed: the hovered cell no longer means anything. */
  forgetHover(): void {
    this.hover = null;
  }

  /** Shows scale k (0-based) and the highlighted code. */
  update(k: number): void {
    const ins = this.ins;
    const side = ins.model.scales[k];
    for (const cap of this.captions.values()) cap.textContent = ` · scale ${k + 1} (${side}×${side})`;
    const hl = this.actions.highlight();
    if (hl) {
      const occ = codeOccurrences(ins, hl.branch, hl.code);
      const total = occ.reduce((a, b) => a + b, 0);
      const role = ins.model.branches[hl.branch]?.role ?? String(hl.branch);
      this.highlightInfo.textContent = `Highlighted: ${role} code ${hl.code}, used ${total}× (scales ${occ
        .map((c, i) => (c ? `${i + 1}:${c}` : ''))
        .filter(Boolean)
        .join(', ')})`;
    } else this.highlightInfo.textContent = 'No code highlighted.';
    setDisabled(this.clear, !hl);
    this.draw(false);
  }

  private draw(onlySelected: boolean): void {
    const k0 = this.actions.scale();
    for (const c of this.canvases) {
      if (onlySelected && c.scale !== 'selected') continue;
      const k = c.scale === 'selected' ? k0 : c.scale;
      const hover = c.scale === 'selected' && this.hover && this.hover.branch === c.branch ? this.hover : null;
      drawTokenMap(c.el, this.ins, c.branch, k, { highlight: this.actions.highlight(), hover, sizePx: c.px });
      if (c.scale !== 'selected') c.el.classList.toggle('current', k === k0);
    }
  }

  /** Hit-testing, hover, click and (on a big map) keyboard for one canvas. */
  private attach(c: HTMLCanvasElement, branch: number, scale: number | 'selected', px: number): void {
    const ins = this.ins;
    const { actions } = this;
    this.canvases.push({ branch, scale, el: c, px });
    const scaleOf = (): number => (scale === 'selected' ? actions.scale() : scale);
    const cell = (e: MouseEvent): { row: number; col: number } | null => {
      const side = ins.model.scales[scaleOf()];
      const r = c.getBoundingClientRect();
      return cellAt(e.clientX - r.left, e.clientY - r.top, Math.min(r.width, r.height), side);
    };
    /** Shows the token at (row, col): its description, its cell on the images, and on a big map the cursor. */
    const point = (row: number, col: number): void => {
      const t = tokenAt(ins, branch, scaleOf(), row, col);
      if (!t) return;
      const text = describeToken(t, ins.model.scales.length, ins.model.tokensPerBranch);
      this.tokenInfo.textContent = text;
      // counted from 1 like the text (docs/inspector.md, "Numbering")
      Object.assign(this.tokenInfo.dataset, { branch: t.branchName, scale: String(t.scale + 1), row: String(t.row + 1), col: String(t.col + 1), token: String(t.token + 1), code: String(t.code) });
      c.title = text;
      actions.showTokenRegion({ row: t.row, col: t.col, side: t.side });
      if (scale === 'selected') {
        this.hover = { branch, row, col };
        this.draw(true);
      }
    };
    const unpoint = (): void => {
      actions.showTokenRegion(null);
      if (this.hover) {
        this.hover = null;
        this.draw(true);
      }
    };
    const toggleHighlight = (row: number, col: number): void => {
      const t = tokenAt(ins, branch, scaleOf(), row, col);
      if (!t) return;
      const hl = actions.highlight();
      const same = hl && hl.branch === branch && hl.code === t.code;
      actions.setHighlight(same ? null : { branch, code: t.code });
    };
    c.addEventListener('mousemove', (e) => {
      const p = cell(e);
      if (p) point(p.row, p.col);
    });
    c.addEventListener('mouseleave', unpoint);
    c.addEventListener('click', (e) => {
      const p = cell(e);
      if (!p) return;
      if (scale !== 'selected' && e.altKey) actions.pick(scale);
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
        if (e.altKey || e.ctrlKey || e.metaKey) return;
        const p = cursor();
        const next = moveCell(e.key, p.row, p.col, ins.model.scales[actions.scale()]);
        if (next) point(next.row, next.col);
        else if (e.key === 'Enter' || e.key === ' ') toggleHighlight(p.row, p.col);
        else return;
        e.preventDefault();
        e.stopPropagation();
      });
    }
    c.addEventListener('dblclick', () => {
      if (scale !== 'selected') actions.pick(scale);
    });
  }
}
