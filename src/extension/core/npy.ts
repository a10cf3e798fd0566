// .npy (format version 1.0) writer for token indices, so users can load them with numpy.load.

/** indices: [P][L] integers -> int64 little-endian array of shape (P, L). */
export function exportNpy(indices: ArrayLike<number>[]): Buffer {
  const P = indices.length;
  const L = P > 0 ? indices[0].length : 0;
  if (indices.some((row) => row.length !== L)) throw new Error('exportNpy: rows differ in length');
  for (const row of indices) for (let i = 0; i < L; i++) if (!Number.isSafeInteger(row[i])) throw new Error('exportNpy: values must be integers');
  const dict = `{'descr': '<i8', 'fortran_order': False, 'shape': (${P}, ${L}), }`;
  // magic(6) + version(2) + header length(2) + header, padded with spaces so data is 64-aligned.
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = Buffer.alloc(10 + header.length + P * L * 8);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  let o = 10 + header.length;
  for (const row of indices) {
    for (let i = 0; i < L; i++, o += 8) out.writeBigInt64LE(BigInt(row[i]), o);
  }
  return out;
}
