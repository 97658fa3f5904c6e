import { closeSync, fstatSync, readSync } from 'node:fs';
import { writeFileAtomicSync } from './atomic-write.ts';
import { basename } from 'node:path';
import { AppError } from '../common/errors.ts';
import { openRegularSync, readFileSafeSync } from './safe-read.ts';
import { decodeNpyLabels, decodeNpyMatrix, dtypeSize, encodeNpy, halfToFloat, parseNpyHeader, type Matrix } from '../common/npy.ts';

/** Through the one reader: a FIFO or a device named .npy is refused by name instead of blocking or reading forever. */
function readBytes(path: string): Uint8Array {
  return readFileSafeSync(path, 'npy');
}

export function readNpyMatrix(path: string): Matrix {
  return decodeNpyMatrix(readBytes(path), path);
}

/**
 * A float .npy matrix streamed into a SharedArrayBuffer (what the workers take): the file is read in chunks straight
 * into the shared rows (float32) or through one chunk buffer (float16/64), so the matrix is in memory once, never the
 * whole file beside it; no 2 GiB limit. Same checks and messages as readNpyMatrix.
 */
export function readNpyMatrixShared(path: string, chunkBytes = 16 << 20): Matrix {
  // the one reader's open: a FIFO or a device named .npy is refused by name instead of blocking
  const fd = openRegularSync(path, 'npy').fd;
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(size, 1 << 16));
    readFully(fd, head, 0, path);
    const h = parseNpyHeader(head, path);
    if (h.fortranOrder) throw new AppError('BAD_FILE', `${path}: Fortran-order arrays are not supported; save with C order`);
    if (h.descr.startsWith('>')) throw new AppError('BAD_FILE', `${path}: big-endian arrays are not supported`);
    if (h.shape.length !== 2 && h.shape.length !== 1) throw new AppError('BAD_FILE', `${path}: expected a 2-D matrix, got shape (${h.shape.join(', ')})`);
    const rows = h.shape[0], cols = h.shape.length === 2 ? h.shape[1] : 1;
    const n = rows * cols;
    const kind = h.descr.replace(/^[<|=]/, '');
    const es = dtypeSize(h.descr);
    if (!['f2', 'f4', 'f8'].includes(kind)) throw new AppError('BAD_FILE', `${path}: dtype ${h.descr} is not float16/32/64`);
    if (h.dataOffset + n * es > size) {
      throw new AppError('BAD_FILE', `${path}: truncated data (${size - h.dataOffset} bytes for shape (${h.shape.join(', ')}) ${h.descr})`);
    }
    const data = new Float32Array(new SharedArrayBuffer(n * 4));
    const per = Math.max(1, Math.floor(chunkBytes / es));
    const tmp = kind === 'f4' ? null : new Uint8Array(per * es);
    for (let v0 = 0; v0 < n; v0 += per) {
      const v1 = Math.min(n, v0 + per);
      const pos = h.dataOffset + v0 * es;
      if (kind === 'f4') readFully(fd, new Uint8Array(data.buffer, v0 * 4, (v1 - v0) * 4), pos, path);
      else {
        const buf = tmp!.subarray(0, (v1 - v0) * es);
        readFully(fd, buf, pos, path);
        const dv = new DataView(buf.buffer, 0, buf.length);
        if (kind === 'f8') for (let i = v0; i < v1; i++) data[i] = dv.getFloat64((i - v0) * 8, true);
        else for (let i = v0; i < v1; i++) data[i] = halfToFloat(dv.getUint16((i - v0) * 2, true));
      }
      for (let i = v0; i < v1; i++) {
        if (!Number.isFinite(data[i])) throw new AppError('BAD_FILE', `${path}: non-finite value at row ${Math.floor(i / cols)}, column ${i % cols}`);
      }
    }
    return { data, rows, cols };
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, into: Uint8Array, position: number, path: string): void {
  let off = 0;
  while (off < into.length) {
    let got: number;
    try { got = readSync(fd, into, off, into.length - off, position + off); } catch (e) {
      throw new AppError('IO', `${path}: read failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (got === 0) throw new AppError('BAD_FILE', `${path}: truncated data (the file ended early)`);
    off += got;
  }
}

export function readNpyLabels(path: string): Int32Array {
  return decodeNpyLabels(readBytes(path), path);
}

/** Writes atomically (temp file + rename) so a crash never leaves half a file under the final name. */
export function writeNpy(path: string, data: Float32Array | Int32Array, shape: number[]): void {
  writeFileAtomicSync(path, encodeNpy(data, shape), { tmp: `${path}.${process.pid}.${basename(path)}.partial` });
}
