// `imagefolder-inspector generate`: class-conditional samples from the package's generator,
// written as one PNG (a grid when --count > 1); --json prints the settings and every sample's
// tokens. --force-detail/--force-semantic IMAGE teacher-force that image's tokens of one branch.

import type { CliArgs } from './args';
import type { Io } from './commands';
import { pngOut, writeOut } from './output';
import { UserError } from '../core/errors';
import { generate, type GenerateOptions, type GenerationResult } from '../core/generate';
import { generatorSpec } from '../core/generate/spec';
import { loadImage, toTensor } from '../core/image';
import { resolveImageOptions } from '../core/inspect';
import { encodePng } from '../core/png';
import type { ModelRuntime } from '../core/runtime';

export interface GenerateCliOptions {
  className?: string;
  seed: number;
  cfg?: number;
  topK?: number;
  topP?: number;
  temperature?: number;
  count: number;
  forceDetail?: string;
  forceSemantic?: string;
  /** experiment: joint top-k/top-p over (detail, semantic) pairs */
  joint: boolean;
}

/** The parseArgs options only `generate` takes (merged into args.ts's table). */
export const GENERATE_OPTIONS = {
  class: { type: 'string' },
  seed: { type: 'string' },
  cfg: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  temperature: { type: 'string' },
  count: { type: 'string' },
  'force-detail': { type: 'string' },
  'force-semantic': { type: 'string' },
  joint: { type: 'boolean' },
} as const;

export const GENERATE_USAGE = `  generate --class NAME --out FILE.png [--seed N] [--cfg X] [--top-k K] [--top-p P]
           [--temperature T] [--count C] [--force-detail IMAGE | --force-semantic IMAGE]
           [--joint] [--json]
                                     class-conditional samples (a grid when C > 1); defaults
                                     from the model; --json prints settings and tokens;
                                     --joint: experimental joint pair sampling`;

type Values = Partial<Record<Exclude<keyof typeof GENERATE_OPTIONS, 'joint'>, string>> & { joint?: boolean };

function bad(message: string): UserError {
  return new UserError('BAD_ARGUMENT', message);
}

function num(name: string, v: string | undefined, o: { integer?: boolean; min: number; max?: number; minExclusive?: boolean }): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  const low = o.minExclusive ? n <= o.min : n < o.min;
  if (!Number.isFinite(n) || low || (o.max !== undefined && n > o.max) || (o.integer && !Number.isInteger(n))) {
    const range = `${o.minExclusive ? '>' : '>='} ${o.min}${o.max !== undefined ? ` and <= ${o.max}` : ''}`;
    throw bad(`--${name} must be ${o.integer ? 'an integer' : 'a number'} ${range} (got '${v}')`);
  }
  return n;
}

/** Checks the generate options' syntax and ranges (the class is checked against the model later). */
export function parseGenerateOptions(v: Values): GenerateCliOptions {
  if (v.class === undefined || v.class === '') throw bad('generate needs --class NAME');
  if (v['force-detail'] !== undefined && v['force-semantic'] !== undefined) throw bad('use --force-detail or --force-semantic, not both');
  return {
    className: v.class,
    seed: num('seed', v.seed, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0,
    cfg: num('cfg', v.cfg, { min: 0 }),
    topK: num('top-k', v['top-k'], { integer: true, min: 0 }),
    topP: num('top-p', v['top-p'], { min: 0, max: 1, minExclusive: true }),
    temperature: num('temperature', v.temperature, { min: 0, minExclusive: true }),
    count: num('count', v.count, { integer: true, min: 1, max: 64 }) ?? 1,
    forceDetail: v['force-detail'],
    forceSemantic: v['force-semantic'],
    joint: v.joint ?? false,
  };
}

/** Samples side by side in a grid of ceil(sqrt(C)) columns, RGB bytes. */
export function grid(images: Uint8Array[], size: number): { rgb: Uint8Array; width: number; height: number } {
  const cols = Math.ceil(Math.sqrt(images.length));
  const rows = Math.ceil(images.length / cols);
  const width = cols * size;
  const height = rows * size;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  images.forEach((img, i) => {
    const x0 = (i % cols) * size;
    const y0 = Math.floor(i / cols) * size;
    for (let y = 0; y < size; y++) rgb.set(img.subarray(y * size * 3, (y + 1) * size * 3), ((y0 + y) * width + x0) * 3);
  });
  return { rgb, width, height };
}

async function referenceIndices(rt: ModelRuntime, a: CliArgs, image: string): Promise<number[][]> {
  const img = await loadImage(image, resolveImageOptions(rt, a));
  const { mean, std } = rt.pkg.manifest.image;
  const [indices] = await rt.encode(toTensor(img.rgb, rt.imageSize, mean, std));
  return indices;
}

export async function generateCommand(rt: ModelRuntime, a: CliArgs, io: Io): Promise<number> {
  const g = a.generate!;
  const out = pngOut(a.out);
  generatorSpec(rt); // "this model has no generator" before any image is read
  const opts: GenerateOptions = {
    className: g.className,
    seed: g.seed,
    count: g.count,
    cfg: g.cfg,
    topK: g.topK,
    topP: g.topP,
    temperature: g.temperature,
    ...(g.joint ? { joint: true } : {}),
  };
  if (g.forceDetail) opts.forceDetailFrom = await referenceIndices(rt, a, g.forceDetail);
  if (g.forceSemantic) opts.forceSemanticFrom = await referenceIndices(rt, a, g.forceSemantic);
  const N = rt.scales.length;
  if (io.errIsTty) opts.onScale = (k) => io.writeErrRaw(`\rscale ${k + 1}/${N}\x1b[K`);
  let r: GenerationResult;
  try {
    r = await generate(rt, opts);
  } finally {
    if (io.errIsTty) io.writeErrRaw('\r\x1b[K');
  }
  const S = r.imageSize;
  const sheet = grid(r.samples.map((s) => s.rgb!), S);
  await writeOut(out, encodePng(sheet.rgb, sheet.width, sheet.height));
  const s = r.settings;
  if (a.json) {
    io.out(
      JSON.stringify({
        model: r.model,
        modelDir: rt.pkg.dir,
        out,
        imageSize: S,
        grid: { width: sheet.width, height: sheet.height, columns: sheet.width / S },
        settings: { ...s, ...(g.forceDetail ? { reference: g.forceDetail } : g.forceSemantic ? { reference: g.forceSemantic } : {}) },
        scales: rt.scales,
        branches: rt.pkg.manifest.branches.map((b) => ({ name: b.name, role: b.role, codebookSize: b.codebookSize })),
        samples: r.samples.map((x) => ({ index: x.index, tokens: x.tokens })),
        runs: r.runs,
        timingsMs: r.timingsMs,
      }),
    );
  }
  const forced = s.forced ? `, ${s.forced} tokens of ${g.forceDetail ?? g.forceSemantic}` : '';
  io.err(
    `wrote ${out} (${s.count} sample${s.count > 1 ? 's' : ''} of '${s.className}', ${S}x${S}; seed ${s.seed}, cfg ${s.cfg}, top-k ${s.topK}, top-p ${s.topP}, temperature ${s.temperature}${forced}${s.joint ? '; joint sampling' : ''}; ${Math.round(r.timingsMs.total)} ms)`,
  );
  return 0;
}
