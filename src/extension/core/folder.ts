// Folder statistics: tokenise every image under a folder (encoder only), aggregate code usage,
// and find dead codes and the most used codes with the images that use them. Unreadable images
// are listed, not fatal: a dataset folder nearly always has a few odd files.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { FolderProgress, FolderStats, TopCode } from './types';
import { UserError, isUserError, throwIfAborted } from './errors';
import { loadImage, toTensor, type PreparedImage } from './image';
import { isImagePath } from './imageFiles';
import { resolveImageOptions, type InspectOptions } from './inspect';
import { branchUsage } from './metrics';
import type { ModelRuntime } from './runtime';

export interface FolderOptions extends Omit<InspectOptions, 'onProgress'> {
  onProgress?: (p: FolderProgress) => void;
  /** descend into subfolders (class folders of an ImageFolder dataset); default true */
  recursive?: boolean;
  batchSize?: number;
  topCodes?: number;
}

export async function listImages(folder: string, recursive = true): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (recursive) await walk(p);
      } else if (e.isFile() && isImagePath(e.name)) out.push(p);
    }
  };
  try {
    if (!(await fsp.stat(folder)).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new UserError('FOLDER_NOT_FOUND', `${folder}: not a folder`);
  }
  await walk(folder);
  return out;
}

export async function folderStats(runtime: ModelRuntime, folder: string, options: FolderOptions = {}): Promise<FolderStats> {
  const t0 = performance.now();
  const root = path.resolve(folder);
  // listed under the folder as given, so that messages name each file by a path the user recognises
  const files = await listImages(folder, options.recursive ?? true);
  if (files.length === 0) throw new UserError('FOLDER_EMPTY', `${folder}: no images found`);
  const imgOpts = resolveImageOptions(runtime, options);
  const { mean, std } = runtime.pkg.manifest.image;
  const S = runtime.imageSize;
  const model = runtime.info();
  const batchSize = options.batchSize ?? 8;
  const failed: FolderStats['failed'] = [];
  const names: string[] = [];
  // Typed rows: a 10k-image folder keeps ~6 M indices in memory.
  const perBranch: Int32Array[][] = model.branches.map(() => []);
  let done = 0;
  // The next batch's files are read and resized (sharp's threads) while the previous batch runs
  // through the encoder (a worker thread): at most one batch encoding at a time, results in order.
  let encoding: Promise<void> = Promise.resolve();
  for (let start = 0; start < files.length; start += batchSize) {
    const batch: { name: string; img: PreparedImage }[] = [];
    for (const file of files.slice(start, start + batchSize)) {
      throwIfAborted(options.signal);
      const name = path.relative(root, file);
      try {
        batch.push({ name, img: await loadImage(file, imgOpts) });
      } catch (e) {
        if (!isUserError(e)) throw e;
        failed.push({ image: name, code: e.code, reason: e.message });
        options.onProgress?.({ done: ++done, total: files.length, image: name });
      }
    }
    await encoding;
    if (batch.length === 0) continue;
    const tensor = new Float32Array(batch.length * 3 * S * S);
    batch.forEach((b, i) => toTensor(b.img.rgb, S, mean, std, tensor, i * 3 * S * S));
    throwIfAborted(options.signal);
    encoding = runtime.encode(tensor, batch.length, options.signal).then((indices) =>
      batch.forEach((b, i) => {
        names.push(b.name);
        indices[i].forEach((row, p) => perBranch[p].push(Int32Array.from(row)));
        options.onProgress?.({ done: ++done, total: files.length, image: b.name });
      }),
    );
    encoding.catch(() => undefined); // awaited (and thrown) after the next batch is read
  }
  await encoding;
  const usage = perBranch.map((rows, p) => branchUsage(p, rows, runtime.scales, model.branches[p].codebookSize));
  return {
    folder: root,
    model,
    provider: runtime.providerReport(),
    images: names.length,
    failed,
    usage,
    deadCodes: usage.map((u) => u.histogram.flatMap((c, code) => (c === 0 ? [code] : []))),
    topCodes: perBranch.map((rows, p) => topCodes(usage[p].histogram, rows, names, options.topCodes ?? 20)),
    timingsMs: { total: Math.round(performance.now() - t0) },
  };
}

function topCodes(histogram: number[], rows: Int32Array[], names: string[], n: number): TopCode[] {
  const codes = histogram
    .map((count, code) => ({ code, count }))
    .filter((c) => c.count > 0)
    .sort((a, b) => b.count - a.count || a.code - b.code)
    .slice(0, n);
  return codes.map(({ code, count }) => {
    const perImage = rows
      .map((row, i) => {
        let uses = 0;
        for (let t = 0; t < row.length; t++) if (row[t] === code) uses++;
        return { name: names[i], uses };
      })
      .filter((x) => x.uses > 0)
      .sort((a, b) => b.uses - a.uses || (a.name < b.name ? -1 : 1));
    return { code, count, images: perImage.slice(0, 5).map((x) => x.name) };
  });
}
