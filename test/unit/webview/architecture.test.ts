// Source-level rules the design depends on: the deprecated toolkit behind one module, no `vscode`
// in shared or webview code, no HTML string injection or inline styles in the webview.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../support/repo';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('architecture rules', () => {
  const root = repoRoot();
  const src = (p: string) => path.relative(root, p).split(path.sep).join('/');

  it('only src/webview/toolkit.ts imports @vscode/webview-ui-toolkit', () => {
    const users = files(path.join(root, 'src')).filter((f) => /from '@vscode\/webview-ui-toolkit|require\('@vscode\/webview-ui-toolkit/.test(fs.readFileSync(f, 'utf8')));
    assert.deepEqual(users.map(src), ['src/webview/toolkit.ts']);
  });

  it('shared, webview and core code never import vscode', () => {
    for (const dir of ['src/shared', 'src/webview', 'src/extension/core']) {
      for (const f of files(path.join(root, dir))) {
        assert.doesNotMatch(fs.readFileSync(f, 'utf8'), /from 'vscode'|require\('vscode'\)/, src(f));
      }
    }
  });

  it('host logic modules stay free of vscode (testable without it)', () => {
    for (const m of ['session', 'settings', 'exporter', 'html', 'errors', 'backend', 'coreBackend', 'generateSession', 'saveFlow']) {
      assert.doesNotMatch(fs.readFileSync(path.join(root, 'src/extension/host', `${m}.ts`), 'utf8'), /from 'vscode'/, m);
    }
  });

  it('the webview builds DOM without innerHTML, eval or inline style attributes', () => {
    for (const f of files(path.join(root, 'src/webview'))) {
      const text = fs.readFileSync(f, 'utf8');
      assert.doesNotMatch(text, /\.innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, src(f));
      assert.doesNotMatch(text, /setAttribute\('style'|style="/, src(f));
    }
  });
});
