import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { parseCli } from '../../../src/extension/cli/args';
import { runCli } from '../../../src/extension/cli/main';
import type { Io } from '../../../src/extension/cli/io';
import { progressBar } from '../../../src/extension/cli/progress';
import { ModelRuntime, UserError, captionBands, inspect, swapSheetCaptions } from '../../../src/extension/core';
import { planExport, tokensJson } from '../../../src/extension/host/exporter';
import { vulkanLoaderFound } from '../../../src/extension/core/providers';
import { CLI, REPO, TEST_MODEL, hasRealModel, tmpDir, webgpuSkipPattern, writeSmallPackage } from '../core/helpers';

function memIo() {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), errIsTty: false, writeErrRaw: (t) => err.push(t) };
  return { io, out, err };
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, ...(args.includes('--model') ? [] : ['--model', TEST_MODEL])], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A user error: exit 2, exactly one line on stderr, no stack trace. */
function assertUserFailure(r: { code: number | null; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !/Vulkan|BackendVk/.test(l));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^imagefolder-inspector: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

describe('CLI arguments', () => {
  const bad = (argv: string[], pattern: RegExp) =>
    assert.throws(() => parseCli(argv), (e: unknown) => e instanceof UserError && e.code === 'BAD_ARGUMENT' && pattern.test(e.message));

  it('parses each command with defaults', () => {
    const a = parseCli(['tokenize', 'a.png', 'b.jpg', '--json']);
    assert.equal(a.command, 'tokenize');
    assert.deepEqual(a.positionals, ['a.png', 'b.jpg']);
    assert.equal(a.json, true);
    assert.equal(a.provider, 'auto');
    assert.equal(a.resize, 'crop');
    assert.equal(a.pixelLimit, 100_000_000);
    const r = parseCli(['reconstruct', 'a.png', '--scales', '4', '--branch', 'semantic', '--out', 'o.png', '--provider', 'cpu', '--max-mp', '2.5']);
    assert.deepEqual([r.scales, r.branch, r.out, r.provider, r.pixelLimit], [4, 'semantic', 'o.png', 'cpu', 2_500_000]);
    assert.equal(parseCli(['stats', 'dir']).command, 'stats');
    assert.deepEqual(parseCli(['sheet', 'a.png', '--out', 's.png']).positionals, ['a.png']);
    assert.equal(parseCli(['info', '--model', 'm']).model, 'm');
    assert.equal(parseCli([]).command, 'help');
    assert.equal(parseCli(['--version']).command, 'version');
  });

  it('rejects bad arguments with a one-line reason', () => {
    bad(['frobnicate'], /unknown command 'frobnicate'/);
    bad(['tokenize'], /at least one image/);
    bad(['tokenize', 'a.png', '--bogus'], /Unknown option '--bogus'/);
    bad(['tokenize', 'a.png', '--provider', 'tpu'], /--provider must be one of auto\|cpu\|cuda\|dml\|coreml\|webgpu/);
    bad(['reconstruct', 'a.png', '--out', 'x.png'], /needs --scales K/);
    bad(['reconstruct', 'a.png', '--scales', 'two', '--out', 'x.png'], /--scales must be an integer from 1 to the model's number of scales/);
    bad(['reconstruct', 'a.png', '--scales', '3'], /needs --out/);
    bad(['reconstruct', 'a.png', '--scales', '3', '--out', 'x.png', '--branch', 'left'], /--branch must be one of/);
    bad(['stats'], /exactly one folder/);
    bad(['sheet', 'a.png'], /sheet needs --out FILE.png/);
    bad(['sheet', 'a.png', 'b.png', '--out', 's.png'], /exactly one image or token file/);
    bad(['swap', 'a.png', '--out', 's.png'], /swap needs exactly two images \(got 1\)/);
    bad(['swap', 'a.png', 'b.png'], /swap needs --out FILE.png/);
    bad(['info', 'extra'], /takes no arguments/);
    bad(['tokenize', 'a.png', '--threads', '1.5'], /--threads must be a positive integer/);
  });
});

describe('CLI progress on stderr', () => {
  it('redraws one line on a terminal', () => {
    const m = memIo();
    const bar = progressBar({ ...m.io, errIsTty: true });
    bar.update(1, 4, 'a.png');
    bar.update(4, 4, 'b.png');
    bar.done();
    assert.match(m.err[0], /^\r\[#{8}\.{22}\] 1\/4 a\.png/);
    assert.match(m.err[1], /^\r\[#{30}\] 4\/4 b\.png/);
    assert.equal(m.err[2], '\n');
  });
  it('prints a line per 10 % otherwise', () => {
    const m = memIo();
    const bar = progressBar(m.io);
    for (let i = 1; i <= 100; i++) bar.update(i, 100, `${i}.png`);
    bar.done();
    assert.equal(m.err.length, 11); // the first image, then every 10 %
    assert.equal(m.err[10], '100/100 images');
  });
});

describe('CLI in-process', () => {
  it('prints usage for help', async () => {
    const m = memIo();
    assert.equal(await runCli(['--help'], m.io, REPO), 0);
    assert.match(m.out.join('\n'), /usage: imagefolder-inspector/);
  });

  it('exits 2 with the package error for a broken model', async () => {
    const dir = writeSmallPackage((mf) => (mf.formatVersion = 7));
    const m = memIo();
    assert.equal(await runCli(['info', '--model', dir], m.io, REPO), 2);
    assert.equal(m.err.length, 1);
    assert.match(m.err[0], /formatVersion 7 is not supported/);
  });

  it('exits 2 for a missing model folder', async () => {
    const m = memIo();
    assert.equal(await runCli(['info', '--model', '/nonexistent/model'], m.io, REPO), 2);
    assert.match(m.err[0], /model folder not found/);
  });
});

describe('CLI as a process (dist/cli.js)', function () {
  this.timeout(180_000);
  before(function () {
    if (!fs.existsSync(CLI)) this.skip(); // built by `npm run test:unit` (build:cli first)
  });

  it('exits 2 with one line for an unknown command', () => assertUserFailure(cli(['frobnicate']), /unknown command/));
  it('exits 2 with one line for a bad model folder', () => assertUserFailure(cli(['info', '--model', '/nonexistent']), /model folder not found/));
  it('exits 0 for --help', () => assert.equal(cli(['--help']).code, 0));

  describe('with the built-in model', () => {
    let dir: string;
    let image: string;
    before(async function () {
      if (!hasRealModel()) this.skip();
      dir = tmpDir('ifi-cli-');
      image = path.join(dir, 'gradient.png');
      const raw = Buffer.alloc(80 * 60 * 3);
      for (let i = 0; i < 80 * 60; i++) raw.set([(i % 80) * 3, Math.floor(i / 80) * 4, 128], i * 3);
      await sharp(raw, { raw: { width: 80, height: 60, channels: 3 } }).png().toFile(image);
      await sharp({ create: { width: 30, height: 30, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.5 } } }).png().toFile(path.join(dir, 'blue.png'));
      fs.writeFileSync(path.join(dir, 'broken.png'), 'not an image');
    });

    it('tokenize --json prints one object per image with the documented fields', () => {
      const r = cli(['tokenize', image, path.join(dir, 'blue.png'), '--json', '--provider', 'cpu']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 2);
      const manifest = JSON.parse(fs.readFileSync(path.join(TEST_MODEL, 'manifest.json'), 'utf8'));
      for (const line of lines) {
        const o = JSON.parse(line);
        for (const k of ['image', 'model', 'provider', 'scales', 'branches', 'indices', 'psnrByScale', 'ssimByScale', 'usage']) assert.ok(k in o, k);
        assert.equal(o.model, manifest.name);
        assert.equal(o.provider, 'cpu');
        assert.deepEqual(o.scales, manifest.scales);
        assert.equal(o.indices.length, manifest.branches.length);
        for (const row of o.indices) assert.equal(row.length, manifest.tokensPerBranch);
        assert.equal(o.psnrByScale.length, manifest.scales.length);
        assert.equal(o.ssimByScale.length, manifest.scales.length);
        assert.equal(o.usage.length, manifest.branches.length);
      }
    });

    it('tokenize continues past a bad image and exits 2', () => {
      const r = cli(['tokenize', path.join(dir, 'broken.png'), image, '--json', '--provider', 'cpu']);
      assert.equal(r.code, 2);
      assert.equal(r.stdout.trim().split('\n').length, 1);
      assert.match(r.stderr, /broken\.png: not an image format/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });

    it('tokenize of a missing file exits 2 with one line', () => assertUserFailure(cli(['tokenize', '/nonexistent/x.png', '--provider', 'cpu']), /no such file/));

    it('reconstruct writes a PNG of the model size', async () => {
      const out = path.join(dir, 'recon.png');
      const r = cli(['reconstruct', image, '--scales', '3', '--branch', 'semantic', '--out', out, '--provider', 'cpu']);
      assert.equal(r.code, 0, r.stderr);
      const meta = await sharp(out).metadata();
      const size = JSON.parse(fs.readFileSync(path.join(TEST_MODEL, 'manifest.json'), 'utf8')).image.size;
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', size, size]);
    });

    it('reconstruct decodes a token file the extension saved exactly as it decodes the image', async () => {
      const rt = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu', threads: 2 });
      let file: string;
      try {
        const json = tokensJson(await inspect(rt, image, {}));
        file = path.join(dir, 'gradient.tokens.json');
        fs.writeFileSync(file, JSON.stringify(json));
        // the same tokens with a code outside the codebook, and from another model
        const broken = { ...json, indices: [json.indices[0], json.indices[1].map((c, i) => (i === 4 ? 99999 : c))] };
        fs.writeFileSync(path.join(dir, 'broken.tokens.json'), JSON.stringify(broken));
        fs.writeFileSync(path.join(dir, 'other.tokens.json'), JSON.stringify({ ...json, model: { ...json.model, name: 'someone-else' } }));
      } finally {
        await rt.dispose();
      }
      const fromImage = path.join(dir, 'from-image.png');
      const fromTokens = path.join(dir, 'from-tokens.png');
      for (const [input, out] of [[image, fromImage], [file, fromTokens]]) {
        const r = cli(['reconstruct', input, '--scales', '4', '--branch', 'detail', '--out', out, '--provider', 'cpu']);
        assert.equal(r.code, 0, r.stderr);
      }
      assert.ok(fs.readFileSync(fromTokens).equals(fs.readFileSync(fromImage)), 'the same PNG');
      assertUserFailure(cli(['reconstruct', path.join(dir, 'broken.tokens.json'), '--scales', '4', '--out', path.join(dir, 'x.png')]), /token 5 of 286 in the semantic branch is 99999, outside the codebook \(codes 0\.\.1023\)/);
      assertUserFailure(cli(['reconstruct', path.join(dir, 'other.tokens.json'), '--scales', '4', '--out', path.join(dir, 'x.png')]), /tokens of the model "someone-else"/);
      assertUserFailure(cli(['reconstruct', path.join(dir, 'missing.tokens.json'), '--scales', '4', '--out', path.join(dir, 'x.png')]), /no such file/);
    });

    it("sheet writes the same contact sheet as the extension's Export, from an image or its saved tokens", async () => {
      const rt = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu', threads: 2 });
      let exported: Uint8Array;
      let file: string;
      try {
        const ins = await inspect(rt, image, {});
        exported = (await planExport(ins, 'sheet')).bytes;
        file = path.join(dir, 'for-sheet.tokens.json');
        fs.writeFileSync(file, JSON.stringify(tokensJson(ins)));
      } finally {
        await rt.dispose();
      }
      const out = path.join(dir, 'sheet.png');
      const r = cli(['sheet', image, '--out', out, '--provider', 'cpu']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /wrote .*sheet\.png/);
      assert.ok(fs.readFileSync(out).equals(Buffer.from(exported)), 'byte for byte the Export');
      // from tokens: no input image, so its first tile is the full decode, the same as the image's last reconstruction
      const fromTokens = path.join(dir, 'sheet-from-tokens.png');
      assert.equal(cli(['sheet', file, '--out', fromTokens, '--provider', 'cpu']).code, 0);
      const [a, b] = await Promise.all([out, fromTokens].map((f) => sharp(f).raw().toBuffer({ resolveWithObject: true })));
      assert.deepEqual([b.info.width, b.info.height], [a.info.width, a.info.height]);
      assert.ok(!a.data.equals(b.data), 'the input tile differs (image vs full decode)');
      assertUserFailure(cli(['sheet', image, '--out', path.join(dir, 'sheet.jpg')]), /--out must name a \.png file/);
      assertUserFailure(cli(['sheet', image, '--out', path.join(dir, 'no-such-folder', 's.png'), '--provider', 'cpu']), /cannot write \(ENOENT\)/);
    });

    it("swap writes a 2x2 sheet: both images' decodes, then each image's detail tokens with the other's semantic ones", async () => {
      const other = path.join(REPO, 'samples', 'rocket.png');
      const out = path.join(dir, 'swap.png');
      const r = cli(['swap', image, other, '--out', out, '--provider', 'cpu']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /gradient\.png detail \+ \S*rocket\.png semantic/);
      // the mixes, made independently: each image's tokens (tokenize --json), mixed by hand, saved as
      // the extension saves tokens, decoded at all scales by `reconstruct`
      const t = cli(['tokenize', image, other, '--json', '--provider', 'cpu']);
      assert.equal(t.code, 0, t.stderr);
      const [ta, tb] = t.stdout.trim().split('\n').map((l) => JSON.parse(l) as { indices: number[][] });
      const rt = await ModelRuntime.load(TEST_MODEL, { provider: 'cpu', threads: 2 });
      const base = tokensJson(await inspect(rt, image, {}));
      await rt.dispose();
      const semantic = JSON.parse(fs.readFileSync(path.join(TEST_MODEL, 'manifest.json'), 'utf8')).branches.findIndex((b: { role: string }) => b.role === 'semantic');
      const N = JSON.parse(fs.readFileSync(path.join(TEST_MODEL, 'manifest.json'), 'utf8')).scales.length;
      const expected: Buffer[] = [];
      for (const [name, indices] of [
        ['a', ta.indices],
        ['b', tb.indices],
        ['ab', ta.indices.map((row, p) => (p === semantic ? tb.indices[p] : row))],
        ['ba', tb.indices.map((row, p) => (p === semantic ? ta.indices[p] : row))],
      ] as const) {
        const file = path.join(dir, `swap-${name}.tokens.json`);
        fs.writeFileSync(file, JSON.stringify({ ...base, indices }));
        const png = path.join(dir, `swap-${name}.png`);
        assert.equal(cli(['reconstruct', file, '--scales', String(N), '--out', png, '--provider', 'cpu']).code, 0);
        expected.push(await sharp(png).raw().toBuffer());
      }
      // the sheet: 2 px gaps, enlarged 2x (nearest), right of and below its captions: tile (row, col)
      // starts at left + 2 * (2 + col * (S + 2)), top + 2 * (2 + row * (S + 2))
      const sheet = await sharp(out).raw().toBuffer({ resolveWithObject: true });
      const S = Math.round(Math.sqrt(expected[0].length / 3));
      const { left, top } = captionBands(swapSheetCaptions('a', 'b', 'm'));
      assert.ok(sheet.info.width >= left + 2 * (2 + 2 * (S + 2)));
      assert.equal(sheet.info.height, top + 2 * (2 + 2 * (S + 2)));
      // its captions are in the picture: dark text pixels in the title/header band and the row-label band
      const dark = (x0: number, y0: number, x1: number, y1: number) => {
        let n = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (sheet.data[(y * sheet.info.width + x) * sheet.info.channels] < 128) n++;
        return n;
      };
      assert.ok(dark(0, 0, sheet.info.width, top) > 100 && dark(0, top, left, sheet.info.height) > 100, 'captions drawn');
      const tile = (row: number, col: number) => {
        const t = Buffer.alloc(S * S * 3);
        for (let y = 0; y < S; y++)
          for (let x = 0; x < S; x++)
            for (let c = 0; c < 3; c++) t[(y * S + x) * 3 + c] = sheet.data[((top + 2 * (2 + row * (S + 2) + y)) * sheet.info.width + left + 2 * (2 + col * (S + 2) + x)) * sheet.info.channels + c];
        return t;
      };
      // a batch of 4 rows vs one row per run may change float summation order: allow one 8-bit step
      const close = (x: Buffer, y: Buffer) => x.every((v, i) => Math.abs(v - y[i]) <= 1);
      [tile(0, 0), tile(0, 1), tile(1, 0), tile(1, 1)].forEach((got, i) => assert.ok(close(got, expected[i]), `tile ${i}`));
      assert.ok(!close(expected[2], expected[0]) || !close(expected[2], expected[1]), 'a mix is not simply one of the images');
      assertUserFailure(cli(['swap', image, other, '--out', path.join(dir, 'swap.jpg')]), /--out must name a \.png file/);
      assertUserFailure(cli(['swap', image, path.join(dir, 'missing.png'), '--out', out, '--provider', 'cpu']), /no such file/);
    });

    it('reconstruct rejects --scales beyond the model', () => assertUserFailure(cli(['reconstruct', image, '--scales', '11', '--out', path.join(dir, 'x.png')]), /--scales must be an integer from 1 to 10, this model's number of scales \(got 11\)/));

    it('stats --json aggregates a folder and lists failures (exit 2: one image could not be read)', () => {
      const r = cli(['stats', dir, '--json', '--provider', 'cpu']);
      assert.equal(r.code, 2, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.ok(s.images >= 2);
      assert.equal(s.failed.length, 1);
      assert.equal(s.failed[0].image, 'broken.png');
      assert.match(r.stderr, new RegExp(`^imagefolder-inspector: ${path.join(dir, 'broken.png').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not an image format`, 'm'));
      assert.match(r.stderr, /\d+\/\d+ images/); // progress on stderr
    });

    it('info lists the graphs and the providers chosen and skipped', () => {
      const r = cli(['info', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const o = JSON.parse(r.stdout);
      assert.equal(o.providers.chosen.encoder, 'cpu');
      assert.equal(o.providers.chosen.decoder, 'cpu');
      assert.ok(o.providers.available.includes('cpu'));
      if (o.providers.available.includes('webgpu')) {
        assert.ok(o.providers.skipped.some((s: { provider: string; reason: string }) => s.provider === 'webgpu' && webgpuSkipPattern(vulkanLoaderFound()).test(s.reason)));
      }
      assert.deepEqual(Object.keys(o.graphs), ['encoder', 'decoder']);
      // auto's choice and why, in JSON and in the text
      assert.equal(o.providers.choice.provider, 'cpu');
      const text = cli(['info']);
      assert.match(text.stdout, /^provider choice: +cpu is the only provider that can run this model here/m);
      for (const s of o.providers.skipped as { provider: string }[]) assert.match(text.stdout, new RegExp(`^provider skipped: +${s.provider}: `, 'm'));
      // on CPU, decoder runs are shared by two single-threaded workers when there are 2 threads or more
      const { threads, decoderWorkers, decoderThreads } = o.parallelism;
      assert.equal(decoderWorkers, Math.min(2, threads));
      assert.equal(decoderThreads, Math.floor(threads / decoderWorkers));
    });
  });
});
