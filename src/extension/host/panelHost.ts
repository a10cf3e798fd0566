// What both panel managers (inspector/panels.ts, generate/panels.ts) do with a webview panel:
// create it with the locked-down options, give it the icon and the inlined HTML of its view, wire
// its messages to the panel's controller, keep it by key, and release everything when it closes.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HostToWebview } from '../../shared/protocol/messages';
import type { InspectorBackend } from './backend';
import type { HostUi, Logger } from './hostUi';
import { buildWebviewHtml, makeNonce, type HtmlParts } from './html';
import type { ResolvedSettings } from './settings';

/** What both panel managers are given by the extension (each adds its own cross-panel actions). */
export interface PanelsDeps {
  context: vscode.ExtensionContext;
  backend: InspectorBackend;
  ui: HostUi;
  log: Logger;
  settings: () => ResolvedSettings;
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

/** What a panel manager needs of a panel's controller. */
export interface PanelController {
  handleMessage(raw: unknown): Promise<void>;
  dispose(): void;
}

export interface PanelEntry<C extends PanelController> {
  key: string;
  panel: vscode.WebviewPanel;
  controller: C;
}

export class PanelHost<C extends PanelController> {
  private readonly entries = new Map<string, PanelEntry<C>>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly view: NonNullable<HtmlParts['view']>,
  ) {}

  get(key: string): PanelEntry<C> | undefined {
    return this.entries.get(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** open panels, oldest first */
  all(): PanelEntry<C>[] {
    return [...this.entries.values()];
  }

  /** A new panel beside the active editor. */
  create(viewType: string, title: string): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(viewType, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, WEBVIEW_OPTIONS);
  }

  /**
   * Makes `panel` (new, restored or a custom editor's) show this view, driven by the controller
   * `make` returns for the panel's `post`. `disposables` (made once the controller exists) and
   * `onClose` are released with the panel.
   */
  attach(
    panel: vscode.WebviewPanel,
    key: string,
    make: (post: (m: HostToWebview) => PromiseLike<boolean>) => C,
    more: { disposables?: (controller: C) => vscode.Disposable[]; onClose?: () => void } = {},
  ): PanelEntry<C> {
    const webview = panel.webview;
    webview.options = WEBVIEW_OPTIONS;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.svg');
    const controller = make((m) => webview.postMessage(m));
    webview.html = buildWebviewHtml({ nonce: makeNonce(), ...webviewAssets(this.extensionUri.fsPath), title: panel.title, view: this.view });
    const disposables = [webview.onDidReceiveMessage((m: unknown) => controller.handleMessage(m)), ...(more.disposables?.(controller) ?? [])];
    const entry: PanelEntry<C> = { key, panel, controller };
    this.entries.set(key, entry);
    panel.onDidDispose(() => {
      controller.dispose();
      for (const d of disposables) d.dispose();
      if (this.entries.get(key) === entry) this.entries.delete(key);
      more.onClose?.();
    });
    return entry;
  }

  dispose(): void {
    for (const e of [...this.entries.values()]) e.panel.dispose();
    this.entries.clear();
  }
}
