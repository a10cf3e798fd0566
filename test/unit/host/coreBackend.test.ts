// The real backend over the runtime core and the built-in model: inspection, folder usage, and the
// fallback to the built-in model when the configured one is broken.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { branchSwaps } from '../../../src/extension/host/inspector/branchSwap';
import { CoreBackend } from '../../../src/extension/host/coreBackend';
import { resolveSettings } from '../../../src/extension/host/settings';
import { MemLog } from './fakes';
import { repoRoot } from '../../support/repo';

const root = repoRoot();
const hasModel = fs.existsSync(path.join(root, 'models', 'imagefolder-mini', 'manifest.json'));

describe('core backend (real runtime, built-in model)', function () {
  this.timeout(120_000);
  let backend: CoreBackend;
  let log: MemLog;
  let tmp: string;

  before(function () {
    if (!hasModel) {
      if (process.env.IFI_REQUIRE_REAL_MODEL) throw new Error('built-in model missing');
      console.log('      (skipped: models/imagefolder-mini is not built yet)');
      this.skip();
    }
  });
  // one backend for the suite: the model is loaded once, as in the extension
  before(() => {
    log = new MemLog();
    backend = new CoreBackend(log);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-core-'));
  });
  after(() => {
    backend?.dispose();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const settings = (modelPath = '') =>
    resolveSettings({ read: (k) => (k === 'modelPath' ? { globalValue: modelPath } : k === 'provider' ? { globalValue: 'cpu' } : undefined), trusted: true, extensionRoot: root }).runtime;

  it('inspects a sample image and reuses the loaded model', async () => {
    const s = settings();
    const ac = new AbortController();
    const a = await backend.inspect(path.join(root, 'samples', 'cat-face.png'), { settings: s, signal: ac.signal });
    assert.equal(a.indices.length, 2);
    assert.equal(a.indices[0].length, a.model.tokensPerBranch);
    assert.equal(a.progressive.length, a.model.scales.length);
    const b = await backend.inspect(path.join(root, 'samples', 'rocket.png'), { settings: s, signal: ac.signal });
    assert.equal(b.model.name, a.model.name);
    assert.equal(log.lines.filter((l) => /loaded from/.test(l)).length, 1, 'model loaded once');
  });

  it('work running on a runtime that new settings replace finishes on it; one folder spelled two ways is one runtime', async () => {
    const cat = path.join(root, 'samples', 'cat-face.png');
    const signal = new AbortController().signal;
    const one = { ...settings(), threads: 1 };
    const two = { ...settings(), threads: 2 };
    // the second call replaces the first call's runtime while the first is still loading and decoding
    const [a, b] = await Promise.all([backend.inspect(cat, { settings: one, signal }), backend.inspect(cat, { settings: two, signal })]);
    assert.deepEqual(a.indices, b.indices);
    assert.equal(a.psnrByScale.at(-1), b.psnrByScale.at(-1));
    // a generated sample names its model by the runtime's own (real) folder; a link to it is the same folder
    const linked = path.join(tmp, 'linked-model');
    fs.symlinkSync(two.builtInModelDir, linked);
    const loads = () => log.lines.filter((l) => /loaded from/.test(l)).length;
    const before = loads();
    const t = await backend.inspectTokens({ tokens: a.indices, modelDir: linked, name: 'linked', notes: [] }, { settings: two, signal });
    assert.deepEqual(t.indices, a.indices);
    assert.equal(loads(), before, 'no second runtime for the same folder');
  });

  it("swaps two images' branches: each mix decodes one image's detail tokens with the other's semantic ones", async () => {
    const s = settings();
    const signal = new AbortController().signal;
    const images = ['cat-face.png', 'rocket.png'].map((f) => path.join(root, 'samples', f));
    const a = await backend.inspect(images[0], { settings: s, signal });
    const b = await backend.inspect(images[1], { settings: s, signal });
    // the swap encodes both images in one run, without inspecting them: the same tokens
    const encoded = await backend.encode(images, { settings: s, signal });
    assert.deepEqual(encoded.map((e) => e.indices), [a.indices, b.indices]);
    assert.deepEqual(encoded.map((e) => [e.image, e.model.dir]), images.map((i) => [i, a.model.dir]));
    const detail = a.model.branches.findIndex((x) => x.role === 'detail');
    const semantic = a.model.branches.findIndex((x) => x.role === 'semantic');
    const [ab, ba] = branchSwaps(encoded[0], encoded[1]);
    const mab = await backend.inspectTokens(ab.tokens, { settings: s, signal });
    const mba = await backend.inspectTokens(ba.tokens, { settings: s, signal });
    assert.deepEqual(mab.indices[detail], a.indices[detail]);
    assert.deepEqual(mab.indices[semantic], b.indices[semantic]);
    assert.deepEqual(mba.indices[detail], b.indices[detail]);
    assert.deepEqual(mba.indices[semantic], a.indices[semantic]);
    assert.equal(mab.source, 'tokens');
    // a decoded mix is neither image: its full decode differs from both images' full decodes
    const full = (i: typeof a) => i.progressive.at(-1)!.pngBase64;
    for (const m of [mab, mba]) for (const o of [a, b]) assert.notEqual(full(m), full(o));
    // the single-branch ablations of a mix are those of the image each branch came from
    assert.equal(mab.ablation!.detail.pngBase64, a.ablation!.detail.pngBase64);
    assert.equal(mab.ablation!.semantic.pngBase64, b.ablation!.semantic.pngBase64);
  });

  it('falls back to the built-in model when the configured one is broken, with a note', async () => {
    fs.writeFileSync(path.join(tmp, 'manifest.json'), '{"format": "nope"}');
    const ins = await backend.inspect(path.join(root, 'samples', 'rocket.png'), { settings: settings(tmp), signal: new AbortController().signal });
    assert.match(ins.notes[0], /could not be used.*built-in model was used instead/);
    assert.ok(log.lines.some((l) => l.startsWith('warn') && l.includes(tmp)));
  });

  it('falls back when a configured package file is a symbolic link, and the note says where it points', async function () {
    const model = path.join(root, 'models', 'imagefolder-mini');
    const linked = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-linked-'));
    try {
      for (const f of ['manifest.json', 'decoder.onnx', 'codebooks.bin']) fs.copyFileSync(path.join(model, f), path.join(linked, f));
      try {
        fs.symlinkSync(path.join(model, 'encoder.onnx'), path.join(linked, 'encoder.onnx'));
      } catch {
        this.skip(); // no symlinks on this file system
      }
      const ins = await backend.inspect(path.join(root, 'samples', 'rocket.png'), { settings: settings(linked), signal: new AbortController().signal });
      assert.match(ins.notes[0], /encoder\.onnx in .* is a symbolic link to .*encoder\.onnx.*, outside the package: refused.*built-in model was used instead/);
      assert.equal(ins.model.dir, fs.realpathSync(model), 'the built-in model ran');
    } finally {
      fs.rmSync(linked, { recursive: true, force: true });
    }
  });

  it('does not fall back for image errors', async () => {
    const bad = path.join(tmp, 'bad.png');
    fs.writeFileSync(bad, 'not an image');
    await assert.rejects(backend.inspect(bad, { settings: settings(), signal: new AbortController().signal }), (e: { code?: string }) => /^IMAGE_/.test(e.code ?? ''));
  });

  it('computes folder usage with progress', async () => {
    const progress: number[] = [];
    const u = await backend.folderUsage(path.join(root, 'samples'), {
      settings: settings(),
      signal: new AbortController().signal,
      onProgress: (p) => progress.push(p.done),
    });
    assert.ok(u.images >= 5);
    assert.ok(u.failedTotal >= 1, 'corrupt.png counted as failed');
    // named by its path under the folder, the reason without the path repeated (issue 17, item 3)
    const corrupt = u.failed.find((f) => f.image === 'corrupt.png');
    assert.ok(corrupt, JSON.stringify(u.failed));
    assert.doesNotMatch(corrupt.reason, /corrupt\.png/);
    assert.match(corrupt.reason, /^(corrupt|truncated|not an image)/);
    assert.equal(u.branches.length, 2);
    assert.equal(u.branches[0].dead, u.branches[0].histogram.filter((c) => c === 0).length);
    assert.ok(progress.length > 0);
  });

  it('describes a model for Select Model and rejects a broken folder', async () => {
    const d = await backend.describeModel(settings());
    assert.equal(d.name, 'imagefolder-mini');
    assert.equal(d.builtIn, true);
    await assert.rejects(backend.describeModel(settings(tmp)), (e: { code?: string }) => /^MODEL_/.test(e.code ?? ''));
  });
});
