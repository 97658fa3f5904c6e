/**
 * The runs repository: every SQL statement over `runs`, `clusters` and `assignments` outside the edit engine (a run's
 * parameters, timings, metrics and record; its assignments; its per-cluster summaries).
 */
import { AppError } from '../../common/errors.ts';
import type { ClusterOutput, ClusterParams } from '../../algo/cluster/run.ts';
import type { PresetRecord } from '../../common/jobs.ts';
import type { ClusterRow, ItemKind, RunInfo } from '../../common/types.ts';
import type { Db } from './db.ts';
import { vecBlob } from './embeddings.ts';

export type { ClusterRow, RunInfo };

/** The shape of `runs.record` this version writes (a record without `version` was written before it had one). */
export const RUN_RECORD_VERSION = 1;

/**
 * What a run keeps besides its parameters and metrics (`runs.record`, JSON): the algorithm's own record (algo,
 * metric, reduce, inertia, ...), the post-processing report, the loss per epoch and the trained encoder (ONNX,
 * base64), what a preset chose, the user's name for the run, where names and held groups came from, and what an
 * imported run was read from. Read with parseRunRecord, written with serializeRunRecord (never cast from JSON).
 */
export interface RunRecord {
  version?: number;
  algo?: string;
  name?: string;
  preset?: PresetRecord;
  report?: unknown;
  loss?: number[];
  encoder?: { format: 'onnx'; base64?: string };
  carriedNames?: unknown;
  groups?: { held: unknown[]; linked: unknown };
  imported?: Record<string, unknown>;
  reduce?: unknown;
  [key: string]: unknown;
}

/** A stored record (JSON), checked to be an object; a record of a newer version than this one is refused. */
export function parseRunRecord(json: string, runId?: number): RunRecord {
  const v = JSON.parse(json) as unknown;
  const where = runId === undefined ? 'a run' : `run ${runId}`;
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new AppError('LIBRARY_CORRUPT', `${where}: its record is not an object`);
  const r = v as RunRecord;
  if (typeof r.version === 'number' && r.version > RUN_RECORD_VERSION) throw new AppError('LIBRARY_TOO_NEW', `${where}: its record is of version ${r.version} (this version knows up to ${RUN_RECORD_VERSION})`);
  return r;
}

/** The record as stored: JSON, stamped with this version. */
export function serializeRunRecord(r: RunRecord): string {
  return JSON.stringify({ ...r, version: RUN_RECORD_VERSION });
}

interface RunRow { id: number; model: string; kind: ItemKind; algo: string; params: string; metrics: string; timings: string; record: string; n: number; clusters: number; noise: number; created_at: number }

function toRun(r: RunRow): RunInfo {
  return {
    id: r.id, model: r.model, kind: r.kind, algo: r.algo, params: JSON.parse(r.params), metrics: JSON.parse(r.metrics),
    timings: JSON.parse(r.timings), record: parseRunRecord(r.record, r.id), n: r.n, clusters: r.clusters, noise: r.noise, createdAt: r.created_at,
  };
}

/** Stores a run: its row (with `record`, what the run keeps besides its metrics), assignments and cluster summaries, in one transaction. */
export function insertRun(db: Db, a: { model: string; kind: ItemKind; params: ClusterParams; out: ClusterOutput; ids: Int32Array; record: RunRecord }): number {
  const { out, ids } = a;
  const st = out.stats;
  const toItems = (s: Array<{ index: number; sim: number }>) => s.map((x) => ({ item: ids[x.index], sim: Math.round(x.sim * 1e6) / 1e6 }));
  return db.transaction(() => {
    const runId = Number(db.prepare(`INSERT INTO runs (model, kind, algo, params, metrics, timings, record, n, clusters, noise, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(a.model, a.kind, a.params.algo, JSON.stringify(a.params), JSON.stringify(out.metrics),
      JSON.stringify(out.timings), serializeRunRecord(a.record), ids.length, out.metrics.clusters, out.metrics.noise, Date.now()).lastInsertRowid);
    const ins = db.prepare('INSERT INTO assignments (run_id, item_id, cluster, original, sim, prob, outlier) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < ids.length; i++) {
      const s = st.sims[i];
      ins.run(runId, ids[i], out.labels[i], out.rawLabels[i], Number.isFinite(s) ? s : null,
        out.probabilities ? out.probabilities[i] : null, out.outlierScores ? out.outlierScores[i] : null);
    }
    const insC = db.prepare('INSERT INTO clusters (run_id, cluster, size, mean_sim, centroid, top, tail) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const d = st.ids.length ? st.centroids.length / st.ids.length : 0;
    st.clusters.forEach((c, j) => {
      insC.run(runId, c.id, c.size, Number.isFinite(c.meanSim) ? c.meanSim : null, vecBlob(st.centroids.subarray(j * d, (j + 1) * d)),
        JSON.stringify(toItems(c.top)), JSON.stringify(toItems(c.tail)));
    });
    return runId;
  })();
}

export function getRun(db: Db, id: number): RunInfo {
  const r = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  if (!r) throw new AppError('NOT_FOUND', `run ${id} does not exist`);
  return toRun(r);
}

/** Every run, newest first; a trained encoder is listed by its shape only (its weights: getRun / runEncoderBytes). */
export function listRuns(db: Db): RunInfo[] {
  return (db.prepare('SELECT * FROM runs ORDER BY id DESC').all() as RunRow[]).map(toRun).map((r) => {
    const e = r.record.encoder as Record<string, unknown> | undefined;
    if (!e || typeof e !== 'object' || !('base64' in e)) return r;
    const { base64: _b, ...shape } = e;
    return { ...r, record: { ...r.record, encoder: shape } };
  });
}

export function runCluster(db: Db, runId: number, cluster: number): ClusterRow {
  const r = db.prepare('SELECT cluster, size, mean_sim, name, curated, top, tail FROM clusters WHERE run_id = ? AND cluster = ?').get(runId, cluster) as
    { cluster: number; size: number; mean_sim: number | null; name: string | null; curated: number; top: string; tail: string } | undefined;
  if (!r) throw new AppError('NOT_FOUND', `cluster ${cluster} is not in run ${runId}`);
  return { cluster: r.cluster, size: r.size, meanSim: r.mean_sim, name: r.name, curated: !!r.curated, top: JSON.parse(r.top), tail: JSON.parse(r.tail) };
}

/** The run's clusters (with `only`, just those of them: an edit's changed clusters, without reading the others). */
export function runClusters(db: Db, runId: number, only?: number[]): ClusterRow[] {
  getRun(db, runId);
  const rows = (only
    ? db.prepare('SELECT cluster, size, mean_sim, name, curated, top, tail FROM clusters WHERE run_id = ? AND cluster IN (SELECT value FROM json_each(?)) ORDER BY size DESC, cluster').all(runId, JSON.stringify(only))
    : db.prepare('SELECT cluster, size, mean_sim, name, curated, top, tail FROM clusters WHERE run_id = ? ORDER BY size DESC, cluster').all(runId)) as
    Array<{ cluster: number; size: number; mean_sim: number | null; name: string | null; curated: number; top: string; tail: string }>;
  return rows.map((r) => ({ cluster: r.cluster, size: r.size, meanSim: r.mean_sim, name: r.name, curated: !!r.curated, top: JSON.parse(r.top), tail: JSON.parse(r.tail) }));
}

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
export function writeRunRecord(db: Db, runId: number, record: RunRecord): void {
  db.prepare('UPDATE runs SET record = ? WHERE id = ?').run(serializeRunRecord(record), runId);
}

/** A stored run's record (NOT_FOUND: no such run). */
export function readRunRecord(db: Db, runId: number): RunRecord {
  const json = db.prepare('SELECT record FROM runs WHERE id = ?').pluck().get(runId) as string | undefined;
  if (json === undefined) throw new AppError('NOT_FOUND', `run ${runId} does not exist`);
  return parseRunRecord(json, runId);
}

/** Counts a run's items again (after items were added to it or taken from it). */
export function recountRun(db: Db, runId: number): void {
  db.prepare('UPDATE runs SET n = (SELECT COUNT(*) FROM assignments WHERE run_id = ?) WHERE id = ?').run(runId, runId);
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

/** Replaces a stored run's record and, when given, its metrics. */
export function updateRunRecord(db: Db, runId: number, record: RunRecord, metrics?: Record<string, unknown>): void {
  const m = metrics ? JSON.stringify(metrics) : undefined;
  db.prepare(`UPDATE runs SET record = ?${m ? ', metrics = ?' : ''} WHERE id = ?`).run(...[serializeRunRecord(record), ...(m ? [m] : []), runId]);
}

/** Prepares once the writers that add held groups to a run: the next free cluster number, a curated cluster row of a
 * group (size 0 until refreshed), and an item's assignment to a cluster (as its original one, without figures). */
export function heldGroupWriter(db: Db): { nextCluster: (runId: number) => number; addCluster: (runId: number, cluster: number, name: string | null, groupId: number | null, curated?: boolean) => void; assign: (runId: number, item: number, cluster: number) => void } {
  const max = db.prepare('SELECT MAX(cluster) FROM clusters WHERE run_id = ?').pluck();
  // OR REPLACE: a held item the run clustered (too few others to cluster without it) moves to its held cluster
  const insA = db.prepare('INSERT OR REPLACE INTO assignments (run_id, item_id, cluster, original, sim, prob, outlier) VALUES (?, ?, ?, ?, NULL, NULL, NULL)');
  // a held cluster is hidden when its library group is (the person was hidden in an earlier run)
  const insC = db.prepare(`INSERT INTO clusters (run_id, cluster, size, name, curated, group_id, hidden)
    VALUES (?, ?, 0, ?, ?, ?, COALESCE((SELECT hidden FROM groups WHERE id = ?), 0))`);
  return {
    nextCluster: (runId) => ((max.get(runId) as number | null) ?? -1) + 1,
    addCluster: (runId, cluster, name, groupId, curated = true) => { insC.run(runId, cluster, name, curated ? 1 : 0, groupId, groupId); },
    assign: (runId, item, cluster) => { insA.run(runId, item, cluster, cluster); },
  };
}
