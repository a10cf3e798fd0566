// Generation benchmark (part of `npm run bench`; alone: `npm run bench -- --generate-only`): one
// image, all scales, with guidance (2 batch rows per step), sampled with the KV cache versus with
// the prefix's keys/values recomputed at every scale, same seed (so the same tokens), and versus
// PyTorch eager doing the same (training/bench_torch.py --generate: the training code's generator
// and the same sampling rules, imagefolder/sampling.py), all in one run, as ratios.
// Uses the benchmarked model when it has a generator, else the tiny test package (said so).
// PyTorch needs the generator's weights as a .pt file (export_generator.py --weights; default
// training/checkpoints/<model name>-generator.pt); without them it times random weights of the
// package's shapes and says so (a step's time does not depend on the weights).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelRuntime, generate, generatorSpec, hasGenerator, type GenerateOptions, type GenerationResult } from '../src/extension/core';
import { runTorchBench, type Clock } from './torch';

/** PyTorch eager, same work, per image, on the bench's clock */
export interface TorchGeneration {
  cache_ms: number;
  recompute_ms: number;
  cache_with_decode_ms: number;
  sameTokens: boolean;
  /** the sample's tokens [P][L]: the same seed gives the TS run's tokens when the weights are the same */
  tokens: number[][];
  /** what was not the package's own weights, if anything */
  notes: string[];
}

export interface TorchGenerationOptions {
  clock: Clock;
  /** tokenizer weights (.pt) */
  weights?: string;
  /** generator weights (.pt) */
  genWeights?: string;
}

export interface GenerationBench {
  model: string;
  modelDir: string;
  /** why the benchmarked model is not the one asked for, if so */
  note?: string;
  settings: Omit<GenerateOptions, 'onScale' | 'signal'>;
  /** tokens only (all scales, sampling included), per image */
  cache_ms: number;
  recompute_ms: number;
  /** recompute / cache, wall time and CPU time (CPU time is steadier on a shared machine) */
  ratio: number;
  cpu_ratio: number;
  cache_cpu_ms: number;
  recompute_cpu_ms: number;
  /** cache run plus the final decode, per image */
  cache_with_decode_ms: number;
  cache_with_decode_cpu_ms: number;
  /** PyTorch eager on the clock named, or why it is missing */
  torch: TorchGeneration | string;
  clock: Clock;
  /** breakdown of the last cache run */
  breakdown: GenerationResult['timingsMs'];
  runs: { cache: GenerationResult['runs']; recompute: GenerationResult['runs'] };
  sameTokens: boolean;
  /** the TS cache run's sample [P][L] */
  tokens: number[][];
  loadAverage: number;
}

async function timed(fn: () => Promise<GenerationResult>, repeat: number): Promise<{ wall: number; cpu: number; last: GenerationResult }> {
  let last = await fn(); // warm-up (first run also creates the sessions)
  const c = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < repeat; i++) last = await fn();
  const wall = (performance.now() - t) / repeat;
  const cpu = process.cpuUsage(c);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 / repeat, last };
}

function benchTorchGeneration(root: string, modelDir: string, settings: object, repeat: number, threads: number, o: TorchGenerationOptions, name: string): TorchGeneration | string {
  const genWeights = o.genWeights ?? path.join(root, 'training', 'checkpoints', `${name}-generator.pt`);
  const args = ['--batches', 'none', '--threads', String(threads), '--repeat', String(repeat), '--generate', modelDir, '--gen-settings', JSON.stringify(settings)];
  if (o.weights) args.push('--weights', o.weights);
  if (fs.existsSync(genWeights)) args.push('--gen-weights', genWeights);
  const rows = runTorchBench(root, args, o.clock);
  if (typeof rows === 'string') return rows;
  const g = rows.find((r) => 'generation' in r)?.generation as TorchGeneration | undefined;
  return g ?? 'no generation line printed';
}

export async function benchGeneration(modelDir: string, root: string, repeat: number, threads: number, torch?: TorchGenerationOptions): Promise<GenerationBench> {
  let rt = await ModelRuntime.load(modelDir, { provider: 'cpu', threads });
  let note: string | undefined;
  if (!hasGenerator(rt)) {
    await rt.dispose();
    const tiny = path.join(root, 'test', 'fixtures', 'tiny-model');
    note = `${path.relative(root, modelDir) || modelDir} has no generator yet; benchmarked the tiny test package ${path.relative(root, tiny)} (generator depth 2, width 64; meaningless weights)`;
    rt = await ModelRuntime.load(tiny, { provider: 'cpu', threads });
  }
  try {
    const spec = generatorSpec(rt);
    const settings = { classId: 0, seed: 1, count: 1, ...spec.defaults, cfg: spec.defaults.cfg > 0 ? spec.defaults.cfg : 3 };
    const cache = await timed(() => generate(rt, { ...settings, decode: false }), repeat);
    const recompute = await timed(() => generate(rt, { ...settings, decode: false, mode: 'recompute' }), repeat);
    const withDecode = await timed(() => generate(rt, { ...settings, decode: true }), repeat);
    const torchResult = torch ? benchTorchGeneration(root, rt.pkg.dir, settings, repeat, threads, torch, rt.pkg.manifest.name) : 'skipped (--no-torch)';
    return {
      model: rt.pkg.manifest.name,
      modelDir: rt.pkg.dir,
      ...(note ? { note } : {}),
      settings,
      cache_ms: cache.wall,
      recompute_ms: recompute.wall,
      ratio: recompute.wall / cache.wall,
      cpu_ratio: recompute.cpu / cache.cpu,
      cache_cpu_ms: cache.cpu,
      recompute_cpu_ms: recompute.cpu,
      cache_with_decode_ms: withDecode.wall,
      cache_with_decode_cpu_ms: withDecode.cpu,
      torch: torchResult,
      clock: torch?.clock ?? 'cpu',
      breakdown: cache.last.timingsMs,
      runs: { cache: cache.last.runs, recompute: recompute.last.runs },
      sameTokens: JSON.stringify(cache.last.samples[0].tokens) === JSON.stringify(recompute.last.samples[0].tokens),
      tokens: cache.last.samples[0].tokens,
      loadAverage: os.loadavg()[0],
    };
  } finally {
    await rt.dispose();
  }
}

export function printGeneration(g: GenerationBench): void {
  const s = g.settings;
  console.log('');
  console.log(`generation: ${g.model}, one image, all scales, cfg ${s.cfg} (guidance: 2 rows per step), top-k ${s.topK}, top-p ${s.topP}, seed ${s.seed}`);
  if (g.note) console.log(`  note: ${g.note}`);
  console.log(`  KV cache            ${g.cache_ms.toFixed(1).padStart(8)} ms  (CPU ${g.cache_cpu_ms.toFixed(0)} ms; ${g.runs.cache.generator} generator + ${g.runs.cache.nextInput} next-input runs)`);
  console.log(`  recompute prefix    ${g.recompute_ms.toFixed(1).padStart(8)} ms  (CPU ${g.recompute_cpu_ms.toFixed(0)} ms; ${g.runs.recompute.generator} generator runs)`);
  console.log(`  recompute / cache   ${g.ratio.toFixed(2).padStart(8)}x    (goal >= 2x): ${g.ratio >= 2 ? 'met' : 'NOT met'}; CPU time ${g.cpu_ratio.toFixed(2)}x; same tokens: ${g.sameTokens ? 'yes' : 'NO'}`);
  const b = g.breakdown;
  console.log(`  cache run: generator ${b.generator} ms, next input ${b.nextInput} ms, sampling ${b.sampling} ms; with the final decode ${g.cache_with_decode_ms.toFixed(1)} ms`);
  const t = g.torch;
  if (typeof t === 'string') {
    console.log(`  pytorch reference unavailable: ${t}`);
  } else {
    const ts = g.clock === 'cpu' ? { cache: g.cache_cpu_ms, recompute: g.recompute_cpu_ms, decode: g.cache_with_decode_cpu_ms } : { cache: g.cache_ms, recompute: g.recompute_ms, decode: g.cache_with_decode_ms };
    const differ = t.tokens.flat().filter((v, i) => v !== g.tokens.flat()[i]).length;
    console.log(`  PyTorch eager (${g.clock} time): KV cache ${t.cache_ms.toFixed(1)} ms, recompute ${t.recompute_ms.toFixed(1)} ms, KV cache + decode ${t.cache_with_decode_ms.toFixed(1)} ms; cache and recompute same tokens: ${t.sameTokens ? 'yes' : 'NO'}`);
    for (const n of t.notes) console.log(`    note: ${n}`);
    // Same weights in float32 give the same tokens (same sampling rules and random streams).
    console.log(`    tokens of the same seed as TypeScript's: ${differ === 0 ? 'identical' : `${differ} of ${t.tokens.flat().length} differ`}${t.notes.length ? ' (not the same weights, see the notes)' : ''}`);
    console.log(
      `  ratios (${g.clock} time): TS recompute / TS cache ${(ts.recompute / ts.cache).toFixed(2)}x, PyTorch cache / TS cache ${(t.cache_ms / ts.cache).toFixed(2)}x, ` +
        `PyTorch recompute / TS recompute ${(t.recompute_ms / ts.recompute).toFixed(2)}x, with the decode PyTorch / TS ${(t.cache_with_decode_ms / ts.decode).toFixed(2)}x`,
    );
  }
  console.log(`  one generated image with the KV cache: ${g.cache_with_decode_ms.toFixed(0)} ms wall, ${g.cache_with_decode_cpu_ms.toFixed(0)} ms CPU (goal < 500 ms): ${g.cache_with_decode_ms < 500 ? 'met' : g.cache_with_decode_cpu_ms < 500 ? 'met in CPU time, not in wall time under this load' : 'NOT met'}${g.note ? ' (tiny package, not the built-in model)' : ''}; load average ${g.loadAverage.toFixed(1)} on ${os.cpus().length} cores`);
}
