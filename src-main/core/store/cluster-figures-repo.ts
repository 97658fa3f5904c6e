/**
 * The figures of a run's clusters an edit recomputes (size, mean similarity, centroid, top/tail samples, each
 * member's similarity, the run's cluster and noise counts), and the names a new run carries over from the previous
 * one. The statements of core/curation/edit/refresh.ts and carry-over.ts.
 */
import type { Db } from './db.ts';

export interface ClusterFigures { size: number; mean_sim: number | null; centroid: Buffer | null }

export type ClusterFiguresRepo = ReturnType<typeof makeRepo>;
const repos = new WeakMap<Db, ClusterFiguresRepo>();

/** The repository of this connection (statements prepared once). */
export function clusterFiguresRepo(db: Db): ClusterFiguresRepo {
  let r = repos.get(db);
  if (!r) { r = makeRepo(db); repos.set(db, r); }
  return r;
}

function makeRepo(db: Db) {
  const dim = db.prepare('SELECT dim FROM models WHERE name = ?').pluck();
  const figures = db.prepare('SELECT size, mean_sim, centroid FROM clusters WHERE run_id = ? AND cluster = ?');
  const setFigures = db.prepare('UPDATE clusters SET size = ?, mean_sim = ?, centroid = ? WHERE run_id = ? AND cluster = ?');
  const setAll = db.prepare('UPDATE clusters SET size = ?, mean_sim = ?, centroid = ?, top = ?, tail = ? WHERE run_id = ? AND cluster = ?');
  const drop = db.prepare('DELETE FROM clusters WHERE run_id = ? AND cluster = ?');
  const members = db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck();
  const vec = db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
  const setSim = db.prepare('UPDATE assignments SET sim = ? WHERE run_id = ? AND item_id = ?');
  return {
    dim: (model: string) => dim.get(model) as number | undefined,
    members: (runId: number, c: number) => members.all(runId, c) as number[],
    vec: (model: string, item: number) => vec.get(model, item) as Buffer | undefined,
    setSim: (runId: number, item: number, sim: number | null) => { setSim.run(sim, runId, item); },
    figures: (runId: number, c: number) => figures.get(runId, c) as ClusterFigures | undefined,
    setFigures(runId: number, c: number, f: { size: number; meanSim: number; centroid: Buffer; top?: string; tail?: string }): void {
      if (f.top === undefined) setFigures.run(f.size, f.meanSim, f.centroid, runId, c);
      else setAll.run(f.size, f.meanSim, f.centroid, f.top, f.tail, runId, c);
    },
    dropCluster: (runId: number, c: number) => { drop.run(runId, c); },
    /** non-empty clusters: by their rows' sizes (when those were refreshed), else by the members */
    clusterCount: (runId: number, bySize: boolean) => (bySize
      ? db.prepare('SELECT COUNT(*) FROM clusters WHERE run_id = ? AND size > 0')
      : db.prepare('SELECT COUNT(*) FROM (SELECT DISTINCT cluster FROM assignments WHERE run_id = ? AND cluster >= 0)')).pluck().get(runId) as number,
    noiseCount: (runId: number) => db.prepare('SELECT COUNT(*) FROM assignments WHERE run_id = ? AND cluster < 0').pluck().get(runId) as number,
    setCounts: (runId: number, clusters: number, noise: number) => { db.prepare('UPDATE runs SET clusters = ?, noise = ? WHERE id = ?').run(clusters, noise, runId); },
    setNoise: (runId: number, noise: number) => { db.prepare('UPDATE runs SET noise = ? WHERE id = ?').run(noise, runId); },

    // --- carry-over of names from the previous run of a model ---
    previousRun: (model: string, runId: number) => db.prepare('SELECT id FROM runs WHERE model = ? AND id < ? ORDER BY id DESC LIMIT 1').pluck().get(model, runId) as number | undefined,
    namedClusters: (runId: number) => db.prepare('SELECT cluster, name, curated, size FROM clusters WHERE run_id = ? AND (name IS NOT NULL OR curated = 1) ORDER BY size DESC').all(runId) as Array<{ cluster: number; name: string | null; curated: number; size: number }>,
    overlapQuery: () => {
      const q = db.prepare(`SELECT b.cluster AS c, COUNT(*) AS n FROM assignments a JOIN assignments b ON b.item_id = a.item_id AND b.run_id = ?
        WHERE a.run_id = ? AND a.cluster = ? AND b.cluster >= 0 GROUP BY b.cluster ORDER BY n DESC LIMIT 1`);
      return (newRun: number, prev: number, c: number) => q.get(newRun, prev, c) as { c: number; n: number } | undefined;
    },
    sizeQuery: () => { const q = db.prepare('SELECT size FROM clusters WHERE run_id = ? AND cluster = ?').pluck(); return (runId: number, c: number) => q.get(runId, c) as number; },
    linkedQuery: () => { const q = db.prepare('SELECT group_id FROM clusters WHERE run_id = ? AND cluster = ? AND group_id IS NOT NULL').pluck(); return (runId: number, c: number) => q.get(runId, c) as number | undefined; },
    nameQuery: () => { const q = db.prepare('UPDATE clusters SET name = ?, curated = ? WHERE run_id = ? AND cluster = ?'); return (runId: number, c: number, name: string | null, curated: number) => { q.run(name, curated, runId, c); }; },
  };
}
