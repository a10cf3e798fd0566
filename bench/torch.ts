// Runs training/bench_torch.py (PyTorch eager, the training code's models on the same weights)
// for `npm run bench` and returns the JSON lines it prints, or why it could not.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Clock = 'cpu' | 'wall';

export function runTorchBench(root: string, args: string[], clock: Clock): Record<string, unknown>[] | string {
  const script = path.join(root, 'training', 'bench_torch.py');
  if (!fs.existsSync(script)) return `${path.relative(root, script)} not found`;
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  // CPU clock: run the unchanged script with perf_counter swapped for process_time (all threads).
  const argv =
    clock === 'cpu'
      ? ['-c', `import runpy, sys, time; time.perf_counter = time.process_time; sys.argv = ${JSON.stringify([script, ...args])}; runpy.run_path(sys.argv[0], run_name="__main__")`]
      : [script, ...args];
  const r = spawnSync(python, argv, {
    cwd: root,
    // Like onnxruntime here (allow_spinning 0), OpenMP/OpenBLAS threads must not busy-wait: spinning
    // counts as CPU time and, on a shared machine, multiplies PyTorch's by ~5.
    env: clock === 'cpu' ? { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } : process.env,
    encoding: 'utf8',
    timeout: 1_800_000, // a starved, niced PyTorch on a shared machine can take many minutes
  });
  if (r.error) return r.error.message;
  if (r.status !== 0) return (r.stderr || '').trim().split('\n').slice(-1)[0] || `exit ${r.status}`;
  const rows = r.stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return rows.length ? rows : 'no JSON lines printed';
}
