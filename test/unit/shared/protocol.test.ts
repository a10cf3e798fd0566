import * as assert from 'node:assert/strict';
import { MAX_WEBVIEW_MESSAGE_CHARS, PROTOCOL_VERSION } from '../../../src/shared/protocol/common';
import { MAX_CFG, MAX_GENERATE_COUNT, MAX_GENERATE_SEED, MAX_TEMPERATURE, MAX_TOP_K } from '../../../src/shared/limits';
import { parseGenerateParams, parseGenerateState, type GenerateParams } from '../../../src/shared/protocol/generate';
import { parseWebviewState } from '../../../src/shared/protocol/inspector';
import { isHostMessage, parseWebviewMessage, type HostToWebview, type Request, type WebviewToHost } from '../../../src/shared/protocol/messages';
import { syntheticInspection } from '../../fixtures/syntheticInspection';

const requestMessage = (id: number, request: Request): WebviewToHost => ({ kind: 'request', id, request });

const valid: WebviewToHost[] = [
  { kind: 'ready', protocol: PROTOCOL_VERSION },
  { kind: 'log', level: 'warn', message: 'hello' },
  requestMessage(1, { type: 'reinspect' }),
  requestMessage(2, { type: 'folderUsage' }),
  requestMessage(3, { type: 'selectModel' }),
  requestMessage(4, { type: 'cancel', target: 3 }),
  requestMessage(5, { type: 'export', format: 'tokens-json' }),
  requestMessage(6, { type: 'export', format: 'tokens-npy' }),
  requestMessage(6, { type: 'export', format: 'sheet' }),
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
    ['sheet with a scale', { kind: 'request', id: 1, request: { type: 'export', format: 'sheet', scale: 2 } }],
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

describe('protocol: the Generate view', () => {
  const params: GenerateParams = { classId: 2, cfg: 3, topK: 600, topP: 0.95, temperature: 1, seed: 7, count: 4, force: 'none' };
  const gen = (p: Record<string, unknown>) => ({ kind: 'request', id: 1, request: { type: 'generate', params: { ...params, ...p } } });

  it('round-trips valid generate, saveSample, inspectSample, generateFrom and swapWith requests', () => {
    const ok: WebviewToHost[] = [
      requestMessage(1, { type: 'generate', params }),
      requestMessage(2, { type: 'generate', params: { ...params, cfg: 0, topK: 0, topP: 1, temperature: 0.01, seed: 0, count: 1, force: 'detail' } }),
      requestMessage(3, { type: 'generate', params: { ...params, cfg: MAX_CFG, topK: MAX_TOP_K, temperature: MAX_TEMPERATURE, seed: MAX_GENERATE_SEED, count: MAX_GENERATE_COUNT, force: 'semantic' } }),
      requestMessage(4, { type: 'saveSample', run: 1, sample: 0, format: 'png' }),
      requestMessage(5, { type: 'saveSample', run: 9, sample: MAX_GENERATE_COUNT - 1, format: 'tokens-json' }),
      requestMessage(6, { type: 'saveSample', run: 9, sample: 3, format: 'tokens-npy' }),
      requestMessage(7, { type: 'generateFrom', force: 'detail' }),
      requestMessage(8, { type: 'generateFrom', force: 'semantic' }),
      requestMessage(9, { type: 'inspectSample', run: 2, sample: MAX_GENERATE_COUNT - 1 }),
      requestMessage(10, { type: 'swapWith' }),
    ];
    for (const m of ok) {
      const r = parseWebviewMessage(JSON.parse(JSON.stringify(m)));
      assert.ok(r.ok, `rejected ${JSON.stringify(m)}: ${r.ok ? '' : r.error}`);
      assert.deepEqual(r.value, m);
    }
  });

  const hostile: [string, unknown, RegExp][] = [
    ['negative cfg', gen({ cfg: -0.5 }), /cfg must be a number from 0/],
    ['NaN cfg', gen({ cfg: NaN }), /cfg/],
    ['infinite cfg', gen({ cfg: Infinity }), /cfg/],
    ['string cfg', gen({ cfg: '3' }), /cfg/],
    ['top-p 0', gen({ topP: 0 }), /top-p must be a number in \(0, 1\]/],
    ['top-p above 1', gen({ topP: 1.01 }), /top-p/],
    ['fractional top-k', gen({ topK: 2.5 }), /top-k must be an integer from 0 to 1048576/],
    ['top-k over the cap', gen({ topK: MAX_TOP_K + 1 }), /top-k/],
    ['cfg over the cap', gen({ cfg: MAX_CFG + 1 }), /cfg must be a number from 0 to 100/],
    ['negative top-k', gen({ topK: -1 }), /top-k/],
    ['temperature 0', gen({ temperature: 0 }), /temperature must be a number > 0/],
    ['negative temperature', gen({ temperature: -1 }), /temperature/],
    ['negative seed', gen({ seed: -1 }), /seed must be an integer from 0 to 9007199254740991/],
    ['seed beyond 2^53', gen({ seed: 2 ** 60 }), /seed/],
    ['fractional seed', gen({ seed: 1.5 }), /seed/],
    ['count 0', gen({ count: 0 }), /count must be an integer from 1 to 64/],
    ['count above the cap', gen({ count: MAX_GENERATE_COUNT + 1 }), /count/],
    ['negative class', gen({ classId: -1 }), /class must be one of/],
    ['fractional class', gen({ classId: 0.5 }), /class/],
    ['unknown force', gen({ force: 'both' }), /force must be none, detail or semantic/],
    ['a path smuggled into params', gen({ path: '/etc/passwd' }), /unexpected key "path"/],
    ['missing params field', { kind: 'request', id: 1, request: { type: 'generate', params: { classId: 0 } } }, /missing/],
    ['params not an object', { kind: 'request', id: 1, request: { type: 'generate', params: [1, 2] } }, /params must be an object/],
    ['extra key on generate', { kind: 'request', id: 1, request: { type: 'generate', params, model: '/tmp/evil' } }, /unexpected key "model"/],
    ['save: a path', { kind: 'request', id: 1, request: { type: 'saveSample', run: 1, sample: 0, format: 'png', path: '/tmp/x.png' } }, /unexpected key "path"/],
    ['save: run 0', { kind: 'request', id: 1, request: { type: 'saveSample', run: 0, sample: 0, format: 'png' } }, /run must be a generation id/],
    ['save: negative sample', { kind: 'request', id: 1, request: { type: 'saveSample', run: 1, sample: -1, format: 'png' } }, /sample must be an integer from 0 to 63/],
    ['save: sample beyond the cap', { kind: 'request', id: 1, request: { type: 'saveSample', run: 1, sample: 64, format: 'png' } }, /sample/],
    ['save: unknown format', { kind: 'request', id: 1, request: { type: 'saveSample', run: 1, sample: 0, format: 'exe' } }, /format must be png, tokens-json or tokens-npy/],
    ['inspect sample: a path', { kind: 'request', id: 1, request: { type: 'inspectSample', run: 1, sample: 0, path: '/etc' } }, /inspectSample: unexpected key "path"/],
    ['inspect sample: run 0', { kind: 'request', id: 1, request: { type: 'inspectSample', run: 0, sample: 0 } }, /inspectSample: run must be a generation id/],
    ['inspect sample: fractional sample', { kind: 'request', id: 1, request: { type: 'inspectSample', run: 1, sample: 0.5 } }, /inspectSample: sample must be an integer from 0 to 63/],
    ['inspect sample: no sample', { kind: 'request', id: 1, request: { type: 'inspectSample', run: 1 } }, /inspectSample: missing "sample"/],
    ['generateFrom: none', { kind: 'request', id: 1, request: { type: 'generateFrom', force: 'none' } }, /force must be detail or semantic/],
    ['generateFrom: a path', { kind: 'request', id: 1, request: { type: 'generateFrom', force: 'detail', image: '/etc/passwd' } }, /unexpected key "image"/],
    ['swapWith: a path', { kind: 'request', id: 1, request: { type: 'swapWith', other: '/etc/passwd' } }, /swapWith: unexpected key "other"/],
  ];
  for (const [name, m, why] of hostile) {
    it(`rejects ${name} with a specific error`, () => {
      const r = parseWebviewMessage(m);
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, why);
    });
  }

  it('bounds the class by the model when the host knows its classes', () => {
    assert.ok(parseGenerateParams(params, 3).ok);
    const r = parseGenerateParams({ ...params, classId: 3 }, 3);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /class must be one of the model's 3 classes \(got 3\)/);
  });

  it('validates the Generate view state', () => {
    const good = { view: 'generate', params, reference: 'file:///tmp/a.png' };
    // `shown` (settings of the samples on screen) is optional: states saved before it existed restore
    assert.deepEqual(parseGenerateState(good), { ok: true, value: { ...good, shown: null } });
    assert.deepEqual(parseGenerateState({ ...good, reference: null }), { ok: true, value: { ...good, reference: null, shown: null } });
    const shown = { ...params, seed: 99, count: 2 };
    assert.deepEqual(parseGenerateState({ ...good, shown }), { ok: true, value: { ...good, shown } });
    assert.deepEqual(parseGenerateState({ ...good, shown: null }), { ok: true, value: { ...good, shown: null } });
    assert.match(String((parseGenerateState({ ...good, shown: { ...params, count: 0 } }) as { error?: string }).error), /^state: shown: /);
    assert.equal(parseGenerateState({ ...good, shown: 'all of them' }).ok, false);
    assert.equal(parseGenerateState({ ...good, view: 'inspector' }).ok, false);
    assert.equal(parseGenerateState({ ...good, params: { ...params, topP: 0 } }).ok, false);
    assert.equal(parseGenerateState({ ...good, reference: 7 }).ok, false);
    assert.equal(parseGenerateState({ ...good, reference: 'x'.repeat(5000) }).ok, false);
    assert.equal(parseGenerateState({ ...good, extra: 1 }).ok, false);
    assert.equal(parseGenerateState({ resource: 'file:///a.png', mode: 'image', scale: 0, ablation: 'both', highlight: null }).ok, false);
    assert.equal(parseWebviewState(good).ok, false, 'an inspector never restores a Generate state');
  });

  it('recognises the generation host messages and rejects malformed ones', () => {
    const summary = { classId: 0, className: 'a', cfg: 3, topK: 0, topP: 0.95, temperature: 1, seed: 0, count: 2, forced: null, reference: null };
    const msgs: HostToWebview[] = [
      { kind: 'init', protocol: PROTOCOL_VERSION, info: { title: 'Generate', resource: '', mode: 'generate' } },
      {
        kind: 'generator',
        view: { model: 'm', imageSize: 64, scales: [1, 2], classes: ['a', 'b'], defaults: params, maxCount: MAX_GENERATE_COUNT, reference: null, about: '' },
      },
      { kind: 'generationStart', run: 1, count: 2, scales: 10, summary },
      { kind: 'generationScale', run: 1, scale: 0, scales: 10, previews: ['iVBOR', 'iVBOR'], elapsedMs: 5 },
      { kind: 'generationDone', run: 1, samples: ['iVBOR', 'iVBOR'], summary, elapsedMs: 50 },
    ];
    for (const m of msgs) assert.ok(isHostMessage(JSON.parse(JSON.stringify(m))), m.kind);
    assert.equal(isHostMessage({ kind: 'generationScale', run: 1, scale: 0, previews: [1] }), false);
    assert.equal(isHostMessage({ kind: 'generationStart', run: 0, count: 2, scales: 10, summary }), false);
    assert.equal(isHostMessage({ kind: 'generator', view: { classes: 'a' } }), false);
  });
});
