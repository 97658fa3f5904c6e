/**
 * Tentative groups of unknown faces: the run's unassigned faces (its noise and the faces embedded after it,
 * never those marked not a face) that are one person with high probability. Complete linkage at the model's identity
 * threshold (algo/neardup.ts): every pair of a group is at or above it, so a chain a~b~c with a and c apart never
 * makes one group. Groups of two or more, best first (highest least pairwise similarity, then larger). The vectors are
 * compared in a worker (./people-tasks.ts).
 */
import type { UnknownGroupsReport } from '../../common/types.ts';
import { runTask, sharedFloat32 } from '../workers/pool.ts';
import { getRun } from '../store/runs.ts';
import { blobVec, getModel, vectorBlobReader } from '../store/embeddings.ts';
import { identityThresholdOf } from '../models/identity.ts';
import type { Db } from '../store/db.ts';
import { itemsNotInRun, noiseItems } from '../store/unknown-groups.ts';
import { itemViews } from './items.ts';
import { notFaceIds } from '../store/groups.ts';
import { runConstraints } from './constraints.ts';

/** Neighbours kept per face for the grouping (a group is at most this size plus one). */
const K = 16;

export async function unknownGroups(db: Db, runId: number, o: { threshold?: number; limit?: number; signal?: AbortSignal } = {}): Promise<UnknownGroupsReport> {
  const run = getRun(db, runId);
  const d = getModel(db, run.model).dim;
  const identity = identityThresholdOf(db, run.model);
  const threshold = Math.max(o.threshold ?? identity?.similarity ?? 0.5, identity?.similarity ?? -1);
  const thresholdFrom = identity && threshold === identity.similarity ? `the model's identity threshold (FAR ${identity.far}, ${identity.set})`
    : o.threshold !== undefined ? 'given' : 'default 0.5 (the model states no identity threshold)';
  const limit = o.limit ?? 50;
  const notFaces = run.kind === 'face' ? notFaceIds(db) : new Set<number>();
  const noise = noiseItems(db, runId);
  const fresh = itemsNotInRun(db, run.model, runId);
  const ids = [...noise, ...fresh].filter((it) => !notFaces.has(it));
  const vq = vectorBlobReader(db);
  const n = ids.length;
  const X = sharedFloat32(n * d);
  ids.forEach((it, i) => { const b = vq(run.model, it); if (b) X.set(blobVec(b, d), i * d); });
  // each face's nearest unknown faces at or above the threshold, grouped by complete linkage: in a worker
  const found = n >= 2 ? (await runTask('unknownGroups', { X, n, d, threshold, k: K, maxGroup: K + 1 }, { signal: o.signal })).groups : [];
  // two faces of one photo are two people: a group keeps the first face of each photo
  const photoOf = runConstraints(db, runId).photoOf;
  const groups = found
    .map((g) => { const seen = new Set<number>(); return { ...g, rows: g.rows.filter((r) => { const p = photoOf(ids[r]); if (p === undefined) return true; if (seen.has(p)) return false; seen.add(p); return true; }) }; })
    .filter((g) => g.rows.length >= 2);
  groups.sort((a, b) => b.minSim - a.minSim || b.rows.length - a.rows.length || a.rows[0] - b.rows[0]);
  const chosen = groups.slice(0, limit);
  const kind = run.kind === 'face' ? 'face' : 'photo';
  const shown = chosen.flatMap((g) => g.rows.map((r) => ids[r]));
  const views = new Map(itemViews(db, kind, shown, runId).map((v) => [v.item, v]));
  // faces not in the run yet (embedded after it)
  for (const v of itemViews(db, kind, shown.filter((it) => !views.has(it)))) views.set(v.item, v);
  return {
    runId, threshold, thresholdFrom, candidates: n, total: groups.length,
    groups: chosen.map((g) => {
      const items = g.rows.map((r) => ids[r]);
      return { items, size: items.length, minSim: Math.round(g.minSim * 1e6) / 1e6, faces: items.map((it) => views.get(it)).filter((v) => v !== undefined) };
    }),
  };
}
