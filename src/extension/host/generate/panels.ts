// Generate panels: creates them (after checking that the model has a generator), wires each to a
// GenerateController, and restores them after a window reload (their own view type and serializer,
// so an inspector's restore logic never sees a Generate view's state).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseGenerateState } from '../../../shared/protocol/generate';
import { isImagePath } from '../../core';
import { describeError } from '../errors';
import { GenerateController, generatorMissingMessage, type GenerateControllerDeps, type ReferenceImage } from './controller';
import { PanelHost, type PanelsDeps } from '../panelHost';
import { COMMANDS } from '../vscodeUi';

export const GENERATE_VIEW_TYPE = 'imagefolderInspector.generate';

export interface GeneratePanelsDeps extends PanelsDeps {
  /** a sample's "Inspect" (inspector/panels.ts openGenerated) */
  openInspector?: GenerateControllerDeps['openInspector'];
}

export class GeneratePanels implements vscode.WebviewPanelSerializer {
  private readonly panels: PanelHost<GenerateController>;

  constructor(private readonly deps: GeneratePanelsDeps) {
    this.panels = new PanelHost(deps.context.extensionUri, 'generate');
  }

  private static key(reference: ReferenceImage | undefined): string {
    return reference ? `generate:${reference.resource}` : 'generate:';
  }

  allControllers(): GenerateController[] {
    return this.panels.all().map((e) => e.controller);
  }

  /**
   * "Generate Images" (optionally from an inspector, with its image as the reference): opens the
   * panel when the configured model has a usable generator; otherwise says so, naming the model,
   * and resolves to that text.
   */
  async openChecked(reference?: ReferenceImage, force?: 'detail' | 'semantic'): Promise<string | undefined> {
    const existing = this.panels.get(GeneratePanels.key(reference));
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
      if (force) await existing.controller.setForce(force);
      return undefined;
    }
    const panel = this.panels.create(GENERATE_VIEW_TYPE, reference ? `Generate: ${path.basename(reference.path)}` : 'Generate');
    this.attach(panel, reference, force);
    return undefined;
  }

  private attach(panel: vscode.WebviewPanel, reference: ReferenceImage | undefined, force?: 'detail' | 'semantic'): GenerateController {
    return this.panels.attach(
      panel,
      GeneratePanels.key(reference),
      (post) =>
        new GenerateController(
          reference,
          {
            backend: this.deps.backend,
            ui: this.deps.ui,
            log: this.deps.log,
            settings: this.deps.settings,
            post,
            defaultSaveDir: () => {
              const ws = vscode.workspace.workspaceFolders?.[0]?.uri;
              return ws?.scheme === 'file' ? ws.fsPath : os.homedir();
            },
            ...(this.deps.openInspector ? { openInspector: this.deps.openInspector } : {}),
          },
          force,
        ),
    ).controller;
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
    if (this.panels.has(GeneratePanels.key(reference))) {
      panel.dispose();
      return;
    }
    const force = parsed.value.params.force;
    this.attach(panel, reference, force === 'none' ? undefined : force);
  }

  dispose(): void {
    this.panels.dispose();
  }
}
