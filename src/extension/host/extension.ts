// Extension entry point (bundled to dist/extension.js). Activation is cheap: the model runtime and
// its native modules load on first use.

import * as vscode from 'vscode';
import type { InspectorBackend } from './backend';
import { registerCommands } from './commands';
import { createBackend, mementoChoiceCache } from './coreBackend';
import { GENERATE_VIEW_TYPE, GeneratePanels } from './generate/panels';
import { EDITOR_VIEW_TYPE, PANEL_VIEW_TYPE, InspectorPanels } from './inspector/panels';
import type { Logger } from './hostUi';
import { resolveSettings, SECTION, type ResolvedSettings } from './settings';
import { COMMANDS, createLogger, VscodeUi } from './vscodeUi';

export function readSettings(extensionRoot: string): ResolvedSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  return resolveSettings({
    read: (k) => cfg.inspect(k),
    trusted: vscode.workspace.isTrusted,
    extensionRoot,
    workspaceRoot: vscode.workspace.workspaceFolders?.[0]?.uri.scheme === 'file' ? vscode.workspace.workspaceFolders[0].uri.fsPath : undefined,
  });
}

export function activate(context: vscode.ExtensionContext): void {
  // globalState: machine-local, so a choice measured on one machine's GPU never follows Settings Sync
  activateWith(context, (log) => createBackend(log, mementoChoiceCache(context.globalState)));
}

/** Activation with an injectable runtime (tests pass a fake backend). */
export function activateWith(context: vscode.ExtensionContext, makeBackend: (log: Logger) => InspectorBackend): InspectorPanels {
  const channel = vscode.window.createOutputChannel('ImageFolder', { log: true });
  const log = createLogger(channel);
  const root = context.extensionUri.fsPath;
  let warnedIgnored = false;
  const settings = (): ResolvedSettings => {
    const s = readSettings(root);
    if (s.modelPathIgnored && !warnedIgnored) {
      warnedIgnored = true;
      log.warn('workspace is not trusted: the workspace setting imagefolderInspector.modelPath is ignored and the built-in model is used');
    }
    if (s.modelPathProblem) log.warn(s.modelPathProblem);
    return s;
  };
  const backend = makeBackend(log);
  const ui = new VscodeUi(channel, () => Promise.resolve(vscode.commands.executeCommand<boolean>(COMMANDS.selectModel)).then((r) => r === true));
  const generatePanels = new GeneratePanels({
    context,
    backend,
    ui,
    log,
    settings,
    // the manager exists by the time a user can click a sample's Inspect
    openInspector: (tokens, exportPath) => void manager.openGenerated(tokens, exportPath),
  });
  const manager = new InspectorPanels({
    context,
    backend,
    ui,
    log,
    settings,
    openGenerator: (reference, force) => generatePanels.openChecked(reference, force),
    swapWith: async (imagePath) => {
      await vscode.commands.executeCommand(COMMANDS.swapBranches, vscode.Uri.file(imagePath));
    },
  });
  log.info(`ImageFolder Inspector ${String((context.extension.packageJSON as { version?: unknown }).version)} activated (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'untrusted'})`);

  const refreshAll = (why: string): void => {
    const sessions = [...manager.allControllers(), ...generatePanels.allControllers()];
    if (sessions.length === 0) return;
    log.info(`${why}: refreshing ${sessions.length} panel(s)`);
    for (const s of sessions) void s.refresh();
  };

  context.subscriptions.push(
    channel,
    { dispose: () => manager.dispose() },
    { dispose: () => generatePanels.dispose() },
    { dispose: () => backend.dispose() },
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, manager),
    vscode.window.registerWebviewPanelSerializer(GENERATE_VIEW_TYPE, generatePanels),
    vscode.window.registerCustomEditorProvider(EDITOR_VIEW_TYPE, manager, {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: false },
    }),
    ...registerCommands({ manager, generatePanels, backend, log, channel, settings }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.generation`) && !e.affectsConfiguration(`${SECTION}.modelPath`)) return;
      if (e.affectsConfiguration(SECTION)) refreshAll('settings changed');
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => refreshAll('workspace trusted')),
  );
  return manager;
}

export function deactivate(): void {
  // disposables registered on the context are released by VS Code
}
