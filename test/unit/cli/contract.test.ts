// Issue 17, CLI: no option parsed and then ignored, one exit-status rule for every command, help
// per command, ranges in messages, files named by the path given, token files read robustly.
// In-process (runCli) on the tiny fixture model, except where only the process shows it.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { CLI_OPTIONS, parseCli } from '../../../src/extension/cli/args';
import { COMMANDS, COMMAND_SPECS, GLOBAL_OPTIONS, OPTION_HELP } from '../../../src/extension/cli/help';
import { runCli } from '../../../src/extension/cli/main';
import type { Io } from '../../../src/extension/cli/io';
import { UserError } from '../../../src/extension/core';
import { CLI, REPO, tmpDir } from '../core/helpers';

const TINY = path.join(REPO, 'test', 'fixtures', 'tiny-model');
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function run(args: string[], cwd?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), errIsTty: false, writeErrRaw: (t) => err.push(t) };
  const before = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    const code = await runCli([...args, '--model', TINY, '--provider', 'cpu'], io, REPO);
    return { code, out, err };
  } finally {
    process.chdir(before);
  }
}

/** Exit 2 and exactly one stderr line, without control bytes, matching `pattern`. */
function oneLineFailure(r: { code: number; err: string[] }, pattern: RegExp) {
  assert.equal(r.code, 2, r.err.join('\n'));
  assert.equal(r.err.length, 1, r.err.join('\n'));
  assert.doesNotMatch(r.err[0], /[\n\r]/);
  assert.doesNotMatch(r.err[0], /[\u0000-\u001f\u007f]/);
  assert.match(r.err[0], pattern);
}

const bad = (argv: string[], pattern: RegExp) =>
  assert.throws(() => parseCli(argv), (e: unknown) => e instanceof UserError && e.code === 'BAD_ARGUMENT' && pattern.test(e.message));

/** Arguments that make each command valid, to which one option is added. */
const VALID: Record<string, string[]> = {
  tokenize: ['tokenize', 'a.png'],
  reconstruct: ['reconstruct', 'a.png', '--scales', '3', '--out', 'o.png'],
  sheet: ['sheet', 'a.png', '--out', 'o.png'],
  swap: ['swap', 'a.png', 'b.png', '--out', 'o.png'],
  stats: ['stats', 'dir'],
  info: ['info'],
  generate: ['generate', '--class', 'a', '--out', 'o.png'],
};
const VALUES: Record<string, string> = { resize: 'crop', branch: 'detail', provider: 'cpu', background: '#000', class: 'a', 'top-p': '0.5' };
const valueFor = (o: string) => ((CLI_OPTIONS as Record<string, { type: string }>)[o].type === 'string' ? [VALUES[o] ?? '2'] : []);

describe('CLI options: each command takes only the options it uses (issue 17, item 7)', () => {
  it('tokenize --out is refused (it wrote nothing), saying where its output goes', () => {
    bad(['tokenize', 'a.png', '--out', 'x.json'], /^tokenize does not take --out: it prints to stdout \(redirect it: --json > FILE\)/);
  });

  it('every option outside a command\'s list is refused, every one in it is accepted', () => {
    for (const c of COMMANDS) {
      const allowed = new Set<string>([...GLOBAL_OPTIONS, ...COMMAND_SPECS[c].options]);
      for (const o of Object.keys(OPTION_HELP)) {
        if (o === 'help') continue;
        const argv = [...VALID[c], `--${o}`, ...valueFor(o)];
        if (allowed.has(o) || VALID[c].includes(`--${o}`)) {
          if (o === 'list-classes' || o.startsWith('force-') || VALID[c].includes(`--${o}`)) continue; // their own checks below
          assert.doesNotThrow(() => parseCli(argv), `${c} --${o}`);
        } else {
          bad(argv, new RegExp(`^${c} does not take --${o}\\b`));
        }
      }
    }
  });

  it('image options where no image is read are refused at run time', async () => {
    const dir = tmpDir();
    const tokens = path.join(dir, 't.tokens.json');
    fs.writeFileSync(tokens, JSON.stringify({ format: 'imagefolder-tokens', model: { name: 'x' }, indices: [[0], [0]] }));
    oneLineFailure(await run(['reconstruct', tokens, '--scales', '2', '--out', path.join(dir, 'o.png'), '--resize', 'letterbox']), new RegExp(`--resize does not apply: ${escapeRe(tokens)} is a token file, not an image`));
    oneLineFailure(await run(['generate', '--class', 'a', '--out', path.join(dir, 'g.png'), '--background', '#000']), /--background does not apply: generate reads an image only with --force-detail or --force-semantic/);
    assert.ok(!fs.existsSync(path.join(dir, 'o.png')) && !fs.existsSync(path.join(dir, 'g.png')));
  });
});

describe('CLI exit status: one rule for every command (issue 17, item 8)', () => {
  let dir: string;
  before(async () => {
    dir = tmpDir('ifi-exit-');
    fs.mkdirSync(path.join(dir, 'cats'));
    await sharp({ create: { width: 20, height: 20, channels: 3, background: '#884422' } }).png().toFile(path.join(dir, 'cats', 'good.png'));
    fs.writeFileSync(path.join(dir, 'cats', 'broken.png'), 'not an image');
    fs.writeFileSync(path.join(dir, 'empty.jpg'), '');
  });

  it('stats exits 2 when images could not be read, naming each on stderr by the path given', async () => {
    const r = await run(['stats', dir]);
    assert.equal(r.code, 2);
    assert.deepEqual(r.err.filter((l) => !/^\d+\/\d+ images$/.test(l)).sort(), [
      `imagefolder-inspector: ${path.join(dir, 'cats', 'broken.png')}: not an image format that can be read (the file holds text; readable formats: PNG, JPEG, WebP, AVIF, GIF, TIFF, SVG)`,
      `imagefolder-inspector: ${path.join(dir, 'empty.jpg')}: empty file (0 bytes), not an image`,
    ]);
    assert.match(r.out[0], /: 1 images tokenised, 2 could not be read \(named on stderr\)/);
  });

  it('stats exits 0 when every image was read; --json keeps the failures listed', async () => {
    assert.equal((await run(['stats', path.join(dir, 'cats', '..', 'cats')])).code, 2);
    fs.rmSync(path.join(dir, 'cats', 'broken.png'));
    const ok = await run(['stats', path.join(dir, 'cats')]);
    assert.equal(ok.code, 0, ok.err.join('\n'));
    fs.writeFileSync(path.join(dir, 'cats', 'broken.png'), 'not an image');
    const j = await run(['stats', dir, '--json']);
    assert.equal(j.code, 2);
    assert.deepEqual(JSON.parse(j.out[0]).failed.map((f: { image: string }) => f.image).sort(), [path.join('cats', 'broken.png'), 'empty.jpg']);
  });

  it('the rule is in every help text', async () => {
    for (const c of COMMANDS) {
      const h = await run([c, '--help']);
      assert.equal(h.code, 0);
      assert.match(h.out.join('\n'), /exit status \(every command\): 0 every input read and every output written; 2 bad input/);
    }
  });
});

describe('CLI help per command and --list-classes (issue 17, item 9)', () => {
  it('generate --help prints generate\'s usage and options, not the general help', async () => {
    for (const argv of [['generate', '--help'], ['help', 'generate'], ['generate', '-h']]) {
      const r = await run(argv);
      assert.equal(r.code, 0);
      const text = r.out.join('\n');
      assert.match(text, /^usage: imagefolder-inspector generate --class NAME/);
      for (const o of ['--list-classes', '--cfg X', '--top-k K', '--force-detail IMAGE', '--model DIR', 'exit status']) assert.ok(text.includes(o), `${argv.join(' ')}: ${o}`);
      assert.doesNotMatch(text, /tokenize|reconstruct|--scales/);
    }
    const general = (await run(['--help'])).out.join('\n');
    for (const c of COMMANDS) assert.match(general, new RegExp(`^  ${c}\\b`, 'm'));
    assert.match((await run(['reconstruct', '--help'])).out.join('\n'), /--scales K .*1 to the model's number of scales/);
  });

  it('generate --list-classes prints the classes (--json: an array) without --class or --out', async () => {
    const r = await run(['generate', '--list-classes']);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.out, ['a', 'b', 'c']);
    const j = await run(['generate', '--list-classes', '--json']);
    assert.deepEqual(JSON.parse(j.out[0]), ['a', 'b', 'c']);
    oneLineFailure(await run(['generate', '--list-classes', '--cfg', '2']), /--list-classes takes no sampling options \(got --cfg\)/);
  });
});

describe('CLI ranges in messages (issue 17, item 10)', () => {
  it('a negative number is a value whose allowed range is said, not an "ambiguous" argument', async () => {
    assert.equal(parseCli(['reconstruct', 'a.png', '--scales', '-1', '--out', 'o.png']).scales, -1);
    const dir = tmpDir();
    const img = path.join(dir, 'a.png');
    await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } }).png().toFile(img);
    oneLineFailure(await run(['reconstruct', img, '--scales', '-1', '--out', path.join(dir, 'o.png')]), /^imagefolder-inspector: --scales must be an integer from 1 to 10, this model's number of scales \(got -1\)$/);
    bad(['generate', '--class', 'a', '--out', 'o.png', '--seed', '-1'], /^--seed must be an integer >= 0 and <= \d+ \(got '-1'\)$/);
    bad(['tokenize', 'a.png', '--threads', '-2'], /^--threads must be a positive integer \(got '-2'\)$/);
    bad(['tokenize', 'a.png', '--max-mp', '-.5'], /^--max-mp must be a positive number \(got '-.5'\)$/);
    bad(['generate', '--class', 'a', '--out', 'o.png', '--top-k', '-3'], /^--top-k must be an integer >= 0 and <= 1048576 \(got '-3'\)$/);
    // the protocol's caps (shared/limits.ts), so the CLI refuses what the Generate view would
    bad(['generate', '--class', 'a', '--out', 'o.png', '--cfg', '101'], /^--cfg must be a number >= 0 and <= 100 \(got '101'\)$/);
    bad(['generate', '--class', 'a', '--out', 'o.png', '--temperature', '1e3'], /^--temperature must be a number > 0 and <= 100 \(got '1e3'\)$/);
  });
});

describe('CLI file names: the path given (issue 17, item 11)', () => {
  it('an unreadable image is named by the (relative) path it was given as, in every command', async () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'broken.png'), 'not an image');
    const rel = path.join('sub', 'broken.png');
    const want = new RegExp(`^imagefolder-inspector: ${escapeRe(rel)}: not an image format`);
    oneLineFailure(await run(['tokenize', rel], dir), want);
    oneLineFailure(await run(['reconstruct', rel, '--scales', '2', '--out', 'o.png'], dir), want);
    oneLineFailure(await run(['sheet', rel, '--out', 'o.png'], dir), want);
    const s = await run(['stats', 'sub'], dir);
    assert.deepEqual(s.err.filter((l) => !/images$/.test(l)).map((l) => want.test(l)), [true]);
  });
});

describe('CLI token files (issue 17, item 12)', () => {
  let dir: string;
  let good: { format: string; model: { name: string }; indices: number[][] };
  before(async () => {
    dir = tmpDir('ifi-tokens-');
    const img = path.join(dir, 'a.png');
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#3377aa' } }).png().toFile(img);
    const t = await run(['tokenize', img, '--json']);
    assert.equal(t.code, 0, t.err.join('\n'));
    const o = JSON.parse(t.out[0]);
    good = { format: 'imagefolder-tokens', model: { name: o.model }, indices: o.indices };
  });
  const reconstruct = (file: string, out = path.join(dir, 'o.png')) => run(['reconstruct', file, '--scales', '10', '--out', out]);

  it('a PNG renamed .tokens.json: one line, no raw bytes', async () => {
    const file = path.join(dir, 'picture.tokens.json');
    fs.copyFileSync(path.join(dir, 'a.png'), file);
    oneLineFailure(await reconstruct(file), new RegExp(`^imagefolder-inspector: ${escapeRe(file)}: not JSON: the file holds binary data \\(a token file is JSON text\\)$`));
  });

  it('a code of 1e400 is "not a finite integer", not "null"', async () => {
    const file = path.join(dir, 'huge.tokens.json');
    fs.writeFileSync(file, JSON.stringify(good).replace(/"indices":\[\[\d+/, '"indices":[[1e400'));
    oneLineFailure(await reconstruct(file), /"indices"\[0\]\[0\] is not a finite integer \(too large for a code\)$/);
  });

  it('a UTF-8 byte order mark is accepted: the same image as without it', async () => {
    const plain = path.join(dir, 'plain.tokens.json');
    const bom = path.join(dir, 'bom.tokens.json');
    fs.writeFileSync(plain, JSON.stringify(good));
    fs.writeFileSync(bom, `\ufeff${JSON.stringify(good)}`);
    const [a, b] = [path.join(dir, 'plain.png'), path.join(dir, 'bom.png')];
    assert.equal((await reconstruct(plain, a)).code, 0);
    const r = await reconstruct(bom, b);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)));
  });

  it('shape errors name the file', async () => {
    const file = path.join(dir, 'short.tokens.json');
    fs.writeFileSync(file, JSON.stringify({ ...good, indices: [good.indices[0].slice(1), good.indices[1]] }));
    oneLineFailure(await reconstruct(file), new RegExp(`^imagefolder-inspector: ${escapeRe(file)} must be 2 rows of 286 indices \\(one row per branch\\), got 285 \\+ 286$`));
    const big = path.join(dir, 'big.tokens.json');
    fs.writeFileSync(big, JSON.stringify({ ...good, indices: [good.indices[0], good.indices[1].map((c, i) => (i === 7 ? 5000 : c))] }));
    oneLineFailure(await run(['sheet', big, '--out', path.join(dir, 's.png')]), new RegExp(`^imagefolder-inspector: ${escapeRe(big)}: token 8 of 286 in the semantic branch is 5000, outside the codebook \\(codes 0\\.\\.`));
  });

  it('as a process too: one stderr line for the renamed PNG (dist/cli.js)', function () {
    if (!fs.existsSync(CLI)) this.skip();
    const file = path.join(dir, 'picture.tokens.json');
    const r = spawnSync(process.execPath, [CLI, 'reconstruct', file, '--scales', '3', '--out', path.join(dir, 'p.png'), '--model', TINY], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    const lines = r.stderr.split('\n').filter((l) => l.trim() && !/Vulkan|BackendVk/.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /not JSON: the file holds binary data/);
  });
});
