// The `vscode` side of HostUi: notifications, progress, dialogs. Kept thin on purpose.

import * as vscode from 'vscode';
import type { ErrorAction } from './errors';
import type { HostUi, Logger, ProgressReporter } from './hostUi';

export const COMMANDS = {
  tokenize: 'imagefolderInspector.tokenize',
  openInspector: 'imagefolderInspector.openInspector',
  generate: 'imagefolderInspector.generate',
  folderUsage: 'imagefolderInspector.folderUsage',
  selectModel: 'imagefolderInspector.selectModel',
  exportTokens: 'imagefolderInspector.exportTokens',
  swapBranches: 'imagefolderInspector.swapBranches',
} as const;

export function createLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m) => channel.error(m),
  };
}

export class VscodeUi implements HostUi {
  constructor(
    private readonly channel: vscode.OutputChannel,
    private readonly runSelectModel: () => Promise<boolean>,
  ) {}

  withProgress<T>(title: string, task: (report: ProgressReporter, signal: AbortSignal) => Promise<T>): Promise<T> {
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
        const ac = new AbortController();
        const sub = token.onCancellationRequested(() => ac.abort());
        return task((message, increment) => progress.report({ message, increment }), ac.signal).finally(() => sub.dispose());
      }),
    );
  }

  async showSaveDialog(options: { defaultPath: string; filters: Record<string, string[]>; title: string }): Promise<string | undefined> {
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(options.defaultPath),
      filters: options.filters,
      title: options.title,
      saveLabel: 'Export',
    });
    if (!uri) return undefined;
    if (uri.scheme !== 'file') {
      void vscode.window.showErrorMessage('ImageFolder: export is only possible to a local file.');
      return undefined;
    }
    return uri.fsPath;
  }

  async confirmOverwrite(filePath: string): Promise<boolean> {
    const choice = await vscode.window.showWarningMessage(
      `"${filePath}" already exists. Replace it?`,
      { modal: true },
      'Replace',
    );
    return choice === 'Replace';
  }

  showError(message: string, actions: ErrorAction[]): void {
    void vscode.window.showErrorMessage(message, ...actions).then((choice) => {
      if (choice === 'Show Log') this.channel.show(true);
      else if (choice === 'Select Model') void vscode.commands.executeCommand(COMMANDS.selectModel);
      else if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'imagefolderInspector');
    });
  }

  showInfo(message: string): void {
    void vscode.window.showInformationMessage(message);
  }

  selectModel(): Promise<boolean> {
    return this.runSelectModel();
  }
}
