// The sample format of a TIFF's first page, read from its header: libvips refuses some valid
// TIFFs (64-bit samples) with "samples out of range", which would read as a damaged file. The
// image pipeline names the format instead.

export interface TiffSampleFormat {
  /** bits per sample (of the first sample) */
  bits: number;
  /** TIFF SampleFormat: 1 unsigned integer, 2 signed integer, 3 IEEE float, 4 undefined */
  format: number;
  /** PlanarConfiguration 2: each sample in its own plane */
  planar: boolean;
}

const TYPE_SIZES: Record<number, number> = { 1: 1, 3: 2, 4: 4 }; // BYTE, SHORT, LONG

/** Undefined when the bytes are not a TIFF or its first directory cannot be read. */
export function tiffSampleFormat(b: Uint8Array): TiffSampleFormat | undefined {
  if (b.length < 8) return undefined;
  const little = b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0;
  const big = b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42;
  if (!little && !big) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (o: number) => v.getUint16(o, little);
  const u32 = (o: number) => v.getUint32(o, little);
  const ifd = u32(4);
  if (ifd + 2 > b.length) return undefined;
  const n = u16(ifd);
  if (ifd + 2 + n * 12 > b.length) return undefined;
  const first = (tag: number): number | undefined => {
    for (let i = 0; i < n; i++) {
      const e = ifd + 2 + i * 12;
      if (u16(e) !== tag) continue;
      const size = TYPE_SIZES[u16(e + 2)];
      if (!size) return undefined;
      // values of up to 4 bytes in all sit in the entry itself, longer ones at an offset
      const at = size * u32(e + 4) <= 4 ? e + 8 : u32(e + 8);
      if (at + size > b.length) return undefined;
      return size === 1 ? b[at] : size === 2 ? u16(at) : u32(at);
    }
    return undefined;
  };
  return { bits: first(258) ?? 1, format: first(339) ?? 1, planar: first(284) === 2 };
}

/** "float64 planar", "uint16", ... */
export function describeTiffSamples(f: TiffSampleFormat): string {
  const kind = f.format === 3 ? 'float' : f.format === 2 ? 'int' : f.format === 1 ? 'uint' : 'untyped ';
  return `${kind}${f.bits}${f.planar ? ' planar' : ''}`;
}
