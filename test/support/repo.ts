// The repository root, found from wherever a suite's bundle runs (out/test/<suite>/...).
import * as fs from 'node:fs';
import * as path from 'node:path';

export function repoRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const f = path.join(d, 'package.json');
    if (fs.existsSync(f) && (JSON.parse(fs.readFileSync(f, 'utf8')) as { name?: string }).name === 'imagefolder-inspector') return d;
  }
  throw new Error('repository root not found');
}
