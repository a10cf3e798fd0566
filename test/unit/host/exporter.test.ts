import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileExistsError, planExport, tokensJson, writeFileAtomic } from '../../../src/extension/host/exporter';
import { captionBands, contactSheetCaptions } from '../../../src/extension/core/sheet';
import { syntheticInspection, TOKENS } from '../../fixtures/syntheticInspection';

function parseNpy(buf: Uint8Array): { shape: number[]; data: bigint[] } {
  assert.deepEqual([...buf.slice(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const hlen = buf[8] | (buf[9] << 8);
  assert.equal((10 + hlen) % 64, 0, 'header aligned to 64 bytes');
  const header = Buffer.from(buf.slice(10, 10 + hlen)).toString('latin1');
  assert.match(header, /'descr': '<i8'/);
  assert.match(header, /'fortran_order': False/);
  assert.ok(header.endsWith('\n'));
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const dv = new DataView(buf.buffer, buf.byteOffset + 10 + hlen);
  const n = shape.reduce((a, b) => a * b, 1);
  assert.equal(buf.length, 10 + hlen + n * 8);
  return { shape, data: Array.from({ length: n }, (_, i) => dv.getBigInt64(i * 8, true)) };
}

describe('host export', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ifi-export-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('encodes .npy int64 [P, L] that NumPy can read', async () => {
    const ins = syntheticInspection();
    const plan = await planExport(ins, 'tokens-npy');
    const { shape, data } = parseNpy(plan.bytes);
    assert.deepEqual(shape, [2, TOKENS]);
    assert.equal(Number(data[0]), ins.indices[0][0]);
    assert.equal(Number(data[TOKENS + 5]), ins.indices[1][5]);
    assert.equal(plan.defaultName, 'cat.tokens.npy');
    await assert.rejects(planExport({ ...ins, indices: [ins.indices[0], ins.indices[1].slice(1)] }, 'tokens-npy'), /tokensPerBranch/);
  });

  it('writes tokens JSON split per scale', async () => {
    const ins = syntheticInspection();
    const j = tokensJson(ins);
    assert.equal(j.image, 'cat.png');
    assert.equal(j.byScale[1].length, 10);
    assert.deepEqual(j.byScale[1].map((g) => g.length), [1, 1, 4, 9, 9, 16, 25, 36, 64, 121]);
    assert.deepEqual(j.byScale[0].flat(), ins.indices[0]);
    const parsed = JSON.parse(Buffer.from((await planExport(ins, 'tokens-json')).bytes).toString('utf8')) as { indices: number[][] };
    assert.deepEqual(parsed.indices, ins.indices);
  });

  it('PNG export names the scale and writes the PNG bytes', async () => {
    const ins = syntheticInspection();
    const plan = await planExport(ins, 'png', 'progressive', 3);
    assert.equal(plan.defaultName, 'cat.progressive-4.png');
    assert.deepEqual([...plan.bytes.slice(1, 4)], [0x50, 0x4e, 0x47]);
  });

  it('the contact sheet is a PNG named after the image', async () => {
    const plan = await planExport(syntheticInspection(), 'sheet');
    assert.equal(plan.defaultName, 'cat.sheet.png');
    assert.deepEqual(plan.extensions, ['png']);
    // 1-pixel tiles: 11 columns and 3 rows of (tile + 2 px gap) plus the outer gap, zoom 2, right of
    // and below the caption bands (the width may grow further to fit the title)
    const png = Buffer.from(plan.bytes);
    assert.equal(png.toString('latin1', 1, 4), 'PNG');
    const { left, top } = captionBands(contactSheetCaptions(10, ''));
    assert.ok(png.readUInt32BE(16) >= left + (2 + 11 * 3) * 2);
    assert.equal(png.readUInt32BE(20), top + (2 + 3 * 3) * 2);
  });

  it('writes atomically and never replaces an existing file unless told to', async () => {
    const dest = path.join(dir, 'out.json');
    await writeFileAtomic(dest, new TextEncoder().encode('one'), false);
    assert.equal(fs.readFileSync(dest, 'utf8'), 'one');
    await assert.rejects(writeFileAtomic(dest, new TextEncoder().encode('two'), false), FileExistsError);
    assert.equal(fs.readFileSync(dest, 'utf8'), 'one');
    await writeFileAtomic(dest, new TextEncoder().encode('three'), true);
    assert.equal(fs.readFileSync(dest, 'utf8'), 'three');
    assert.deepEqual(fs.readdirSync(dir), ['out.json'], 'no temporary files left behind');
  });

  it('leaves nothing behind when the folder does not exist', async () => {
    await assert.rejects(writeFileAtomic(path.join(dir, 'missing', 'x.json'), new Uint8Array(1), false));
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
