// Smoke test of the packaged extension: the platform-specific VSIX built by `npm run package` is
// installed into a fresh code-server with `--install-extension`, and the installed copy (not the
// source folder) tokenizes a sample image end to end.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { log, openWorkbench, readPackageJson, REPO, startCodeServer, type CodeServer, type Workbench } from './harness';
import { assertNoWebviewProblems, canvasColours, expectImage, psnr, TOKENIZE, tokenizeFromExplorer } from './inspect';

function vsixPath(): string {
  if (process.env.IMAGEFOLDER_E2E_VSIX) return path.resolve(process.env.IMAGEFOLDER_E2E_VSIX);
  const p = readPackageJson();
  return path.join(REPO, 'out', 'e2e', `${p.name}-${p.version}-${process.platform}-${process.arch}.vsix`);
}

describe('e2e: the installed VSIX (smoke test)', function () {
  this.timeout(900_000);
  let vs: CodeServer;
  let wb: Workbench;
  const vsix = vsixPath();

  before(async function () {
    this.timeout(900_000);
    assert.ok(fs.existsSync(vsix), `${vsix} is missing: \`npm run test:e2e\` packages it (or set IMAGEFOLDER_E2E_VSIX)`);
    log(`VSIX ${path.relative(REPO, vsix)}: ${(fs.statSync(vsix).size / 1024 / 1024).toFixed(1)} MB`);
    vs = await startCodeServer({ extension: { kind: 'vsix', file: vsix } });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && wb) await wb.screenshot(`FAILED-${this.currentTest.title.slice(0, 40)}`);
  });

  after(async () => {
    await wb?.close();
    await vs?.stop();
  });

  it('installs as a real copy in the extensions folder, with only this platform\'s binaries', () => {
    const dir = vs.extensionDir;
    assert.ok(!fs.lstatSync(dir).isSymbolicLink(), 'the installed extension is not a link to the sources');
    assert.ok(!path.resolve(fs.realpathSync(dir)).startsWith(REPO + path.sep), `${dir} is outside the repository`);
    for (const f of ['package.json', 'dist/extension.js', 'dist/webview.js', 'node_modules/onnxruntime-node/package.json', 'node_modules/sharp/package.json']) {
      assert.ok(fs.existsSync(path.join(dir, f)), `installed copy has ${f}`);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'src')), 'no sources in the VSIX');
    const ortBin = path.join(dir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    const platforms = fs.readdirSync(ortBin).flatMap((os) => fs.readdirSync(path.join(ortBin, os)).map((a) => `${os}/${a}`));
    assert.deepEqual(platforms, [`${process.platform}/${process.arch}`]);
    const img = fs.readdirSync(path.join(dir, 'node_modules', '@img')).filter((d) => d.startsWith('sharp-'));
    assert.ok(img.every((d) => d.endsWith(`${process.platform}-${process.arch}`)), `sharp binaries: ${img.join(', ')}`);
  });

  it('the installed copy tokenizes a sample image (right-click > Tokenize Image)', async () => {
    wb = await openWorkbench(vs, 'vsix');
    await wb.waitForExtensionMenu('cat-face.png', TOKENIZE);
    const web = await tokenizeFromExplorer(wb, 'cat-face.png');
    await expectImage(web, 'original');
    await expectImage(web, 'reconstruction');
    for (const role of ['semantic', 'detail']) {
      const c = await canvasColours(web, `token-map-${role}`);
      assert.ok(c.colours > 1, `token map ${role} drawn`);
    }
    const p = await psnr(web);
    assert.ok(Number.isFinite(p) && p > 5, `PSNR ${p}`);
    await wb.screenshot('installed-vsix-inspector');
    // The webview's script and stylesheet were served from the installed copy.
    const notFound = wb.console.filter((c) => c.webview && /Failed to load resource/.test(c.text));
    assert.deepEqual(notFound.map((c) => c.url), [], 'webview resources load');
    assertNoWebviewProblems(wb);
  });
});
