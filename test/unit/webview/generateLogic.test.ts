import * as assert from 'node:assert/strict';
import { randomSeed, readForm, summaryText, type FormFields } from '../../../src/webview/generate/logic';

const fields: FormFields = { classId: '1', cfg: '3', topK: '0', topP: '0.95', temperature: '1', seed: '7', count: '4', force: 'none' };

describe('Generate view logic', () => {
  it('reads the form into checked parameters', () => {
    assert.deepEqual(readForm(fields, 3, 64), { ok: true, value: { classId: 1, cfg: 3, topK: 0, topP: 0.95, temperature: 1, seed: 7, count: 4, force: 'none' } });
    assert.deepEqual(readForm({ ...fields, cfg: ' 2.5 ', force: 'detail' }, 3, 64), { ok: true, value: { classId: 1, cfg: 2.5, topK: 0, topP: 0.95, temperature: 1, seed: 7, count: 4, force: 'detail' } });
  });

  it('names the bad field, with the protocol\'s own rules', () => {
    const bad = (f: Partial<FormFields>, classes = 3, maxCount = 64): string => {
      const r = readForm({ ...fields, ...f }, classes, maxCount);
      assert.equal(r.ok, false, JSON.stringify(f));
      return r.ok ? '' : r.error;
    };
    assert.match(bad({ cfg: '' }), /^cfg must be a number/, 'an empty field is not 0');
    assert.match(bad({ cfg: '-1' }), /^cfg/);
    assert.match(bad({ topP: '0' }), /^top-p must be a number in \(0, 1\]/);
    assert.match(bad({ topK: '1.5' }), /^top-k must be an integer/);
    assert.match(bad({ temperature: '0' }), /^temperature must be a number > 0/);
    assert.match(bad({ seed: 'abc' }), /^seed must be an integer/);
    assert.match(bad({ count: '0' }), /^count must be an integer from 1/);
    assert.match(bad({ count: '9' }, 3, 8), /^count must be at most 8 here/);
    assert.match(bad({ classId: '3' }), /^class must be one of the model's 3 classes/);
    assert.match(bad({ force: 'both' }), /^force/);
  });

  it('captions a generation and makes seeds in range', () => {
    const s = { classId: 0, className: 'cats', cfg: 3, topK: 0, topP: 0.9, temperature: 1, seed: 5, count: 2, forced: 'detail' as const, reference: 'cat.png' };
    assert.equal(summaryText(s), 'cats · cfg 3 · top-k off · top-p 0.9 · temperature 1 · seed 5 · detail tokens of cat.png');
    assert.equal(randomSeed(() => 0), 0);
    assert.equal(randomSeed(() => 1 - 2 ** -53), 2 ** 31 - 1);
  });
});
