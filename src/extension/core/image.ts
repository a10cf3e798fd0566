// Image pipeline: any file sharp reads -> the model's square sRGB input, plus notes on what was
// done to it (the panel shows them, so a user knows why a CMYK JPEG looks different, say).
//
// SVG safety: the bytes are always handed to sharp as a buffer, never as a path. Given a path,
// librsvg resolves <image href>, CSS @import and XInclude relative to the file and reads those
// local files; given a buffer it has no base URL and loads nothing but data: URIs (see
// test/unit/core/image.test.ts). librsvg never fetches over the network.

import { constants as fsConstants, promises as fsp } from 'node:fs';
import type { ResizeMode } from '../../shared/types';
import { UserError } from './errors';
import { loadSharp } from './native';
import { describeTiffSamples, tiffSampleFormat } from './tiff';
import { crcFailure, pngDamage, withoutDamagedAncillaryChunks, type PngChunkInfo } from './png';

export const DEFAULT_PIXEL_LIMIT = 100_000_000;

export interface ImageOptions {
  size: number;
  resize: ResizeMode;
  /** CSS colour behind transparent pixels and letterbox bars */
  background: string;
  pixelLimit: number;
}

export interface PreparedImage {
  /** S*S*3 bytes, HWC, sRGB */
  rgb: Uint8Array;
  size: number;
  source: { format: string; width: number; height: number };
  notes: string[];
}

const READABLE = 'PNG, JPEG, WebP, AVIF, GIF, TIFF, SVG';

/** Text (UTF-8 without control bytes other than whitespace) rather than binary data? */
function looksLikeText(b: Buffer): boolean {
  const head = b.subarray(0, 512);
  if (head.length === 0 || head.includes(0)) return false;
  let control = 0;
  for (const c of head) if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) control++;
  // a multi-byte character cut at byte 512 is not a reason to call it binary
  return control === 0 && !head.subarray(0, b.length > head.length ? head.length - 3 : head.length).toString('utf8').includes('\ufffd');
}

const hex = (b: Buffer) => [...b.subarray(0, 8)].map((v) => v.toString(16).padStart(2, '0')).join(' ');

/** The end-of-image marker a complete JPEG ends with (trailing zero padding allowed). */
function jpegHasEnd(b: Buffer): boolean {
  let end = b.length;
  while (end > 2 && b[end - 1] === 0) end--;
  return b[end - 2] === 0xff && b[end - 1] === 0xd9;
}

/** Turns a sharp/libvips failure into one line that names the file and says what is wrong with it. */
function mapSharpError(e: unknown, name: string, bytes: Buffer, pixelLimit: number, size?: { width?: number; height?: number }): UserError {
  const msg = (e as Error).message ?? String(e);
  if (/exceeds pixel limit/i.test(msg)) {
    const mp = (n: number) => (n / 1e6).toFixed(n < 1e6 ? 3 : 0);
    const what = size?.width && size?.height ? `${size.width} x ${size.height} pixels (${mp(size.width * size.height)} MP)` : 'image';
    return new UserError('IMAGE_TOO_LARGE', `${name}: ${what} exceeds the pixel limit of ${mp(pixelLimit)} MP`);
  }
  if (/unsupported image format/i.test(msg)) {
    const what = looksLikeText(bytes) ? `the file holds text; readable formats: ${READABLE}` : `its first bytes ${hex(bytes)} match none of ${READABLE}`;
    return new UserError('IMAGE_UNSUPPORTED', `${name}: not an image format that can be read (${what})`);
  }
  if (/amplification factor|entity reference loop/i.test(msg)) {
    return new UserError('IMAGE_CORRUPT', `${name}: SVG refused: its XML entities expand beyond the parser's limit (an "entity bomb")`);
  }
  // sharp's messages look like "Input buffer has corrupt header: <libvips detail>". "corrupt header"
  // is sharp's word for any failure while reading, so only libvips' detail is kept.
  const detail = msg
    .split('\n')[0]
    .replace(/^Input (buffer|file) (has|contains) /, '')
    .replace(/^corrupt header:\s*/, '')
    .replace(/^(VipsJpeg|vipspng|VipsForeignLoad\w*|gifload|webp2vips|heif\w*|tiff2vips):\s*/i, '')
    .replace(/:\s*$/, '')
    .trim();
  // libvips reads TIFF samples of up to 32 bits; a valid TIFF with 64-bit samples fails with
  // "samples out of range", which is no damage: the format is named instead.
  const tiff = tiffSampleFormat(bytes);
  if (tiff && ![1, 2, 4, 8, 16, 32].includes(tiff.bits)) return new UserError('IMAGE_UNSUPPORTED', `${name}: unsupported sample format (${describeTiffSamples(tiff)})`);
  const structural = pngDamage(bytes);
  if (structural) return new UserError('IMAGE_CORRUPT', `${name}: ${structural}`);
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (isJpeg && (/premature end/i.test(detail) || !jpegHasEnd(bytes))) {
    return new UserError('IMAGE_CORRUPT', `${name}: truncated JPEG: the file ends after ${bytes.length} bytes, without its end-of-image marker`);
  }
  if (isJpeg) return new UserError('IMAGE_CORRUPT', `${name}: corrupt JPEG data${detail && detail !== 'corrupt header' ? ` (${detail})` : ''}`);
  return new UserError('IMAGE_CORRUPT', `${name}: corrupt or truncated image${detail && detail !== 'corrupt header' ? ` (${detail})` : ''}`);
}

/** What a damaged ancillary PNG chunk, left out, means for the picture. */
function droppedChunkNote(c: PngChunkInfo): string {
  const where = `the ${c.type} chunk at byte ${c.pos} fails its CRC check`;
  return c.type === 'iCCP' ? `damaged colour profile (${where}): ignored, colours read as sRGB` : `${where}: ignored`;
}

async function readInput(input: string | Uint8Array): Promise<{ bytes: Buffer; name: string }> {
  if (typeof input !== 'string') {
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (bytes.length === 0) throw new UserError('IMAGE_CORRUPT', '<buffer>: empty (0 bytes), not an image');
    return { bytes, name: '<buffer>' };
  }
  const name = input; // messages name the file as it was given (a path, relative or not)
  let bytes: Buffer;
  try {
    // O_NONBLOCK: a named pipe given as an image must not block the read forever; it is refused below.
    const fh = await fsp.open(input, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        const kind = st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a named pipe' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
        throw new UserError('IMAGE_UNREADABLE', `${input}: is ${kind}, not an image file`);
      }
      bytes = await fh.readFile();
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError('IMAGE_NOT_FOUND', `${input}: no such file`);
    if (code === 'EISDIR') throw new UserError('IMAGE_UNREADABLE', `${input}: is a folder, not an image file`);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError('IMAGE_UNREADABLE', `${input}: permission denied`);
    if (code === 'ERR_FS_FILE_TOO_LARGE') throw new UserError('IMAGE_TOO_LARGE', `${input}: the file is over 2 GiB, too large to read`);
    throw new UserError('IMAGE_UNREADABLE', `${input}: cannot read (${code ?? (e as Error).message})`);
  }
  if (bytes.length === 0) throw new UserError('IMAGE_CORRUPT', `${name}: empty file (0 bytes), not an image`);
  return { bytes, name };
}

export async function loadImage(input: string | Uint8Array, opts: ImageOptions): Promise<PreparedImage> {
  const sharp = loadSharp();
  const read = await readInput(input);
  const name = read.name;
  const png = withoutDamagedAncillaryChunks(read.bytes);
  if (png.critical) throw new UserError('IMAGE_CORRUPT', `${name}: ${crcFailure(png.critical)}`);
  const bytes = png.bytes;
  const S = opts.size;
  // page 0 only: the first frame of an animation, the first page of a multi-page TIFF/PDF.
  const base = { limitInputPixels: opts.pixelLimit, failOn: 'truncated' as const, page: 0, pages: 1 };
  let meta;
  try {
    meta = await sharp(bytes, base).metadata();
  } catch (e) {
    // Over the limit: read the header again without it, only to name the size in the message.
    const size = /exceeds pixel limit/i.test((e as Error).message ?? '') ? await sharp(bytes, { ...base, limitInputPixels: false }).metadata().catch(() => undefined) : undefined;
    throw mapSharpError(e, name, bytes, opts.pixelLimit, size);
  }
  const notes: string[] = png.dropped.map(droppedChunkNote);
  const w0 = meta.width ?? 0;
  const h0 = meta.height ?? 0;
  if (!w0 || !h0) throw new UserError('IMAGE_CORRUPT', `${name}: image has no size (its header gives width ${w0} and height ${h0})`);
  if ((meta.pages ?? 1) > 1) notes.push(`${meta.format === 'gif' || meta.format === 'webp' ? 'animation' : 'multi-page image'}: first of ${meta.pages} ${meta.format === 'tiff' || meta.format === 'pdf' ? 'pages' : 'frames'} used`);
  if (meta.orientation && meta.orientation > 1) notes.push(`EXIF orientation ${meta.orientation} applied`);
  if (meta.space === 'cmyk') notes.push('CMYK converted to sRGB');
  else if (meta.space === 'b-w' || meta.space === 'grey16' || meta.channels === 1 || (meta.channels === 2 && meta.hasAlpha)) notes.push('greyscale converted to RGB');
  if (meta.depth === 'ushort' || meta.space === 'rgb16' || meta.space === 'grey16') notes.push('16-bit converted to 8-bit');
  if (meta.isPalette) notes.push('palette image');
  if (meta.hasAlpha) notes.push(`transparency composited on ${opts.background}`);

  let density: number | undefined;
  if (meta.format === 'svg') {
    // Render vectors at a density where the short side reaches the model size, so they stay sharp.
    const scale = S / Math.min(w0, h0);
    if (scale > 1) density = Math.min(72 * scale, 2400);
  }
  const oriented = meta.orientation && meta.orientation >= 5 ? { w: h0, h: w0 } : { w: w0, h: h0 };
  if (oriented.w !== oriented.h) {
    notes.push(
      opts.resize === 'crop'
        ? `centre-cropped ${oriented.w}x${oriented.h} to a square`
        : `letterboxed ${oriented.w}x${oriented.h} on ${opts.background}`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, density ? { ...base, density } : base)
      .rotate()
      .flatten({ background: opts.background })
      .resize(S, S, {
        fit: opts.resize === 'crop' ? 'cover' : 'contain',
        position: 'centre',
        background: opts.background,
        kernel: 'lanczos3',
      })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== S || info.height !== S) {
      throw new Error(`unexpected decoded layout ${info.width}x${info.height}x${info.channels}`);
    }
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), size: S, source: { format: meta.format ?? 'unknown', width: oriented.w, height: oriented.h }, notes };
  } catch (e) {
    if (/colou?r|background/i.test((e as Error).message) && /Expected|Unable to parse/i.test((e as Error).message)) {
      throw new UserError('BAD_ARGUMENT', `background: not a colour: ${opts.background}`);
    }
    throw mapSharpError(e, name, bytes, opts.pixelLimit, density ? undefined : { width: w0, height: h0 });
  }
}

/** HWC bytes -> CHW floats in the model's normalisation, written at `offset` of `out`. */
export function toTensor(rgb: Uint8Array, size: number, mean: number[], std: number[], out?: Float32Array, offset = 0): Float32Array {
  const n = size * size;
  const t = out ?? new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const m = mean[c];
    const s = std[c];
    const base = offset + c * n;
    for (let i = 0; i < n; i++) t[base + i] = (rgb[i * 3 + c] / 255 - m) / s;
  }
  return t;
}

/** CHW floats (model range) at `offset` -> HWC bytes; rounding matches PyTorch's usual to-uint8. */
export function fromTensor(t: Float32Array, size: number, mean: number[], std: number[], offset = 0): Uint8Array {
  const n = size * size;
  const rgb = new Uint8Array(3 * n);
  for (let c = 0; c < 3; c++) {
    const m = mean[c];
    const s = std[c];
    const base = offset + c * n;
    for (let i = 0, o = c; i < n; i++, o += 3) {
      const v = (t[base + i] * s + m) * 255;
      // (v + 0.5) | 0 rounds like Math.round for these v (float32 times a few bits), at half the cost
      rgb[o] = v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0;
    }
  }
  return rgb;
}
