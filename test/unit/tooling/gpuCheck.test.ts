// scripts/gpu-check.sh: on a GPU-less machine it stops with one clear "no GPU adapter" line; with a
// WebGPU adapter its parity lines are asserted (indices identical, PSNR within 0.01 dB); its
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

  it('without a WebGPU adapter: one "no GPU adapter" line naming why, exit 0 (3 with --require-gpu); with one: WebGPU matches the CPU on every sample', function () {
    // a short bench: on a GPU machine the whole check runs (the GPU-less path stops before it)
    const r = run([], { BENCH_ARGS: '--repeat 1 --rounds 1' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    if (/\[gpu-check\] no GPU adapter/.test(r.stdout)) {
      assert.match(r.stdout, /\[gpu-check\] no GPU adapter: webgpu cannot run here: .*No supported adapters/);
      assert.match(r.stdout, /libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2/);
      assert.match(r.stdout, /RESULT: nothing was checked on a GPU/);
      assert.doesNotMatch(r.stdout, /parity/);
      assert.equal(run(['--require-gpu']).status, 3);
      return;
    }
    // An adapter: the parity lines themselves, one per sample: WebGPU ran both graphs, the indices
    // are the CPU's exactly and PSNR is within 0.01 dB at every scale.
    const lines = r.stdout.split('\n').filter((l) => /^(ok {2}|FAIL) samples\//.test(l));
    assert.equal(lines.length, 6, r.stdout);
    for (const l of lines) {
      const m = /^ok {3}samples\/.*: provider (.*), 0 of \d+ indices differ, max PSNR difference (\d+\.\d{4}) dB$/.exec(l);
      assert.ok(m, l);
      assert.equal(m[1], '"webgpu"', l);
      assert.ok(Number(m[2]) <= 0.01, l);
    }
    assert.match(r.stdout, /RESULT: webgpu checked/);
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
