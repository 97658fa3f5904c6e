import { writeFileAtomicSync } from './atomic-write.ts';
import { basename } from 'node:path';
import { readFileSafeSync } from './safe-read.ts';
import { decodeNpyLabels, decodeNpyMatrix, encodeNpy, type Matrix } from '../common/npy.ts';

/** Through the one reader: a FIFO or a device named .npy is refused by name instead of blocking or reading forever. */
function readBytes(path: string): Uint8Array {
  return readFileSafeSync(path, 'npy');
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
