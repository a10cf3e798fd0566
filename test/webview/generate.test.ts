// The Generate view (dist/webview.js in headless Chromium, production HTML/CSP) wired to the REAL
// host session and core backend on the tiny test package (test/fixtures/tiny-model): the page's
// posted messages go to GenerateController.handleMessage, the session's messages come back with
// postMessage. Checks the form, progress scale by scale, the final samples, Cancel, validation,
// state restore, and that nothing violates the CSP.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { TokenSource } from '../../src/extension/host/backend';
import { CoreBackend } from '../../src/extension/host/coreBackend';
import { GenerateController } from '../../src/extension/host/generate/controller';
import type { HostUi, Logger, ProgressReporter } from '../../src/extension/host/hostUi';
import { resolveSettings } from '../../src/extension/host/settings';
import type { HostToWebview } from '../../src/shared/protocol/messages';
import { packageWithoutGenerator } from '../unit/host/tinyModel';
import { launch, openWebview, repoRoot, type WebviewPage } from './harness';

const root = repoRoot();
const TINY = path.join(root, 'test', 'fixtures', 'tiny-model');
const manifest = JSON.parse(fs.readFileSync(path.join(TINY, 'manifest.json'), 'utf8')) as { name: string; classes: string[]; scales: number[]; image: { size: number } };
const N = manifest.scales.length;

const quietLog: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

class TestUi implements HostUi {
  saved: string[] = [];
  withProgress<T>(_title: string, task: (report: ProgressReporter, signal: AbortSignal) => Promise<T>): Promise<T> {
    return task(() => undefined, new AbortController().signal);
  }
  showSaveDialog(o: { defaultPath: string }): Promise<string | undefined> {
    this.saved.push(o.defaultPath);
    return Promise.resolve(undefined); // the user dismisses it: nothing is written
  }
  confirmOverwrite(): Promise<boolean> {
    return Promise.resolve(false);
  }
  showError(): void {}
  showInfo(): void {}
  selectModel(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

/**
 * Connects a page to a real GenerateController until `stop()`. With `holdAtScale`, the delivery of
 * that scale's previews completes only once the page has sent a cancel: a deterministic stand-in
 * for a slow machine (the session waits for each delivery before the next scale).
 */
function bridge(
  w: WebviewPage,
  backend: CoreBackend,
  modelPath: string,
  holdAtScale?: number,
): { stop(): void; session: GenerateController; ui: TestUi; inspected: { tokens: TokenSource; exportPath: string }[] } {
  const settings = resolveSettings({
    read: (k) => (k === 'modelPath' ? { globalValue: modelPath } : k === 'provider' ? { globalValue: 'cpu' } : undefined),
    trusted: true,
    extensionRoot: root,
  });
  const ui = new TestUi();
  const inspected: { tokens: TokenSource; exportPath: string }[] = [];
  let stopped = false;
  let cancelled = false;
  const session = new GenerateController(undefined, {
    backend,
    ui,
    log: quietLog,
    settings: () => settings,
    // resolves when the page has the message, like webview.postMessage
    post: async (m: HostToWebview) => {
      await w.send(JSON.parse(JSON.stringify(m))).catch(() => undefined);
      if (m.kind === 'generationScale' && m.scale === holdAtScale) {
        for (let t = 0; t < 1000 && !cancelled && !stopped; t++) await new Promise((r) => setTimeout(r, 20));
      }
    },
    defaultSaveDir: () => os.tmpdir(),
    openInspector: (tokens, exportPath) => void inspected.push({ tokens, exportPath }),
  });
  let seen = 0;
  const pump = async (): Promise<void> => {
    while (!stopped) {
      const posted = await w.posted().catch(() => []);
      for (const m of posted.slice(seen)) {
        // not awaited: a generate request runs while later messages (Cancel) come in
        void session.handleMessage(m);
        if (m.kind === 'request' && (m.request as { type?: string }).type === 'cancel') cancelled = true;
      }
      seen = posted.length;
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  void pump();
  return {
    session,
    ui,
    inspected,
    stop: () => {
      stopped = true;
      session.dispose();
    },
  };
}

const testid = (id: string): string => `[data-testid="${id}"]`;

/** Records every value of #app's data-state and data-scale-progress (a MutationObserver). */
async function recordApp(w: WebviewPage): Promise<void> {
  await w.page.evaluate(() => {
    const app = document.getElementById('app')!;
    const rec = { states: [] as string[], progress: [] as string[] };
    (window as unknown as { __rec: typeof rec }).__rec = rec;
    new MutationObserver((list) => {
      for (const m of list) {
        if (m.attributeName === 'data-state') rec.states.push(app.dataset.state ?? '');
        if (m.attributeName === 'data-scale-progress') rec.progress.push(app.dataset.scaleProgress ?? '');
      }
    }).observe(app, { attributes: true });
  });
}

const recorded = (w: WebviewPage) => w.page.evaluate(() => (window as unknown as { __rec: { states: string[]; progress: string[] } }).__rec);

function assertClean(w: WebviewPage, violations: string[]): void {
  assert.deepEqual(violations, [], 'CSP violations');
  assert.deepEqual(w.console.filter((m) => /Content Security Policy|Refused to/i.test(m.text)), [], 'CSP messages in the console');
  assert.deepEqual(w.console.filter((m) => m.type === 'error'), [], 'console errors');
  assert.deepEqual(w.pageErrors, [], 'uncaught page errors');
  assert.deepEqual(w.remoteRequests, [], 'requests outside the webview origin');
}

describe('Generate view webview (headless Chromium, production CSP, real host session on the tiny package)', function () {
  this.timeout(300_000);
  let browser: Browser;
  let backend: CoreBackend;

  before(async () => {
    browser = await launch();
    backend = new CoreBackend(quietLog);
  });
  after(async () => {
    backend?.dispose();
    await browser?.close();
  });

  it('renders the form, generates with previews scale by scale, ends in final samples, saves state, no CSP violation', async () => {
    const w = await openWebview(browser, { view: 'generate' });
    const b = bridge(w, backend, TINY);
    try {
      await w.page.waitForSelector('#app[data-state="ready"][data-mode="generate"]', { timeout: 60_000 });
      assert.equal(await w.page.getAttribute('#app', 'data-testid'), 'generator');
      const options = await w.page.$$eval(`${testid('class-picker')} option`, (os) => os.map((o) => o.textContent));
      assert.deepEqual(options, manifest.classes);
      assert.equal(await w.page.textContent(testid('model-name')), manifest.name);
      await recordApp(w);

      const last = manifest.classes.length - 1;
      await w.page.selectOption(testid('class-picker'), String(last));
      await w.page.fill(testid('count'), '2');
      await w.page.fill(testid('seed'), '9');
      await w.page.click(testid('generate'));
      await w.page.waitForSelector('#app[data-state="ready"][data-samples="2"]', { timeout: 120_000 });

      const posted = await w.posted();
      const req = posted.find((m) => m.kind === 'request' && (m.request as { type: string }).type === 'generate') as { request: { params: Record<string, unknown> } } | undefined;
      assert.ok(req, 'a generate request');
      assert.deepEqual({ classId: req.request.params.classId, count: req.request.params.count, seed: req.request.params.seed }, { classId: last, count: 2, seed: 9 });
      const rec = await recorded(w);
      assert.deepEqual(rec.states, ['busy', 'ready'], 'busy while generating, then ready');
      assert.deepEqual(rec.progress, ['0', ...Array.from({ length: N }, (_, k) => String(k + 1))], 'progress scale by scale');
      assert.match((await w.page.textContent(testid('generation-summary'))) ?? '', new RegExp(`^${manifest.classes[last]} · cfg .* · seed 9$`));

      const finals: string[] = [];
      for (const i of [0, 1]) {
        const thumbs = await w.page.$$eval(`${testid(`generated-sample-${i}-scales`)} img`, (imgs) =>
          imgs.map((img) => ({ id: (img as HTMLImageElement).dataset.testid, src: img.getAttribute('src') ?? '', w: (img as HTMLImageElement).naturalWidth, ok: (img as HTMLImageElement).complete })),
        );
        assert.deepEqual(thumbs.map((t) => t.id), Array.from({ length: N }, (_, k) => `generated-sample-${i}-scale-${k + 1}`));
        for (const t of thumbs) assert.ok(t.ok && t.w === manifest.image.size && t.src.startsWith('data:image/png;base64,'), `${t.id} decoded`);
        const distinct = new Set(thumbs.map((t) => t.src)).size;
        assert.ok(distinct >= N / 2, `sample ${i}: the preview changed across scales (${distinct} distinct)`);
        const main = await w.page.$eval(testid(`generated-sample-${i}`), (img) => ({ src: img.getAttribute('src') ?? '', w: (img as HTMLImageElement).naturalWidth }));
        assert.equal(main.w, manifest.image.size);
        assert.equal(main.src, thumbs[N - 1].src, 'the final image is the all-scales decode');
        finals.push(main.src);
        assert.equal(await w.page.getAttribute(testid(`generated-sample-${i}-card`), 'data-final'), 'true');
        assert.equal(await w.page.getAttribute(testid(`save-png-${i}`), 'disabled'), null, 'save enabled');
      }
      assert.notEqual(finals[0], finals[1]);

      // Save: the host opens its save dialog (dismissed here: nothing written)
      await w.page.click(testid('save-json-1'));
      await w.page.waitForFunction(() => (window as unknown as { __posted: { kind: string; request?: { type: string } }[] }).__posted.some((m) => m.request?.type === 'saveSample'));
      const save = (await w.posted()).find((m) => m.kind === 'request' && (m.request as { type: string }).type === 'saveSample') as unknown as { request: unknown };
      assert.deepEqual(save.request, { type: 'saveSample', run: 1, sample: 1, format: 'tokens-json' });
      for (let t = 0; t < 100 && b.ui.saved.length === 0; t++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(path.basename(b.ui.saved[0] ?? ''), `${manifest.classes[last]}-seed9-1.tokens.json`);

      // Inspect: the host opens an inspector on that sample's tokens
      await w.page.click(testid('inspect-sample-0'));
      for (let t = 0; t < 100 && b.inspected.length === 0; t++) await new Promise((r) => setTimeout(r, 20));
      const insReq = (await w.posted()).find((m) => m.kind === 'request' && (m.request as { type: string }).type === 'inspectSample') as unknown as { request: unknown };
      assert.deepEqual(insReq.request, { type: 'inspectSample', run: 1, sample: 0 });
      assert.equal(b.inspected.length, 1);
      assert.deepEqual(b.inspected[0].tokens.tokens, b.session.lastGeneration?.samples[0].tokens);

      // settings changed: the host describes the model again; the samples shown stay
      await w.page.$eval(testid('class-picker'), (el) => ((el as HTMLElement).dataset.old = '1'));
      await b.session.refresh();
      await w.page.waitForFunction(() => (document.querySelector('[data-testid="class-picker"]') as HTMLElement | null)?.dataset.old === undefined);
      assert.equal(await w.page.getAttribute(testid('generated-sample-1'), 'src'), finals[1]);
      assert.equal(await w.page.getAttribute('#app', 'data-samples'), '2');

      const state = (await w.state()) as { view: string; params: Record<string, unknown>; reference: unknown; shown: Record<string, unknown> | null };
      assert.equal(state.view, 'generate');
      assert.equal(state.reference, null);
      assert.deepEqual({ classId: state.params.classId, seed: state.params.seed, count: state.params.count }, { classId: last, seed: 9, count: 2 });
      // the samples on screen are remembered by their settings (a reload generates them again)
      assert.deepEqual(state.shown, req.request.params);
      assertClean(w, await w.cspViolations());
    } finally {
      b.stop();
      await w.page.context().close();
    }
  });

  it('names a bad field instead of sending it, and Cancel stops a running generation', async () => {
    const w = await openWebview(browser, { view: 'generate', theme: 'light' });
    const b = bridge(w, backend, TINY, 1);
    try {
      await w.page.waitForSelector('#app[data-state="ready"]', { timeout: 60_000 });
      await w.page.fill(testid('top-p'), '0');
      await w.page.click(testid('generate'));
      assert.match((await w.page.textContent(testid('form-error'))) ?? '', /^top-p must be a number in \(0, 1\]/);
      assert.equal(await w.page.getAttribute('#app', 'data-form-error'), 'true');
      const sent = (await w.posted()).filter((m) => m.kind === 'request');
      assert.deepEqual(sent, [], 'nothing sent');

      await w.page.fill(testid('top-p'), '0.9');
      await w.page.fill(testid('count'), '3');
      assert.equal(await w.page.isVisible(testid('cancel-generation')), false, 'no Cancel while idle');
      await w.page.click(testid('generate'));
      // the bridge holds the run after scale 2 until the page cancels
      await w.page.waitForSelector('#app[data-state="busy"][data-scale-progress="2"]', { timeout: 120_000 });
      assert.equal(await w.page.isVisible(testid('cancel-generation')), true, 'Cancel while running');
      await w.page.click(testid('cancel-generation'));
      await w.page.waitForSelector('#app[data-state="cancelled"]', { timeout: 60_000 });
      assert.equal(await w.page.getAttribute('#app', 'data-samples'), '0', 'no final samples');
      assert.equal(await w.page.getAttribute('#app', 'data-scale-progress'), '2', 'stopped after the scale it was cancelled at');
      assert.equal(await w.page.isVisible(testid('cancel-generation')), false);
      assert.equal(await w.page.getAttribute(testid('generate'), 'disabled'), null, 'Generate available again');
      assertClean(w, await w.cspViolations());
    } finally {
      b.stop();
      await w.page.context().close();
    }
  });

  it('restores its form from the saved state', async () => {
    const params = { classId: 1, cfg: 1.5, topK: 5, topP: 0.8, temperature: 0.7, seed: 1234, count: 3, force: 'none' };
    const w = await openWebview(browser, { view: 'generate', state: { view: 'generate', params, reference: null } });
    const b = bridge(w, backend, TINY);
    try {
      await w.page.waitForSelector('#app[data-state="ready"]', { timeout: 60_000 });
      const values = await w.page.evaluate(() =>
        ['class-picker', 'cfg', 'top-k', 'top-p', 'temperature', 'seed', 'count'].map((id) => (document.querySelector(`[data-testid="${id}"]`) as HTMLInputElement).value),
      );
      assert.deepEqual(values, ['1', '1.5', '5', '0.8', '0.7', '1234', '3']);
      assertClean(w, await w.cspViolations());
    } finally {
      b.stop();
      await w.page.context().close();
    }
  });

  it('restored with samples on screen: generates them again from their settings (not the edited form), the same images', async () => {
    const form = { classId: 0, cfg: 1.5, topK: 5, topP: 0.8, temperature: 0.7, seed: 1234, count: 3, force: 'none' };
    const shown = { classId: 2, cfg: 3, topK: 600, topP: 0.95, temperature: 1, seed: 5, count: 2, force: 'none' };
    const w = await openWebview(browser, { view: 'generate', state: { view: 'generate', params: form, reference: null, shown } });
    const b = bridge(w, backend, TINY);
    try {
      await w.page.waitForSelector('#app[data-state="ready"][data-samples="2"]', { timeout: 120_000 });
      const reqs = (await w.posted()).filter((m) => m.kind === 'request' && (m.request as { type: string }).type === 'generate') as unknown as { request: { params: unknown } }[];
      assert.deepEqual(reqs.map((r) => r.request.params), [shown], 'one generate request, with the shown settings');
      const seed = await w.page.$eval(testid('seed'), (el) => (el as HTMLInputElement).value);
      assert.equal(seed, '1234', 'the form keeps what the user had typed');
      const replayed = await Promise.all([0, 1].map((i) => w.page.getAttribute(testid(`generated-sample-${i}`), 'src')));

      // the same settings typed into the form and generated again: the very same images
      await w.page.selectOption(testid('class-picker'), '2');
      for (const [id, v] of [['cfg', '3'], ['top-k', '600'], ['top-p', '0.95'], ['temperature', '1'], ['seed', '5'], ['count', '2']]) await w.page.fill(testid(id), v);
      const firstRun = await w.page.getAttribute('#app', 'data-run');
      await w.page.click(testid('generate'));
      await w.page.waitForFunction((run) => {
        const app = document.getElementById('app')!;
        return app.dataset.run !== run && app.dataset.state === 'ready' && app.dataset.samples === '2';
      }, firstRun, { timeout: 120_000 });
      const again = await Promise.all([0, 1].map((i) => w.page.getAttribute(testid(`generated-sample-${i}`), 'src')));
      assert.ok(replayed[0]?.startsWith('data:image/png;base64,'));
      assert.deepEqual(again, replayed);
      assertClean(w, await w.cspViolations());
    } finally {
      b.stop();
      await w.page.context().close();
    }
  });

  it('a restored state whose samples no longer apply (a class the model lacks) generates nothing', async () => {
    const form = { classId: 0, cfg: 3, topK: 600, topP: 0.95, temperature: 1, seed: 1, count: 1, force: 'none' };
    const w = await openWebview(browser, { view: 'generate', state: { view: 'generate', params: form, reference: null, shown: { ...form, classId: 50 } } });
    const b = bridge(w, backend, TINY);
    try {
      await w.page.waitForSelector('#app[data-state="ready"]', { timeout: 60_000 });
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await w.posted()).filter((m) => m.kind === 'request' && (m.request as { type: string }).type === 'generate').length, 0);
      assert.equal(((await w.state()) as { shown: unknown }).shown, null);
    } finally {
      b.stop();
      await w.page.context().close();
    }
  });

  it('a model without a generator: an error naming the model, no form', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-wv-nogen-'));
    const dir = packageWithoutGenerator(tmp, 'no-generator-here');
    const w = await openWebview(browser, { view: 'generate' });
    const b = bridge(w, backend, dir);
    try {
      await w.page.waitForSelector('#app[data-state="error"]', { timeout: 60_000 });
      assert.equal(await w.page.getAttribute('#app', 'data-error-code'), 'MODEL_NO_GENERATOR');
      assert.match((await w.page.textContent(testid('status'))) ?? '', /the model "no-generator-here" has no generator/);
      assert.equal(await w.page.$(testid('generate')), null);
      assertClean(w, await w.cspViolations());
    } finally {
      b.stop();
      await w.page.context().close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
