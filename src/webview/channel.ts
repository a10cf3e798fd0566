// The webview's end of the protocol, for both views: requests carry ids and resolve with the
// host's `response`, log lines go to the host's log, state is kept by VS Code across reloads.

import type { HostToWebview, Request, WebviewToHost } from '../shared/protocol/messages';

/** The host's answer to one request. */
export interface Reply {
  ok: boolean;
  result?: string;
  error?: string;
}

/** What a view (inspector/app.ts, generate/app.ts) needs of the host; S: its persisted state. */
export interface ViewHost<S> {
  request(r: Request): Promise<Reply>;
  saveState(s: S): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** VS Code's webview API (acquireVsCodeApi). */
export interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

export class Channel<S> implements ViewHost<S> {
  private nextId = 1;
  private readonly pending = new Map<number, (r: Reply) => void>();

  constructor(private readonly vscode: VsCodeApi) {}

  request(r: Request): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.vscode.postMessage({ kind: 'request', id, request: r });
    });
  }

  saveState(s: S): void {
    this.vscode.setState(s);
  }

  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.vscode.postMessage({ kind: 'log', level, message: message.slice(0, 2000) });
  }

  /** Settles the request a `response` answers; true when `m` was one (the view never sees it). */
  settle(m: HostToWebview): boolean {
    if (m.kind !== 'response') return false;
    const cb = this.pending.get(m.id);
    this.pending.delete(m.id);
    cb?.(m.ok ? { ok: true, result: m.result } : { ok: false, error: m.error });
    return true;
  }
}
