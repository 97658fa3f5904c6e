/**
 * Suggestion queues (issue 19): for one person (a cluster of a run), the faces most likely theirs, best first. The
 * candidates are the run's noise, the items of its model embedded after it, and low-confidence members of other
 * clusters (similarity to their centroid below LOW_CONFIDENCE, not curated); faces marked "not a face" and faces
 * rejected for this person (in this run or for its library group) are never offered. Each person is given by several
 * prototypes: its stored top (central) and tail (edge) samples, as `assign` uses (core/curation/assign.ts). A candidate
 * is offered when its best similarity to the person's prototypes reaches the threshold (never below the model's
 * identity threshold) AND beats its best similarity to any other person (the nearest by centroid, then by prototypes)
 * by the margin.
 *
 * The candidates' vectors, all prototypes and each candidate's two best persons are computed once per state of the run
 * (its edits, its model's embeddings) and kept (SuggestionIndex), so a call scores only one person's prototypes.
 */
import { badArg } from '../../common/errors.ts';
import type { FaceSuggestion, SuggestionReport } from '../../common/types.ts';
import { gemmJs, normalizeRowsInPlace, transpose, type Gemm } from '../../algo/linalg.ts';
import { getRun } from '../cluster/runs.ts';
import { blobVec, getModel } from '../embed/store.ts';
import { identityThresholdOf } from '../models/identity.ts';
import type { Db } from '../store/db.ts';
import { DEFAULT_MARGIN } from './assign.ts';

/** Members below this similarity to their own centroid are candidates for other persons. */
export const LOW_CONFIDENCE = 0.5;
/** Clusters scored by prototypes per candidate, nearest centroids first. */
const SHORTLIST = 8;

type Source = FaceSuggestion['source'];

export interface SuggestionIndex {
  key: string;
  runId: number;
  d: number;
  /** candidates: ids, where they are, their normalized vectors */
  ids: Int32Array;
  source: Source[];
  cluster: Int32Array;
  Q: Float32Array;
  /** the run's clusters (persons) and their prototypes, normalized, grouped by person */
  clusters: Int32Array;
  at: Map<number, number>;
  protoStart: Int32Array;
  protos: Float32Array;
  /** per candidate: the best and second-best person (index into clusters) by prototypes, among its shortlist */
  g1: Int32Array; s1: Float32Array; g2: Int32Array; s2: Float32Array;
  buildMs: number;
}

/** The state of a run a suggestion index is valid for: its edits and its model's embeddings. */
export function indexKey(db: Db, runId: number): string {
  const e = db.prepare('SELECT COUNT(*) AS n, MAX(id) AS last, SUM(undone) AS undone FROM edits WHERE run_id = ?').get(runId) as { n: number; last: number | null; undone: number | null };
  const rev = db.prepare('SELECT m.revision FROM models m JOIN runs r ON r.model = m.name WHERE r.id = ?').pluck().get(runId) as number | undefined;
  const nf = db.prepare('SELECT COUNT(*) FROM not_faces').pluck().get() as number;
  return `${runId}:${e.n}:${e.last ?? 0}:${e.undone ?? 0}:${rev ?? 0}:${nf}`;
}

export async function buildIndex(db: Db, runId: number, gemm: Gemm = gemmJs): Promise<SuggestionIndex> {
  const t0 = performance.now();
  const run = getRun(db, runId);
  const d = getModel(db, run.model).dim;
  const key = indexKey(db, runId);
  // candidates, in one statement each: noise, low-confidence members of uncurated clusters, items not in the run
  const notFace = run.kind === 'face' ? 'AND NOT EXISTS (SELECT 1 FROM not_faces nf WHERE nf.face_id = e.item_id)' : '';
  const inRun = db.prepare(`SELECT a.item_id, a.cluster, e.vec FROM assignments a JOIN embeddings e ON e.model = @model AND e.item_id = a.item_id
      LEFT JOIN clusters c ON c.run_id = a.run_id AND c.cluster = a.cluster
    WHERE a.run_id = @run AND (a.cluster < 0 OR (COALESCE(c.curated, 0) = 0 AND (a.sim IS NULL OR a.sim < @low))) ${notFace} ORDER BY a.item_id`)
    .raw().all({ model: run.model, run: runId, low: LOW_CONFIDENCE }) as Array<[number, number, Buffer]>;
  const fresh = db.prepare(`SELECT e.item_id, e.vec FROM embeddings e WHERE e.model = @model AND NOT EXISTS
      (SELECT 1 FROM assignments a WHERE a.run_id = @run AND a.item_id = e.item_id) ${notFace} ORDER BY e.item_id`).raw().all({ model: run.model, run: runId }) as Array<[number, Buffer]>;
  const n = inRun.length + fresh.length;
  const ids = new Int32Array(n), cluster = new Int32Array(n), Q = new Float32Array(n * d);
  const source: Source[] = new Array(n);
  inRun.forEach(([it, c, vec], i) => { ids[i] = it; cluster[i] = c; source[i] = c < 0 ? 'noise' : 'member'; Q.set(blobVec(vec, d), i * d); });
  fresh.forEach(([it, vec], k) => { const i = inRun.length + k; ids[i] = it; cluster[i] = -2; source[i] = 'new'; Q.set(blobVec(vec, d), i * d); });
  normalizeRowsInPlace(Q, n, d);
  // persons: centroids and prototypes (their stored top and tail samples)
  const rows = db.prepare('SELECT cluster, centroid FROM clusters WHERE run_id = ? AND cluster >= 0 AND size > 0 AND centroid IS NOT NULL ORDER BY cluster').raw().all(runId) as Array<[number, Buffer]>;
  const g = rows.length;
  const clusters = Int32Array.from(rows.map((r) => r[0]));
  const at = new Map(rows.map((r, i) => [r[0], i]));
  const centroids = new Float32Array(g * d);
  rows.forEach((r, i) => centroids.set(blobVec(r[1], d), i * d));
  normalizeRowsInPlace(centroids, g, d);
  const protoRows = db.prepare(`WITH s AS (
      SELECT c.cluster AS cluster, json_extract(j.value, '$.item') AS item FROM clusters c, json_each(c.top) j WHERE c.run_id = @run AND c.cluster >= 0 AND c.size > 0
      UNION
      SELECT c.cluster, json_extract(j.value, '$.item') FROM clusters c, json_each(c.tail) j WHERE c.run_id = @run AND c.cluster >= 0 AND c.size > 0)
    SELECT s.cluster, e.vec FROM s JOIN embeddings e ON e.model = @model AND e.item_id = s.item ORDER BY s.cluster, s.item`).raw().all({ model: run.model, run: runId }) as Array<[number, Buffer]>;
  const protoStart = new Int32Array(g + 1);
  const kept = protoRows.filter(([c]) => at.has(c));
  for (const [c] of kept) protoStart[at.get(c)! + 1]++;
  for (let i = 0; i < g; i++) protoStart[i + 1] += protoStart[i];
  const protos = new Float32Array(kept.length * d);
  const fill = protoStart.slice(0, g);
  for (const [c, vec] of kept) { const gi = at.get(c)!; protos.set(blobVec(vec, d), fill[gi]++ * d); }
  normalizeRowsInPlace(protos, kept.length, d);
  // each candidate's two best persons: shortlist by centroid, then by prototypes
  const g1 = new Int32Array(n).fill(-1), g2 = new Int32Array(n).fill(-1), s1 = new Float32Array(n).fill(-Infinity), s2 = new Float32Array(n).fill(-Infinity);
  if (g > 0 && n > 0) {
    const L = Math.min(SHORTLIST, g);
    const Ct = transpose(centroids, g, d);
    const block = 2048;
    const top = new Int32Array(L), topS = new Float32Array(L);
    for (let b0 = 0; b0 < n; b0 += block) {
      const m = Math.min(block, n - b0);
      const S = await gemm(Q.subarray(b0 * d, (b0 + m) * d), m, Ct, g, d);
      for (let r = 0; r < m; r++) {
        const i = b0 + r;
        let filled = 0;
        for (let c = 0; c < g; c++) {
          const s = S[r * g + c];
          if (filled < L) { let p = filled++; while (p > 0 && topS[p - 1] < s) { top[p] = top[p - 1]; topS[p] = topS[p - 1]; p--; } top[p] = c; topS[p] = s; continue; }
          if (s <= topS[L - 1]) continue;
          let p = L - 1;
          while (p > 0 && topS[p - 1] < s) { top[p] = top[p - 1]; topS[p] = topS[p - 1]; p--; }
          top[p] = c; topS[p] = s;
        }
        for (let t = 0; t < filled; t++) {
          const c = top[t];
          const s = protoScore(Q, i, d, protos, protoStart[c], protoStart[c + 1]);
          if (s > s1[i]) { s2[i] = s1[i]; g2[i] = g1[i]; s1[i] = s; g1[i] = c; } else if (s > s2[i]) { s2[i] = s; g2[i] = c; }
        }
      }
    }
  }
  return { key, runId, d, ids, source, cluster, Q, clusters, at, protoStart, protos, g1, s1, g2, s2, buildMs: performance.now() - t0 };
}

function protoScore(Q: Float32Array, i: number, d: number, P: Float32Array, from: number, to: number): number {
  let m = -Infinity;
  for (let r = from; r < to; r++) {
    let dot = 0;
    for (let j = 0, qo = i * d, po = r * d; j < d; j++) dot += Q[qo + j] * P[po + j];
    if (dot > m) m = dot;
  }
  return m;
}

export interface SuggestOptions { limit?: number; threshold?: number; margin?: number }

/** A person's suggestions from an index of the run as it is now (the caller keeps the index while indexKey holds). */
export function suggest(db: Db, idx: SuggestionIndex, cluster: number, o: SuggestOptions = {}): SuggestionReport {
  const t0 = performance.now();
  const runId = idx.runId;
  const run = getRun(db, runId);
  const row = db.prepare('SELECT name, group_id FROM clusters WHERE run_id = ? AND cluster = ? AND size > 0').get(runId, cluster) as { name: string | null; group_id: number | null } | undefined;
  if (!row || cluster < 0) throw badArg('cluster', `cluster ${cluster} is not a person of run ${runId}`);
  const identity = identityThresholdOf(db, run.model);
  const floor = identity?.similarity ?? -1;
  const threshold = Math.max(o.threshold ?? identity?.similarity ?? 0.5, floor);
  const thresholdFrom = identity && threshold === identity.similarity ? `the model's identity threshold (FAR ${identity.far}, ${identity.set})`
    : o.threshold !== undefined ? 'given' : 'default 0.5 (the model states no identity threshold)';
  const margin = o.margin ?? DEFAULT_MARGIN;
  const limit = o.limit ?? 50;
  const rejected = new Set(db.prepare(`SELECT item_id FROM suggestion_rejects WHERE (run_id = ? AND cluster = ?) OR (group_id IS NOT NULL AND group_id = ?)`)
    .pluck().all(runId, cluster, row.group_id ?? -1) as number[]);
  const gi = idx.at.get(cluster);
  const t1 = performance.now();
  const hits: Array<{ i: number; s: number; second: number; secondG: number }> = [];
  let skipped = 0;
  if (gi !== undefined) {
    const from = idx.protoStart[gi], to = idx.protoStart[gi + 1];
    for (let i = 0; i < idx.ids.length; i++) {
      if (idx.cluster[i] === cluster) continue;
      const s = protoScore(idx.Q, i, idx.d, idx.protos, from, to);
      if (!(s >= threshold)) continue;
      if (rejected.has(idx.ids[i])) { skipped++; continue; }
      const otherG = idx.g1[i] === gi ? idx.g2[i] : idx.g1[i];
      const other = idx.g1[i] === gi ? idx.s2[i] : idx.s1[i];
      if (Number.isFinite(other) && s - other < margin) continue;
      hits.push({ i, s, second: other, secondG: otherG });
    }
  }
  hits.sort((a, b) => b.s - a.s || idx.ids[a.i] - idx.ids[b.i]);
  const chosen = hits.slice(0, limit);
  const view = run.kind === 'face'
    ? db.prepare('SELECT p.id AS photoId, p.path, COALESCE(f.thumb, p.hash) AS thumb, f.x, f.y, f.w, f.h FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id = ?')
    : db.prepare('SELECT p.id AS photoId, p.path, p.hash AS thumb, NULL AS x, NULL AS y, NULL AS w, NULL AS h FROM photos p WHERE p.id = ?');
  const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
  const suggestions: FaceSuggestion[] = [];
  for (const h of chosen) {
    const v = view.get(idx.ids[h.i]) as { photoId: number; path: string; thumb: string | null; x: number | null; y: number | null; w: number | null; h: number | null } | undefined;
    if (!v) continue;
    const finite = Number.isFinite(h.second);
    suggestions.push({
      item: idx.ids[h.i], path: v.path, similarity: r6(h.s), second: finite ? r6(h.second) : null, secondCluster: finite && h.secondG >= 0 ? idx.clusters[h.secondG] : null,
      margin: finite ? r6(h.s - h.second) : null, source: idx.source[h.i], cluster: idx.cluster[h.i] === -2 ? null : idx.cluster[h.i],
      photoId: v.photoId, thumb: v.thumb, box: v.x === null ? null : [v.x, v.y!, v.w!, v.h!],
    });
  }
  const t2 = performance.now();
  return {
    runId, cluster, name: row.name, threshold, thresholdFrom, margin, candidates: idx.ids.length, rejected: skipped, suggestions,
    timings: { read: Math.round((t1 - t0) * 10) / 10, score: Math.round((t2 - t1) * 10) / 10 },
  };
}
