// Everything the inspector panel shows for an image, computed with one encoder run and a few
// decoder runs per batch: per image the decoder gets 2N+1 tiles, the N progressive
// reconstructions, the N-1 single-scale contributions beyond scale 0 (contribution 0 is
// progressive 0), and the two branch ablations. inspectIndices does the same for tokens that
// came from the generator instead of an image.

import type { Inspection, PngImage, ResizeMode } from '../../shared/types';
import { throwIfAborted } from './errors';
import { DEFAULT_PIXEL_LIMIT, fromTensor, loadImage, toTensor, type PreparedImage } from './image';
import { branchUsage, psnr, ssimAgainst, ssimReference } from './metrics';
import { pngImage } from './png';
import type { ModelRuntime } from './runtime';
import { branchOnlyMask, contributionMask, progressiveMask, tokenMaps } from './tokens';

export interface InspectOptions {
  resize?: ResizeMode;
  background?: string;
  pixelLimit?: number;
  signal?: AbortSignal;
  /** name reported for a buffer input */
  name?: string;
  /** most decoder tiles in one run; default MAX_DECODE_BATCH (runtime.ts) */
  maxDecodeBatch?: number;
}

export type ImageInput = string | Uint8Array;

const now = () => performance.now();

export function resolveImageOptions(runtime: ModelRuntime, o: InspectOptions) {
  return {
    size: runtime.imageSize,
    resize: o.resize ?? 'crop',
    background: o.background ?? '#ffffff',
    pixelLimit: o.pixelLimit ?? DEFAULT_PIXEL_LIMIT,
  };
}

export interface EncodedImages {
  /** each image as the model sees it, with notes on what was done to it */
  prepared: PreparedImage[];
  /** [image][branch][token] */
  indices: number[][][];
  timingsMs: { preprocess: number; encode: number };
}

/**
 * The one way images become tokens: each loaded and fitted to the model's input (resize,
 * background, pixel limit from `options`), normalised, and all encoded in one encoder run.
 */
export async function encodeImages(runtime: ModelRuntime, images: ImageInput[], options: InspectOptions = {}): Promise<EncodedImages> {
  const t0 = now();
  const { signal } = options;
  const imgOpts = resolveImageOptions(runtime, options);
  const { mean, std } = runtime.pkg.manifest.image;
  const S = runtime.imageSize;
  const prepared: PreparedImage[] = [];
  for (const img of images) {
    throwIfAborted(signal);
    prepared.push(await loadImage(img, imgOpts));
  }
  const tensor = new Float32Array(images.length * 3 * S * S);
  prepared.forEach((p, i) => toTensor(p.rgb, S, mean, std, tensor, i * 3 * S * S));
  const t1 = now();
  throwIfAborted(signal);
  const indices = await runtime.encode(tensor, images.length, signal);
  const t2 = now();
  throwIfAborted(signal);
  return { prepared, indices, timingsMs: { preprocess: t1 - t0, encode: t2 - t1 } };
}

export async function inspect(runtime: ModelRuntime, image: ImageInput, options: InspectOptions = {}): Promise<Inspection> {
  return (await inspectMany(runtime, [image], options))[0];
}

/** Decoded tiles per image in the shared decoder batch: progressive N, contributions N-1, ablations 2. */
export function decodePlan(P: number, N: number, detail: number, semantic: number): number[][][] {
  const masks: number[][][] = [];
  for (let k = 0; k < N; k++) masks.push(progressiveMask(P, N, k));
  for (let k = 1; k < N; k++) masks.push(contributionMask(P, N, k));
  masks.push(branchOnlyMask(P, N, semantic));
  masks.push(branchOnlyMask(P, N, detail));
  return masks;
}

export async function inspectMany(runtime: ModelRuntime, images: ImageInput[], options: InspectOptions = {}): Promise<Inspection[]> {
  const t0 = now();
  const { prepared, indices, timingsMs } = await encodeImages(runtime, images, options);
  const names = images.map((img) => (typeof img === 'string' ? img : (options.name ?? '<buffer>')));
  const items = prepared.map((p, i) => ({ name: names[i], rgb: p.rgb, notes: p.notes, indices: indices[i] }));
  return assemble(runtime, items, options, { t0, ...timingsMs });
}

/**
 * The inspection of token indices that did not come from an image (a generated sample): the same
 * tiles, maps and usage, with the full decode (all scales, both branches) standing in for the
 * input, so PSNR/SSIM say how close each reconstruction gets to the final image.
 */
export async function inspectIndices(runtime: ModelRuntime, indices: number[][], options: { name: string; notes?: string[]; signal?: AbortSignal }): Promise<Inspection> {
  const t0 = now();
  const item = { name: options.name, rgb: null, notes: options.notes ?? [], indices };
  return (await assemble(runtime, [item], { signal: options.signal }, { t0, preprocess: 0, encode: 0 }))[0];
}

interface Item {
  name: string;
  /** the model-size input; null: the full decode is the reference (inspectIndices) */
  rgb: Uint8Array | null;
  notes: string[];
  /** [branch][token] */
  indices: number[][];
}

/** Decoder tiles, PNGs, metrics, maps and usage for encoded items. */
async function assemble(
  runtime: ModelRuntime,
  items: Item[],
  options: Pick<InspectOptions, 'signal' | 'maxDecodeBatch'>,
  t: { t0: number; preprocess: number; encode: number },
): Promise<Inspection[]> {
  const { signal } = options;
  const { mean, std } = runtime.pkg.manifest.image;
  const S = runtime.imageSize;
  const N = runtime.scales.length;
  const P = runtime.branchCount;
  const { detailBranch, semanticBranch } = runtime.pkg;
  const indices = items.map((it) => it.indices);
  const t2 = now();
  const plan = decodePlan(P, N, detailBranch, semanticBranch);
  // The same for every image; the provider is known once the first decode has created the
  // decoder's session. With 'auto', falling back to CPU is the normal case and lives in
  // `provider`; a provider the user asked for by name and did not get deserves a visible note.
  const sharedFields = () => {
    const model = runtime.info();
    const provider = runtime.providerReport();
    const setting = runtime.options.provider;
    const providerNotes =
      setting === 'auto' || setting === 'cpu'
        ? []
        : provider.skipped.filter((s) => s.provider === setting).map((s) => `${s.provider} requested but not used (${s.reason}); running on ${provider.chosen.decoder ?? 'cpu'}`);
    return { model, provider, codeColours: model.branches.map((_, p) => runtime.codeColours(p)), providerNotes };
  };
  let shared: ReturnType<typeof sharedFields> | undefined;
  // Each image's tiles are decoded in two parts (each part's runs spread over the decoder workers,
  // its tiles sharing the image's code maps), every part of every image queued at once: this thread
  // turns the first part (the progressive reconstructions) into PNGs and metrics while the workers
  // decode the second, and finishes image i while they decode image i+1.
  throwIfAborted(signal);
  const split = Math.ceil(plan.length / 2); // N progressive tiles and the first contribution, on the built-in model 11 of 21
  let t3 = t2;
  const part = (idx: number[][], masks: number[][][]) =>
    runtime.decode([idx], masks, signal, options.maxDecodeBatch).then((d) => {
      t3 = now();
      return d;
    });
  const decodes = indices.map((idx) => [part(idx, plan.slice(0, split)), part(idx, plan.slice(split))]);
  for (const d of decodes.flat()) d.catch(() => undefined); // the first failure is thrown below; the rest are moot

  let tPng = 0;
  let tMetrics = 0;
  const results: Inspection[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const parts: Float32Array[] = [await decodes[i][0]];
    shared ??= sharedFields();
    const { providerNotes, ...fields } = shared;
    const tile = (j: number): { rgb: Uint8Array; png: PngImage } => {
      const rgb = j < split ? fromTensor(parts[0], S, mean, std, j * 3 * S * S) : fromTensor(parts[1], S, mean, std, (j - split) * 3 * S * S);
      const a = now();
      const png = pngImage(rgb, S, S);
      tPng += now() - a;
      return { rgb, png };
    };
    const progressive = Array.from({ length: N }, (_, k) => tile(k));
    const input = item.rgb ?? progressive[N - 1].rgb;
    let a = now();
    const ref = ssimReference(input, S, S); // the input's half of SSIM, shared by all N + 2 comparisons
    const quality = (rgb: Uint8Array) => ({ psnr: psnr(input, rgb), ssim: ssimAgainst(ref, rgb) });
    const prog = progressive.map((p) => quality(p.rgb));
    tMetrics += now() - a;
    parts.push(await decodes[i][1]);
    const contribution = [progressive[0], ...Array.from({ length: N - 1 }, (_, k) => tile(N + k))];
    const semantic = tile(2 * N - 1);
    const detail = tile(2 * N);
    a = now();
    const ablationMetrics = { semantic: quality(semantic.rgb), detail: quality(detail.rgb) };
    const usage = indices[i].map((row, p) => branchUsage(p, [row], runtime.scales, fields.model.branches[p].codebookSize));
    tMetrics += now() - a;
    results.push({
      image: item.name,
      ...fields,
      notes: [...item.notes, ...providerNotes],
      input: item.rgb ? pngImage(item.rgb, S, S) : progressive[N - 1].png,
      ...(item.rgb ? {} : { source: 'tokens' as const }),
      indices: indices[i],
      progressive: progressive.map((p) => p.png),
      contribution: contribution.map((p) => p.png),
      ablation: { semantic: semantic.png, detail: detail.png },
      psnrByScale: prog.map((q) => q.psnr),
      ssimByScale: prog.map((q) => q.ssim),
      ablationMetrics,
      tokenMaps: tokenMaps(indices[i], runtime.scales),
      usage,
      timingsMs: {},
    });
  }
  const total = now() - t.t0;
  const per = (ms: number) => Math.round((ms / items.length) * 100) / 100;
  for (const r of results) {
    r.timingsMs = {
      preprocess: per(t.preprocess),
      encode: per(t.encode),
      decode: per(t3 - t2),
      png: per(tPng),
      metrics: per(tMetrics),
      total: per(total),
      batch: items.length,
    };
  }
  return results;
}
