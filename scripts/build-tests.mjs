// Bundles TypeScript test suites with esbuild so mocha runs them as plain CommonJS.
//   node scripts/build-tests.mjs host     -> out/test/host    (test/unit/host, test/unit/shared, test/unit/webview)
//   node scripts/build-tests.mjs webview  -> out/test/webview (test/webview; Playwright in headless Chromium)
import { build } from 'esbuild';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const suites = {
  host: { roots: ['test/unit/host', 'test/unit/shared', 'test/unit/webview'], out: 'out/test/host' },
  webview: { roots: ['test/webview'], out: 'out/test/webview' },
};
const name = process.argv[2];
const suite = suites[name];
if (!suite) {
  console.error(`usage: build-tests.mjs ${Object.keys(suites).join('|')}`);
  process.exit(2);
}

function walk(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const entryPoints = suite.roots.flatMap(walk);
if (entryPoints.length === 0) {
  console.error(`no test files under ${suite.roots.join(', ')}`);
  process.exit(1);
}
rmSync(suite.out, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: suite.out,
  outbase: '.',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  external: ['vscode', 'onnxruntime-node', 'onnxruntime-web', 'sharp', 'mocha', 'playwright-core', 'esbuild'],
  logLevel: 'warning',
});
console.log(`built ${entryPoints.length} test file(s) -> ${relative('.', suite.out)}`);
