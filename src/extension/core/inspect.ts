// Everything the inspector panel shows for an image, computed with one encoder run and decoder
// runs per image: the N progressive reconstructions, the N-1 single-scale contributions beyond
// scale 0 (contribution 0 is progressive 0) and, for a two-branch model, the two branch ablations
// (2N+1 tiles; 2N-1 with one branch). The full reconstruction is decoded first and reported with
// the tokens (onProgress 'head'), then every other tile as it is decoded: on a large model each
// tile is a second or more of CPU, and the panel shows what it has. inspectIndices does the same
// for tokens that came from the generator instead of an image.

import type { Inspection, InspectionHead, PngImage, ResizeMode, TileKind, TileUpdate } from '../../shared/types';
import { throwIfAborted } from './errors';
import { DEFAULT_PIXEL_LIMIT, fromTensor, loadImage, toTensor, type PreparedImage } from './image';
import { branchUsage, psnr, ssimAgainst, ssimReference } from './metrics';
import { pngImage } from './png';
import type { BranchRoles } from './packageReader';
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
  /** the inspection as it takes shape (see InspectProgress); the promise still resolves to the whole */
  onProgress?: (e: InspectProgress) => void;
  /**
   * false: skip the N-1 contribution tiles, for a caller that reports only metrics (`cli tokenize`):
   * on a large model each tile is a second of CPU. `contribution` then holds scale 0 alone.
   */
  contributions?: boolean;
}

/**
 * A streamed inspection of image `item` (its index in inspectMany's list): first its head (tokens,
 * maps, usage, the input) together with the full reconstruction, then each other tile; `done` of
 * `total` tiles are decoded.
 */
export type InspectProgress =
  | { kind: 'head'; item: number; head: InspectionHead; tile: TileUpdate; done: number; total: number }
  | { kind: 'tile'; item: number; tile: TileUpdate; done: number; total: number };

export type ImageInput = string | Uint8Array;

const now = () => performance.now();

export function resolveImageOptions(runtime: ModelRuntime, o: Pick<InspectOptions, 'resize' | 'background' | 'pixelLimit'>) {
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

/** One tile of an inspection and the scale mask that decodes it. */
export interface PlannedTile {
  kind: TileKind;
  scale: number;
  mask: number[][];
}

/**
 * The tiles decoded per image, in decode order: the full reconstruction first (the panel shows it
 * first), the other progressive reconstructions, the contributions beyond scale 0, then each
 * branch alone (two-branch models only).
 */
export function decodePlan(P: number, N: number, roles?: BranchRoles, contributions = true): PlannedTile[] {
  const tiles: PlannedTile[] = [{ kind: 'progressive', scale: N - 1, mask: progressiveMask(P, N, N - 1) }];
  for (let k = 0; k < N - 1; k++) tiles.push({ kind: 'progressive', scale: k, mask: progressiveMask(P, N, k) });
  if (contributions) for (let k = 1; k < N; k++) tiles.push({ kind: 'contribution', scale: k, mask: contributionMask(P, N, k) });
  if (roles) {
    tiles.push({ kind: 'ablation-semantic', scale: N - 1, mask: branchOnlyMask(P, N, roles.semantic) });
    tiles.push({ kind: 'ablation-detail', scale: N - 1, mask: branchOnlyMask(P, N, roles.detail) });
  }
  return tiles;
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
export async function inspectIndices(
  runtime: ModelRuntime,
  indices: number[][],
  options: { name: string; notes?: string[] } & Pick<InspectOptions, 'signal' | 'onProgress'>,
): Promise<Inspection> {
  const t0 = now();
  const item = { name: options.name, rgb: null, notes: options.notes ?? [], indices };
  return (await assemble(runtime, [item], options, { t0, preprocess: 0, encode: 0 }))[0];
}

interface Item {
  name: string;
  /** the model-size input; null: the full decode is the reference (inspectIndices) */
  rgb: Uint8Array | null;
  notes: string[];
  /** [branch][token] */
  indices: number[][];
}

/** Decoder tiles, PNGs, metrics, maps and usage for encoded items, streamed through onProgress. */
async function assemble(
  runtime: ModelRuntime,
  items: Item[],
  options: Pick<InspectOptions, 'signal' | 'maxDecodeBatch' | 'onProgress' | 'contributions'>,
  t: { t0: number; preprocess: number; encode: number },
): Promise<Inspection[]> {
  const { signal, onProgress } = options;
  const { mean, std } = runtime.pkg.manifest.image;
  const S = runtime.imageSize;
  const N = runtime.scales.length;
  const P = runtime.branchCount;
  const t2 = now();
  const plan = decodePlan(P, N, runtime.pkg.roles, options.contributions ?? true);
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
  throwIfAborted(signal);
  // Each image's tiles are decoded in parts, every part of every image queued at once (each
  // part's runs spread over the decoder workers, its tiles sharing the image's code maps): the full
  // reconstruction alone first, then the rest in two halves on a small decoder (this thread turns
  // one part into PNGs and metrics while the workers decode the next) or one tile a part on a large
  // one (runtime.largeDecoder: each tile shows as soon as it is decoded, and a cancellation lands
  // between tiles).
  const rest = plan.length - 1;
  const partSize = runtime.largeDecoder ? 1 : Math.max(1, Math.ceil(rest / 2));
  const bounds = [0, 1];
  for (let b = 1 + partSize; b < plan.length; b += partSize) bounds.push(b);
  bounds.push(plan.length);
  let t3 = t2;
  const part = (idx: number[][], from: number, to: number) =>
    runtime.decode([idx], plan.slice(from, to).map((p) => p.mask), signal, options.maxDecodeBatch).then((d) => {
      t3 = now();
      return d;
    });
  const decodes = items.map((it) => bounds.slice(0, -1).map((from, i) => part(it.indices, from, bounds[i + 1])));
  for (const d of decodes.flat()) d.catch(() => undefined); // the first failure is thrown below; the rest are moot

  let tPng = 0;
  let tMetrics = 0;
  let firstView = 0;
  const results: Inspection[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const progressive: PngImage[] = new Array<PngImage>(N);
    const contribution: PngImage[] = new Array<PngImage>(N);
    const psnrByScale: number[] = new Array<number>(N);
    const ssimByScale: number[] = new Array<number>(N);
    const ablation: Partial<Record<'semantic' | 'detail', PngImage>> = {};
    const ablationMetrics: Partial<Record<'semantic' | 'detail', { psnr: number; ssim: number }>> = {};
    let input: Uint8Array | null = item.rgb;
    let quality: ((rgb: Uint8Array) => { psnr: number; ssim: number }) | undefined;
    let head: InspectionHead | undefined;
    let done = 0;
    for (let j = 0; j < bounds.length - 1; j++) {
      const decoded = await decodes[i][j];
      for (let b = bounds[j]; b < bounds[j + 1]; b++) {
        const tile = plan[b];
        const rgb = fromTensor(decoded, S, mean, std, (b - bounds[j]) * 3 * S * S);
        let a = now();
        const png = pngImage(rgb, S, S);
        tPng += now() - a;
        a = now();
        if (!quality) {
          // the first tile is the full reconstruction: the reference when there is no input image
          input ??= rgb;
          const ref = ssimReference(input, S, S); // the input's half of SSIM, shared by every comparison
          quality = (x) => ({ psnr: psnr(input!, x), ssim: ssimAgainst(ref, x) });
        }
        const q = tile.kind === 'contribution' ? undefined : quality(rgb);
        tMetrics += now() - a;
        if (tile.kind === 'progressive') {
          progressive[tile.scale] = png;
          psnrByScale[tile.scale] = q!.psnr;
          ssimByScale[tile.scale] = q!.ssim;
          if (tile.scale === 0) contribution[0] = png;
        } else if (tile.kind === 'contribution') contribution[tile.scale] = png;
        else {
          const branch = tile.kind === 'ablation-semantic' ? 'semantic' : 'detail';
          ablation[branch] = png;
          ablationMetrics[branch] = q!;
        }
        done++;
        const update: TileUpdate = { kind: tile.kind, scale: tile.scale, png, ...(q ? { quality: q } : {}) };
        if (!head) {
          shared ??= sharedFields();
          const { providerNotes, ...fields } = shared;
          a = now();
          const usage = item.indices.map((row, p) => branchUsage(p, [row], runtime.scales, fields.model.branches[p].codebookSize));
          tMetrics += now() - a;
          head = {
            image: item.name,
            ...fields,
            notes: [...item.notes, ...providerNotes],
            input: item.rgb ? pngImage(item.rgb, S, S) : png,
            ...(item.rgb ? {} : { source: 'tokens' as const }),
            indices: item.indices,
            tokenMaps: tokenMaps(item.indices, runtime.scales),
            usage,
            timingsMs: {},
          };
          if (i === 0) firstView = now() - t.t0;
          onProgress?.({ kind: 'head', item: i, head, tile: update, done, total: plan.length });
        } else onProgress?.({ kind: 'tile', item: i, tile: update, done, total: plan.length });
      }
    }
    results.push({
      ...head!,
      progressive,
      contribution,
      psnrByScale,
      ssimByScale,
      ...(ablation.semantic && ablation.detail
        ? { ablation: { semantic: ablation.semantic, detail: ablation.detail }, ablationMetrics: { semantic: ablationMetrics.semantic!, detail: ablationMetrics.detail! } }
        : {}),
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
      firstView: Math.round(firstView * 100) / 100,
      total: per(total),
      batch: items.length,
    };
  }
  return results;
}
