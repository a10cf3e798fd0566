// The CLI and the core on packages of other shapes, written by the converters (issue 14): an
// official-shape ImageFolder package (256 px, 2 branches of 4096 codes, L = 286) and a VAR package
// (256 px, ONE branch of 4096 codes, L = 680), both with small random weights
// (test/support/converted.ts). What is checked is shape-generic behaviour, not picture quality.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { parseCli } from '../../../src/extension/cli/args';
import { tokenize } from '../../../src/extension/cli/commands';
import type { Io } from '../../../src/extension/cli/io';
import { ModelRuntime, UserError, captionBands, codeColours, contactSheet, contactSheetCaptions, inspect, swapSheetCaptions, type InspectProgress } from '../../../src/extension/core';
import { planExport } from '../../../src/extension/host/exporter';
import { convertedPackage, type ConvertedKind } from '../../support/converted';
import { CLI, REPO, tmpDir } from '../core/helpers';

const CAT = path.join(REPO, 'samples', 'cat-face.png');
const ROCKET = path.join(REPO, 'samples', 'rocket.png');

const SHAPES: Record<ConvertedKind, { P: number; L: number; scales: number[]; roles: string[] }> = {
  imagefolder: { P: 2, L: 286, scales: [1, 1, 2, 3, 3, 4, 5, 6, 8, 11], roles: ['detail', 'semantic'] },
  var: { P: 1, L: 680, scales: [1, 2, 3, 4, 5, 6, 8, 10, 13, 16], roles: ['single'] },
};

function cli(model: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--model', model], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stderr without onnxruntime's Vulkan chatter */
const errLines = (stderr: string) => stderr.split('\n').filter((l) => l.trim() && !/Vulkan|BackendVk/.test(l));

for (const kind of ['imagefolder', 'var'] as const) {
  const shape = SHAPES[kind];
  const N = shape.scales.length;
  describe(`a converted ${kind} package (${shape.P} branch${shape.P > 1 ? 'es' : ''}, L = ${shape.L}, 256 px)`, function () {
    this.timeout(600_000);
    let model: string;
    before(function () {
      this.timeout(900_000);
      model = convertedPackage(kind);
    });

    it('tokenize --json: indices of every branch, PSNR/SSIM per scale, usage; ablation only with two branches', () => {
      const r = cli(model, ['tokenize', CAT, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as Record<string, unknown> & { indices: number[][]; usage: { histogram: number[] }[] };
      assert.equal(j.imageSize, 256);
      assert.deepEqual(j.scales, shape.scales);
      assert.deepEqual((j.branches as { role: string }[]).map((b) => b.role), shape.roles);
      assert.equal(j.indices.length, shape.P);
      for (const row of j.indices) {
        assert.equal(row.length, shape.L);
        assert.ok(row.every((v) => Number.isInteger(v) && v >= 0 && v < 4096));
      }
      assert.equal((j.psnrByScale as number[]).length, N);
      assert.equal((j.ssimByScale as number[]).length, N);
      assert.equal(j.usage.length, shape.P);
      assert.ok(j.usage.every((u) => u.histogram.length === 4096 && u.histogram.reduce((a, b) => a + b, 0) === shape.L));
      if (shape.P === 2) assert.ok(j.ablation && typeof (j.ablation as { semantic: { psnr: number } }).semantic.psnr === 'number');
      else assert.equal(j.ablation, null);
      assert.deepEqual(errLines(r.stderr), [], 'a small decoder prints no progress');
    });

    it('reconstruct writes a 256 x 256 PNG from the first K scales', async () => {
      const out = path.join(tmpDir(), 'rec.png');
      const r = cli(model, ['reconstruct', CAT, '--scales', '3', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      const meta = await sharp(out).metadata();
      assert.deepEqual([meta.width, meta.height, meta.format], [256, 256, 'png']);
      assert.match(r.stderr, new RegExp(`first 3 of ${N} scales`));
    });

    it(shape.P === 2 ? 'reconstruct --branch semantic keeps one branch' : 'reconstruct --branch detail is refused with one line: the model has one branch', () => {
      const out = path.join(tmpDir(), 'rec.png');
      const r = cli(model, ['reconstruct', CAT, '--scales', String(N), '--branch', shape.P === 2 ? 'semantic' : 'detail', '--out', out]);
      if (shape.P === 2) {
        assert.equal(r.code, 0, r.stderr);
        assert.ok(fs.existsSync(out));
      } else {
        assert.equal(r.code, 2, r.stderr);
        assert.equal(errLines(r.stderr).length, 1, r.stderr);
        assert.match(r.stderr, /--branch detail: the model ".*" has one branch/);
        assert.ok(!fs.existsSync(out));
      }
    });

    it('stats over a folder: one usage per branch of 4096 codes, the unreadable file listed (exit 2)', () => {
      const r = cli(model, ['stats', path.join(REPO, 'samples'), '--json']);
      assert.equal(r.code, 2, r.stderr); // samples/corrupt.png cannot be read
      const s = JSON.parse(r.stdout) as { images: number; usage: { histogram: number[]; used: number }[]; deadCodes: number[][]; failed: { image: string }[] };
      assert.ok(s.images >= 5, `${s.images} images`);
      assert.equal(s.usage.length, shape.P);
      for (const u of s.usage) {
        assert.equal(u.histogram.length, 4096);
        assert.equal(u.histogram.reduce((a, b) => a + b, 0), s.images * shape.L);
      }
      assert.equal(s.deadCodes.length, shape.P);
      assert.ok(s.failed.some((f) => /corrupt/.test(f.image)));
    });

    it(`sheet: the input, ${N} scales and their contributions${shape.P === 2 ? ', both ablations (3 rows)' : ' (2 rows: no ablations)'}, at 1:1`, async () => {
      const out = path.join(tmpDir(), 'sheet.png');
      const r = cli(model, ['sheet', CAT, '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      const meta = await sharp(out).metadata();
      const gap = 2;
      const { left, top } = captionBands(contactSheetCaptions(N, ''));
      assert.equal(meta.width, left + gap + (N + 1) * (256 + gap));
      assert.equal(meta.height, top + gap + (shape.P === 2 ? 3 : 2) * (256 + gap));
    });

    it(shape.P === 2 ? 'swap writes the 2 x 2 sheet' : 'swap is refused with one line: nothing to swap in one branch', async () => {
      const out = path.join(tmpDir(), 'swap.png');
      const r = cli(model, ['swap', CAT, ROCKET, '--out', out]);
      if (shape.P === 2) {
        assert.equal(r.code, 0, r.stderr);
        const meta = await sharp(out).metadata();
        const { left, top } = captionBands(swapSheetCaptions('a', 'b', 'm'));
        assert.deepEqual([meta.width, meta.height], [left + 2 + 2 * 258, top + 2 + 2 * 258]);
      } else {
        assert.equal(r.code, 2, r.stderr);
        assert.deepEqual(errLines(r.stderr).length, 1, r.stderr);
        assert.match(r.stderr, /swap needs a model with a detail and a semantic branch; ".*" has one branch/);
        assert.ok(!fs.existsSync(out));
      }
    });

    it(`the core streams ${shape.P === 2 ? 2 * N + 1 : 2 * N - 1} tiles, the full reconstruction first; exports follow the shape`, async () => {
      const rt = await ModelRuntime.load(model, { provider: 'cpu' });
      try {
        const events: InspectProgress[] = [];
        const ins = await inspect(rt, CAT, { onProgress: (e) => events.push(e) });
        const tiles = shape.P === 2 ? 2 * N + 1 : 2 * N - 1;
        assert.deepEqual(events.map((e) => e.done), Array.from({ length: tiles }, (_, i) => i + 1));
        assert.equal(events[0].kind, 'head');
        assert.deepEqual([events[0].tile.kind, events[0].tile.scale], ['progressive', N - 1]);
        assert.equal(ins.progressive.length, N);
        assert.equal(ins.contribution.length, N);
        assert.ok([ins.input, ...ins.progressive, ...ins.contribution].every((p) => p.width === 256 && p.height === 256));
        assert.equal(ins.tokenMaps.length, shape.P * N);
        assert.equal(ins.tokenMaps.at(-1)!.side, shape.scales[N - 1]);
        assert.equal(ins.codeColours.length, shape.P);
        assert.equal(ins.codeColours[0].length, 4096);
        // the colours follow the branch's lookup: VAR picks codes by Euclidean distance, ImageFolder by cosine
        const b0 = rt.pkg.manifest.branches[0];
        assert.equal(b0.lookup, shape.P === 1 ? 'euclidean' : 'cosine');
        assert.deepEqual(ins.codeColours[0], codeColours(rt.pkg.codebooks[0], b0.codebookSize, b0.codeDim, b0.lookup));
        assert.ok(ins.model.branches.every((b) => b.lookup === b0.lookup), 'info() reports the lookup');
        assert.equal(ins.ablation !== undefined, shape.P === 2);
        const sheet = await sharp(await contactSheet(ins, { captions: false })).metadata();
        assert.equal(sheet.height, 2 + (shape.P === 2 ? 3 : 2) * 258);
        const npy = await planExport(ins, 'tokens-npy');
        assert.match(Buffer.from(npy.bytes.subarray(10, 80)).toString('latin1'), new RegExp(`'shape': \\(${shape.P}, ${shape.L}\\)`));
        if (shape.P === 1) {
          await assert.rejects(planExport(ins, 'png', 'ablation-semantic', 0), (e: unknown) => e instanceof UserError && /has one branch: there are no branch ablations/.test(e.message));
        } else {
          const png = await planExport(ins, 'png', 'ablation-detail', 0);
          assert.equal((await sharp(Buffer.from(png.bytes)).metadata()).width, 256);
        }
      } finally {
        await rt.dispose();
      }
    });
  });
}

describe('tile progress of a large decoder on stderr', function () {
  this.timeout(600_000);
  it('tokenize prints how many tiles are decoded (a line per 10 % off a terminal)', async () => {
    // the small VAR package treated as large: the same code path as a ViT-B or VAR decoder of hundreds of MB
    const rt = await ModelRuntime.load(convertedPackage('var'), { provider: 'cpu', largeDecoder: true });
    const err: string[] = [];
    const out: string[] = [];
    const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), errIsTty: false, writeErrRaw: (t) => err.push(t) };
    try {
      assert.equal(await tokenize(rt, parseCli(['tokenize', CAT]), io), 0);
      assert.deepEqual(rt.parallelism().decoderWorkers, 1, 'one decoder session with every thread');
    } finally {
      await rt.dispose();
    }
    // the 10 progressive reconstructions only: tokenize reports no contribution images, so it decodes none
    assert.ok(err.length >= 5 && err.every((l) => /^\d+\/10 tiles$/.test(l)), err.join(' | '));
    assert.equal(err.at(-1), '10/10 tiles');
    assert.match(out.join('\n'), /single\s+680 tokens/);
  });
});
