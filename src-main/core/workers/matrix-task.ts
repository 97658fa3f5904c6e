/**
 * A model's matrix read in a worker: the worker opens the library file with a connection of its own (WAL: readers do
 * not wait for the writer) and reads the model's revision and every vector in one read transaction into shared memory,
 * so the main thread, which asks (services/context.ts MatrixCache.load), copies no vector. A library of 18,969 faces x
 * 512 takes about 250 ms of CPU to read (BENCHMARKS.md, one thread budget); on the main thread that blocked every
 * request meanwhile.
 */
import type { ItemKind } from '../../common/types.ts';
import { readSnapshot } from '../jobs.ts';
import { loadMatrix, modelRevision, openWorkerDb } from '../store/embeddings.ts';
import type { TaskContext } from './tasks.ts';

export interface MatrixPayload { path: string; model: string }
export interface MatrixRead { ids: Int32Array; X: Float32Array; n: number; d: number; kind: ItemKind; revision: number }

export async function matrixTask(p: MatrixPayload, _ctx: TaskContext): Promise<{ result: MatrixRead; transfer: ArrayBuffer[] }> {
  const db = openWorkerDb(p.path);
  try {
    const r = readSnapshot(db, () => {
      const revision = modelRevision(db, p.model) ?? -1;
      const m = loadMatrix(db, p.model);
      return { ids: m.ids.slice(), X: m.X, n: m.n, d: m.d, kind: m.model.kind, revision };
    });
    return { result: r, transfer: [r.ids.buffer as ArrayBuffer] };
  } finally {
    db.close();
  }
}
