// Webview panels and the custom editor: creates them, wires each to an InspectorController, restores
// them after a reload, and refreshes them when the image changes on disk.

import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseWebviewState, type HostToWebview } from '../../../shared/protocol/messages';
import type { InspectorBackend, TokenSource } from '../backend';
import { GeneratedStore, MAX_KEPT } from './generatedStore';
import { buildWebviewHtml, makeNonce } from '../html';
import { InspectorController, type HostUi, type Logger, type InspectorControllerDeps, type InspectorTarget } from './controller';
import type { ResolvedSettings } from '../settings';

export const PANEL_VIEW_TYPE = 'imagefolderInspector.panel';
export const EDITOR_VIEW_TYPE = 'imagefolderInspector.inspector';

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'avif', 'gif', 'tif', 'tiff', 'svg'] as const;

export function isImagePath(p: string): boolean {
  const ext = path.extname(p).slice(1).toLowerCase();
  return (IMAGE_EXTENSIONS as readonly string[]).includes(ext);
}

export const WEBVIEW_OPTIONS: vscode.WebviewOptions & vscode.WebviewPanelOptions = {
  enableScripts: true,
  enableCommandUris: false,
  enableForms: false,
  retainContextWhenHidden: false,
  // nothing is loaded from disk: the script and stylesheet are inlined (see html.ts), images are data: URLs
  localResourceRoots: [],
};

const assetCache = new Map<string, { script: string; style: string }>();

/** The webview bundle and stylesheet, read once per extension folder (they never change while it runs). */
export function webviewAssets(extensionPath: string): { script: string; style: string } {
  let assets = assetCache.get(extensionPath);
  if (!assets) {
    const read = (rel: string): string => {
      try {
        return fs.readFileSync(path.join(extensionPath, rel), 'utf8');
      } catch (e) {
        throw new Error(`the extension's ${rel} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}): reinstall ImageFolder Inspector`);
      }
    };
    assets = { script: read('dist/webview.js'), style: read('media/inspector.css') };
    assetCache.set(extensionPath, assets);
  }
  return assets;
}

interface Entry {
  key: string;
  panel: vscode.WebviewPanel;
  session: InspectorController;
  disposables: vscode.Disposable[];
}

export interface InspectorPanelsDeps {
  context: vscode.ExtensionContext;
  backend: InspectorBackend;
  ui: HostUi;
  log: Logger;
  settings: () => ResolvedSettings;
  /** the inspector's "Generate with this image's … tokens" (generatePanels.ts) */
  openGenerator?: InspectorControllerDeps['openGenerator'];
  /** the inspector's "Swap branches with…" (commands.ts, Swap Branches of Two Images) */
  swapWith?: InspectorControllerDeps['swapWith'];
}

export class InspectorPanels implements vscode.WebviewPanelSerializer, vscode.CustomReadonlyEditorProvider {
  private readonly entries = new Map<string, Entry>();
  private activeKey: string | undefined;
  private readonly generated: GeneratedStore;

  constructor(private readonly deps: InspectorPanelsDeps) {
    this.generated = new GeneratedStore(deps.context.workspaceState);
  }

  private static key(mode: 'image' | 'folder', uri: vscode.Uri, editor = false): string {
    return `${editor ? 'editor' : 'panel'}:${mode}:${uri.toString()}`;
  }

  /** keyed by model and tokens, as an image's panel is keyed by its file */
  private static generatedKey(tokens: TokenSource): string {
    return `panel:generated:${createHash('sha256').update(JSON.stringify([path.resolve(tokens.modelDir), tokens.tokens])).digest('hex')}`;
  }

  /** Session of the focused panel, or of the most recently focused one. */
  activeController(): InspectorController | undefined {
    const e = this.activeKey ? this.entries.get(this.activeKey) : undefined;
    return e?.session ?? [...this.entries.values()].at(-1)?.session;
  }

  controllerFor(uri: vscode.Uri): InspectorController | undefined {
    for (const e of this.entries.values()) if (e.session.target.resource === uri.toString()) return e.session;
    return undefined;
  }

  allControllers(): InspectorController[] {
    return [...this.entries.values()].map((e) => e.session);
  }

  /** Open (or reveal) the inspector panel for an image or folder. */
  open(mode: 'image' | 'folder', uri: vscode.Uri, refresh: boolean): InspectorController {
    const key = InspectorPanels.key(mode, uri);
    const existing = this.entries.get(key);
    if (existing) {
      existing.panel.reveal(undefined, false);
      if (refresh) void existing.session.refresh();
      return existing.session;
    }
    const title = `${mode === 'folder' ? 'Codebook usage' : 'Inspector'}: ${path.basename(uri.fsPath)}`;
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
      WEBVIEW_OPTIONS,
    );
    return this.attach(panel, { mode, path: uri.fsPath, resource: uri.toString() }, key, uri);
  }

  /**
   * An inspector on a generated sample's tokens (the Generate view's "Inspect"). `exportPath`:
   * the folder and file-name stem its exports are offered under. The same sample again reveals
   * its panel. The tokens are kept in the workspace's storage (generatedStore.ts) so that the
   * panel comes back after a window reload.
   */
  openGenerated(tokens: TokenSource, exportPath: string): InspectorController {
    const key = InspectorPanels.generatedKey(tokens);
    const existing = this.entries.get(key);
    if (existing) {
      existing.panel.reveal(undefined, false);
      return existing.session;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, `Inspector: ${tokens.name}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, WEBVIEW_OPTIONS);
    const resource = `imagefolder-generated:${randomUUID()}`;
    this.generated.remember(resource, { tokens, exportPath }).then(undefined, (e: unknown) => {
      this.deps.log.warn(`the generated sample's tokens could not be kept for a reload: ${String(e)}`);
    });
    // like every new panel, it inspects once its webview says it is ready
    return this.attach(panel, { mode: 'generated', path: exportPath, resource, tokens }, key);
  }

  /** watchUri: the image or folder whose changes on disk refresh the panel */
  private attach(panel: vscode.WebviewPanel, target: InspectorTarget, key: string, watchUri?: vscode.Uri): InspectorController {
    const { context } = this.deps;
    const webview = panel.webview;
    webview.options = WEBVIEW_OPTIONS;
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'icon.svg');
    const session = new InspectorController(target, {
      backend: this.deps.backend,
      ui: this.deps.ui,
      log: this.deps.log,
      settings: this.deps.settings,
      post: (m: HostToWebview) => webview.postMessage(m),
      ...(this.deps.openGenerator ? { openGenerator: this.deps.openGenerator } : {}),
      ...(this.deps.swapWith ? { swapWith: this.deps.swapWith } : {}),
    });
    const nonce = makeNonce();
    webview.html = buildWebviewHtml({ nonce, ...webviewAssets(context.extensionUri.fsPath), title: panel.title });
    const disposables: vscode.Disposable[] = [];
    disposables.push(webview.onDidReceiveMessage((m: unknown) => session.handleMessage(m)));
    disposables.push(
      panel.onDidChangeViewState((e) => {
        if (e.webviewPanel.active) this.activeKey = key;
      }),
    );
    if (watchUri && target.mode !== 'generated') disposables.push(...this.watch(session, watchUri, target.mode));
    const entry: Entry = { key, panel, session, disposables };
    this.entries.set(key, entry);
    this.activeKey = key;
    panel.onDidDispose(() => {
      session.dispose();
      for (const d of disposables) d.dispose();
      if (this.entries.get(key) === entry) this.entries.delete(key);
      if (this.activeKey === key) this.activeKey = undefined;
    });
    return session;
  }

  /** Refresh when the image (or an image in the folder) changes on disk. */
  private watch(session: InspectorController, uri: vscode.Uri, mode: 'image' | 'folder'): vscode.Disposable[] {
    if (uri.scheme !== 'file') return [];
    const pattern =
      mode === 'image'
        ? new vscode.RelativePattern(vscode.Uri.joinPath(uri, '..'), path.basename(uri.fsPath))
        : new vscode.RelativePattern(uri, '*.{png,jpg,jpeg,webp,avif,gif,tif,tiff,svg,PNG,JPG,JPEG}');
    const watcher = vscode.workspace.createFileSystemWatcher(pattern);
    let timer: NodeJS.Timeout | undefined;
    const changed = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        this.deps.log.info(`${uri.fsPath} changed on disk; refreshing`);
        void session.refresh();
      }, mode === 'image' ? 300 : 2000);
    };
    return [
      watcher,
      watcher.onDidChange(changed),
      watcher.onDidCreate(changed),
      watcher.onDidDelete(() => {
        if (mode === 'image') {
          this.deps.log.info(`${uri.fsPath} was deleted`);
          session.fileGone();
        } else changed();
      }),
      new vscode.Disposable(() => timer && clearTimeout(timer)),
    ];
  }

  // ---- WebviewPanelSerializer: restore panels after a window reload

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const parsed = parseWebviewState(state);
    if (parsed.ok && parsed.value.mode === 'generated') {
      this.restoreGenerated(panel, parsed.value.resource);
      return;
    }
    let uri: vscode.Uri | undefined;
    if (parsed.ok) {
      try {
        const u = vscode.Uri.parse(parsed.value.resource, true);
        if (u.scheme === 'file' && (parsed.value.mode === 'folder' || isImagePath(u.fsPath))) uri = u;
      } catch {
        uri = undefined;
      }
    }
    if (!parsed.ok || !uri) {
      this.deps.log.warn(`could not restore an inspector panel: ${parsed.ok ? 'bad resource' : parsed.error}`);
      panel.dispose();
      return;
    }
    const mode = parsed.value.mode === 'folder' ? 'folder' : 'image';
    const key = InspectorPanels.key(mode, uri);
    if (this.entries.has(key)) {
      panel.dispose();
      return;
    }
    this.attach(panel, { mode, path: uri.fsPath, resource: uri.toString() }, key, uri);
  }

  private restoreGenerated(panel: vscode.WebviewPanel, resource: string): void {
    const stored = this.generated.recall(resource);
    const gone = stored && !fs.existsSync(stored.tokens.modelDir) ? `the model folder ${stored.tokens.modelDir} no longer exists` : undefined;
    if (!stored || gone) {
      const why = gone ?? `only the latest ${MAX_KEPT} generated samples' tokens are kept`;
      this.deps.log.info(`an inspector of a generated sample is not restored (${why}): open it again from the Generate view's Inspect`);
      if (gone) void this.generated.forget(resource);
      panel.dispose();
      return;
    }
    const key = InspectorPanels.generatedKey(stored.tokens);
    if (this.entries.has(key)) {
      panel.dispose();
      return;
    }
    this.attach(panel, { mode: 'generated', path: stored.exportPath, resource, tokens: stored.tokens }, key);
  }

  // ---- CustomReadonlyEditorProvider: "Open With... > ImageFolder Inspector"

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const base = InspectorPanels.key('image', document.uri, true);
    let key = base;
    for (let i = 2; this.entries.has(key); i++) key = `${base}#${i}`;
    this.attach(panel, { mode: 'image', path: document.uri.fsPath, resource: document.uri.toString() }, key, document.uri);
  }

  dispose(): void {
    for (const e of [...this.entries.values()]) e.panel.dispose();
    this.entries.clear();
  }
}
