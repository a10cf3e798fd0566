// The CLI's one way of writing a user-named output file: `--out` must say .png, and a failed write is
// the user's problem to fix (exit 2, one line), not an internal error.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core';

/** The --out path, checked before any work is done. */
export function pngOut(out: string | undefined): string {
  if (!out || path.extname(out).toLowerCase() !== '.png') throw new UserError('BAD_ARGUMENT', `--out must name a .png file (got '${out ?? ''}')`);
  return out;
}

export async function writeOut(out: string, bytes: Uint8Array): Promise<void> {
  try {
    await fsp.writeFile(out, bytes);
  } catch (e) {
    throw new UserError('BAD_ARGUMENT', `--out ${out}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
