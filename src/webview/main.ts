// Webview entry point (bundled to dist/webview.js). Talks to the host only through the shared
// protocol: requests carry ids, the host answers with `response` messages.

import {
  PROTOCOL_VERSION,
  isHostMessage,
  parseGenerateState,
  parseWebviewState,
  type GenerateState,
  type HostToWebview,
  type Request,
  type WebviewState,
  type WebviewToHost,
} from '../shared/protocol/messages';
import { App } from './inspector/app';
import { GenerateApp } from './generate/app';
import { registerToolkit } from './toolkit';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: WebviewState | GenerateState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let nextId = 1;
const pending = new Map<number, (r: { ok: boolean; result?: string; error?: string }) => void>();

function request(r: Request): Promise<{ ok: boolean; result?: string; error?: string }> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    vscode.postMessage({ kind: 'request', id, request: r });
  });
}

function log(level: 'info' | 'warn' | 'error', message: string): void {
  vscode.postMessage({ kind: 'log', level, message: message.slice(0, 2000) });
}

registerToolkit();
// One bundle, two views: the host's HTML says which (#app[data-view], html.ts).
const generateView = document.getElementById('app')?.dataset.view === 'generate';
let app: { receive(m: HostToWebview): void };
if (generateView) {
  const restored = parseGenerateState(vscode.getState());
  app = new GenerateApp({ request, saveState: (s) => vscode.setState(s), log }, restored.ok ? restored.value : undefined);
} else {
  const restored = parseWebviewState(vscode.getState());
  app = new App({ request, saveState: (s) => vscode.setState(s), log }, restored.ok ? restored.value : undefined);
}

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const m = e.data;
  if (!isHostMessage(m)) return;
  const msg = m as HostToWebview;
  if (msg.kind === 'response') {
    const cb = pending.get(msg.id);
    pending.delete(msg.id);
    cb?.(msg.ok ? { ok: true, result: msg.result } : { ok: false, error: msg.error });
    return;
  }
  try {
    app.receive(msg);
  } catch (err) {
    log('error', `render failed: ${err instanceof Error ? err.message : String(err)}`);
  }
});

window.addEventListener('error', (e) => log('error', `${e.message} (${e.filename}:${e.lineno})`));

vscode.postMessage({ kind: 'ready', protocol: PROTOCOL_VERSION });
