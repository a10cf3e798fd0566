// Issue 17, images: PNG chunks whose CRC fails (a damaged colour profile must not be applied
// silently) and valid TIFFs whose sample format the decoder cannot read.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { UserError, loadImage, type ImageOptions } from '../../../src/extension/core';
import { pngChunks } from '../../../src/extension/core/png';
import { tiffFloatPlanar, withDamagedIccp } from './hostile-corpus';
import { tmpDir } from './helpers';

const S = 16;
const opts: ImageOptions = { size: S, resize: 'crop', background: '#ffffff', pixelLimit: 100e6 };

/** `png` without its chunks of type `type`: what a decoder that skips them sees. */
function withoutChunk(png: Buffer, type: string): Buffer {
  const keep = pngChunks(png)!.chunks.filter((c) => c.type !== type).map((c) => png.subarray(c.pos, c.pos + 12 + c.length));
  return Buffer.concat([png.subarray(0, 8), ...keep]);
}

const differing = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);

describe('PNG chunks that fail their CRC (issue 17)', () => {
  let p3: Buffer;
  before(async () => {
    // a gradient in Display P3: its iCCP profile changes most colours when applied
    const raw = Buffer.alloc(S * S * 3);
    for (let i = 0; i < S * S; i++) raw.set([(i % S) * 16, Math.floor(i / S) * 16, 200], i * 3);
    p3 = await sharp(raw, { raw: { width: S, height: S, channels: 3 } }).withIccProfile('p3').png().toBuffer();
  });

  it('ignores a damaged colour profile, reads the pixels as sRGB and says so', async () => {
    const damaged = withDamagedIccp(p3);
    const iccp = pngChunks(damaged)!.chunks.find((c) => c.type === 'iCCP')!;
    assert.equal(iccp.crcOk, false);
    const file = path.join(tmpDir(), 'profile.png');
    fs.writeFileSync(file, damaged);
    const img = await loadImage(file, opts);
    assert.deepEqual(img.notes, [`damaged colour profile (the iCCP chunk at byte ${iccp.pos} fails its CRC check): ignored, colours read as sRGB`]);
    const asSrgb = await loadImage(withoutChunk(p3, 'iCCP'), opts);
    assert.deepEqual(img.rgb, asSrgb.rgb, 'the same pixels as the file without a profile');
    // the intact profile does change the colours (so ignoring it is visible), and the decoder on its
    // own applies the damaged one: what the inspector did before
    const intact = await loadImage(p3, opts);
    assert.deepEqual(intact.notes, []);
    assert.ok(differing(intact.rgb, asSrgb.rgb) > S * S, 'the profile matters');
    const decoderAlone = await sharp(damaged).resize(S, S).toColourspace('srgb').removeAlpha().raw().toBuffer();
    assert.ok(differing(new Uint8Array(decoderAlone), asSrgb.rgb) > S * S, 'sharp alone applies the damaged profile');
  });

  it('ignores another damaged ancillary chunk with a note, keeping the pixels', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3366cc' } }).png().withMetadata({ density: 300 }).toBuffer();
    const phys = pngChunks(png)!.chunks.find((c) => c.type === 'pHYs')!;
    const bad = Buffer.from(png);
    bad[phys.pos + 8] ^= 0xff; // its data changed, its CRC not
    const img = await loadImage(bad, opts);
    assert.deepEqual(img.notes, [`the pHYs chunk at byte ${phys.pos} fails its CRC check: ignored`]);
    assert.deepEqual(img.rgb, (await loadImage(png, opts)).rgb);
  });

  it('refuses a critical chunk whose CRC fails, before decoding, naming the chunk', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3366cc' } }).png().toBuffer();
    const idat = pngChunks(png)!.chunks.find((c) => c.type === 'IDAT')!;
    const bad = Buffer.from(png);
    bad[idat.pos + 8 + idat.length] ^= 0xff; // the CRC itself: the pixel data is intact, and still refused
    await assert.rejects(loadImage(bad, opts), (e: unknown) => e instanceof UserError && e.code === 'IMAGE_CORRUPT' && e.message === `<buffer>: corrupt PNG: the IDAT chunk at byte ${idat.pos} fails its CRC check`);
  });
});

describe('TIFF sample formats the decoder cannot read (issue 17)', () => {
  it('names a float64 planar multi-page TIFF as an unsupported sample format, not as damage', async () => {
    const file = path.join(tmpDir(), 'float64.tif');
    fs.writeFileSync(file, tiffFloatPlanar(16, 16, 2));
    await assert.rejects(loadImage(file, opts), (e: unknown) => e instanceof UserError && e.code === 'IMAGE_UNSUPPORTED' && e.message === `${file}: unsupported sample format (float64 planar)`);
  });

  it('reads the same file with float32 samples (so the refusal is the sample format, not the layout)', async () => {
    const img = await loadImage(tiffFloatPlanar(16, 16, 2, 32), opts);
    assert.equal(img.rgb.length, S * S * 3);
    assert.deepEqual(img.notes, ['multi-page image: first of 2 pages used']);
  });
});
