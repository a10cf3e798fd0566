// The one typed protocol between the extension host and the inspector webview.
// Shared by src/extension/host (validates every incoming message with `parseWebviewMessage`) and
// src/webview (sends requests with ids, receives replies). No `vscode` and no DOM import here.
//
// Security model: the webview never names a file. Every request refers to "the image this panel
// shows"; the host alone decides which paths are read or written. Anything that does not match the
// schema below exactly (unknown kind, extra keys, wrong types, out-of-range numbers, oversized
// payloads) is rejected before the host acts on it.

import type { BranchSelection, Inspection } from '../types';

export const PROTOCOL_VERSION = 1;

/** Upper bound for any message from the webview, measured as JSON length. Real ones are < 1 KB. */
export const MAX_WEBVIEW_MESSAGE_CHARS = 16 * 1024;
export const MAX_REQUEST_ID = 2 ** 31 - 1;
export const MAX_SCALES = 64;

// Generation limits. The count and seed bounds are the core's (core/generate: MAX_COUNT, MAX_SEED;
// a host test checks they agree) but written out here: this module is bundled into the webview,
// which must not pull in the core. The other caps only keep numbers finite and sane.
export const MAX_GENERATE_COUNT = 64;
export const MAX_GENERATE_SEED = Number.MAX_SAFE_INTEGER;
export const MAX_CFG = 100;
export const MAX_TEMPERATURE = 100;
export const MAX_TOP_K = 1 << 20;
export const MAX_CLASSES = 4096;

// ---------------------------------------------------------------- webview -> host

/** 'sheet': every tile of the inspection in one PNG (core/sheet.ts) */
export type ExportFormat = 'tokens-json' | 'tokens-npy' | 'png' | 'sheet';
/** Which picture a PNG export writes. */
export type PngTarget = 'input' | 'progressive' | 'contribution' | 'ablation-semantic' | 'ablation-detail';

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

export type Request =
  | { type: 'reinspect' }
  | { type: 'export'; format: 'tokens-json' | 'tokens-npy' | 'sheet' }
  | { type: 'export'; format: 'png'; target: PngTarget; scale: number }
  | { type: 'folderUsage' }
  | { type: 'selectModel' }
  /** target: id of an earlier request, or 0 for whatever work is running */
  | { type: 'cancel'; target: number }
  /** Generate view: run the generator (progress arrives as generation* messages, then the response) */
  | { type: 'generate'; params: GenerateParams }
  /** Generate view: save sample `sample` of generation `run` through a save dialog */
  | { type: 'saveSample'; run: number; sample: number; format: SampleFormat }
  /** Generate view: open an inspector on sample `sample` of generation `run` (its tokens, not its PNG) */
  | { type: 'inspectSample'; run: number; sample: number }
  /** inspector: open the Generate view with this image's tokens of one branch teacher-forced */
  | { type: 'generateFrom'; force: 'detail' | 'semantic' }
  /** inspector: swap this image's branches with another image's (the host asks which) */
  | { type: 'swapWith' };

export type RequestType = Request['type'];

export type WebviewToHost =
  | { kind: 'ready'; protocol: number }
  | { kind: 'request'; id: number; request: Request }
  /** UI state worth logging (never acted on beyond logging); text is truncated by the host. */
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; message: string };

// ---------------------------------------------------------------- host -> webview

export interface FolderUsageView {
  folder: string;
  images: number;
  failed: number;
  branches: {
    branch: number;
    histogram: number[];
    used: number;
    utilisation: number;
    perplexity: number;
    dead: number;
    /** most used codes with (base names of) images using them most */
    top?: { code: number; count: number; images: string[] }[];
  }[];
}

export interface PanelInfo {
  /** file name shown in the header (never used by the webview as a path) */
  title: string;
  /** opaque identity used by the serializer to restore the panel after a reload ('' for none) */
  resource: string;
  /** generated: an inspector on a generated sample's tokens */
  mode: 'image' | 'folder' | 'generated' | 'generate';
}

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

export type HostToWebview =
  | { kind: 'init'; protocol: number; info: PanelInfo }
  | { kind: 'busy'; message: string }
  | { kind: 'inspection'; inspection: Inspection }
  | { kind: 'folderUsage'; usage: FolderUsageView }
  | { kind: 'generator'; view: GeneratorView }
  /** a generation started: `count` samples over `scales` scales */
  | { kind: 'generationStart'; run: number; count: number; scales: number; summary: GenerationSummary }
  /** scale `scale` (0-based) of every sample is sampled: decoded previews of scales 0..scale, base64 PNGs */
  | { kind: 'generationScale'; run: number; scale: number; scales: number; previews: string[]; elapsedMs: number }
  /** the final images (base64 PNGs), one per sample */
  | { kind: 'generationDone'; run: number; samples: string[]; summary: GenerationSummary; elapsedMs: number }
  | { kind: 'error'; message: string; code?: string }
  | { kind: 'response'; id: number; ok: true; result?: string }
  | { kind: 'response'; id: number; ok: false; error: string };

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

/** Webview-side persisted state (vscode.setState); validated by the host on restore. */
export interface WebviewState {
  resource: string;
  /** for 'generated' panels `resource` is an opaque id of tokens the host keeps (generatedStore.ts) */
  mode: 'image' | 'folder' | 'generated';
  scale: number;
  ablation: BranchSelection;
  highlight: { branch: number; code: number } | null;
}

// ---------------------------------------------------------------- validation

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

type Obj = Record<string, unknown>;

function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function hasExactKeys(o: Obj, required: readonly string[], optional: readonly string[] = []): string | null {
  const keys = Object.keys(o);
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(o, k)) return `missing "${k}"`;
  for (const k of keys) if (!required.includes(k) && !optional.includes(k)) return `unexpected key "${short(k)}"`;
  return null;
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function short(s: string, n = 40): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}

function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

const PNG_TARGETS: readonly PngTarget[] = ['input', 'progressive', 'contribution', 'ablation-semantic', 'ablation-detail'];
const LOG_LEVELS = ['info', 'warn', 'error'] as const;

/** Approximate JSON size without serialising hostile cyclic or huge structures in full. */
export function boundedJsonLength(v: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [v];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const x = stack.pop();
    if (total > limit) return total;
    if (typeof x === 'string') total += x.length + 2;
    else if (typeof x === 'number' || typeof x === 'boolean' || x === null || x === undefined) total += 5;
    else if (typeof x === 'object') {
      if (seen.has(x)) return Infinity;
      seen.add(x);
      if (Array.isArray(x)) {
        total += 2 + x.length;
        if (x.length > limit) return Infinity;
        for (const e of x) stack.push(e);
      } else {
        let keys: string[];
        try {
          keys = Object.keys(x);
        } catch {
          return Infinity;
        }
        if (keys.length > limit) return Infinity;
        for (const k of keys) {
          total += k.length + 4;
          let val: unknown;
          try {
            val = (x as Obj)[k];
          } catch {
            return Infinity;
          }
          stack.push(val);
        }
      }
    } else return Infinity; // functions, symbols, bigint: never valid
  }
  return total;
}

const FORCES: readonly ForceBranch[] = ['none', 'detail', 'semantic'];
const SAMPLE_FORMATS: readonly SampleFormat[] = ['png', 'tokens-json', 'tokens-npy'];

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Checks generation parameters with the core's rules (core/generate: sampling.ts checkSettings,
 * rng.ts checkSeed, generate.ts MAX_COUNT), each failure named. `classes` (when known, i.e. on the
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
  if (!isInt(topK, 0, MAX_TOP_K)) return fail(`generate: top-k must be an integer >= 0, 0 = off (got ${short(String(topK))})`);
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

export function parseRequest(raw: unknown): Parsed<Request> {
  if (!isPlainObject(raw)) return fail('request must be an object');
  const type = raw.type;
  switch (type) {
    case 'reinspect':
    case 'folderUsage':
    case 'selectModel': {
      const e = hasExactKeys(raw, ['type']);
      return e ? fail(`${type}: ${e}`) : { ok: true, value: { type } };
    }
    case 'cancel': {
      const e = hasExactKeys(raw, ['type', 'target']);
      if (e) return fail(`cancel: ${e}`);
      if (!isInt(raw.target, 0, MAX_REQUEST_ID)) return fail('cancel: target must be a request id or 0');
      return { ok: true, value: { type, target: raw.target } };
    }
    case 'export': {
      if (raw.format === 'tokens-json' || raw.format === 'tokens-npy' || raw.format === 'sheet') {
        const e = hasExactKeys(raw, ['type', 'format']);
        return e ? fail(`export: ${e}`) : { ok: true, value: { type, format: raw.format } };
      }
      if (raw.format === 'png') {
        const e = hasExactKeys(raw, ['type', 'format', 'target', 'scale']);
        if (e) return fail(`export: ${e}`);
        if (typeof raw.target !== 'string' || !PNG_TARGETS.includes(raw.target as PngTarget)) {
          return fail('export: unknown png target');
        }
        if (!isInt(raw.scale, 0, MAX_SCALES - 1)) return fail('export: scale out of range');
        return { ok: true, value: { type, format: 'png', target: raw.target as PngTarget, scale: raw.scale } };
      }
      return fail('export: unknown format');
    }
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
    case 'generateFrom': {
      const e = hasExactKeys(raw, ['type', 'force']);
      if (e) return fail(`generateFrom: ${e}`);
      if (raw.force !== 'detail' && raw.force !== 'semantic') return fail('generateFrom: force must be detail or semantic');
      return { ok: true, value: { type, force: raw.force } };
    }
    case 'swapWith': {
      const e = hasExactKeys(raw, ['type']);
      if (e) return fail(`swapWith: ${e}`);
      return { ok: true, value: { type } };
    }
    default:
      return fail(typeof type === 'string' ? `unknown request type "${short(type)}"` : 'request type missing');
  }
}

/** Validate a message received from the webview. Never throws. */
export function parseWebviewMessage(raw: unknown): Parsed<WebviewToHost> {
  try {
    if (!isPlainObject(raw)) return fail('message must be a plain object');
    if (boundedJsonLength(raw, MAX_WEBVIEW_MESSAGE_CHARS) > MAX_WEBVIEW_MESSAGE_CHARS) return fail('message too large');
    switch (raw.kind) {
      case 'ready': {
        const e = hasExactKeys(raw, ['kind', 'protocol']);
        if (e) return fail(`ready: ${e}`);
        if (raw.protocol !== PROTOCOL_VERSION) return fail(`ready: protocol ${String(raw.protocol)} unsupported`);
        return { ok: true, value: { kind: 'ready', protocol: PROTOCOL_VERSION } };
      }
      case 'request': {
        const e = hasExactKeys(raw, ['kind', 'id', 'request']);
        if (e) return fail(`request: ${e}`);
        if (!isInt(raw.id, 1, MAX_REQUEST_ID)) return fail('request: id must be a positive integer');
        const r = parseRequest(raw.request);
        if (!r.ok) return r;
        return { ok: true, value: { kind: 'request', id: raw.id, request: r.value } };
      }
      case 'log': {
        const e = hasExactKeys(raw, ['kind', 'level', 'message']);
        if (e) return fail(`log: ${e}`);
        if (!LOG_LEVELS.includes(raw.level as (typeof LOG_LEVELS)[number])) return fail('log: bad level');
        if (typeof raw.message !== 'string') return fail('log: message must be a string');
        return {
          ok: true,
          value: { kind: 'log', level: raw.level as 'info' | 'warn' | 'error', message: raw.message.slice(0, 2000) },
        };
      }
      default:
        return fail(typeof raw.kind === 'string' ? `unknown message kind "${short(raw.kind)}"` : 'message kind missing');
    }
  } catch {
    // getters or proxies that throw: reject, never propagate
    return fail('message could not be read');
  }
}

const ABLATIONS: readonly BranchSelection[] = ['both', 'detail', 'semantic'];

/** Validate persisted webview state handed back by VS Code on restore (it came from the webview). */
export function parseWebviewState(raw: unknown): Parsed<WebviewState> {
  try {
    if (!isPlainObject(raw)) return fail('state must be an object');
    if (boundedJsonLength(raw, MAX_WEBVIEW_MESSAGE_CHARS) > MAX_WEBVIEW_MESSAGE_CHARS) return fail('state too large');
    const e = hasExactKeys(raw, ['resource', 'mode', 'scale', 'ablation', 'highlight']);
    if (e) return fail(`state: ${e}`);
    if (typeof raw.resource !== 'string' || raw.resource.length === 0 || raw.resource.length > 4096) {
      return fail('state: bad resource');
    }
    if (raw.mode !== 'image' && raw.mode !== 'folder' && raw.mode !== 'generated') return fail('state: bad mode');
    if (!isInt(raw.scale, 0, MAX_SCALES - 1)) return fail('state: bad scale');
    if (!ABLATIONS.includes(raw.ablation as BranchSelection)) return fail('state: bad ablation');
    let highlight: WebviewState['highlight'] = null;
    if (raw.highlight !== null) {
      const h = raw.highlight;
      if (!isPlainObject(h) || hasExactKeys(h, ['branch', 'code']) !== null) return fail('state: bad highlight');
      if (!isInt(h.branch, 0, 15) || !isInt(h.code, 0, 1 << 20)) return fail('state: bad highlight');
      highlight = { branch: h.branch, code: h.code };
    }
    return {
      ok: true,
      value: {
        resource: raw.resource,
        mode: raw.mode,
        scale: raw.scale,
        ablation: raw.ablation as BranchSelection,
        highlight,
      },
    };
  } catch {
    return fail('state could not be read');
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

// ---------------------------------------------------------------- helpers for senders

export function requestMessage(id: number, request: Request): WebviewToHost {
  return { kind: 'request', id, request };
}

/** Host-side check of messages the webview receives (the webview trusts its host, but a cheap
 * shape check keeps a stale or foreign message from crashing the UI). */
export function isHostMessage(raw: unknown): raw is HostToWebview {
  if (!isPlainObject(raw) || typeof raw.kind !== 'string') return false;
  switch (raw.kind) {
    case 'init':
      return raw.protocol === PROTOCOL_VERSION && isPlainObject(raw.info);
    case 'busy':
      return typeof raw.message === 'string';
    case 'inspection':
      return isPlainObject(raw.inspection);
    case 'folderUsage':
      return isPlainObject(raw.usage);
    case 'generator':
      return isPlainObject(raw.view) && Array.isArray((raw.view as Obj).classes);
    case 'generationStart':
      return isInt(raw.run, 1, MAX_REQUEST_ID) && isInt(raw.count, 1, MAX_GENERATE_COUNT) && isInt(raw.scales, 1, MAX_SCALES) && isPlainObject(raw.summary);
    case 'generationScale':
      return isInt(raw.run, 1, MAX_REQUEST_ID) && isInt(raw.scale, 0, MAX_SCALES - 1) && Array.isArray(raw.previews) && raw.previews.every((p) => typeof p === 'string');
    case 'generationDone':
      return isInt(raw.run, 1, MAX_REQUEST_ID) && Array.isArray(raw.samples) && raw.samples.every((p) => typeof p === 'string') && isPlainObject(raw.summary);
    case 'error':
      return typeof raw.message === 'string';
    case 'response':
      return isInt(raw.id, 1, MAX_REQUEST_ID) && typeof raw.ok === 'boolean';
    default:
      return false;
  }
}
