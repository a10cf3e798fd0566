// Issue 7, host level: 20 inspections started at once through the activated extension (vscode
// stubbed at the boundary, fakeVscode.ts) with the REAL core backend, the built-in model and real
// images (samples/ plus two made with sharp). Panels are opened as "Tokenize Image" opens them and
// their webviews say `ready` all at once; while the runs queue on the one model, some are cancelled
// from the webview, one from its progress notification, and some panels are closed mid-inference.
// Checked: no unhandled rejection, no error notification, every surviving panel gets exactly the
// tokens a separate one-at-a-time run gives, closed panels receive nothing after closing, and the
// model and its ONNX Runtime sessions (one per graph and worker) are created once and reused by a second wave.
import './vscode-stub';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { ModelRuntime, inspect, type Inspection } from '../../../src/extension/core';
import { CoreBackend } from '../../../src/extension/host/coreBackend';
import { activateWith } from '../../../src/extension/host/extension';
import type { InspectorPanels } from '../../../src/extension/host/inspector/panels';
import { PROTOCOL_VERSION } from '../../../src/shared/protocol/common';
import type { HostToWebview } from '../../../src/shared/protocol/messages';
import * as vscode from './fakeVscode';
import { repoRoot } from '../../support/repo';

const root = repoRoot();
const MODEL = path.join(root, 'models', 'imagefolder-mini');
const hasModel = ['manifest.json', 'encoder.onnx', 'decoder.onnx', 'codebooks.bin'].every((f) => fs.existsSync(path.join(MODEL, f)));
const N = 20;

type Posted = HostToWebview & { inspection?: Inspection; code?: string; message?: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The runtimes the backend keeps (a private field, read only) and the sessions each has created. */
async function backendInternals(backend: CoreBackend): Promise<{ runtimes: ModelRuntime[]; sessions: number[] }> {
  const loaded = (backend as unknown as { loaded: Map<string, { runtime: Promise<ModelRuntime> }> }).loaded;
  const runtimes = await Promise.all([...loaded.values()].map((l) => l.runtime));
  return { runtimes, sessions: runtimes.map((r) => r.sessionsCreated) };
}

describe('extension host under load: 20 inspections at once on the real backend (issue 7)', function () {
  this.timeout(1_200_000); // a shared 2-core machine; a hang still fails
  let dir: string;
  let ctx: ReturnType<typeof vscode.makeContext>;
  let manager: InspectorPanels;
  let backend: CoreBackend | undefined;
  let files: string[] = [];
  /** source image of each of the N files */
  let sourceOf: string[] = [];
  const baseline = new Map<string, number[][]>();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  let loads = 0;
  const originalLoad = ModelRuntime.load;

  before(async function () {
    if (!hasModel) {
      if (process.env.IFI_REQUIRE_REAL_MODEL) throw new Error('built-in model missing');
      console.log('      (skipped: models/imagefolder-mini is not built yet)');
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-hostload-'));
    // real images: the samples (PNG and JPEG), plus a non-square JPEG and a transparent PNG made with sharp
    const sources = ['cat-face.png', 'rocket.png', 'landscape.jpg', 'sunflower.png'].map((f) => path.join(root, 'samples', f));
    const raw = Buffer.alloc(80 * 50 * 3);
    for (let i = 0; i < 80 * 50; i++) raw.set([(i % 80) * 3, Math.floor(i / 80) * 5, 255 - (i % 80) * 3], i * 3);
    const wide = path.join(dir, 'src-wide.jpg');
    await sharp(raw, { raw: { width: 80, height: 50, channels: 3 } }).jpeg({ quality: 92 }).toFile(wide);
    const clear = path.join(dir, 'src-clear.png');
    await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 0.5 } } }).png().toFile(clear);
    sources.push(wide, clear);
    // one-at-a-time reference on an independent runtime
    const rt = await ModelRuntime.load(MODEL, { provider: 'cpu' });
    try {
      for (const s of sources) baseline.set(s, (await inspect(rt, s)).indices);
    } finally {
      await rt.dispose();
    }
    // N distinct files (one panel each), cycling through the sources
    files = [];
    sourceOf = [];
    for (let i = 0; i < N; i++) {
      const s = sources[i % sources.length];
      const f = path.join(dir, `img ${String(i).padStart(2, '0')}${path.extname(s)}`);
      fs.copyFileSync(s, f);
      files.push(f);
      sourceOf.push(s);
    }

    process.on('unhandledRejection', onUnhandled);
    (ModelRuntime as unknown as { load: typeof ModelRuntime.load }).load = (...args: Parameters<typeof ModelRuntime.load>) => {
      loads++;
      return originalLoad.apply(ModelRuntime, args);
    };
    vscode.resetState();
    vscode.state.config.set('imagefolderInspector.provider', { defaultValue: 'auto', globalValue: 'cpu' });
    ctx = vscode.makeContext(root);
    manager = activateWith(ctx as never, (log) => (backend = new CoreBackend(log)));
  });

  after(async () => {
    (ModelRuntime as unknown as { load: typeof ModelRuntime.load }).load = originalLoad;
    for (const d of ctx?.subscriptions ?? []) d.dispose();
    await sleep(50);
    process.removeListener('unhandledRejection', onUnhandled);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const panelOf = (file: string): vscode.FakePanel => {
    const p = vscode.state.panels.find((x) => x.title.endsWith(path.basename(file)));
    assert.ok(p, `a panel for ${file}`);
    return p;
  };
  const posted = (p: vscode.FakePanel) => p.webview.posted as Posted[];
  const results = (p: vscode.FakePanel) => posted(p).filter((m) => m.kind === 'inspection');
  const errors = (p: vscode.FakePanel) => posted(p).filter((m) => m.kind === 'error');
  const ready = (p: vscode.FakePanel) => p.webview.receive.fire({ kind: 'ready', protocol: PROTOCOL_VERSION });
  const cancelFromWebview = (p: vscode.FakePanel, id: number) => p.webview.receive.fire({ kind: 'request', id, request: { type: 'cancel', target: 0 } });

  it('20 panels at once, with cancellations and panels closed mid-inference: correct results, nothing unhandled, nothing after close', async () => {
    const sessions = files.map((f) => manager.open('image', vscode.Uri.file(f) as never, true));
    assert.equal(new Set(sessions).size, N, 'one session per panel');
    assert.equal(vscode.state.panels.length, N);
    const panels = files.map(panelOf);

    // Who gets what (indices into files):
    const cancelAtOnce = new Set([3, 8]); // cancelled from the webview right after starting
    const progressCancel = new Set([5]); // cancelled from the progress notification
    const closeAtOnce = new Set([6, 13]); // panel closed right after starting
    const cancelLater = new Set([11, 17]); // cancelled from the webview once the first results are in
    const closeLater = new Set([15, 19]); // closed once the first results are in
    const untouched = files.map((_, i) => i).filter((i) => ![cancelAtOnce, progressCancel, closeAtOnce, cancelLater, closeLater].some((s) => s.has(i)));

    // every webview says `ready` in the same tick: 20 inspections start at once
    panels.forEach((p, i) => {
      vscode.state.answers.cancelProgress = progressCancel.has(i);
      ready(p);
    });
    vscode.state.answers.cancelProgress = false;
    for (const i of cancelAtOnce) cancelFromWebview(panels[i], 1);
    const postedAtClose = new Map<number, number>();
    for (const i of closeAtOnce) {
      postedAtClose.set(i, posted(panels[i]).length);
      panels[i].dispose();
    }

    // once the first results are in (the rest are still queued on the model), cancel and close more
    const t0 = Date.now();
    while (!panels.some((p) => results(p).length > 0)) {
      if (Date.now() - t0 > 900_000) throw new Error('no inspection finished');
      await sleep(20);
    }
    const doneBeforeCancel = new Set([...cancelLater].filter((i) => results(panels[i]).length > 0));
    for (const i of cancelLater) cancelFromWebview(panels[i], 2);
    for (const i of closeLater) {
      postedAtClose.set(i, posted(panels[i]).length);
      panels[i].dispose();
    }
    await Promise.all(sessions.map((s) => s.idle()));
    await sleep(50); // let any stray rejection surface

    assert.deepEqual(unhandled.map(String), [], 'unhandled rejections');
    assert.deepEqual(vscode.state.messages.filter((m) => m.level === 'error').map((m) => m.text), [], 'error notifications');
    assert.deepEqual(vscode.state.log.filter((l) => l.startsWith('[error]')), [], 'errors in the output channel');

    const correct = (i: number) => {
      const r = results(panels[i]);
      assert.equal(r.length, 1, `${path.basename(files[i])}: one inspection posted, got ${r.length}`);
      assert.deepEqual(r[0].inspection!.indices, baseline.get(sourceOf[i]), `${path.basename(files[i])}: tokens as in a one-at-a-time run of ${path.basename(sourceOf[i])}`);
      assert.equal(r[0].inspection!.model.name, 'imagefolder-mini');
    };
    const cancelled = (i: number) => {
      assert.equal(results(panels[i]).length, 0, `${path.basename(files[i])}: an inspection posted after the cancel`);
      const e = errors(panels[i]);
      assert.equal(e.length, 1, `${path.basename(files[i])}: ${JSON.stringify(e)}`);
      assert.equal(e[0].code, 'CANCELLED');
      assert.match(e[0].message ?? '', /cancelled/);
    };
    for (const i of untouched) {
      correct(i);
      assert.equal(errors(panels[i]).length, 0, `${path.basename(files[i])}: no error`);
    }
    for (const i of [...cancelAtOnce, ...progressCancel]) cancelled(i);
    for (const i of cancelLater) {
      // already finished when cancelled: its result stands; otherwise (queued, or its last decoder
      // run under way) the cancel wins and no result is posted after it
      if (doneBeforeCancel.has(i)) correct(i);
      else cancelled(i);
    }
    for (const i of [...closeAtOnce, ...closeLater]) {
      assert.equal(posted(panels[i]).length, postedAtClose.get(i), `${path.basename(files[i])}: posted to after its panel closed`);
      assert.ok(!manager.allControllers().includes(sessions[i]), 'a closed panel leaves the manager');
    }
    assert.equal(manager.allControllers().length, N - closeAtOnce.size - closeLater.size);
    const finished = panels.filter((p) => results(p).length > 0).length;
    const stopped = panels.filter((p) => errors(p).some((e) => e.code === 'CANCELLED')).length;
    console.log(`      ${finished} finished, ${stopped} cancelled (${cancelLater.size - doneBeforeCancel.size} of them once results were coming in), ${closeAtOnce.size + closeLater.size} closed mid-run`);
    assert.ok(finished >= untouched.length, `${finished} finished`);
    const inspected = vscode.state.log.filter((l) => /^\[info\] inspected /.test(l)).length;
    assert.equal(inspected, finished, 'every finished inspection logged once, none for cancelled or closed panels');
  });

  it('the model and its ONNX Runtime sessions were created once and are reused by a second wave', async () => {
    assert.ok(backend, 'the extension created the real backend');
    assert.equal(loads, 1, 'ModelRuntime.load called once for 20 concurrent inspections');
    assert.equal(vscode.state.log.filter((l) => /loaded from/.test(l)).length, 1, 'one "model loaded" line');
    const before = await backendInternals(backend);
    assert.equal(before.runtimes.length, 1);
    // the encoder's and decoder's sessions in worker 0, and the decoder's in the second worker (CPU)
    assert.equal(before.sessions[0], before.runtimes[0].workerCount === 2 ? 3 : 2);

    // second wave: the surviving panels re-inspect (webview "reinspect"), a closed one is reopened
    const open = manager.allControllers();
    const reopened = manager.open('image', vscode.Uri.file(files[6]) as never, true);
    const panel6 = vscode.state.panels.at(-1)!;
    assert.ok(!panel6.disposed && panel6.title.endsWith(path.basename(files[6])));
    const wave = open.slice(0, 6);
    const counts = wave.map((s) => results(panelOf(s.target.path)).length);
    wave.forEach((s, k) => panelOf(s.target.path).webview.receive.fire({ kind: 'request', id: 100 + k, request: { type: 'reinspect' } }));
    panel6.webview.receive.fire({ kind: 'ready', protocol: PROTOCOL_VERSION });
    await Promise.all([...wave, reopened].map((s) => s.idle()));
    await sleep(50);

    wave.forEach((s, k) => {
      const r = results(panelOf(s.target.path));
      assert.equal(r.length, counts[k] + 1, `${path.basename(s.target.path)}: re-inspected`);
      const i = files.indexOf(s.target.path);
      assert.deepEqual(r.at(-1)!.inspection!.indices, baseline.get(sourceOf[i]));
      assert.ok(posted(panelOf(s.target.path)).some((m) => m.kind === 'response' && (m as { id?: number }).id === 100 + k && (m as { ok?: boolean }).ok));
    });
    const r6 = (panel6.webview.posted as Posted[]).filter((m) => m.kind === 'inspection');
    assert.equal(r6.length, 1);
    assert.deepEqual(r6[0].inspection!.indices, baseline.get(sourceOf[6]));

    const after = await backendInternals(backend);
    assert.equal(loads, 1, 'no second ModelRuntime.load');
    assert.equal(after.runtimes[0], before.runtimes[0], 'the same runtime');
    assert.equal(after.sessions[0], before.sessions[0], 'a session was created again');
    assert.deepEqual(unhandled.map(String), [], 'unhandled rejections');
    assert.deepEqual(vscode.state.log.filter((l) => l.startsWith('[error]')), []);
  });
});
