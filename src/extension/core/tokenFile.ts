// The token file, format "imagefolder-tokens" (docs/inspector.md), both ways: the JSON the
// extension's Export / Save as "Tokens (.json)" writes, and the reader `reconstruct` and `sheet`
// use to decode saved tokens like an image's.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { BranchInfo } from '../../shared/types';
import { scaleOffsets } from '../../shared/tokenLayout';
import { UserError } from './errors';

export const TOKEN_FILE_FORMAT = 'imagefolder-tokens';
export const TOKEN_FILE_VERSION = 1;

/** What every token file holds; the inspector's adds the image and its metrics, a sample's how it was generated. */
export interface TokenFileJson {
  format: typeof TOKEN_FILE_FORMAT;
  formatVersion: typeof TOKEN_FILE_VERSION;
  model: { name: string; imageSize: number; scales: number[]; tokensPerBranch: number };
  branches: { index: number; name: string; role: string; codebookSize: number }[];
  /** indices[branch] has tokensPerBranch entries, scales coarse to fine, row-major */
  indices: number[][];
  /** the same tokens split per scale: byScale[branch][scale] is a side x side grid, row-major */
  byScale: number[][][];
}

export interface TokenFileModel {
  name: string;
  imageSize: number;
  scales: number[];
  tokensPerBranch: number;
  branches: BranchInfo[];
}

/**
 * A token file's JSON for `indices` of `model`: `head` comes right after the format fields (what
 * the tokens are of), `tail` after the tokens (their metrics), in that key order.
 */
export function tokenFileJson<H extends object, T extends object>(model: TokenFileModel, indices: number[][], head: H, tail: T): H & TokenFileJson & T {
  const offsets = scaleOffsets(model.scales);
  return {
    format: TOKEN_FILE_FORMAT,
    formatVersion: TOKEN_FILE_VERSION,
    ...head,
    model: { name: model.name, imageSize: model.imageSize, scales: [...model.scales], tokensPerBranch: model.tokensPerBranch },
    branches: model.branches.map((b, i) => ({ index: i, name: b.name, role: b.role, codebookSize: b.codebookSize })),
    indices: indices.map((row) => [...row]),
    byScale: indices.map((row) => model.scales.map((side, k) => row.slice(offsets[k], offsets[k] + side * side))),
    ...tail,
  };
}

/** Generous for 2 x 286 indices plus the per-scale copy and metrics (real files are ~10 KB). */
export const MAX_TOKEN_FILE_BYTES = 8 * 1024 * 1024;

export interface TokenFile {
  /** the model that produced the tokens: its codebooks give them their meaning */
  model: string;
  /** [branch][token] */
  indices: number[][];
}

export function isTokenFilePath(p: string): boolean {
  return path.extname(p).toLowerCase() === '.json';
}

/** Parses a token file's text; `name` names it in errors. Shapes are checked against a model later. */
export function parseTokenFile(text: string, name: string): TokenFile {
  const bad = (why: string) => new UserError('BAD_ARGUMENT', `${name}: ${why}`);
  let o: unknown;
  // A UTF-8 byte order mark (some Windows editors add one) is not part of the JSON.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (/[\u0000-\u0008\u000e-\u001f]/.test(body.slice(0, 512))) throw bad('not JSON: the file holds binary data (a token file is JSON text)');
  try {
    o = JSON.parse(body);
  } catch (e) {
    // V8 quotes the text around the error: kept to one line, so a message stays one line.
    throw bad(`not JSON (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('not a token file (a JSON object with "format": "imagefolder-tokens")');
  const f = o as Record<string, unknown>;
  if (f.format !== TOKEN_FILE_FORMAT) throw bad(`not a token file: "format" is ${JSON.stringify(f.format)}, expected "${TOKEN_FILE_FORMAT}"`);
  if (f.formatVersion !== undefined && f.formatVersion !== TOKEN_FILE_VERSION) throw bad(`token file formatVersion ${JSON.stringify(f.formatVersion)} is not supported (${TOKEN_FILE_VERSION} is)`);
  const model = (f.model as { name?: unknown } | undefined)?.name;
  if (typeof model !== 'string' || model.length === 0) throw bad('"model.name" is missing');
  const rows = f.indices;
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every((r) => Array.isArray(r))) throw bad('"indices" must be one array of codes per branch');
  rows.forEach((r: unknown[], b) => {
    const i = r.findIndex((c) => typeof c !== 'number' || !Number.isInteger(c) || c < 0);
    if (i < 0) return;
    const c = r[i];
    // 1e400 parses to Infinity, which JSON.stringify would show as "null"
    if (typeof c === 'number' && !Number.isFinite(c)) throw bad(`"indices"[${b}][${i}] is not a finite integer (${c > 0 ? 'too large' : c < 0 ? 'too small' : 'not a number'} for a code)`);
    throw bad(`"indices"[${b}][${i}] is ${JSON.stringify(c)}, not a code (an integer >= 0)`);
  });
  return { model, indices: rows as number[][] };
}

export async function readTokenFile(file: string): Promise<TokenFile> {
  let st;
  try {
    st = await fsp.stat(file);
  } catch (e) {
    throw new UserError('BAD_ARGUMENT', `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!st.isFile()) throw new UserError('BAD_ARGUMENT', `${file}: not a file`);
  if (st.size > MAX_TOKEN_FILE_BYTES) throw new UserError('BAD_ARGUMENT', `${file}: ${st.size} bytes is too large for a token file (at most ${MAX_TOKEN_FILE_BYTES})`);
  return parseTokenFile(await fsp.readFile(file, 'utf8'), file);
}
