// Codebook usage: per branch (semantic first) a histogram of codes and its numbers, for this
// image and, once asked for, aggregated over its folder, with the images that could not be read;
// a folder inspector shows only the folder's.

import type { InspectionHead } from '../../shared/types';
import type { FolderUsageView } from '../../shared/protocol/inspector';
import { h } from '../dom';
import { histogramCanvas } from './charts';
import { branchLabel, branchOrder, deadCodes, formatPct, topCodes } from './logic';
import type { Highlight } from './tokenCanvas';

type Usage = FolderUsageView['branches'][number] | InspectionHead['usage'][number];

/**
 * Per-branch usage, semantic branch first. For one image (prefix 'usage') the meaningful numbers
 * are how many distinct codes its tokens use and their perplexity; dead codes and utilisation of
 * the whole codebook only mean something over many images (the folder aggregate). `roles` name
 * the branches (the model's, if known).
 */
function fillUsage(target: HTMLElement, branches: readonly Usage[], prefix: 'usage' | 'folder-usage', roles: readonly string[], highlight: Highlight | null): void {
  const byBranch = new Map(branches.map((u) => [u.branch, u]));
  const ordered = branchOrder(roles).flatMap((b) => (byBranch.has(b) ? [byBranch.get(b)!] : []));
  target.replaceChildren(
    ...ordered.map((u) => {
      const role = roles[u.branch] ?? String(u.branch);
      const hl = highlight && highlight.branch === u.branch ? highlight.code : null;
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
        h('figcaption', {}, branchLabel(role)),
        histogramCanvas(u.histogram, `${prefix}-histogram-${role}`, hl, `${role} code histogram`),
        h('dl', { class: 'stats', testid: `${prefix}-stats-${role}` }, ...rows),
      );
    }),
  );
}

/** The unreadable images of a folder result, each with its reason. */
function unreadableList(f: FolderUsageView): HTMLElement[] {
  if (f.failedTotal === 0) return [];
  const more = f.failedTotal - f.failed.length;
  return [
    h('p', {}, `${f.failedTotal} image${f.failedTotal === 1 ? '' : 's'} could not be read:`),
    h('ul', { class: 'unreadable' }, ...f.failed.map((x) => h('li', {}, h('code', {}, x.image), `: ${x.reason}`)), more > 0 ? h('li', { class: 'muted' }, `… and ${more} more`) : null),
  ];
}

const unreadableNote = (f: FolderUsageView): string => (f.failedTotal ? ` (${f.failedTotal} could not be read, listed below)` : '');

/** The usage section of an image's inspector. */
export class UsageView {
  readonly element: HTMLElement;
  private readonly image: HTMLElement;
  private readonly perScale: HTMLElement;
  private readonly folderTitle: HTMLElement;
  private readonly folderFailed: HTMLElement;
  private readonly folder: HTMLElement;
  private readonly roles: string[];

  constructor(private readonly ins: InspectionHead) {
    this.roles = ins.model.branches.map((b) => b.role);
    this.image = h('div', { class: 'usage-grid', testid: 'usage-image' });
    this.perScale = h('p', { class: 'muted', testid: 'usage-scale' });
    this.folder = h('div', { class: 'usage-grid', testid: 'folder-usage' });
    this.folder.hidden = true;
    // focusable so that a folder result arriving later can be scrolled to and announced
    this.folderTitle = h('h3', { testid: 'folder-usage-title', tabindex: '-1' });
    this.folderTitle.hidden = true;
    this.folderFailed = h('div', { testid: 'folder-unreadable' });
    this.folderFailed.hidden = true;
    this.element = h(
      'section',
      { class: 'usage', 'aria-label': 'Codebook usage' },
      h('h2', {}, 'Codebook usage ', h('span', { class: 'muted' }, 'this image')),
      this.perScale,
      this.image,
      this.folderTitle,
      this.folderFailed,
      this.folder,
    );
  }

  /** Shows scale k's distinct codes, semantic branch first. */
  update(k: number): void {
    const ins = this.ins;
    this.perScale.textContent = branchOrder(this.roles)
      .map((b) => ins.usage.find((u) => u.branch === b))
      .filter((u) => u !== undefined)
      .map((u) => `${ins.model.branches[u.branch]?.role ?? u.branch}: ${u.perScale[k]?.length ?? 0} distinct codes at scale ${k + 1}`)
      .join(' · ');
  }

  /** Redraws the histograms (the highlighted code is marked in them). */
  fill(highlight: Highlight | null, folder: FolderUsageView | undefined): void {
    fillUsage(this.image, this.ins.usage, 'usage', this.roles, highlight);
    if (folder) fillUsage(this.folder, folder.branches, 'folder-usage', this.roles, highlight);
  }

  /** The folder's aggregate below the image's; reveal: scroll to it and focus its title. */
  showFolder(f: FolderUsageView, highlight: Highlight | null, reveal: boolean): void {
    const t = this.folderTitle;
    t.hidden = false;
    t.textContent = `Folder aggregate: ${f.images} images${unreadableNote(f)}`;
    this.folderFailed.replaceChildren(...unreadableList(f));
    this.folderFailed.hidden = f.failedTotal === 0;
    this.folder.hidden = false;
    if (reveal) {
      t.scrollIntoView({ block: 'start' });
      t.focus({ preventScroll: true });
    }
    fillUsage(this.folder, f.branches, 'folder-usage', this.roles, highlight);
  }
}

/** A folder inspector's page: the title, the status line, the folder's usage and unreadable images. */
export function folderPage(title: string, status: HTMLElement, f: FolderUsageView, highlight: Highlight | null): HTMLElement[] {
  const grid = h('div', { class: 'usage-grid', testid: 'folder-usage' });
  fillUsage(grid, f.branches, 'folder-usage', ['detail', 'semantic'], highlight);
  return [
    h('header', { class: 'toolbar' }, h('h1', { testid: 'title' }, title)),
    status,
    h('section', { class: 'usage' }, h('h2', { testid: 'folder-usage-title' }, `Codebook usage over ${f.images} images${unreadableNote(f)}`), grid, h('div', { testid: 'folder-unreadable' }, ...unreadableList(f))),
  ];
}
