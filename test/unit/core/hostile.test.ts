// Issue 7 hardening, on the real components: the generated hostile/odd image corpus
// (hostile-corpus.ts) through the real core `inspect` on the built-in model and through the built
// CLI; broken copies of the real model; concurrency, cancellation and many inspections in a row
// on one runtime. No timing assertions: slow is a perf problem, a hang is caught by mocha's timeout.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { ModelRuntime, UserError, inspect, loadImage, readModelPackage, type ImageOptions, type Inspection, type UserErrorCode } from '../../../src/extension/core';
import { CLI, REPO, TEST_MODEL, hasRealModel, onnxModel, tmpDir, writeSmallPackage } from './helpers';
import { makeCorpus, type CorpusEntry } from './hostile-corpus';

function isUserErrorWith(e: unknown, code: UserErrorCode, message?: RegExp): true {
  assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error)?.stack ?? e}`);
  assert.equal(e.code, code, e.message);
  if (message) assert.match(e.message, message);
  return true;
}

const sameTokens = (a: Inspection, b: Inspection) => assert.deepEqual(a.indices, b.indices);

describe('hostile and odd images (issue 7)', function () {
  this.timeout(900_000); // generous: a shared 2-core machine; a hang still fails
  let dir: string;
  let corpus: CorpusEntry[];
  let good: string;

  before(async function () {
    if (!hasRealModel()) this.skip();
    dir = tmpDir('ifi-hostile-');
    corpus = await makeCorpus(dir);
    good = path.join(dir, 'control.png');
    const raw = Buffer.alloc(64 * 64 * 3);
    for (let i = 0; i < 64 * 64; i++) raw.set([(i % 64) * 4, Math.floor(i / 64) * 4, 200 - (i % 64)], i * 3);
    await sharp(raw, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(good);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  it('the corpus covers every input class issue 7 lists', () => {
    const whats = corpus.map((c) => c.what).join('\n');
    for (const w of ['empty file', 'text with an image extension', 'random bytes', 'truncated PNG', 'truncated JPEG', 'corrupted PNG', 'corrupted JPEG', '100000 x 100000', '150 MP', '1 x 1', '4000 x 3', 'fully transparent', 'CMYK JPEG', '16-bit PNG', '16-bit TIFF', 'multi-page TIFF', 'animated GIF', 'palette PNG', 'EXIF-rotated', 'AVIF', 'WebP', 'network URLs', 'entity bomb', 'spaces', 'unicode', '#', '%', 'iCCP', 'float64']) {
      assert.ok(whats.includes(w), w);
    }
  });

  describe('through the core inspect on the built-in model', () => {
    let rt: ModelRuntime;
    let baseline: Inspection;
    let controlOpts: ImageOptions;
    let controlPixels: Uint8Array;
    before(async () => {
      rt = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu', threads: 1 });
      baseline = await inspect(rt, good);
      controlOpts = { size: rt.imageSize, resize: 'crop', background: '#ffffff', pixelLimit: 100e6 };
      controlPixels = (await loadImage(good, controlOpts)).rgb;
    });
    after(async () => rt?.dispose());

    it('each image works with its note or fails with its specific UserError, and the next image still works', async () => {
      for (const entry of corpus) {
        if (entry.expect.ok) {
          const r = await inspect(rt, entry.file).catch((e) => assert.fail(`${entry.what}: ${(e as Error).message}`));
          assert.equal(r.indices.length, rt.branchCount, entry.what);
          assert.equal(r.indices[0].length, rt.pkg.manifest.tokensPerBranch, entry.what);
          assert.ok(r.psnrByScale.every((v) => Number.isFinite(v)), entry.what);
          if (entry.expect.note) assert.ok(r.notes.some((n) => entry.expect.ok && entry.expect.note!.test(n)), `${entry.what}: notes ${JSON.stringify(r.notes)}`);
        } else {
          const { code, message } = entry.expect;
          await assert.rejects(inspect(rt, entry.file), (e) => isUserErrorWith(e, code, message));
          // The image pipeline is not poisoned: the control image decodes to the same pixels (failures
          // happen before inference; the full control inspection runs after the loop).
          assert.deepEqual((await loadImage(good, controlOpts)).rgb, controlPixels, `after ${entry.what}`);
        }
      }
      sameTokens(await inspect(rt, good), baseline);
    }).timeout(900_000);

    it('a fully transparent image is the background colour, not black', async () => {
      const t = corpus.find((c) => c.what === 'fully transparent')!;
      for (const bg of ['#ffffff', '#ff0000']) {
        const img = await loadImage(t.file, { size: 16, resize: 'crop', background: bg, pixelLimit: 100e6 });
        const want = bg === '#ffffff' ? [255, 255, 255] : [255, 0, 0];
        for (let i = 0; i < img.rgb.length; i += 3) assert.deepEqual([img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]], want);
      }
    });

    it('an SVG referencing local files and network URLs renders only its own content (and does not hang)', async () => {
      const svg = corpus.find((c) => /network URLs/.test(c.what))!;
      const img = await loadImage(svg.file, { size: 32, resize: 'crop', background: '#ffffff', pixelLimit: 100e6 });
      for (let i = 0; i < img.rgb.length; i += 3) assert.deepEqual([img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]], [0, 0, 255], `pixel ${i / 3}`);
    });

    it('the 150 MP image is accepted under a raised pixel limit (so the refusal really is the limit)', async () => {
      const big = corpus.find((c) => /150 MP/.test(c.what))!;
      const img = await loadImage(big.file, { size: 16, resize: 'crop', background: '#ffffff', pixelLimit: 200e6 });
      assert.ok(img.rgb.every((v) => v === 0));
      assert.equal(img.source.width * img.source.height, 150e6);
    });
  });

  describe('through the CLI (dist/cli.js tokenize)', () => {
    before(function () {
      if (!fs.existsSync(CLI)) this.skip(); // built by `npm run test:unit`
    });
    const run = (args: string[]) => {
      const r = spawnSync(process.execPath, [CLI, 'tokenize', ...args, '--json', '--provider', 'cpu', '--model', TEST_MODEL], { cwd: REPO, encoding: 'utf8', timeout: 800_000 });
      const errLines = r.stderr.split('\n').filter((l) => l.trim() && !/Vulkan|BackendVk/.test(l));
      return { code: r.status, stdout: r.stdout, stderr: r.stderr, errLines };
    };

    it('the whole corpus in one run: a JSON line per good image, one error line per bad one, exit 2, the last image still works', () => {
      const r = run([...corpus.map((c) => c.file), good]);
      assert.equal(r.code, 2, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      const oks = corpus.filter((c) => c.expect.ok);
      assert.equal(results.length, oks.length + 1, r.stdout);
      assert.equal(path.basename(results[results.length - 1].image), 'control.png');
      for (const c of oks) {
        const o = results.find((x) => x.image === c.file || path.resolve(x.image) === c.file);
        assert.ok(o, `no result for ${c.what} (${c.file})`);
        if (c.expect.ok && c.expect.note) assert.ok(o.notes.some((n: string) => c.expect.ok && c.expect.note!.test(n)), `${c.what}: ${JSON.stringify(o.notes)}`);
      }
      const bad = corpus.filter((c) => !c.expect.ok);
      assert.equal(r.errLines.length, bad.length, r.stderr);
      for (const c of bad) {
        if (c.expect.ok) continue;
        const src = c.expect.message.source.replace(/^\^/, '');
        assert.ok(r.errLines.some((l) => new RegExp(`^imagefolder-inspector: ${src}`).test(l)), `${c.what}: ${r.stderr}`);
      }
    });

    for (const name of ['empty.png', 'huge-header.png', 'bomb.svg', 'random.webp']) {
      it(`a single ${name}: exit 2 and exactly one line`, () => {
        const c = corpus.find((x) => path.basename(x.file) === name)!;
        assert.ok(!c.expect.ok);
        const r = run([c.file]);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stdout.trim(), '');
        assert.equal(r.errLines.length, 1, r.stderr);
        if (!c.expect.ok) assert.match(r.errLines[0], new RegExp(`^imagefolder-inspector: ${c.expect.message.source.replace(/^\^/, '')}`));
      });
    }
  });
});

describe('broken copies of the real model (issue 7)', function () {
  this.timeout(120_000);
  const files = ['manifest.json', 'encoder.onnx', 'decoder.onnx', 'codebooks.bin'];
  let dirs: string[] = [];
  before(function () {
    if (!hasRealModel()) this.skip();
  });
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    dirs = [];
  });
  function copyModel(edit: (dir: string) => void): string {
    const d = tmpDir('ifi-badmodel-');
    dirs.push(d);
    for (const f of files) fs.copyFileSync(path.join(TEST_MODEL, f), path.join(d, f));
    edit(d);
    return d;
  }
  async function loadAndRun(d: string): Promise<void> {
    const rt = await ModelRuntime.load(d, { provider: 'cpu', threads: 1 });
    try {
      await rt.ready();
    } finally {
      await rt.dispose();
    }
  }

  it('a truncated encoder.onnx is refused with MODEL_BAD_GRAPH naming the file', async () => {
    const d = copyModel((dir) => {
      const f = path.join(dir, 'encoder.onnx');
      fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 100_000));
    });
    await assert.rejects(loadAndRun(d), (e) => isUserErrorWith(e, 'MODEL_BAD_GRAPH', /^encoder\.onnx: /));
  });

  it('a decoder.onnx of random bytes is refused with MODEL_BAD_GRAPH naming the file', async () => {
    const d = copyModel((dir) => {
      const b = Buffer.alloc(200_000);
      let s = 7;
      for (let i = 0; i < b.length; i++) b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
      fs.writeFileSync(path.join(dir, 'decoder.onnx'), b);
    });
    await assert.rejects(loadAndRun(d), (e) => isUserErrorWith(e, 'MODEL_BAD_GRAPH', /^decoder\.onnx: /));
  });

  it('an encoder graph with an unexpected extra input is refused, naming it', async () => {
    const d = copyModel((dir) => {
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
      const S = m.image.size;
      const P = m.branches.length;
      const L = m.tokensPerBranch;
      fs.writeFileSync(
        path.join(dir, 'encoder.onnx'),
        onnxModel(
          [
            { name: 'image', elemType: 1, shape: ['batch', 3, S, S] },
            { name: 'temperature', elemType: 1, shape: [1] },
          ],
          [{ name: 'indices', elemType: 7, shape: ['batch', P, L] }],
        ),
      );
    });
    assert.throws(() => readModelPackage(d), (e) => isUserErrorWith(e, 'MODEL_SHAPE_MISMATCH', /^encoder\.onnx: .*temperature/));
  });

  it('a manifest whose image size disagrees with the real graphs is refused', async () => {
    const d = copyModel((dir) => {
      const f = path.join(dir, 'manifest.json');
      const m = JSON.parse(fs.readFileSync(f, 'utf8'));
      m.image.size = m.image.size * 2;
      fs.writeFileSync(f, JSON.stringify(m));
    });
    await assert.rejects(loadAndRun(d), (e) => isUserErrorWith(e, 'MODEL_SHAPE_MISMATCH', /^manifest\.json: graphs\.encoder\.inputs\.image is .* but image\.size imply/));
  });

  it('a model folder reached through a symlink loads the target; a graph file that is a symlink is refused', async function () {
    const target = copyModel(() => {});
    const link = path.join(tmpDir('ifi-link-'), 'model');
    dirs.push(path.dirname(link));
    try {
      fs.symlinkSync(target, link, 'dir');
    } catch {
      this.skip(); // no symlinks on this file system
    }
    const viaLink = readModelPackage(link);
    assert.equal(viaLink.manifest.name, JSON.parse(fs.readFileSync(path.join(TEST_MODEL, 'manifest.json'), 'utf8')).name);
    assert.equal(viaLink.dir, fs.realpathSync(target), 'files are read from the folder the link points to');
    await loadAndRun(link); // onnxruntime creates both sessions from the resolved paths
    const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const outside = path.join(TEST_MODEL, 'encoder.onnx');
    const d = copyModel((dir) => {
      fs.rmSync(path.join(dir, 'encoder.onnx'));
      fs.symlinkSync(outside, path.join(dir, 'encoder.onnx'));
    });
    const refused = (what: string) => new RegExp(`^encoder\\.onnx in ${esc(d)} is ${what}: refused \\(package files must be regular files, not symbolic links`);
    assert.throws(() => readModelPackage(d), (e) => isUserErrorWith(e, 'MODEL_SYMLINK', refused(`a symbolic link to ${esc(outside)}(, i\\.e\\. .*)?, outside the package`)));
    await assert.rejects(loadAndRun(d), (e) => isUserErrorWith(e, 'MODEL_SYMLINK'));
    fs.rmSync(path.join(d, 'encoder.onnx'));
    fs.symlinkSync(path.join(d, 'encoder-gone.onnx'), path.join(d, 'encoder.onnx'));
    assert.throws(() => readModelPackage(d), (e) => isUserErrorWith(e, 'MODEL_SYMLINK', refused(`a dangling symbolic link \\(to ${esc(path.join(d, 'encoder-gone.onnx'))}, which does not exist\\)`)));
  });
});

/**
 * y = x + W, float [1], where the initializer W is stored as ONNX "external data" at `location`
 * (TensorProto.data_location = EXTERNAL): ONNX Runtime reads it from that file when the session is created.
 */
function graphWithExternalWeight(location: string): Buffer {
  const varint = (n: number): number[] => {
    const o: number[] = [];
    for (; n >= 0x80; n = Math.floor(n / 128)) o.push((n % 128) | 0x80);
    return [...o, n];
  };
  const num = (f: number, n: number) => [...varint(f * 8), ...varint(n)];
  const bytes = (f: number, b: number[]) => [...varint(f * 8 + 2), ...varint(b.length), ...b];
  const str = (f: number, t: string) => bytes(f, [...Buffer.from(t, 'utf8')]);
  const value = (name: string) => [...str(1, name), ...bytes(2, bytes(1, [...num(1, 1), ...bytes(2, bytes(1, num(1, 1)))]))];
  const entry = (k: string, v: string) => bytes(13, [...str(1, k), ...str(2, v)]);
  const weight = [...num(1, 1), ...num(2, 1), ...str(8, 'W'), ...entry('location', location), ...entry('length', '4'), ...num(14, 1)];
  const node = [...str(1, 'x'), ...str(1, 'W'), ...str(2, 'y'), ...str(4, 'Add')];
  const graph = [...bytes(1, node), ...str(2, 'g'), ...bytes(5, weight), ...bytes(11, value('x')), ...bytes(12, value('y'))];
  return Buffer.from([...num(1, 8), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...num(2, 17)])]);
}

describe('graph weights stored outside the package (ONNX external data, issue 7)', function () {
  this.timeout(120_000);
  /** A small package with an extra graph (`graphs.generator`, run through the runtime like any graph) reading W from `location`. */
  function packageWith(location: string): string {
    return writeSmallPackage((m, files) => {
      m.graphs.generator = { file: 'generator.onnx', inputs: { x: [1] }, outputs: { y: [1] } };
      files['generator.onnx'] = graphWithExternalWeight(location);
    });
  }
  async function run(dir: string): Promise<number> {
    const { Tensor } = await import('onnxruntime-node');
    const rt = await ModelRuntime.load(dir, { provider: 'cpu', threads: 1 });
    try {
      const out = await rt.runGraph('generator', { x: new Tensor('float32', new Float32Array([0]), [1]) });
      return (out.y.data as Float32Array)[0];
    } finally {
      await rt.dispose();
    }
  }

  it('inside the package the weight is read (the test graph is valid)', async () => {
    const dir = packageWith('codebooks.bin');
    assert.equal(await run(dir), new Float32Array([Math.sin(1)])[0]); // codebooks.bin starts with sin(1)
  });

  it('a relative path out of the package or an absolute path is refused by ONNX Runtime, with MODEL_BAD_GRAPH naming the graph', async () => {
    const secretDir = tmpDir('ifi-secret-');
    const secret = path.join(secretDir, 'secret.bin');
    fs.writeFileSync(secret, Buffer.from(new Float32Array([42.5]).buffer));
    // packages and the secret are both made in the temporary folder: '../<secret folder>/secret.bin' leaves the package
    for (const location of [path.join('..', path.basename(secretDir), 'secret.bin'), secret]) {
      const dir = packageWith(location);
      await assert.rejects(run(dir), (e) => isUserErrorWith(e, 'MODEL_BAD_GRAPH', /^generator\.onnx: onnxruntime cannot load it \(.*External data path/));
    }
  });
});

describe('load and lifetime on one runtime (issue 7, modest sizes; `npm run soak` for long runs)', function () {
  this.timeout(900_000);
  let rt: ModelRuntime;
  let dir: string;
  const images: string[] = [];
  const baseline = new Map<string, Inspection>();

  before(async function () {
    if (!hasRealModel()) this.skip();
    rt = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu', threads: 1 });
    dir = tmpDir('ifi-load-');
    for (let k = 0; k < 4; k++) {
      const raw = Buffer.alloc(40 * 40 * 3);
      for (let i = 0; i < 40 * 40; i++) raw.set([(i * (k + 1)) % 256, (i % 40) * 6, Math.floor(i / 40) * 6], i * 3);
      const f = path.join(dir, `img${k}.png`);
      await sharp(raw, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(f);
      images.push(f);
    }
    for (const f of images) baseline.set(f, await inspect(rt, f));
  });
  after(async () => {
    await rt?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('20 inspections started at once all finish with the same results as one at a time', async () => {
    const runs = Array.from({ length: 20 }, (_, i) => images[i % images.length]);
    const results = await Promise.all(runs.map((f) => inspect(rt, f)));
    results.forEach((r, i) => sameTokens(r, baseline.get(runs[i])!));
  });

  it('cancelled right after starting: every one reports CANCELLED, the runtime keeps working', async () => {
    const acs = Array.from({ length: 10 }, () => new AbortController());
    const runs = acs.map((ac, i) => inspect(rt, images[i % images.length], { signal: ac.signal }));
    for (const ac of acs) ac.abort(); // after each run has started loading its image
    const settled = await Promise.allSettled(runs);
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      if (s.status === 'rejected') isUserErrorWith(s.reason, 'CANCELLED');
    }
    sameTokens(await inspect(rt, images[0]), baseline.get(images[0])!);
  });

  it('cancelled at staggered moments mid-run: each is CANCELLED or correct, and the next one is correct', async () => {
    const runs = Array.from({ length: 12 }, (_, i) => {
      const ac = new AbortController();
      const f = images[i % images.length];
      const p = inspect(rt, f, { signal: ac.signal });
      // The loop below awaits the runs in order, so a later run can be cancelled (and reject)
      // before the loop reaches it: mark it handled now, or Node reports the rejection as
      // unhandled and then warns (PromiseRejectionHandledWarning) when the loop awaits it.
      p.catch(() => undefined);
      setTimeout(() => ac.abort(), i * 40);
      return { f, p };
    });
    for (const { f, p } of runs) {
      try {
        sameTokens(await p, baseline.get(f)!);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        isUserErrorWith(e, 'CANCELLED');
      }
    }
    sameTokens(await inspect(rt, images[1]), baseline.get(images[1])!);
  });

  it(`${process.env.IFI_LOAD_RUNS ?? 60} inspections in a row: correct results, steady RSS, the onnx sessions created once`, async () => {
    const sessions = rt.sessionsCreated;
    assert.ok(sessions >= 2, 'sessions exist after the first inspections');
    const rss: number[] = [];
    // 60 by default: one inspection of the built-in model takes seconds on a loaded 2-core machine.
    // IFI_LOAD_RUNS=200 runs the full count; `npm run soak` runs thousands.
    const n = Math.max(16, Number(process.env.IFI_LOAD_RUNS ?? 60));
    const every = Math.floor(n / 8);
    for (let i = 0; i < n; i++) {
      const f = images[i % images.length];
      const r = await inspect(rt, f);
      if (i % 20 === 0) sameTokens(r, baseline.get(f)!);
      if (i % every === every - 1) rss.push(process.memoryUsage().rss);
    }
    const mb = rss.map((b) => Math.round(b / 2 ** 20));
    console.log(`      RSS every ${every} inspections (MB): ${mb.join(' ')}`);
    assert.equal(rt.sessionsCreated, sessions, 'a session was created again');
    // Steady: after warm-up (first quarter) RSS may wobble with the allocator (about 10 MB seen), but
    // a per-inspection leak of the decoded tiles (several MB each) adds over 100 MB in 3/4 of the runs.
    const growth = mb[mb.length - 1] - mb[1];
    assert.ok(growth < 100, `RSS grew ${growth} MB over the last three quarters: ${mb.join(' ')}`);
  });
});
