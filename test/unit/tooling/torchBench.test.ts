// bench/torch.ts: the PyTorch side of `npm run bench` runs training/bench_torch.py on both clocks.
// On the CPU clock the script runs under `python -c`, where it once failed to import its own
// imagefolder package and the bench printed "pytorch reference unavailable" instead of a ratio.

import * as assert from 'node:assert/strict';
import { runTorchBench, torchEnv } from '../../../bench/torch';
import { repoRoot } from '../../support/repo';

describe('bench/torch.ts (the PyTorch reference)', function () {
  this.timeout(300_000);
  it('runs PyTorch without the OPENBLAS_* settings that slow its matmul, and leaves the bench\'s own environment alone', function () {
    const base = { OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: '512', PATH: '/usr/bin' };
    const { env, unset } = torchEnv(base, 'cpu');
    assert.deepEqual(unset, ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']);
    assert.deepEqual(env, { PATH: '/usr/bin', OMP_WAIT_POLICY: 'PASSIVE' });
    assert.equal(base.OPENBLAS_CORETYPE, 'Haswell');
    assert.deepEqual(torchEnv({ PATH: '/usr/bin' }, 'wall'), { env: { PATH: '/usr/bin' }, unset: [] });
  });

  for (const clock of ['cpu', 'wall'] as const) {
    it(`runs training/bench_torch.py on the ${clock} clock and returns its timing rows`, function () {
      const rows = runTorchBench(repoRoot(), ['--batches', '1', '--repeat', '1', '--threads', '1'], clock);
      assert.ok(Array.isArray(rows), `the PyTorch side failed: ${String(rows)}`);
      assert.equal(rows.length, 1);
      const r = rows[0] as { batch: number; encode_ms: number; inspect_full_ms: number; tiles: number };
      assert.equal(r.batch, 1);
      assert.ok(r.encode_ms > 0 && r.inspect_full_ms > r.encode_ms, JSON.stringify(r));
      assert.equal(r.tiles, 21);
    });
  }
});
