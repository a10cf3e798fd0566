// What both panel controllers (inspector/controller.ts, generate/controller.ts) do with their
// webview: post without ever throwing, validate every incoming message (counting and logging the
// rejected ones), copy the webview's log lines into the host's log, answer `ready` with `init`,
// answer requests, and report errors to the log, the webview and a notification. Each controller
// keeps only its own view's messages (its `ViewHandlers`). No `vscode` import.

import { PROTOCOL_VERSION } from '../../shared/protocol/common';
import { parseWebviewMessage, type HostToWebview, type PanelInfo, type Request } from '../../shared/protocol/messages';
import { describeError } from './errors';
import type { HostUi, Logger } from './hostUi';

export interface ChannelDeps {
  post: (message: HostToWebview) => void | PromiseLike<unknown>;
  log: Logger;
  ui: HostUi;
}

/** The `ok` and `error` answers to one request. */
export interface Responder {
  ok: (result?: string) => void;
  err: (error: string) => void;
}

/** What one view does with the validated messages (log lines and the `init` handshake are handled here). */
export interface ViewHandlers {
  /** the panel's title, resource and mode, sent in `init` when the webview says it is ready */
  info: () => PanelInfo;
  /** after `init`: what this view sends a (re)loaded webview next */
  ready: () => Promise<void>;
  /** one request; `id` names it for a later `cancel` */
  request: (request: Request, answer: Responder, id: number) => Promise<void>;
}

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
  responder(id: number): Responder {
    return {
      ok: (result) => void this.post({ kind: 'response', id, ok: true, ...(result === undefined ? {} : { result }) }),
      err: (error) => void this.post({ kind: 'response', id, ok: false, error }),
    };
  }

  /**
   * Entry point for every message the webview sends: validates it first, logs `log` messages,
   * answers `ready` with `init` and then `view.ready`, hands requests to `view.request`. Dropped once
   * closed (the panel is gone). Never throws.
   */
  async receive(raw: unknown, view: ViewHandlers): Promise<void> {
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
      if (msg.kind === 'request') return await view.request(msg.request, this.responder(msg.id), msg.id);
      void this.post({ kind: 'init', protocol: PROTOCOL_VERSION, info: view.info() });
      await view.ready();
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
