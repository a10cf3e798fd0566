// The Generate view's part of the protocol: its form (sampling parameters), requests, the generator
// description and per-scale progress it receives, and the state VS Code keeps for it across reloads.

import { MAX_CFG, MAX_GENERATE_COUNT, MAX_GENERATE_SEED, MAX_TEMPERATURE, MAX_TOP_K } from '../limits';
import { fail, hasExactKeys, isInt, isNum, isPlainObject, short, boundedJsonLength, MAX_REQUEST_ID, MAX_SCALES, MAX_WEBVIEW_MESSAGE_CHARS, type Obj, type Parsed } from './common';

// The sampling bounds are shared/limits.ts's (the settings and the CLI check the same numbers); this
// cap only keeps a class index sane before the model's class count is known.
export const MAX_CLASSES = 4096;

/** Which branch of the reference image is teacher-forced (paper Fig. 8); 'none' = plain sampling. */
export type ForceBranch = 'none' | 'detail' | 'semantic';
/** What a saved generated sample is written as. */
export type SampleFormat = 'png' | 'tokens-json' | 'tokens-npy';

/** The sampling choices of one generation (form, settings defaults, backend job share them). */
export interface SamplingParams {
  cfg: number;
  /** 0 = off */
  topK: number;
  /** 1 = off */
  topP: number;
  temperature: number;
  seed: number;
  count: number;
}

/** Everything the Generate view asks for; the host alone knows the model (and so the class list). */
export interface GenerateParams extends SamplingParams {
  /** index into the model's classes */
  classId: number;
  force: ForceBranch;
}

export type GenerateRequest =
  /** run the generator (progress arrives as generation* messages, then the response) */
  | { type: 'generate'; params: GenerateParams }
  /** save sample `sample` of generation `run` through a save dialog */
  | { type: 'saveSample'; run: number; sample: number; format: SampleFormat }
  /** open an inspector on sample `sample` of generation `run` (its tokens, not its PNG) */
  | { type: 'inspectSample'; run: number; sample: number };

/** What the Generate view needs to build its form (host -> webview after `ready`). */
export interface GeneratorView {
  model: string;
  imageSize: number;
  /** tokens per side of each scale */
  scales: number[];
  classes: string[];
  /** starting values of the form: explicit user settings, else the package's defaults */
  defaults: GenerateParams;
  maxCount: number;
  /** the image whose tokens can be teacher-forced, if the view was opened from an inspector */
  reference: { title: string } | null;
  /** short facts about the generator (depth, training steps) for the header */
  about: string;
  /** set when the configured model could not be used and the built-in one was */
  note?: string;
}

/** The settings a generation actually ran with (defaults filled in), for captions and export. */
export interface GenerationSummary extends SamplingParams {
  classId: number;
  className: string;
  forced: 'detail' | 'semantic' | null;
  /** file name of the teacher-forcing reference */
  reference: string | null;
}

export type GenerateHostMessage =
  | { kind: 'generator'; view: GeneratorView }
  /** a generation started: `count` samples over `scales` scales */
  | { kind: 'generationStart'; run: number; count: number; scales: number; summary: GenerationSummary }
  /** scale `scale` (0-based) of every sample is sampled: decoded previews of scales 0..scale, base64 PNGs */
  | { kind: 'generationScale'; run: number; scale: number; scales: number; previews: string[]; elapsedMs: number }
  /** the final images (base64 PNGs), one per sample */
  | { kind: 'generationDone'; run: number; samples: string[]; summary: GenerationSummary; elapsedMs: number };

/** The Generate view's persisted state: its form and the reference image (a file URI) if any. */
export interface GenerateState {
  view: 'generate';
  /** the form */
  params: GenerateParams;
  reference: string | null;
  /**
   * the settings of the samples on screen, if any: a restored view generates them again (the
   * seed fixes the tokens, so the same images come back) instead of storing the images
   */
  shown?: GenerateParams | null;
}

/** The request that reproduces a generation: its summary as Generate-view parameters. */
export function paramsOfSummary(s: GenerationSummary): GenerateParams {
  const { classId, cfg, topK, topP, temperature, seed, count, forced } = s;
  return { classId, cfg, topK, topP, temperature, seed, count, force: forced ?? 'none' };
}

const FORCES: readonly ForceBranch[] = ['none', 'detail', 'semantic'];
const SAMPLE_FORMATS: readonly SampleFormat[] = ['png', 'tokens-json', 'tokens-npy'];

/**
 * Checks generation parameters with the core's rules (core/generate: sampling.ts checkSettings,
 * rng.ts checkSeed, shared/limits.ts), each failure named. `classes` (when known, i.e. on the
 * host) bounds the class id; the webview uses the same function to show errors before sending.
 */
export function parseGenerateParams(raw: unknown, classes = MAX_CLASSES): Parsed<GenerateParams> {
  if (!isPlainObject(raw)) return fail('generate: params must be an object');
  const e = hasExactKeys(raw, ['classId', 'cfg', 'topK', 'topP', 'temperature', 'seed', 'count', 'force']);
  if (e) return fail(`generate: ${e}`);
  const { classId, cfg, topK, topP, temperature, seed, count, force } = raw;
  if (!isInt(classId, 0, Math.min(classes, MAX_CLASSES) - 1)) {
    return fail(`generate: class must be one of the model's ${classes === MAX_CLASSES ? '' : `${classes} `}classes (got ${short(String(classId))})`);
  }
  if (!isNum(cfg) || cfg < 0 || cfg > MAX_CFG) return fail(`generate: cfg must be a number from 0 to ${MAX_CFG} (got ${short(String(cfg))})`);
  if (!isInt(topK, 0, MAX_TOP_K)) return fail(`generate: top-k must be an integer from 0 to ${MAX_TOP_K}, 0 = off (got ${short(String(topK))})`);
  // the core keeps at least the most likely code, so 0 would mean nothing: (0, 1], 1 = off
  if (!isNum(topP) || topP <= 0 || topP > 1) return fail(`generate: top-p must be a number in (0, 1], 1 = off (got ${short(String(topP))})`);
  if (!isNum(temperature) || temperature <= 0 || temperature > MAX_TEMPERATURE) {
    return fail(`generate: temperature must be a number > 0 and at most ${MAX_TEMPERATURE} (got ${short(String(temperature))})`);
  }
  if (!isInt(seed, 0, MAX_GENERATE_SEED)) return fail(`generate: seed must be an integer from 0 to ${MAX_GENERATE_SEED} (got ${short(String(seed))})`);
  if (!isInt(count, 1, MAX_GENERATE_COUNT)) return fail(`generate: count must be an integer from 1 to ${MAX_GENERATE_COUNT} (got ${short(String(count))})`);
  if (!FORCES.includes(force as ForceBranch)) return fail('generate: force must be none, detail or semantic');
  return { ok: true, value: { classId, cfg, topK, topP, temperature, seed, count, force: force as ForceBranch } };
}

/** A Generate view request, or undefined when `raw.type` is not one. */
export function parseGenerateRequest(raw: Obj): Parsed<GenerateRequest> | undefined {
  const type = raw.type;
  switch (type) {
    case 'generate': {
      const e = hasExactKeys(raw, ['type', 'params']);
      if (e) return fail(`generate: ${e}`);
      const p = parseGenerateParams(raw.params);
      return p.ok ? { ok: true, value: { type, params: p.value } } : p;
    }
    case 'saveSample': {
      const e = hasExactKeys(raw, ['type', 'run', 'sample', 'format']);
      if (e) return fail(`saveSample: ${e}`);
      if (!isInt(raw.run, 1, MAX_REQUEST_ID)) return fail('saveSample: run must be a generation id');
      if (!isInt(raw.sample, 0, MAX_GENERATE_COUNT - 1)) return fail(`saveSample: sample must be an integer from 0 to ${MAX_GENERATE_COUNT - 1}`);
      if (!SAMPLE_FORMATS.includes(raw.format as SampleFormat)) return fail('saveSample: format must be png, tokens-json or tokens-npy');
      return { ok: true, value: { type, run: raw.run, sample: raw.sample, format: raw.format as SampleFormat } };
    }
    case 'inspectSample': {
      const e = hasExactKeys(raw, ['type', 'run', 'sample']);
      if (e) return fail(`inspectSample: ${e}`);
      if (!isInt(raw.run, 1, MAX_REQUEST_ID)) return fail('inspectSample: run must be a generation id');
      if (!isInt(raw.sample, 0, MAX_GENERATE_COUNT - 1)) return fail(`inspectSample: sample must be an integer from 0 to ${MAX_GENERATE_COUNT - 1}`);
      return { ok: true, value: { type, run: raw.run, sample: raw.sample } };
    }
    default:
      return undefined;
  }
}

/** Host-side shape check of a Generate view message the webview receives, or undefined for other kinds. */
export function isGenerateHostMessage(raw: Obj): boolean | undefined {
  switch (raw.kind) {
    case 'generator':
      return isPlainObject(raw.view) && Array.isArray((raw.view as Obj).classes);
    case 'generationStart':
      return isInt(raw.run, 1, MAX_REQUEST_ID) && isInt(raw.count, 1, MAX_GENERATE_COUNT) && isInt(raw.scales, 1, MAX_SCALES) && isPlainObject(raw.summary);
    case 'generationScale':
      return isInt(raw.run, 1, MAX_REQUEST_ID) && isInt(raw.scale, 0, MAX_SCALES - 1) && Array.isArray(raw.previews) && raw.previews.every((p) => typeof p === 'string');
    case 'generationDone':
      return isInt(raw.run, 1, MAX_REQUEST_ID) && Array.isArray(raw.samples) && raw.samples.every((p) => typeof p === 'string') && isPlainObject(raw.summary);
    default:
      return undefined;
  }
}

/** Validate the Generate view's persisted state (from the webview) before a panel is restored. */
export function parseGenerateState(raw: unknown): Parsed<GenerateState> {
  try {
    if (!isPlainObject(raw)) return fail('state must be an object');
    if (boundedJsonLength(raw, MAX_WEBVIEW_MESSAGE_CHARS) > MAX_WEBVIEW_MESSAGE_CHARS) return fail('state too large');
    const e = hasExactKeys(raw, ['view', 'params', 'reference'], ['shown']);
    if (e) return fail(`state: ${e}`);
    if (raw.view !== 'generate') return fail('state: not a Generate view');
    const p = parseGenerateParams(raw.params);
    if (!p.ok) return fail(`state: ${p.error}`);
    const ref = raw.reference;
    if (ref !== null && (typeof ref !== 'string' || ref.length === 0 || ref.length > 4096)) return fail('state: bad reference');
    let shown: GenerateParams | null = null;
    if (raw.shown !== undefined && raw.shown !== null) {
      const sp = parseGenerateParams(raw.shown);
      if (!sp.ok) return fail(`state: shown: ${sp.error}`);
      shown = sp.value;
    }
    return { ok: true, value: { view: 'generate', params: p.value, reference: ref, shown } };
  } catch {
    return fail('state could not be read');
  }
}
