/**
 * The explicit decisions of a run as training examples for the learned metric: members the user confirmed, moved,
 * split into a part or made into a person (in the cluster they are in now), suggestions rejected for a cluster, and
 * "not the same" pairs (each explicit member of one is not a member of the other). Members only named with their
 * group (named after its majority, possibly mostly wrong) are never examples.
 */
import type { Db } from '../store/db.ts';
import { explicitMembers, notSamePairs, rejectedPairs } from '../store/learned-metrics.ts';

export interface Decisions { rows: Int32Array; groups: Int32Array; signs: Int8Array; members: number; rejects: number }

/** The run's decisions over the rows of a model's matrix (`rowOf`: item id -> row; items without a row are left out). */
export function decisionsOf(db: Db, runId: number, rowOf: (item: number) => number | undefined): Decisions {
  const rows: number[] = [], groups: number[] = [], signs: number[] = [];
  const add = (item: number, cluster: number, sign: 1 | -1) => {
    const r = rowOf(item);
    if (r === undefined || cluster < 0) return;
    rows.push(r); groups.push(cluster); signs.push(sign);
  };
  const members = explicitMembers(db, runId);
  const byCluster = new Map<number, number[]>();
  for (const m of members) { add(m.item, m.cluster, 1); const l = byCluster.get(m.cluster) ?? []; l.push(m.item); byCluster.set(m.cluster, l); }
  const nMembers = rows.length;
  for (const r of rejectedPairs(db, runId)) add(r.item, r.cluster, -1);
  for (const { a, b } of notSamePairs(db, runId)) {
    for (const it of byCluster.get(a) ?? []) add(it, b, -1);
    for (const it of byCluster.get(b) ?? []) add(it, a, -1);
  }
  return { rows: Int32Array.from(rows), groups: Int32Array.from(groups), signs: Int8Array.from(signs), members: nMembers, rejects: rows.length - nMembers };
}
