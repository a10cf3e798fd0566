// `auto`'s choice between the providers that can run a model: the faster one, measured. A GPU is
// not always faster: WebGPU costs ~20 ms a run whatever the size, so for the small built-in model a
// many-core CPU wins at one image and loses at a batch or a real-size model (docs/performance.md,
// "GPU"). So when more than one provider can run the model, one encoder and one decoder run are
// timed on each (after a warm-up run, which pays for shader compilation and allocation), the faster
// is kept, and the choice is remembered per model and machine until the graphs or onnxruntime change.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import type { ProviderChoice, ProviderName, ProviderTiming } from '../../shared/types';
import { loadOrt } from './native';
import { OrtWorkerGone, type OrtWorker, type WireTensor } from './ortWorker';
import type { ModelPackage } from './packageReader';
import { failureReason, rememberFailure, rememberedFailure, type Candidate } from './providers';

/** Times one run of each graph per provider (after one untimed warm-up run of each). */
export async function timeProviders(
  providers: ProviderName[],
  run: (provider: ProviderName, graph: 'encoder' | 'decoder') => Promise<void>,
  now: () => number = () => performance.now(),
): Promise<ProviderTiming[]> {
  const out: ProviderTiming[] = [];
  for (const provider of providers) {
    const ms: Record<'encoder' | 'decoder', number> = { encoder: 0, decoder: 0 };
    for (const graph of ['encoder', 'decoder'] as const) {
      await run(provider, graph); // warm-up: first runs compile kernels and allocate
      const t0 = now();
      await run(provider, graph);
      ms[graph] = now() - t0;
    }
    out.push({ provider, encoderMs: ms.encoder, decoderMs: ms.decoder });
  }
  return out;
}

const fmt = (ms: number) => `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;

/**
 * The faster provider: least time for one encoder run plus one decoder run (an inspection runs the
 * encoder once and the decoder a few times, so decoder time is what the reason names). A tie keeps
 * the provider listed first (GPU before CPU: it leaves the editor's cores free).
 */
export function pickFastest(timings: ProviderTiming[], decoderTiles: number): ProviderChoice {
  if (timings.length === 0) throw new Error('pickFastest: nothing was timed');
  const total = (t: ProviderTiming) => t.encoderMs + t.decoderMs;
  const best = timings.reduce((a, b) => (total(b) < total(a) ? b : a));
  const others = timings.filter((t) => t !== best);
  const per = `per ${decoderTiles}-tile decoder run`;
  const vs = [best, ...others].map((t) => `${t.provider} ${fmt(t.decoderMs)}`).join(' vs ');
  const enc = [best, ...others].map((t) => fmt(t.encoderMs)).join(' vs ');
  return { provider: best.provider, reason: `${vs} ${per} (encoder ${enc}): ${best.provider} kept`, timings, cached: false };
}

/** The choice when only one provider can run the model: nothing to time. */
export function onlyChoice(provider: ProviderName, passedOver: ProviderName[]): ProviderChoice {
  const why = passedOver.length > 0 ? ` (${passedOver.join(', ')} cannot run here: see the skipped providers)` : '';
  return { provider, reason: `${provider} is the only provider that can run this model here${why}`, timings: [], cached: false };
}

/**
 * What a remembered choice depends on: the graphs (path, size, modification time: hashing a
 * real-size model on every load would cost more than the measurement), the onnxruntime version,
 * the providers that could run, and the thread count the runs used.
 */
export function choiceKey(graphFiles: string[], ortVersion: string, providers: ProviderName[], threads: number): string {
  const parts = graphFiles.map((f) => {
    const st = fs.statSync(f);
    return `${path.resolve(f)}:${st.size}:${Math.round(st.mtimeMs)}`;
  });
  const text = JSON.stringify({ graphs: parts, ort: ortVersion, providers: [...providers].sort(), threads, platform: `${process.platform}-${process.arch}` });
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** Where measured choices are remembered (the extension: global storage; the CLI: a file). */
export interface ChoiceCache {
  get(key: string): ProviderChoice | undefined;
  set(key: string, choice: ProviderChoice): void | PromiseLike<void>;
}

/** A JSON file of choices by key; unreadable or damaged, it counts as empty (a cache, not state). */
export function fileChoiceCache(file: string, keep = 32): ChoiceCache {
  const read = (): Record<string, ProviderChoice> => {
    try {
      const v = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, ProviderChoice>) : {};
    } catch {
      return {};
    }
  };
  return {
    get: (key) => {
      const c = read()[key];
      return c && typeof c.provider === 'string' && typeof c.reason === 'string' ? c : undefined;
    },
    set: (key, choice) => {
      // the newest `keep` entries: one per model and setting a user has tried
      const all = Object.entries({ ...read(), [key]: choice }).slice(-keep);
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, JSON.stringify(Object.fromEntries(all)));
      } catch {
        // a read-only cache folder costs a measurement next time, nothing else
      }
    },
  };
}

/** The CLI's cache file: $IMAGEFOLDER_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, /imagefolder-inspector/. */
export function defaultChoiceCacheFile(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const base = env.IMAGEFOLDER_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'imagefolder-inspector');
  return path.join(base, 'provider-choice.json');
}

/** What measureChoice needs of the runtime (runtime.ts): the graphs, worker 0, and where to report. */
export interface MeasureContext {
  files: { encoder: string; decoder: string };
  feeds: { encoder: () => Record<string, WireTensor>; decoder: () => Record<string, WireTensor> };
  /** decoder tiles in a timed run (what an inspection's decode is split into) */
  tiles: number;
  threads: number;
  /** worker 0, started if need be */
  worker: () => OrtWorker;
  /** worker 0 if it is running (to release the probe sessions) */
  running: () => OrtWorker | undefined;
  candidates: Candidate[];
  sessionOptions: (p: ProviderName, threads: number) => InferenceSession.SessionOptions;
  choiceCache?: ChoiceCache;
  /** providers passed over, with the reason (the runtime's report) */
  skipped: Map<ProviderName, string>;
}

/**
 * `auto`'s choice for one model: the candidates are tried (a session for the encoder and the
 * decoder each, in worker 0); when more than one can run the model, one encoder and one decoder run
 * on each are timed and the faster kept, or a remembered measurement is reused.
 */
export async function measureChoice(c: MeasureContext): Promise<ProviderChoice> {
  const key = (p: ProviderName, g: string) => `probe:${p}:${g}`;
  const working: ProviderName[] = [];
  const made: string[] = [];
  // CPU sessions get every thread here (one decoder session, not the runtime's two): a fair,
  // slightly pessimistic figure for the CPU.
  const options = (p: ProviderName) => c.sessionOptions(p, c.threads);
  try {
    for (const cand of c.candidates) {
      const why = cand.skipReason ?? rememberedFailure(cand.provider);
      if (why) {
        c.skipped.set(cand.provider, why);
        continue;
      }
      if (cand.provider === 'cpu') {
        working.push('cpu');
        continue;
      }
      try {
        for (const g of ['encoder', 'decoder'] as const) {
          await c.worker().create(key(cand.provider, g), c.files[g], options(cand.provider));
          made.push(key(cand.provider, g));
        }
        working.push(cand.provider);
      } catch (e) {
        if (e instanceof OrtWorkerGone) throw e;
        const reason = failureReason(cand.provider, e);
        rememberFailure(cand.provider, reason);
        c.skipped.set(cand.provider, reason);
      }
    }
    const passedOver = [...c.skipped.keys()];
    if (working.length === 1) return onlyChoice(working[0], passedOver);
    const cacheKey = choiceKey(Object.values(c.files), loadOrt().env.versions?.node ?? 'unknown', working, c.threads);
    const remembered = c.choiceCache?.get(cacheKey);
    if (remembered && working.includes(remembered.provider)) return { ...remembered, cached: true };
    for (const g of ['encoder', 'decoder'] as const) {
      await c.worker().create(key('cpu', g), c.files[g], options('cpu'));
      made.push(key('cpu', g));
    }
    const timings = await timeProviders(working, async (p, g) => {
      await c.worker().run(key(p, g), g === 'encoder' ? c.feeds.encoder() : c.feeds.decoder());
    });
    const choice = pickFastest(timings, c.tiles);
    await c.choiceCache?.set(cacheKey, choice);
    return choice;
  } finally {
    // the probe sessions (a GPU's weights among them) are not kept: the chosen provider's
    // sessions are created as usual, per graph and worker
    await Promise.all(made.map((k) => c.running()?.release(k).catch(() => undefined)));
  }
}

/** Inputs for timing runs: a grey image batch of one, and `tiles` decoder tiles of code 0, every scale kept. */
export function probeFeeds(pkg: ModelPackage, branchCount: number, tiles: number): MeasureContext['feeds'] {
  const m = pkg.manifest;
  const S = m.image.size;
  const P = branchCount;
  const N = m.scales.length;
  const rows = m.graphs.decoder.sharedIndices ? 1 : tiles;
  // fresh arrays per run: a run's inputs are transferred or copied to the worker
  return {
    encoder: () => ({ image: { type: 'float32', dims: [1, 3, S, S], data: new Float32Array(3 * S * S) } }),
    decoder: () => ({
      indices: { type: 'int64', dims: [rows, P, m.tokensPerBranch], data: new BigInt64Array(rows * P * m.tokensPerBranch) },
      scale_mask: { type: 'float32', dims: [tiles, P, N], data: new Float32Array(tiles * P * N).fill(1) },
    }),
  };
}
