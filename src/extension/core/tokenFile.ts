// Reads back the token files the extension writes (Export / Save as "Tokens (.json)", format
// "imagefolder-tokens", docs/inspector.md): `reconstruct` decodes them like an image's tokens.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UserError } from './errors';

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
  if (f.format !== 'imagefolder-tokens') throw bad(`not a token file: "format" is ${JSON.stringify(f.format)}, expected "imagefolder-tokens"`);
  if (f.formatVersion !== undefined && f.formatVersion !== 1) throw bad(`token file formatVersion ${JSON.stringify(f.formatVersion)} is not supported (1 is)`);
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
