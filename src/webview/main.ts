// Webview entry point (bundled to dist/webview.js). Talks to the host only through the shared
// protocol (channel.ts): requests carry ids, the host answers with `response` messages.

import { PROTOCOL_VERSION } from '../shared/protocol/common';
import { parseGenerateState, type GenerateState } from '../shared/protocol/generate';
import { parseWebviewState, type WebviewState } from '../shared/protocol/inspector';
import { isHostMessage, type HostToWebview } from '../shared/protocol/messages';
import { Channel, type VsCodeApi } from './channel';
import { GenerateApp } from './generate/app';
import { App } from './inspector/app';
import { registerToolkit } from './toolkit';

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

registerToolkit();
// One bundle, two views: the host's HTML says which (#app[data-view], html.ts).
const generateView = document.getElementById('app')?.dataset.view === 'generate';
let channel: Channel<GenerateState> | Channel<WebviewState>;
let app: { receive(m: HostToWebview): void };
if (generateView) {
  const restored = parseGenerateState(vscode.getState());
  const c = new Channel<GenerateState>(vscode);
  channel = c;
  app = new GenerateApp(c, restored.ok ? restored.value : undefined);
} else {
  const restored = parseWebviewState(vscode.getState());
  const c = new Channel<WebviewState>(vscode);
  channel = c;
  app = new App(c, restored.ok ? restored.value : undefined);
}

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const m = e.data;
  if (!isHostMessage(m)) return;
  if (channel.settle(m)) return;
  try {
    app.receive(m);
  } catch (err) {
    channel.log('error', `render failed: ${err instanceof Error ? err.message : String(err)}`);
  }
});

window.addEventListener('error', (e) => channel.log('error', `${e.message} (${e.filename}:${e.lineno})`));

vscode.postMessage({ kind: 'ready', protocol: PROTOCOL_VERSION });
