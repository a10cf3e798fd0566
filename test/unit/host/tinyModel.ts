// The tiny test package (test/fixtures/tiny-model, with a generator) and a copy without one, for
// host tests that run the real backend.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function repoRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const f = path.join(d, 'package.json');
    if (fs.existsSync(f) && (JSON.parse(fs.readFileSync(f, 'utf8')) as { name?: string }).name === 'imagefolder-inspector') return d;
  }
  throw new Error('repository root not found');
}

export const TINY = path.join(repoRoot(), 'test', 'fixtures', 'tiny-model');

/** A copy of the tiny package without its generator (graphs, classes and generator removed). */
export function packageWithoutGenerator(dir: string, name = 'tiny-without-generator'): string {
  const out = path.join(dir, 'no-generator');
  fs.mkdirSync(out);
  for (const f of ['codebooks.bin', 'decoder.onnx', 'encoder.onnx']) fs.copyFileSync(path.join(TINY, f), path.join(out, f));
  const m = JSON.parse(fs.readFileSync(path.join(TINY, 'manifest.json'), 'utf8')) as Record<string, unknown> & { graphs: Record<string, unknown> };
  delete m.graphs.generator;
  delete m.graphs.nextInput;
  delete m.classes;
  delete m.generator;
  m.name = name;
  fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(m));
  return out;
}
