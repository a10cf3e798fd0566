// Export of tokens and reconstructions. Pure encoders plus an atomic, no-clobber file write.
// Files are only ever written here, and only to a path the user picked in a save dialog.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError, contactSheet, exportNpy, tokenFileJson, type TokenFileJson } from '../core';
import type { Inspection, PngImage } from '../../shared/types';
import type { SampleFormat } from '../../shared/protocol/generate';
import type { ExportFormat, PngTarget } from '../../shared/protocol/inspector';
import type { GeneratedSet } from './backend';

/** An inspection's token file: the tokens, the image they came from and its PSNR/SSIM per scale. */
export type TokensJson = TokenFileJson & { image: string; psnrByScale: number[]; ssimByScale: number[] };

export function tokensJson(ins: Inspection): TokensJson {
  return tokenFileJson(ins.model, ins.indices, { image: path.basename(ins.image) }, { psnrByScale: [...ins.psnrByScale], ssimByScale: [...ins.ssimByScale] });
}

/** .npy of [P][L] tokens; rows of another length are a bug upstream, not a user error. */
function tokensNpyBytes(tokens: number[][], tokensPerBranch: number): Uint8Array {
  if (tokens.some((row) => row.length !== tokensPerBranch)) throw new Error('token rows do not match tokensPerBranch');
  return exportNpy(tokens);
}

export function tokensNpy(ins: Inspection): Uint8Array {
  return tokensNpyBytes(ins.indices, ins.model.tokensPerBranch);
}

export function pickPng(ins: Inspection, target: PngTarget, scale: number): PngImage {
  const n = ins.progressive.length;
  const k = Math.max(0, Math.min(n - 1, scale));
  switch (target) {
    case 'input':
      return ins.input;
    case 'progressive':
      return ins.progressive[k];
    case 'contribution':
      return ins.contribution[k];
    case 'ablation-semantic':
    case 'ablation-detail':
      if (!ins.ablation) throw new UserError('BAD_ARGUMENT', `"${ins.model.name}" has one branch: there are no branch ablations to export`);
      return target === 'ablation-semantic' ? ins.ablation.semantic : ins.ablation.detail;
  }
}

export interface ExportPlan {
  bytes: Uint8Array;
  defaultName: string;
  filterName: string;
  extensions: string[];
}

export async function planExport(ins: Inspection, format: ExportFormat, target: PngTarget = 'progressive', scale = 0): Promise<ExportPlan> {
  const stem = path.basename(ins.image).replace(/\.[^.]*$/, '') || 'image';
  switch (format) {
    case 'tokens-json':
      return {
        bytes: new TextEncoder().encode(JSON.stringify(tokensJson(ins), null, 1) + '\n'),
        defaultName: `${stem}.tokens.json`,
        filterName: 'JSON',
        extensions: ['json'],
      };
    case 'tokens-npy':
      return { bytes: tokensNpy(ins), defaultName: `${stem}.tokens.npy`, filterName: 'NumPy array', extensions: ['npy'] };
    case 'png': {
      const img = pickPng(ins, target, scale);
      const suffix = target === 'progressive' || target === 'contribution' ? `${target}-${scale + 1}` : target;
      return {
        bytes: Buffer.from(img.pngBase64, 'base64'),
        defaultName: `${stem}.${suffix}.png`,
        filterName: 'PNG image',
        extensions: ['png'],
      };
    }
    case 'sheet':
      return { bytes: await contactSheet(ins), defaultName: `${stem}.sheet.png`, filterName: 'PNG image', extensions: ['png'] };
  }
}

export class FileExistsError extends Error {
  readonly code = 'EEXIST';
}

/**
 * Write `bytes` to `dest` atomically: a temporary file in the same folder, flushed, then moved into
 * place. Without `overwrite`, an existing `dest` is never replaced (hard link fails with EEXIST);
 * with it, rename replaces it in one step. The temporary file is removed on any failure.
 */
export async function writeFileAtomic(dest: string, bytes: Uint8Array, overwrite: boolean): Promise<void> {
  const dir = path.dirname(dest);
  const tmp = path.join(dir, `.${path.basename(dest)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, 'wx', 0o644);
  try {
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (overwrite) {
      await fs.rename(tmp, dest);
    } else {
      try {
        await fs.link(tmp, dest);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(`${dest} already exists`);
        if ((e as NodeJS.ErrnoException).code !== 'EPERM' && (e as NodeJS.ErrnoException).code !== 'ENOTSUP') throw e;
        // file systems without hard links: check, then rename (small race, documented)
        if (await exists(dest)) throw new FileExistsError(`${dest} already exists`);
        await fs.rename(tmp, dest);
        return;
      }
      await fs.unlink(tmp);
    }
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- generated samples

/** A generated sample's token file: the tokens and how they were generated (no source image). */
export type GeneratedTokensJson = TokenFileJson & {
  generated: {
    className: string;
    classId: number;
    cfg: number;
    topK: number;
    topP: number;
    temperature: number;
    seed: number;
    /** sample index within its run: with the seed, enough to reproduce it (docs/core-api.md) */
    sample: number;
    forced: 'detail' | 'semantic' | null;
    reference: string | null;
  };
};

/** The same layout as an inspection's tokens JSON (indices, byScale), with the generation settings. */
export function generatedTokensJson(set: GeneratedSet, sample: number, reference: string | null): GeneratedTokensJson {
  const s = set.samples[sample];
  if (!s) throw new Error(`no sample ${sample} in this generation`);
  const g = set.settings;
  const generated = {
    className: g.className,
    classId: g.classId,
    cfg: g.cfg,
    topK: g.topK,
    topP: g.topP,
    temperature: g.temperature,
    seed: g.seed,
    sample: s.index,
    forced: g.forced ?? null,
    reference: g.forced ? reference : null,
  };
  return tokenFileJson(set.model, s.tokens, { generated }, {});
}

/** File-name stem of a generated sample: class, seed and sample number. */
export function sampleStem(set: GeneratedSet, sample: number): string {
  const s = set.samples[sample];
  if (!s) throw new Error(`no sample ${sample} in this generation`);
  const cls = set.settings.className.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40) || 'class';
  return `${cls}-seed${set.settings.seed}-${s.index}`;
}

/** File contents and save-dialog defaults for one generated sample. */
export function planSampleExport(set: GeneratedSet, sample: number, format: SampleFormat, reference: string | null = null): ExportPlan {
  const stem = sampleStem(set, sample);
  const s = set.samples[sample];
  switch (format) {
    case 'png':
      return { bytes: Buffer.from(s.png.pngBase64, 'base64'), defaultName: `${stem}.png`, filterName: 'PNG image', extensions: ['png'] };
    case 'tokens-json':
      return {
        bytes: new TextEncoder().encode(JSON.stringify(generatedTokensJson(set, sample, reference), null, 1) + '\n'),
        defaultName: `${stem}.tokens.json`,
        filterName: 'JSON',
        extensions: ['json'],
      };
    case 'tokens-npy':
      return { bytes: tokensNpyBytes(s.tokens, set.model.tokensPerBranch), defaultName: `${stem}.tokens.npy`, filterName: 'NumPy array', extensions: ['npy'] };
  }
}
