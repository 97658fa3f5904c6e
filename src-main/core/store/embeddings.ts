/**
 * The embeddings repository: the SQL over `models` and `embeddings` that the services need (the embed pipeline's own
 * statements are in core/embed/store.ts until they move here).
 */
import { AppError } from '../../common/errors.ts';
import type { Db } from './db.ts';

/** A model's revision (bumped by every write of its embeddings); undefined: no such model. */
export function modelRevision(db: Db, model: string): number | undefined {
  return db.prepare('SELECT revision FROM models WHERE name = ?').pluck().get(model) as number | undefined;
}

/** How many items a model has embeddings of. */
export function embeddingCount(db: Db, model: string): number {
  return db.prepare('SELECT COUNT(*) FROM embeddings WHERE model = ?').pluck().get(model) as number;
}

/**
 * The vectors of these item ids under a model, one row each in id order (in shared memory with `shared`, so workers
 * read them without a copy). An item without an embedding: a zero row, or NOT_FOUND naming it with `strict`.
 */
export function vectorsOf(db: Db, model: string, ids: ArrayLike<number>, d: number, opts: { shared?: boolean; strict?: boolean } = {}): Float32Array {
  const X = new Float32Array(opts.shared ? new SharedArrayBuffer(ids.length * d * 4) : new ArrayBuffer(ids.length * d * 4));
  const bytes = new Uint8Array(X.buffer);
  const q = db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
  for (let i = 0; i < ids.length; i++) {
    const b = q.get(model, ids[i]) as Buffer | undefined;
    if (!b) {
      if (opts.strict) throw new AppError('NOT_FOUND', `item ${ids[i]} has no ${model} embedding`);
      continue;
    }
    if (b.byteLength !== d * 4) throw new AppError('LIBRARY_CORRUPT', `embedding: stored vector has ${b.byteLength / 4} values, expected ${d}`);
    bytes.set(b, i * d * 4);
  }
  return X;
}
