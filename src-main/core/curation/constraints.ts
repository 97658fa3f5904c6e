/**
 * What the user's decisions and the photos forbid, in one place, for every code that proposes people (suggestion
 * queues, assign, merge suggestions): two faces detected in one photo are never one person; two people the user said
 * are not the same, and the parts of a split, are never merged or offered for merging again. (Clustering keeps the
 * first rule itself: the cluster job drops a second face of one photo from a cluster; see core/cluster/cluster-job.ts.)
 */
import type { ItemKind } from '../../common/types.ts';
import { getRun } from '../store/runs.ts';
import type { Db } from '../store/db.ts';
import { notSameClusterPairs, notSameGroupPairs, runPhotoReaders, splitEditRows } from '../store/groups.ts';
import { fromLogRow } from './edit/legacy.ts';

/**
 * The parts of every split the user made (edits not undone) as pairs "a:b" in both orders: of this run's clusters, and
 * of library groups (the groups the parts' clusters have now), which other runs' parts keep.
 */
function splitPairs(db: Db, runId: number, kind: ItemKind): { clusters: Set<string>; groups: Set<string> } {
  const out = { clusters: new Set<string>(), groups: new Set<string>() };
  const { rows, groupOf } = splitEditRows(db, kind);
  for (const r of rows) {
    const rec = fromLogRow(r.op, `an edit of run ${r.runId}`);
    if (rec.op.type !== 'split' && rec.op.type !== 'split-parts') continue;
    const from = rec.op.cluster;
    const parts = [...new Set([from, ...rec.changes.items.filter(([, b, a]) => b === from && a >= 0).map(([, , a]) => a)])];
    const groups = parts.map((c) => groupOf(r.runId, c));
    for (let i = 0; i < parts.length; i++) for (let j = 0; j < parts.length; j++) {
      if (i === j) continue;
      if (r.runId === runId) out.clusters.add(`${parts[i]}:${parts[j]}`);
      if (groups[i] !== null && groups[j] !== null && groups[i] !== groups[j]) out.groups.add(`${groups[i]}:${groups[j]}`);
    }
  }
  return out;
}

export interface RunConstraints {
  /** the face's photo has another face in this cluster already (the face cannot join it) */
  sharesPhoto(item: number, cluster: number): boolean;
  /** the two clusters may never be merged or offered as one person */
  keepApart(a: number, b: number): boolean;
  /** the photo a face is in (undefined: not a face run, or no such face): two faces of one photo are two people */
  photoOf(item: number): number | undefined;
  /**
   * targets for new items (assign), with the ones that would put two faces of one photo in one person set to -1
   * (unassigned); between two new faces of one photo the one with the higher `score` (its similarity) stays
   */
  placeable(items: readonly number[], to: readonly number[], score?: ArrayLike<number>): number[];
}

/** The constraints on a run as it is now (cheap to make: rows are read when asked). Photo runs have only the user's pairs. */
export function runConstraints(db: Db, runId: number): RunConstraints {
  const kind = getRun(db, runId).kind;
  const faces = kind === 'face';
  const photos = runPhotoReaders(db, runId);
  let groupPairs: Set<string> | null = null, clusterPairs: Set<string> | null = null, splits: ReturnType<typeof splitPairs> | null = null;
  const photoSets = new Map<number, Set<number>>();
  const photosIn = (c: number) => { let s = photoSets.get(c); if (!s) { s = photos.photosIn(c); photoSets.set(c, s); } return s; };
  return {
    sharesPhoto: (item, cluster) => faces && photos.sharesPhoto(item, cluster),
    photoOf: (item) => (faces ? photos.photoOf(item) : undefined),
    keepApart(a, b) {
      if (a === b) return false;
      clusterPairs ??= notSameClusterPairs(db, runId);
      if (clusterPairs.has(`${a}:${b}`)) return true;
      splits ??= splitPairs(db, runId, kind);
      if (splits.clusters.has(`${a}:${b}`)) return true;
      const ga = photos.groupOf(a), gb = photos.groupOf(b);
      if (ga !== null && gb !== null && ga !== gb) {
        groupPairs ??= notSameGroupPairs(db);
        if (groupPairs.has(`${ga}:${gb}`) || splits.groups.has(`${ga}:${gb}`)) return true;
      }
      if (!faces || a < 0 || b < 0) return false;
      const pa = photosIn(a), pb = photosIn(b);
      const [small, big] = pa.size <= pb.size ? [pa, pb] : [pb, pa];
      for (const p of small) if (big.has(p)) return true;
      return false;
    },
    placeable(items, to, score) {
      const out = [...to];
      if (!faces) return out;
      const taken = new Set<string>();
      const order = items.map((_, i) => i);
      if (score) order.sort((a, b) => score[b] - score[a] || a - b);
      for (const i of order) {
        const c = to[i];
        if (c < 0) continue;
        const p = photos.photoOf(items[i]);
        if (p === undefined) continue;
        // another face of the photo already in the person, or placed there before in this batch
        if (taken.has(`${p}:${c}`) || photos.sharesPhoto(items[i], c)) { out[i] = -1; continue; }
        taken.add(`${p}:${c}`);
      }
      return out;
    },
  };
}
