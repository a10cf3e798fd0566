// The one typed protocol between the extension host and the inspector webview.
// Shared by src/extension/host (validates every incoming message with `parseWebviewMessage`) and
// src/webview (sends requests with ids, receives replies). No `vscode` and no DOM import here.
//
// Security model: the webview never names a file. Every request refers to "the image this panel
// shows"; the host alone decides which paths are read or written. Anything that does not match the
// schema below exactly (unknown kind, extra keys, wrong types, out-of-range numbers, oversized
// payloads) is rejected before the host acts on it.

import type { BranchSelection, Inspection } from '../extension/core/types';

export const PROTOCOL_VERSION = 1;

/** Upper bound for any message from the webview, measured as JSON length. Real ones are < 1 KB. */
export const MAX_WEBVIEW_MESSAGE_CHARS = 16 * 1024;
export const MAX_REQUEST_ID = 2 ** 31 - 1;
export const MAX_SCALES = 64;

// ---------------------------------------------------------------- webview -> host

export type ExportFormat = 'tokens-json' | 'tokens-npy' | 'png';
/** Which picture a PNG export writes. */
export type PngTarget = 'input' | 'progressive' | 'contribution' | 'ablation-semantic' | 'ablation-detail';

export type Request =
  | { type: 'reinspect' }
  | { type: 'export'; format: 'tokens-json' | 'tokens-npy' }
  | { type: 'export'; format: 'png'; target: PngTarget; scale: number }
  | { type: 'folderUsage' }
  | { type: 'selectModel' }
  /** target: id of an earlier request, or 0 for whatever work is running */
  | { type: 'cancel'; target: number };

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
  /** opaque identity used by the serializer to restore the panel after a reload */
  resource: string;
  mode: 'image' | 'folder';
}

export type HostToWebview =
  | { kind: 'init'; protocol: number; info: PanelInfo }
  | { kind: 'busy'; message: string }
  | { kind: 'inspection'; inspection: Inspection }
  | { kind: 'folderUsage'; usage: FolderUsageView }
  | { kind: 'error'; message: string; code?: string }
  | { kind: 'response'; id: number; ok: true; result?: string }
  | { kind: 'response'; id: number; ok: false; error: string };

/** Webview-side persisted state (vscode.setState); validated by the host on restore. */
export interface WebviewState {
  resource: string;
  mode: 'image' | 'folder';
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
      if (raw.format === 'tokens-json' || raw.format === 'tokens-npy') {
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
    if (raw.mode !== 'image' && raw.mode !== 'folder') return fail('state: bad mode');
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
    case 'error':
      return typeof raw.message === 'string';
    case 'response':
      return isInt(raw.id, 1, MAX_REQUEST_ID) && typeof raw.ok === 'boolean';
    default:
      return false;
  }
}
