// Bundles the end-to-end tests (test/e2e/*.test.ts) to out/test/e2e/ for mocha.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'test/e2e';
const entryPoints = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).map((f) => join(dir, f));
if (entryPoints.length === 0) {
  console.error(`no test files in ${dir}`);
  process.exit(1);
}
rmSync('out/test/e2e', { recursive: true, force: true });
await build({
  entryPoints,
  outdir: 'out/test/e2e',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  external: ['playwright-core', 'mocha', 'esbuild'],
  logLevel: 'warning',
});
console.log(`built ${entryPoints.length} e2e test file(s) -> out/test/e2e`);
