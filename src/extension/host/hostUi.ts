// What the host logic needs from VS Code's UI, as plain interfaces: the controllers, the save flow
// and the backend use these; vscodeUi.ts implements them, unit tests fake them. No `vscode` import.

import type { ErrorAction } from './errors';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface ProgressReporter {
  (message: string, increment?: number): void;
}

export interface HostUi {
  /** cancellable progress notification; `signal` aborts when the user cancels */
  withProgress<T>(title: string, task: (report: ProgressReporter, signal: AbortSignal) => Promise<T>): Promise<T>;
  /** a save dialog; resolves to the chosen absolute path or undefined when dismissed */
  showSaveDialog(options: { defaultPath: string; filters: Record<string, string[]>; title: string }): Promise<string | undefined>;
  /** modal confirmation before replacing an existing file */
  confirmOverwrite(filePath: string): Promise<boolean>;
  showError(message: string, actions: ErrorAction[]): void;
  showInfo(message: string): void;
  /** runs the "Select Model" flow; resolves true when the model setting changed */
  selectModel(): Promise<boolean>;
}
