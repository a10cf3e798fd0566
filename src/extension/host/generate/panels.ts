// Generate panels: creates them (after checking that the model has a generator), wires each to a
// GenerateController, and restores them after a window reload (their own view type and serializer,
// so an inspector's restore logic never sees a Generate view's state).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseGenerateState, type HostToWebview } from '../../../shared/protocol/messages';
import type { InspectorBackend } from '../backend';
import { describeError } from '../errors';
import { GenerateController, generatorMissingMessage, type GenerateControllerDeps, type ReferenceImage } from './controller';
import { buildWebviewHtml, makeNonce } from '../html';
import { isImagePath, WEBVIEW_OPTIONS, webviewAssets } from '../inspector/panels';
import type { HostUi, Logger } from '../inspector/controller';
import type { ResolvedSettings } from '../settings';
import { COMMANDS } from '../vscodeUi';

export const GENERATE_VIEW_TYPE = 'imagefolderInspector.generate';

export interface GeneratePanelsDeps {
  context: vscode.ExtensionContext;
  backend: InspectorBackend;
  ui: HostUi;
  log: Logger;
  settings: () => ResolvedSettings;
  /** a sample's "Inspect" (panels.ts openGenerated) */
  openInspector?: GenerateControllerDeps['openInspector'];
}

interface Entry {
  key: string;
  panel: vscode.WebviewPanel;
  session: GenerateController;
}

export class GeneratePanels implements vscode.WebviewPanelSerializer {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly deps: GeneratePanelsDeps) {}

  private static key(reference: ReferenceImage | undefined): string {
    return reference ? `generate:${reference.resource}` : 'generate:';
  }

  allControllers(): GenerateController[] {
    return [...this.entries.values()].map((e) => e.session);
  }

  /**
   * "Generate Images" (optionally from an inspector, with its image as the reference): opens the
   * panel when the configured model has a usable generator; otherwise says so, naming the model,
   * and resolves to that text.
   */
  async openChecked(reference?: ReferenceImage, force?: 'detail' | 'semantic'): Promise<string | undefined> {
    const existing = this.entries.get(GeneratePanels.key(reference));
    let problem: string | undefined;
    try {
      const info = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'ImageFolder: loading the generator' }, () =>
        this.deps.backend.generatorInfo(this.deps.settings().runtime),
      );
      if (info.missing) problem = generatorMissingMessage(info);
    } catch (e) {
      problem = describeError(e, 'ImageFolder: the model could not be loaded').message;
    }
    if (problem) {
      this.deps.log.warn(problem);
      void vscode.window.showInformationMessage(problem, 'Select Model').then((c) => c && vscode.commands.executeCommand(COMMANDS.selectModel));
      return problem;
    }
    if (existing) {
      existing.panel.reveal(undefined, false);
      if (force) await existing.session.setForce(force);
      return undefined;
    }
    const title = reference ? `Generate: ${path.basename(reference.path)}` : 'Generate';
    const panel = vscode.window.createWebviewPanel(GENERATE_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, WEBVIEW_OPTIONS);
    this.attach(panel, reference, force);
    return undefined;
  }

  private attach(panel: vscode.WebviewPanel, reference: ReferenceImage | undefined, force?: 'detail' | 'semantic'): GenerateController {
    const { context } = this.deps;
    const key = GeneratePanels.key(reference);
    const webview = panel.webview;
    webview.options = WEBVIEW_OPTIONS;
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'icon.svg');
    const session = new GenerateController(
      reference,
      {
        backend: this.deps.backend,
        ui: this.deps.ui,
        log: this.deps.log,
        settings: this.deps.settings,
        post: (m: HostToWebview) => webview.postMessage(m),
        defaultSaveDir: () => {
          const ws = vscode.workspace.workspaceFolders?.[0]?.uri;
          return ws?.scheme === 'file' ? ws.fsPath : os.homedir();
        },
        ...(this.deps.openInspector ? { openInspector: this.deps.openInspector } : {}),
      },
      force,
    );
    webview.html = buildWebviewHtml({ nonce: makeNonce(), ...webviewAssets(context.extensionUri.fsPath), title: panel.title, view: 'generate' });
    const sub = webview.onDidReceiveMessage((m: unknown) => session.handleMessage(m));
    const entry: Entry = { key, panel, session };
    this.entries.set(key, entry);
    panel.onDidDispose(() => {
      session.dispose();
      sub.dispose();
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return session;
  }

  // ---- WebviewPanelSerializer: restore Generate panels after a window reload

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const parsed = parseGenerateState(state);
    if (!parsed.ok) {
      this.deps.log.warn(`could not restore a Generate panel: ${parsed.error}`);
      panel.dispose();
      return;
    }
    let reference: ReferenceImage | undefined;
    if (parsed.value.reference !== null) {
      let uri: vscode.Uri | undefined;
      try {
        uri = vscode.Uri.parse(parsed.value.reference, true);
      } catch {
        uri = undefined;
      }
      if (!uri || uri.scheme !== 'file' || !isImagePath(uri.fsPath)) {
        this.deps.log.warn('could not restore a Generate panel: its reference is not a local image');
        panel.dispose();
        return;
      }
      // a reference deleted since: the panel comes back without teacher forcing
      if (fs.existsSync(uri.fsPath)) reference = { path: uri.fsPath, resource: uri.toString() };
      else this.deps.log.warn(`Generate panel restored without its reference: ${uri.fsPath} no longer exists`);
    }
    if (this.entries.has(GeneratePanels.key(reference))) {
      panel.dispose();
      return;
    }
    const force = parsed.value.params.force;
    this.attach(panel, reference, force === 'none' ? undefined : force);
  }

  dispose(): void {
    for (const e of [...this.entries.values()]) e.panel.dispose();
    this.entries.clear();
  }
}
