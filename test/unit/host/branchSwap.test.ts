import * as assert from 'node:assert/strict';
import { branchSwaps } from '../../../src/extension/host/inspector/branchSwap';
import { syntheticInspection } from '../../fixtures/syntheticInspection';

describe('branchSwaps (Swap Branches of Two Images)', () => {
  const a = syntheticInspection({ image: '/w/imgs/cat.png', seed: 1 });
  const b = syntheticInspection({ image: '/w/other/rocket.jpg', seed: 2 });

  it("mixes one image's detail tokens with the other's semantic tokens, both ways", () => {
    const [ab, ba] = branchSwaps(a, b);
    assert.deepEqual(ab.tokens.tokens, [a.indices[0], b.indices[1]]);
    assert.deepEqual(ba.tokens.tokens, [b.indices[0], a.indices[1]]);
    assert.equal(ab.tokens.name, 'cat.png detail + rocket.jpg semantic');
    assert.equal(ba.tokens.name, 'rocket.jpg detail + cat.png semantic');
    assert.equal(ab.tokens.modelDir, a.model.dir);
    assert.match(ab.tokens.notes[0], /detail tokens of cat\.png with the semantic tokens of rocket\.jpg, both encoded by "synthetic-test-model"/);
    // exports are offered next to the image whose detail tokens the mix keeps
    assert.equal(ab.exportPath, '/w/imgs/cat-detail+rocket-semantic');
    assert.equal(ba.exportPath, '/w/other/rocket-detail+cat-semantic');
    // copies: the inspections' rows are not shared with the mixes
    ab.tokens.tokens[0][0] = -1;
    assert.notEqual(a.indices[0][0], -1);
  });

  it('follows the branch roles of the package, not their order', () => {
    const flip = (i: typeof a) => ({ ...i, model: { ...i.model, branches: [...i.model.branches].reverse() } });
    const [ab] = branchSwaps(flip(a), flip(b));
    // branch 0 is now the semantic one: it comes from b
    assert.deepEqual(ab.tokens.tokens, [b.indices[0], a.indices[1]]);
  });

  it('refuses images tokenized by different models', () => {
    const other = { ...b, model: { ...b.model, name: 'other', dir: '/tmp/models/other' } };
    assert.throws(() => branchSwaps(a, other), /different models \("synthetic-test-model", "other"\): their codes cannot be mixed/);
  });
});
