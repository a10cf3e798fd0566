// Inspector-specific e2e helpers: the webview DOM contract (data-testid and #app[data-state]) of
// src/webview/app.ts, read through the real VS Code webview frames.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { FatalError, log, RESULTS, waitFor, type Workbench } from './harness';

export const TOKENIZE = /Tokenize Image/;
/**
 * Time allowed for one inspection (model load + encode + 2N+2 decodes): ~3 s on an idle 2-core
 * machine, 36 s seen while a training run and other tests shared it.
 */
export const INSPECT_TIMEOUT = Number(process.env.IMAGEFOLDER_E2E_INSPECT_MS) || 240_000;

// Minimal structural DOM types for code that runs in the page (this tsconfig has no DOM lib).
interface DomNode {
  ownerDocument: { getElementById(id: string): { textContent: string | null } | null };
}
interface DomImage {
  getAttribute(name: string): string | null;
  naturalWidth: number;
  naturalHeight: number;
  complete: boolean;
}
interface DomCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

export interface AppState {
  state: string;
  scale: number;
  status: string;
  errorCode: string;
}

export async function appState(web: FrameLocator): Promise<AppState> {
  const app = web.locator('#app');
  return app.evaluate((el) => ({
    state: el.getAttribute('data-state') ?? '',
    scale: Number(el.getAttribute('data-scale') ?? '0'),
    status: ((el as unknown as DomNode).ownerDocument.getElementById('status')?.textContent ?? '').trim(),
    errorCode: el.getAttribute('data-error-code') ?? '',
  }));
}

/** Waits until the visible inspector reaches one of `states`; fails fast on an unexpected error. */
export async function waitForInspector(wb: Workbench, states: string[] = ['ready'], timeoutMs = INSPECT_TIMEOUT, web?: FrameLocator): Promise<AppState> {
  let last: AppState | undefined;
  return waitFor(
    `the inspector to be ${states.join('|')} (last: ${JSON.stringify(last)})`,
    async () => {
      last = await appState(web ?? wb.webview());
      if (states.includes(last.state)) return last;
      if (last.state === 'error' && !states.includes('error')) throw new FatalError(`inspector error: ${last.status} (${last.errorCode})`);
      return undefined;
    },
    timeoutMs,
    500,
  ).catch((e: unknown) => {
    // fail with what the inspector showed
    throw new Error(`${String(e)}; last state ${JSON.stringify(last)}`);
  });
}

export interface ImgInfo {
  src: string;
  naturalWidth: number;
  naturalHeight: number;
  complete: boolean;
}

export async function imgInfo(web: FrameLocator, testid: string): Promise<ImgInfo> {
  return web.locator(`img[data-testid="${testid}"]`).first().evaluate((el) => {
    const img = el as unknown as DomImage;
    return { src: img.getAttribute('src') ?? '', naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, complete: img.complete };
  });
}

/** Waits until an <img> has decoded a real picture. */
export async function expectImage(web: FrameLocator, testid: string): Promise<ImgInfo> {
  return waitFor(
    `image ${testid} to load`,
    async () => {
      const i = await imgInfo(web, testid);
      return i.complete && i.naturalWidth > 0 && i.naturalHeight > 0 && i.src.length > 0 ? i : undefined;
    },
    15_000,
  );
}

/** Number of distinct colours of a canvas (a drawn token map has many; a blank one has one). */
export async function canvasColours(web: FrameLocator, testid: string): Promise<{ width: number; height: number; colours: number }> {
  return web.locator(`canvas[data-testid="${testid}"]`).first().evaluate((el) => {
    const c = el as unknown as DomCanvas;
    const ctx = c.getContext('2d');
    if (!ctx || c.width === 0 || c.height === 0) return { width: c.width, height: c.height, colours: 0 };
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < d.length && seen.size < 1000; i += 4 * 7) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return { width: c.width, height: c.height, colours: seen.size };
  });
}

export function parseDb(text: string): number {
  const m = /(-?\d+(?:\.\d+)?)\s*dB/.exec(text);
  if (m) return Number(m[1]);
  if (/∞/.test(text)) return Infinity;
  throw new Error(`not a PSNR: "${text}"`);
}

export async function psnr(web: FrameLocator): Promise<number> {
  return parseDb((await web.locator('[data-testid="psnr"]').first().textContent()) ?? '');
}

export async function sliderMax(web: FrameLocator): Promise<number> {
  return Number(await web.locator('[data-testid="scale-slider"]').first().getAttribute('max'));
}

/** Gives the webview keyboard focus without clicking a control. */
export async function focusWebview(web: FrameLocator): Promise<void> {
  await web.locator('[data-testid="title"]').first().click();
}

/** Presses a key inside the webview and waits until #app[data-scale] equals `expected`. */
export async function pressAndExpectScale(wb: Workbench, key: string, expected: number, web: FrameLocator = wb.webview()): Promise<void> {
  await web.locator('body').press(key);
  await waitFor(`scale ${expected} after ${key}`, async () => (await appState(web)).scale === expected, 10_000, 100);
}

/** Opens the inspector for an explorer file via the context menu, waits for it and returns its document. */
export async function tokenizeFromExplorer(wb: Workbench, file: string, states: string[] = ['ready']): Promise<FrameLocator> {
  await wb.contextMenuWithEffect(file, TOKENIZE, async () => (await wb.tabTitles()).some((t) => t.includes(file)), 90_000);
  const web = await wb.webviewFor(file, INSPECT_TIMEOUT);
  const s = await waitForInspector(wb, states, INSPECT_TIMEOUT, web);
  log(`${file}: ${s.state} "${s.status}"`);
  return web;
}

export function pngSize(dataUrl: string): number {
  return Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ''), 'base64').length;
}

export function assertNoWebviewProblems(wb: Workbench): void {
  const csp = wb.cspViolations();
  const errors = wb.webviewErrors();
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `console-${wb.label}.json`);
  fs.writeFileSync(file, JSON.stringify({ console: wb.console, pageErrors: wb.pageErrors }, null, 1));
  const brief = (list: string[]): string => {
    const uniq = [...new Set(list.map((t) => t.replace(/'nonce-[^']+'/g, "'nonce-…'").replace(/'sha256-[^']+'/g, "'sha256-…'").slice(0, 400)))];
    return `${list.length} message(s), ${uniq.length} distinct (all in ${file}):\n  ${uniq.slice(0, 5).join('\n  ')}`;
  };
  assert.ok(csp.length === 0, `CSP violations in the console: ${brief(csp.map((c) => `${c.text} @ ${c.url}`))}`);
  assert.ok(errors.length === 0, `errors in the webview console: ${brief(errors.map((c) => `${c.type}: ${c.text} @ ${c.url}`))}`);
}
