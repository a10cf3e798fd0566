// The commands (generate's is in generate.ts). Output goes through `Io` so tests can run the CLI in-process.

import * as path from 'node:path';
import { refuseImageOptions, type CliArgs } from './args';
import { errorLine } from './errorLine';
import type { Io } from './io';
import {
  UserError,
  isUserError,
  checkIndices,
  contactSheet,
  encodeImages,
  encodePng,
  folderStats,
  fromTensor,
  gridSheet,
  inspect,
  inspectIndices,
  isTokenFilePath,
  mixBranches,
  pngImage,
  readTokenFile,
  scaleMask,
  swapSheetCaptions,
  type FolderStats,
  type InspectProgress,
  type Inspection,
  type ModelRuntime,
  type ProviderReport,
} from '../core';
import { pngOut, writeOut } from './output';
import { progressBar } from './progress';

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

function providerLine(r: ProviderReport): string {
  const chosen = Object.entries(r.chosen).map(([g, p]) => `${g}=${p}`).join(', ') || 'not yet chosen';
  const skipped = r.skipped.map((s) => `${s.provider} (${s.reason})`).join('; ');
  return `${chosen}${skipped ? `; skipped ${skipped}` : ''}`;
}

/**
 * Progress of one image's inspection on stderr, for a large decoder only (runtime.largeDecoder:
 * each tile is a second or more there; the built-in model's whole inspection takes a fraction of one).
 */
function tileProgress(rt: ModelRuntime, io: Io, image: string) {
  if (!rt.largeDecoder) return { onProgress: undefined, done: () => undefined };
  const bar = progressBar(io, 'tiles');
  return {
    onProgress: (e: InspectProgress) => bar.update(e.done, e.total, e.kind === 'head' ? `${image}: full reconstruction` : image),
    done: () => bar.done(),
  };
}

/** One line for an image's branch ablation metrics, or none for a one-branch model. */
function ablationLine(r: Inspection): string | undefined {
  const m = r.ablationMetrics;
  return m && `  semantic only: ${m.semantic.psnr.toFixed(2)} dB, detail only: ${m.detail.psnr.toFixed(2)} dB`;
}

export async function tokenize(rt: ModelRuntime, a: CliArgs, io: Io): Promise<number> {
  let status = 0;
  for (const image of a.positionals) {
    let r: Inspection;
    const progress = tileProgress(rt, io, image);
    try {
      // its output has no contribution images: their N-1 decoder runs are skipped
      r = await inspect(rt, image, { resize: a.resize, background: a.background, pixelLimit: a.pixelLimit, onProgress: progress.onProgress, contributions: false });
    } catch (e) {
      if (!isUserError(e)) throw e;
      io.err(errorLine(e.message));
      status = 2;
      continue;
    } finally {
      progress.done();
    }
    if (a.json) {
      io.out(
        JSON.stringify({
          image: r.image,
          model: r.model.name,
          modelDir: r.model.dir,
          provider: r.provider.chosen.encoder === r.provider.chosen.decoder ? r.provider.chosen.encoder : r.provider.chosen,
          providers: r.provider,
          imageSize: r.model.imageSize,
          scales: r.model.scales,
          branches: r.model.branches.map((b) => ({ name: b.name, role: b.role, codebookSize: b.codebookSize })),
          indices: r.indices,
          psnrByScale: r.psnrByScale.map((x) => round(x)),
          ssimByScale: r.ssimByScale.map((x) => round(x, 4)),
          ablation: r.ablationMetrics ?? null,
          usage: r.usage,
          notes: r.notes,
          timingsMs: r.timingsMs,
        }),
      );
    } else {
      io.out(`${r.image}`);
      if (r.notes.length) io.out(`  notes: ${r.notes.join('; ')}`);
      r.model.branches.forEach((b, p) => {
        const u = r.usage[p];
        io.out(`  ${b.role.padEnd(8)} ${r.indices[p].length} tokens, ${u.used} distinct codes, perplexity ${round(u.perplexity, 1)}`);
        io.out(`    first scales: ${r.indices[p].slice(0, 6).join(' ')} ...`);
      });
      io.out(`  PSNR by scale (dB): ${r.psnrByScale.map((x) => x.toFixed(2)).join(' ')}`);
      io.out(`  SSIM by scale:      ${r.ssimByScale.map((x) => x.toFixed(3)).join(' ')}`);
      const abl = ablationLine(r);
      if (abl) io.out(abl);
      io.out(`  provider: ${providerLine(r.provider)}; ${r.timingsMs.total} ms`);
    }
  }
  return status;
}

export async function reconstruct(rt: ModelRuntime, a: CliArgs, io: Io): Promise<number> {
  const N = rt.scales.length;
  const K = a.scales!;
  if (K < 1 || K > N) throw new UserError('BAD_ARGUMENT', `--scales must be an integer from 1 to ${N}, this model's number of scales (got ${K})`);
  const out = pngOut(a.out);
  const S = rt.imageSize;
  const { mean, std } = rt.pkg.manifest.image;
  const input = a.positionals[0];
  let indices: number[][];
  if (isTokenFilePath(input)) {
    indices = await savedTokens(rt, a, input);
  } else {
    [indices] = (await encodeImages(rt, [input], a)).indices;
  }
  if (a.branch !== 'both' && !rt.pkg.roles) {
    throw new UserError('BAD_ARGUMENT', `--branch ${a.branch}: the model "${rt.info().name}" has one branch, no detail and semantic ones (leave --branch out)`);
  }
  const keepBranch = (p: number) => a.branch === 'both' || rt.pkg.manifest.branches[p].role === a.branch;
  const mask = scaleMask(rt.branchCount, N, (p, k) => keepBranch(p) && k < K);
  const decoded = await rt.decode([indices], [mask]);
  await writeOut(out, encodePng(fromTensor(decoded, S, mean, std), S, S));
  io.err(`wrote ${out} (${S}x${S}, first ${K} of ${N} scales, ${a.branch === 'both' ? 'both branches' : `${a.branch} branch only`})`);
  return 0;
}

/** Tokens the extension saved: decoded as they are (no encoder run), by the model they came from. */
async function savedTokens(rt: ModelRuntime, a: CliArgs, file: string): Promise<number[][]> {
  refuseImageOptions(a, `${file} is a token file, not an image`);
  const t = await readTokenFile(file);
  const model = rt.info();
  if (t.model !== model.name) throw new UserError('BAD_ARGUMENT', `${file}: holds tokens of the model "${t.model}", not of "${model.name}" (choose it with --model DIR)`);
  checkIndices(model, t.indices, file); // here, so the message names the file
  return t.indices;
}

/** Contact sheet of an image's (or saved tokens') inspection, as the extension's Export writes it. */
export async function sheet(rt: ModelRuntime, a: CliArgs, io: Io): Promise<number> {
  const out = pngOut(a.out);
  const input = a.positionals[0];
  const progress = tileProgress(rt, io, input);
  let ins: Inspection;
  try {
    ins = isTokenFilePath(input)
      ? await inspectIndices(rt, await savedTokens(rt, a, input), { name: input, onProgress: progress.onProgress })
      : await inspect(rt, input, { ...a, onProgress: progress.onProgress });
  } finally {
    progress.done();
  }
  await writeOut(out, await contactSheet(ins));
  io.err(`wrote ${out} (input, ${ins.progressive.length} scales and their contributions${ins.ablation ? ', both branch ablations' : ''})`);
  return 0;
}

/**
 * Swap Branches of Two Images, as a 2x2 sheet: row 0 A's and B's own decodes, row 1 A's detail
 * tokens with B's semantic tokens, then B's detail with A's semantic (what the extension's
 * command opens as two inspectors). All four are full decodes of tokens (every scale).
 */
export async function swap(rt: ModelRuntime, a: CliArgs, io: Io): Promise<number> {
  const roles = rt.pkg.roles;
  if (!roles) throw new UserError('BAD_ARGUMENT', `swap needs a model with a detail and a semantic branch; "${rt.info().name}" has one branch`);
  const out = pngOut(a.out);
  const S = rt.imageSize;
  const { mean, std } = rt.pkg.manifest.image;
  const [A, B] = (await encodeImages(rt, a.positionals.slice(0, 2), a)).indices;
  const rows = [A, B, mixBranches(roles.semantic, A, B), mixBranches(roles.semantic, B, A)];
  const all = scaleMask(rt.branchCount, rt.scales.length, () => true);
  const decoded = await rt.decode(rows, rows.map(() => all));
  const cells = rows.map((_, i) => ({ pngBase64: pngImage(fromTensor(decoded, S, mean, std, i * 3 * S * S), S, S).pngBase64, row: i >> 1, col: i & 1 }));
  const [na, nb] = a.positionals;
  const name = (f: string) => path.basename(f);
  await writeOut(out, await gridSheet(cells, S, S, {}, swapSheetCaptions(name(na), name(nb), rt.info().name)));
  io.err(`wrote ${out}: ${na} | ${nb} decoded; below, ${na} detail + ${nb} semantic | ${nb} detail + ${na} semantic`);
  return 0;
}

export async function stats(rt: ModelRuntime, a: CliArgs, io: Io): Promise<number> {
  const bar = progressBar(io);
  let s: FolderStats;
  try {
    s = await folderStats(rt, a.positionals[0], {
      resize: a.resize,
      background: a.background,
      pixelLimit: a.pixelLimit,
      onProgress: (p) => bar.update(p.done, p.total, p.image),
    });
  } finally {
    bar.done();
  }
  // Like tokenize: each unreadable image is one line on stderr, and the exit status says some failed.
  for (const f of s.failed) io.err(errorLine(f.reason));
  if (a.json) {
    io.out(JSON.stringify(s));
  } else {
    io.out(`${s.folder}: ${s.images} images tokenised${s.failed.length ? `, ${s.failed.length} could not be read (named on stderr)` : ''} (${s.timingsMs.total} ms)`);
    s.model.branches.forEach((b, p) => {
      const u = s.usage[p];
      io.out(`  ${b.role.padEnd(8)} used ${u.used}/${b.codebookSize} codes (${(u.utilisation * 100).toFixed(1)} %), perplexity ${round(u.perplexity, 1)}, dead ${s.deadCodes[p].length}`);
      const top = s.topCodes[p].slice(0, 5).map((t) => `${t.code}x${t.count}`).join(' ');
      io.out(`    most used: ${top}`);
    });
  }
  return s.failed.length ? 2 : 0;
}

export async function info(rt: ModelRuntime, a: CliArgs, io: Io): Promise<number> {
  const report = await rt.ready();
  const m = rt.pkg.manifest;
  const graphs = Object.fromEntries(
    (['encoder', 'decoder'] as const).map((g) => [g, { file: m.graphs[g].file, inputs: m.graphs[g].inputs, outputs: m.graphs[g].outputs, provider: report.chosen[g] }]),
  );
  if (a.json) {
    io.out(JSON.stringify({ model: rt.info(), graphs, providers: report, parallelism: rt.parallelism() }));
    return 0;
  }
  const i = rt.info();
  io.out(`model     ${i.name}${i.builtIn ? ' (built-in)' : ''}`);
  io.out(`folder    ${i.dir}`);
  io.out(`licence   ${i.license}`);
  io.out(`image     ${i.imageSize}x${i.imageSize}, mean ${m.image.mean.join(',')}, std ${m.image.std.join(',')}`);
  io.out(`scales    ${i.scales.join(',')} (${i.tokensPerBranch} tokens per branch)`);
  i.branches.forEach((b) => io.out(`branch    ${b.role}: ${b.name}, ${b.codebookSize} codes x ${b.codeDim}`));
  for (const [g, v] of Object.entries(graphs)) {
    const fmt = (o: Record<string, number[]>) => Object.entries(o).map(([k, s]) => `${k}[${s.join(',')}]`).join(' ');
    io.out(`${g.padEnd(9)} ${v.file}: ${fmt(v.inputs)} -> ${fmt(v.outputs)} on ${v.provider}`);
  }
  io.out(`providers available: ${report.available.join(', ')}`);
  io.out(`providers chosen:    ${Object.entries(report.chosen).map(([g, p]) => `${g}=${p}`).join(', ')}`);
  if (report.choice) io.out(`provider choice:     ${report.choice.reason}${report.choice.cached ? ' (remembered from an earlier measurement)' : ''}`);
  for (const s of report.skipped) io.out(`provider skipped:    ${s.provider}: ${s.reason}`);
  const par = rt.parallelism();
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  io.out(`threads   ${n(par.threads, 'thread')} for the encoder; decoder runs shared by ${n(par.decoderWorkers, 'worker')} of ${n(par.decoderThreads, 'thread')}`);
  return 0;
}
