// scripts/gpu-check.sh: on this GPU-less machine it stops with one clear "no GPU adapter" line; its
// whole path (info, tokenize on both providers, parity, bench side by side) runs with PROVIDER=cpu,
// which checks the CPU against itself.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../../support/repo';

const REPO = repoRoot();
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('bash', [path.join(REPO, 'scripts', 'gpu-check.sh'), ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });

describe('scripts/gpu-check.sh', function () {
  this.timeout(300_000);

  it('without a WebGPU adapter: one "no GPU adapter" line naming why, exit 0 (3 with --require-gpu)', function () {
    const r = run([]);
    assert.equal(r.status, 0, r.stderr);
    // On a machine with a WebGPU adapter the script runs the real check instead (its exit status,
    // asserted above, covers parity): this test is about the GPU-less path.
    if (!/\[gpu-check\] no GPU adapter/.test(r.stdout)) this.skip();
    assert.match(r.stdout, /\[gpu-check\] no GPU adapter: webgpu cannot run here: .*No supported adapters/);
    assert.match(r.stdout, /libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2/);
    assert.match(r.stdout, /RESULT: nothing was checked on a GPU/);
    assert.doesNotMatch(r.stdout, /parity/);
    assert.equal(run(['--require-gpu']).status, 3);
  });

  it('the full check, run with PROVIDER=cpu: parity of every sample and the bench table', () => {
    const r = run([], { PROVIDER: 'cpu', BENCH_ARGS: '--repeat 1 --rounds 1' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const ok = r.stdout.split('\n').filter((l) => /^ok {3}samples\/.*: provider "cpu", 0 of \d+ indices differ, max PSNR difference 0\.0000 dB$/.test(l));
    assert.equal(ok.length, 6, r.stdout);
    assert.match(r.stdout, /^ {4}1 {2}inspection, everything +\d+\.\d$/m);
    assert.match(r.stdout, /RESULT: cpu checked/);
  });
});
