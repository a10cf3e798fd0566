// The one typed protocol between the extension host and its webviews (the inspector and the
// Generate view): the message envelopes both ways and their validation. Each view's own requests,
// data and persisted state are in inspector.ts and generate.ts; common.ts has the version and the
// checks. Shared by src/extension/host (validates every incoming message with
// `parseWebviewMessage`) and src/webview (sends requests with ids, receives replies). No `vscode`
// and no DOM import here.
//
// Security model: the webview never names a file. Every request refers to "the image this panel
// shows"; the host alone decides which paths are read or written. Anything that does not match the
// schema exactly (unknown kind, extra keys, wrong types, out-of-range numbers, oversized payloads)
// is rejected before the host acts on it.

import {
  PROTOCOL_VERSION,
  MAX_REQUEST_ID,
  MAX_WEBVIEW_MESSAGE_CHARS,
  boundedJsonLength,
  fail,
  hasExactKeys,
  isInt,
  isPlainObject,
  short,
  type Parsed,
} from './common';
import { isGenerateHostMessage, parseGenerateRequest, type GenerateHostMessage, type GenerateRequest } from './generate';
import { isInspectorHostMessage, parseInspectorRequest, type InspectorHostMessage, type InspectorRequest } from './inspector';

// ---------------------------------------------------------------- webview -> host

/** Requests both views send. */
export type CommonRequest =
  | { type: 'selectModel' }
  /** target: id of an earlier request, or 0 for whatever work is running */
  | { type: 'cancel'; target: number };

export type Request = CommonRequest | InspectorRequest | GenerateRequest;

export type WebviewToHost =
  | { kind: 'ready'; protocol: number }
  | { kind: 'request'; id: number; request: Request }
  /** UI state worth logging (never acted on beyond logging); text is truncated by the host. */
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; message: string };

// ---------------------------------------------------------------- host -> webview

export interface PanelInfo {
  /** file name shown in the header (never used by the webview as a path) */
  title: string;
  /** opaque identity used by the serializer to restore the panel after a reload ('' for none) */
  resource: string;
  /** generated: an inspector on a generated sample's tokens */
  mode: 'image' | 'folder' | 'generated' | 'generate';
}

export type HostToWebview =
  | { kind: 'init'; protocol: number; info: PanelInfo }
  | InspectorHostMessage
  | GenerateHostMessage
  | { kind: 'error'; message: string; code?: string }
  | { kind: 'response'; id: number; ok: true; result?: string }
  | { kind: 'response'; id: number; ok: false; error: string };

// ---------------------------------------------------------------- validation

const LOG_LEVELS = ['info', 'warn', 'error'] as const;

export function parseRequest(raw: unknown): Parsed<Request> {
  if (!isPlainObject(raw)) return fail('request must be an object');
  const type = raw.type;
  switch (type) {
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
  }
  const viewRequest = parseInspectorRequest(raw) ?? parseGenerateRequest(raw);
  if (viewRequest) return viewRequest;
  return fail(typeof type === 'string' ? `unknown request type "${short(type)}"` : 'request type missing');
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

/** Host-side check of messages the webview receives (the webview trusts its host, but a cheap
 * shape check keeps a stale or foreign message from crashing the UI). */
export function isHostMessage(raw: unknown): raw is HostToWebview {
  if (!isPlainObject(raw) || typeof raw.kind !== 'string') return false;
  switch (raw.kind) {
    case 'init':
      return raw.protocol === PROTOCOL_VERSION && isPlainObject(raw.info);
    case 'error':
      return typeof raw.message === 'string';
    case 'response':
      return isInt(raw.id, 1, MAX_REQUEST_ID) && typeof raw.ok === 'boolean';
    default:
      return isInspectorHostMessage(raw) ?? isGenerateHostMessage(raw) ?? false;
  }
}
