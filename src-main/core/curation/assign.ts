/**
 * `assign`: the items of a run's model that are not in the run yet (embedded after it) join the run's groups when
 * close enough (algo/cluster/assign.ts: prototypes per group, the model's identity threshold, a margin over the
 * second-best group); the rest stay unassigned (the run's noise, for review). One undoable edit. Reads only the new
 * items' vectors and each group's centroid and prototypes (its stored top and tail samples), so the cost grows with
 * the new items, not with the library.
 */
import { assignToGroups } from '../../algo/cluster/assign.ts';
import { normalizeRowsInPlace } from '../../algo/linalg.ts';
import type { AssignReport } from '../../common/types.ts';
import { getRun } from '../cluster/runs.ts';
import { blobVec, getModel } from '../embed/store.ts';
import { identityThresholdOf } from '../models/identity.ts';
import type { Db } from '../store/db.ts';
import { applyAssign } from './edits.ts';
import { createOrtGemm } from '../gemm-ort.ts';
import { unassignedItems } from './groups.ts';

export interface AssignOptions {
  /** similarity to a group's nearest prototype (default: the model's identity threshold) */
  threshold?: number;
  /** how much the best group must beat the second best (default 0.05) */
  margin?: number;
  /** prototypes per group: this many central and this many edge members (default 4 + 4) */
  prototypes?: number;
}

export const DEFAULT_MARGIN = 0.05;

/** One ORT MatMul session for the centroid shortlist of large assignments (made on first use, kept). */
let gemmP: ReturnType<typeof createOrtGemm> | null = null;
function sharedGemm(): ReturnType<typeof createOrtGemm> {
  gemmP ??= createOrtGemm(2);
  return gemmP;
}

export async function assignRun(db: Db, runId: number, o: AssignOptions = {}): Promise<AssignReport> {
  const run = getRun(db, runId);
  const model = getModel(db, run.model);
  const d = model.dim;
  const identity = identityThresholdOf(db, run.model);
  const threshold = o.threshold ?? identity?.similarity ?? null;
  const thresholdFrom = o.threshold !== undefined ? 'given' : identity ? `the model's identity threshold (FAR ${identity.far}, ${identity.set})` : 'each group\'s own floor (its least similar member to its centre)';
  const margin = o.margin ?? DEFAULT_MARGIN;
  const P = o.prototypes ?? 4;
  const t0 = performance.now();
  const items = unassignedItems(db, runId).notInRun;
  const empty: AssignReport = { runId, assigned: 0, unassigned: 0, groups: 0, editId: null, threshold, thresholdFrom, margin, joined: [], reasons: { belowThreshold: 0, ambiguous: 0, nearestUnnamed: 0 }, targets: 'groups' };
  if (items.length === 0) return empty;
  // the groups: the run's clusters (centroid, central and edge members as prototypes)
  const rows = db.prepare('SELECT cluster, name, curated, centroid FROM clusters WHERE run_id = ? AND cluster >= 0 AND size > 0 AND centroid IS NOT NULL ORDER BY cluster')
    .all(runId) as Array<{ cluster: number; name: string | null; curated: number; centroid: Buffer }>;
  // the targets: the run's named or curated groups when it has any (unnamed clusters still compete for the margin:
  // an item nearest an unnamed cluster stays for review); a run nobody named yet offers all its clusters
  const isGroup = (r: (typeof rows)[number]) => (r.name !== null && r.name !== '') || r.curated === 1;
  const groupsOnly = rows.some(isGroup);
  const vecQ = db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
  const g = rows.length;
  const centroids = new Float32Array(g * d);
  const protos: Float32Array[] = [];
  const protoGroup: number[] = [];
  const floors = new Float32Array(g);
  // prototypes: the first P of each group's top (central) and tail (edge) samples, read in one statement
  const at = new Map(rows.map((r, gi) => [r.cluster, gi]));
  rows.forEach((r, gi) => centroids.set(blobVec(r.centroid, d), gi * d));
  const protoRows = db.prepare(`WITH s AS (
      SELECT c.cluster AS cluster, json_extract(j.value, '$.item') AS item, json_extract(j.value, '$.sim') AS sim FROM clusters c, json_each(c.top) j
        WHERE c.run_id = @run AND c.cluster >= 0 AND c.size > 0 AND c.centroid IS NOT NULL AND j.key < @p
      UNION ALL
      SELECT c.cluster, json_extract(j.value, '$.item'), json_extract(j.value, '$.sim') FROM clusters c, json_each(c.tail) j
        WHERE c.run_id = @run AND c.cluster >= 0 AND c.size > 0 AND c.centroid IS NOT NULL AND j.key < @p)
    SELECT s.cluster, MIN(s.sim), e.vec FROM s JOIN embeddings e ON e.model = @model AND e.item_id = s.item GROUP BY s.cluster, s.item`).raw().all({ model: run.model, run: runId, p: P }) as Array<[number, number, Buffer]>;
  floors.fill(1);
  for (const [c, floor, vec] of protoRows) {
    const gi = at.get(c);
    if (gi === undefined) continue;
    protos.push(blobVec(vec, d));
    protoGroup.push(gi);
    if (floor < floors[gi]) floors[gi] = floor;
  }
  normalizeRowsInPlace(centroids, g, d);
  const prototypes = new Float32Array(protos.length * d);
  protos.forEach((p, i) => prototypes.set(p, i * d));
  normalizeRowsInPlace(prototypes, protos.length, d);
  const Q = new Float32Array(items.length * d);
  items.forEach((it, i) => Q.set(blobVec(vecQ.get(run.model, it) as Buffer, d), i * d));
  normalizeRowsInPlace(Q, items.length, d);
  const t1 = performance.now();
  const r = await assignToGroups(Q, items.length, d, { g, centroids, prototypes, protoGroup: Int32Array.from(protoGroup), floors: threshold === null ? floors : undefined },
    { threshold: threshold ?? -1, margin, gemm: items.length * g > 1e5 ? await sharedGemm() : undefined });
  let proposals = 0;
  const to = Array.from(r.group, (gi) => {
    if (gi < 0) return -1;
    if (groupsOnly && !isGroup(rows[gi])) { proposals++; return -1; }
    return rows[gi].cluster;
  });
  const t2 = performance.now();
  const edit = applyAssign(db, runId, items, to);
  const t3 = performance.now();
  const per = new Map<number, number>();
  for (const c of to) if (c >= 0) per.set(c, (per.get(c) ?? 0) + 1);
  const names = new Map(rows.map((x) => [x.cluster, x.name]));
  let below = 0, ambiguous = 0;
  for (const x of r.reason) { if (x === 1) below++; else if (x === 2) ambiguous++; }
  return {
    ...empty, assigned: to.filter((c) => c >= 0).length, unassigned: to.filter((c) => c < 0).length, groups: per.size, editId: edit.editId,
    joined: [...per].sort((a, b) => b[1] - a[1]).map(([cluster, added]) => ({ cluster, name: names.get(cluster) ?? null, added })),
    reasons: { belowThreshold: below, ambiguous, nearestUnnamed: proposals },
    targets: groupsOnly ? 'groups' : 'clusters',
    timings: { read: Math.round(t1 - t0), score: Math.round(t2 - t1), edit: Math.round(t3 - t2) },
  };
}
