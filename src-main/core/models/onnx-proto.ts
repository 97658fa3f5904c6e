/**
 * Minimal protobuf writer for ONNX ModelProto (no Node imports; pure byte building).
 *
 * Field numbers follow onnx/onnx.proto3 (IR version 7, opset 13 is what we emit).
 */

/** Append-only byte sink made of chunks; nested messages are encoded to bytes first. */
export class PbWriter {
  private chunks: Uint8Array[] = [];
  private cur = new Uint8Array(256);
  private pos = 0;
  private total = 0;

  get length(): number {
    return this.total + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    this.flushCur();
    this.cur = new Uint8Array(Math.max(256, n));
  }

  private flushCur(): void {
    if (this.pos > 0) {
      this.chunks.push(this.cur.subarray(0, this.pos));
      this.total += this.pos;
    }
    this.cur = new Uint8Array(256);
    this.pos = 0;
  }

  varint(v: number | bigint): void {
    let b = BigInt.asUintN(64, BigInt(v));
    if (typeof v === 'number' && v >= 0 && v < 2 ** 31) {
      this.ensure(5);
      let n = v;
      while (n >= 0x80) {
        this.cur[this.pos++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
      this.cur[this.pos++] = n;
      return;
    }
    this.ensure(10);
    while (b >= 0x80n) {
      this.cur[this.pos++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.cur[this.pos++] = Number(b);
  }

  tag(field: number, wire: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.cur.buffer, this.cur.byteOffset + this.pos, 4).setFloat32(0, v, true);
    this.pos += 4;
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.raw(data);
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  /** Embedded message given as a finished writer. */
  message(field: number, w: PbWriter): void {
    this.tag(field, 2);
    this.varint(w.length);
    w.flushCur();
    for (const c of w.chunks) this.raw(c);
  }

  packedInts(field: number, vals: ArrayLike<number | bigint>): void {
    const inner = new PbWriter();
    for (let i = 0; i < vals.length; i++) inner.varint(vals[i]!);
    this.message(field, inner);
  }

  packedFloats(field: number, vals: ArrayLike<number>): void {
    const f = new Float32Array(vals.length);
    for (let i = 0; i < vals.length; i++) f[i] = vals[i]!;
    this.bytes(field, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  }

  raw(data: Uint8Array): void {
    if (data.length > 1024) {
      this.flushCur();
      this.chunks.push(data);
      this.total += data.length;
      return;
    }
    this.ensure(data.length);
    this.cur.set(data, this.pos);
    this.pos += data.length;
  }

  finish(): Uint8Array {
    this.flushCur();
    const out = new Uint8Array(this.total);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

export type DataType = 'float' | 'int64' | 'uint8' | 'int32';
const DATA_TYPE: Record<DataType, number> = { float: 1, uint8: 2, int32: 6, int64: 7 };

export interface TensorInit {
  name: string;
  dims: number[];
  dataType: DataType;
  /** float: Float32Array; int64: BigInt64Array or number[]; uint8: Uint8Array; int32: Int32Array */
  data: Float32Array | BigInt64Array | Uint8Array | Int32Array | number[];
}

export type AttrValue =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: number[] }
  | { floats: number[] }
  | { t: TensorInit };

export interface NodeInit {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

export interface ValueInfo {
  name: string;
  elemType?: DataType;
  /** numbers are fixed sizes; strings are symbolic (dynamic) dims */
  shape: Array<number | string>;
}

export interface GraphInit {
  name: string;
  nodes: NodeInit[];
  initializers: TensorInit[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  doc?: string;
}

export interface ModelInit {
  graph: GraphInit;
  opset?: number;
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

function tensorBytes(t: TensorInit): Uint8Array {
  const d = t.data;
  switch (t.dataType) {
    case 'float': {
      const f = d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
      return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    }
    case 'int64': {
      const b = d instanceof BigInt64Array ? d : BigInt64Array.from(Array.from(d as ArrayLike<number>, (x) => BigInt(x)));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
    case 'int32': {
      const b = d instanceof Int32Array ? d : Int32Array.from(d as ArrayLike<number>);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
    case 'uint8':
      return d instanceof Uint8Array ? d : Uint8Array.from(d as ArrayLike<number>);
  }
}

export function encodeTensor(t: TensorInit): PbWriter {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) {
    throw new Error(`tensor ${t.name}: dims ${JSON.stringify(t.dims)} need ${count} values, got ${t.data.length}`);
  }
  const w = new PbWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, DATA_TYPE[t.dataType]);
  w.string(8, t.name);
  w.bytes(9, tensorBytes(t)); // raw_data, little-endian
  return w;
}

function encodeAttr(name: string, v: AttrValue): PbWriter {
  const w = new PbWriter();
  w.string(1, name);
  if ('f' in v) {
    w.float(2, v.f);
    w.int(20, 1);
  } else if ('i' in v) {
    w.int(3, v.i);
    w.int(20, 2);
  } else if ('s' in v) {
    w.string(4, v.s);
    w.int(20, 3);
  } else if ('t' in v) {
    w.message(5, encodeTensor(v.t));
    w.int(20, 4);
  } else if ('floats' in v) {
    for (const f of v.floats) w.float(7, f);
    w.int(20, 6);
  } else if ('ints' in v) {
    for (const i of v.ints) w.int(8, i);
    w.int(20, 7);
  }
  return w;
}

function encodeNode(n: NodeInit, idx: number): PbWriter {
  const w = new PbWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.op}_${idx}`);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, encodeAttr(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeValueInfo(v: ValueInfo): PbWriter {
  const shape = new PbWriter();
  for (const d of v.shape) {
    const dim = new PbWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new PbWriter();
  tensorType.int(1, DATA_TYPE[v.elemType ?? 'float']);
  tensorType.message(2, shape);
  const type = new PbWriter();
  type.message(1, tensorType);
  const w = new PbWriter();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

/** Serialize an ONNX ModelProto. */
export function encodeModel(m: ModelInit): Uint8Array {
  const g = new PbWriter();
  m.graph.nodes.forEach((n, i) => g.message(1, encodeNode(n, i)));
  g.string(2, m.graph.name);
  for (const t of m.graph.initializers) g.message(5, encodeTensor(t));
  if (m.graph.doc) g.string(10, m.graph.doc);
  for (const v of m.graph.inputs) g.message(11, encodeValueInfo(v));
  for (const v of m.graph.outputs) g.message(12, encodeValueInfo(v));

  const w = new PbWriter();
  w.int(1, m.irVersion ?? 7);
  w.string(2, m.producerName ?? 'constellate');
  w.string(3, m.producerVersion ?? '0');
  if (m.docString) w.string(6, m.docString);
  w.message(7, g);
  const opset = new PbWriter();
  opset.string(1, '');
  opset.int(2, m.opset ?? 13);
  w.message(8, opset);
  for (const [k, v] of Object.entries(m.metadata ?? {})) {
    const e = new PbWriter();
    e.string(1, k);
    e.string(2, v);
    w.message(14, e);
  }
  return w.finish();
}
