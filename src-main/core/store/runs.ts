/**
 * The runs repository: the SQL over `runs`, `clusters` and `assignments` that the services need (storing a run and
 * reading its summaries are in core/cluster/runs.ts until they move here).
 */
import type { Db } from './db.ts';

/** The model of a run (null: no such run). */
export function runModel(db: Db, runId: number): string | null {
  return (db.prepare('SELECT model FROM runs WHERE id = ?').pluck().get(runId) as string | undefined) ?? null;
}

/** The newest run of a model (undefined: none). */
export function newestRunOf(db: Db, model: string): number | undefined {
  return db.prepare('SELECT id FROM runs WHERE model = ? ORDER BY id DESC LIMIT 1').pluck().get(model) as number | undefined;
}

/** The items of one cluster of a run, by id. */
export function clusterItemIds(db: Db, runId: number, cluster: number): number[] {
  return db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck().all(runId, cluster) as number[];
}

/** Whether the run has the item. */
export function runHasItem(db: Db, runId: number, item: number): boolean {
  return db.prepare('SELECT 1 FROM assignments WHERE run_id = ? AND item_id = ?').get(runId, item) !== undefined;
}

/** Each of these items' cluster and similarity in the run (items the run does not have are left out). */
export function assignmentsOf(db: Db, runId: number, items: number[]): Map<number, { c: number; s: number | null }> {
  const rows = db.prepare('SELECT item_id, cluster, sim FROM assignments WHERE run_id = ? AND item_id IN (SELECT value FROM json_each(?))')
    .raw().all(runId, JSON.stringify(items)) as Array<[number, number, number | null]>;
  return new Map(rows.map(([i, c, s]) => [i, { c, s }]));
}

/** Every item of the run with its cluster, by item id. */
export function runAssignments(db: Db, runId: number): { ids: Int32Array; clusters: Int32Array } {
  const rows = db.prepare('SELECT item_id, cluster FROM assignments WHERE run_id = ? ORDER BY item_id').raw().all(runId) as Array<[number, number]>;
  const ids = new Int32Array(rows.length), clusters = new Int32Array(rows.length);
  rows.forEach(([i, c], t) => { ids[t] = i; clusters[t] = c; });
  return { ids, clusters };
}

/** The clusters of the items two runs share, by item id. */
export function commonAssignments(db: Db, a: number, b: number): Array<{ ca: number; cb: number }> {
  return db.prepare(`SELECT x.cluster AS ca, y.cluster AS cb FROM assignments x JOIN assignments y ON y.item_id = x.item_id AND y.run_id = ?
      WHERE x.run_id = ? ORDER BY x.item_id`).all(b, a) as Array<{ ca: number; cb: number }>;
}

/** Replaces a run's record (JSON). */
export function writeRunRecord(db: Db, runId: number, record: Record<string, unknown>): void {
  db.prepare('UPDATE runs SET record = ? WHERE id = ?').run(JSON.stringify(record), runId);
}

/** Deletes a run with its clusters, assignments and edits in one transaction; says how much went. */
export function deleteRunRows(db: Db, runId: number): { clusters: number; named: number; items: number; edits: number } {
  return db.transaction(() => {
    const one = (sql: string) => db.prepare(sql).pluck().get(runId) as number;
    const r = {
      clusters: one('SELECT COUNT(*) FROM clusters WHERE run_id = ?'), named: one(`SELECT COUNT(*) FROM clusters WHERE run_id = ? AND (name IS NOT NULL OR curated = 1)`),
      items: one('SELECT COUNT(*) FROM assignments WHERE run_id = ?'), edits: one('SELECT COUNT(*) FROM edits WHERE run_id = ?'),
    };
    db.prepare('DELETE FROM edits WHERE run_id = ?').run(runId);
    db.prepare('DELETE FROM assignments WHERE run_id = ?').run(runId);
    db.prepare('DELETE FROM clusters WHERE run_id = ?').run(runId);
    db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
    return r;
  }).immediate();
}
