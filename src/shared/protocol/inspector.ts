// The inspector's part of the protocol (an image, a folder or a generated sample's tokens): its
// requests, the folder statistics it shows, and the state VS Code keeps for it across reloads.

import type { BranchSelection, Inspection, InspectionHead, TileUpdate } from '../types';
import { fail, hasExactKeys, isInt, isPlainObject, boundedJsonLength, MAX_SCALES, MAX_WEBVIEW_MESSAGE_CHARS, type Obj, type Parsed } from './common';

/** 'sheet': every tile of the inspection in one PNG (core/sheet.ts) */
export type ExportFormat = 'tokens-json' | 'tokens-npy' | 'png' | 'sheet';
/** Which picture a PNG export writes. */
export type PngTarget = 'input' | 'progressive' | 'contribution' | 'ablation-semantic' | 'ablation-detail';

export type InspectorRequest =
  | { type: 'reinspect' }
  | { type: 'export'; format: 'tokens-json' | 'tokens-npy' | 'sheet' }
  | { type: 'export'; format: 'png'; target: PngTarget; scale: number }
  | { type: 'folderUsage' }
  /** open the Generate view with this image's tokens of one branch teacher-forced */
  | { type: 'generateFrom'; force: 'detail' | 'semantic' }
  /** swap this image's branches with another image's (the host asks which) */
  | { type: 'swapWith' };

/** A folder page names at most this many unreadable images (and says how many more). */
export const MAX_FAILED_LISTED = 100;

export interface FolderUsageView {
  folder: string;
  images: number;
  /** how many images could not be read */
  failedTotal: number;
  /** the first of them (at most MAX_FAILED_LISTED): path under the folder, and why */
  failed: { image: string; reason: string }[];
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

export type InspectorHostMessage =
  | { kind: 'busy'; message: string }
  /** the finished inspection (also after a streamed one: the webview then has every tile) */
  | { kind: 'inspection'; inspection: Inspection }
  /** an inspection being decoded: its tokens, maps and usage; `total` tiles follow as 'tile' messages */
  | { kind: 'inspectionStart'; head: InspectionHead; total: number }
  /** one decoded tile of the inspection started last (the first one is the full reconstruction) */
  | { kind: 'tile'; tile: TileUpdate; done: number; total: number }
  | { kind: 'folderUsage'; usage: FolderUsageView };

/** Webview-side persisted state (vscode.setState); validated by the host on restore. */
export interface WebviewState {
  resource: string;
  /** for 'generated' panels `resource` is an opaque id of tokens the host keeps (inspector/generatedStore.ts) */
  mode: 'image' | 'folder' | 'generated';
  scale: number;
  ablation: BranchSelection;
  highlight: { branch: number; code: number } | null;
}

const PNG_TARGETS: readonly PngTarget[] = ['input', 'progressive', 'contribution', 'ablation-semantic', 'ablation-detail'];

/** An inspector request, or undefined when `raw.type` is not one. */
export function parseInspectorRequest(raw: Obj): Parsed<InspectorRequest> | undefined {
  const type = raw.type;
  switch (type) {
    case 'reinspect':
    case 'folderUsage':
    case 'swapWith': {
      const e = hasExactKeys(raw, ['type']);
      return e ? fail(`${type}: ${e}`) : { ok: true, value: { type } };
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
    case 'generateFrom': {
      const e = hasExactKeys(raw, ['type', 'force']);
      if (e) return fail(`generateFrom: ${e}`);
      if (raw.force !== 'detail' && raw.force !== 'semantic') return fail('generateFrom: force must be detail or semantic');
      return { ok: true, value: { type, force: raw.force } };
    }
    default:
      return undefined;
  }
}

/** Host-side shape check of an inspector message the webview receives, or undefined for other kinds. */
export function isInspectorHostMessage(raw: Obj): boolean | undefined {
  switch (raw.kind) {
    case 'busy':
      return typeof raw.message === 'string';
    case 'inspection':
      return isPlainObject(raw.inspection);
    case 'inspectionStart':
      return isPlainObject(raw.head) && isInt(raw.total, 1, 4 * MAX_SCALES);
    case 'tile':
      return isPlainObject(raw.tile) && isInt(raw.done, 1, 4 * MAX_SCALES) && isInt(raw.total, 1, 4 * MAX_SCALES);
    case 'folderUsage':
      return isPlainObject(raw.usage);
    default:
      return undefined;
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
