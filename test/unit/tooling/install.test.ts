// Installing the repository: `npm ci` prints no warning about the project's npm configuration and
// never runs onnxruntime-node's install script (which downloads CUDA libraries from NuGet: neither
// wanted nor reachable offline). Scripts set ONNXRUNTIME_NODE_INSTALL=skip for npm versions that run
// dependency install scripts; npm 11's allowScripts in package.json denies it explicitly.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../support/repo';

const REPO = repoRoot();
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));

describe('npm configuration of the repository', function () {
  this.timeout(60_000);

  it('npm reads the project .npmrc without "Unknown project config" warnings', () => {
    const r = spawnSync('npm', ['config', 'get', 'save-exact'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'warn' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'true', 'the project .npmrc is read');
    assert.doesNotMatch(r.stderr, /Unknown (project|user|env) config/);
  });

  it("onnxruntime-node's install script is denied and skipped by every install path", () => {
    assert.equal(pkg.allowScripts?.['onnxruntime-node'], false, 'package.json allowScripts denies it (npm 11)');
    for (const f of ['.ci/run', 'scripts/setup.sh']) {
      assert.match(fs.readFileSync(path.join(REPO, f), 'utf8'), /ONNXRUNTIME_NODE_INSTALL=skip/, `${f} sets ONNXRUNTIME_NODE_INSTALL=skip`);
    }
    // the variable is what onnxruntime-node's script reads: with it, the script exits at once, offline
    const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'onnxruntime-node', 'script', 'install.js')], {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', HTTPS_PROXY: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' },
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
  });

  it('runs in the workspace extension host (Remote-SSH, code-server: next to the files and the GPU)', () => {
    assert.deepEqual(pkg.extensionKind, ['workspace']);
  });
});
