// Every format and odd case the image pipeline promises, generated here with sharp.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { UserError, loadImage, toTensor, fromTensor, encodePng, type ImageOptions, type UserErrorCode } from '../../../src/extension/core';
import { crc32, crc32Table } from '../../../src/extension/core/png';
import { tmpDir } from './helpers';

const S = 16;
const opts = (o: Partial<ImageOptions> = {}): ImageOptions => ({ size: S, resize: 'crop', background: '#ffffff', pixelLimit: 100e6, ...o });
const solid = (w: number, h: number, colour: string, channels: 3 | 4 = 3) => sharp({ create: { width: w, height: h, channels, background: colour } });

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function pixel(rgb: Uint8Array, x: number, y: number): number[] {
  const i = (y * S + x) * 3;
  return [rgb[i], rgb[i + 1], rgb[i + 2]];
}
function near(actual: number[], expected: number[], tol = 3): void {
  assert.ok(actual.every((v, i) => Math.abs(v - expected[i]) <= tol), `expected ~${expected}, got ${actual}`);
}
async function rejectsWith(p: Promise<unknown>, code: UserErrorCode, pattern?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

describe('image pipeline', () => {
  const red = [255, 0, 0];
  const formats: [string, (s: Sharp) => Sharp, number][] = [
    ['png', (s) => s.png(), 0],
    ['jpeg', (s) => s.jpeg({ quality: 95 }), 4],
    ['webp', (s) => s.webp({ lossless: true }), 0],
    ['avif', (s) => s.avif({ lossless: true }), 4],
    ['gif', (s) => s.gif(), 0],
    ['tiff', (s) => s.tiff(), 2],
  ];
  for (const [name, enc, tol] of formats) {
    it(`reads ${name}`, async () => {
      const img = await loadImage(await enc(solid(24, 24, '#ff0000')).toBuffer(), opts());
      assert.equal(img.rgb.length, S * S * 3);
      near(pixel(img.rgb, 8, 8), red, tol);
      assert.equal(img.source.width, 24);
    });
  }

  it('takes the first frame of an animated GIF and says so', async () => {
    const frames = [await solid(8, 8, '#ff0000').png().toBuffer(), await solid(8, 8, '#0000ff').png().toBuffer()];
    const gif = await sharp(frames, { join: { animated: true } }).gif().toBuffer();
    const img = await loadImage(gif, opts());
    near(pixel(img.rgb, 5, 5), red);
    assert.ok(img.notes.some((n) => /animation: first of 2 frames/.test(n)), img.notes.join('; '));
  });

  it('takes the first page of a multi-page TIFF and says so', async () => {
    const pages = [await solid(8, 8, '#ff0000').png().toBuffer(), await solid(8, 8, '#0000ff').png().toBuffer()];
    const tiff = await sharp(pages, { join: { animated: true } }).tiff().toBuffer();
    const img = await loadImage(tiff, opts());
    near(pixel(img.rgb, 5, 5), red);
    assert.ok(img.notes.some((n) => /first of 2 pages/.test(n)), img.notes.join('; '));
  });

  it('applies EXIF orientation', async () => {
    // 20x10 stored: left half red, right half blue; orientation 6 = rotate 90 degrees clockwise,
    // so the displayed image is 10x20 with red on top.
    const raw = Buffer.alloc(20 * 10 * 3);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) raw.set(x < 10 ? [255, 0, 0] : [0, 0, 255], (y * 20 + x) * 3);
    const jpg = await sharp(raw, { raw: { width: 20, height: 10, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const img = await loadImage(jpg, opts({ resize: 'letterbox' }));
    assert.deepEqual([img.source.width, img.source.height], [10, 20]);
    near(pixel(img.rgb, 8, 3), red, 40);
    near(pixel(img.rgb, 8, 12), [0, 0, 255], 40);
    assert.ok(img.notes.includes('EXIF orientation 6 applied'));
  });

  it('converts 16-bit to 8-bit', async () => {
    const png16 = await solid(8, 8, '#808080').toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(png16).metadata()).depth, 'ushort');
    const img = await loadImage(png16, opts());
    near(pixel(img.rgb, 4, 4), [128, 128, 128], 1);
    assert.ok(img.notes.includes('16-bit converted to 8-bit'));
  });

  it('converts greyscale to RGB', async () => {
    const grey = await solid(8, 8, '#646464').toColourspace('b-w').png().toBuffer();
    assert.equal((await sharp(grey).metadata()).channels, 1);
    const img = await loadImage(grey, opts());
    near(pixel(img.rgb, 4, 4), [100, 100, 100], 1);
    assert.ok(img.notes.includes('greyscale converted to RGB'));
  });

  it('converts CMYK to sRGB', async () => {
    const cmyk = await solid(8, 8, '#3080c0').toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const img = await loadImage(cmyk, opts());
    near(pixel(img.rgb, 4, 4), [0x30, 0x80, 0xc0], 30);
    assert.ok(img.notes.includes('CMYK converted to sRGB'));
  });

  it('composites palette transparency on the background', async () => {
    const pal = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png({ palette: true }).toBuffer();
    assert.ok((await sharp(pal).metadata()).isPalette);
    const img = await loadImage(pal, opts({ background: '#00ff00' }));
    near(pixel(img.rgb, 4, 4), [0, 255, 0]);
  });

  it('composites half-transparent pixels on the configured background', async () => {
    const rgba = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
    const onWhite = await loadImage(rgba, opts());
    near(pixel(onWhite.rgb, 4, 4), [255, 128, 128], 2);
    const onBlack = await loadImage(rgba, opts({ background: '#000000' }));
    near(pixel(onBlack.rgb, 4, 4), [128, 0, 0], 2);
    assert.ok(onBlack.notes.includes('transparency composited on #000000'));
  });

  it('centre-crops by default and letterboxes on request', async () => {
    // 48x16: red | green | blue thirds. Crop keeps the green middle; letterbox keeps all three with bars.
    const raw = Buffer.alloc(48 * 16 * 3);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 48; x++) raw.set(x < 16 ? [255, 0, 0] : x < 32 ? [0, 255, 0] : [0, 0, 255], (y * 48 + x) * 3);
    const png = await sharp(raw, { raw: { width: 48, height: 16, channels: 3 } }).png().toBuffer();
    const crop = await loadImage(png, opts());
    near(pixel(crop.rgb, 1, 1), [0, 255, 0], 2);
    near(pixel(crop.rgb, 14, 14), [0, 255, 0], 2);
    const box = await loadImage(png, opts({ resize: 'letterbox', background: '#000000' }));
    near(pixel(box.rgb, 8, 0), [0, 0, 0], 2); // bar above
    near(pixel(box.rgb, 8, 15), [0, 0, 0], 2); // bar below
    near(pixel(box.rgb, 0, 8), red, 30);
    near(pixel(box.rgb, 8, 8), [0, 255, 0], 30);
    near(pixel(box.rgb, 15, 8), [0, 0, 255], 30);
    assert.ok(box.notes.includes('letterboxed 48x16 on #000000'));
  });

  it('renders SVG', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#ff0000"/></svg>');
    const img = await loadImage(svg, opts());
    near(pixel(img.rgb, 8, 8), red);
  });

  describe('SVG never reads referenced local files', () => {
    // sharp given a *path* lets librsvg load these references; loadImage always passes bytes.
    let dir: string;
    before(async () => {
      dir = tmpDir('ifi-svg-');
      await solid(8, 8, '#ff0000').png().toFile(path.join(dir, 'red.png'));
      fs.writeFileSync(path.join(dir, 'secret.txt'), 'SECRET SECRET SECRET');
      fs.writeFileSync(path.join(dir, 'evil.css'), 'rect { fill: #ff0000 !important; }');
    });
    const cases: [string, (d: string) => string][] = [
      ['relative <image href>', () => '<image href="red.png" width="16" height="16"/>'],
      ['absolute file:// <image href>', (d) => `<image href="file://${d}/red.png" width="16" height="16"/>`],
      ['CSS @import', () => '<style>@import url("evil.css");</style>'],
      ['XInclude of a text file', () => '<text x="0" y="12" font-size="14" fill="#ff0000"><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="secret.txt" parse="text"/></text>'],
    ];
    for (const [what, body] of cases) {
      it(what, async () => {
        const file = path.join(dir, 'test.svg');
        fs.writeFileSync(file, `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="#0000ff"/>${body(dir)}</svg>`);
        // Sanity: sharp itself, given the path, does read the reference (the danger being avoided).
        const viaPath = await sharp(file).flatten({ background: '#0000ff' }).raw().toBuffer();
        const img = await loadImage(file, opts());
        let nonBlue = 0;
        for (let i = 0; i < img.rgb.length; i += 3) if (img.rgb[i] > 40) nonBlue++;
        assert.equal(nonBlue, 0, 'a referenced local file was rendered');
        let pathNonBlue = 0;
        for (let i = 0; i < viaPath.length; i += 3) if (viaPath[i] > 40) pathNonBlue++;
        assert.ok(pathNonBlue > 0, 'expected sharp-with-a-path to read the reference (test premise)');
      });
    }
  });

  it('enforces the pixel limit', async () => {
    const png = await solid(30, 30, '#ff0000').png().toBuffer();
    await rejectsWith(loadImage(png, opts({ pixelLimit: 899 })), 'IMAGE_TOO_LARGE', /exceeds the pixel limit/);
    await loadImage(png, opts({ pixelLimit: 900 }));
  });

  it('reports a truncated PNG as corrupt', async () => {
    const png = await solid(64, 64, '#ff0000').png({ compressionLevel: 0 }).toBuffer();
    await rejectsWith(loadImage(png.subarray(0, Math.floor(png.length / 2)), opts()), 'IMAGE_CORRUPT');
  });

  it('reports a truncated JPEG as corrupt', async () => {
    const jpg = await solid(64, 64, '#ff0000').jpeg().toBuffer();
    await rejectsWith(loadImage(jpg.subarray(0, Math.floor(jpg.length * 0.6)), opts()), 'IMAGE_CORRUPT');
  });

  it('reports a PNG whose chunks are garbage as corrupt, naming the file', async () => {
    const file = path.join(tmpDir(), 'bad.png');
    const header = Buffer.from('89504e470d0a1a0a0000000d49484452000000600000006008060000', 'hex');
    fs.writeFileSync(file, Buffer.concat([header, Buffer.from('this is not image data at all')]));
    await rejectsWith(loadImage(file, opts()), 'IMAGE_CORRUPT', new RegExp(`^${escapeRe(file)}: corrupt PNG: the IHDR chunk at byte 8 fails its CRC check$`));
  });

  it('names an empty file and an empty buffer as empty', async () => {
    const file = path.join(tmpDir(), 'empty.webp');
    fs.writeFileSync(file, '');
    await rejectsWith(loadImage(file, opts()), 'IMAGE_CORRUPT', new RegExp(`^${escapeRe(file)}: empty file \\(0 bytes\\), not an image$`));
    await rejectsWith(loadImage(new Uint8Array(0), opts()), 'IMAGE_CORRUPT', /^<buffer>: empty \(0 bytes\), not an image$/);
  });

  it('reads an image that is a symbolic link like the file it points to', async function () {
    const dir = tmpDir();
    const real = path.join(dir, 'real.png');
    await solid(20, 20, '#3366cc').png().toFile(real);
    const link = path.join(dir, 'link.png');
    try {
      fs.symlinkSync(real, link);
    } catch {
      this.skip(); // no symlinks on this file system
    }
    assert.deepEqual((await loadImage(link, opts())).rgb, (await loadImage(real, opts())).rgb);
  });

  it('refuses a folder or a named pipe given as an image, at once (a pipe would block a read forever)', async function () {
    const dir = tmpDir();
    const folder = path.join(dir, 'album.png');
    fs.mkdirSync(folder);
    await rejectsWith(loadImage(folder, opts()), 'IMAGE_UNREADABLE', new RegExp(`^${escapeRe(folder)}: is a folder, not an image file$`));
    const pipe = path.join(dir, 'pipe.png');
    if (spawnSync('mkfifo', [pipe]).status !== 0) this.skip(); // no mkfifo on this platform
    await rejectsWith(loadImage(pipe, opts()), 'IMAGE_UNREADABLE', /pipe\.png: is a named pipe, not an image file$/);
  });

  it('reports a non-image as unsupported, naming the file', async () => {
    const file = path.join(tmpDir(), 'notes.png');
    fs.writeFileSync(file, 'this is text, not an image');
    await rejectsWith(loadImage(file, opts()), 'IMAGE_UNSUPPORTED', new RegExp(`^${escapeRe(file)}: not an image format`));
  });

  it('reports a missing file', async () => {
    await rejectsWith(loadImage('/nonexistent/x.png', opts()), 'IMAGE_NOT_FOUND', /no such file/);
  });

  it('reports a bad background colour as a bad argument', async () => {
    const png = await solid(8, 8, '#ff0000').png().toBuffer();
    await rejectsWith(loadImage(png, opts({ background: 'not-a-colour' })), 'BAD_ARGUMENT', /background/);
  });

  it('normalises to the model range and back', () => {
    const rgb = Uint8Array.from({ length: S * S * 3 }, (_, i) => i % 256);
    const t = toTensor(rgb, S, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    assert.equal(t[0], -1); // pixel 0, R = 0
    assert.ok(Math.abs(t[S * S] - (1 / 255 - 0.5) / 0.5) < 1e-6); // pixel 0, G = 1 (CHW layout)
    assert.deepEqual(fromTensor(t, S, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), rgb);
  });

  it('encodes PNGs that decode to the same pixels', async () => {
    const rgb = Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256);
    const png = encodePng(rgb, 5, 3);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [5, 3, 3]);
    assert.deepEqual(new Uint8Array(data), rgb);
  });

  it('computes CRC-32 natively and by table alike (the table is the fallback on older Node)', () => {
    const bytes = Uint8Array.from({ length: 4099 }, (_, i) => (i * 131 + (i >> 3)) % 256);
    assert.equal(crc32Table(Buffer.from('IEND')), 0xae426082); // the IEND chunk's well-known CRC
    for (const [s, e] of [[0, 0], [0, 1], [5, 4099], [100, 2000]]) assert.equal(crc32(bytes, s, e), crc32Table(bytes, s, e), `${s}..${e}`);
  });
});
