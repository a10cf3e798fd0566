// ModelRuntime: one loaded model package. The package is validated on load; the two inference
// sessions are created on first use (once each) so opening the extension costs nothing until an
// image is inspected. Runs are serialised: on a 2-core machine parallel runs only fight over cores.

import * as path from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import type { ModelInfo, ProviderName, ProviderReport, ProviderSetting } from './types';
import { UserError, throwIfAborted } from './errors';
import { loadOrt } from './native';
import { readModelPackage, type ModelPackage } from './package-reader';
import { availableProviders, createSession } from './providers';
import { codeColours, type Rgb } from './colours';
import { checkIndices } from './tokens';

export interface LoadOptions {
  provider: ProviderSetting;
  /** intra-op threads; 0 or undefined lets onnxruntime pick (one per core) */
  threads?: number;
  builtIn?: boolean;
}

/** The package's graphs: the tokenizer's two, and the optional generator's two (docs/model-format.md). */
export type GraphName = 'encoder' | 'decoder' | 'generator' | 'nextInput';

/** A graph whose declared dims were symbolic can still return the wrong shape: catch it here. */
function checkDims(file: string, name: string, dims: readonly number[], want: number[]): void {
  if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
    throw new UserError('MODEL_SHAPE_MISMATCH', `${file}: output '${name}' has shape [${dims.join(',')}] but the manifest implies [${want.join(',')}]`);
  }
}

export class ModelRuntime {
  private readonly sessions = new Map<GraphName, Promise<InferenceSession>>();
  private readonly chosen: Partial<Record<GraphName, ProviderName>> = {};
  private readonly skipped = new Map<ProviderName, string>();
  private readonly colours = new Map<number, Rgb[]>();
  private queue: Promise<unknown> = Promise.resolve();
  private runsStarted = 0;
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

  info(): ModelInfo {
    const m = this.pkg.manifest;
    return {
      name: m.name,
      dir: this.pkg.dir,
      builtIn: this.options.builtIn ?? false,
      imageSize: m.image.size,
      scales: [...m.scales],
      tokensPerBranch: m.tokensPerBranch,
      branches: m.branches.map((b) => ({ name: b.name, role: b.role, codebookSize: b.codebookSize, codeDim: b.codeDim })),
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
    };
  }

  /** Creates both sessions now (e.g. for `info`, or to warm up before the first inspection). */
  async ready(): Promise<ProviderReport> {
    await this.session('encoder');
    await this.session('decoder');
    return this.providerReport();
  }

  private session(name: GraphName): Promise<InferenceSession> {
    if (this.disposed) return Promise.reject(new Error('ModelRuntime used after dispose()'));
    let s = this.sessions.get(name);
    if (!s) {
      const spec = this.pkg.manifest.graphs[name];
      if (!spec) return Promise.reject(new UserError('MODEL_MISSING_FILE', `manifest.json declares no graphs.${name}`));
      const file = name === 'encoder' ? this.pkg.encoderPath : name === 'decoder' ? this.pkg.decoderPath : path.join(this.pkg.dir, spec.file);
      // The encoder is created first so a failing GPU provider is learnt once, not per graph.
      const before = name !== 'encoder' ? (this.sessions.get('encoder') ?? Promise.resolve()).catch(() => undefined) : Promise.resolve();
      s = before.then(async () => {
        try {
          const created = await createSession(file, this.options.provider, { threads: this.options.threads });
          this.chosen[name] = created.provider;
          for (const k of created.skipped) this.skipped.set(k.provider, k.reason);
          return created.session;
        } catch (e) {
          this.sessions.delete(name); // allow a retry after e.g. the file is fixed
          if (e instanceof UserError) throw e;
          throw new UserError('MODEL_BAD_GRAPH', `${this.pkg.manifest.graphs[name].file}: onnxruntime cannot load it (${(e as Error).message.split('\n')[0]})`);
        }
      });
      this.sessions.set(name, s);
    }
    return s;
  }

  /** Graph runs started so far (a run queued behind others and cancelled before its turn does not count). */
  get graphRuns(): number {
    return this.runsStarted;
  }

  /**
   * Runs one graph call after every call queued before it. A call whose signal has aborted by the
   * time its turn comes is dropped unrun (CANCELLED): with many panels queued on one model, a
   * cancelled or closed panel's waiting run would otherwise still cost its CPU time.
   */
  private exclusive<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const start = () => {
      throwIfAborted(signal);
      this.runsStarted++;
      return job();
    };
    const run = this.queue.then(start, start);
    this.queue = run.catch(() => undefined);
    return run;
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
    const session = await this.session('encoder');
    const out = await this.exclusive(() => session.run({ image: new ort.Tensor('float32', pixels, [batch, 3, S, S]) }), signal);
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
   * then computes its code maps once instead of once per mask.
   */
  async decode(indices: ArrayLike<number>[][], masks: number[][][], signal?: AbortSignal): Promise<Float32Array> {
    const { tokensPerBranch: L } = this.pkg.manifest;
    const P = this.branchCount;
    const N = this.scales.length;
    const B = masks.length;
    const shared = indices.length === 1;
    if (B === 0 || (!shared && indices.length !== B)) throw new Error('decode: need one mask per image, or one image and any number of masks');
    const rows = shared && this.pkg.manifest.graphs.decoder.sharedIndices ? 1 : B;
    const idx = new BigInt64Array(rows * P * L);
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
    if (shared) for (let b = 1; b < rows; b++) idx.copyWithin(b * P * L, 0, P * L);
    const ort = loadOrt();
    const session = await this.session('decoder');
    const out = await this.exclusive(() =>
      session.run({ indices: new ort.Tensor('int64', idx, [rows, P, L]), scale_mask: new ort.Tensor('float32', mask, [B, P, N]) }),
      signal,
    );
    checkDims(this.pkg.manifest.graphs.decoder.file, 'image', out.image.dims, [B, 3, this.imageSize, this.imageSize]);
    return out.image.data as Float32Array;
  }

  /**
   * Runs one of the package's graphs by name, serialised with every other run of this runtime
   * (the generator module uses it for `generator` and `nextInput`). The session is created on
   * first use like the encoder's and decoder's; the caller checks the output shapes.
   */
  async runGraph(name: GraphName, feeds: InferenceSession.FeedsType, signal?: AbortSignal): Promise<InferenceSession.ReturnType> {
    const session = await this.session(name);
    return this.exclusive(() => session.run(feeds), signal);
  }

  /** Colour per code of a branch (PCA of the normalised codebook), computed once. */
  codeColours(branch: number): Rgb[] {
    let c = this.colours.get(branch);
    if (!c) {
      const b = this.pkg.manifest.branches[branch];
      c = codeColours(this.pkg.codebooks[branch], b.codebookSize, b.codeDim);
      this.colours.set(branch, c);
    }
    return c;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await this.queue;
    for (const s of sessions) {
      try {
        await (await s).release();
      } catch {
        // a session that never got created has nothing to release
      }
    }
  }
}
