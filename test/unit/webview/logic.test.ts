import * as assert from 'node:assert/strict';
import {
  branchOrder,
  binHistogram,
  cellAt,
  clampScale,
  codeOccurrences,
  curvePoints,
  deadCodes,
  describeToken,
  formatDb,
  scaleForKey,
  scaleOffsets,
  moveCell,
  tokenAt,
  tokenRegion,
  topCodes,
} from '../../../src/webview/inspector/logic';
import { SCALES, syntheticInspection } from '../../fixtures/syntheticInspection';

describe('webview logic', () => {
  it('steps scales with Left/Right/Home/End and clamps', () => {
    assert.equal(scaleForKey('ArrowRight', 3, 10), 4);
    assert.equal(scaleForKey('ArrowLeft', 3, 10), 2);
    assert.equal(scaleForKey('ArrowLeft', 0, 10), 0);
    assert.equal(scaleForKey('ArrowRight', 9, 10), 9);
    assert.equal(scaleForKey('Home', 5, 10), 0);
    assert.equal(scaleForKey('End', 5, 10), 9);
    assert.equal(scaleForKey('a', 5, 10), null);
    assert.equal(clampScale(Number.MAX_SAFE_INTEGER, 10), 9);
    assert.equal(clampScale(NaN, 10), 9);
  });

  it('finds tokens: offsets, positions and codes', () => {
    assert.deepEqual(scaleOffsets(SCALES), [0, 1, 2, 6, 15, 24, 40, 65, 101, 165]);
    const ins = syntheticInspection();
    const t = tokenAt(ins, 1, 3, 2, 1)!;
    assert.equal(t.token, 6 + 2 * 3 + 1);
    assert.equal(t.code, ins.indices[1][t.token]);
    assert.equal(t.branchName, 'semantic');
    assert.equal(tokenAt(ins, 0, 3, 3, 0), null);
    // counted from 1 in text, like the scale label's "tokens 7–15 of 286" (issue 17, item 2)
    assert.match(describeToken(t, 10, 286), /^semantic · scale 4\/10 \(3×3\) · row 3, col 2 · token 14 of 286 · code \d+$/);
    assert.deepEqual(cellAt(0, 0, 264, 11), { row: 0, col: 0 });
    assert.deepEqual(cellAt(263.9, 100, 264, 11), { row: 4, col: 10 });
    assert.equal(cellAt(-1, 0, 264, 11), null);
    // a cell's place on the image: the 4x4 map's (1, 3) is the second row, last column
    assert.deepEqual(tokenRegion(1, 3, 4), { left: 75, top: 25, size: 25 });
    assert.deepEqual(tokenRegion(0, 0, 1), { left: 0, top: 0, size: 100 });
    // a focused map's cursor: arrows move it one cell, clamped at the edges (and a stale cell from a larger scale)
    assert.deepEqual(moveCell('ArrowRight', 1, 2, 4), { row: 1, col: 3 });
    assert.deepEqual(moveCell('ArrowRight', 1, 3, 4), { row: 1, col: 3 });
    assert.deepEqual(moveCell('ArrowUp', 0, 0, 4), { row: 0, col: 0 });
    assert.deepEqual(moveCell('ArrowDown', 9, 9, 4), { row: 3, col: 3 });
    assert.equal(moveCell('Home', 1, 1, 4), null);
    const code = ins.indices[0][100];
    const occ = codeOccurrences(ins, 0, code);
    assert.equal(occ.reduce((a, b) => a + b, 0), ins.indices[0].filter((c) => c === code).length);
  });

  it('shows the semantic branch first everywhere, whatever its index (issue 17, item 4)', () => {
    assert.deepEqual(branchOrder(['detail', 'semantic']), [1, 0]);
    assert.deepEqual(branchOrder(['semantic', 'detail']), [0, 1]);
    assert.deepEqual(branchOrder(['single']), [0]);
  });

  it('summarises histograms', () => {
    assert.deepEqual(deadCodes([0, 2, 0, 1]), [0, 2]);
    assert.deepEqual(topCodes([0, 2, 5, 2], 2), [
      { code: 2, count: 5 },
      { code: 1, count: 2 },
    ]);
    assert.deepEqual(binHistogram([1, 2, 3, 4], 2), [3, 7]);
    assert.deepEqual(binHistogram([1, 2], 8), [1, 2]);
  });

  it('formats and plots metrics, including infinite PSNR', () => {
    assert.equal(formatDb(21.456), '21.46 dB');
    assert.equal(formatDb(Infinity), '∞ dB');
    const { points, min, max } = curvePoints([10, 20, Infinity], 100, 50, 5);
    assert.equal(min, 10);
    assert.equal(max, 20);
    assert.equal(points[0].y, 45);
    assert.equal(points[2].y, 5);
    assert.equal(points[2].x, 95);
    const flat = curvePoints([7, 7], 100, 50, 5);
    assert.ok(Number.isFinite(flat.points[0].y));
  });
});
