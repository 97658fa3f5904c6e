/**
 * The figures of clusters an edit changed, recomputed: by the function a clustering run uses (clusterStats), so an
 * edited cluster's figures are what a run on the same members would store; or, for items assign added, incrementally.
 */
import { clusterStats } from '../../../algo/cluster/postprocess.ts';
import { getRun } from '../../store/runs.ts';
import { blobVec, vecBlob } from '../../store/embeddings.ts';
import { clusterFiguresRepo } from '../../store/cluster-figures-repo.ts';
import type { Db } from '../../store/db.ts';

const SAMPLES = 10;

/**
 * Recomputes size, centroid, mean similarity, top/tail samples and per-member similarity of the given clusters (an
 * emptied one is deleted; noise members lose their similarity), and the run's cluster and noise counts.
 */
export function refreshClusters(db: Db, runId: number, clusters: Iterable<number>): void {
  const run = getRun(db, runId);
  const r = clusterFiguresRepo(db);
  const d = r.dim(run.model);
  let done = 0;
  for (const c of new Set(clusters)) {
    done++;
    const ids = r.members(runId, c);
    if (c < 0) {
      for (const id of ids) r.setSim(runId, id, null);
      continue;
    }
    if (ids.length === 0) { r.dropCluster(runId, c); continue; }
    if (!d) continue;
    // the members' vectors as stored (a missing one counts as a zero row: similarity 0)
    const X = new Float32Array(ids.length * d);
    ids.forEach((id, i) => {
      const b = r.vec(run.model, id);
      if (b) X.set(blobVec(b, d), i * d);
    });
    const st = clusterStats(X, ids.length, d, new Int32Array(ids.length), { samples: SAMPLES });
    const toItems = (xs: Array<{ index: number; sim: number }>) => xs.map((x) => ({ item: ids[x.index], sim: Math.round(x.sim * 1e6) / 1e6 }));
    ids.forEach((id, i) => r.setSim(runId, id, st.sims[i]));
    const summary = st.clusters[0];
    r.setFigures(runId, c, { size: ids.length, meanSim: st.meanSims[0], centroid: vecBlob(st.centroids.subarray(0, d)), top: JSON.stringify(toItems(summary.top)), tail: JSON.stringify(toItems(summary.tail)) });
  }
  // nothing moved (a rename, an accept): the counts are as they were
  if (done === 0) return;
  // the clusters rows hold every non-empty cluster with its size (kept by the loop above); without the model's
  // dimension the sizes were not refreshed, so the members are counted instead
  r.setCounts(runId, r.clusterCount(runId, !!d), r.noiseCount(runId));
}

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j] * v[j];
  const k = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < v.length; j++) v[j] *= k;
  return v;
}

/** The clusters that received items (assign), updated by the new members only: top and tail samples stay. */
export function refreshAdded(db: Db, runId: number, added: Array<[number, number]>): void {
  const run = getRun(db, runId);
  const r = clusterFiguresRepo(db);
  const d = r.dim(run.model);
  const per = new Map<number, number[]>();
  for (const [it, c] of added) if (c >= 0) { const l = per.get(c) ?? []; l.push(it); per.set(c, l); }
  for (const [c, items] of per) {
    const row = r.figures(runId, c);
    if (!row || !d) continue;
    const cen = row.centroid ? blobVec(row.centroid, d) : new Float32Array(d);
    const sum = new Float64Array(d);
    for (let j = 0; j < d; j++) sum[j] = cen[j] * row.size;
    const vs = items.map((it) => { const b = r.vec(run.model, it); return b ? unit(blobVec(b, d)) : new Float32Array(d); });
    for (const v of vs) for (let j = 0; j < d; j++) sum[j] += v[j];
    const next = unit(Float32Array.from(sum));
    let simSum = (row.mean_sim ?? 0) * row.size;
    items.forEach((it, i) => { let s = 0; for (let j = 0; j < d; j++) s += vs[i][j] * next[j]; simSum += s; r.setSim(runId, it, s); });
    const size = row.size + items.length;
    r.setFigures(runId, c, { size, meanSim: simSum / size, centroid: vecBlob(next) });
  }
  r.setNoise(runId, r.noiseCount(runId));
}

/** Names and curated flags carried from the previous run of the same model, matched by member overlap. */
export function carryOver(db: Db, newRunId: number): { carried: number; from: number | null } {
  const run = getRun(db, newRunId);
  const r = clusterFiguresRepo(db);
  const prev = r.previousRun(run.model, newRunId);
  if (prev === undefined) return { carried: 0, from: null };
  const named = r.namedClusters(prev);
  if (named.length === 0) return { carried: 0, from: prev };
  const overlap = r.overlapQuery(), sizeOf = r.sizeQuery(), linked = r.linkedQuery(), set = r.nameQuery();
  const taken = new Set<number>();
  let carried = 0;
  for (const o of named) {
    const best = overlap(newRunId, prev, o.cluster);
    // a cluster a library group already named (or holds) keeps that name
    if (!best || taken.has(best.c) || linked(newRunId, best.c)) continue;
    const newSize = sizeOf(newRunId, best.c);
    // the same group: most of the old members are there, and they are most of the new cluster
    if (best.n / o.size < 0.5 || best.n / newSize < 0.5) continue;
    taken.add(best.c);
    set(newRunId, best.c, o.name, o.curated);
    carried++;
  }
  return { carried, from: prev };
}
