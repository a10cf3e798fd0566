// Model packages of other shapes for the tests, written by the real converters
// (training/convert/, issue 14) with small random weights so that a CI run stays fast: an
// ImageFolder package (256 px, 2 branches of 4096 codes, the paper's 10 scales, L = 286) and a
// VAR package (256 px, 1 branch of 4096 codes, scales 1..16, L = 680). Only width and depth are
// small; every shape the runtime and the UI see is the full one. Written once per converter
// version into the system's temporary folder and reused by every suite of the run.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './repo';

export type ConvertedKind = 'imagefolder' | 'var';

/** --width/--depth of the small random-init packages (the converters' own defaults are the full models). */
const SMALL: Record<ConvertedKind, string[]> = {
  imagefolder: ['--width', '128', '--depth', '2'],
  var: ['--width', '32', '--depth', '1'],
};

/** Debian's Python with PyTorch (the training environment; README "Training the built-in model"). */
const PYTHON = process.env.IFI_PYTHON ?? '/usr/bin/python3';

function converterHash(root: string): string {
  const dir = path.join(root, 'training', 'convert');
  const h = createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.py')) h.update(f).update(fs.readFileSync(path.join(dir, f)));
  return h.digest('hex').slice(0, 12);
}

/**
 * The folder of a small random-init package of `kind`, converting it on first use (~10-40 s).
 * IFI_CONVERTED_DIR: a folder holding if-small/ and var-small/ already (to try a change quickly).
 */
export function convertedPackage(kind: ConvertedKind): string {
  const given = process.env.IFI_CONVERTED_DIR;
  if (given) return path.join(given, kind === 'imagefolder' ? 'if-small' : 'var-small');
  const root = repoRoot();
  const dir = path.join(os.tmpdir(), `ifi-converted-${converterHash(root)}`, kind);
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return dir;
  const script = path.join(root, 'training', 'convert', `convert_${kind}.py`);
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const r = spawnSync(PYTHON, [script, '--random-init', ...SMALL[kind], '--seed', '0', '--skip-parity', '--threads', '2', '--out', tmp], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`${path.relative(root, script)} failed (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir); // whole or not at all: a killed run leaves no half package behind
  return dir;
}
