// The store that brings generated samples' inspectors back after a reload: bounded, and robust to
// whatever an older version or a hand edit left in the workspace's storage.
import * as assert from 'node:assert/strict';
import { GeneratedStore, MAX_KEPT, type StoredSample } from '../../../src/extension/host/inspector/generatedStore';
import { FakeMemento } from './fakeVscode';

const sample = (i: number): StoredSample => ({
  tokens: { tokens: [[i, 1], [2, 3]], modelDir: `/models/m${i}`, name: `sample ${i}`, notes: ['generated'] },
  exportPath: `/samples/s${i}`,
});

describe('GeneratedStore', () => {
  it('recalls what it remembered, through JSON as VS Code stores it', async () => {
    const memento = new FakeMemento();
    await new GeneratedStore(memento).remember('a', sample(1));
    assert.deepEqual(new GeneratedStore(memento).recall('a'), sample(1));
    assert.equal(new GeneratedStore(memento).recall('b'), undefined);
  });

  it(`keeps the latest ${MAX_KEPT}; remembering an id again makes it the latest`, async () => {
    const store = new GeneratedStore(new FakeMemento());
    for (let i = 0; i < MAX_KEPT; i++) await store.remember(`id${i}`, sample(i));
    await store.remember('id0', sample(0)); // id0 is now the newest, id1 the oldest
    await store.remember('new', sample(99));
    assert.equal(store.recall('id1'), undefined, 'the oldest is dropped');
    assert.deepEqual(store.recall('id0'), sample(0));
    assert.deepEqual(store.recall('new'), sample(99));
    assert.deepEqual(store.recall(`id${MAX_KEPT - 1}`), sample(MAX_KEPT - 1));
  });

  it('forgets one id and leaves the others', async () => {
    const store = new GeneratedStore(new FakeMemento());
    await store.remember('a', sample(1));
    await store.remember('b', sample(2));
    await store.forget('a');
    assert.equal(store.recall('a'), undefined);
    assert.deepEqual(store.recall('b'), sample(2));
  });

  it('ignores malformed storage instead of handing it to an inspector', async () => {
    const memento = new FakeMemento();
    const key = 'imagefolderInspector.generatedInspectors';
    const store = new GeneratedStore(memento);
    for (const junk of [null, 'x', { a: 1 }, [['a']], [['a', { tokens: { tokens: [[0.5]], modelDir: '/m', name: 'n', notes: [] }, exportPath: '/e' }]], [['a', { tokens: { tokens: [[1]], modelDir: 7, name: 'n', notes: [] }, exportPath: '/e' }]]]) {
      await memento.update(key, junk);
      assert.equal(store.recall('a'), undefined, JSON.stringify(junk));
    }
    // a good entry next to a bad one survives, and remembering rewrites the list without the bad one
    await memento.update(key, [['bad', { exportPath: 3 }], ['good', sample(5)]]);
    assert.deepEqual(store.recall('good'), sample(5));
    await store.remember('c', sample(6));
    assert.deepEqual(memento.get<unknown[]>(key)?.map((e) => (e as [string])[0]), ['good', 'c']);
  });
});
