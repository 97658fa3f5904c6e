/**
 * An edit as the rows it changes: each item's cluster, each cluster's fields and each group's person fields before and
 * after, the rows it remembered, and the item states it decided. An op's module produces it once (reading the run, not
 * writing); the engine writes it forward (apply, redo) or backward (undo), the same way for every op.
 */
import type { ClusterFields, EditsRepo, GroupFields } from '../../store/edits-repo.ts';
import type { ItemDecision } from '../../store/item-states.ts';
import { itemStatesRepo } from '../../store/item-states.ts';
import type { Db } from '../../store/db.ts';

export type Remembered =
  /** a suggestion rejected for a person */
  | { kind: 'reject'; cluster: number; item: number; group: number | null }
  /** two people are not the same */
  | { kind: 'not-same'; a: number; b: number; groupA: number | null; groupB: number | null }
  /** a face that is no face, by its photo and box */
  | { kind: 'not-face'; face: number; hash: string; box: [number, number, number, number] };

export interface ChangeSet {
  /** items whose cluster changed: [item, before, after]; null: not in the run (a face embedded after it) */
  items: Array<[number, number | null, number]>;
  /** clusters whose fields changed, or whose name and flag undo restores if the edit empties them; before null: the edit created it */
  clusters: Array<{ cluster: number; before: ClusterFields | null; after: ClusterFields }>;
  /**
   * a person's fields on its library group: `after` goes to the group the cluster is linked to when the edit is
   * applied or redone, `before` back to the group it was linked to when first applied (null: none)
   */
  groups: Array<{ cluster: number; group: number | null; before: GroupFields; after: GroupFields }>;
  /** rows the edit remembered (undo forgets them) */
  remembered: Remembered[];
  /** items the edit decided: how (null: back to placed by the run), and each one's state before (null: placed by the run) */
  decided: Array<{ how: ItemDecision | null; items: number[]; before: Array<ItemDecision | null> }>;
  /** the clusters whose figures the edit recomputes when first applied */
  refresh: number[];
}

export const emptyChangeSet = (): ChangeSet => ({ items: [], clusters: [], groups: [], remembered: [], decided: [], refresh: [] });

/** What one edit's log row holds (format 2; v0.2 rows are read by legacy.ts). */
export interface LogRecord { v: 2; op: import('../../../common/types.ts').EditOp; description: string; changes: ChangeSet }

function remember(repo: EditsRepo, runId: number, rows: Remembered[], on: boolean, at: number): void {
  for (const r of rows) {
    if (r.kind === 'reject') repo.reject(runId, r.cluster, r.item, r.group, on, at);
    else if (r.kind === 'not-same') repo.notSame(runId, r.a, r.b, r.groupA, r.groupB, on, at);
    else repo.notFace(r.face, r.hash, r.box, on, at);
  }
}

/** Writes the change set's "after" rows (an edit applied or redone). Returns the clusters touched, in the order v0.2 named them. */
export function writeForward(db: Db, repo: EditsRepo, runId: number, cs: ChangeSet, at: number): number[] {
  const touched: number[] = [];
  const added = cs.items.filter(([, b]) => b === null);
  for (const [it, , c] of added) { repo.ensureCluster(runId, c); repo.addItem(runId, it, c, at); touched.push(c); }
  if (added.length) repo.setRunSize(runId);
  for (const ch of cs.clusters) if (ch.before === null) repo.ensureCluster(runId, ch.cluster, ch.after.name ?? null);
  for (const ch of cs.clusters) if (ch.before !== null) repo.setCluster(runId, ch.cluster, ch.after);
  for (const g of cs.groups) { const now = repo.cluster(runId, g.cluster)?.group_id ?? null; if (now !== null) repo.setGroup(now, g.after); }
  remember(repo, runId, cs.remembered, true, at);
  for (const [it, b, a] of cs.items) if (b !== null) { repo.moveItem(runId, it, a); touched.push(b, a); }
  for (const ch of cs.clusters) if (ch.before !== null) touched.push(ch.cluster);
  const states = itemStatesRepo(db);
  for (const d of cs.decided) for (const it of d.items) states.set(runId, it, d.how, at);
  return touched;
}

/** Writes the change set's "before" rows (an edit undone). Returns the clusters touched, in the order v0.2 named them. */
export function writeBackward(db: Db, repo: EditsRepo, runId: number, cs: ChangeSet, at: number): number[] {
  const touched: number[] = [];
  remember(repo, runId, cs.remembered, false, at);
  for (const g of cs.groups) if (g.group !== null) repo.setGroup(g.group, g.before);
  const states = itemStatesRepo(db);
  for (const d of [...cs.decided].reverse()) d.items.forEach((it, i) => states.set(runId, it, d.before[i], at));
  const added = cs.items.filter(([, b]) => b === null);
  for (const [it, , c] of added) { repo.dropItem(runId, it); touched.push(c); }
  if (added.length) repo.setRunSize(runId);
  for (const [it, b, a] of cs.items) {
    if (b === null) continue;
    touched.push(repo.clusterOf(runId, it) ?? a);
    repo.ensureCluster(runId, b);
    touched.push(b);
  }
  for (const [it, b] of cs.items) if (b !== null) repo.moveItem(runId, it, b);
  for (const ch of cs.clusters) {
    if (ch.before === null) continue;
    repo.ensureCluster(runId, ch.cluster);
    repo.setCluster(runId, ch.cluster, ch.before);
    touched.push(ch.cluster);
  }
  for (const ch of cs.clusters) if (ch.before === null) touched.push(ch.cluster);
  return touched;
}

/** The clusters whose names and flags the edit snapshot (undo restores them): the v0.2 log's `before`. */
export const snapshotClusters = (cs: ChangeSet): number[] => cs.clusters.filter((c) => c.before !== null).map((c) => c.cluster);
