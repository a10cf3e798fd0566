// Issue 7: a corpus of hostile and odd images, generated at test time with sharp (and a few
// hand-made byte strings) into a temporary folder. Nothing binary is committed. Each entry says
// what the pipeline must do with it: work (optionally with a note) or fail with a specific
// UserError code and a message matching `message`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import type { UserErrorCode } from '../../../src/extension/core';
import { pngChunk, pngFromChunks } from '../../../src/extension/core/png';

export type Expectation = { ok: true; note?: RegExp } | { ok: false; code: UserErrorCode; message: RegExp };

export interface CorpusEntry {
  what: string;
  file: string;
  expect: Expectation;
}

/** A well-formed PNG header (valid CRCs) with any width/height, bit depth and colour type, written with the core's PNG chunk writer. */
export function pngWithHeader(width: number, height: number, idat: Buffer, bitDepth = 8, colourType = 2): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  return pngFromChunks([pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A real, fully decodable 1-bit greyscale PNG of width x height (all black), cheap to make. */
export function bigBlackPng(width: number, height: number): Buffer {
  const row = 1 + Math.ceil(width / 8);
  return pngWithHeader(width, height, zlib.deflateSync(Buffer.alloc(row * height), { level: 9 }), 1, 0);
}

/** An uncompressed 16-bit-per-sample RGB TIFF written by hand (sharp's TIFF writer only writes 8 bits). */
export function tiff16(width: number, height: number, rgb: (x: number, y: number) => [number, number, number]): Buffer {
  const pixels = Buffer.alloc(width * height * 6);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rgb(x, y).forEach((v, c) => pixels.writeUInt16LE(v, (y * width + x) * 6 + c * 2));
  }
  const entries: [number, number, number, number][] = []; // tag, type (3 short, 4 long), count, value/offset
  const ifdOffset = 8;
  const nTags = 10;
  const bpsOffset = ifdOffset + 2 + nTags * 12 + 4;
  const dataOffset = bpsOffset + 6;
  entries.push([256, 4, 1, width], [257, 4, 1, height], [258, 3, 3, bpsOffset], [259, 3, 1, 1], [262, 3, 1, 2]);
  entries.push([273, 4, 1, dataOffset], [277, 3, 1, 3], [278, 4, 1, height], [279, 4, 1, pixels.length], [284, 3, 1, 1]);
  const head = Buffer.alloc(dataOffset);
  head.write('II', 0, 'ascii');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(ifdOffset, 4);
  head.writeUInt16LE(nTags, ifdOffset);
  entries.forEach(([tag, type, count, value], i) => {
    const o = ifdOffset + 2 + i * 12;
    head.writeUInt16LE(tag, o);
    head.writeUInt16LE(type, o + 2);
    head.writeUInt32LE(count, o + 4);
    if (type === 3 && count === 1) head.writeUInt16LE(value, o + 8);
    else head.writeUInt32LE(value, o + 8);
  });
  head.writeUInt32LE(0, ifdOffset + 2 + nTags * 12); // no next IFD
  for (let c = 0; c < 3; c++) head.writeUInt16LE(16, bpsOffset + c * 2);
  return Buffer.concat([head, pixels]);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A TIFF of `pages` pages whose samples are IEEE floats (SampleFormat 3) of `bits` bits, one plane
 * per channel (PlanarConfiguration 2). Valid either way; libvips reads float32, not float64.
 * Written by hand (sharp writes no float64 TIFF).
 */
export function tiffFloatPlanar(width: number, height: number, pages: number, bits: 32 | 64 = 64): Buffer {
  const bytes = bits / 8;
  const plane = width * height * bytes;
  const nTags = 11;
  const parts: Buffer[] = [];
  const header = Buffer.alloc(8);
  header.write('II', 0, 'ascii');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8, 4);
  parts.push(header);
  let at = 8;
  for (let p = 0; p < pages; p++) {
    const arrays = at + 2 + nTags * 12 + 4; // BitsPerSample[3], SampleFormat[3], StripOffsets[3], StripByteCounts[3]
    const [bps, fmt, offs, counts] = [arrays, arrays + 6, arrays + 12, arrays + 24];
    const data = arrays + 36;
    const next = p + 1 < pages ? data + 3 * plane : 0;
    const ifd = Buffer.alloc(data - at + 3 * plane);
    const entries: [number, number, number, number][] = [
      [256, 4, 1, width], [257, 4, 1, height], [258, 3, 3, bps], [259, 3, 1, 1], [262, 3, 1, 2], [273, 4, 3, offs],
      [277, 3, 1, 3], [278, 4, 1, height], [279, 4, 3, counts], [284, 3, 1, 2], [339, 3, 3, fmt],
    ];
    ifd.writeUInt16LE(nTags, 0);
    entries.forEach(([tag, type, count, value], i) => {
      const o = 2 + i * 12;
      ifd.writeUInt16LE(tag, o);
      ifd.writeUInt16LE(type, o + 2);
      ifd.writeUInt32LE(count, o + 4);
      if (type === 3 && count === 1) ifd.writeUInt16LE(value, o + 8);
      else ifd.writeUInt32LE(value, o + 8);
    });
    ifd.writeUInt32LE(next, 2 + nTags * 12);
    for (let c = 0; c < 3; c++) {
      ifd.writeUInt16LE(bits, bps - at + c * 2);
      ifd.writeUInt16LE(3, fmt - at + c * 2);
      ifd.writeUInt32LE(data + c * plane, offs - at + c * 4);
      ifd.writeUInt32LE(plane, counts - at + c * 4);
      for (let i = 0; i < width * height; i++) {
        const v = c === 0 ? (i % width) / width : c === 1 ? (p + 1) / (pages + 1) : 0.5;
        if (bits === 64) ifd.writeDoubleLE(v, data - at + c * plane + i * 8);
        else ifd.writeFloatLE(v, data - at + c * plane + i * 4);
      }
    }
    parts.push(ifd);
    at += ifd.length;
  }
  return Buffer.concat(parts);
}

/**
 * `png` with its iCCP chunk (colour profile) damaged as a bit error would, except that the profile
 * still parses: its red and blue primaries are swapped (the offsets of the rXYZ and bXYZ tags), so a
 * decoder that applies it shows wrong colours. The chunk keeps its old CRC, which now fails.
 */
export function withDamagedIccp(png: Buffer): Buffer {
  for (let pos = 8; pos < png.length; pos += 12 + png.readUInt32BE(pos)) {
    if (png.toString('ascii', pos + 4, pos + 8) !== 'iCCP') continue;
    const len = png.readUInt32BE(pos);
    const data = png.subarray(pos + 8, pos + 8 + len);
    const nameEnd = data.indexOf(0);
    const icc = zlib.inflateSync(data.subarray(nameEnd + 2)); // name, NUL, compression method, zlib stream
    const tags = icc.readUInt32BE(128);
    const entry = (sig: string) => {
      for (let i = 0; i < tags; i++) if (icc.toString('ascii', 132 + i * 12, 136 + i * 12) === sig) return 132 + i * 12;
      throw new Error(`no ${sig} tag`);
    };
    const [r, b] = [entry('rXYZ'), entry('bXYZ')];
    const rOffset = icc.readUInt32BE(r + 4);
    icc.writeUInt32BE(icc.readUInt32BE(b + 4), r + 4);
    icc.writeUInt32BE(rOffset, b + 4);
    const body = Buffer.concat([data.subarray(0, nameEnd + 2), zlib.deflateSync(icc)]);
    const chunk = Buffer.alloc(12 + body.length);
    chunk.writeUInt32BE(body.length, 0);
    chunk.write('iCCP', 4, 'ascii');
    body.copy(chunk, 8);
    chunk.writeUInt32BE(png.readUInt32BE(pos + 8 + len), 8 + body.length); // the intact profile's CRC
    return Buffer.concat([png.subarray(0, pos), chunk, png.subarray(pos + 12 + len)]);
  }
  throw new Error('no iCCP chunk');
}

const solid = (w: number, h: number, colour: string, channels: 3 | 4 = 3) => sharp({ create: { width: w, height: h, channels, background: colour } });

/** Writes the corpus into `dir` and returns the entries, in a fixed order. */
export async function makeCorpus(dir: string): Promise<CorpusEntry[]> {
  const out: CorpusEntry[] = [];
  // Messages name a file by the path it was given as: the patterns below say '^name', the file is dir/name.
  const inDir = (e: Expectation): Expectation => (e.ok ? e : { ...e, message: new RegExp(`^${escapeRe(dir + path.sep)}${e.message.source.replace(/^\^/, '')}`) });
  const add = (what: string, name: string, bytes: Buffer | string, expect: Expectation) => {
    fs.writeFileSync(path.join(dir, name), bytes);
    out.push({ what, file: path.join(dir, name), expect: inDir(expect) });
  };
  const ok = (note?: RegExp): Expectation => ({ ok: true, note });
  const fail = (code: UserErrorCode, message: RegExp): Expectation => ({ ok: false, code, message });

  const photoRaw = Buffer.alloc(48 * 40 * 3);
  for (let i = 0; i < 48 * 40; i++) photoRaw.set([(i % 48) * 5, Math.floor(i / 48) * 6, 90], i * 3);
  const photo = sharp(photoRaw, { raw: { width: 48, height: 40, channels: 3 } });
  const png = await photo.clone().png({ compressionLevel: 0 }).toBuffer();
  const jpg = await photo.clone().jpeg({ quality: 90 }).toBuffer();

  add('empty file', 'empty.png', Buffer.alloc(0), fail('IMAGE_CORRUPT', /^empty\.png: empty file \(0 bytes\), not an image$/));
  add('text with an image extension', 'readme.jpg', 'Hello, this is a text file pretending to be a JPEG.\n', fail('IMAGE_UNSUPPORTED', /^readme\.jpg: not an image format that can be read \(the file holds text; readable formats: PNG, JPEG, WebP, AVIF, GIF, TIFF, SVG\)$/));
  // Fixed "random" bytes (a seeded LCG) so failures reproduce.
  const rnd = Buffer.alloc(4096);
  let seed = 12345;
  for (let i = 0; i < rnd.length; i++) rnd[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  add('random bytes', 'random.webp', rnd, fail('IMAGE_UNSUPPORTED', /^random\.webp: not an image format that can be read \(its first bytes d3 a7 50 7f 56 56 96 f1 match none of PNG, JPEG, WebP, AVIF, GIF, TIFF, SVG\)$/));
  add('truncated PNG', 'truncated.png', png.subarray(0, Math.floor(png.length / 2)), fail('IMAGE_CORRUPT', new RegExp(`^truncated\\.png: truncated PNG: the file ends after ${Math.floor(png.length / 2)} bytes, inside its IDAT chunk at byte \\d+$`)));
  add('truncated JPEG', 'truncated.jpg', jpg.subarray(0, Math.floor(jpg.length * 0.6)), fail('IMAGE_CORRUPT', new RegExp(`^truncated\\.jpg: truncated JPEG: the file ends after ${Math.floor(jpg.length * 0.6)} bytes, without its end-of-image marker$`)));
  const badPng = Buffer.from(png);
  for (let i = 62; i < badPng.length - 20; i += 7) badPng[i] ^= 0x5a; // IDAT data bytes flipped (its type kept), CRCs now wrong
  add('corrupted PNG (flipped IDAT bytes)', 'corrupted.png', badPng, fail('IMAGE_CORRUPT', /^corrupted\.png: corrupt PNG: the IDAT chunk at byte \d+ fails its CRC check$/));
  const badJpg = Buffer.from(jpg);
  for (let i = Math.floor(badJpg.length / 2); i < badJpg.length - 2; i += 3) badJpg[i] = 0xff; // entropy data replaced by markers
  add('corrupted JPEG (entropy data overwritten)', 'corrupted.jpg', badJpg, fail('IMAGE_CORRUPT', /^corrupted\.jpg: corrupt JPEG data \(.+\)$/));
  add('PNG header claiming 100000 x 100000', 'huge-header.png', pngWithHeader(100_000, 100_000, zlib.deflateSync(Buffer.alloc(1000))), fail('IMAGE_TOO_LARGE', /^huge-header\.png: 100000 x 100000 pixels \(10000 MP\) exceeds the pixel limit of 100 MP$/));
  add('a real 150 MP image (1-bit PNG, 12500 x 12000)', 'real-150mp.png', bigBlackPng(12_500, 12_000), fail('IMAGE_TOO_LARGE', /^real-150mp\.png: 12500 x 12000 pixels \(150 MP\) exceeds the pixel limit of 100 MP$/));
  add('1 x 1', 'one.png', await solid(1, 1, '#ff0000').png().toBuffer(), ok());
  add('4000 x 3', 'strip.png', await solid(4000, 3, '#00ff00').png().toBuffer(), ok(/centre-cropped 4000x3 to a square/));
  add('fully transparent', 'transparent.png', await sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer(), ok(/transparency composited on #ffffff/));
  add('CMYK JPEG', 'cmyk.jpg', await photo.clone().toColourspace('cmyk').jpeg().toBuffer(), ok(/CMYK converted to sRGB/));
  add('16-bit PNG', 'deep.png', await photo.clone().toColourspace('rgb16').png().toBuffer(), ok(/16-bit converted to 8-bit/));
  add('16-bit TIFF', 'deep.tiff', tiff16(40, 40, (x, y) => [x * 1600, y * 1600, 0x8000]), ok(/16-bit converted to 8-bit/));
  const frames = await Promise.all(['#ff0000', '#00ff00', '#0000ff'].map((c) => solid(16, 16, c).png().toBuffer()));
  add('multi-page TIFF', 'pages.tif', await sharp(frames, { join: { animated: true } }).tiff().toBuffer(), ok(/multi-page image: first of 3 pages used/));
  const eight = await Promise.all(Array.from({ length: 8 }, (_, i) => solid(16, 16, `#${(i * 30).toString(16).padStart(2, '0')}4080`).png().toBuffer()));
  add('animated GIF', 'anim.gif', await sharp(eight, { join: { animated: true } }).gif().toBuffer(), ok(/animation: first of 8 frames used/));
  add('palette PNG', 'palette.png', await photo.clone().png({ palette: true, colours: 16 }).toBuffer(), ok(/palette image/));
  add('EXIF-rotated JPEG (orientation 6)', 'rotated.jpg', await solid(40, 20, '#ff0000').jpeg().withMetadata({ orientation: 6 }).toBuffer(), ok(/EXIF orientation 6 applied/));
  add('AVIF', 'photo.avif', await photo.clone().avif().toBuffer(), ok());
  add('WebP', 'photo.webp', await photo.clone().webp().toBuffer(), ok());
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'SECRET');
  add(
    'SVG referencing local files and network URLs',
    'refs.svg',
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="32" height="32">
  <style>@import url("http://203.0.113.1/evil.css"); @import url("evil.css");</style>
  <rect width="32" height="32" fill="#0000ff"/>
  <image href="file:///etc/passwd" width="32" height="32"/>
  <image xlink:href="secret.txt" width="32" height="32"/>
  <image href="http://203.0.113.1/tracker.png" width="32" height="32"/>
  <image href="https://203.0.113.1/tracker.png" width="32" height="32"/>
</svg>`,
    ok(),
  );
  // Billion laughs: 10 levels of 10x expansion. libxml2 refuses the expansion (or sharp fails to parse).
  const ents = ['<!ENTITY lol "lollollollollollollollollollol">'];
  for (let i = 1; i <= 9; i++) ents.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
  add(
    'SVG entity bomb (billion laughs)',
    'bomb.svg',
    `<?xml version="1.0"?>\n<!DOCTYPE svg [\n${ents.join('\n')}\n]>\n<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><text x="0" y="10">&lol9;</text></svg>`,
    fail('IMAGE_CORRUPT', /^bomb\.svg: SVG refused: its XML entities expand beyond the parser's limit \(an "entity bomb"\)$/),
  );
  // a Display P3 photo: its iCCP profile changes the colours, so a damaged one must not be applied
  add('PNG whose colour profile (iCCP chunk) fails its CRC', 'bad-profile.png', withDamagedIccp(await photo.clone().withIccProfile('p3').png().toBuffer()), ok(/^damaged colour profile \(the iCCP chunk at byte \d+ fails its CRC check\): ignored, colours read as sRGB$/));
  add('float64 planar multi-page TIFF', 'float64.tif', tiffFloatPlanar(16, 16, 2), fail('IMAGE_UNSUPPORTED', /^float64\.tif: unsupported sample format \(float64 planar\)$/));
  const small = await photo.clone().png().toBuffer();
  add('file name with spaces', 'my holiday photo.png', small, ok());
  add('file name with unicode', 'フォト-ümlaut-😀.png', small, ok());
  add('file name with #', 'img#1.png', small, ok());
  add('file name with %', '100%25 done %20.png', small, ok());
  return out;
}
