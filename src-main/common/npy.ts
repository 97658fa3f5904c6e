/**
 * NumPy .npy format (version 1.0-3.0), parsed from and written to bytes. Pure: no file I/O here (see core/npy-file.ts).
 * Supports little-endian float16/32/64, int32/int64/uint8 in C order.
 */
import { AppError } from './errors.ts';

export type NpyDtype = '<f2' | '<f4' | '<f8' | '<i4' | '<i8' | '|u1' | '<u1' | '|i1';

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** byte offset of the data */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function parseNpyHeader(bytes: Uint8Array, name = 'array'): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new AppError('BAD_FILE', `${name}: not a .npy file (bad magic)`);
  }
  const major = bytes[6];
  let headerLen: number;
  let start: number;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) { headerLen = dv.getUint16(8, true); start = 10; }
  else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new AppError('BAD_FILE', `${name}: truncated .npy header`);
    headerLen = dv.getUint32(8, true); start = 12;
  } else throw new AppError('BAD_FILE', `${name}: unsupported .npy version ${major}`);
  if (start + headerLen > bytes.length) throw new AppError('BAD_FILE', `${name}: truncated .npy header`);
  const text = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new AppError('BAD_FILE', `${name}: malformed .npy header`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 0) throw new AppError('BAD_FILE', `${name}: bad shape (${shapeText})`);
    return v;
  });
  return { descr, fortranOrder: fortran === 'True', shape, dataOffset: start + headerLen };
}

export function dtypeSize(descr: string): number {
  const m = /^[<|=]?[fiub](\d+)$/.exec(descr);
  if (!m) return 0;
  return Number(m[1]);
}

export function halfToFloat(h: number): number {
  const s = (h & 0x8000) >> 15, e = (h & 0x7c00) >> 10, f = h & 0x03ff;
  if (e === 0) return (s ? -1 : 1) * Math.pow(2, -14) * (f / 1024);
  if (e === 0x1f) return f ? NaN : (s ? -Infinity : Infinity);
  return (s ? -1 : 1) * Math.pow(2, e - 15) * (1 + f / 1024);
}

export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Decode a 2-D (or 1-D, as n x 1) float .npy into a float32 row-major matrix. */
export function decodeNpyMatrix(bytes: Uint8Array, name = 'matrix'): Matrix {
  const h = parseNpyHeader(bytes, name);
  if (h.fortranOrder) throw new AppError('BAD_FILE', `${name}: Fortran-order arrays are not supported; save with C order`);
  if (h.descr.startsWith('>')) throw new AppError('BAD_FILE', `${name}: big-endian arrays are not supported`);
  if (h.shape.length !== 2 && h.shape.length !== 1) throw new AppError('BAD_FILE', `${name}: expected a 2-D matrix, got shape (${h.shape.join(', ')})`);
  const rows = h.shape[0];
  const cols = h.shape.length === 2 ? h.shape[1] : 1;
  const n = rows * cols;
  const kind = h.descr.replace(/^[<|=]/, '');
  const size = dtypeSize(h.descr);
  if (!['f2', 'f4', 'f8'].includes(kind)) throw new AppError('BAD_FILE', `${name}: dtype ${h.descr} is not float16/32/64`);
  if (h.dataOffset + n * size > bytes.length) {
    throw new AppError('BAD_FILE', `${name}: truncated data (${bytes.length - h.dataOffset} bytes for shape (${h.shape.join(', ')}) ${h.descr})`);
  }
  const out = new Float32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + h.dataOffset, n * size);
  if (kind === 'f4') {
    if ((bytes.byteOffset + h.dataOffset) % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset + h.dataOffset, n));
    else for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  } else if (kind === 'f8') {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i])) throw new AppError('BAD_FILE', `${name}: non-finite value at row ${Math.floor(i / cols)}, column ${i % cols}`);
  }
  return { data: out, rows, cols };
}

/** Decode a 1-D integer .npy (labels) into an Int32Array. */
export function decodeNpyLabels(bytes: Uint8Array, name = 'labels'): Int32Array {
  const h = parseNpyHeader(bytes, name);
  const n = h.shape.reduce((a, b) => a * b, 1);
  if (h.shape.length !== 1 && !(h.shape.length === 2 && h.shape[1] === 1)) throw new AppError('BAD_FILE', `${name}: expected a 1-D label vector`);
  const kind = h.descr.replace(/^[<|=]/, '');
  const size = dtypeSize(h.descr);
  if (h.dataOffset + n * size > bytes.length) throw new AppError('BAD_FILE', `${name}: truncated data`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + h.dataOffset, n * size);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    switch (kind) {
      case 'i4': out[i] = dv.getInt32(i * 4, true); break;
      case 'i8': out[i] = Number(dv.getBigInt64(i * 8, true)); break;
      case 'u1': out[i] = dv.getUint8(i); break;
      case 'i1': out[i] = dv.getInt8(i); break;
      case 'u4': out[i] = dv.getUint32(i * 4, true); break;
      case 'f4': out[i] = dv.getFloat32(i * 4, true); break;
      case 'f8': out[i] = dv.getFloat64(i * 8, true); break;
      default: throw new AppError('BAD_FILE', `${name}: unsupported label dtype ${h.descr}`);
    }
  }
  return out;
}

/** Build the bytes of a .npy file (version 1.0) for a float32 or int32 array with the given shape. */
export function encodeNpy(data: Float32Array | Int32Array, shape: number[]): Uint8Array {
  const descr = data instanceof Float32Array ? '<f4' : '<i4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  const pad = (64 - (total % 64)) % 64;
  header = header + ' '.repeat(pad) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1; out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
