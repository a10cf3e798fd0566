// ModelRuntime: one loaded model package. The package is validated on load; the inference sessions
// are created on first use (once each) so opening the extension costs nothing until an image is
// inspected. Graphs run in worker threads (ortWorker.ts), never on the caller's thread: worker 0
// runs every graph, in the order the calls came; on CPU a second worker takes decoder runs too, so
// an inspection's tiles run two at a time with one thread each.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import type { ModelInfo, ProviderChoice, ProviderName, ProviderReport, ProviderSetting } from '../../shared/types';
import { UserError, throwIfAborted } from './errors';
import { loadOrt, WASM_THREADS } from './native';
import { OrtWorker, OrtWorkerGone, type WireTensor } from './ortWorker';
import { readModelPackage, type ModelPackage } from './packageReader';
import { availableProviders, candidates, createSession, type Candidate, sessionOptions } from './providers';
import { measureChoice, probeFeeds, type ChoiceCache } from './providerChoice';
import { codeColours, type Rgb } from './colours';
import { checkIndices } from './tokens';

export interface LoadOptions {
  provider: ProviderSetting;
  /** threads in all; 0 or undefined: one per core */
  threads?: number;
  builtIn?: boolean;
  /** where `auto` remembers a measured choice (per model and machine); none: measured once per load */
  choiceCache?: ChoiceCache;
  /**
   * Tests only: the providers `auto` considers and the session options its timing runs use, so that
   * the measurement path runs on a machine with one provider (a "GPU" whose sessions run on the CPU).
   */
  measureWith?: { candidates: () => Candidate[]; sessionOptions: (p: ProviderName, threads: number) => InferenceSession.SessionOptions };
  /** treat the decoder as large (LARGE_DECODER_BYTES) or not; default: by its file size */
  largeDecoder?: boolean;
}

/** The package's graphs: the tokenizer's two, and the optional generator's two (docs/model-format.md). */
export type GraphName = 'encoder' | 'decoder' | 'generator' | 'nextInput';

/**
 * Most decoder tiles in one run. Small runs keep a run's activations (the built-in model's MLP alone
 * holds ~0.4 MB a tile) near the CPU caches: runs of 7 tiles cost 4-10 % less CPU per tile than one
 * run of an image's 21, runs of 1 a little more (docs/performance.md). Small runs also bound memory,
 * let a cancellation land between runs, and give both decoder workers a share.
 */
export const MAX_DECODE_BATCH = 7;

/**
 * A decoder graph file larger than this (~8 M float32 weights; the built-in decoder is ~5 MB, a
 * ViT-B or VAR decoder at 256 px is hundreds) is "large": a single tile is then big enough work for
 * every thread (a ViT-B/256 decode is ~60 GFLOP), so on CPU one decoder session gets all the
 * threads (the full reconstruction shows in half the time of a one-thread session) and an
 * inspection decodes one tile a run, each shown as soon as it is ready (inspect.ts).
 */
export const LARGE_DECODER_BYTES = 32 * 1024 * 1024;

/**
 * Tiles per run for a decode of `tiles` tiles: at most maxBatch each, as even as possible, and as
 * many runs as a multiple of the decoder workers so that they finish together (21 tiles on two
 * workers: 6, 5, 5, 5).
 */
export function decodeRuns(tiles: number, maxBatch: number, workers: number): number[] {
  let runs = Math.ceil(tiles / Math.max(1, Math.floor(maxBatch)));
  if (workers > 1) runs = Math.min(tiles, Math.ceil(runs / workers) * workers);
  return Array.from({ length: runs }, (_, r) => Math.floor(tiles / runs) + (r < tiles % runs ? 1 : 0));
}

/** One worker thread and the graphs it has a session for. */
interface Slot {
  worker?: OrtWorker;
  busy: boolean;
  graphs: Map<GraphName, Promise<ProviderName>>;
}

/** A graph call waiting for a worker. */
interface Job {
  graph: GraphName;
  feeds: Record<string, WireTensor>;
  transfer: ArrayBuffer[];
  signal?: AbortSignal;
  resolve: (out: Record<string, WireTensor>) => void;
  reject: (e: unknown) => void;
}

/** A graph whose declared dims were symbolic can still return the wrong shape: catch it here. */
function checkDims(file: string, name: string, dims: readonly number[], want: number[]): void {
  if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
    throw new UserError('MODEL_SHAPE_MISMATCH', `${file}: output '${name}' has shape [${dims.join(',')}] but the manifest implies [${want.join(',')}]`);
  }
}

export class ModelRuntime {
  private readonly slots: Slot[] = [];
  private readonly jobs: Job[] = [];
  private idle: (() => void)[] = [];
  private readonly chosen: Partial<Record<GraphName, ProviderName>> = {};
  private readonly skipped = new Map<ProviderName, string>();
  private choosing?: Promise<ProviderChoice | undefined>;
  private choice?: ProviderChoice;
  private readonly colours = new Map<number, Rgb[]>();
  private runsStarted = 0;
  private large: boolean | undefined;
  private sessionsMade = 0;
  private disposed = false;

  private constructor(
    readonly pkg: ModelPackage,
    readonly options: LoadOptions,
  ) {}

  /** Validates the package (throws UserError naming the file and field); creates no session. */
  static async load(dir: string, options: LoadOptions): Promise<ModelRuntime> {
    return new ModelRuntime(readModelPackage(dir), options);
  }

  get imageSize(): number {
    return this.pkg.manifest.image.size;
  }
  get scales(): number[] {
    return this.pkg.manifest.scales;
  }
  get branchCount(): number {
    return this.pkg.manifest.branches.length;
  }

  /** Whether the decoder is large (LARGE_DECODER_BYTES): one session with every thread, one tile a run. */
  get largeDecoder(): boolean {
    this.large ??= this.options.largeDecoder;
    if (this.large === undefined) {
      try {
        this.large = fs.statSync(this.pkg.decoderPath).size > LARGE_DECODER_BYTES;
      } catch {
        this.large = false; // the session's creation reports a vanished file
      }
    }
    return this.large;
  }

  info(): ModelInfo {
    const m = this.pkg.manifest;
    return {
      name: m.name,
      dir: this.pkg.dir,
      builtIn: this.options.builtIn ?? false,
      imageSize: m.image.size,
      scales: [...m.scales],
      tokensPerBranch: m.tokensPerBranch,
      branches: m.branches.map((b) => ({ name: b.name, role: b.role, codebookSize: b.codebookSize, codeDim: b.codeDim, ...(b.lookup ? { lookup: b.lookup } : {}) })),
      license: m.license,
      provenance: m.provenance,
    };
  }

  /** What runs where so far; `chosen` fills in as the sessions are created (see ready()). */
  providerReport(): ProviderReport {
    return {
      chosen: { ...this.chosen } as Record<string, ProviderName>,
      skipped: [...this.skipped].map(([provider, reason]) => ({ provider, reason })),
      available: availableProviders(),
      ...(this.choice ? { choice: this.choice } : {}),
    };
  }

  /**
   * With the setting `auto`: the provider every graph of this model uses, chosen once. The GPU
   * providers this build offers are tried (a session for the encoder and the decoder each, in
   * worker 0); when more than one provider can run the model, one encoder and one decoder run on
   * each are timed and the faster kept (providerChoice.ts), or a remembered measurement is reused.
   * A forced provider (any other setting) is not measured: undefined.
   */
  private chooseProvider(): Promise<ProviderChoice | undefined> {
    if (this.options.provider !== 'auto') return Promise.resolve(undefined);
    return (this.choosing ??= this.measureChoice().then(
      (c) => (this.choice = c),
      (e: unknown) => {
        this.choosing = undefined; // e.g. the worker died: the next graph tries again
        throw e;
      },
    ));
  }

  private measureChoice(): Promise<ProviderChoice> {
    return measureChoice({
      files: { encoder: this.pkg.encoderPath, decoder: this.pkg.decoderPath },
      feeds: probeFeeds(this.pkg, this.branchCount, MAX_DECODE_BATCH),
      tiles: MAX_DECODE_BATCH,
      threads: this.threads,
      worker: () => this.workerOf(0),
      running: () => this.slot(0).worker,
      candidates: this.options.measureWith?.candidates() ?? candidates('auto', availableProviders()),
      sessionOptions: this.options.measureWith?.sessionOptions ?? sessionOptions,
      choiceCache: this.options.choiceCache,
      skipped: this.skipped,
    });
  }

  /** Creates both sessions now (e.g. for `info`, or to warm up before the first inspection). */
  async ready(): Promise<ProviderReport> {
    await this.ensure(0, 'encoder');
    await this.ensure(0, 'decoder');
    return this.providerReport();
  }

  /** Threads in all: the setting, or one per core. */
  private get threads(): number {
    const t = this.options.threads;
    return t && t > 0 ? Math.floor(t) : (os.availableParallelism?.() ?? os.cpus().length);
  }

  /**
   * Workers that take decoder runs: two on CPU (each session single-threaded on a 2-core machine,
   * half the threads on larger ones) unless the decoder is large, one on a GPU, where a second
   * session would only queue on the same device and hold a second copy of the weights.
   */
  private decoderWorkers(): number {
    return this.chosen.decoder === 'cpu' || this.chosen.decoder === 'wasm' ? this.cpuDecoderWorkers : 1;
  }

  private get cpuDecoderWorkers(): number {
    return this.largeDecoder ? 1 : Math.min(2, this.threads);
  }

  private threadsFor(graph: GraphName): number {
    return graph === 'decoder' ? Math.floor(this.threads / this.cpuDecoderWorkers) : this.threads;
  }

  private slot(i: number): Slot {
    return (this.slots[i] ??= { busy: false, graphs: new Map() });
  }

  private workerOf(i: number): OrtWorker {
    const slot = this.slot(i);
    if (!slot.worker) {
      const worker = new OrtWorker(() => {
        // the thread died (its sessions with it): the next job on this slot starts a new one
        if (slot.worker === worker) {
          slot.worker = undefined;
          slot.graphs.clear();
        }
      });
      slot.worker = worker;
    }
    return slot.worker;
  }

  private graphFile(name: GraphName): string {
    return name === 'encoder' ? this.pkg.encoderPath : name === 'decoder' ? this.pkg.decoderPath : path.join(this.pkg.dir, this.pkg.manifest.graphs[name].file);
  }

  /**
   * The graph's session in worker i, created on first use. Worker 0 chooses the provider (trying
   * GPU providers per the setting); other workers use the provider it chose.
   */
  private ensure(i: number, name: GraphName): Promise<ProviderName> {
    if (this.disposed && i === 0 && !this.slot(0).graphs.has(name)) return Promise.reject(new Error('ModelRuntime used after dispose()'));
    const slot = this.slot(i);
    let p = slot.graphs.get(name);
    if (p) return p;
    if (!this.pkg.manifest.graphs[name]) return Promise.reject(new UserError('MODEL_MISSING_FILE', `manifest.json declares no graphs.${name}`));
    const file = this.graphFile(name);
    const fail = (e: unknown): never => {
      if (slot.graphs.get(name) === p) slot.graphs.delete(name); // allow a retry after e.g. the file is fixed
      if (e instanceof UserError || e instanceof OrtWorkerGone) throw e; // a dead thread is not a bad graph
      throw new UserError('MODEL_BAD_GRAPH', `${this.pkg.manifest.graphs[name].file}: onnxruntime cannot load it (${(e as Error).message.split('\n')[0]})`);
    };
    if (i === 0) {
      // The encoder is created first so a failing GPU provider is learnt once, not per graph.
      const before = name !== 'encoder' ? (slot.graphs.get('encoder') ?? Promise.resolve()).catch(() => undefined) : Promise.resolve();
      p = before.then(async () => {
        try {
          const choice = await this.chooseProvider();
          const worker = this.workerOf(0);
          const created = await createSession(file, choice?.provider ?? this.options.provider, { threads: this.threadsFor(name) }, (f, o) => worker.create(name, f, o));
          this.sessionsMade++;
          this.chosen[name] = created.provider;
          for (const k of created.skipped) this.skipped.set(k.provider, k.reason);
          if (name === 'decoder') queueMicrotask(() => this.pump()); // a second decoder worker may now take queued runs
          return created.provider;
        } catch (e) {
          return fail(e);
        }
      });
    } else {
      p = this.ensure(0, name).then(async (provider) => {
        try {
          await this.workerOf(i).create(name, file, sessionOptions(provider, this.threadsFor(name)));
          this.sessionsMade++;
          return provider;
        } catch (e) {
          return fail(e);
        }
      });
    }
    slot.graphs.set(name, p);
    return p;
  }

  /** onnxruntime sessions created so far, in all workers (a graph's session is made once per worker). */
  get sessionsCreated(): number {
    return this.sessionsMade;
  }

  /**
   * How the work is spread (known once the decoder's provider is: after ready() or a first run):
   * worker threads taking decoder runs and threads per decoder session; other graphs run in worker 0
   * with `threads`.
   */
  parallelism(): { decoderWorkers: number; decoderThreads: number; threads: number } {
    // a wasm session runs on WASM_THREADS whatever the thread setting (native.ts)
    const wasm = (g: GraphName) => this.chosen[g] === 'wasm';
    return {
      decoderWorkers: this.decoderWorkers(),
      decoderThreads: wasm('decoder') ? WASM_THREADS : this.threadsFor('decoder'),
      threads: wasm('encoder') ? WASM_THREADS : this.threads,
    };
  }

  /** Worker threads running graphs now (for tests and diagnostics). */
  get workerCount(): number {
    return this.slots.filter((s) => s.worker).length;
  }

  /** Graph runs started so far (a run queued behind others and cancelled before its turn does not count). */
  get graphRuns(): number {
    return this.runsStarted;
  }

  /**
   * Queues one graph call. Calls start in the order they were made, each on the first free worker
   * that may run it (worker 0 any graph, the second worker decoder runs). A call whose signal has
   * aborted by the time its turn comes is dropped unrun (CANCELLED): with many panels queued on one
   * model, a cancelled or closed panel's waiting run would otherwise still cost its CPU time.
   */
  private run(graph: GraphName, feeds: InferenceSession.FeedsType, signal?: AbortSignal, transfer: readonly string[] = []): Promise<InferenceSession.ReturnType> {
    if (this.disposed) return Promise.reject(new Error('ModelRuntime used after dispose()'));
    const wire: Record<string, WireTensor> = {};
    for (const [k, t] of Object.entries(feeds)) wire[k] = { type: t.type, dims: t.dims, data: t.data };
    const buffers = new Set<ArrayBuffer>();
    for (const k of transfer) {
      const b = (feeds[k]?.data as ArrayBufferView | undefined)?.buffer;
      if (b instanceof ArrayBuffer) buffers.add(b);
    }
    return new Promise<Record<string, WireTensor>>((resolve, reject) => {
      this.jobs.push({ graph, feeds: wire, transfer: [...buffers], signal, resolve, reject });
      this.pump();
    }).then((out) => {
      const ort = loadOrt();
      const tensors: Record<string, InferenceSession.ReturnType[string]> = {};
      for (const [k, t] of Object.entries(out)) tensors[k] = new ort.Tensor(t.type, t.data as never, t.dims);
      return tensors as InferenceSession.ReturnType;
    });
  }

  private pump(): void {
    const workers = this.decoderWorkers();
    for (let i = 0; i < workers && this.jobs.length > 0; i++) {
      const slot = this.slot(i);
      if (slot.busy) continue;
      const j = i === 0 ? 0 : this.jobs.findIndex((job) => job.graph === 'decoder');
      if (j < 0) continue;
      const [job] = this.jobs.splice(j, 1);
      slot.busy = true;
      void this.start(i, job).finally(() => {
        slot.busy = false;
        this.pump();
        if (this.jobs.length === 0 && this.slots.every((s) => !s.busy)) for (const done of this.idle.splice(0)) done();
      });
    }
  }

  private async start(i: number, job: Job): Promise<void> {
    try {
      throwIfAborted(job.signal);
      this.runsStarted++;
      await this.ensure(i, job.graph);
      job.resolve(await this.workerOf(i).run(job.graph, job.feeds, job.transfer));
    } catch (e) {
      job.reject(e);
    }
  }

  /**
   * pixels: [B, 3, S, S] in the model's normalisation (image.toTensor).
   * Returns indices [B][P][L].
   */
  async encode(pixels: Float32Array, batch = pixels.length / (3 * this.imageSize ** 2), signal?: AbortSignal): Promise<number[][][]> {
    const S = this.imageSize;
    if (!Number.isInteger(batch) || batch < 1 || pixels.length !== batch * 3 * S * S) {
      throw new Error(`encode: expected [B,3,${S},${S}] floats, got ${pixels.length}`);
    }
    const ort = loadOrt();
    await this.ensure(0, 'encoder');
    const out = await this.run('encoder', { image: new ort.Tensor('float32', pixels, [batch, 3, S, S]) }, signal);
    checkDims(this.pkg.manifest.graphs.encoder.file, 'indices', out.indices.dims, [batch, this.branchCount, this.pkg.manifest.tokensPerBranch]);
    const data = out.indices.data as BigInt64Array;
    const P = this.branchCount;
    const L = this.pkg.manifest.tokensPerBranch;
    const result: number[][][] = [];
    for (let b = 0; b < batch; b++) {
      const branches: number[][] = [];
      for (let p = 0; p < P; p++) {
        const row = new Array<number>(L);
        const base = (b * P + p) * L;
        for (let t = 0; t < L; t++) row[t] = Number(data[base + t]);
        branches.push(row);
      }
      result.push(branches);
    }
    return result;
  }

  /**
   * indices [B][P][L] and masks [B][P][N] (1 keeps scale n of branch p) -> images [B, 3, S, S]
   * in the model's normalisation, clamped by the graph to its range. One row of indices with
   * several masks decodes that image under each mask; a decoder that declares `sharedIndices`
   * then computes its code maps once per run instead of once per mask. The tiles go through the
   * decoder in runs of at most maxBatch (decodeRuns), spread over the decoder workers.
   */
  async decode(indices: ArrayLike<number>[][], masks: number[][][], signal?: AbortSignal, maxBatch = MAX_DECODE_BATCH): Promise<Float32Array> {
    const { tokensPerBranch: L } = this.pkg.manifest;
    const P = this.branchCount;
    const N = this.scales.length;
    const S = this.imageSize;
    const B = masks.length;
    const shared = indices.length === 1;
    if (B === 0 || (!shared && indices.length !== B)) throw new Error('decode: need one mask per image, or one image and any number of masks');
    const broadcast = shared && this.pkg.manifest.graphs.decoder.sharedIndices;
    const idx = new BigInt64Array((broadcast ? 1 : B) * P * L);
    const mask = new Float32Array(B * P * N);
    for (let b = 0; b < B; b++) {
      if (masks[b].length !== P) throw new Error(`decode: mask ${b} needs ${P} branches`);
      for (let p = 0; p < P; p++) {
        if (masks[b][p].length !== N) throw new Error(`decode: mask row needs ${N} scales`);
        for (let n = 0; n < N; n++) mask[(b * P + p) * N + n] = masks[b][p][n];
      }
    }
    // the distinct images' rows, checked once; a shared row the graph cannot broadcast is repeated
    for (let b = 0; b < (shared ? 1 : B); b++) {
      checkIndices(this.pkg.manifest, indices[b], B > 1 && !shared ? `image ${b}'s tokens` : 'tokens');
      for (let p = 0; p < P; p++) {
        const row = indices[b][p];
        for (let t = 0; t < L; t++) idx[(b * P + p) * L + t] = BigInt(row[t]);
      }
    }
    if (shared && !broadcast) for (let b = 1; b < B; b++) idx.copyWithin(b * P * L, 0, P * L);
    const ort = loadOrt();
    await this.ensure(0, 'decoder'); // the provider decides how many workers share the runs
    const file = this.pkg.manifest.graphs.decoder.file;
    const tile = 3 * S * S;
    let first = 0;
    const runs = decodeRuns(B, maxBatch, this.decoderWorkers()).map((n) => {
      const b0 = first;
      first += n;
      const rows = broadcast ? idx : idx.subarray(b0 * P * L, (b0 + n) * P * L);
      return this.run('decoder', {
        indices: new ort.Tensor('int64', rows, [broadcast ? 1 : n, P, L]),
        scale_mask: new ort.Tensor('float32', mask.subarray(b0 * P * N, (b0 + n) * P * N), [n, P, N]),
      }, signal).then((out) => {
        checkDims(file, 'image', out.image.dims, [n, 3, S, S]);
        return out.image.data as Float32Array;
      });
    });
    const parts = await Promise.all(runs);
    if (parts.length === 1) return parts[0];
    const images = new Float32Array(B * tile);
    let at = 0;
    for (const part of parts) {
      images.set(part, at);
      at += part.length;
    }
    return images;
  }

  /**
   * Runs one of the package's graphs by name, in order with every other run of this runtime, in
   * worker 0 (the generator module uses it for `generator` and `nextInput`). The session is
   * created on first use like the encoder's and decoder's; the caller checks the output shapes.
   * transfer: names of feeds whose data moves to the worker instead of being copied; the caller
   * must not use those arrays afterwards (the generator hands over its KV cache this way).
   */
  async runGraph(name: GraphName, feeds: InferenceSession.FeedsType, signal?: AbortSignal, transfer: readonly string[] = []): Promise<InferenceSession.ReturnType> {
    await this.ensure(0, name);
    return this.run(name, feeds, signal, transfer);
  }

  /** Colour per code of a branch (PCA of the codebook, normalised for a cosine lookup), computed once. */
  codeColours(branch: number): Rgb[] {
    let c = this.colours.get(branch);
    if (!c) {
      const b = this.pkg.manifest.branches[branch];
      c = codeColours(this.pkg.codebooks[branch], b.codebookSize, b.codeDim, b.lookup ?? 'cosine');
      this.colours.set(branch, c);
    }
    return c;
  }

  /** Waits for the queued and running graph calls, then ends the worker threads and their sessions. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.jobs.length > 0 || this.slots.some((s) => s.busy)) await new Promise<void>((done) => this.idle.push(done));
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }
}
