// The inspector UI: keeps the panel's state (inspection, scale, branch ablation, highlighted
// code), answers the host's messages, and builds the views (toolbar, compare, stepper, token maps,
// ablation, usage) once per inspection, updating them when the state changes.

import type { BranchSelection } from '../../shared/types';
import { addTile, finishedShown, startShown, type ShownInspection } from './shownInspection';
import type { FolderUsageView, WebviewState } from '../../shared/protocol/inspector';
import type { HostToWebview, PanelInfo, Request } from '../../shared/protocol/messages';
import type { ViewHost } from '../channel';
import { h } from '../dom';
import { button, divider, progressRing } from '../toolkit';
import { AblationView } from './ablation';
import { CompareView } from './compare';
import { clampScale, scaleForKey } from './logic';
import { StepperView } from './stepper';
import type { Highlight } from './tokenCanvas';
import { TokenMapsView } from './tokenMaps';
import { notes, providerDetails, toolbar } from './toolbar';
import { folderPage, UsageView } from './usage';

/** What the host says an inspector shows (the Generate view's own 'generate' never reaches it). */
type InspectorPanelInfo = PanelInfo & { mode: WebviewState['mode'] };

/** The views of one inspection. */
interface Views {
  compare: CompareView;
  stepper: StepperView;
  maps: TokenMapsView;
  ablation?: AblationView;
  usage: UsageView;
}

export class App {
  private info: InspectorPanelInfo | undefined;
  private ins: ShownInspection | undefined;
  /** the views show an inspection whose tiles are still arriving */
  private streaming = false;
  private folder: FolderUsageView | undefined;
  private scale: number;
  private ablation: BranchSelection;
  private highlight: Highlight | null;
  private readonly root: HTMLElement;
  private readonly status: HTMLElement;
  private readonly content: HTMLElement;
  private views: Views | undefined;

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

  private request(r: Request): void {
    void this.host.request(r);
  }

  // ------------------------------------------------------------------ messages from the host

  receive(m: HostToWebview): void {
    switch (m.kind) {
      case 'init':
        // the host opens inspectors with an inspector's info (the Generate view has its own app)
        this.info = m.info as InspectorPanelInfo;
        this.root.dataset.mode = m.info.mode;
        document.title = m.info.title;
        this.persist();
        return;
      case 'busy':
        this.setState('busy', m.message, true);
        return;
      case 'inspectionStart':
        // the tiles follow, the full reconstruction first: the views show placeholders until then
        this.ins = startShown(m.head, m.total);
        this.streaming = true;
        this.scale = clampScale(this.scale, m.head.model.scales.length);
        this.renderInspection(this.ins);
        this.showDecoding();
        return;
      case 'tile':
        if (!this.ins || !this.streaming) return; // a stale tile of an inspection already replaced
        addTile(this.ins, m.tile, m.done);
        this.update();
        this.showDecoding();
        return;
      case 'inspection': {
        // the end of the inspection that streamed into the views: they stay (hover, focus, Play);
        // anything else is drawn anew
        const streamed = this.streaming && this.ins?.image === m.inspection.image && this.views !== undefined;
        this.streaming = false;
        this.ins = finishedShown(m.inspection);
        this.scale = clampScale(this.scale, m.inspection.progressive.length);
        if (streamed && this.ins) this.update();
        else this.renderInspection(this.ins);
        this.setState('ready', this.readyText(), false);
        return;
      }
      case 'folderUsage':
        this.folder = m.usage;
        this.renderFolderUsage(m.usage, true);
        if (this.info?.mode === 'folder' || !this.ins) this.setState('ready', `${m.usage.images} images in ${m.usage.folder}`, false);
        else this.setState('ready', `${this.readyText()} · folder usage of ${m.usage.images} images below`, false);
        return;
      case 'error':
        this.setState(m.code === 'CANCELLED' ? (this.ins ? 'ready' : 'cancelled') : 'error', m.message, false);
        this.root.dataset.errorCode = m.code ?? '';
        return;
      default:
        return; // the Generate view's messages; responses are settled by the channel
    }
  }

  private readyText(): string {
    const i = this.ins;
    if (!i) return '';
    const chosen = [...new Set(Object.values(i.provider.chosen))].join('+') || 'n/a';
    const total = i.timingsMs.total ?? Object.values(i.timingsMs).reduce((a, b) => a + b, 0);
    return `${i.model.name} · ${chosen} · ${Math.round(total)} ms`;
  }

  /** The status line while tiles stream in: how many are decoded, with Cancel. */
  private showDecoding(): void {
    const ins = this.ins;
    if (!ins) return;
    const bar = h('progress', { testid: 'tile-progress', max: String(ins.total), value: String(ins.done) });
    this.setState('decoding', `Decoding ${ins.done} of ${ins.total} tiles…`, true, bar);
  }

  private setState(state: string, text: string, busy: boolean, progress?: HTMLElement): void {
    this.root.dataset.state = state;
    this.root.setAttribute('aria-busy', String(busy));
    this.status.replaceChildren();
    if (busy) {
      this.status.append(progress ?? progressRing(), h('span', {}, text));
      this.status.append(button('Cancel', { testid: 'cancel', onClick: () => this.request({ type: 'cancel', target: 0 }) }));
    } else {
      this.status.append(h('span', {}, text));
    }
    this.status.classList.toggle('error', state === 'error');
  }

  private persist(): void {
    if (!this.info) return;
    this.host.saveState({
      resource: this.info.resource,
      mode: this.info.mode,
      scale: Math.min(this.scale, 63),
      ablation: this.ablation,
      highlight: this.highlight,
    });
  }

  // ------------------------------------------------------------------ layout

  private renderInspection(ins: ShownInspection): void {
    this.views?.stepper.stopPlay();
    const views: Views = {
      compare: new CompareView(ins),
      stepper: new StepperView(ins, { scale: () => this.scale, pick: (k) => this.stepTo(k), advance: (k) => this.setScale(k) }, this.root),
      maps: new TokenMapsView(ins, {
        scale: () => this.scale,
        highlight: () => this.highlight,
        pick: (k) => this.stepTo(k),
        setHighlight: (hl) => this.setHighlight(hl),
        showTokenRegion: (cell) => this.views?.compare.showTokenRegion(cell),
      }),
      // a one-branch model has nothing to ablate
      ablation: ins.ablation
          ? new AblationView(ins, (which) => {
              this.ablation = which;
              this.persist();
              this.update();
            })
          : undefined,
      usage: new UsageView(ins),
    };
    this.views = views;
    views.usage.fill(this.highlight, undefined);
    this.content.replaceChildren(
      toolbar(this.info, ins, (r) => this.request(r), () => this.scale),
      this.status,
      notes(ins),
      providerDetails(ins),
      views.compare.element,
      views.stepper.element,
      divider(),
      views.maps.element,
      divider(),
      ...(views.ablation ? [views.ablation.element, divider()] : []),
      views.usage.element,
    );
    this.update();
    if (this.folder) this.renderFolderUsage(this.folder);
  }

  /** reveal: a result that just arrived in an inspector is scrolled to (it sits below the image's views). */
  private renderFolderUsage(f: FolderUsageView, reveal = false): void {
    // folder mode (or no image yet): a page of its own
    if (!this.views) this.content.replaceChildren(...folderPage(this.info?.title ?? f.folder, this.status, f, this.highlight));
    else this.views.usage.showFolder(f, this.highlight, reveal);
  }

  // ------------------------------------------------------------------ state changes

  setScale(k: number): void {
    const ins = this.ins;
    if (!ins || !this.views) return;
    const next = clampScale(k, ins.progressive.length);
    if (next === this.scale) return;
    this.scale = next;
    this.views.maps.forgetHover();
    this.views.compare.showTokenRegion(null);
    this.persist();
    this.update();
  }

  /** A scale the user picked (key, button, slider, curve, strip): it ends Play, as a pause would. */
  private stepTo(k: number): void {
    this.views?.stepper.stopPlay();
    this.setScale(k);
  }

  setHighlight(hl: Highlight | null): void {
    this.highlight = hl;
    this.persist();
    this.update();
    this.views?.usage.fill(hl, this.folder);
  }

  private update(): void {
    const v = this.views;
    if (!v) return;
    const k = this.scale;
    this.root.dataset.scale = String(k + 1);
    v.compare.update(k);
    v.stepper.update(k);
    v.usage.update(k);
    v.maps.update(k);
    if (this.highlight) this.root.dataset.highlight = `${this.highlight.branch}:${this.highlight.code}`;
    else delete this.root.dataset.highlight;
    v.ablation?.update(this.ablation);
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
}
