import * as assert from 'node:assert/strict';
import {
  MAX_WEBVIEW_MESSAGE_CHARS,
  PROTOCOL_VERSION,
  isHostMessage,
  parseWebviewMessage,
  parseWebviewState,
  requestMessage,
  type HostToWebview,
  type WebviewToHost,
} from '../../../src/shared/protocol';
import { syntheticInspection } from '../../fixtures/syntheticInspection';

const valid: WebviewToHost[] = [
  { kind: 'ready', protocol: PROTOCOL_VERSION },
  { kind: 'log', level: 'warn', message: 'hello' },
  requestMessage(1, { type: 'reinspect' }),
  requestMessage(2, { type: 'folderUsage' }),
  requestMessage(3, { type: 'selectModel' }),
  requestMessage(4, { type: 'cancel', target: 3 }),
  requestMessage(5, { type: 'export', format: 'tokens-json' }),
  requestMessage(6, { type: 'export', format: 'tokens-npy' }),
  requestMessage(7, { type: 'export', format: 'png', target: 'progressive', scale: 9 }),
  requestMessage(8, { type: 'export', format: 'png', target: 'ablation-semantic', scale: 0 }),
];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
}

describe('protocol: webview -> host', () => {
  it('round-trips every valid message through JSON (postMessage) unchanged', () => {
    for (const m of valid) {
      const r = parseWebviewMessage(JSON.parse(JSON.stringify(m)));
      assert.ok(r.ok, `rejected ${JSON.stringify(m)}: ${r.ok ? '' : r.error}`);
      assert.deepEqual(r.value, m);
    }
  });

  const malformed: [string, unknown][] = [
    ['null', null],
    ['string', 'ready'],
    ['array', [{ kind: 'ready' }]],
    ['no kind', { protocol: 1 }],
    ['unknown kind', { kind: 'runShell', command: 'rm -rf /' }],
    ['wrong protocol', { kind: 'ready', protocol: 2 }],
    ['extra key on ready', { kind: 'ready', protocol: 1, path: '/etc/passwd' }],
    ['request without id', { kind: 'request', request: { type: 'reinspect' } }],
    ['string id', { kind: 'request', id: '1', request: { type: 'reinspect' } }],
    ['zero id', { kind: 'request', id: 0, request: { type: 'reinspect' } }],
    ['fractional id', { kind: 'request', id: 1.5, request: { type: 'reinspect' } }],
    ['NaN id', { kind: 'request', id: NaN, request: { type: 'reinspect' } }],
    ['huge id', { kind: 'request', id: 2 ** 40, request: { type: 'reinspect' } }],
    ['unknown request', { kind: 'request', id: 1, request: { type: 'writeFile', path: '/tmp/x', data: 'x' } }],
    ['path smuggled into export', { kind: 'request', id: 1, request: { type: 'export', format: 'tokens-json', path: '/etc/passwd' } }],
    ['unknown export format', { kind: 'request', id: 1, request: { type: 'export', format: 'exe' } }],
    ['png without scale', { kind: 'request', id: 1, request: { type: 'export', format: 'png', target: 'progressive' } }],
    ['png negative scale', { kind: 'request', id: 1, request: { type: 'export', format: 'png', target: 'progressive', scale: -1 } }],
    ['png bad target', { kind: 'request', id: 1, request: { type: 'export', format: 'png', target: '../../x', scale: 1 } }],
    ['cancel without target', { kind: 'request', id: 1, request: { type: 'cancel' } }],
    ['log bad level', { kind: 'log', level: 'fatal', message: 'x' }],
    ['log non-string', { kind: 'log', level: 'info', message: { toString: 1 } }],
    ['oversized', { kind: 'log', level: 'info', message: 'x'.repeat(MAX_WEBVIEW_MESSAGE_CHARS + 1) }],
    ['huge array', { kind: 'request', id: 1, request: { type: 'reinspect', junk: new Array(100000).fill(0) } }],
    ['class instance', new (class X { kind = 'ready'; protocol = 1 })()],
  ];
  for (const [name, m] of malformed) {
    it(`rejects ${name}`, () => {
      const r = parseWebviewMessage(m);
      assert.equal(r.ok, false);
    });
  }

  it('rejects cyclic structures and throwing getters without throwing', () => {
    const cyc: Record<string, unknown> = { kind: 'request', id: 1 };
    cyc.request = cyc;
    assert.equal(parseWebviewMessage(cyc).ok, false);
    const evil = { kind: 'ready', get protocol(): number { throw new Error('boom'); } };
    assert.equal(parseWebviewMessage(evil).ok, false);
    const proxy = new Proxy({}, { ownKeys: () => { throw new Error('boom'); }, get: () => { throw new Error('boom'); } });
    assert.equal(parseWebviewMessage(proxy).ok, false);
  });

  it('ignores __proto__ tricks', () => {
    const m = JSON.parse('{"kind":"ready","protocol":1,"__proto__":{"admin":true}}') as unknown;
    assert.equal(parseWebviewMessage(m).ok, false);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });

  it('never throws on 1,000 random hostile messages', () => {
    const r = rng(42);
    const atoms: unknown[] = [null, undefined, 0, -1, 1, 1.5, NaN, Infinity, 2 ** 53, '', 'ready', 'request', 'export', 'png', '../../etc/passwd', 'x'.repeat(5000), true, [], {}, () => 1, Symbol('s')];
    const keys = ['kind', 'id', 'request', 'type', 'format', 'target', 'scale', 'protocol', 'level', 'message', 'path', '__proto__', 'constructor'];
    const gen = (depth: number): unknown => {
      if (depth > 3 || r() < 0.4) return atoms[Math.floor(r() * atoms.length)];
      if (r() < 0.2) return Array.from({ length: Math.floor(r() * 5) }, () => gen(depth + 1));
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 5);
      for (let i = 0; i < n; i++) o[keys[Math.floor(r() * keys.length)]] = gen(depth + 1);
      return o;
    };
    let accepted = 0;
    for (let i = 0; i < 1000; i++) {
      const m = gen(0);
      const res = parseWebviewMessage(m);
      if (res.ok) accepted++;
    }
    assert.ok(accepted < 50, `too many random messages accepted: ${accepted}`);
  });
});

describe('protocol: webview state and host messages', () => {
  it('accepts a valid state and rejects bad ones', () => {
    const good = { resource: 'file:///tmp/a.png', mode: 'image', scale: 3, ablation: 'both', highlight: { branch: 1, code: 7 } };
    assert.deepEqual(parseWebviewState(good), { ok: true, value: good });
    assert.equal(parseWebviewState({ ...good, scale: -1 }).ok, false);
    assert.equal(parseWebviewState({ ...good, mode: 'shell' }).ok, false);
    assert.equal(parseWebviewState({ ...good, highlight: { branch: 1 } }).ok, false);
    assert.equal(parseWebviewState({ ...good, extra: 1 }).ok, false);
    assert.equal(parseWebviewState(undefined).ok, false);
  });

  it('recognises host messages, including a full inspection', () => {
    const msgs: HostToWebview[] = [
      { kind: 'init', protocol: PROTOCOL_VERSION, info: { title: 'a.png', resource: 'file:///a.png', mode: 'image' } },
      { kind: 'busy', message: 'x' },
      { kind: 'inspection', inspection: syntheticInspection() },
      { kind: 'error', message: 'bad', code: 'IMAGE_CORRUPT' },
      { kind: 'response', id: 3, ok: true, result: 'saved' },
      { kind: 'response', id: 3, ok: false, error: 'no' },
    ];
    for (const m of msgs) assert.ok(isHostMessage(JSON.parse(JSON.stringify(m))), m.kind);
    assert.equal(isHostMessage({ kind: 'inspection' }), false);
    assert.equal(isHostMessage({ kind: 'nope' }), false);
    assert.equal(isHostMessage(null), false);
  });
});
