// Loads dist/webview.js in headless Chromium exactly as VS Code would: the HTML from the host's
// buildWebviewHtml (same strict CSP and nonce, inlined bundle), served from a webview-like origin, theme
// variables on <html>, and a stubbed acquireVsCodeApi that records what the webview posts.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWebviewHtml, makeNonce } from '../../src/extension/host/html';
import { THEMES, type ThemeKind } from './themes';
import { CHROMIUM_ARGS, chromiumPath } from '../support/chromium';
import { repoRoot } from '../support/repo';

export const ORIGIN = 'https://imagefolder-webview.test';

export { repoRoot };

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
}

export interface WebviewPage {
  page: Page;
  console: { type: string; text: string }[];
  pageErrors: string[];
  /** messages the webview posted to the host */
  posted(): Promise<{ kind: string; [k: string]: unknown }[]>;
  state(): Promise<unknown>;
  /** a host -> webview message */
  send(message: unknown): Promise<void>;
  cspViolations(): Promise<string[]>;
  remoteRequests: string[];
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.svg': 'image/svg+xml' };

export async function openWebview(
  browser: Browser,
  o: { theme?: ThemeKind; state?: unknown; width?: number; height?: number; view?: 'inspector' | 'generate' } = {},
): Promise<WebviewPage> {
  const root = repoRoot();
  const theme = THEMES[o.theme ?? 'dark'];
  const context = await browser.newContext({ viewport: { width: o.width ?? 1180, height: o.height ?? 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const consoleMsgs: { type: string; text: string }[] = [];
  const pageErrors: string[] = [];
  const remoteRequests: string[] = [];
  page.on('console', (m) => consoleMsgs.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  const nonce = makeNonce();
  const html = buildWebviewHtml({
    nonce,
    script: fs.readFileSync(path.join(root, 'dist', 'webview.js'), 'utf8'),
    style: fs.readFileSync(path.join(root, 'media', 'inspector.css'), 'utf8'),
    title: 'ImageFolder Inspector',
    view: o.view ?? 'inspector',
  });
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.origin !== ORIGIN) {
      remoteRequests.push(url.href);
      return route.abort();
    }
    if (url.pathname === '/index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
    const file = path.join(root, rel);
    if (!(rel.startsWith('dist/') || rel.startsWith('media/')) || !fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, contentType: TYPES[path.extname(file)] ?? 'application/octet-stream', body: fs.readFileSync(file) });
  });
  await page.addInitScript(
    ({ vars, bodyClass, state }) => {
      const w = window as unknown as Record<string, unknown>;
      const posted: unknown[] = [];
      let saved: unknown = state;
      const violations: string[] = [];
      w.__posted = posted;
      w.__violations = violations;
      w.__getState = () => saved;
      document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`));
      // like VS Code: theme variables on <html>, theme class on <body> (set before any page script)
      const apply = (): boolean => {
        const html = document.documentElement;
        if (!html) return false;
        if (!html.dataset.themed) {
          for (const [k, v] of Object.entries(vars)) html.style.setProperty(k, v);
          html.dataset.themed = 'true';
        }
        if (!document.body) return false;
        document.body.classList.add(bodyClass);
        return true;
      };
      if (!apply()) {
        const obs = new MutationObserver(() => {
          if (apply()) obs.disconnect();
        });
        obs.observe(document, { childList: true, subtree: true });
      }
      let acquired = false;
      w.acquireVsCodeApi = () => {
        if (acquired) throw new Error('acquireVsCodeApi called twice');
        acquired = true;
        return {
          postMessage: (m: unknown) => posted.push(JSON.parse(JSON.stringify(m))),
          getState: () => saved,
          setState: (s: unknown) => {
            saved = JSON.parse(JSON.stringify(s));
            return s;
          },
        };
      };
    },
    { vars: theme.vars, bodyClass: theme.bodyClass, state: o.state },
  );
  await page.goto(`${ORIGIN}/index.html`);
  return {
    page,
    console: consoleMsgs,
    pageErrors,
    remoteRequests,
    posted: () => page.evaluate(() => (window as unknown as { __posted: { kind: string }[] }).__posted),
    state: () => page.evaluate(() => (window as unknown as { __getState: () => unknown }).__getState()),
    send: (message: unknown) => page.evaluate((m) => window.postMessage(m, '*'), message),
    cspViolations: () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations),
  };
}
