// npm run bench: per-image latency of encode, progressive decode and a full inspection on the
// built-in model at batch 1 and 8, next to the same work in PyTorch eager
// (training/bench_torch.py, same weights) run in the same session, printed as ratios.
//
// --clock cpu (default) compares CPU time (all threads of each process): these 2-core machines are
// shared with training, and under that contention wall time mostly measures the scheduler. PyTorch
// is then timed with time.process_time in place of time.perf_counter. --clock wall compares wall
// time (use it on an idle machine). TS wall and CPU time are always both printed.
//
//   npm run bench -- [--model DIR] [--torch-weights FILE.pt] [--torch-gen-weights FILE.pt] [--clock cpu|wall]
//                    [--repeat N] [--rounds N] [--threads N] [--no-torch] [--no-generate | --generate-only]   (generation: bench/generate.ts)
//   npm run bench -- --provider cpu,webgpu [--model DIR] [--repeat N] [--rounds N] [--threads N]
//     compares execution providers side by side in one run (wall time: a GPU's work is not this
//     process's CPU time); a provider that cannot run here is named with the reason, the others still run.
//   npm run bench -- --model DIR [--first-view]   time to the first view and to all tiles (bench/firstView.ts):
//     the benchmark of a package other than the built-in one (a converted tokenizer)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ModelRuntime, inspectMany, loadImage, toTensor, progressiveMask, decodePlan, builtInModelDir, PROVIDERS, type ProviderName } from '../src/extension/core';
import { benchFirstView, printFirstView } from './firstView';
import { benchGeneration, printGeneration, type GenerationBench } from './generate';
import { runTorchBench, type Clock } from './torch';

const ROOT = path.resolve(__dirname, '..', '..');
const BATCHES = [1, 8];

type Timing = Record<Clock, number>;

/** per-image ms of each piece of work, on both clocks */
interface Row {
  batch: number;
  encode: Timing;
  decode: Timing;
  /** encoder + the inspection's decoder tiles (in inspectMany's runs): PyTorch's "inspect" */
  inspectModel: Timing;
  /** everything the panel shows: decode of the file, resize, model work, PNGs, metrics, maps */
  inspect: Timing;
}

// Wall time is what a user waits for; CPU time counts every thread of this process.
async function timed(fn: () => Promise<unknown>, repeat: number, perRun: number): Promise<Timing> {
  await fn(); // warm-up (first run also creates the session)
  const c = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < repeat; i++) await fn();
  const wall = performance.now() - t;
  const cpu = process.cpuUsage(c);
  return { wall: wall / repeat / perRun, cpu: (cpu.user + cpu.system) / 1000 / repeat / perRun };
}

function benchImages(): string[] {
  const dirs = [path.join(ROOT, 'test', 'fixtures', 'golden'), path.join(ROOT, 'samples')];
  for (const d of dirs) {
    if (!fs.existsSync(d)) continue;
    const files = fs.readdirSync(d).filter((f) => /\.(png|jpe?g|webp)$/i.test(f) && !/corrupt/.test(f)).map((f) => path.join(d, f));
    if (files.length) return Array.from({ length: 8 }, (_, i) => files[i % files.length]);
  }
  throw new Error('no benchmark images (test/fixtures/golden or samples)');
}

/** The provider asked for could not run here (the runtime fell back): the reason. */
class ProviderUnavailable extends Error {}

async function benchTs(modelDir: string, repeat: number, threads: number, provider: ProviderName = 'cpu'): Promise<Row[]> {
  const rt = await ModelRuntime.load(modelDir, { provider, threads });
  const report = await rt.ready();
  if (report.chosen.encoder !== provider || report.chosen.decoder !== provider) {
    await rt.dispose();
    const why = report.skipped.find((s) => s.provider === provider)?.reason ?? `ran on ${report.chosen.decoder}`;
    throw new ProviderUnavailable(why);
  }
  const images = benchImages();
  const S = rt.imageSize;
  const { mean, std } = rt.pkg.manifest.image;
  const N = rt.scales.length;
  const P = rt.branchCount;
  const prepared = await Promise.all(images.map((f) => loadImage(f, { size: S, resize: 'crop', background: '#ffffff', pixelLimit: 1e8 })));
  const rows: Row[] = [];
  for (const B of BATCHES) {
    const tensor = new Float32Array(B * 3 * S * S);
    prepared.slice(0, B).forEach((p, i) => toTensor(p.rgb, S, mean, std, tensor, i * 3 * S * S));
    const indices = await rt.encode(tensor, B);
    const progMasks = Array.from({ length: N }, (_, k) => progressiveMask(P, N, k));
    const plan = decodePlan(P, N, rt.pkg.roles).map((t) => t.mask);
    const encode = await timed(() => rt.encode(tensor, B), repeat, B);
    // one decoder run per image: its N masks share the image's indices (code maps computed once)
    const decode = await timed(async () => {
      for (const idx of indices) await rt.decode([idx], progMasks);
    }, repeat, B);
    const inspectModel = await timed(async () => {
      const idx = await rt.encode(tensor, B);
      for (const i of idx) await rt.decode([i], plan); // in runs over the decoder workers, as inspectMany does
    }, repeat, B);
    const inspect = await timed(() => inspectMany(rt, images.slice(0, B), {}), repeat, B);
    rows.push({ batch: B, encode, decode, inspectModel, inspect });
  }
  await rt.dispose();
  return rows;
}

/** PyTorch ms per image; inspect_full_ms: training/imagefolder/inspection.py, the same work as inspectMany */
type TorchRow = { batch: number; encode_ms: number; decode_ms: number; inspect_ms: number; inspect_full_ms?: number };

function benchTorch(repeat: number, threads: number, clock: Clock, weights?: string): TorchRow[] | string {
  // The same image files as the TypeScript side (PyTorch reads and resizes them itself).
  const args = ['--threads', String(threads), '--repeat', String(repeat), '--batches', BATCHES.join(','), '--images', benchImages().join(','), ...(weights ? ['--weights', weights] : [])];
  const rows = runTorchBench(ROOT, args, clock);
  return typeof rows === 'string' ? rows : (rows.filter((r) => 'batch' in r) as unknown as TorchRow[]);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const medianTiming = (ts: Timing[]): Timing => ({ cpu: median(ts.map((t) => t.cpu)), wall: median(ts.map((t) => t.wall)) });

function medianRows(rounds: Row[][]): Row[] {
  return rounds[0].map((r, i) => ({
    batch: r.batch,
    encode: medianTiming(rounds.map((rs) => rs[i].encode)),
    decode: medianTiming(rounds.map((rs) => rs[i].decode)),
    inspectModel: medianTiming(rounds.map((rs) => rs[i].inspectModel)),
    inspect: medianTiming(rounds.map((rs) => rs[i].inspect)),
  }));
}

function medianTorch(rounds: TorchRow[][]): TorchRow[] {
  return rounds[0].map((r) => {
    const same = rounds.map((rs) => rs.find((p) => p.batch === r.batch) ?? r);
    const out: Record<string, unknown> = { ...r };
    for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && k !== 'batch') out[k] = median(same.map((p) => (p as unknown as Record<string, number>)[k]));
    return out as unknown as TorchRow;
  });
}

const f = (x: number | undefined) => (x === undefined ? '     -  ' : x.toFixed(1).padStart(8));
const ratio = (torch: number | undefined, ts: number) => (torch === undefined ? '   -  ' : `${(torch / ts).toFixed(2)}x`.padStart(6));

/**
 * --provider P,Q: the TypeScript bench once per provider, rounds alternating between them, and one
 * table with a column per provider (wall ms per image, medians over the rounds).
 */
async function compareProviders(modelDir: string, list: string, repeat: number, threads: number, rounds: number): Promise<void> {
  const providers = [...new Set(list.split(',').map((p) => p.trim()).filter(Boolean))];
  const bad = providers.filter((p) => !PROVIDERS.includes(p as ProviderName));
  if (bad.length > 0 || providers.length === 0) throw new Error(`--provider takes a comma list of ${PROVIDERS.join(', ')} (got ${list})`);
  const results = new Map<string, Row[][] | string>();
  for (let r = 0; r < rounds; r++) {
    for (const p of providers) {
      const prev = results.get(p);
      if (typeof prev === 'string') continue;
      try {
        const rows = await benchTs(modelDir, repeat, threads, p as ProviderName);
        results.set(p, [...(prev ?? []), rows]);
      } catch (e) {
        if (!(e instanceof ProviderUnavailable)) throw e;
        results.set(p, e.message);
      }
    }
  }
  const ran = providers.filter((p) => typeof results.get(p) !== 'string');
  const med = new Map(ran.map((p) => [p, medianRows(results.get(p) as Row[][])]));
  console.log('');
  console.log(`wall ms per image, median of ${rounds} round(s)`);
  console.log(`batch  work                    ${ran.map((p) => p.padStart(9)).join('')}${ran.length > 1 ? '   fastest' : ''}`);
  const works: [keyof Omit<Row, 'batch'>, string][] = [['encode', 'encode'], ['decode', 'progressive decode (N)'], ['inspectModel', 'inspection, model work'], ['inspect', 'inspection, everything']];
  for (const b of BATCHES) {
    for (const [k, label] of works) {
      const ms = ran.map((p) => med.get(p)!.find((r) => r.batch === b)![k].wall);
      const best = ran[ms.indexOf(Math.min(...ms))];
      console.log(`${String(b).padStart(5)}  ${label.padEnd(22)}  ${ms.map((x) => f(x).padStart(9)).join('')}${ran.length > 1 ? `   ${best}` : ''}`);
    }
  }
  for (const p of providers) {
    const r = results.get(p);
    if (typeof r === 'string') console.log(`${p}: not available here: ${r}`);
  }
  const out = path.join(ROOT, 'out', 'bench', 'providers-results.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), loadAverage: os.loadavg(), modelDir, threads, repeat, rounds, providers: Object.fromEntries(providers.map((p) => [p, typeof results.get(p) === 'string' ? { unavailable: results.get(p) } : med.get(p)])) }, null, 2));
  console.log(`results: ${path.relative(ROOT, out)}`);
  if (ran.length === 0) process.exitCode = 1;
}

async function main() {
  const { values } = parseArgs({
    options: { provider: { type: 'string' }, model: { type: 'string' }, 'torch-weights': { type: 'string' }, 'torch-gen-weights': { type: 'string' }, clock: { type: 'string' }, repeat: { type: 'string' }, threads: { type: 'string' }, 'no-torch': { type: 'boolean' }, rounds: { type: 'string' }, 'no-generate': { type: 'boolean' }, 'generate-only': { type: 'boolean' }, 'first-view': { type: 'boolean' } },
  });
  const modelDir = values.model ?? process.env.IFI_BENCH_MODEL ?? builtInModelDir(ROOT);
  const repeat = Number(values.repeat ?? 5);
  const threads = Number(values.threads ?? 2);
  const clock: Clock = values.clock === 'wall' ? 'wall' : 'cpu';
  console.log(`model ${modelDir}, ${threads} threads, ${repeat} timed runs after a warm-up, per-image ms`);
  if (values.provider) {
    await compareProviders(modelDir, values.provider, repeat, threads, Math.max(1, Number(values.rounds ?? 3)));
    return;
  }
  const torchGen = values['no-torch'] ? undefined : { clock, weights: values['torch-weights'], genWeights: values['torch-gen-weights'] };
  // Another package (a converted tokenizer): PyTorch has no twin of it here, and it has no
  // generator; what matters there is how soon the panel shows something (bench/firstView.ts).
  if (values['first-view'] || path.resolve(modelDir) !== path.resolve(builtInModelDir(ROOT))) {
    const image = path.join(ROOT, 'samples', 'cat-face.png');
    const b = await benchFirstView(modelDir, image, repeat, threads);
    printFirstView(b);
    const out = path.join(ROOT, 'out', 'bench', 'first-view-results.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), modelDir, threads, repeat, firstView: b }, null, 2));
    console.log(`results: ${path.relative(ROOT, out)}`);
    return;
  }
  if (values['generate-only']) {
    const g = await benchGeneration(modelDir, ROOT, repeat, threads, torchGen);
    printGeneration(g);
    const out = path.join(ROOT, 'out', 'bench', 'generate-results.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), threads, repeat, generation: g }, null, 2));
    console.log(`results: ${path.relative(ROOT, out)}`);
    return;
  }
  // Rounds alternate TypeScript and PyTorch so that both meet the same (shared, drifting) machine;
  // every time printed below is the median over the rounds.
  const rounds = Math.max(1, Number(values.rounds ?? 3));
  const tsRounds: Row[][] = [];
  const torchRounds: (TorchRow[] | string)[] = [];
  for (let r = 0; r < rounds; r++) {
    tsRounds.push(await benchTs(modelDir, repeat, threads));
    torchRounds.push(values['no-torch'] ? 'skipped (--no-torch)' : benchTorch(repeat, threads, clock, values['torch-weights']));
  }
  const ts = medianRows(tsRounds);
  const torch = torchRounds.find((t) => typeof t === 'string') ?? medianTorch(torchRounds as TorchRow[][]);
  if (rounds > 1 && typeof torch !== 'string') {
    const perRound = tsRounds.map((rs, i) => rs.map((r) => ((torchRounds[i] as TorchRow[]).find((p) => p.batch === r.batch)?.inspect_full_ms ?? NaN) / r.inspect[clock]));
    console.log(`${rounds} rounds; full inspection torch/TS per round (batch ${BATCHES.join(', ')}): ${perRound.map((x) => x.map((v) => v.toFixed(2)).join(', ')).join(' | ')}`);
    // the spread, per batch: the median of the per-round ratios and how many rounds reach the goal
    const spread = BATCHES.map((b, j) => {
      const xs = perRound.map((x) => x[j]);
      return `batch ${b}: median ${median(xs).toFixed(2)}x, ${xs.filter((v) => v >= 2).length} of ${xs.length} rounds >= 2x`;
    });
    console.log(`per-round ratios: ${spread.join('; ')}`);
  }
  if (typeof torch === 'string') console.log(`pytorch reference unavailable: ${torch}`);
  const t = (b: number) => (typeof torch === 'string' ? undefined : torch.find((r) => r.batch === b));
  console.log('');
  console.log(`batch  work                      TS wall    TS CPU  torch ${clock.padEnd(4)}  torch/TS (${clock})`);
  const line = (b: number, what: string, ts: Timing, torchMs: number | undefined) =>
    console.log(`${String(b).padStart(5)}  ${what.padEnd(22)}  ${f(ts.wall)}  ${f(ts.cpu)}  ${f(torchMs)}   ${ratio(torchMs, ts[clock])}`);
  for (const r of ts) {
    const p = t(r.batch);
    line(r.batch, 'encode', r.encode, p?.encode_ms);
    line(r.batch, 'progressive decode (N)', r.decode, p?.decode_ms);
    line(r.batch, 'inspection, model work', r.inspectModel, p?.inspect_ms);
    line(r.batch, 'inspection, everything', r.inspect, p?.inspect_full_ms);
  }
  const one = ts.find((r) => r.batch === 1)!;
  console.log('');
  console.log(
    `full inspection of one image: ${one.inspect.wall.toFixed(0)} ms wall, ${one.inspect.cpu.toFixed(0)} ms CPU (goal < 1000 ms): ` +
      `${one.inspect.wall < 1000 ? 'met' : one.inspect.cpu < 1000 ? 'met in CPU time, not in wall time under this load' : 'NOT met'}; ` +
      `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`,
  );
  if (typeof torch !== 'string') {
    const worst = Math.min(...ts.map((r) => (t(r.batch)?.inspect_full_ms ?? NaN) / r.inspect[clock]));
    console.log(`TS vs PyTorch eager, full inspection, worst batch (${clock} time): ${worst.toFixed(2)}x (goal >= 2x): ${worst >= 2 ? 'met' : 'NOT met'}`);
  }
  let generation: GenerationBench | string = 'skipped (--no-generate)';
  if (!values['no-generate']) {
    generation = await benchGeneration(modelDir, ROOT, repeat, threads, torchGen);
    printGeneration(generation);
  }
  const out = path.join(ROOT, 'out', 'bench', 'results.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), loadAverage: os.loadavg(), modelDir, threads, repeat, clock, rounds: { ts: tsRounds, torch: torchRounds }, ts, torch, generation }, null, 2));
  console.log(`results: ${path.relative(ROOT, out)}`);
}

main().catch((e) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
