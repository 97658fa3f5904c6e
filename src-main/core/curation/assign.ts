/**
 * `assign`: the items of a run's model that are not in the run yet (embedded after it) join the run's groups when
 * close enough (algo/cluster/assign.ts: prototypes per group, the library's sure threshold for the prototypes compared now (./zones.ts comparisonZones; the model's
 * identity threshold for a model without zones), a margin over the second-best group); the rest stay unassigned (the run's noise, for review). One undoable edit. Reads only the new
 * items' vectors and each group's centroid and prototypes (its stored top and tail samples), so the cost grows with
 * the new items, not with the library. The scoring runs in a worker (./people-tasks.ts) on the vectors in shared memory.
 */
import { DEFAULT_QUEUE_MARGIN } from '../../common/arg-schemas.ts';
import type { AssignReport } from '../../common/types.ts';
import { getRun } from '../store/runs.ts';
import { AppError } from '../../common/errors.ts';
import { getModel } from '../store/embeddings.ts';
import { identityThresholdOf } from '../models/identity.ts';
import type { Db } from '../store/db.ts';
import { assignClusterRows, vectorBlobsOf } from '../store/assign.ts';
import { applyAssign } from './edits.ts';
import { runTask, sharedFloat32 } from '../workers/pool.ts';
import { newItems } from './groups.ts';
import { comparisonFrom, comparisonZones, runZones, zonesFrom } from './zones.ts';
import { runConstraints } from './constraints.ts';
import { explicitMembers } from '../store/learned-metrics.ts';

export interface AssignOptions {
  /** similarity to a group's nearest prototypes (default: the library's sure threshold, else the model's identity threshold) */
  threshold?: number;
  /** how much the best group must beat the second best (default 0.05) */
  margin?: number;
  /** prototypes per group: this many central and this many edge members (default 4 + 4) */
  prototypes?: number;
  /** how many of a group's prototypes must reach the threshold (its k-th best decides; default 1 at the library's sure threshold, else 2) */
  agree?: number;
  /**
   * The model's learned metric (one that beat its cosine on held-out decisions): prototypes and new items are compared
   * through it (each group's centre the mean of its prototypes there), from its own threshold unless one is given
   */
  metric?: LearnedMap | null;
}

/** A learned metric as assign uses it: rows of the model's space (unit rows) to k-d unit rows. */
export interface LearnedMap { version: number; k: number; threshold: number; project(X: Float32Array, n: number): Promise<Float32Array> }

/**
 * Two members of a group must agree (when it has two): the identity threshold is a pairwise false-accept rate, and
 * an unknown face is compared with every prototype of every shortlisted group, so one chance match against one member
 * is far likelier than against two (faces-orl with 10 unknown people, 2 of 91 unknown faces placed with the
 * nearest prototype, none with two; recall of the known unchanged within one face). With the library's sure threshold
 * (./zones.ts) one prototype is enough: that threshold already holds about one impostor pair over ALL the library's
 * pairs, the multiplicity the second member guarded against (faces-london protocol: 20 of 20 placed, 0 of 20 unknown
 * faces; faces-orl: 181 of 190, all right; with two, 178 of 190). */
export const DEFAULT_AGREE = 2;

/** Reads the vectors of `ids` (model `model`) into rows of `out` (row i = ids[i]) in one statement; which were found. */
function readVectors(db: Db, model: string, ids: number[], out: Float32Array, d: number): Uint8Array {
  const found = new Uint8Array(ids.length);
  if (ids.length === 0) return found;
  const row = new Map<number, number>();
  ids.forEach((id, i) => row.set(id, i));
  for (const [id, vec] of vectorBlobsOf(db, model, ids)) {
    const i = row.get(id);
    if (i === undefined) continue;
    putVec(out, i, vec, d, 'embedding');
    found[i] = 1;
  }
  return found;
}

/** Copies a stored vector blob into row i of `out` (no intermediate array). */
function putVec(out: Float32Array, i: number, b: Buffer, d: number, name: string): void {
  if (b.byteLength !== d * 4) throw new AppError('LIBRARY_CORRUPT', `${name}: stored vector has ${b.byteLength / 4} values, expected ${d}`);
  new Uint8Array(out.buffer, out.byteOffset + i * d * 4, d * 4).set(b);
}

export const DEFAULT_MARGIN = DEFAULT_QUEUE_MARGIN;
/** Members placed explicitly by the user added to a group's prototypes in a learned metric, the latest first. */
const EXPLICIT_PROTOTYPES = 24;

/**
 * While assigning, the connection maps the library file into memory (SQLite's mmap_size) so that the prototypes' and
 * new items' vectors (each 2 KB, in overflow pages) are read without a system call per page: 8,000 vectors ~60 ms
 * instead of ~150-250 ms on a busy machine. The connection's own setting is restored afterwards.
 */
const ASSIGN_MMAP = 1 << 30;

export async function assignRun(db: Db, runId: number, o: AssignOptions = {}): Promise<AssignReport> {
  const before = db.pragma('mmap_size', { simple: true }) as number;
  if (before < ASSIGN_MMAP) db.pragma(`mmap_size = ${ASSIGN_MMAP}`);
  try { return await assignRunMapped(db, runId, o); } finally { if (before < ASSIGN_MMAP) db.pragma(`mmap_size = ${before}`); }
}

async function assignRunMapped(db: Db, runId: number, o: AssignOptions): Promise<AssignReport> {
  const run = getRun(db, runId);
  const model = getModel(db, run.model);
  const d = model.dim;
  const identity = identityThresholdOf(db, run.model);
  const zones = o.threshold === undefined ? await runZones(db, runId) : null;
  let threshold = o.threshold ?? zones?.sure ?? identity?.similarity ?? null;
  let thresholdFrom = o.threshold !== undefined ? 'given' : zones ? zonesFrom(zones, 'sure')
    : identity ? `the model's identity threshold (FAR ${identity.far}, ${identity.set})` : 'each group\'s own floor (its least similar member to its centre)';
  const margin = o.margin ?? DEFAULT_MARGIN;
  const P = o.prototypes ?? 4;
  const t0 = performance.now();
  const items = newItems(db, runId);
  const empty: AssignReport = { runId, assigned: 0, unassigned: 0, groups: 0, editId: null, threshold, thresholdFrom, margin, joined: [], reasons: { belowThreshold: 0, ambiguous: 0, nearestUnnamed: 0 }, targets: 'groups' };
  if (items.length === 0) return empty;
  // the groups: the run's clusters (centroid, central and edge members as prototypes), one statement
  const rows = assignClusterRows(db, runId);
  // the targets: the run's named or curated groups when it has any (unnamed clusters still compete for the margin:
  // an item nearest an unnamed cluster stays for review); a run nobody named yet offers all its clusters
  const isGroup = (r: (typeof rows)[number]) => (r.name !== null && r.name !== '') || r.curated === 1;
  const groupsOnly = rows.some(isGroup);
  // the groups scored: one per cluster, except that clusters under one name are one person split (one group: a face
  // between two of them is not ambiguous; it joins the cluster of its most similar prototype among them)
  const groupOfRow = new Int32Array(rows.length);
  const groupRows: number[][] = [];
  const byName = new Map<string, number>();
  rows.forEach((r, gi) => {
    let k = r.name ? byName.get(r.name) : undefined;
    if (k === undefined) { k = groupRows.length; groupRows.push([]); if (r.name) byName.set(r.name, k); }
    groupRows[k].push(gi); groupOfRow[gi] = k;
  });
  const g = groupRows.length;
  const rowCentroids = sharedFloat32(rows.length * d);
  const floors = new Float32Array(g).fill(1);
  // prototypes: the first P of each cluster's top (central) and tail (edge) samples; the group's floor is the least
  // similarity to its centre among them
  const protoItems: number[] = [];
  const protoGroupL: number[] = [];
  const protoRowL: number[] = [];
  rows.forEach((r, gi) => {
    putVec(rowCentroids, gi, r.centroid, d, 'centroid');
    const k = groupOfRow[gi];
    const seen = new Set<number>();
    for (const list of [r.top, r.tail]) {
      const xs = JSON.parse(list) as Array<{ item: number; sim: number }>;
      for (let t = 0; t < P && t < xs.length; t++) {
        const { item, sim } = xs[t];
        if (sim < floors[k]) floors[k] = sim;
        if (seen.has(item)) continue;
        seen.add(item); protoItems.push(item); protoGroupL.push(k); protoRowL.push(gi);
      }
    }
  });
  // in a learned metric the members the user placed explicitly are prototypes too (the latest of each group), as the queues use them
  if (o.metric) {
    const at = new Map(rows.map((r, gi) => [r.cluster, gi]));
    const per = new Map<number, number[]>();
    for (const x of explicitMembers(db, runId)) { const l = per.get(x.cluster) ?? []; l.push(x.item); per.set(x.cluster, l); }
    for (const [c, list] of per) {
      const gi = at.get(c);
      if (gi === undefined) continue;
      for (const item of list.slice(-EXPLICIT_PROTOTYPES)) { protoItems.push(item); protoGroupL.push(groupOfRow[gi]); protoRowL.push(gi); }
    }
  }
  // the vectors of the prototypes and of the new items, each read once straight into its matrix (shared memory)
  const prototypes = sharedFloat32(protoItems.length * d);
  const protoFound = readVectors(db, run.model, protoItems, prototypes, d);
  const keep: number[] = [];
  for (let i = 0; i < protoItems.length; i++) if (protoFound[i]) keep.push(i);
  const protoRow = Int32Array.from(keep, (i) => protoRowL[i]);
  // the library's zones for the comparisons made now: each new face against every prototype read
  if (zones) {
    const c = comparisonZones(zones, keep.length);
    threshold = c.sure;
    thresholdFrom = comparisonFrom(c, zones);
  }
  const Q = sharedFloat32(items.length * d);
  readVectors(db, run.model, items, Q, d);
  const t1 = performance.now();
  // in a learned metric: new items and prototypes projected (each group's centre the mean of its prototypes there)
  const m = o.metric ?? null;
  if (m && o.threshold === undefined) { threshold = m.threshold; thresholdFrom = `default ${m.threshold} in the learned metric (version ${m.version})`; }
  else if (m) thresholdFrom = 'given (learned metric)';
  const space = m ? { Q: await m.project(Q, items.length), prototypes: await m.project(prototypes, protoItems.length), d: m.k } : { Q, prototypes, d };
  // normalized and scored in a worker (algo/cluster/assign.ts): the clusters under one name summed into one group's
  // centroid, and for each placed item its most similar prototype of that group (which cluster of a split person)
  const r = await runTask('assign', {
    Q: space.Q, n: items.length, d: space.d, g, rowCentroids: m ? null : rowCentroids, groupOfRow, prototypes: space.prototypes, found: protoFound, protoGroup: Int32Array.from(protoGroupL), floors: threshold === null ? floors : null,
    threshold: threshold ?? -1, margin, agree: o.agree ?? (zones || m ? 1 : DEFAULT_AGREE),
  });
  let proposals = 0;
  /** the cluster an item placed in group k joins: its only cluster, or the one of its most similar prototype */
  const rowOf = (i: number, k: number): number => groupRows[k].length === 1 ? groupRows[k][0] : protoRow[r.nearestProto[i]];
  const to = runConstraints(db, runId).placeable(items, Array.from(r.group, (k, i) => {
    if (k < 0) return -1;
    const row = rows[rowOf(i, k)];
    if (groupsOnly && !isGroup(row)) { proposals++; return -1; }
    return row.cluster;
  }), r.best);
  const t2 = performance.now();
  const edit = applyAssign(db, runId, items, to);
  const t3 = performance.now();
  const per = new Map<number, number>();
  for (const c of to) if (c >= 0) per.set(c, (per.get(c) ?? 0) + 1);
  const names = new Map(rows.map((x) => [x.cluster, x.name]));
  let below = 0, ambiguous = 0;
  for (const x of r.reason) { if (x === 1) below++; else if (x === 2) ambiguous++; }
  return {
    ...empty, threshold, thresholdFrom, assigned: to.filter((c) => c >= 0).length, unassigned: to.filter((c) => c < 0).length, groups: per.size, editId: edit.editId,
    joined: [...per].sort((a, b) => b[1] - a[1]).map(([cluster, added]) => ({ cluster, name: names.get(cluster) ?? null, added })),
    reasons: { belowThreshold: below, ambiguous, nearestUnnamed: proposals },
    targets: groupsOnly ? 'groups' : 'clusters',
    timings: { read: Math.round(t1 - t0), score: Math.round(t2 - t1), edit: Math.round(t3 - t2) },
  };
}
