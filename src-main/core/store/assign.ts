/** The SQL of `assign` (core/curation/assign.ts): the new items' vectors and the run's groups with their prototypes. */
import type { Db } from './db.ts';

/** The stored vectors of the given items of a model, in one statement: [item id, vector blob] (unknown ids have none). */
export function vectorBlobsOf(db: Db, model: string, ids: number[]): IterableIterator<[number, Buffer]> {
  const q = db.prepare('SELECT e.item_id, e.vec FROM embeddings e WHERE e.model = ? AND e.item_id IN (SELECT value FROM json_each(?))').raw();
  return q.iterate(model, JSON.stringify(ids)) as IterableIterator<[number, Buffer]>;
}

export interface AssignClusterRow { cluster: number; name: string | null; curated: number; centroid: Buffer; top: string; tail: string }

/** The run's clusters that can take items (not the noise, not empty, with a centroid), by cluster. */
export function assignClusterRows(db: Db, runId: number): AssignClusterRow[] {
  return db.prepare(`SELECT cluster, name, curated, centroid, top, tail FROM clusters WHERE run_id = ? AND cluster >= 0 AND size > 0 AND centroid IS NOT NULL ORDER BY cluster`)
    .all(runId) as AssignClusterRow[];
}
