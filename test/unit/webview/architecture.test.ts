// Source-level rules the design depends on: the layers import only downward (shared/ is the ground
// floor; webview/ and core/ never reach into the host), no import circles, the deprecated toolkit
// behind one module, no `vscode` in shared, webview or core code, no HTML string injection or
// inline styles in the webview.
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

/** Every module specifier a file imports or re-exports (type-only imports included). */
function specifiers(text: string): string[] {
  const re = /(?:^|[\s;])(?:import|export)\s[^;]*?\bfrom\s*'([^']+)'|\bimport\s*'([^']+)'|\brequire\('([^']+)'\)|\bimport\('([^']+)'\)/g;
  return [...text.matchAll(re)].map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]);
}

/** The source file a relative specifier names, or undefined for packages. */
function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(c)) return c;
  throw new Error(`${from}: cannot resolve '${spec}'`);
}

/** Import graph of src/: file -> the source files it imports. */
function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of files(path.join(root, 'src'))) {
    const deps = specifiers(fs.readFileSync(f, 'utf8'))
      .map((s) => resolveImport(f, s))
      .filter((d): d is string => d !== undefined);
    graph.set(f, deps);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('architecture rules', () => {
  const root = repoRoot();
  const src = (p: string) => path.relative(root, p).split(path.sep).join('/');

  it('finds imports of every form, and circles', () => {
    assert.deepEqual(specifiers("import a from './a';\nimport type {\n  B,\n} from '../b';\nexport { c } from './c';\nexport * from './d';\nimport './e';\nconst f = require('./f');"), ['./a', '../b', './c', './d', './e', './f']);
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', ['e']]]);
    assert.deepEqual(circles(g).map((c) => c.sort()), [['a', 'b', 'c'], ['e']]);
  });

  it('no import circles in src/', () => {
    const found = circles(importGraph(root)).map((c) => c.map(src).sort().join(' <-> '));
    assert.deepEqual(found, []);
  });

  it('shared/ imports only shared/; webview/ and core/ never import the host or the CLI', () => {
    const graph = importGraph(root);
    assert.ok(graph.size > 50, 'the graph covers src/');
    for (const [f, deps] of graph) {
      const from = src(f);
      for (const d of deps.map(src)) {
        if (from.startsWith('src/shared/')) assert.ok(d.startsWith('src/shared/'), `${from} imports ${d}`);
        if (from.startsWith('src/webview/')) assert.ok(!d.startsWith('src/extension/'), `${from} imports ${d}`);
        if (from.startsWith('src/extension/core/')) assert.ok(!/^src\/extension\/(host|cli)\//.test(d), `${from} imports ${d}`);
      }
    }
  });

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
    const modules = ['inspector/controller', 'inspector/branchSwap', 'generate/controller', 'settings', 'exporter', 'html', 'errors', 'backend', 'coreBackend', 'saveFlow', 'hostUi', 'webviewChannel'];
    for (const m of modules) {
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
