// Class-conditional generation with the package's folded next-scale generator
// (docs/model-format.md, "Generator graphs"). Per scale k, one run of generator.onnx on
// [cond rows; null-class rows] with the previous scale's keys/values, then host-side sampling
// (sampling.ts) of both branches of every position from that position's one logit row, then one
// run of next_input.onnx for the next scale's inputs. Optional: a decoded preview of the scales
// sampled so far after each scale, teacher forcing of one branch (paper Fig. 8), and a
// `recompute` mode that rebuilds the prefix's keys/values at every scale (for the benchmark).

import type { Tensor } from 'onnxruntime-node';
import { MAX_GENERATE_COUNT } from '../../../shared/limits';
import { UserError, throwIfAborted } from '../errors';
import { fromTensor } from '../image';
import { loadOrt } from '../native';
import type { ModelRuntime } from '../runtime';
import { checkIndices, scaleMask, scaleOffsets } from '../tokens';
import { sampleStream, checkSeed, type Xoshiro128ss } from './rng';
import { PairSampler, RowSampler, checkSettings, guidanceWeight, type SamplingSettings } from './sampling';
import { generatorSpec, type GeneratorSpec } from './spec';

export type GenerationMode = 'cache' | 'recompute';

/** Indices of a reference image, [P][L] as the encoder returns them (Inspection.indices). */
export type ReferenceIndices = ArrayLike<ArrayLike<number>>;

export interface ScaleProgress {
  /** scale just sampled (0-based) and the number of scales */
  scale: number;
  scales: number;
  /** tokens so far, [count][P][L]; positions of later scales are 0 */
  tokens: number[][][];
  elapsedMs: number;
}

export interface GenerateOptions extends Partial<SamplingSettings> {
  /** class by id (index into the package's classes) or by name; one of the two is required */
  classId?: number;
  className?: string;
  /** default 0; sample i uses its own random stream of this seed (rng.ts) */
  seed?: number;
  /** samples generated together (default 1, at most 64) */
  count?: number;
  /** teacher forcing: keep this reference's detail tokens at every scale, sample the semantic ones */
  forceDetailFrom?: ReferenceIndices;
  /** the reverse: keep the reference's semantic tokens, sample the detail ones */
  forceSemanticFrom?: ReferenceIndices;
  /**
   * experiment: draw each position's (detail, semantic) pair from the product distribution with
   * top-k/top-p applied to the pairs (sampling.ts PairSampler) instead of to each branch
   */
  joint?: boolean;
  /** 'cache' (default): KV cache; 'recompute': rebuild the prefix at every scale (same tokens, slower) */
  mode?: GenerationMode;
  /** decode a preview of every sample after each scale (default: when onScale is given) */
  previews?: boolean;
  /** decode the final images (default true) */
  decode?: boolean;
  /** after each scale; previews are RGB bytes (S*S*3) per sample when previews are on */
  onScale?: (scale: number, previews: Uint8Array[] | undefined, progress: ScaleProgress) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface GenerationSettings extends SamplingSettings {
  classId: number;
  className: string;
  seed: number;
  count: number;
  mode: GenerationMode;
  /** the branch taken from the reference, if teacher forcing */
  forced?: 'detail' | 'semantic';
  /** joint sampling experiment, if on */
  joint?: true;
}

export interface GeneratedSample {
  /** sample index in the batch (its random stream) */
  index: number;
  /** [P][L] indices, the encoder's layout: decode them, export them, inspect them */
  tokens: number[][];
  /** final image, RGB bytes S*S*3 (absent with decode: false) */
  rgb?: Uint8Array;
}

export interface GenerationResult {
  model: string;
  imageSize: number;
  settings: GenerationSettings;
  samples: GeneratedSample[];
  /** graph runs of this generation */
  runs: { generator: number; nextInput: number; decoder: number };
  timingsMs: { generator: number; nextInput: number; sampling: number; decode: number; total: number };
}


/** Resolves the class, the settings (package defaults for what is not given) and checks them. */
export function resolveGeneration(rt: ModelRuntime, o: GenerateOptions): GenerationSettings {
  const spec = generatorSpec(rt);
  const bad = (m: string) => new UserError('BAD_ARGUMENT', m);
  let classId: number;
  if (o.className !== undefined) {
    classId = spec.classes.indexOf(o.className);
    if (classId < 0) {
      const lower = spec.classes.findIndex((c) => c.toLowerCase() === o.className!.toLowerCase());
      if (lower < 0) throw bad(`unknown class '${o.className}' (this model's classes: ${spec.classes.join(', ')})`);
      classId = lower;
    }
    if (o.classId !== undefined && o.classId !== classId) throw bad(`class '${o.className}' is id ${classId}, not ${o.classId}`);
  } else if (o.classId !== undefined) {
    classId = o.classId;
    if (!Number.isInteger(classId) || classId < 0 || classId >= spec.classes.length) {
      throw bad(`class id must be an integer from 0 to ${spec.classes.length - 1} (got ${classId})`);
    }
  } else {
    throw bad(`a class is required (this model's classes: ${spec.classes.join(', ')})`);
  }
  const count = o.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_GENERATE_COUNT) throw bad(`count must be an integer from 1 to ${MAX_GENERATE_COUNT} (got ${count})`);
  const settings = checkSettings({
    cfg: o.cfg ?? spec.defaults.cfg,
    topK: o.topK ?? spec.defaults.topK,
    topP: o.topP ?? spec.defaults.topP,
    temperature: o.temperature ?? spec.defaults.temperature,
  });
  const mode = o.mode ?? 'cache';
  if (mode !== 'cache' && mode !== 'recompute') throw bad(`mode must be 'cache' or 'recompute' (got '${String(mode)}')`);
  if (o.forceDetailFrom && o.forceSemanticFrom) throw bad('force the detail or the semantic tokens, not both');
  const forced: 'detail' | 'semantic' | undefined = o.forceDetailFrom ? 'detail' : o.forceSemanticFrom ? 'semantic' : undefined;
  if (o.joint && forced) throw bad('joint sampling needs both branches free: not with teacher forcing');
  return {
    ...settings,
    classId,
    className: spec.classes[classId],
    seed: checkSeed(o.seed ?? 0),
    count,
    mode,
    ...(forced ? { forced } : {}),
    ...(o.joint ? { joint: true as const } : {}),
  };
}

/** The reference row of the forced branch, checked against the package's layout. */
function forcedRow(rt: ModelRuntime, ref: ReferenceIndices, branch: number): Int32Array {
  checkIndices(rt.pkg.manifest, ref, 'reference indices');
  return Int32Array.from(ref[branch]);
}

function checkDims(file: string, name: string, t: Tensor, want: number[]): void {
  if (t.dims.length !== want.length || t.dims.some((d, i) => d !== want[i])) {
    throw new UserError('MODEL_SHAPE_MISMATCH', `${file}: output '${name}' has shape [${t.dims.join(',')}], expected [${want.join(',')}]`);
  }
}

/**
 * The generator's two graphs with typed inputs: one scale step with a KV cache, and the next
 * scale's inputs from the tokens so far. generate() drives it; tests use it for teacher-forced
 * logits.
 */
export class GeneratorGraphs {
  readonly spec: GeneratorSpec;
  readonly scales: number[];
  readonly offsets: number[];
  readonly L: number;
  readonly P: number;
  runs = { generator: 0, nextInput: 0 };

  /** signal: a run still queued behind other work when it aborts is dropped unrun */
  constructor(
    readonly rt: ModelRuntime,
    private readonly signal?: AbortSignal,
  ) {
    this.spec = generatorSpec(rt);
    this.scales = rt.scales;
    this.offsets = scaleOffsets(this.scales);
    this.L = rt.pkg.manifest.tokensPerBranch;
    this.P = rt.branchCount;
  }

  /** An empty cache for `rows` batch rows. */
  emptyCache(rows: number): { keys: Tensor; values: Tensor } {
    const ort = loadOrt();
    const { depth, heads, headDim } = this.spec;
    const t = new ort.Tensor('float32', new Float32Array(0), [depth, rows, heads, 0, headDim]);
    return { keys: t, values: t };
  }

  /**
   * One scale: classIds [R], x [R, T, inDim] (zeros at scale 0), past cache -> logits [R, T, 2V]
   * and the cache extended by this scale.
   */
  async step(scale: number, classIds: BigInt64Array, x: Float32Array, past: { keys: Tensor; values: Tensor }): Promise<{ logits: Float32Array; cache: { keys: Tensor; values: Tensor } }> {
    const ort = loadOrt();
    const R = classIds.length;
    const T = this.scales[scale] ** 2;
    const { inDim, vocab: V, depth, heads, headDim } = this.spec;
    const start = this.offsets[scale];
    const positions = new BigInt64Array(T);
    for (let i = 0; i < T; i++) positions[i] = BigInt(start + i);
    const out = await this.rt.runGraph('generator', {
      class_id: new ort.Tensor('int64', classIds, [R]),
      x_in: new ort.Tensor('float32', x, [R, T, inDim]),
      positions: new ort.Tensor('int64', positions, [T]),
      past_keys: past.keys,
      past_values: past.values,
    }, this.signal, ['past_keys', 'past_values']); // the cache moves to the worker: each step replaces it
    this.runs.generator++;
    const file = this.rt.pkg.manifest.graphs.generator.file;
    const Tp = past.keys.dims[3];
    checkDims(file, 'logits', out.logits, [R, T, 2 * V]);
    checkDims(file, 'present_keys', out.present_keys, [depth, R, heads, Tp + T, headDim]);
    checkDims(file, 'present_values', out.present_values, [depth, R, heads, Tp + T, headDim]);
    return { logits: out.logits.data as Float32Array, cache: { keys: out.present_keys, values: out.present_values } };
  }

  /** indices [B*P*L] (branch-major per sample) with the first `sampled` scales valid -> [B, L-1, inDim]. */
  async nextInput(indices: BigInt64Array, batch: number, sampled: number): Promise<Float32Array> {
    const ort = loadOrt();
    const { P, L } = this;
    const N = this.scales.length;
    const mask = new Float32Array(batch * P * N);
    for (let r = 0; r < batch * P; r++) for (let j = 0; j < sampled; j++) mask[r * N + j] = 1;
    const out = await this.rt.runGraph('nextInput', {
      indices: new ort.Tensor('int64', indices, [batch, P, L]),
      scale_mask: new ort.Tensor('float32', mask, [batch, P, N]),
    }, this.signal);
    this.runs.nextInput++;
    checkDims(this.rt.pkg.manifest.graphs.nextInput.file, 'next_input', out.next_input, [batch, L - 1, this.spec.inDim]);
    return out.next_input.data as Float32Array;
  }

  /** x_in of scale k (k > 0) for R rows from nextInput's output of B samples (row r uses sample r % B). */
  scaleInput(next: Float32Array | undefined, scale: number, rows: number, batch: number): Float32Array {
    const { inDim } = this.spec;
    const T = this.scales[scale] ** 2;
    const x = new Float32Array(rows * T * inDim);
    if (scale === 0 || !next) return x;
    const from = this.offsets[scale] - 1;
    for (let r = 0; r < rows; r++) {
      const b = r % batch;
      const src = (b * (this.L - 1) + from) * inDim;
      x.set(next.subarray(src, src + T * inDim), r * T * inDim);
    }
    return x;
  }
}

/**
 * Generates `count` samples of one class. Throws UserError MODEL_NO_GENERATOR for a package
 * without generator graphs, BAD_ARGUMENT for bad settings, CANCELLED when `signal` aborts (checked
 * between graph runs).
 */
export async function generate(rt: ModelRuntime, options: GenerateOptions): Promise<GenerationResult> {
  const t0 = performance.now();
  const settings = resolveGeneration(rt, options);
  const { signal } = options;
  throwIfAborted(signal);
  const g = new GeneratorGraphs(rt, signal);
  const { spec, scales, offsets, L, P } = g;
  const N = scales.length;
  const V = spec.vocab;
  const B = settings.count;
  const guided = settings.cfg > 0;
  const R = guided ? 2 * B : B;
  // generatorSpec (in GeneratorGraphs) has checked that the package has two branches, so both roles exist
  const { detail: detailBranch, semantic: semanticBranch } = rt.pkg.roles!;
  // logits halves: [detail V | semantic V]; half h belongs to this branch index
  const halfBranch = [detailBranch, semanticBranch];
  const forcedBranch = settings.forced === 'detail' ? detailBranch : settings.forced === 'semantic' ? semanticBranch : -1;
  const forced = forcedBranch >= 0 ? forcedRow(rt, (options.forceDetailFrom ?? options.forceSemanticFrom)!, forcedBranch) : undefined;

  const classIds = new BigInt64Array(R);
  for (let r = 0; r < R; r++) classIds[r] = BigInt(r < B ? settings.classId : spec.nullClass);
  const streams: Xoshiro128ss[] = Array.from({ length: B }, (_, b) => sampleStream(settings.seed, b));
  const indices = new BigInt64Array(B * P * L); // the tokens, [B, P, L]; unsampled positions stay 0
  const sampler = new RowSampler(V);
  const pairs = settings.joint ? new PairSampler(V) : undefined;
  const wantPreviews = options.previews ?? options.onScale !== undefined;
  const { mean, std } = rt.pkg.manifest.image;
  const S = rt.imageSize;
  const timings = { generator: 0, nextInput: 0, sampling: 0, decode: 0, total: 0 };
  let decoderRuns = 0;
  const tokensOf = () =>
    Array.from({ length: B }, (_, b) => Array.from({ length: P }, (_, p) => Array.from(indices.subarray((b * P + p) * L, (b * P + p + 1) * L), Number)));
  const decodeSoFar = async (sampled: number): Promise<Uint8Array[]> => {
    const t = performance.now();
    const tok = tokensOf();
    const mask = scaleMask(P, N, (_p, j) => j < sampled);
    const img = await rt.decode(tok, tok.map(() => mask), signal);
    decoderRuns++;
    const out = tok.map((_, b) => fromTensor(img, S, mean, std, b * 3 * S * S));
    timings.decode += performance.now() - t;
    return out;
  };

  let cache = g.emptyCache(R);
  let next: Float32Array | undefined;
  const inputs: Float32Array[] = []; // x_in per scale, kept for recompute mode
  let finalImages: Uint8Array[] | undefined;
  for (let k = 0; k < N; k++) {
    throwIfAborted(signal);
    const T = scales[k] ** 2;
    const start = offsets[k];
    const x = g.scaleInput(next, k, R, B);
    let t = performance.now();
    let logits: Float32Array;
    if (settings.mode === 'cache') {
      ({ logits, cache } = await g.step(k, classIds, x, cache));
    } else {
      // No cache reuse: rebuild the prefix's keys/values from scratch, scale by scale (the step
      // graph has no attention mask, so the prefix cannot be one call), then this scale.
      inputs.push(x);
      let c = g.emptyCache(R);
      let last: Float32Array | undefined;
      for (let j = 0; j <= k; j++) {
        throwIfAborted(signal);
        ({ logits: last, cache: c } = await g.step(j, classIds, inputs[j], c));
      }
      logits = last!;
    }
    timings.generator += performance.now() - t;
    throwIfAborted(signal);

    t = performance.now();
    const w = guidanceWeight(settings.cfg, k, N);
    for (let b = 0; b < B; b++) {
      const rng = streams[b];
      for (let i = 0; i < T; i++) {
        const condBase = (b * T + i) * 2 * V;
        const uncondBase = ((B + b) * T + i) * 2 * V;
        if (pairs) {
          const u1 = rng.float();
          const u2 = rng.float();
          const temp = settings.temperature;
          pairs.detail.load(logits, condBase, guided ? logits : undefined, uncondBase, w, temp);
          pairs.semantic.load(logits, condBase + V, guided ? logits : undefined, uncondBase + V, w, temp);
          const [d, sm] = pairs.sample(settings.topK, settings.topP, u1, u2);
          indices[(b * P + halfBranch[0]) * L + start + i] = BigInt(d);
          indices[(b * P + halfBranch[1]) * L + start + i] = BigInt(sm);
          continue;
        }
        for (let h = 0; h < 2; h++) {
          const u = rng.float(); // drawn for both branches always, so forcing one keeps the other's stream
          const p = halfBranch[h];
          let token: number;
          if (p === forcedBranch) token = forced![start + i];
          else token = sampler.load(logits, condBase + h * V, guided ? logits : undefined, uncondBase + h * V, w, settings.temperature).filter(settings.topK, settings.topP).draw(u);
          indices[(b * P + p) * L + start + i] = BigInt(token);
        }
      }
    }
    timings.sampling += performance.now() - t;

    if (k < N - 1) {
      throwIfAborted(signal);
      t = performance.now();
      next = await g.nextInput(indices, B, k + 1);
      timings.nextInput += performance.now() - t;
    }
    let previews: Uint8Array[] | undefined;
    if (wantPreviews) {
      throwIfAborted(signal);
      previews = await decodeSoFar(k + 1);
      if (k === N - 1) finalImages = previews;
    }
    if (options.onScale) {
      await options.onScale(k, previews, { scale: k, scales: N, tokens: tokensOf(), elapsedMs: performance.now() - t0 });
    }
  }
  throwIfAborted(signal);
  if (!finalImages && options.decode !== false) finalImages = await decodeSoFar(N);
  const tokens = tokensOf();
  timings.total = performance.now() - t0;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    model: rt.pkg.manifest.name,
    imageSize: S,
    settings,
    samples: tokens.map((tk, b) => ({ index: b, tokens: tk, ...(finalImages ? { rgb: finalImages[b] } : {}) })),
    runs: { ...g.runs, decoder: decoderRuns },
    timingsMs: {
      generator: round(timings.generator),
      nextInput: round(timings.nextInput),
      sampling: round(timings.sampling),
      decode: round(timings.decode),
      total: round(timings.total),
    },
  };
}
