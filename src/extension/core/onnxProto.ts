// Just enough of the ONNX protobuf to validate a package without creating an inference session:
// graph input/output names, element types and shapes, and the operator-set domains (a custom
// domain means a custom-operator library, which this project never loads). Initializers (the
// weights) are skipped by length, so parsing a large graph stays cheap.

export interface GraphValue {
  name: string;
  /** ONNX TensorProto.DataType: 1 float, 7 int64, ... (0 if not a tensor) */
  elemType: number;
  /** dims; a symbolic or unknown dim is -1 */
  shape: number[];
}

export interface GraphSummary {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  inputs: GraphValue[];
  outputs: GraphValue[];
  nodeDomains: string[];
}

export const ELEM_FLOAT = 1;
export const ELEM_INT64 = 7;
export const ELEM_NAMES: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 10: 'float16', 11: 'float64' };

class Reader {
  pos: number;
  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }
  done(): boolean {
    return this.pos >= this.end;
  }
  varint(): number {
    // Numbers here (dims, lengths, enums) fit in 2^53; larger varints are read approximately.
    let result = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
  }
  /** reads a field key; returns [fieldNumber, wireType] */
  key(): [number, number] {
    const k = this.varint();
    return [Math.floor(k / 8), k & 7];
  }
  sub(): Reader {
    const len = this.varint();
    if (this.pos + len > this.end) throw new Error('truncated message');
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }
  string(): string {
    const r = this.sub();
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + r.pos, r.end - r.pos).toString('utf8');
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.sub();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error('truncated field');
  }
}

function parseDim(r: Reader): number {
  let value = -1;
  while (!r.done()) {
    const [f, w] = r.key();
    if (f === 1 && w === 0) value = r.varint();
    else r.skip(w);
  }
  return value;
}

function parseValueInfo(r: Reader): GraphValue {
  const v: GraphValue = { name: '', elemType: 0, shape: [] };
  while (!r.done()) {
    const [f, w] = r.key();
    if (f === 1 && w === 2) v.name = r.string();
    else if (f === 2 && w === 2) {
      const type = r.sub();
      while (!type.done()) {
        const [tf, tw] = type.key();
        if (tf !== 1 || tw !== 2) {
          type.skip(tw);
          continue;
        }
        const tensor = type.sub();
        while (!tensor.done()) {
          const [xf, xw] = tensor.key();
          if (xf === 1 && xw === 0) v.elemType = tensor.varint();
          else if (xf === 2 && xw === 2) {
            const shape = tensor.sub();
            while (!shape.done()) {
              const [sf, sw] = shape.key();
              if (sf === 1 && sw === 2) v.shape.push(parseDim(shape.sub()));
              else shape.skip(sw);
            }
          } else tensor.skip(xw);
        }
      }
    } else r.skip(w);
  }
  return v;
}

function parseTensorName(r: Reader): string {
  while (!r.done()) {
    const [f, w] = r.key();
    if (f === 8 && w === 2) return r.string();
    r.skip(w);
  }
  return '';
}

function parseNodeDomain(r: Reader): string {
  while (!r.done()) {
    const [f, w] = r.key();
    if (f === 7 && w === 2) return r.string();
    r.skip(w);
  }
  return '';
}

export function parseOnnx(bytes: Uint8Array): GraphSummary {
  const out: GraphSummary = { irVersion: 0, opsets: [], inputs: [], outputs: [], nodeDomains: [] };
  const initializers = new Set<string>();
  const domains = new Set<string>();
  let sawGraph = false;
  const r = new Reader(bytes);
  while (!r.done()) {
    const [f, w] = r.key();
    if (f === 1 && w === 0) out.irVersion = r.varint();
    else if (f === 8 && w === 2) {
      const o = r.sub();
      const set = { domain: '', version: 0 };
      while (!o.done()) {
        const [of, ow] = o.key();
        if (of === 1 && ow === 2) set.domain = o.string();
        else if (of === 2 && ow === 0) set.version = o.varint();
        else o.skip(ow);
      }
      out.opsets.push(set);
    } else if (f === 7 && w === 2) {
      sawGraph = true;
      const g = r.sub();
      while (!g.done()) {
        const [gf, gw] = g.key();
        if (gf === 1 && gw === 2) domains.add(parseNodeDomain(g.sub()));
        else if (gf === 5 && gw === 2) initializers.add(parseTensorName(g.sub()));
        else if (gf === 11 && gw === 2) out.inputs.push(parseValueInfo(g.sub()));
        else if (gf === 12 && gw === 2) out.outputs.push(parseValueInfo(g.sub()));
        else g.skip(gw);
      }
    } else r.skip(w);
  }
  if (!sawGraph || out.irVersion === 0) throw new Error('not an ONNX model (no graph)');
  // Old exporters list weights as graph inputs too; they are not inputs a caller feeds.
  out.inputs = out.inputs.filter((v) => !initializers.has(v.name));
  out.nodeDomains = [...domains];
  return out;
}
