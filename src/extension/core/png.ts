// Minimal PNG encoder for the model's small RGB outputs. Synchronous zlib on a 64x64 image takes
// well under a millisecond, cheaper than a round trip through sharp's thread pool, and the
// output is deterministic (the tests compare bytes). The chunk/CRC helpers are exported for the
// image pipeline (pngDamage: how a PNG that failed to decode is damaged) and the tests.

import * as zlib from 'node:zlib';
import type { PngImage } from '../../shared/types';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

// zlib's native CRC-32 (Node >= 20.15) is ~8x faster than the table loop below, which stays as
// the fallback for older hosts.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 (ISO 3309, as PNG uses it) of buf[start, end). */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  if (nativeCrc32) return nativeCrc32(buf.subarray(start, end)) >>> 0;
  return crc32Table(buf, start, end);
}

/** The table-driven CRC-32 (exported for the test that checks it against zlib's). */
export function crc32Table(buf: Uint8Array, start = 0, end = buf.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** One PNG chunk: length, type, data, CRC of type and data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out, 4, 8 + data.length), 8 + data.length);
  return out;
}

/** rgb: HWC bytes, 3 channels. */
export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none (small images; 'none' keeps encoding trivial)
    raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return pngFromChunks([pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(raw, { level: 6 })), pngChunk('IEND', new Uint8Array(0))]);
}

/** The PNG signature followed by the given chunks (made with pngChunk). */
export function pngFromChunks(chunks: Uint8Array[]): Buffer {
  return Buffer.concat([Buffer.from(SIGNATURE), ...chunks]);
}

export function pngImage(rgb: Uint8Array, width: number, height: number): PngImage {
  return { width, height, pngBase64: encodePng(rgb, width, height).toString('base64') };
}

/** One complete chunk of a PNG file. */
export interface PngChunkInfo {
  type: string;
  /** byte offset of the chunk (its length field) in the file */
  pos: number;
  /** length of its data */
  length: number;
  crcOk: boolean;
}

const isPng = (b: Uint8Array) => b.length >= 8 && SIGNATURE.every((v, i) => b[i] === v);
const chunkName = (c: PngChunkInfo) => (/^[A-Za-z]{4}$/.test(c.type) ? `${c.type} chunk` : 'chunk');

/**
 * The complete chunks of a PNG, in order, up to IEND or to where the file is cut off (`cut` then
 * says where); undefined when the bytes are not a PNG. Every chunk's CRC is checked.
 */
export function pngChunks(b: Uint8Array): { chunks: PngChunkInfo[]; cut?: string } | undefined {
  if (!isPng(b)) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const chunks: PngChunkInfo[] = [];
  const cut = `truncated PNG: the file ends after ${b.length} bytes`;
  for (let pos = 8; ; ) {
    if (pos === b.length) return { chunks, cut: `${cut}, before its IEND chunk` };
    if (pos + 8 > b.length) return { chunks, cut: `${cut}, inside a chunk header` };
    const length = view.getUint32(pos);
    const type = String.fromCharCode(b[pos + 4], b[pos + 5], b[pos + 6], b[pos + 7]);
    if (pos + 12 + length > b.length) return { chunks, cut: `${cut}, inside its ${chunkName({ type, pos, length, crcOk: true })} at byte ${pos}` };
    const c = { type, pos, length, crcOk: crc32(b, pos + 4, pos + 8 + length) === view.getUint32(pos + 8 + length) };
    chunks.push(c);
    if (type === 'IEND') return { chunks };
    pos += 12 + length;
  }
}

/** "corrupt PNG: the IDAT chunk at byte 54 fails its CRC check" */
export const crcFailure = (c: PngChunkInfo) => `corrupt PNG: the ${chunkName(c)} at byte ${c.pos} fails its CRC check`;

/**
 * Why a PNG that failed to decode is damaged, from its chunk structure alone: where it is cut off,
 * or which chunk fails its CRC. Undefined when the chunks look intact (the decoder's own detail
 * is then the best description) or when the bytes are not a PNG.
 */
export function pngDamage(b: Uint8Array): string | undefined {
  const walk = pngChunks(b);
  if (!walk) return undefined;
  const bad = walk.chunks.find((c) => !c.crcOk);
  return bad ? crcFailure(bad) : walk.cut;
}

/** An ancillary chunk's type starts with a lower-case letter (PNG spec 5.4): a decoder may skip it. */
const isAncillary = (type: string) => /^[a-z]/.test(type);

/**
 * The PNG's chunks checked before decoding (the decoder itself uses damaged ancillary chunks: a
 * colour profile whose CRC fails would be applied). A critical chunk (IHDR, PLTE, IDAT, ...) that
 * fails its CRC is returned as `critical`: the image is corrupt. Ancillary chunks that fail are cut
 * out of the returned bytes (as libpng does by default, and PNG spec 13.2 recommends) and listed
 * in `dropped`. Not a PNG, or nothing damaged: the same bytes.
 */
export function withoutDamagedAncillaryChunks(b: Buffer): { bytes: Buffer; dropped: PngChunkInfo[]; critical?: PngChunkInfo } {
  const walk = pngChunks(b);
  const damaged = walk?.chunks.filter((c) => !c.crcOk) ?? [];
  if (damaged.length === 0) return { bytes: b, dropped: [] };
  const critical = damaged.find((c) => !isAncillary(c.type));
  if (critical) return { bytes: b, dropped: [], critical };
  const parts: Buffer[] = [];
  let from = 0;
  for (const c of damaged) {
    parts.push(b.subarray(from, c.pos));
    from = c.pos + 12 + c.length;
  }
  parts.push(b.subarray(from));
  return { bytes: Buffer.concat(parts), dropped: damaged };
}
