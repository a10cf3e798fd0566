// The inspection fed to the webview tests: a REAL one from the runtime core and the built-in model
// on a sample image when the model is present; otherwise (early in development) a synthetic one
// whose pictures are made with sharp. Set IFI_REQUIRE_REAL_MODEL=1 to forbid the fallback.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Inspection, PngImage } from '../../src/shared/types';
import { ModelRuntime, inspect } from '../../src/extension/core';
import { loadSharp } from '../../src/extension/core/native';
import { syntheticInspection, SCALES } from '../fixtures/syntheticInspection';
import { repoRoot } from './harness';

export const SAMPLE = 'samples/cat-face.png';

export async function loadInspection(): Promise<{ inspection: Inspection; real: boolean }> {
  const root = repoRoot();
  // IFI_MODEL_DIR: another package of the same format (e.g. a newer checkpoint) for screenshots
  const modelDir = process.env.IFI_MODEL_DIR ? path.resolve(process.env.IFI_MODEL_DIR) : path.join(root, 'models', 'imagefolder-mini');
  const image = path.join(root, SAMPLE);
  if (fs.existsSync(path.join(modelDir, 'manifest.json'))) {
    const rt = await ModelRuntime.load(modelDir, { provider: 'cpu', builtIn: !process.env.IFI_MODEL_DIR });
    try {
      return { inspection: await inspect(rt, image), real: true };
    } finally {
      await rt.dispose();
    }
  }
  if (process.env.IFI_REQUIRE_REAL_MODEL) throw new Error(`IFI_REQUIRE_REAL_MODEL is set but ${modelDir} has no model`);
  const sharp = loadSharp();
  const size = 128;
  const base = await sharp(image).flatten({ background: '#ffffff' }).resize(size, size).removeAlpha().raw().toBuffer();
  const toPng = async (buf: Buffer): Promise<PngImage> => ({
    width: size,
    height: size,
    pngBase64: (await sharp(buf, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer()).toString('base64'),
  });
  const coarse = async (side: number): Promise<Buffer> =>
    sharp(base, { raw: { width: size, height: size, channels: 3 } })
      .resize(side, side)
      .resize(size, size, { kernel: 'nearest' })
      .raw()
      .toBuffer();
  const pngs = new Map<string, PngImage>();
  pngs.set('input-0', await toPng(base));
  for (let k = 0; k < SCALES.length; k++) {
    const side = Math.max(1, Math.round((SCALES[k] * size) / 11 / 2) * 2);
    pngs.set(`progressive-${k}`, await toPng(await coarse(side)));
    const c = await coarse(Math.max(1, SCALES[k]));
    pngs.set(`contribution-${k}`, await toPng(c));
  }
  pngs.set('ablation-semantic-0', await toPng(await coarse(12)));
  pngs.set('ablation-detail-0', await toPng(await coarse(40)));
  const ins = syntheticInspection({ image, codebookSize: 1024, png: (kind, k) => pngs.get(`${kind}-${k}`)! });
  return { inspection: ins, real: false };
}
