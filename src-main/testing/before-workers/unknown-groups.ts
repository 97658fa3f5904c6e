/**
 * REFERENCE ONLY (tests): core/curation/unknown-groups.ts as it was before its loops moved into worker tasks (core/curation/people-tasks.ts),
 * on the main thread, kept verbatim (imports re-pointed) so that core/curation/people-workers.test.ts can hold the
 * worker versions to the same answers on a real library. Not used by the app.
 */
/**
 * Tentative groups of unknown faces: the run's unassigned faces (its noise and the faces embedded after it,
 * never those marked not a face) that are one person with high probability. Complete linkage at the model's identity
 * threshold (algo/neardup.ts): every pair of a group is at or above it, so a chain a~b~c with a and c apart never
 * makes one group. Groups of two or more, best first (highest least pairwise similarity, then larger).
 */
import type { UnknownGroupsReport } from '../../common/types.ts';
import { nearDuplicateGroups } from '../../algo/neardup.ts';
import { gemmJs, normalizeRowsInPlace, transpose, type Gemm } from '../../algo/linalg.ts';
import { getRun } from '../../core/store/runs.ts';
import { blobVec, getModel, vectorBlobReader } from '../../core/store/embeddings.ts';
import { identityThresholdOf } from '../../core/models/identity.ts';
import type { Db } from '../../core/store/db.ts';
import { itemsNotInRun, noiseItems } from '../../core/store/unknown-groups.ts';
import { itemViews } from '../../core/curation/items.ts';
import { notFaceIds } from '../../core/store/groups.ts';
import { runConstraints } from '../../core/curation/constraints.ts';

/** Neighbours kept per face for the grouping (a group is at most this size plus one). */
const K = 16;

export async function unknownGroups(db: Db, runId: number, o: { threshold?: number; limit?: number; gemm?: Gemm } = {}): Promise<UnknownGroupsReport> {
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
  const X = new Float32Array(n * d);
  ids.forEach((it, i) => { const b = vq(run.model, it); if (b) X.set(blobVec(b, d), i * d); });
  normalizeRowsInPlace(X, n, d);
  // each face's nearest unknown faces at or above the threshold (blocks of one matrix product)
  const k = Math.min(K, Math.max(1, n - 1));
  const indices = new Int32Array(n * k).fill(-1), sims = new Float32Array(n * k).fill(-Infinity);
  if (n >= 2) {
    const gemm = o.gemm ?? gemmJs;
    const Xt = transpose(X, n, d);
    const block = Math.max(16, Math.min(1024, Math.floor(4_000_000 / n)));
    for (let b0 = 0; b0 < n; b0 += block) {
      const m = Math.min(block, n - b0);
      const S = await gemm(X.subarray(b0 * d, (b0 + m) * d), m, Xt, n, d);
      for (let r = 0; r < m; r++) {
        const i = b0 + r, o2 = i * k;
        for (let j = 0; j < n; j++) {
          const s = S[r * n + j];
          if (j === i || !(s >= threshold - 1e-4) || !(s > sims[o2 + k - 1])) continue;
          let p = k - 1;
          while (p > 0 && sims[o2 + p - 1] < s) { sims[o2 + p] = sims[o2 + p - 1]; indices[o2 + p] = indices[o2 + p - 1]; p--; }
          sims[o2 + p] = s; indices[o2 + p] = j;
        }
      }
    }
  }
  // two faces of one photo are two people: a group keeps the first face of each photo
  const photoOf = runConstraints(db, runId).photoOf;
  const groups = (n >= 2 ? nearDuplicateGroups(X, n, d, { indices, sims, k }, threshold, { maxGroup: K + 1 }) : [])
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
