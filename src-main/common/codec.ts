/**
 * Wire format for AppApi calls over HTTP/WebSocket: JSON for the shape, raw bytes for typed arrays, so a 100,000-point
 * map or an embedding block travels as binary and is never copied element by element through JSON.
 *
 * Layout: 'CNST' | u32 json byte length | json (utf-8) | zero padding to 8 | buffer 0 | padding | buffer 1 | ...
 * A typed array inside the value is replaced in the JSON by {"$bin": i, "type": "Float32Array", "length": n}.
 */
type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array | Int16Array | Uint16Array | Int8Array;

const CTORS = { Float32Array, Float64Array, Int32Array, Uint32Array, Uint8Array, Int16Array, Uint16Array, Int8Array } as const;
type CtorName = keyof typeof CTORS;

const MAGIC = 0x54534e43; // 'CNST' little-endian

function isTyped(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

export function hasBinary(v: unknown, depth = 0): boolean {
  if (depth > 32 || v === null || typeof v !== 'object') return false;
  if (isTyped(v)) return true;
  if (Array.isArray(v)) return v.some((x) => hasBinary(x, depth + 1));
  return Object.values(v as Record<string, unknown>).some((x) => hasBinary(x, depth + 1));
}

export function encodeMessage(value: unknown): Uint8Array {
  const buffers: TypedArray[] = [];
  const json = JSON.stringify(value, (_k, v) => {
    if (isTyped(v)) {
      buffers.push(v);
      return { $bin: buffers.length - 1, type: v.constructor.name, length: v.length };
    }
    return v;
  }) ?? 'null';
  const jsonBytes = new TextEncoder().encode(json);
  const pad8 = (n: number) => (n + 7) & ~7;
  let size = pad8(8 + jsonBytes.length);
  for (const b of buffers) size = pad8(size + b.byteLength);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, jsonBytes.length, true);
  out.set(jsonBytes, 8);
  let off = pad8(8 + jsonBytes.length);
  for (const b of buffers) {
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), off);
    off = pad8(off + b.byteLength);
  }
  return out;
}

export function decodeMessage(bytes: Uint8Array): unknown {
  if (bytes.byteLength < 8) throw new Error('message too short');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw new Error('not a Constellate message');
  const jsonLen = dv.getUint32(4, true);
  if (8 + jsonLen > bytes.byteLength) throw new Error('message truncated');
  const json = new TextDecoder().decode(bytes.subarray(8, 8 + jsonLen));
  const pad8 = (n: number) => (n + 7) & ~7;
  // first pass: collect placeholders in order of index to compute offsets
  const metas: Array<{ type: CtorName; length: number }> = [];
  JSON.parse(json, (_k, v) => {
    if (v && typeof v === 'object' && typeof v.$bin === 'number') metas[v.$bin] = { type: v.type, length: v.length };
    return v;
  });
  const offsets: number[] = [];
  let off = pad8(8 + jsonLen);
  for (const m of metas) {
    const ctor = CTORS[m.type];
    if (!ctor) throw new Error(`unknown array type ${m.type}`);
    offsets.push(off);
    off = pad8(off + m.length * ctor.BYTES_PER_ELEMENT);
  }
  if (off > pad8(bytes.byteLength)) throw new Error('message truncated');
  const base = bytes.byteOffset;
  return JSON.parse(json, (_k, v) => {
    if (v && typeof v === 'object' && typeof v.$bin === 'number') {
      const m = metas[v.$bin];
      const ctor = CTORS[m.type];
      const start = base + offsets[v.$bin];
      if (start % ctor.BYTES_PER_ELEMENT === 0) return new ctor(bytes.buffer as ArrayBuffer, start, m.length);
      return new ctor(bytes.slice(offsets[v.$bin], offsets[v.$bin] + m.length * ctor.BYTES_PER_ELEMENT).buffer);
    }
    return v;
  });
}
