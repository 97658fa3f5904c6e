import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpyMatrix, readNpyMatrixShared } from './npy-file.ts';
import { SHARED } from '../testing/fixtures.ts';

const C3 = `${SHARED}/data/matrices/c3_5000x128_X.npy`;

describe('readNpyMatrixShared (streamed into shared memory)', () => {
  it('reads a real matrix into a SharedArrayBuffer, equal to the whole-file reader, in small chunks too', () => {
    const whole = readNpyMatrix(C3);
    for (const chunk of [16 << 20, 4096 + 4, 1004]) {
      const s = readNpyMatrixShared(C3, chunk);
      expect(s.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect([s.rows, s.cols]).toEqual([whole.rows, whole.cols]);
      expect(Buffer.compare(Buffer.from(s.data.buffer), Buffer.from(whole.data.buffer, whole.data.byteOffset, whole.data.byteLength))).toBe(0);
    }
  });

  it('converts float64 and float16 chunk by chunk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-stream-'));
    const header = (descr: string, shape: string) => {
      let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
      h += ' '.repeat((64 - ((10 + h.length + 1) % 64)) % 64) + '\n';
      const b = Buffer.alloc(10 + h.length);
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(b);
      b.writeUInt16LE(h.length, 8); b.write(h, 10, 'latin1');
      return b;
    };
    const v = [1.5, -2.25, 3, 0.5, 7, -1];
    const f8 = Buffer.alloc(48); v.forEach((x, i) => f8.writeDoubleLE(x, i * 8));
    writeFileSync(join(dir, 'a.npy'), Buffer.concat([header('<f8', '(3, 2)'), f8]));
    const a = readNpyMatrixShared(join(dir, 'a.npy'), 16);
    expect(Array.from(a.data)).toEqual(v);
    expect([a.rows, a.cols]).toEqual([3, 2]);
    // float16: 1.0 = 0x3c00, -2.0 = 0xc000
    const f2 = Buffer.alloc(4); f2.writeUInt16LE(0x3c00, 0); f2.writeUInt16LE(0xc000, 2);
    writeFileSync(join(dir, 'h.npy'), Buffer.concat([header('<f2', '(2,)'), f2]));
    expect(Array.from(readNpyMatrixShared(join(dir, 'h.npy')).data)).toEqual([1, -2]);
  });

  it('names the file on a truncated, non-finite, wrong-dtype or missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-stream-'));
    const bytes = readFileSync(C3);
    writeFileSync(join(dir, 'cut.npy'), bytes.subarray(0, bytes.length - 100));
    expect(() => readNpyMatrixShared(join(dir, 'cut.npy'))).toThrow(/cut\.npy: truncated data/);
    const bad = Buffer.from(bytes);
    const off = bad.length - 4 * 128 * 2 + 4 * 3; // row 4998, column 3
    bad.writeFloatLE(NaN, off);
    writeFileSync(join(dir, 'nan.npy'), bad);
    expect(() => readNpyMatrixShared(join(dir, 'nan.npy'), 1000)).toThrow(/nan\.npy: non-finite value at row 4998, column 3/);
    writeFileSync(join(dir, 'junk.npy'), 'not a matrix at all');
    expect(() => readNpyMatrixShared(join(dir, 'junk.npy'))).toThrow(/junk\.npy: not a \.npy file/);
    expect(() => readNpyMatrixShared(join(dir, 'none.npy'))).toThrow(/none\.npy: cannot read \(ENOENT\)/);
    const y = `${SHARED}/data/matrices/c3_5000x128_y.npy`;
    expect(() => readNpyMatrixShared(y)).toThrow(/is not float16\/32\/64/);
  });
});
