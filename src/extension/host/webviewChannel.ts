// What both panel controllers (inspector/controller.ts, generate/controller.ts) do with their
// webview: post without ever throwing, validate every incoming message (counting and logging the
// rejected ones), copy the webview's log lines into the host's log, answer requests, and report
// errors to the log, the webview and a notification. No `vscode` import.

import { parseWebviewMessage, type HostToWebview, type Request } from '../../shared/protocol/messages';
import { describeError } from './errors';
import type { HostUi, Logger } from './hostUi';

export interface ChannelDeps {
  post: (message: HostToWebview) => void | PromiseLike<unknown>;
  log: Logger;
  ui: HostUi;
}

/** A validated message the controller acts on (log lines are handled here). */
export type ControllerMessage = { kind: 'ready' } | { kind: 'request'; id: number; request: Request };

export class WebviewChannel {
  private rejectedCount = 0;
  private closed = false;

  /** `source` names the view in log lines ("webview", "Generate view"). */
  constructor(
    private readonly deps: ChannelDeps,
    private readonly source: string,
  ) {}

  /** messages that failed validation so far */
  get rejected(): number {
    return this.rejectedCount;
  }

  /** The panel is gone: later posts are dropped. */
  close(): void {
    this.closed = true;
  }

  /** Posts to the webview; resolves once delivered (never rejects: a closed panel just drops it). */
  post(m: HostToWebview): Promise<void> {
    if (this.closed) return Promise.resolve();
    try {
      const r = this.deps.post(m);
      if (r && typeof (r as PromiseLike<unknown>).then === 'function') {
        return Promise.resolve(r as PromiseLike<unknown>).then(
          () => undefined,
          () => undefined,
        );
      }
    } catch {
      // panel already gone
    }
    return Promise.resolve();
  }

  /** The `ok` and `error` answers to request `id`. */
  responder(id: number): { ok: (result?: string) => void; err: (error: string) => void } {
    return {
      ok: (result) => void this.post({ kind: 'response', id, ok: true, ...(result === undefined ? {} : { result }) }),
      err: (error) => void this.post({ kind: 'response', id, ok: false, error }),
    };
  }

  /**
   * Entry point for every message the webview sends: validates it first, logs `log` messages,
   * hands `ready` and requests to `handle`. Never throws.
   */
  async receive(raw: unknown, handle: (m: ControllerMessage) => Promise<void>): Promise<void> {
    if (this.closed) return;
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.rejectedCount++;
      if (this.rejectedCount <= 10 || this.rejectedCount % 100 === 0) {
        this.deps.log.warn(`rejected ${this.source} message #${this.rejectedCount}: ${parsed.error}`);
      }
      return;
    }
    const msg = parsed.value;
    try {
      if (msg.kind === 'log') {
        // its text was validated and truncated: one line of the host's log
        this.deps.log[msg.level](`${this.source}: ${msg.message.replace(/[\r\n]+/g, ' ')}`);
        return;
      }
      await handle(msg.kind === 'ready' ? { kind: 'ready' } : msg);
    } catch (e) {
      this.deps.log.error(`${this.source} message handling failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }

  /**
   * Reports a failure: logged (with the stack for bugs), posted to the webview, and shown as a
   * notification unless it was a cancellation. Returns the message text.
   */
  report(e: unknown, subject: string, file?: string): string {
    const d = describeError(e, subject, file);
    if (d.cancelled) this.deps.log.info(d.message);
    else this.deps.log.error(`${d.message}${!d.user && e instanceof Error && e.stack ? `\n${e.stack}` : ''}`);
    void this.post({ kind: 'error', message: d.message, code: d.code });
    if (!d.cancelled) this.deps.ui.showError(d.message, d.actions);
    return d.message;
  }
}
