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

export async function assignRun(db: Db, runId: number, o: AssignOptions = {}): Promise<AssignReport> {
  const run = getRun(db, runId);
  const model = getModel(db, run.model);
  const d = model.dim;
  const identity = identityThresholdOf(db, run.model);
  const threshold = o.threshold ?? identity?.similarity ?? null;
  const thresholdFrom = o.threshold !== undefined ? 'given' : identity ? `the model's identity threshold (FAR ${identity.far}, ${identity.set})` : 'each group\'s own floor (its least similar member to its centre)';
  const margin = o.margin ?? DEFAULT_MARGIN;
  const P = o.prototypes ?? 4;
  const items = unassignedItems(db, runId).notInRun;
  const empty: AssignReport = { runId, assigned: 0, unassigned: 0, groups: 0, editId: null, threshold, thresholdFrom, margin, joined: [], reasons: { belowThreshold: 0, ambiguous: 0, nearestUnnamed: 0 }, targets: 'groups' };
  if (items.length === 0) return empty;
  // the groups: the run's clusters (centroid, central and edge members as prototypes)
  const rows = db.prepare('SELECT cluster, name, curated, centroid, top, tail FROM clusters WHERE run_id = ? AND cluster >= 0 AND size > 0 AND centroid IS NOT NULL ORDER BY cluster')
    .all(runId) as Array<{ cluster: number; name: string | null; curated: number; centroid: Buffer; top: string; tail: string }>;
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
  rows.forEach((r, gi) => {
    centroids.set(blobVec(r.centroid, d), gi * d);
    const top = JSON.parse(r.top) as Array<{ item: number; sim: number }>;
    const tail = JSON.parse(r.tail) as Array<{ item: number; sim: number }>;
    const pick = [...new Set([...top.slice(0, P), ...tail.slice(0, P)].map((s) => s.item))];
    floors[gi] = Math.min(...[...top, ...tail].map((s) => s.sim), 1);
    for (const it of pick) {
      const b = vecQ.get(run.model, it) as Buffer | undefined;
      if (!b) continue;
      protos.push(blobVec(b, d));
      protoGroup.push(gi);
    }
  });
  normalizeRowsInPlace(centroids, g, d);
  const prototypes = new Float32Array(protos.length * d);
  protos.forEach((p, i) => prototypes.set(p, i * d));
  normalizeRowsInPlace(prototypes, protos.length, d);
  const Q = new Float32Array(items.length * d);
  items.forEach((it, i) => Q.set(blobVec(vecQ.get(run.model, it) as Buffer, d), i * d));
  normalizeRowsInPlace(Q, items.length, d);
  const r = await assignToGroups(Q, items.length, d, { g, centroids, prototypes, protoGroup: Int32Array.from(protoGroup), floors: threshold === null ? floors : undefined },
    { threshold: threshold ?? -1, margin });
  let proposals = 0;
  const to = Array.from(r.group, (gi) => {
    if (gi < 0) return -1;
    if (groupsOnly && !isGroup(rows[gi])) { proposals++; return -1; }
    return rows[gi].cluster;
  });
  const edit = applyAssign(db, runId, items, to);
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
  };
}
