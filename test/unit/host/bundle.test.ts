// The shipped bundle (dist/extension.js, built by `npm run build:extension` before this suite)
// activates against the stubbed vscode API without loading the native runtime modules.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vscode from './fakeVscode';
import { repoRoot } from '../../support/repo';

describe('dist/extension.js bundle', () => {
  it('activates cheaply: registers every command, loads neither onnxruntime-node nor sharp', () => {
    const root = repoRoot();
    const main = path.join(root, 'dist', 'extension.js');
    assert.ok(fs.existsSync(main), 'run npm run build:extension first (test:host does)');
    vscode.resetState();
    const native = () => Object.keys(require.cache).filter((k) => /[\\/]node_modules[\\/](onnxruntime-node|sharp)[\\/]/.test(k));
    const before = native().length;
    // this file's fake answers require('vscode') (other suites install their own hooks at load time)
    const M = Module as unknown as { _load: (r: string, p: unknown, m: boolean) => unknown };
    const original = M._load;
    M._load = function (request: string, parent: unknown, isMain: boolean): unknown {
      return request === 'vscode' ? vscode : original.call(this, request, parent, isMain);
    };
    let ext: { activate(ctx: unknown): void; deactivate(): void };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ext = require(main) as typeof ext;
    } finally {
      M._load = original;
    }
    const ctx = vscode.makeContext(root);
    ext.activate(ctx);
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } };
      assert.deepEqual([...vscode.state.commands.keys()].sort(), pkg.contributes.commands.map((c) => c.command).sort());
      assert.equal(native().length, before, 'native modules are loaded on first use, not at activation');
      const bundle = fs.readFileSync(main, 'utf8');
      assert.ok(/require\("onnxruntime-node"\)/.test(bundle) && /require\("sharp"\)/.test(bundle), 'native modules stay external');
    } finally {
      for (const d of ctx.subscriptions) d.dispose();
      ext.deactivate();
    }
  });
});
