/** Clustering runs in the library: parameters, timings, metrics, assignments and per-cluster summaries. */
import { AppError } from '../../common/errors.ts';
import { encoderBytesOf, encoderRecord } from '../models/encoder-onnx.ts';
import type { ClusterOutput, ClusterParams } from '../../algo/cluster/run.ts';
import type { ClusterRow, ItemKind, RunInfo } from '../../common/types.ts';
export type { ClusterRow, RunInfo };
import type { Db } from '../store/db.ts';
import { vecBlob } from '../embed/store.ts';

interface RunRow { id: number; model: string; kind: ItemKind; algo: string; params: string; metrics: string; timings: string; record: string; n: number; clusters: number; noise: number; created_at: number }

function toRun(r: RunRow): RunInfo {
  return {
    id: r.id, model: r.model, kind: r.kind, algo: r.algo, params: JSON.parse(r.params), metrics: JSON.parse(r.metrics),
    timings: JSON.parse(r.timings), record: JSON.parse(r.record), n: r.n, clusters: r.clusters, noise: r.noise, createdAt: r.created_at,
  };
}

/** What a run keeps besides its metrics: the algorithm's record, the post-processing report, the autoencoder's loss per
 * epoch and the trained encoder (ONNX, base64) so new items can be encoded the same way. */
function runRecord(out: ClusterOutput): Record<string, unknown> {
  return { ...out.record, report: out.report, ...(out.loss ? { loss: out.loss } : {}), ...(out.encoder ? { encoder: encoderRecord(out.encoder) } : {}) };
}

export function storeRun(db: Db, a: { model: string; kind: ItemKind; params: ClusterParams; out: ClusterOutput; ids: Int32Array }): number {
  const { out, ids } = a;
  const st = out.stats;
  const toItems = (s: Array<{ index: number; sim: number }>) => s.map((x) => ({ item: ids[x.index], sim: Math.round(x.sim * 1e6) / 1e6 }));
  return db.transaction(() => {
    const runId = Number(db.prepare(`INSERT INTO runs (model, kind, algo, params, metrics, timings, record, n, clusters, noise, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(a.model, a.kind, a.params.algo, JSON.stringify(a.params), JSON.stringify(out.metrics),
      JSON.stringify(out.timings), JSON.stringify(runRecord(out)), ids.length, out.metrics.clusters, out.metrics.noise, Date.now()).lastInsertRowid);
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

/** The ONNX bytes of the encoder a run trained (autoencoder / PCA head of its reduction, or DEC), to encode new items. */
export function runEncoderBytes(db: Db, runId: number): Uint8Array {
  return encoderBytesOf(getRun(db, runId).record, runId);
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
