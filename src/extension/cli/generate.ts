// `imagefolder-inspector generate`: class-conditional samples from the package's generator,
// written as one PNG (a grid when --count > 1); --json prints the settings and every sample's
// tokens. --force-detail/--force-semantic IMAGE teacher-force that image's tokens of one branch.

import { refuseImageOptions, type CliArgs } from './args';
import type { Io } from './io';
import { pngOut, writeOut } from './output';
import { encodeImages, encodePng, generate, generatorSpec, UserError, type GenerateOptions, type GenerationResult, type ModelRuntime } from '../core';

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
  return (await encodeImages(rt, [image], a)).indices[0];
}

export async function generateCommand(rt: ModelRuntime, a: CliArgs, io: Io): Promise<number> {
  const g = a.generate!;
  const spec = generatorSpec(rt); // "this model has no generator" before any image is read
  if (g.listClasses) {
    refuseImageOptions(a, 'generate --list-classes reads no image');
    if (a.given.has('out')) throw new UserError('BAD_ARGUMENT', '--list-classes writes no file: drop --out');
    if (a.json) io.out(JSON.stringify(spec.classes));
    else for (const c of spec.classes) io.out(c);
    return 0;
  }
  if (!g.forceDetail && !g.forceSemantic) refuseImageOptions(a, 'generate reads an image only with --force-detail or --force-semantic');
  const out = pngOut(a.out);
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
