/**
 * A Parquet / Arrow vector column (file or folder of parts) read into one SharedArrayBuffer, batch by batch (a row
 * group or record batch at a time), for the clustering paths that need every row at once: the matrix is in memory once,
 * never the whole file beside it.
 */
import { AppError } from '../../common/errors.ts';
import type { Matrix } from '../../common/npy.ts';
import { badFile, openColumnar, readBatches, vectorColumn } from './columnar.ts';

export async function readColumnarMatrixShared(path: string, name = 'embedding', signal?: AbortSignal): Promise<Matrix> {
  const src = openColumnar(path);
  vectorColumn(src, name);
  const rows = src.rows;
  let data: Float32Array | null = null;
  let d = 0, filled = 0;
  for await (const b of readBatches(src, { vectors: [name] }, { signal })) {
    const v = b.vectors[name];
    if (!data) {
      d = v.d;
      data = new Float32Array(new SharedArrayBuffer(rows * d * 4));
    } else if (v.d !== d) throw badFile(path, `column '${name}' changes dimension (${d} then ${v.d}) at row ${b.start}`);
    if (b.start + b.n > rows) throw badFile(path, `more rows than its metadata says (${rows})`);
    for (let i = 0; i < b.n * d; i++) {
      if (!Number.isFinite(v.X[i])) throw badFile(path, `non-finite value at row ${b.start + Math.floor(i / d)}, column ${i % d}`);
    }
    data.set(v.X.subarray(0, b.n * d), b.start * d);
    filled += b.n;
  }
  if (!data || filled !== rows) throw new AppError('BAD_FILE', `${path}: ${filled} of ${rows} rows read from column '${name}'`);
  return { data, rows, cols: d };
}
