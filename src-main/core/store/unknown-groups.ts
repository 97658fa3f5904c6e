/** The SQL of the unknown-face groups (core/curation/unknown-groups.ts): a run's unassigned items. */
import type { Db } from './db.ts';

/** The run's noise (cluster -1), by item. */
export function noiseItems(db: Db, runId: number): number[] {
  return db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = -1 ORDER BY item_id').pluck().all(runId) as number[];
}

/** The items of the model embedded after the run (in no assignment of it), by item. */
export function itemsNotInRun(db: Db, model: string, runId: number): number[] {
  return db.prepare('SELECT item_id FROM embeddings WHERE model = ? EXCEPT SELECT item_id FROM assignments WHERE run_id = ? ORDER BY 1').pluck().all(model, runId) as number[];
}
