// "Generate Images" through the activated extension (vscode stubbed at the boundary) with the REAL
// core backend: the tiny test package (which has a generator) as imagefolderInspector.modelPath,
// and a copy of it without the generator.
import './vscode-stub';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CoreBackend } from '../../../src/extension/host/coreBackend';
import { GeneratedStore } from '../../../src/extension/host/inspector/generatedStore';
import { activateWith } from '../../../src/extension/host/extension';
import type { HostToWebview } from '../../../src/shared/protocol/messages';
import * as vscode from './fakeVscode';
import { packageWithoutGenerator, repoRoot, TINY } from './tinyModel';

const root = repoRoot();
const CLASSES = (JSON.parse(fs.readFileSync(path.join(TINY, 'manifest.json'), 'utf8')) as { classes: string[] }).classes;

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Generate Images in the extension (real backend, tiny test package)', function () {
  this.timeout(180_000);
  let ctx: ReturnType<typeof vscode.makeContext>;
  let dir: string;

  const posted = (p: vscode.FakePanel) => p.webview.posted as HostToWebview[];
  const generatePanels = () => vscode.state.panels.filter((p) => p.viewType === 'imagefolderInspector.generate');

  /** workspaceState: the previous activation's, to model a window reload */
  function activate(modelPath: string, workspaceState?: vscode.FakeMemento): void {
    vscode.resetState();
    vscode.state.config.set('imagefolderInspector.modelPath', { defaultValue: '', globalValue: modelPath });
    vscode.state.config.set('imagefolderInspector.provider', { defaultValue: 'auto', globalValue: 'cpu' });
    ctx = vscode.makeContext(root, workspaceState);
    activateWith(ctx as never, (log) => new CoreBackend(log));
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-genext-'));
  });
  afterEach(() => {
    for (const d of ctx?.subscriptions ?? []) d.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('on a model without a generator: a message naming the model, no panel', async () => {
    activate(packageWithoutGenerator(dir));
    await vscode.commands.executeCommand('imagefolderInspector.generate');
    assert.equal(vscode.state.panels.length, 0);
    const m = vscode.state.messages.at(-1);
    assert.ok(m);
    assert.match(m.text, /cannot generate images: the model "tiny-without-generator" has no generator/);
    assert.deepEqual(m.items, ['Select Model']);
  });

  it('opens one Generate panel (strict CSP, generate view) that generates with previews; the command reveals it again', async () => {
    activate(TINY);
    await vscode.commands.executeCommand('imagefolderInspector.generate');
    assert.deepEqual(vscode.state.messages, []);
    const [panel] = generatePanels();
    assert.ok(panel, 'a Generate panel');
    assert.equal(panel.title, 'Generate');
    assert.match(panel.webview.html, /<main id="app" data-testid="generator" data-view="generate"/);
    assert.match(panel.webview.html, /script-src 'nonce-/);
    assert.deepEqual(panel.webview.options.localResourceRoots, []);
    panel.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await until('the generator view', () => posted(panel).some((m) => m.kind === 'generator'));
    const g = posted(panel).find((m) => m.kind === 'generator');
    assert.ok(g && g.kind === 'generator');
    assert.deepEqual(g.view.classes, CLASSES);
    panel.webview.receive.fire({ kind: 'request', id: 1, request: { type: 'generate', params: { ...g.view.defaults, classId: CLASSES.length - 1, count: 1 } } });
    await until('the response', () => posted(panel).some((m) => m.kind === 'response' && m.id === 1));
    const kinds = posted(panel).map((m) => m.kind);
    assert.equal(kinds.filter((k) => k === 'generationScale').length, g.view.scales.length);
    assert.ok(kinds.includes('generationDone'), kinds.join());
    await vscode.commands.executeCommand('imagefolderInspector.generate');
    assert.equal(generatePanels().length, 1, 'revealed, not duplicated');
  });

  it('an inspector\'s "Generate with detail tokens" opens a Generate panel with that image as the reference', async () => {
    activate(TINY);
    const image = path.join(dir, 'cat.png');
    fs.copyFileSync(path.join(root, 'samples', 'cat-face.png'), image);
    await vscode.commands.executeCommand('imagefolderInspector.tokenize', vscode.Uri.file(image));
    const inspector = vscode.state.panels.at(-1)!;
    inspector.webview.receive.fire({ kind: 'request', id: 4, request: { type: 'generateFrom', force: 'semantic' } });
    await until('the response', () => posted(inspector).some((m) => m.kind === 'response' && m.id === 4));
    assert.deepEqual(posted(inspector).find((m) => m.kind === 'response'), { kind: 'response', id: 4, ok: true });
    const [panel] = generatePanels();
    assert.ok(panel);
    assert.equal(panel.title, 'Generate: cat.png');
    panel.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await until('the generator view', () => posted(panel).some((m) => m.kind === 'generator'));
    const init = posted(panel).find((m) => m.kind === 'init');
    assert.ok(init && init.kind === 'init' && init.info.resource === vscode.Uri.file(image).toString());
    const g = posted(panel).find((m) => m.kind === 'generator');
    assert.ok(g && g.kind === 'generator' && g.view.reference?.title === 'cat.png' && g.view.defaults.force === 'semantic');
  });

  it("a sample's Inspect opens one inspector panel on its tokens (again: revealed), restored after a reload", async () => {
    activate(TINY);
    await vscode.commands.executeCommand('imagefolderInspector.generate');
    const [panel] = generatePanels();
    panel.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await until('the generator view', () => posted(panel).some((m) => m.kind === 'generator'));
    const g = posted(panel).find((m) => m.kind === 'generator');
    assert.ok(g && g.kind === 'generator');
    panel.webview.receive.fire({ kind: 'request', id: 1, request: { type: 'generate', params: { ...g.view.defaults, classId: 0, seed: 5, count: 2 } } });
    await until('the generation', () => posted(panel).some((m) => m.kind === 'response' && m.id === 1));
    const done = posted(panel).find((m) => m.kind === 'generationDone');
    assert.ok(done && done.kind === 'generationDone');
    const inspectors = () => vscode.state.panels.filter((p) => p.viewType === 'imagefolderInspector.panel');
    panel.webview.receive.fire({ kind: 'request', id: 2, request: { type: 'inspectSample', run: done.run, sample: 1 } });
    await until('the response', () => posted(panel).some((m) => m.kind === 'response' && m.id === 2));
    assert.equal(inspectors().length, 1);
    const ins = inspectors()[0];
    assert.equal(ins.title, `Inspector: ${CLASSES[0]}, seed 5, sample 2`);
    assert.match(ins.webview.html, /script-src 'nonce-/);
    ins.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await until('the inspection', () => posted(ins).some((m) => m.kind === 'inspection'));
    const init = posted(ins).find((m) => m.kind === 'init');
    assert.ok(init && init.kind === 'init' && init.info.mode === 'generated');
    const inspection = posted(ins).find((m) => m.kind === 'inspection');
    assert.ok(inspection && inspection.kind === 'inspection');
    assert.equal(inspection.inspection.input.pngBase64, done.samples[1], 'the generated image');
    // the same sample again reveals that panel; the other sample gets its own
    panel.webview.receive.fire({ kind: 'request', id: 3, request: { type: 'inspectSample', run: done.run, sample: 1 } });
    await until('the response', () => posted(panel).some((m) => m.kind === 'response' && m.id === 3));
    assert.equal(inspectors().length, 1, 'revealed, not duplicated');
    panel.webview.receive.fire({ kind: 'request', id: 4, request: { type: 'inspectSample', run: done.run, sample: 0 } });
    await until('the response', () => posted(panel).some((m) => m.kind === 'response' && m.id === 4));
    assert.equal(inspectors().length, 2);
    // the webview state holds an opaque id only; the host keeps the tokens for a reload
    const id = init.info.resource;
    assert.match(id, /^imagefolder-generated:[0-9a-f-]{36}$/);
    const before = ctx.workspaceState;
    for (const d of ctx.subscriptions) d.dispose(); // the window goes away: deactivation
    activate(TINY, before);
    const serializer = vscode.state.serializers.get('imagefolderInspector.panel') as { deserializeWebviewPanel(p: unknown, s: unknown): Promise<void> };
    const state = (resource: string) => ({ resource, mode: 'generated', scale: 3, ablation: 'both', highlight: null });
    const restored = new vscode.FakePanel('imagefolderInspector.panel', ins.title);
    await serializer.deserializeWebviewPanel(restored, state(id));
    assert.equal(restored.disposed, false);
    restored.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await until('the restored inspection', () => posted(restored).some((m) => m.kind === 'inspection' || m.kind === 'error'));
    const again = posted(restored).find((m) => m.kind === 'inspection');
    assert.ok(again && again.kind === 'inspection', JSON.stringify(posted(restored).find((m) => m.kind === 'error')));
    assert.equal(again.inspection.input.pngBase64, done.samples[1], 'the same generated image after the reload');
    assert.deepEqual(again.inspection.indices, inspection.inspection.indices);
    // the same sample restored twice (two windows' state) gets one panel
    const twice = new vscode.FakePanel('imagefolderInspector.panel', ins.title);
    await serializer.deserializeWebviewPanel(twice, state(id));
    assert.equal(twice.disposed, true);
    // an id the host does not keep, and a sample whose model folder is gone: closed, with a reason in the log
    const unknown = new vscode.FakePanel('imagefolderInspector.panel', 'x');
    await serializer.deserializeWebviewPanel(unknown, state('imagefolder-generated:00000000-0000-0000-0000-000000000000'));
    assert.equal(unknown.disposed, true);
    const store = new GeneratedStore(before);
    const goneDir = path.join(dir, 'deleted-model');
    await store.remember('imagefolder-generated:gone', { tokens: { tokens: [[0]], modelDir: goneDir, name: 'x', notes: [] }, exportPath: path.join(dir, 'x') });
    const gone = new vscode.FakePanel('imagefolderInspector.panel', 'x');
    await serializer.deserializeWebviewPanel(gone, state('imagefolder-generated:gone'));
    assert.equal(gone.disposed, true);
    assert.equal(store.recall('imagefolder-generated:gone'), undefined, 'forgotten');
    assert.ok(vscode.state.log.some((l) => l.includes(`${goneDir} no longer exists`)), vscode.state.log.join('\n'));
  });

  it('restores a Generate panel from valid state after a reload and drops invalid state', async () => {
    activate(TINY);
    const serializer = vscode.state.serializers.get('imagefolderInspector.generate') as { deserializeWebviewPanel(p: unknown, s: unknown): Promise<void> };
    const params = { classId: 1, cfg: 2, topK: 0, topP: 0.9, temperature: 1, seed: 3, count: 2, force: 'none' };
    const image = path.join(dir, 'ref.png');
    fs.copyFileSync(path.join(root, 'samples', 'cat-face.png'), image);
    const good = new vscode.FakePanel('imagefolderInspector.generate', 'Generate');
    await serializer.deserializeWebviewPanel(good, { view: 'generate', params, reference: null });
    assert.equal(good.disposed, false);
    assert.match(good.webview.html, /data-view="generate"/);
    good.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await until('the generator view', () => posted(good).some((m) => m.kind === 'generator'));
    const withRef = new vscode.FakePanel('imagefolderInspector.generate', 'Generate: ref.png');
    await serializer.deserializeWebviewPanel(withRef, { view: 'generate', params: { ...params, force: 'detail' }, reference: vscode.Uri.file(image).toString() });
    assert.equal(withRef.disposed, false);
    withRef.webview.receive.fire({ kind: 'ready', protocol: 1 });
    await until('the generator view', () => posted(withRef).some((m) => m.kind === 'generator'));
    const g = posted(withRef).find((m) => m.kind === 'generator');
    assert.ok(g && g.kind === 'generator' && g.view.reference?.title === 'ref.png' && g.view.defaults.force === 'detail');
    const bad = [
      undefined,
      { view: 'generate', params: { ...params, cfg: -1 }, reference: null },
      { view: 'generate', params, reference: 'https://evil.example/x.png' },
      { view: 'generate', params, reference: vscode.Uri.file('/etc/passwd').toString() },
      { view: 'generate', params, reference: null, extra: 1 },
      { resource: 'file:///x.png', mode: 'image', scale: 0, ablation: 'both', highlight: null },
    ];
    for (const s of bad) {
      const p = new vscode.FakePanel('imagefolderInspector.generate', 'x');
      await serializer.deserializeWebviewPanel(p, s);
      assert.equal(p.disposed, true, JSON.stringify(s));
    }
  });
});
