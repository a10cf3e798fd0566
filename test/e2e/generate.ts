// Generate-view e2e helpers: which model the suite runs on, whether it has a generator, and the
// view's DOM contract (src/webview/generateApp.ts: #app[data-state|data-scale-progress|data-samples],
// data-testid class-picker, generate, generated-sample-<i>, generated-sample-<i>-scale-<k>).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { FatalError, REPO, waitFor } from './harness';

/**
 * Development-only override: IFI_E2E_MODEL=/abs/model-package sets the e2e user settings'
 * imagefolderInspector.modelPath to it (e.g. test/fixtures/tiny-model, to run test 7 before the
 * built-in model has a generator). Unset: the built-in model, as shipped.
 */
export function e2eModelOverride(): string | undefined {
  const dir = process.env.IFI_E2E_MODEL;
  if (!dir) return undefined;
  if (!path.isAbsolute(dir) || !fs.existsSync(path.join(dir, 'manifest.json'))) {
    throw new Error(`IFI_E2E_MODEL must be the absolute path of a model package folder (with manifest.json): ${dir}`);
  }
  return dir;
}

/** The model the suite's extension uses, and why it cannot generate (undefined when it can). */
export function generatorAbsence(): { dir: string; reason?: string } {
  const dir = e2eModelOverride() ?? path.join(REPO, 'models', 'imagefolder-mini');
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) return { dir, reason: `${file} does not exist` };
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { graphs?: Record<string, unknown> };
  if (!m.graphs?.generator) return { dir, reason: `${path.relative(REPO, file) || file} has no graphs.generator (the model has no generator yet)` };
  return { dir };
}

export function classesOf(dir: string): string[] {
  return (JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { classes: string[] }).classes;
}

export interface GenState {
  state: string;
  progress: number;
  samples: number;
  status: string;
  errorCode: string;
}

export async function genState(web: FrameLocator): Promise<GenState> {
  return web.locator('#app').evaluate((el) => ({
    state: el.getAttribute('data-state') ?? '',
    progress: Number(el.getAttribute('data-scale-progress') ?? '0'),
    samples: Number(el.getAttribute('data-samples') ?? '0'),
    status: ((el as unknown as { ownerDocument: { getElementById(id: string): { textContent: string | null } | null } }).ownerDocument.getElementById('status')?.textContent ?? '').trim(),
    errorCode: el.getAttribute('data-error-code') ?? '',
  }));
}

/** Waits for the Generate view to reach `state`; fails at once on an error state. */
export async function waitForGenerate(web: FrameLocator, done: (s: GenState) => boolean, what: string, timeoutMs: number): Promise<GenState> {
  let last: GenState | undefined;
  return waitFor(
    `the Generate view: ${what} (last: ${JSON.stringify(last)})`,
    async () => {
      last = await genState(web);
      if (last.state === 'error') throw new FatalError(`Generate view error: ${last.status} (${last.errorCode})`);
      return done(last) ? last : undefined;
    },
    timeoutMs,
    200,
  );
}

export interface Thumb {
  testid: string;
  src: string;
  width: number;
}

/** The per-scale previews of sample `i`, in order. */
export async function scaleThumbs(web: FrameLocator, i: number): Promise<Thumb[]> {
  return web.locator(`[data-testid="generated-sample-${i}-scales"] img`).evaluateAll((els) =>
    els.map((el) => ({
      testid: el.getAttribute('data-testid') ?? '',
      src: el.getAttribute('src') ?? '',
      width: (el as unknown as { naturalWidth: number }).naturalWidth,
    })),
  );
}
