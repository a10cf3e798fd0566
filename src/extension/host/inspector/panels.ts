// Webview panels and the custom editor: creates them, wires each to an InspectorController, restores
// them after a reload, and refreshes them when the image changes on disk.

import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseWebviewState } from '../../../shared/protocol/inspector';
import type { TokenSource } from '../backend';
import { GeneratedStore, MAX_KEPT } from './generatedStore';
import { IMAGE_EXTENSIONS, isImagePath } from '../../core';
import { PanelHost, type PanelsDeps } from '../panelHost';
import { InspectorController, type InspectorControllerDeps, type InspectorTarget } from './controller';

export const PANEL_VIEW_TYPE = 'imagefolderInspector.panel';
export const EDITOR_VIEW_TYPE = 'imagefolderInspector.inspector';

export interface InspectorPanelsDeps extends PanelsDeps {
  /** the inspector's "Generate with this image's … tokens" (generate/panels.ts) */
  openGenerator?: InspectorControllerDeps['openGenerator'];
  /** the inspector's "Swap branches with…" (commands.ts, Swap Branches of Two Images) */
  swapWith?: InspectorControllerDeps['swapWith'];
}

export class InspectorPanels implements vscode.WebviewPanelSerializer, vscode.CustomReadonlyEditorProvider {
  private readonly panels: PanelHost<InspectorController>;
  private activeKey: string | undefined;
  private readonly generated: GeneratedStore;

  constructor(private readonly deps: InspectorPanelsDeps) {
    this.generated = new GeneratedStore(deps.context.workspaceState);
    this.panels = new PanelHost(deps.context.extensionUri, 'inspector');
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
    const e = this.activeKey ? this.panels.get(this.activeKey) : undefined;
    return e?.controller ?? this.panels.all().at(-1)?.controller;
  }

  controllerFor(uri: vscode.Uri): InspectorController | undefined {
    return this.panels.all().find((e) => e.controller.target.resource === uri.toString())?.controller;
  }

  allControllers(): InspectorController[] {
    return this.panels.all().map((e) => e.controller);
  }

  /** Open (or reveal) the inspector panel for an image or folder. */
  open(mode: 'image' | 'folder', uri: vscode.Uri, refresh: boolean): InspectorController {
    const key = InspectorPanels.key(mode, uri);
    const existing = this.panels.get(key);
    if (existing) {
      existing.panel.reveal(undefined, false);
      if (refresh) void existing.controller.refresh();
      return existing.controller;
    }
    const panel = this.panels.create(PANEL_VIEW_TYPE, `${mode === 'folder' ? 'Codebook usage' : 'Inspector'}: ${path.basename(uri.fsPath)}`);
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
    const existing = this.panels.get(key);
    if (existing) {
      existing.panel.reveal(undefined, false);
      return existing.controller;
    }
    const panel = this.panels.create(PANEL_VIEW_TYPE, `Inspector: ${tokens.name}`);
    const resource = `imagefolder-generated:${randomUUID()}`;
    this.generated.remember(resource, { tokens, exportPath }).then(undefined, (e: unknown) => {
      this.deps.log.warn(`the generated sample's tokens could not be kept for a reload: ${String(e)}`);
    });
    // like every new panel, it inspects once its webview says it is ready
    return this.attach(panel, { mode: 'generated', path: exportPath, resource, tokens }, key);
  }

  /** watchUri: the image or folder whose changes on disk refresh the panel */
  private attach(panel: vscode.WebviewPanel, target: InspectorTarget, key: string, watchUri?: vscode.Uri): InspectorController {
    const { controller } = this.panels.attach(
      panel,
      key,
      (post) =>
        new InspectorController(target, {
          backend: this.deps.backend,
          ui: this.deps.ui,
          log: this.deps.log,
          settings: this.deps.settings,
          post,
          ...(this.deps.openGenerator ? { openGenerator: this.deps.openGenerator } : {}),
          ...(this.deps.swapWith ? { swapWith: this.deps.swapWith } : {}),
        }),
      {
        disposables: (controller) => [
          panel.onDidChangeViewState((e) => {
            if (e.webviewPanel.active) this.activeKey = key;
          }),
          ...(watchUri && target.mode !== 'generated' ? this.watch(controller, watchUri, target.mode) : []),
        ],
        onClose: () => {
          if (this.activeKey === key) this.activeKey = undefined;
        },
      },
    );
    this.activeKey = key;
    return controller;
  }

  /** Refresh when the image (or an image in the folder) changes on disk. */
  private watch(controller: InspectorController, uri: vscode.Uri, mode: 'image' | 'folder'): vscode.Disposable[] {
    if (uri.scheme !== 'file') return [];
    const pattern =
      mode === 'image'
        ? new vscode.RelativePattern(vscode.Uri.joinPath(uri, '..'), path.basename(uri.fsPath))
        : new vscode.RelativePattern(uri, `*.{${[...IMAGE_EXTENSIONS, ...IMAGE_EXTENSIONS.map((e) => e.toUpperCase())].join(',')}}`);
    const watcher = vscode.workspace.createFileSystemWatcher(pattern);
    let timer: NodeJS.Timeout | undefined;
    const changed = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        this.deps.log.info(`${uri.fsPath} changed on disk; refreshing`);
        void controller.refresh();
      }, mode === 'image' ? 300 : 2000);
    };
    return [
      watcher,
      watcher.onDidChange(changed),
      watcher.onDidCreate(changed),
      watcher.onDidDelete(() => {
        if (mode === 'image') {
          this.deps.log.info(`${uri.fsPath} was deleted`);
          controller.fileGone();
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
    if (this.panels.has(key)) {
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
    if (this.panels.has(key)) {
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
    for (let i = 2; this.panels.has(key); i++) key = `${base}#${i}`;
    this.attach(panel, { mode: 'image', path: document.uri.fsPath, resource: document.uri.toString() }, key, document.uri);
  }

  dispose(): void {
    this.panels.dispose();
  }
}
