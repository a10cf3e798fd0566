import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { parseCli } from '../../../src/extension/cli/args';
import { grid } from '../../../src/extension/cli/generate';
import { UserError } from '../../../src/extension/core';
import { CLI, REPO, tmpDir, writeSmallPackage } from '../core/helpers';

const TINY = path.join(REPO, 'test', 'fixtures', 'tiny-model');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l.trim() && !/Vulkan|BackendVk/.test(l)) };
}

describe('CLI generate: arguments', () => {
  const bad = (argv: string[], pattern: RegExp) =>
    assert.throws(() => parseCli(argv), (e: unknown) => e instanceof UserError && e.code === 'BAD_ARGUMENT' && pattern.test(e.message));

  it('parses the options, with defaults left to the model', () => {
    const a = parseCli(['generate', '--class', 'cat', '--seed', '0', '--cfg', '2.5', '--top-k', '0', '--top-p', '0.9', '--temperature', '0.8', '--count', '3', '--out', 'x.png', '--json']);
    assert.equal(a.command, 'generate');
    assert.deepEqual(a.generate, { className: 'cat', seed: 0, cfg: 2.5, topK: 0, topP: 0.9, temperature: 0.8, count: 3, forceDetail: undefined, forceSemantic: undefined, joint: false, listClasses: false });
    assert.equal(parseCli(['generate', '--class', 'cat', '--out', 'x.png', '--joint']).generate?.joint, true);
    const d = parseCli(['generate', '--class', 'cat', '--out', 'x.png', '--force-detail', 'ref.png']);
    assert.deepEqual([d.generate?.seed, d.generate?.count, d.generate?.cfg, d.generate?.forceDetail], [0, 1, undefined, 'ref.png']);
  });

  it('rejects bad options with a one-line reason', () => {
    bad(['generate', '--out', 'x.png'], /needs --class/);
    bad(['generate', '--class', 'a'], /needs --out/);
    bad(['generate', '--class', 'a', '--out', 'x.png', '--seed=-1'], /--seed must be an integer >= 0/);
    bad(['generate', '--class', 'a', '--out', 'x.png', '--seed', '1.5'], /--seed/);
    bad(['generate', '--class', 'a', '--out', 'x.png', '--top-p', '0'], /--top-p must be a number > 0 and <= 1/);
    bad(['generate', '--class', 'a', '--out', 'x.png', '--top-k=-2'], /--top-k/);
    bad(['generate', '--class', 'a', '--out', 'x.png', '--temperature', '0'], /--temperature/);
    bad(['generate', '--class', 'a', '--out', 'x.png', '--count', '65'], /--count must be an integer >= 1 and <= 64/);
    bad(['generate', '--class', 'a', '--out', 'x.png', '--cfg', 'lots'], /--cfg/);
    bad(['generate', '--class', 'a', '--out', 'x.png', '--force-detail', 'a.png', '--force-semantic', 'b.png'], /not both/);
    bad(['generate', 'extra', '--class', 'a', '--out', 'x.png'], /no positional/);
  });

  it('lays samples out in a grid', () => {
    const img = (v: number) => new Uint8Array(2 * 2 * 3).fill(v);
    const g = grid([img(1), img(2), img(3)], 2);
    assert.deepEqual([g.width, g.height], [4, 4]);
    assert.equal(g.rgb[0], 1);
    assert.equal(g.rgb[(0 * 4 + 2) * 3], 2);
    assert.equal(g.rgb[(2 * 4 + 0) * 3], 3);
    assert.equal(g.rgb[(2 * 4 + 2) * 3], 255); // empty cell stays white
  });
});

describe('CLI generate: tiny package', function () {
  this.timeout(300_000);

  it('writes a PNG grid and prints settings and tokens; the same seed gives the same tokens', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'g.png');
    const args = ['generate', '--class', 'c', '--seed', '9', '--count', '2', '--top-k', '100', '--out', out, '--json', '--model', TINY, '--provider', 'cpu'];
    const r = cli(args);
    assert.equal(r.code, 0, r.stderr.join('\n'));
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.settings, { cfg: 3, topK: 100, topP: 0.95, temperature: 1, classId: 2, className: 'c', seed: 9, count: 2, mode: 'cache' });
    assert.equal(j.samples.length, 2);
    assert.equal(j.samples[0].tokens.length, 2);
    assert.equal(j.samples[0].tokens[0].length, 286);
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.width, meta.height], [128, 64]);
    assert.equal(r.stderr.length, 1);
    assert.match(r.stderr[0], /^wrote .*g\.png \(2 samples of 'c'/);
    const again = cli(args);
    assert.deepEqual(JSON.parse(again.stdout).samples, j.samples);
  });

  it('teacher-forces the detail tokens of an image', () => {
    const ref = path.join(REPO, 'test', 'fixtures', 'tiny-model-golden', 'img1.png');
    const tok = JSON.parse(cli(['tokenize', ref, '--json', '--model', TINY, '--provider', 'cpu']).stdout);
    const r = cli(['generate', '--class', 'a', '--force-detail', ref, '--out', path.join(tmpDir(), 'f.png'), '--json', '--model', TINY, '--provider', 'cpu']);
    assert.equal(r.code, 0, r.stderr.join('\n'));
    const j = JSON.parse(r.stdout);
    assert.equal(j.settings.forced, 'detail');
    assert.deepEqual(j.samples[0].tokens[0], tok.indices[0]);
  });

  it('exits 2 with one line for a model without a generator, an unknown class, a bad --out', () => {
    const none = cli(['generate', '--class', 'a', '--out', path.join(tmpDir(), 'x.png'), '--model', writeSmallPackage()]);
    assert.equal(none.code, 2);
    assert.deepEqual(none.stderr.length, 1);
    assert.match(none.stderr[0], /^imagefolder-inspector: this model has no generator/);
    const cls = cli(['generate', '--class', 'zebra', '--out', path.join(tmpDir(), 'x.png'), '--model', TINY]);
    assert.equal(cls.code, 2);
    assert.match(cls.stderr.join('\n'), /unknown class 'zebra' \(this model's classes: a, b, c\)/);
    const ext = cli(['generate', '--class', 'a', '--out', path.join(tmpDir(), 'x.jpg'), '--model', TINY]);
    assert.equal(ext.code, 2);
    assert.match(ext.stderr.join('\n'), /--out must name a \.png file/);
    assert.ok(!fs.existsSync(path.join(REPO, 'x.png')));
  });
});
