import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InspectorController } from '../../../src/extension/host/inspector/controller';
import type { HostToWebview } from '../../../src/shared/protocol/messages';
import { defaultSettings, FakeBackend, FakeUi, MemLog } from './fakes';

function setup(mode: 'image' | 'folder' = 'image', file = '/imgs/cat.png') {
  const backend = new FakeBackend();
  const ui = new FakeUi();
  const log = new MemLog();
  const posted: HostToWebview[] = [];
  const session = new InspectorController(
    { mode, path: file, resource: `file://${file}` },
    { backend, ui, log, settings: defaultSettings, post: (m) => void posted.push(JSON.parse(JSON.stringify(m)) as HostToWebview) },
  );
  return { backend, ui, log, posted, session };
}

const kinds = (p: HostToWebview[]) => p.map((m) => m.kind);

describe('host session', () => {
  it('answers ready with init, then runs the inspection with progress and logs model/provider/timings', async () => {
    const { session, posted, backend, ui, log } = setup();
    await session.handleMessage({ kind: 'ready', protocol: 1 });
    assert.deepEqual(kinds(posted), ['init', 'busy', 'inspection']);
    assert.equal(backend.calls[0].path, '/imgs/cat.png');
    assert.match(ui.progress[0], /tokenizing cat\.png/);
    assert.ok(log.lines.some((l) => /model "synthetic-test-model".*provider encoder=cpu, decoder=cpu.*ms/.test(l)), log.lines.join('\n'));
    assert.ok(log.lines.some((l) => /webgpu skipped: No supported adapters/.test(l)));
    // a second ready (webview reloaded) reuses the result instead of recomputing
    await session.handleMessage({ kind: 'ready', protocol: 1 });
    assert.equal(backend.calls.length, 1);
    assert.deepEqual(kinds(posted).slice(3), ['init', 'inspection']);
  });

  it('a webview that loads while work is running gets the busy line, then the one result', async () => {
    const { session, posted, backend } = setup();
    backend.delayMs = 50;
    const run = session.refresh();
    await session.handleMessage({ kind: 'ready', protocol: 1 });
    await run;
    assert.deepEqual(kinds(posted), ['busy', 'init', 'busy', 'inspection']);
    assert.equal(backend.calls.length, 1);
  });

  it('streams an inspection: its head, each tile with the count, then the finished inspection; a reloaded webview gets what was sent so far', async () => {
    const { session, posted, backend, ui } = setup();
    backend.stream = true;
    await session.handleMessage({ kind: 'ready', protocol: 1 });
    const N = 10;
    assert.deepEqual(kinds(posted), ['init', 'busy', 'inspectionStart', ...new Array<string>(2 * N + 1).fill('tile'), 'inspection']);
    const start = posted[2];
    assert.ok(start.kind === 'inspectionStart' && start.total === 2 * N + 1 && start.head.indices.length === 2);
    const tiles = posted.filter((m) => m.kind === 'tile');
    assert.deepEqual(tiles.map((m) => m.done), Array.from({ length: 2 * N + 1 }, (_, i) => i + 1));
    assert.ok(tiles[0].kind === 'tile' && tiles[0].tile.kind === 'progressive' && tiles[0].tile.scale === N - 1, 'the full reconstruction first');
    assert.equal(ui.progress.length, 1);
    // mid-stream reload: the webview is sent the busy line, the head and the tiles so far
    const slow = setup();
    slow.backend.stream = true;
    slow.backend.delayMs = 30;
    let sent = 0;
    const origStream = slow.backend.inspect.bind(slow.backend);
    slow.backend.inspect = (p, o) =>
      origStream(p, {
        ...o,
        onProgress: (e) => {
          o.onProgress?.(e);
          if (++sent === 3) void slow.session.handleMessage({ kind: 'ready', protocol: 1 });
        },
      });
    await slow.session.refresh();
    await slow.session.idle();
    const k = kinds(slow.posted);
    const reload = k.indexOf('init');
    assert.deepEqual(k.slice(reload, reload + 5), ['init', 'busy', 'inspectionStart', 'tile', 'tile'], k.join(','));
    assert.equal(k.at(-1), 'inspection');
  });

  it('a one-branch model: Swap branches is refused with the reason, without asking for an image', async () => {
    const { session, posted, backend } = setup();
    backend.oneBranch = true;
    let asked = 0;
    const s2 = new InspectorController({ mode: 'image', path: '/imgs/cat.png', resource: 'file:///imgs/cat.png' }, {
      backend,
      ui: new FakeUi(),
      log: new MemLog(),
      settings: defaultSettings,
      post: (m) => void posted.push(JSON.parse(JSON.stringify(m)) as HostToWebview),
      swapWith: () => {
        asked++;
        return Promise.resolve();
      },
    });
    void session;
    await s2.refresh();
    assert.equal(s2.lastInspection?.ablation, undefined);
    await s2.handleMessage({ kind: 'request', id: 7, request: { type: 'swapWith' } });
    const r = posted.at(-1);
    assert.ok(r && r.kind === 'response' && !r.ok, JSON.stringify(r));
    assert.match(r.error, /Swapping branches needs a model with a detail and a semantic branch; "one-branch-model" has one branch/);
    assert.equal(asked, 0);
    // and no ablation to export
    await s2.handleMessage({ kind: 'request', id: 8, request: { type: 'export', format: 'png', target: 'ablation-detail', scale: 0 } });
    assert.ok(posted.some((m) => m.kind === 'error' && /has one branch: there are no branch ablations/.test(m.message)), JSON.stringify(posted.at(-1)));
  });

  it('reports a deleted image in the panel', async () => {
    const { session, posted } = setup();
    session.fileGone();
    const last = posted.at(-1);
    assert.ok(last && last.kind === 'error' && last.code === 'IMAGE_NOT_FOUND');
  });

  it('answers requests with their id', async () => {
    const { session, posted } = setup();
    await session.handleMessage({ kind: 'request', id: 41, request: { type: 'reinspect' } });
    const r = posted.find((m) => m.kind === 'response');
    assert.deepEqual(r, { kind: 'response', id: 41, ok: true });
  });

  it("refuses the Generate view's requests (generate, saveSample, inspectSample), naming the view", async () => {
    const { session, posted, backend } = setup();
    await session.handleMessage({ kind: 'request', id: 1, request: { type: 'inspectSample', run: 1, sample: 0 } });
    await session.handleMessage({ kind: 'request', id: 2, request: { type: 'saveSample', run: 1, sample: 0, format: 'png' } });
    const rs = posted.filter((m) => m.kind === 'response');
    assert.equal(rs.length, 2);
    for (const r of rs) assert.ok(r.kind === 'response' && !r.ok && /belongs to the Generate view/.test(r.error), JSON.stringify(r));
    assert.equal(backend.calls.length, 0);
  });

  it('a generated sample: inspects its tokens (not a file), titles the panel after it, and re-runs on the same tokens', async () => {
    const backend = new FakeBackend();
    const posted: HostToWebview[] = [];
    const ui = new FakeUi();
    const tokens = { tokens: [[1, 2], [3, 4]], modelDir: '/models/m', name: 'Flags, seed 3, sample 1', notes: ['generated'] };
    const session = new InspectorController(
      { mode: 'generated', path: '/work/Flags-seed3-0', resource: 'imagefolder-generated:1', tokens },
      { backend, ui, log: new MemLog(), settings: defaultSettings, post: (m) => void posted.push(JSON.parse(JSON.stringify(m)) as HostToWebview) },
    );
    await session.handleMessage({ kind: 'ready', protocol: 1 });
    await session.idle();
    assert.deepEqual(posted[0], { kind: 'init', protocol: 1, info: { title: tokens.name, resource: 'imagefolder-generated:1', mode: 'generated' } });
    assert.match(ui.progress[0], /decoding Flags, seed 3, sample 1/);
    assert.deepEqual(backend.calls.map((c) => [c.op, c.path]), [['inspectTokens', '/models/m']]);
    await session.handleMessage({ kind: 'request', id: 5, request: { type: 'reinspect' } });
    assert.deepEqual(backend.calls.map((c) => c.op), ['inspectTokens', 'inspectTokens']);
    const ins = session.lastInspection!;
    assert.equal(ins.source, 'tokens');
    assert.deepEqual(ins.indices, tokens.tokens);
  });

  it('reports errors as notification + webview error with actionable text', async () => {
    const { session, posted, backend, ui } = setup();
    backend.fail = Object.assign(new Error('not a PNG: truncated data'), { code: 'IMAGE_CORRUPT', name: 'UserError' });
    await session.refresh();
    const e = posted.find((m) => m.kind === 'error');
    assert.ok(e && e.kind === 'error');
    assert.equal(e.code, 'IMAGE_CORRUPT');
    assert.match(e.message, /Could not tokenize cat\.png: not a PNG: truncated data\. Check that the file/);
    assert.equal(ui.errors.length, 1);
    backend.fail = Object.assign(new Error('/imgs/cat.png: corrupt or truncated image (corrupt header)'), { code: 'IMAGE_CORRUPT', name: 'UserError' });
    await session.refresh();
    assert.match(ui.errors[1].message, /^Could not tokenize cat\.png: corrupt or truncated image \(corrupt header\)\. Check/);
    backend.fail = Object.assign(new Error('manifest.json: scales do not sum to 286'), { code: 'MODEL_BAD_MANIFEST' });
    await session.refresh();
    assert.deepEqual(ui.errors[2].actions, ['Select Model', 'Open Settings', 'Show Log']);
    assert.match(ui.errors[2].message, /manifest\.json: scales do not sum/);
  });

  it('cancellation from the progress notification ends quietly', async () => {
    const { session, posted, backend, ui } = setup();
    backend.delayMs = 1000;
    ui.cancelProgress = true;
    const t0 = Date.now();
    await session.refresh();
    assert.ok(Date.now() - t0 < 500);
    assert.equal(ui.errors.length, 0, 'no error notification for a cancellation');
    assert.ok(posted.some((m) => m.kind === 'error' && m.code === 'CANCELLED'));
  });

  it('a cancel request aborts the running work; latest refresh wins', async () => {
    const { session, posted, backend } = setup();
    backend.delayMs = 200;
    const first = session.refresh();
    const second = session.refresh();
    await Promise.all([first, second]);
    assert.equal(posted.filter((m) => m.kind === 'inspection').length, 1);
    const third = session.refresh();
    await session.handleMessage({ kind: 'request', id: 9, request: { type: 'cancel', target: 0 } });
    await third;
    assert.equal(posted.filter((m) => m.kind === 'inspection').length, 1);
  });

  it('posts nothing after the panel is disposed mid-inference', async () => {
    const { session, posted, backend } = setup();
    backend.delayMs = 50;
    const p = session.refresh();
    session.dispose();
    await p;
    assert.deepEqual(kinds(posted), ['busy']);
  });

  it('computes folder usage for the image folder on request', async () => {
    const { session, posted, backend } = setup();
    await session.handleMessage({ kind: 'request', id: 2, request: { type: 'folderUsage' } });
    assert.equal(backend.calls[0].op, 'folder');
    assert.equal(backend.calls[0].path, '/imgs');
    assert.ok(posted.some((m) => m.kind === 'folderUsage'));
    assert.deepEqual(posted.at(-1), { kind: 'response', id: 2, ok: true, result: '2 images' });
  });

  it('runs one folder scan at a time', async () => {
    const { session, posted, backend } = setup();
    backend.delayMs = 30;
    await Promise.all([
      session.handleMessage({ kind: 'request', id: 1, request: { type: 'folderUsage' } }),
      session.handleMessage({ kind: 'request', id: 2, request: { type: 'folderUsage' } }),
    ]);
    assert.equal(backend.calls.filter((c) => c.op === 'folder').length, 1);
    const r2 = posted.find((m) => m.kind === 'response' && m.id === 2);
    assert.ok(r2 && r2.kind === 'response' && !r2.ok);
  });

  it('folder-mode sessions compute folder usage on ready', async () => {
    const { session, posted, backend } = setup('folder', '/imgs');
    await session.handleMessage({ kind: 'ready', protocol: 1 });
    assert.deepEqual(kinds(posted), ['init', 'busy', 'folderUsage']);
    assert.equal(backend.calls[0].op, 'folder');
  });

  describe('export', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-session-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('writes only where the user chose, after the dialog', async () => {
      const { session, ui, posted } = setup('image', path.join(dir, 'cat.png'));
      await session.refresh();
      ui.saveAnswer = undefined;
      await session.handleMessage({ kind: 'request', id: 5, request: { type: 'export', format: 'tokens-json' } });
      assert.deepEqual(fs.readdirSync(dir), [], 'dismissed dialog writes nothing');
      assert.equal(ui.saveDialogs[0].defaultPath, path.join(dir, 'cat.tokens.json'));
      const dest = path.join(dir, 'chosen.json');
      ui.saveAnswer = dest;
      await session.handleMessage({ kind: 'request', id: 6, request: { type: 'export', format: 'tokens-json' } });
      assert.deepEqual(fs.readdirSync(dir), ['chosen.json']);
      assert.deepEqual(posted.at(-1), { kind: 'response', id: 6, ok: true, result: 'saved chosen.json' });
    });

    it('asks before replacing a file and keeps it when the user declines', async () => {
      const { session, ui } = setup('image', path.join(dir, 'cat.png'));
      await session.refresh();
      const dest = path.join(dir, 'keep.npy');
      fs.writeFileSync(dest, 'precious');
      ui.saveAnswer = dest;
      ui.overwriteAnswer = false;
      await session.handleMessage({ kind: 'request', id: 1, request: { type: 'export', format: 'tokens-npy' } });
      assert.deepEqual(ui.overwritePrompts, [dest]);
      assert.equal(fs.readFileSync(dest, 'utf8'), 'precious');
      ui.overwriteAnswer = true;
      await session.handleMessage({ kind: 'request', id: 2, request: { type: 'export', format: 'png', target: 'progressive', scale: 2 } });
      assert.notEqual(fs.readFileSync(dest, 'utf8'), 'precious');
      assert.deepEqual(fs.readdirSync(dir).sort(), ['keep.npy']);
    });

    it('refuses to export before an inspection exists', async () => {
      const { session, ui, posted } = setup('image', path.join(dir, 'cat.png'));
      await session.handleMessage({ kind: 'request', id: 3, request: { type: 'export', format: 'tokens-json' } });
      assert.equal(ui.saveDialogs.length, 0);
      const last = posted.at(-1);
      assert.ok(last && last.kind === 'response' && !last.ok);
    });
  });

  it('survives 1,000 malformed or hostile messages without throwing, acting or touching files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-hostile-'));
    try {
      const { session, backend, ui, posted, log } = setup('image', path.join(dir, 'cat.png'));
      const hostile: unknown[] = [
        null, undefined, 42, 'ready', [], {}, { kind: 'ready' }, { kind: 'ready', protocol: '1' },
        { kind: 'request', id: 1, request: { type: 'export', format: 'tokens-json', path: '/etc/passwd' } },
        { kind: 'request', id: 1, request: { type: 'writeFile', path: path.join(dir, 'x') } },
        { kind: 'request', id: -1, request: { type: 'reinspect' } },
        { kind: 'request', id: 1, request: { type: 'reinspect', image: '/etc/shadow' } },
        { kind: 'request', id: 1, request: { type: 'export', format: 'png', target: 'input', scale: 1e9 } },
        { kind: 'log', level: 'info', message: 'x'.repeat(100_000) },
        { kind: 'openExternal', url: 'https://example.com' },
        { kind: 'request', id: 1, request: { type: 'folderUsage', folder: '/' } },
      ];
      for (let i = 0; i < 1000; i++) {
        const base = hostile[i % hostile.length];
        const m = i % 3 === 0 && typeof base === 'object' && base !== null ? { ...base, [`k${i}`]: i } : base;
        await session.handleMessage(m);
      }
      assert.equal(backend.calls.length, 0, 'backend never called');
      assert.equal(ui.saveDialogs.length, 0, 'no dialog');
      assert.equal(posted.length, 0, 'no reply to invalid messages');
      assert.equal(session.rejectedMessages, 1000);
      assert.ok(log.lines.length < 30, 'rejections are rate-limited in the log');
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
