// Runs training/bench_torch.py (PyTorch eager, the training code's models on the same weights)
// for `npm run bench` and returns the JSON lines it prints, or why it could not.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Clock = 'cpu' | 'wall';

// These machines set OPENBLAS_CORETYPE=Haswell (and OPENBLAS_L2_SIZE); with them Debian torch's matmul
// runs at ~60 GFLOP/s instead of ~154 (measured), which would flatter the TypeScript side. The
// PyTorch side alone runs without them; onnxruntime does not use OpenBLAS.
export const OPENBLAS_VARS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/** The PyTorch side's environment: the bench's, less OPENBLAS_VARS; on the CPU clock, passive OpenMP waits. */
export function torchEnv(base: NodeJS.ProcessEnv, clock: Clock): { env: NodeJS.ProcessEnv; unset: string[] } {
  const env: NodeJS.ProcessEnv = { ...base, ...(clock === 'cpu' ? { OMP_WAIT_POLICY: 'PASSIVE' } : {}) };
  const unset = OPENBLAS_VARS.filter((k) => k in env);
  for (const k of unset) delete env[k];
  return { env, unset };
}

let toldUnset = false;

export function runTorchBench(root: string, args: string[], clock: Clock): Record<string, unknown>[] | string {
  const script = path.join(root, 'training', 'bench_torch.py');
  if (!fs.existsSync(script)) return `${path.relative(root, script)} not found`;
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  // CPU clock: run the unchanged script with perf_counter swapped for process_time (all threads).
  // `python -c` puts the working folder, not the script's, first on sys.path: add training/ so the
  // script finds its imagefolder package as it does when run directly.
  const argv =
    clock === 'cpu'
      ? ['-c', `import runpy, sys, time; time.perf_counter = time.process_time; sys.argv = ${JSON.stringify([script, ...args])}; sys.path.insert(0, ${JSON.stringify(path.dirname(script))}); runpy.run_path(sys.argv[0], run_name="__main__")`]
      : [script, ...args];
  const { env, unset } = torchEnv(process.env, clock);
  if (unset.length && !toldUnset) {
    console.log(`PyTorch side: ${unset.join(' and ')} unset for it alone (Debian torch's matmul is ~2.5x slower with them)`);
    toldUnset = true;
  }
  const r = spawnSync(python, argv, {
    cwd: root,
    // Like onnxruntime here (allow_spinning 0), OpenMP/OpenBLAS threads must not busy-wait: spinning
    // counts as CPU time and, on a shared machine, multiplies PyTorch's by ~5.
    env,
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
