// The Generate view's host logic against the REAL core backend and the tiny test package
// (test/fixtures/tiny-model, which has a generator): generator description, progress scale by scale
// with decoded previews, determinism, teacher forcing, cancellation, validation and saving.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CoreBackend } from '../../../src/extension/host/coreBackend';
import type { TokenSource } from '../../../src/extension/host/backend';
import { GenerateController, generatorMissingMessage, type ReferenceImage } from '../../../src/extension/host/generate/controller';
import { InspectorController } from '../../../src/extension/host/inspector/controller';
import { resolveSettings, type ResolvedSettings } from '../../../src/extension/host/settings';
import type { GenerateParams } from '../../../src/shared/protocol/generate';
import type { HostToWebview } from '../../../src/shared/protocol/messages';
import { FakeUi, MemLog } from './fakes';
import { packageWithoutGenerator, repoRoot, TINY } from './tinyModel';

const root = repoRoot();
const manifest = JSON.parse(fs.readFileSync(path.join(TINY, 'manifest.json'), 'utf8')) as {
  name: string;
  classes: string[];
  scales: number[];
  image: { size: number };
  tokensPerBranch: number;
  branches: { role: string }[];
  generator: { defaults: { cfg: number; topK: number; topP: number; temperature: number } };
};
const N = manifest.scales.length;
const S = manifest.image.size;

function settingsFor(modelPath: string, extra: Record<string, unknown> = {}): ResolvedSettings {
  const values: Record<string, unknown> = { modelPath, provider: 'cpu', ...extra };
  return resolveSettings({ read: (k) => (k in values ? { globalValue: values[k] } : undefined), trusted: true, extensionRoot: root });
}

function pngSize(b64: string): { w: number; h: number } {
  const b = Buffer.from(b64, 'base64');
  assert.equal(b.subarray(1, 4).toString('latin1'), 'PNG', 'a PNG');
  return { w: b.readUInt32BE(16), h: b.readUInt32BE(20) };
}

describe('Generate view host session (real backend, tiny test package)', function () {
  this.timeout(180_000);
  let backend: CoreBackend;
  let tmp: string;

  before(() => {
    backend = new CoreBackend(new MemLog());
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-gen-'));
  });
  after(() => {
    backend.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function setup(o: { reference?: ReferenceImage; force?: 'detail' | 'semantic'; modelPath?: string; settings?: Record<string, unknown>; noInspector?: boolean } = {}) {
    const ui = new FakeUi();
    const log = new MemLog();
    const posted: HostToWebview[] = [];
    const hooks: { onPost?: (m: HostToWebview) => void } = {};
    const settings = settingsFor(o.modelPath ?? TINY, o.settings);
    const post = (m: HostToWebview): void => {
      posted.push(JSON.parse(JSON.stringify(m)) as HostToWebview);
      hooks.onPost?.(m);
    };
    const inspected: { tokens: TokenSource; exportPath: string }[] = [];
    const openInspector = (tokens: TokenSource, exportPath: string): void => void inspected.push({ tokens, exportPath });
    const session = new GenerateController(o.reference, { backend, ui, log, settings: () => settings, post, defaultSaveDir: () => tmp, ...(o.noInspector ? {} : { openInspector }) }, o.force);
    return { ui, log, posted, session, hooks, inspected, settings };
  }

  const params = (p: Partial<GenerateParams> = {}): GenerateParams => ({ classId: 1, cfg: 2, topK: 0, topP: 0.9, temperature: 1, seed: 5, count: 2, force: 'none', ...p });
  const response = (posted: HostToWebview[], id: number) => posted.find((m) => m.kind === 'response' && m.id === id);

  it('answers ready with init and the generator: the package\'s classes and recommended defaults', async () => {
    const { session, posted } = setup();
    await session.handleMessage({ kind: 'ready', protocol: 1 });
    assert.deepEqual(posted.map((m) => m.kind), ['init', 'generator']);
    const init = posted[0];
    assert.ok(init.kind === 'init');
    assert.deepEqual(init.info, { title: 'Generate', resource: '', mode: 'generate' });
    const g = posted[1];
    assert.ok(g.kind === 'generator');
    assert.equal(g.view.model, manifest.name);
    assert.deepEqual(g.view.classes, manifest.classes);
    assert.deepEqual(g.view.scales, manifest.scales);
    const d = manifest.generator.defaults;
    assert.deepEqual(g.view.defaults, { classId: 0, cfg: d.cfg, topK: d.topK, topP: d.topP, temperature: d.temperature, seed: 0, count: 4, force: 'none' });
    assert.equal(g.view.reference, null);
  });

  it('explicit user settings override the package defaults in the form', async () => {
    const { session, posted } = setup({ settings: { 'generation.cfg': 1.5, 'generation.topK': 7, 'generation.seed': 42, 'generation.count': 3 } });
    await session.describe();
    const g = posted.find((m) => m.kind === 'generator');
    assert.ok(g && g.kind === 'generator');
    assert.equal(g.view.defaults.cfg, 1.5);
    assert.equal(g.view.defaults.topK, 7);
    assert.equal(g.view.defaults.topP, manifest.generator.defaults.topP, 'not set: the package value');
    assert.equal(g.view.defaults.seed, 42);
    assert.equal(g.view.defaults.count, 3);
  });

  it('generates with progress scale by scale: a decoded PNG preview per sample per scale, changing across scales, then the final images', async () => {
    const { session, posted, ui, log } = setup();
    await session.handleMessage({ kind: 'ready', protocol: 1 });
    await session.handleMessage({ kind: 'request', id: 3, request: { type: 'generate', params: params() } });
    assert.deepEqual(response(posted, 3), { kind: 'response', id: 3, ok: true });
    const start = posted.find((m) => m.kind === 'generationStart');
    assert.ok(start && start.kind === 'generationStart');
    assert.equal(start.count, 2);
    assert.equal(start.scales, N);
    assert.equal(start.summary.className, manifest.classes[1]);
    const scales = posted.filter((m): m is Extract<HostToWebview, { kind: 'generationScale' }> => m.kind === 'generationScale');
    assert.deepEqual(scales.map((m) => m.scale), [...Array(N).keys()]);
    for (const m of scales) {
      assert.equal(m.run, start.run);
      assert.equal(m.previews.length, 2);
      for (const p of m.previews) assert.deepEqual(pngSize(p), { w: S, h: S });
    }
    for (const i of [0, 1]) {
      const distinct = new Set(scales.map((m) => m.previews[i])).size;
      assert.ok(distinct >= N / 2, `sample ${i}: the preview changed across scales (${distinct} distinct of ${N})`);
    }
    const done = posted.find((m) => m.kind === 'generationDone');
    assert.ok(done && done.kind === 'generationDone');
    assert.deepEqual(done.samples, scales[N - 1].previews, 'the final images are the all-scales decode');
    assert.notEqual(done.samples[0], done.samples[1], 'two samples differ');
    assert.equal(posted.indexOf(done) < posted.indexOf(response(posted, 3)!), true, 'results before the response');
    assert.match(ui.progress[0], new RegExp(`generating 2 ${manifest.classes[1]} samples`));
    assert.ok(log.lines.some((l) => /generated 2 .* with model "tiny-test-model" \(seed 5, cfg 2/.test(l)), log.lines.join('\n'));
    const set = session.lastGeneration!;
    assert.equal(set.samples[0].tokens.length, manifest.branches.length);
    assert.equal(set.samples[0].tokens[0].length, manifest.tokensPerBranch);
  });

  it('is reproducible: the same seed gives the same images, another seed others', async () => {
    const a = setup();
    const b = setup();
    await a.session.generate(params({ count: 1, seed: 11 }));
    await b.session.generate(params({ count: 1, seed: 11 }));
    const c = setup();
    await c.session.generate(params({ count: 1, seed: 12 }));
    const final = (p: HostToWebview[]) => (p.find((m) => m.kind === 'generationDone') as Extract<HostToWebview, { kind: 'generationDone' }>).samples[0];
    assert.equal(final(a.posted), final(b.posted));
    assert.notEqual(final(a.posted), final(c.posted));
  });

  it('teacher forcing keeps the reference image\'s detail tokens at every scale (paper Fig. 8)', async () => {
    const image = path.join(root, 'samples', 'cat-face.png');
    const ref = { path: image, resource: `file://${image}` };
    const { session, posted } = setup({ reference: ref, force: 'detail' });
    await session.handleMessage({ kind: 'ready', protocol: 1 });
    const g = posted.find((m) => m.kind === 'generator');
    assert.ok(g && g.kind === 'generator');
    assert.deepEqual(g.view.reference, { title: 'cat-face.png' });
    assert.equal(g.view.defaults.force, 'detail');
    assert.equal(await session.generate(params({ count: 2, force: 'detail' })), undefined);
    const ins = await backend.inspect(image, { settings: settingsFor(TINY).runtime, signal: new AbortController().signal });
    const detail = manifest.branches.findIndex((b) => b.role === 'detail');
    const semantic = 1 - detail;
    const set = session.lastGeneration!;
    for (const s of set.samples) assert.deepEqual(s.tokens[detail], ins.indices[detail], 'forced detail tokens');
    assert.notDeepEqual(set.samples[0].tokens[semantic], set.samples[1].tokens[semantic], 'semantic tokens sampled');
    assert.equal(set.settings.forced, 'detail');
    const start = posted.find((m) => m.kind === 'generationStart');
    assert.ok(start && start.kind === 'generationStart' && start.summary.reference === 'cat-face.png' && start.summary.forced === 'detail');
  });

  it('cancel stops a running generation: no final images, a cancelled error, the next run works', async () => {
    const { session, posted, hooks } = setup();
    await session.describe();
    // the webview's Cancel as soon as the first preview arrives
    hooks.onPost = (m) => {
      if (m.kind === 'generationScale') void session.handleMessage({ kind: 'request', id: 2, request: { type: 'cancel', target: 0 } });
    };
    await session.handleMessage({ kind: 'request', id: 1, request: { type: 'generate', params: params({ count: 2 }) } });
    hooks.onPost = undefined;
    assert.deepEqual(response(posted, 2), { kind: 'response', id: 2, ok: true, result: 'cancelled' });
    assert.equal(posted.some((m) => m.kind === 'generationDone'), false);
    assert.ok(posted.filter((m) => m.kind === 'generationScale').length < N);
    const e = posted.find((m) => m.kind === 'error');
    assert.ok(e && e.kind === 'error' && e.code === 'CANCELLED');
    const r = response(posted, 1);
    assert.ok(r && r.kind === 'response' && !r.ok && /cancelled/.test(r.error));
    assert.equal(await session.generate(params({ count: 1 })), undefined);
    assert.ok(posted.some((m) => m.kind === 'generationDone'));
  });

  it('refuses a second generation while one runs, and settings the model cannot take, with specific errors', async () => {
    const { session, posted } = setup();
    await session.describe();
    const first = session.generate(params({ count: 1 }));
    assert.match((await session.generate(params())) ?? '', /already running/);
    await first;
    assert.match((await session.generate(params({ classId: manifest.classes.length }))) ?? '', new RegExp(`class must be one of the model's ${manifest.classes.length} classes`));
    assert.match((await session.generate(params({ force: 'detail' }))) ?? '', /needs a reference image/);
    await session.handleMessage({ kind: 'request', id: 9, request: { type: 'export', format: 'tokens-json' } });
    const r = response(posted, 9);
    assert.ok(r && r.kind === 'response' && !r.ok && /not available in the Generate view/.test(r.error));
  });

  it('hostile messages are dropped without running anything', async () => {
    const { session, posted } = setup();
    const bad: unknown[] = [
      { kind: 'request', id: 1, request: { type: 'generate', params: { ...params(), cfg: -1 } } },
      { kind: 'request', id: 2, request: { type: 'generate', params: { ...params(), topP: 0 } } },
      { kind: 'request', id: 3, request: { type: 'generate', params: { ...params(), count: 1000 } } },
      { kind: 'request', id: 4, request: { type: 'generate', params: { ...params(), seed: 2 ** 60 } } },
      { kind: 'request', id: 5, request: { type: 'generate', params: { ...params(), path: '/etc/passwd' } } },
      { kind: 'request', id: 6, request: { type: 'saveSample', run: 1, sample: 0, format: 'png', path: '/tmp/x.png' } },
      { kind: 'request', id: 7, request: { type: 'generate', params: { ...params(), temperature: 0 } } },
      null,
      'generate',
    ];
    for (const m of bad) await session.handleMessage(m);
    assert.deepEqual(posted, []);
    assert.equal(session.rejectedMessages, bad.length);
  });

  it('saves a sample as PNG, tokens JSON and .npy only where the save dialog says, asking before replacing', async () => {
    const { session, posted, ui } = setup();
    await session.describe();
    await session.generate(params({ count: 2, seed: 3 }));
    const done = posted.find((m) => m.kind === 'generationDone') as Extract<HostToWebview, { kind: 'generationDone' }>;
    const set = session.lastGeneration!;
    const dir = path.join(tmp, 'saved');
    fs.mkdirSync(dir);
    const before = fs.readdirSync(tmp).sort();

    ui.saveAnswer = path.join(dir, 'one.png');
    await session.handleMessage({ kind: 'request', id: 20, request: { type: 'saveSample', run: done.run, sample: 1, format: 'png' } });
    assert.equal(fs.readFileSync(ui.saveAnswer).toString('base64'), done.samples[1]);
    assert.equal(path.basename(ui.saveDialogs[0].defaultPath), `${manifest.classes[1]}-seed3-1.png`);
    assert.equal(path.dirname(ui.saveDialogs[0].defaultPath), tmp);

    ui.saveAnswer = path.join(dir, 'one.tokens.json');
    await session.handleMessage({ kind: 'request', id: 21, request: { type: 'saveSample', run: done.run, sample: 0, format: 'tokens-json' } });
    const j = JSON.parse(fs.readFileSync(ui.saveAnswer, 'utf8')) as { format: string; indices: number[][]; byScale: number[][][]; generated: { seed: number; className: string; sample: number } };
    assert.equal(j.format, 'imagefolder-tokens');
    assert.deepEqual(j.indices, set.samples[0].tokens);
    assert.equal(j.byScale[0].length, N);
    assert.deepEqual(j.generated, { ...j.generated, seed: 3, className: manifest.classes[1], sample: 0 });

    ui.saveAnswer = path.join(dir, 'one.tokens.npy');
    await session.handleMessage({ kind: 'request', id: 22, request: { type: 'saveSample', run: done.run, sample: 0, format: 'tokens-npy' } });
    const npy = fs.readFileSync(ui.saveAnswer);
    assert.equal(npy.subarray(1, 6).toString('latin1'), 'NUMPY');
    assert.match(npy.toString('latin1', 10, 80), new RegExp(`'shape': \\(${manifest.branches.length}, ${manifest.tokensPerBranch}\\)`));

    // replacing: the modal is declined, then accepted
    ui.saveAnswer = path.join(dir, 'one.png');
    ui.overwriteAnswer = false;
    await session.handleMessage({ kind: 'request', id: 23, request: { type: 'saveSample', run: done.run, sample: 0, format: 'png' } });
    assert.equal(fs.readFileSync(ui.saveAnswer).toString('base64'), done.samples[1], 'kept');
    assert.deepEqual(ui.overwritePrompts, [ui.saveAnswer]);
    ui.overwriteAnswer = true;
    await session.handleMessage({ kind: 'request', id: 24, request: { type: 'saveSample', run: done.run, sample: 0, format: 'png' } });
    assert.equal(fs.readFileSync(ui.saveAnswer).toString('base64'), done.samples[0], 'replaced');

    // dismissed dialog, a stale run, a sample that does not exist: nothing written
    ui.saveAnswer = undefined;
    await session.handleMessage({ kind: 'request', id: 25, request: { type: 'saveSample', run: done.run, sample: 0, format: 'png' } });
    await session.handleMessage({ kind: 'request', id: 26, request: { type: 'saveSample', run: done.run + 1, sample: 0, format: 'png' } });
    await session.handleMessage({ kind: 'request', id: 27, request: { type: 'saveSample', run: done.run, sample: 5, format: 'png' } });
    const rs = [25, 26, 27].map((id) => response(posted, id));
    assert.deepEqual(rs[0], { kind: 'response', id: 25, ok: true, result: 'cancelled' });
    assert.ok(rs[1] && rs[1].kind === 'response' && !rs[1].ok && /no longer available/.test(rs[1].error));
    assert.ok(rs[2] && rs[2].kind === 'response' && !rs[2].ok && /has 2 sample\(s\); there is no sample 6/.test(rs[2].error));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['one.png', 'one.tokens.json', 'one.tokens.npy']);
    assert.deepEqual(fs.readdirSync(tmp).sort(), before);
  });

  it("Inspect opens an inspector on a sample's tokens: the model's decode of them is the generated image", async () => {
    const { session, posted, inspected, settings, ui } = setup();
    await session.describe();
    await session.generate(params({ count: 2, seed: 4, classId: 2 }));
    const done = posted.find((m) => m.kind === 'generationDone') as Extract<HostToWebview, { kind: 'generationDone' }>;
    const set = session.lastGeneration!;
    await session.handleMessage({ kind: 'request', id: 30, request: { type: 'inspectSample', run: done.run, sample: 1 } });
    assert.deepEqual(response(posted, 30), { kind: 'response', id: 30, ok: true, result: 'opened' });
    assert.equal(inspected.length, 1);
    const { tokens, exportPath } = inspected[0];
    assert.deepEqual(tokens.tokens, set.samples[1].tokens);
    assert.equal(path.resolve(tokens.modelDir), path.resolve(TINY), 'the model that generated them');
    assert.equal(tokens.name, `${manifest.classes[2]}, seed 4, sample 2`);
    assert.match(tokens.notes[0], new RegExp(`^Generated by "${manifest.name}": ${manifest.classes[2]}, seed 4, sample 2 \\(cfg 2, top-k 0, top-p 0.9, temperature 1\\)`));
    assert.equal(exportPath, path.join(tmp, `${manifest.classes[2]}-seed4-1`));

    // the inspector panel's session on those tokens, with the real backend
    const insPosted: HostToWebview[] = [];
    const ins = new InspectorController(
      { mode: 'generated', path: exportPath, resource: 'imagefolder-generated:1', tokens },
      { backend, ui, log: new MemLog(), settings: () => settings, post: (m) => void insPosted.push(JSON.parse(JSON.stringify(m)) as HostToWebview) },
    );
    await ins.handleMessage({ kind: 'ready', protocol: 1 });
    await ins.idle();
    assert.deepEqual(insPosted[0], { kind: 'init', protocol: 1, info: { title: tokens.name, resource: 'imagefolder-generated:1', mode: 'generated' } });
    const inspection = ins.lastInspection!;
    assert.equal(inspection.source, 'tokens');
    assert.deepEqual(inspection.indices, set.samples[1].tokens);
    assert.equal(inspection.progressive.length, N);
    // the same tokens through the same decoder: the full reconstruction is the generated image
    assert.equal(inspection.progressive[N - 1].pngBase64, done.samples[1]);
    assert.equal(inspection.input.pngBase64, done.samples[1]);
    assert.equal(inspection.psnrByScale[N - 1], 100);
    assert.deepEqual(inspection.notes.slice(0, 2), tokens.notes);
    // no folder to aggregate, no image to teacher-force from; exports are offered next to the samples
    await ins.handleMessage({ kind: 'request', id: 1, request: { type: 'folderUsage' } });
    await ins.handleMessage({ kind: 'request', id: 2, request: { type: 'generateFrom', force: 'detail' } });
    const r = [1, 2].map((id) => response(insPosted, id));
    assert.ok(r[0] && r[0].kind === 'response' && !r[0].ok && /generated sample/.test(r[0].error), JSON.stringify(r[0]));
    assert.ok(r[1] && r[1].kind === 'response' && !r[1].ok && /only available in an image inspector/.test(r[1].error));
    ui.saveAnswer = undefined;
    await ins.handleMessage({ kind: 'request', id: 3, request: { type: 'export', format: 'tokens-json' } });
    assert.equal(ui.saveDialogs.at(-1)?.defaultPath, `${exportPath}.tokens.json`);
    ins.dispose();

    // a stale run, a missing sample, and a host that cannot open inspectors: specific errors
    await session.handleMessage({ kind: 'request', id: 31, request: { type: 'inspectSample', run: done.run + 1, sample: 0 } });
    await session.handleMessage({ kind: 'request', id: 32, request: { type: 'inspectSample', run: done.run, sample: 7 } });
    const rs = [31, 32].map((id) => response(posted, id));
    assert.ok(rs[0] && rs[0].kind === 'response' && !rs[0].ok && /no longer available/.test(rs[0].error));
    assert.ok(rs[1] && rs[1].kind === 'response' && !rs[1].ok && /there is no sample 8/.test(rs[1].error));
    assert.equal(inspected.length, 1);
    const other = setup({ noInspector: true });
    await other.session.describe();
    await other.session.generate(params({ count: 1 }));
    const run = (other.posted.find((m) => m.kind === 'generationDone') as Extract<HostToWebview, { kind: 'generationDone' }>).run;
    await other.session.handleMessage({ kind: 'request', id: 33, request: { type: 'inspectSample', run, sample: 0 } });
    const r33 = response(other.posted, 33);
    assert.ok(r33 && r33.kind === 'response' && !r33.ok && /cannot be opened/.test(r33.error));
  });

  it('a reference that is not an image: one clear error naming the problem, and the next run works', async () => {
    const bad = path.join(tmp, 'not-an-image.png');
    fs.writeFileSync(bad, 'just text');
    const { session, posted, ui } = setup({ reference: { path: bad, resource: `file://${bad}` }, force: 'detail' });
    await session.describe();
    const problem = await session.generate(params({ count: 1, force: 'detail' }));
    assert.match(problem ?? '', /^Could not generate 1 .* sample: .*not an image format that can be read/);
    assert.equal(ui.errors.length, 1);
    const e = posted.find((m) => m.kind === 'error');
    assert.ok(e && e.kind === 'error' && /^IMAGE_/.test(e.code ?? ''), JSON.stringify(e));
    assert.equal(await session.generate(params({ count: 1, force: 'none' })), undefined);
  });

  it('closing the panel mid-run stops the generation and posts nothing more', async () => {
    const { session, posted, hooks } = setup();
    await session.describe();
    hooks.onPost = (m) => {
      if (m.kind === 'generationScale') session.dispose();
    };
    assert.equal(await session.generate(params({ count: 2 })), undefined);
    const kinds = posted.map((m) => m.kind);
    assert.deepEqual(kinds, ['generator', 'generationStart', 'generationScale'], 'nothing after the dispose');
    assert.equal(session.busy, false);
  });

  it('a model without a generator: a clear error naming the model, and generate refuses', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'nogen-'));
    const { session, posted } = setup({ modelPath: packageWithoutGenerator(dir) });
    await session.handleMessage({ kind: 'ready', protocol: 1 });
    const e = posted.find((m) => m.kind === 'error');
    assert.ok(e && e.kind === 'error');
    assert.equal(e.code, 'MODEL_NO_GENERATOR');
    assert.match(e.message, /the model "tiny-without-generator" has no generator/);
    assert.match((await session.generate(params())) ?? '', /tiny-without-generator" has no generator/);
    assert.equal(posted.some((m) => m.kind === 'generationStart'), false);
  });

  it('the message for a missing generator names the model and the fallback', () => {
    const text = generatorMissingMessage({ model: 'm', missing: { code: 'MODEL_NO_GENERATOR', message: 'the model "m" has no generator' }, fallbackReason: 'The model at /x could not be used' });
    assert.match(text, /cannot generate images: the model "m" has no generator \(The model at \/x could not be used\)\. Choose a model package/);
  });
});
