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

/**
 * Reads each field of a message in turn: `read` reads the ones it wants (and says so by returning
 * true); every other field is skipped by its wire type. The one loop every message reader here shares.
 */
function eachField(r: Reader, read: (field: number, wire: number) => boolean): void {
  while (!r.done()) {
    const [f, w] = r.key();
    if (!read(f, w)) r.skip(w);
  }
}

/** Hands each length-delimited field `field` (a sub-message) to `read`; every other field is skipped. */
function eachSub(r: Reader, field: number, read: (sub: Reader) => void): void {
  eachField(r, (f, w) => {
    if (f !== field || w !== 2) return false;
    read(r.sub());
    return true;
  });
}

/** TensorShapeProto.Dimension: dim_value (1); a symbolic or unknown dim is -1. */
function parseDim(r: Reader): number {
  let value = -1;
  eachField(r, (f, w) => {
    if (f !== 1 || w !== 0) return false;
    value = r.varint();
    return true;
  });
  return value;
}

/** ValueInfoProto: name (1), type (2) -> TypeProto.tensor_type (1) -> elem_type (1), shape (2) -> dim (1). */
function parseValueInfo(r: Reader): GraphValue {
  const v: GraphValue = { name: '', elemType: 0, shape: [] };
  const tensor = (t: Reader): void =>
    eachField(t, (f, w) => {
      if (f === 1 && w === 0) v.elemType = t.varint();
      else if (f === 2 && w === 2) eachSub(t.sub(), 1, (dim) => v.shape.push(parseDim(dim)));
      else return false;
      return true;
    });
  eachField(r, (f, w) => {
    if (f === 1 && w === 2) v.name = r.string();
    else if (f === 2 && w === 2) eachSub(r.sub(), 1, tensor);
    else return false;
    return true;
  });
  return v;
}

/** The first string field `field` of a message ('' if absent): a TensorProto's name (8), a NodeProto's domain (7). */
function stringField(r: Reader, field: number): string {
  // stops at the first: the rest of the message (a node's inputs, a tensor's data) is not read
  while (!r.done()) {
    const [f, w] = r.key();
    if (f === field && w === 2) return r.string();
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
  eachField(r, (f, w) => {
    if (f === 1 && w === 0) out.irVersion = r.varint();
    else if (f === 8 && w === 2) {
      // OperatorSetIdProto: domain (1), version (2)
      const o = r.sub();
      const set = { domain: '', version: 0 };
      eachField(o, (of, ow) => {
        if (of === 1 && ow === 2) set.domain = o.string();
        else if (of === 2 && ow === 0) set.version = o.varint();
        else return false;
        return true;
      });
      out.opsets.push(set);
    } else if (f === 7 && w === 2) {
      // GraphProto: node (1), initializer (5), input (11), output (12)
      sawGraph = true;
      const g = r.sub();
      eachField(g, (gf, gw) => {
        if (gw !== 2) return false;
        if (gf === 1) domains.add(stringField(g.sub(), 7)); // NodeProto.domain
        else if (gf === 5) initializers.add(stringField(g.sub(), 8)); // TensorProto.name
        else if (gf === 11) out.inputs.push(parseValueInfo(g.sub()));
        else if (gf === 12) out.outputs.push(parseValueInfo(g.sub()));
        else return false;
        return true;
      });
    } else return false;
    return true;
  });
  if (!sawGraph || out.irVersion === 0) throw new Error('not an ONNX model (no graph)');
  // Old exporters list weights as graph inputs too; they are not inputs a caller feeds.
  out.inputs = out.inputs.filter((v) => !initializers.has(v.name));
  out.nodeDomains = [...domains];
  return out;
}
