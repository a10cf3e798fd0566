// One inspector panel's host-side logic: answers its webview's requests, runs inspections with
// progress and cancellation, exports through a confirmed save dialog. No `vscode` import: the
// boundary (panels.ts) supplies `HostUi`, `post` and settings, so this unit-tests with fakes.

import * as path from 'node:path';
import type { Inspection, InspectionHead, TileUpdate } from '../../../shared/types';
import type { ExportFormat, FolderUsageView, PngTarget } from '../../../shared/protocol/inspector';
import type { HostToWebview, PanelInfo, Request } from '../../../shared/protocol/messages';
import type { InspectOptions, InspectorBackend, TokenSource } from '../backend';
import { planExport } from '../exporter';
import { saveThroughDialog } from '../saveFlow';
import type { ResolvedSettings } from '../settings';
import { WebviewChannel, type ChannelDeps, type Responder, type ViewHandlers } from '../webviewChannel';
import { oneBranchSwap } from './branchSwap';

/** What an export writes, for the save dialog's title. */
const EXPORT_WHAT: Record<ExportFormat, string> = { 'tokens-json': 'tokens', 'tokens-npy': 'tokens', png: 'reconstruction', sheet: 'contact sheet' };

interface TargetBase {
  /**
   * absolute path of the image (mode image) or folder (mode folder); mode generated: where its
   * exports are offered (default folder and file-name stem), never read
   */
  path: string;
  /** opaque resource id (a file URI string) for the serializer */
  resource: string;
}

export type InspectorTarget =
  | (TargetBase & { mode: 'image' | 'folder' })
  /** a generated sample: its tokens and the model that made them */
  | (TargetBase & { mode: 'generated'; tokens: TokenSource });

/** The channel's post, log and UI, and what this view's own work needs. */
export interface InspectorControllerDeps extends ChannelDeps {
  backend: InspectorBackend;
  settings: () => ResolvedSettings;
  now?: () => number;
  /**
   * Opens the Generate view with this image as the teacher-forcing reference (the "Generate with
   * this image's detail/semantic tokens" buttons); resolves to an error text when it cannot.
   */
  openGenerator?: (reference: { path: string; resource: string }, force: 'detail' | 'semantic') => Promise<string | undefined>;
  /** "Swap branches with…": runs the Swap Branches command with this image, which asks for the other */
  swapWith?: (imagePath: string) => Promise<void>;
}

export type ExportResult = { written: string } | { cancelled: true };

export class InspectorController {
  private inspection: Inspection | undefined;
  /** the inspection being decoded: what the webview has been sent of it (resent when it reloads) */
  private stream: { head: InspectionHead; tiles: { tile: TileUpdate; done: number }[]; total: number } | undefined;
  private folder: FolderUsageView | undefined;
  private running: AbortController | undefined;
  private runSeq = 0;
  private readonly requests = new Map<number, AbortController>();
  private readonly channel: WebviewChannel;
  private readonly view: ViewHandlers = {
    info: () => this.info,
    ready: () => this.resend(),
    request: (req, answer, id) => this.handleRequest(req, answer, id),
  };
  private disposed = false;
  private pending: Promise<void> | undefined;
  private busyMessage = '';
  private folderRunning = false;

  constructor(
    readonly target: InspectorTarget,
    private readonly deps: InspectorControllerDeps,
  ) {
    this.channel = new WebviewChannel(deps, 'webview');
  }

  get lastInspection(): Inspection | undefined {
    return this.inspection;
  }

  get lastFolderUsage(): FolderUsageView | undefined {
    return this.folder;
  }

  get rejectedMessages(): number {
    return this.channel.rejected;
  }

  get info(): PanelInfo {
    const title = this.target.mode === 'generated' ? this.target.tokens.name : path.basename(this.target.path) || this.target.path;
    return { title, resource: this.target.resource, mode: this.target.mode };
  }

  private post(m: HostToWebview): void {
    void this.channel.post(m);
  }

  /** Entry point for every message the webview sends (the channel validates it); never throws. */
  handleMessage(raw: unknown): Promise<void> {
    return this.channel.receive(raw, this.view);
  }

  /** The webview (re)loaded and has its `init`: send what it should show. */
  private async resend(): Promise<void> {
    // work already under way (e.g. started by a command before the webview loaded): its
    // result will be posted when it ends; repeat what the webview missed: the busy line, and of
    // an inspection being decoded its head and the tiles so far
    if (this.running && this.busyMessage) {
      this.post({ kind: 'busy', message: this.busyMessage });
      const st = this.stream;
      if (st) {
        this.post({ kind: 'inspectionStart', head: st.head, total: st.total });
        for (const t of st.tiles) this.post({ kind: 'tile', tile: t.tile, done: t.done, total: st.total });
      }
    } else if (this.target.mode !== 'folder' && this.inspection) this.post({ kind: 'inspection', inspection: this.inspection });
    else if (this.target.mode === 'folder' && this.folder) this.post({ kind: 'folderUsage', usage: this.folder });
    else await this.refresh();
  }

  private async handleRequest(req: Request, { ok, err }: Responder, id: number): Promise<void> {
    switch (req.type) {
      case 'cancel': {
        if (req.target === 0) {
          this.running?.abort();
          for (const ac of this.requests.values()) ac.abort();
        } else this.requests.get(req.target)?.abort();
        ok('cancelled');
        return;
      }
      case 'reinspect': {
        await this.refresh();
        ok();
        return;
      }
      case 'selectModel': {
        const changed = await this.deps.ui.selectModel();
        ok(changed ? 'changed' : 'unchanged');
        return;
      }
      case 'folderUsage': {
        if (this.target.mode === 'generated') {
          err('Folder usage needs an image or a folder: this panel shows a generated sample.');
          return;
        }
        if (this.folderRunning) {
          err('Folder usage is already being computed.');
          return;
        }
        this.folderRunning = true;
        const ac = new AbortController();
        this.requests.set(id, ac);
        try {
          const usage = await this.computeFolderUsage(this.target.mode === 'folder' ? this.target.path : path.dirname(this.target.path), ac.signal);
          if (usage) ok(`${usage.images} images`);
          else err('cancelled');
        } finally {
          this.requests.delete(id);
          this.folderRunning = false;
        }
        return;
      }
      case 'export': {
        if (this.target.mode === 'folder' || !this.inspection) {
          err('Nothing to export yet: wait for the inspection to finish.');
          return;
        }
        let r: ExportResult;
        try {
          r = req.format === 'png' ? await this.exportAs('png', req.target, req.scale) : await this.exportAs(req.format);
        } catch (e) {
          // e.g. a branch ablation of a one-branch model: said in the panel, not logged as a crash
          this.report(e, 'Could not export');
          err(e instanceof Error ? e.message : String(e));
          return;
        }
        if ('written' in r) ok(`saved ${path.basename(r.written)}`);
        else ok('cancelled');
        return;
      }
      case 'generateFrom': {
        if (this.target.mode !== 'image' || !this.deps.openGenerator) {
          err('Generation from an image is only available in an image inspector.');
          return;
        }
        const problem = await this.deps.openGenerator({ path: this.target.path, resource: this.target.resource }, req.force);
        if (problem) err(problem);
        else ok();
        return;
      }
      case 'swapWith': {
        if (this.target.mode !== 'image' || !this.deps.swapWith) {
          err('Swapping branches is only available in an image inspector.');
          return;
        }
        const model = this.inspection?.model ?? this.stream?.head.model;
        if (model && model.branches.length < 2) {
          err(oneBranchSwap(model.name));
          return;
        }
        await this.deps.swapWith(this.target.path);
        ok();
        return;
      }
      case 'generate':
      case 'saveSample':
      case 'inspectSample':
        err(`${req.type} belongs to the Generate view ("ImageFolder: Generate Images"), not to an inspector.`);
        return;
    }
  }

  /** Re-run the inspection (image mode) or the folder statistics (folder mode). Latest call wins. */
  refresh(): Promise<void> {
    this.running?.abort();
    const p = this.target.mode === 'folder' ? this.runFolder() : this.runInspection();
    this.pending = p;
    return p;
  }

  /** Resolves once the most recent refresh has settled (for tests and the file watcher). */
  async idle(): Promise<void> {
    while (this.pending) {
      const p = this.pending;
      await p;
      if (this.pending === p) this.pending = undefined;
    }
  }

  private async runInspection(): Promise<void> {
    const seq = ++this.runSeq;
    const ac = new AbortController();
    this.running = ac;
    const tokens = this.target.mode === 'generated' ? this.target.tokens : undefined;
    const name = tokens?.name ?? path.basename(this.target.path);
    const settings = this.deps.settings();
    // a generated sample's tokens are only decoded; an image is tokenized first
    const words = tokens ? { ing: 'decoding', Ing: 'Decoding', base: 'decode' } : { ing: 'tokenizing', Ing: 'Tokenizing', base: 'tokenize' };
    this.busyMessage = `${words.Ing} ${name}…`;
    this.post({ kind: 'busy', message: this.busyMessage });
    const t0 = (this.deps.now ?? Date.now)();
    try {
      const ins = await this.deps.ui.withProgress(`ImageFolder: ${words.ing} ${name}`, (report, signal) => {
        if (signal.aborted) ac.abort();
        else signal.addEventListener('abort', () => ac.abort(), { once: true });
        // Tiles go to the webview as they are decoded (the full reconstruction first): on a large
        // model each is a second or more, and the panel shows what it has.
        const onProgress: InspectOptions['onProgress'] = (e) => {
          if (seq !== this.runSeq || this.disposed) return; // superseded
          if (e.kind === 'head') {
            this.stream = { head: e.head, tiles: [], total: e.total };
            this.post({ kind: 'inspectionStart', head: e.head, total: e.total });
          }
          this.stream?.tiles.push({ tile: e.tile, done: e.done });
          this.post({ kind: 'tile', tile: e.tile, done: e.done, total: e.total });
          report(`${e.done}/${e.total} tiles`, 100 / e.total);
        };
        const options = { settings: settings.runtime, signal: ac.signal, onProgress };
        return tokens ? this.deps.backend.inspectTokens(tokens, options) : this.deps.backend.inspect(this.target.path, options);
      });
      if (seq !== this.runSeq || this.disposed) return; // superseded
      this.inspection = ins;
      this.stream = undefined;
      const ms = (this.deps.now ?? Date.now)() - t0;
      const chosen = Object.entries(ins.provider.chosen)
        .map(([g, p]) => `${g}=${p}`)
        .join(', ');
      const timings = Object.entries(ins.timingsMs)
        .map(([k, v]) => `${k} ${Math.round(v)} ms`)
        .join(', ');
      this.deps.log.info(`inspected ${tokens ? `tokens "${name}"` : this.target.path} with model "${ins.model.name}" (${ins.model.dir}); provider ${chosen || 'n/a'}; total ${Math.round(ms)} ms${timings ? `; ${timings}` : ''}`);
      if (ins.provider.choice) this.deps.log.info(`provider choice: ${ins.provider.choice.reason}${ins.provider.choice.cached ? ' (measured earlier on this machine)' : ''}`);
      for (const s of ins.provider.skipped) this.deps.log.info(`provider ${s.provider} skipped: ${s.reason}`);
      for (const n of ins.notes) this.deps.log.info(`note: ${n}`);
      this.post({ kind: 'inspection', inspection: ins });
    } catch (e) {
      if (seq !== this.runSeq || this.disposed) return;
      this.stream = undefined;
      this.report(e, `Could not ${words.base} ${name}`, tokens ? undefined : name);
    } finally {
      if (this.running === ac) this.running = undefined;
    }
  }

  private async runFolder(): Promise<void> {
    const ac = new AbortController();
    this.running = ac;
    try {
      await this.computeFolderUsage(this.target.path, ac.signal);
    } finally {
      if (this.running === ac) this.running = undefined;
    }
  }

  private async computeFolderUsage(folder: string, outer: AbortSignal): Promise<FolderUsageView | undefined> {
    const name = path.basename(folder) || folder;
    const settings = this.deps.settings();
    this.busyMessage = `Computing codebook usage for ${name}…`;
    this.post({ kind: 'busy', message: this.busyMessage });
    const t0 = (this.deps.now ?? Date.now)();
    try {
      const usage = await this.deps.ui.withProgress(`ImageFolder: codebook usage of ${name}`, (report, signal) => {
        const ac = new AbortController();
        const abort = (): void => ac.abort();
        if (signal.aborted || outer.aborted) ac.abort();
        signal.addEventListener('abort', abort, { once: true });
        outer.addEventListener('abort', abort, { once: true });
        let last = 0;
        return this.deps.backend.folderUsage(folder, {
          settings: settings.runtime,
          signal: ac.signal,
          onProgress: (p) => {
            const pct = p.total > 0 ? (100 * p.done) / p.total : 0;
            report(`${p.done}/${p.total}${p.current ? ` ${path.basename(p.current)}` : ''}`, pct - last);
            last = pct;
          },
        });
      });
      if (this.disposed) return undefined;
      this.folder = usage;
      this.deps.log.info(`folder usage of ${folder}: ${usage.images} images (${usage.failed} failed) in ${Math.round((this.deps.now ?? Date.now)() - t0)} ms`);
      this.post({ kind: 'folderUsage', usage });
      return usage;
    } catch (e) {
      if (!this.disposed) this.report(e, `Could not compute codebook usage for ${name}`);
      return undefined;
    }
  }

  private report(e: unknown, subject: string, file?: string): void {
    this.channel.report(e, subject, file);
  }

  /** Export through a save dialog the user confirms; never overwrites without a second confirmation. */
  async exportAs(format: ExportFormat, target: PngTarget = 'progressive', scale?: number): Promise<ExportResult> {
    const ins = this.inspection;
    if (!ins) throw new Error('no inspection to export');
    const k = scale ?? ins.progressive.length - 1;
    // a generated sample has no file: its exports are named after the sample (class, seed, number)
    const plan = await planExport(this.target.mode === 'generated' ? { ...ins, image: path.basename(this.target.path) } : ins, format, target, k);
    const r = await saveThroughDialog(this.deps.ui, plan, {
      defaultDir: path.dirname(this.target.path),
      title: `Export ${EXPORT_WHAT[format]} of ${path.basename(this.target.path)}`,
    });
    if ('failed' in r) {
      this.report(r.failed, `Could not export to ${r.path}`);
      return { cancelled: true };
    }
    if ('cancelled' in r) return r;
    const chosen = r.written;
    this.deps.log.info(`exported ${format} (${plan.bytes.length} bytes) to ${chosen}`);
    this.deps.ui.showInfo(`ImageFolder: saved ${path.basename(chosen)}`);
    return { written: chosen };
  }

  /** The file went away (deleted or renamed on disk). */
  fileGone(): void {
    this.running?.abort();
    this.post({ kind: 'error', message: `${path.basename(this.target.path)} no longer exists on disk.`, code: 'IMAGE_NOT_FOUND' });
  }

  dispose(): void {
    this.disposed = true;
    this.channel.close();
    this.running?.abort();
    for (const ac of this.requests.values()) ac.abort();
    this.requests.clear();
  }
}

