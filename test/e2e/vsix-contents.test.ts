// What each platform VSIX holds, read from the zip itself (no install): every native file's format
// and architecture from its header (ELF e_machine, Mach-O cputype, PE machine), the execution
// providers its onnxruntime binding bundles against the README's table, the licence, the README's
// links, and none of the files a user does not need (evaluation sheets, C headers).
// `npm run test:e2e` checks the VSIX it packages for this machine (IMAGEFOLDER_E2E_VSIX);
// `npm run test:vsix` builds every target (`npm run package -- --all-targets`) and checks them all
// (IMAGEFOLDER_VSIX_DIR).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundledProviders, checkNativeFiles, ORT_WEB_RUNTIME, readZip, type ZipEntry } from '../../scripts/vsix-inspect.mjs';
import { REPO } from './harness';

const TARGET = /-((?:linux|darwin|win32)-(?:x64|arm64))\.vsix$/;

function vsixFiles(): string[] {
  const dir = process.env.IMAGEFOLDER_VSIX_DIR;
  if (dir) return fs.readdirSync(dir).filter((f) => TARGET.test(f)).map((f) => path.join(dir, f));
  const one = process.env.IMAGEFOLDER_E2E_VSIX;
  assert.ok(one, 'IMAGEFOLDER_E2E_VSIX or IMAGEFOLDER_VSIX_DIR names the VSIX(es) to check (npm run test:e2e / test:vsix set them)');
  return [one];
}

/** The README's "providers in each VSIX" table: target -> bundled providers (or the reason it is not built). */
function readmeProviderTable(): Map<string, string[] | string> {
  const text = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const rows = new Map<string, string[] | string>();
  for (const m of text.matchAll(/^\| `((?:linux|darwin|win32)-(?:x64|arm64))` \| ([^|]*) \|/gm)) {
    const cell = m[2].trim();
    rows.set(m[1], /^not built/.test(cell) ? cell : cell.split(/,\s*/).map((p) => p.replace(/`/g, '')));
  }
  assert.ok(rows.size >= 5, `README.md has the providers-by-platform table (found ${rows.size} rows)`);
  return rows;
}

/** The README row's last cell (what the providers column does not say). */
function readmeProviderNote(target: string): string {
  const text = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  return new RegExp(`^\\| \`${target}\` \\| [^|]* \\| ([^|]*) \\|`, 'm').exec(text)?.[1] ?? '';
}

/** Targets whose VSIX runs on onnxruntime-web (no onnxruntime-node binaries for them: scripts/package.mjs). */
const WEB_TARGETS = new Set(['darwin-x64']);

const MD_LINK = /!?\[[^\]]*\]\(([^)\s]+)[^)]*\)/g;

describe('VSIX contents (read from the zip)', function () {
  this.timeout(120_000);
  const files = vsixFiles();

  it('every target of --all-targets was built, or the README says why not', () => {
    if (!process.env.IMAGEFOLDER_VSIX_DIR) return; // one VSIX checked: nothing to compare
    const built = new Set(files.map((f) => TARGET.exec(f)![1]));
    for (const [target, cell] of readmeProviderTable()) {
      if (target === 'win32-arm64') continue; // packaged on request only
      if (typeof cell === 'string') assert.ok(!built.has(target), `${target} is built but the README says "${cell}"`);
      else assert.ok(built.has(target), `${target}: no VSIX in ${process.env.IMAGEFOLDER_VSIX_DIR}`);
    }
  });

  for (const file of files) {
    const target = TARGET.exec(file)?.[1] ?? `${process.platform}-${process.arch}`;
    describe(path.basename(file), () => {
      let zip: Map<string, ZipEntry>;
      before(() => {
        assert.ok(fs.existsSync(file), `${file} exists`);
        zip = readZip(file);
      });

      it(`every native file is ${target} by its header, and the runtime's binaries are there`, () => {
        const { natives, problems } = checkNativeFiles(zip, target);
        assert.deepEqual(problems, []);
        const names = natives.map((n) => n.name);
        if (WEB_TARGETS.has(target)) {
          // no onnxruntime-node binaries for this target: onnxruntime-web's Node entry and its one wasm/mjs pair
          for (const f of ORT_WEB_RUNTIME) assert.ok(zip.has(`extension/node_modules/onnxruntime-web/${f}`), `onnxruntime-web ${f}`);
          assert.equal(zip.get('extension/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm')!.head(4).toString('latin1'), '\0asm');
          assert.deepEqual([...zip.keys()].filter((n) => n.includes('/node_modules/onnxruntime-node/')), []);
          assert.deepEqual([...zip.keys()].filter((n) => n.includes('/node_modules/onnxruntime-web/') && !/\/(package\.json|dist\/ort\.node\.min\.js|dist\/ort-wasm-simd-threaded\.(mjs|wasm))$/.test(n)), []);
        } else {
          assert.ok(names.some((n) => /onnxruntime_binding\.node$/.test(n)), `onnxruntime binding in ${names.join(', ')}`);
          assert.ok(names.some((n) => /(lib)?onnxruntime[.\d]*\.(so|dylib|dll)(\.\d+)*$/.test(n)), `onnxruntime library in ${names.join(', ')}`);
          assert.deepEqual([...zip.keys()].filter((n) => n.includes('/node_modules/onnxruntime-web/')), [], 'native targets leave onnxruntime-web out');
        }
        assert.ok(names.some((n) => new RegExp(`sharp-${target}[^/]*\\.node$`).test(n)), `sharp's addon for ${target} in ${names.join(', ')}`);
      });

      it("bundles the execution providers the README's table lists for it", () => {
        const row = readmeProviderTable().get(target);
        assert.ok(Array.isArray(row), `README row for ${target}`);
        const found = bundledProviders(zip, target);
        assert.deepEqual([...found].sort(), [...row].sort());
        if (WEB_TARGETS.has(target)) {
          const note = readmeProviderNote(target);
          for (const must of [/WebAssembly/, /no GPU provider/, /slower/, /no Intel-Mac binaries/]) assert.match(note, must, `README row for ${target}`);
        }
        if (target === `${process.platform}-${process.arch}` && !WEB_TARGETS.has(target)) {
          // this machine's target: what the strings in the binding say is what the runtime reports
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const ort = require(path.join(REPO, 'node_modules', 'onnxruntime-node')) as { listSupportedBackends(): { name: string; bundled: boolean }[] };
          const bundled = ort.listSupportedBackends().filter((b) => b.bundled).map((b) => b.name);
          assert.deepEqual([...found].sort(), bundled.sort());
        }
      });

      it('carries the licence, the README and what its links point to; no evaluation sheets or headers', () => {
        assert.ok(zip.has('extension/LICENSE.txt'), 'LICENSE (vsce stores it as LICENSE.txt)');
        assert.match(zip.get('extension/LICENSE.txt')!.text(), /MIT License/);
        const readme = zip.get('extension/readme.md');
        assert.ok(readme, 'README');
        const markdown = [...zip.keys()].filter((n) => /^extension\/.*\.md$/.test(n) && !n.includes('/node_modules/'));
        for (const md of markdown) {
          const dir = path.posix.dirname(md === 'extension/readme.md' ? 'extension/README.md' : md);
          for (const m of zip.get(md)!.text().matchAll(MD_LINK)) {
            const target = m[1].split('#')[0];
            if (/^([a-z][a-z0-9+.-]*:|#|\/)/i.test(m[1]) || target === '') continue;
            const inVsix = path.posix.normalize(path.posix.join(dir, target));
            assert.ok(zip.has(inVsix), `${md} links to ${m[1]}, which the VSIX does not hold`);
          }
        }
        assert.ok(markdown.includes('extension/docs/inspector.md'), `the README's docs ship: ${markdown.join(', ')}`);
        const unwanted = [...zip.keys()].filter((n) => /\.(h|hpp)$|contact-sheet\.png$|generator-sheet\.png$|eval\.json$/.test(n));
        assert.deepEqual(unwanted, []);
      });
    });
  }
});
