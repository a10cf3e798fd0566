#!/usr/bin/env node
// `npm run test:e2e`: end-to-end tests in a real VS Code (code-server 4.100.3) driven by Playwright.
//   1. installs code-server into the tools cache if needed (scripts/install-code-server.sh)
//   2. builds the extension and packages this platform's VSIX (for the installed-VSIX smoke test)
//   3. bundles test/e2e/*.test.ts and runs them with mocha (extra arguments go to mocha, e.g. --grep)
// Skipping is explicit only: IMAGEFOLDER_SKIP_E2E=1 (printed loudly). Nothing is skipped silently.
// IMAGEFOLDER_E2E_VSIX=FILE tests that VSIX instead of packaging one.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const step = (m) => console.log(`\n[test:e2e] ${m}`);
const run = (cmd, args, env = {}) => execFileSync(cmd, args, { cwd: REPO, stdio: 'inherit', env: { ...process.env, ...env } });

if (process.env.IMAGEFOLDER_SKIP_E2E === '1') {
  console.log('\n[test:e2e] ************************************************************');
  console.log('[test:e2e] END-TO-END TESTS SKIPPED: IMAGEFOLDER_SKIP_E2E=1 is set.');
  console.log('[test:e2e] ************************************************************\n');
  process.exit(0);
}

try {
  const t0 = Date.now();
  step('code-server (scripts/install-code-server.sh)');
  run('bash', [path.join(REPO, 'scripts', 'install-code-server.sh')]);

  step('build');
  run('npm', ['run', '--silent', 'build']);

  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  let vsix = process.env.IMAGEFOLDER_E2E_VSIX;
  if (!vsix) {
    vsix = path.join(REPO, 'out', 'e2e', `${pkg.name}-${pkg.version}-${process.platform}-${process.arch}.vsix`);
    step(`package ${path.relative(REPO, vsix)}`);
    const args = [path.join(REPO, 'scripts', 'package.mjs'), '--no-build', '--out', vsix];
    // Only while developing the tests with a stand-in model (IMAGEFOLDER_E2E_MODEL) may the
    // repository lack the built-in model; the harness then installs the stand-in into the copy.
    if (process.env.IMAGEFOLDER_E2E_MODEL) args.push('--allow-missing-model');
    run(process.execPath, args);
  }

  step('bundle test/e2e');
  run(process.execPath, [path.join(REPO, 'scripts', 'build-e2e.mjs')]);

  step('mocha');
  const files = fs.readdirSync(path.join(REPO, 'out', 'test', 'e2e')).filter((f) => f.endsWith('.test.js')).map((f) => path.join('out', 'test', 'e2e', f));
  const mocha = path.join(REPO, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const r = spawnSync(process.execPath, [mocha, '--timeout', '900000', '--slow', '30000', '--exit', ...files, ...process.argv.slice(2)], {
    cwd: REPO,
    stdio: 'inherit',
    env: { ...process.env, IMAGEFOLDER_E2E_VSIX: vsix },
  });
  console.log(`[test:e2e] screenshots and logs in test-results/e2e/ (${Math.round((Date.now() - t0) / 1000)} s)`);
  process.exit(r.status ?? 1);
} catch (e) {
  console.error(`[test:e2e] failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
