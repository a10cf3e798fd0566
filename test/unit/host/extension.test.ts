import './vscode-stub';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_PIXEL_LIMIT, IMAGE_EXTENSIONS, MAX_CFG, MAX_GENERATE_COUNT, MAX_GENERATE_SEED, MAX_TEMPERATURE, MAX_TOP_K, PROVIDERS } from '../../../src/extension/core';
import { activateWith } from '../../../src/extension/host/extension';
import type { HostToWebview } from '../../../src/shared/protocol/messages';
import * as vscode from './fakeVscode';
import { FakeBackend } from './fakes';
import { repoRoot } from '../../support/repo';

const root = repoRoot();
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  activationEvents: string[];
  engines: { vscode: string };
  contributes: {
    commands: { command: string; category: string }[];
    customEditors: { viewType: string; priority: string; selector: { filenamePattern: string }[] }[];
    configuration: { properties: Record<string, { default?: unknown; maximum?: number; enum?: string[] }> };
    menus: Record<string, { command: string; when: string }[]>;
  };
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
};

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

type Ctx = ReturnType<typeof vscode.makeContext>;
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
};

describe('extension host (vscode stubbed at the boundary)', () => {
  let ctx: Ctx;
  let backend: FakeBackend;
  let dir: string;
  let image: string;

  beforeEach(() => {
    vscode.resetState();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-ext-'));
    image = path.join(dir, 'photo #1.png');
    fs.writeFileSync(image, 'not really a png');
    ctx = vscode.makeContext(root);
    backend = new FakeBackend();
    activateWith(ctx as never, () => backend);
  });
  afterEach(() => {
    for (const d of ctx.subscriptions) d.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function lastPanel(): vscode.FakePanel {
    const p = vscode.state.panels.at(-1);
    assert.ok(p, 'a panel was created');
    return p;
  }
  const posted = (p: vscode.FakePanel) => p.webview.posted as HostToWebview[];

  it('registers exactly the commands package.json contributes, in category ImageFolder; lists only the activation events VS Code does not derive', () => {
    const contributed = pkg.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual([...vscode.state.commands.keys()].sort(), contributed);
    for (const c of pkg.contributes.commands) assert.equal(c.category, 'ImageFolder');
    // since VS Code 1.74 contributed commands and custom editors activate the extension by
    // themselves; restoring a webview panel has no contribution point, so it is listed
    assert.ok(pkg.engines.vscode.startsWith('^1.') && Number(pkg.engines.vscode.split('.')[1]) >= 74, pkg.engines.vscode);
    assert.deepEqual(pkg.activationEvents, ['onWebviewPanel:imagefolderInspector.panel', 'onWebviewPanel:imagefolderInspector.generate']);
    assert.ok(vscode.state.serializers.has('imagefolderInspector.generate'));
    assert.deepEqual(pkg.contributes.customEditors.map((e) => [e.viewType, e.priority]), [['imagefolderInspector.inspector', 'option']]);
    assert.ok(vscode.state.customEditors.has('imagefolderInspector.inspector'));
    assert.ok(vscode.state.serializers.has('imagefolderInspector.panel'));
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, ['imagefolderInspector.modelPath']);
  });

  it("package.json states the code's facts: image extensions, provider list, pixel limit, generation count", () => {
    const props = pkg.contributes.configuration.properties;
    assert.deepEqual(props['imagefolderInspector.provider'].enum, ['auto', ...PROVIDERS]);
    assert.equal(props['imagefolderInspector.pixelLimit'].default, DEFAULT_PIXEL_LIMIT);
    assert.equal(props['imagefolderInspector.generation.count'].maximum, MAX_GENERATE_COUNT);
    // the settings' bounds are the protocol's and the CLI's (shared/limits.ts): a value Settings accepts is never refused later
    const maxima = (['cfg', 'topK', 'temperature', 'seed'] as const).map((k) => props[`imagefolderInspector.generation.${k}`].maximum);
    assert.deepEqual(maxima, [MAX_CFG, MAX_TOP_K, MAX_TEMPERATURE, MAX_GENERATE_SEED]);
    assert.deepEqual(pkg.contributes.customEditors[0].selector.map((s) => s.filenamePattern), IMAGE_EXTENSIONS.map((e) => `*.${e}`));
    // every menu entry that filters by extension accepts exactly IMAGE_EXTENSIONS
    const whens = Object.values(pkg.contributes.menus)
      .flat()
      .map((m) => m.when)
      .filter((w) => w.includes('resourceExtname'));
    assert.ok(whens.length >= 5, 'the explorer and editor menus filter by extension');
    for (const when of whens) {
      const m = /resourceExtname =~ \/(.*?)\/i/.exec(when);
      assert.ok(m, when);
      const re = new RegExp(m[1], 'i');
      for (const e of IMAGE_EXTENSIONS) assert.ok(re.test(`.${e}`), `${when} accepts .${e}`);
      for (const e of ['heic', 'jxl', 'bmp', 'json', 'pngx']) assert.ok(!re.test(`.${e}`), `${when} refuses .${e}`);
    }
  });

  it('Tokenize Image opens a panel with a strict CSP and restricted resource roots, and posts the inspection', async () => {
    await vscode.commands.executeCommand('imagefolderInspector.tokenize', vscode.Uri.file(image));
    const panel = lastPanel();
    const html = panel.webview.html;
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-[A-Za-z0-9]+'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:\/\/\*/);
    const nonce = /'nonce-([A-Za-z0-9]+)'/.exec(csp)?.[1];
    // the bundle is inlined under the nonce: no resource URL for the webview's service worker to miss
    const bundle = fs.readFileSync(path.join(root, 'dist', 'webview.js'), 'utf8');
    const inlined = new RegExp(`<script nonce="${nonce}">\\n([^]*)\\n</script>`).exec(html)?.[1] ?? '';
    assert.ok(nonce && inlined.length > bundle.length * 0.9, `inlined script of ${inlined.length} chars`);
    assert.equal(html.match(/<\/script/gi)?.length, 1, 'the bundle cannot close its own <script>');
    assert.doesNotMatch(html, /vscode-cdn|src="|href="/);
    assert.deepEqual(panel.webview.options.localResourceRoots, []);
    assert.equal(panel.webview.options.enableScripts, true);
    // the webview says hello; the host answers
    panel.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await settle();
    const kinds = posted(panel).map((m) => m.kind);
    assert.ok(kinds.includes('init') && kinds.includes('inspection'), kinds.join());
    assert.equal(backend.calls.filter((c) => c.op === 'inspect').length, 1);
  });

  it('does not open non-image files; Open Inspector reuses an existing panel', async () => {
    const txt = path.join(dir, 'notes.txt');
    fs.writeFileSync(txt, 'x');
    await vscode.commands.executeCommand('imagefolderInspector.tokenize', vscode.Uri.file(txt));
    assert.equal(vscode.state.panels.length, 0);
    assert.match(vscode.state.messages[0].text, /not an image/);
    await vscode.commands.executeCommand('imagefolderInspector.openInspector', vscode.Uri.file(image));
    await vscode.commands.executeCommand('imagefolderInspector.openInspector', vscode.Uri.file(image));
    assert.equal(vscode.state.panels.length, 1);
  });

  it('uses the active editor tab, or asks with an open dialog', async () => {
    vscode.state.activeTabUri = vscode.Uri.file(image);
    await vscode.commands.executeCommand('imagefolderInspector.openInspector');
    assert.equal(vscode.state.panels.length, 1);
    vscode.state.activeTabUri = undefined;
    let asked = false;
    vscode.state.answers.openDialog = () => {
      asked = true;
      return undefined;
    };
    await vscode.commands.executeCommand('imagefolderInspector.tokenize');
    assert.ok(asked);
  });

  it('Generate Images on a model without a generator says so, naming the model, and opens nothing', async () => {
    await vscode.commands.executeCommand('imagefolderInspector.generate');
    assert.equal(vscode.state.panels.length, 0);
    assert.equal(vscode.state.messages.length, 1);
    assert.match(vscode.state.messages[0].text, /cannot generate images: the model "fake" has no generator.*Select Model/);
    assert.deepEqual(vscode.state.messages[0].items, ['Select Model']);
  });

  it('Swap Branches of Two Images opens one inspector per mix, on the mixed tokens', async () => {
    const second = path.join(dir, 'rocket.png');
    fs.writeFileSync(second, 'not really a png');
    await vscode.commands.executeCommand('imagefolderInspector.swapBranches', vscode.Uri.file(image), [vscode.Uri.file(image), vscode.Uri.file(second)]);
    // only the two images' tokens: one encode, no inspection
    assert.deepEqual(backend.calls.map((c) => [c.op, c.path]), [['encode', image], ['encode', second]]);
    assert.deepEqual(vscode.state.panels.map((p) => p.title), ['Inspector: photo #1.png detail + rocket.png semantic', 'Inspector: rocket.png detail + photo #1.png semantic']);
    for (const p of vscode.state.panels) p.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await settle();
    const [mixAB, mixBA] = vscode.state.panels.map((p) => posted(p).find((m) => m.kind === 'inspection') as Extract<HostToWebview, { kind: 'inspection' }>);
    assert.ok(mixAB && mixBA);
    // the fake backend's tokens are seeded by call order: image 1, then image 2
    const { syntheticInspection } = await import('../../fixtures/syntheticInspection');
    const a = syntheticInspection({ image, seed: 1 });
    const b = syntheticInspection({ image: second, seed: 2 });
    assert.deepEqual(mixAB.inspection.indices, [a.indices[0], b.indices[1]]);
    assert.deepEqual(mixBA.inspection.indices, [b.indices[0], a.indices[1]]);
    assert.match(mixAB.inspection.notes.join('\n'), /detail tokens of photo #1\.png with the semantic tokens of rocket\.png/);
  });

  it('Swap Branches asks for the missing image, and says what it needs when it does not get two', async () => {
    const second = path.join(dir, 'rocket.png');
    fs.writeFileSync(second, 'x');
    vscode.state.answers.openDialog = () => [vscode.Uri.file(second)];
    await vscode.commands.executeCommand('imagefolderInspector.swapBranches', vscode.Uri.file(image));
    assert.equal(vscode.state.panels.length, 2);
    for (const p of vscode.state.panels) p.dispose();
    vscode.state.answers.openDialog = () => undefined;
    await vscode.commands.executeCommand('imagefolderInspector.swapBranches');
    assert.match(vscode.state.messages.at(-1)!.text, /Swap Branches takes two images \(0 given\)/);
    const third = path.join(dir, 'c.png');
    fs.writeFileSync(third, 'x');
    await vscode.commands.executeCommand('imagefolderInspector.swapBranches', vscode.Uri.file(image), [image, second, third].map((f) => vscode.Uri.file(f)));
    assert.match(vscode.state.messages.at(-1)!.text, /takes two images \(3 given\)/);
    assert.equal(vscode.state.panels.filter((p) => !p.disposed).length, 0);
  });

  it("an inspector's \"Swap branches with…\" asks for the other image and opens the two mixes; a mix's inspector refuses it", async () => {
    const second = path.join(dir, 'rocket.png');
    fs.writeFileSync(second, 'x');
    await vscode.commands.executeCommand('imagefolderInspector.tokenize', vscode.Uri.file(image));
    const inspector = lastPanel();
    inspector.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await settle();
    let asked = '';
    vscode.state.answers.openDialog = (o: Record<string, unknown>) => {
      asked = String(o.title);
      return [vscode.Uri.file(second)];
    };
    inspector.webview.receive.fire({ kind: 'request', id: 5, request: { type: 'swapWith' } });
    await until('the two mixes', () => vscode.state.panels.length === 3);
    assert.match(asked, /choose the image to swap branches with photo #1\.png/);
    assert.deepEqual(vscode.state.panels.slice(1).map((p) => p.title), ['Inspector: photo #1.png detail + rocket.png semantic', 'Inspector: rocket.png detail + photo #1.png semantic']);
    await until('the response', () => posted(inspector).some((m) => m.kind === 'response' && m.id === 5));
    assert.ok(posted(inspector).some((m) => m.kind === 'response' && m.id === 5 && m.ok));
    const mix = vscode.state.panels[1];
    mix.webview.receive.fire({ kind: 'ready', protocol: 1 });
    mix.webview.receive.fire({ kind: 'request', id: 6, request: { type: 'swapWith' } });
    await until('the refusal', () => posted(mix).some((m) => m.kind === 'response' && m.id === 6));
    const r = posted(mix).find((m) => m.kind === 'response' && m.id === 6) as { ok: boolean; error?: string };
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /only available in an image inspector/);
  });

  it('Swap Branches cancelled from its progress notification opens nothing and reports nothing', async () => {
    const second = path.join(dir, 'rocket.png');
    fs.writeFileSync(second, 'x');
    backend.delayMs = 200;
    vscode.state.answers.cancelProgress = true;
    await vscode.commands.executeCommand('imagefolderInspector.swapBranches', vscode.Uri.file(image), [vscode.Uri.file(image), vscode.Uri.file(second)]);
    assert.equal(vscode.state.panels.length, 0);
    assert.equal(vscode.state.messages.length, 0);
  });

  it('Show Codebook Usage for Folder opens a folder panel that computes usage', async () => {
    await vscode.commands.executeCommand('imagefolderInspector.folderUsage', vscode.Uri.file(dir));
    const panel = lastPanel();
    panel.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await settle();
    assert.ok(posted(panel).some((m) => m.kind === 'folderUsage'));
    assert.deepEqual(backend.calls.map((c) => [c.op, c.path]), [['folder', dir]]);
  });

  it('restores a panel from valid webview state and drops invalid state', async () => {
    const serializer = vscode.state.serializers.get('imagefolderInspector.panel') as {
      deserializeWebviewPanel(p: unknown, s: unknown): Promise<void>;
    };
    const good = new vscode.FakePanel('imagefolderInspector.panel', 'x');
    await serializer.deserializeWebviewPanel(good, {
      resource: vscode.Uri.file(image).toString(),
      mode: 'image',
      scale: 4,
      ablation: 'both',
      highlight: null,
    });
    assert.equal(good.disposed, false);
    assert.match(good.webview.html, /Content-Security-Policy/);
    const bad = [
      undefined,
      { resource: 'https://evil.example/x.png', mode: 'image', scale: 0, ablation: 'both', highlight: null },
      { resource: vscode.Uri.file('/etc/passwd').toString(), mode: 'image', scale: 0, ablation: 'both', highlight: null },
      { resource: 'file:///x.png', mode: 'image', scale: 0, ablation: 'both', highlight: null, extra: 1 },
    ];
    for (const s of bad) {
      const p = new vscode.FakePanel('imagefolderInspector.panel', 'x');
      await serializer.deserializeWebviewPanel(p, s);
      assert.equal(p.disposed, true, JSON.stringify(s));
    }
  });

  it('the custom editor resolves into an inspector', async () => {
    const provider = vscode.state.customEditors.get('imagefolderInspector.inspector') as {
      openCustomDocument(u: unknown): { uri: vscode.Uri };
      resolveCustomEditor(d: unknown, p: unknown): void;
    };
    const doc = provider.openCustomDocument(vscode.Uri.file(image));
    const panel = new vscode.FakePanel('imagefolderInspector.inspector', 'x');
    provider.resolveCustomEditor(doc, panel);
    panel.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await settle();
    assert.ok(posted(panel).some((m) => m.kind === 'inspection'));
  });

  it('refreshes when the image changes on disk, and stops watching when closed', async function () {
    this.timeout(5000);
    await vscode.commands.executeCommand('imagefolderInspector.tokenize', vscode.Uri.file(image));
    const panel = lastPanel();
    panel.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await settle();
    const watcher = vscode.state.watchers.at(-1)!;
    assert.equal(watcher.pattern.pattern, 'photo #1.png');
    watcher.changeE.fire(vscode.Uri.file(image));
    watcher.changeE.fire(vscode.Uri.file(image));
    await new Promise((r) => setTimeout(r, 450));
    await settle();
    assert.equal(backend.calls.filter((c) => c.op === 'inspect').length, 2, 'debounced to one refresh');
    watcher.deleteE.fire(vscode.Uri.file(image));
    const last = posted(panel).at(-1);
    assert.ok(last && last.kind === 'error' && last.code === 'IMAGE_NOT_FOUND');
    panel.dispose();
    assert.equal(watcher.disposed, true);
  });

  it('ignores a workspace model path in an untrusted workspace', async () => {
    vscode.state.trusted = false;
    vscode.state.config.set('imagefolderInspector.modelPath', { defaultValue: '', workspaceValue: path.join(dir, 'evil') });
    await vscode.commands.executeCommand('imagefolderInspector.tokenize', vscode.Uri.file(image));
    lastPanel().webview.receive.fire({ kind: 'ready', protocol: 1 });
    await settle();
    assert.equal(backend.calls[0].settings.modelDir, path.join(root, 'models', 'imagefolder-mini'));
    assert.ok(vscode.state.log.some((l) => /not trusted.*ignored/.test(l)));
    vscode.state.trusted = true;
    vscode.state.trustEmitter.fire();
    await settle();
    assert.equal(backend.calls.at(-1)!.settings.modelDir, path.join(dir, 'evil'));
  });

  it('Export Tokens writes where the user chose via the save dialog', async () => {
    await vscode.commands.executeCommand('imagefolderInspector.tokenize', vscode.Uri.file(image));
    lastPanel().webview.receive.fire({ kind: 'ready', protocol: 1 });
    await settle();
    const dest = path.join(dir, 'out', 'tokens.json');
    fs.mkdirSync(path.dirname(dest));
    vscode.state.answers.quickPick = (items) => items.find((i) => i.id === 'tokens-json');
    vscode.state.answers.saveDialog = () => vscode.Uri.file(dest);
    await vscode.commands.executeCommand('imagefolderInspector.exportTokens');
    const j = JSON.parse(fs.readFileSync(dest, 'utf8')) as { format: string; indices: number[][] };
    assert.equal(j.format, 'imagefolder-tokens');
    assert.equal(j.indices[0].length, 286);
  });

  it('export asks before replacing an existing file (modal), through the real VS Code UI adapter', async () => {
    await vscode.commands.executeCommand('imagefolderInspector.tokenize', vscode.Uri.file(image));
    const panel = lastPanel();
    panel.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await settle();
    const dest = path.join(dir, 'existing.png');
    fs.writeFileSync(dest, 'keep me');
    vscode.state.answers.saveDialog = () => vscode.Uri.file(dest);
    vscode.state.answers.warning = () => undefined; // user dismisses the modal
    const answered = (id: number) => () => posted(panel).some((m) => m.kind === 'response' && m.id === id);
    panel.webview.receive.fire({ kind: 'request', id: 7, request: { type: 'export', format: 'png', target: 'ablation-semantic', scale: 0 } });
    await until('response 7', answered(7));
    assert.equal(fs.readFileSync(dest, 'utf8'), 'keep me');
    assert.match(vscode.state.messages.find((m) => m.level === 'warning')?.text ?? '', /already exists\. Replace it\?/);
    vscode.state.answers.warning = (_t, items) => items.find((i) => i === 'Replace');
    panel.webview.receive.fire({ kind: 'request', id: 8, request: { type: 'export', format: 'png', target: 'ablation-semantic', scale: 0 } });
    await until('response 8', answered(8));
    assert.equal(fs.readFileSync(dest).subarray(1, 4).toString('latin1'), 'PNG');
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    const responses = posted(panel).filter((m) => m.kind === 'response');
    assert.deepEqual(responses.map((r) => [r.id, r.ok]), [[7, true], [8, true]]);
  });

  it('Export Tokens from the explorer on an image without a panel tokenizes it first', async () => {
    const dest = path.join(dir, 'direct.npy');
    vscode.state.answers.quickPick = (items) => items.find((i) => i.id === 'tokens-npy');
    vscode.state.answers.saveDialog = () => vscode.Uri.file(dest);
    await vscode.commands.executeCommand('imagefolderInspector.exportTokens', vscode.Uri.file(image));
    assert.equal(fs.readFileSync(dest).subarray(1, 6).toString('latin1'), 'NUMPY');
  });

  it('Select Model validates the folder and stores it in user settings', async () => {
    const modelDir = path.join(dir, 'model');
    fs.mkdirSync(modelDir);
    vscode.state.answers.quickPick = (items) => items.find((i) => i.id === 'browse');
    vscode.state.answers.openDialog = () => [vscode.Uri.file(modelDir)];
    const changed = await vscode.commands.executeCommand('imagefolderInspector.selectModel');
    assert.equal(changed, true);
    assert.deepEqual(vscode.state.configUpdates, [{ key: 'imagefolderInspector.modelPath', value: modelDir, target: vscode.ConfigurationTarget.Global }]);
    backend.fail = Object.assign(new Error('encoder.onnx is missing'), { code: 'MODEL_MISSING_FILE' });
    const again = await vscode.commands.executeCommand('imagefolderInspector.selectModel');
    assert.equal(again, false);
    assert.equal(vscode.state.configUpdates.length, 1);
    assert.match(vscode.state.messages.at(-1)!.text, /not a usable model: encoder\.onnx is missing/);
  });

  it('hostile messages through the real webview channel never throw nor touch files', async () => {
    await vscode.commands.executeCommand('imagefolderInspector.tokenize', vscode.Uri.file(image));
    const panel = lastPanel();
    const before = fs.readdirSync(dir);
    for (let i = 0; i < 200; i++) {
      panel.webview.receive.fire({ kind: 'request', id: i, request: { type: 'export', format: 'tokens-json', path: path.join(dir, `x${i}`) } });
      panel.webview.receive.fire({ kind: i % 2 ? 'nope' : 'request', id: 'x', request: null });
    }
    await settle();
    assert.deepEqual(fs.readdirSync(dir), before);
    assert.equal(backend.calls.length, 0);
  });
});
