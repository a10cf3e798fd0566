// `auto` in the extension: the measured choice is remembered in global storage (machine-local), and
// an inspection reports the choice and why; on this GPU-less machine, the CPU without a measurement.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHOICE_STORAGE_KEY, CoreBackend, mementoChoiceCache, type MementoLike } from '../../../src/extension/host/coreBackend';
import { resolveSettings } from '../../../src/extension/host/settings';
import type { ProviderChoice } from '../../../src/shared/types';
import { MemLog } from './fakes';
import { repoRoot } from '../../support/repo';

class FakeMemento implements MementoLike {
  readonly values = new Map<string, unknown>();
  updates = 0;
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  update(key: string, value: unknown): Promise<void> {
    this.updates++;
    this.values.set(key, JSON.parse(JSON.stringify(value)));
    return Promise.resolve();
  }
}

const choice = (provider: 'cpu' | 'webgpu', ms: number): ProviderChoice => ({ provider, reason: `${provider} ${ms} ms: ${provider} kept`, timings: [{ provider, encoderMs: ms, decoderMs: ms }], cached: false });

describe('auto provider choice in the extension', function () {
  this.timeout(120_000);
  const root = repoRoot();

  it('remembers measured choices in global storage, the newest ones only', async () => {
    const m = new FakeMemento();
    const cache = mementoChoiceCache(m, 3);
    assert.equal(cache.get('a'), undefined);
    await cache.set('a', choice('webgpu', 3));
    assert.deepEqual(mementoChoiceCache(m).get('a'), choice('webgpu', 3), 'read back by a new cache (after a restart)');
    for (const k of ['b', 'c', 'd']) await cache.set(k, choice('cpu', 9));
    assert.deepEqual(Object.keys(m.get<Record<string, unknown>>(CHOICE_STORAGE_KEY)!), ['b', 'c', 'd']);
  });

  it('an inspection with auto reports the choice and why; nothing measured on a CPU-only machine, nothing stored', async function () {
    if (!fs.existsSync(path.join(root, 'models', 'imagefolder-mini', 'manifest.json'))) this.skip();
    const m = new FakeMemento();
    const backend = new CoreBackend(new MemLog(), mementoChoiceCache(m));
    try {
      const s = resolveSettings({ read: (k) => (k === 'provider' ? { globalValue: 'auto' } : undefined), trusted: true, extensionRoot: root }).runtime;
      const ins = await backend.inspect(path.join(root, 'samples', 'cat-face.png'), { settings: s, signal: new AbortController().signal });
      assert.equal(ins.provider.choice?.provider, 'cpu');
      assert.match(ins.provider.choice!.reason, /^cpu is the only provider that can run this model here/);
      assert.ok(!ins.notes.some((n) => /webgpu|cuda/.test(n)), `no GPU notes for a CPU user: ${ins.notes.join(' | ')}`);
      assert.equal(m.updates, 0);
    } finally {
      backend.dispose();
    }
  });
});
