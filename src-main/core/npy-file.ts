import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from './atomic-write.ts';
import { basename } from 'node:path';
import { AppError } from '../common/errors.ts';
import { decodeNpyLabels, decodeNpyMatrix, encodeNpy, type Matrix } from '../common/npy.ts';

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new AppError('BAD_FILE', `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export function readNpyMatrix(path: string): Matrix {
  return decodeNpyMatrix(readBytes(path), path);
}

export function readNpyLabels(path: string): Int32Array {
  return decodeNpyLabels(readBytes(path), path);
}

/** Writes atomically (temp file + rename) so a crash never leaves half a file under the final name. */
export function writeNpy(path: string, data: Float32Array | Int32Array, shape: number[]): void {
  writeFileAtomicSync(path, encodeNpy(data, shape), { tmp: `${path}.${process.pid}.${basename(path)}.partial` });
}
