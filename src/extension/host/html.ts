// Builds a webview's HTML, the inspector's or the Generate view's (one bundle: `data-view` on #app
// says which view it builds). Pure: testable without VS Code. Strict CSP: the script and
// the stylesheet are inlined and allowed only by the per-load nonce, images only from data: URLs,
// nothing loaded from any origin.
//
// Why inline rather than asWebviewUri: webview resource URLs are served by a service worker, and
// after a window reload that worker can miss requests, which then escape to the literal
// vscode-resource.vscode-cdn.net host and fail (code-server 4.100 under load; coder/code-server#7892,
// microsoft/vscode#326956): the restored panel stays blank. Inline content has no such dependency.

import { randomBytes } from 'node:crypto';

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export interface HtmlParts {
  nonce: string;
  /** the webview bundle's text (dist/webview.js) */
  script: string;
  /** the stylesheet's text (media/inspector.css) */
  style: string;
  title: string;
  /** which view the bundle builds: the inspector (default) or the Generate view */
  view?: 'inspector' | 'generate';
}

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    'img-src data:',
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "font-src 'none'",
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** For double-quoted attributes: single quotes (CSP keywords) stay readable. */
export function escapeAttr(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

/**
 * Script text safe inside <script>: `</script`, `<script` and `<!--` would end or confuse the
 * element (the bundle has `<!--` in template literals). They only occur inside strings, templates
 * and regular expressions, where `\x3C` means the same `<`. The source map comment is dropped: it
 * would resolve against the webview document.
 */
export function inlineScript(text: string): string {
  return text.replace(/<(?=\/?script|!--)/gi, '\\x3C').replace(/^\/\/# sourceMappingURL=.*$/gm, '');
}

/** Stylesheet text safe inside <style>. */
export function inlineStyle(text: string): string {
  return text.replace(/<(?=\/style)/gi, '\\3C ').replace(/^\/\*# sourceMappingURL=.*\*\/$/gm, '');
}

export function buildWebviewHtml(p: HtmlParts): string {
  const csp = contentSecurityPolicy(p.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta property="csp-nonce" content="${p.nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${p.nonce}">
${inlineStyle(p.style)}
</style>
<title>${escapeHtml(p.title)}</title>
</head>
<body>
<main id="app" data-testid="${p.view === 'generate' ? 'generator' : 'inspector'}" data-view="${p.view ?? 'inspector'}" data-state="loading" aria-busy="true">
<p id="status" data-testid="status" role="status">Loading ${p.view === 'generate' ? 'the Generate view' : 'inspector'}…</p>
</main>
<script nonce="${p.nonce}">
${inlineScript(p.script)}
</script>
</body>
</html>`;
}
