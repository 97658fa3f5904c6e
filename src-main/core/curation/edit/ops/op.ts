/**
 * What an edit op's module provides: its words, and its change set. The engine (../engine.ts) does the rest for every
 * op: apply, undo, redo, the log, figures, groups and events. Helpers the ops share are below.
 */
import { AppError, badArg } from '../../../../common/errors.ts';
import type { EditOp } from '../../../../common/types.ts';
import type { Db } from '../../../store/db.ts';
import type { ClusterFields, EditsRepo } from '../../../store/edits-repo.ts';
import { itemStatesRepo, type ItemDecision } from '../../../store/item-states.ts';
import type { ChangeSet } from '../change-set.ts';

export type OpOf<T extends EditOp['type']> = Extract<EditOp, { type: T }>;

/** Where a 'recluster' edit moves the undecided items (computed before the edit, ../../recluster.ts): [item, from, to]. */
export interface ReclusterPlan {
  /** the learned metric's version the plan was made in */
  version: number;
  /** to named groups */
  moves: Array<[number, number, number]>;
  /** among the unnamed groups */
  regrouped: Array<[number, number, number]>;
}

export interface OpContext {
  db: Db;
  repo: EditsRepo;
  runId: number;
  /** 'split': the new sub-cluster of each member, computed (in a worker) before the edit */
  split?: { items: number[]; labels: Int32Array };
  /** 'recluster': where the undecided items go, computed (in a worker) before the edit */
  recluster?: ReclusterPlan;
}

export interface OpModule<T extends EditOp['type']> {
  type: T;
  /** the edit in words, from the run as it is before the edit ("rename 'cluster 6' → 'Anna'"); L: a cluster's label */
  describe(op: OpOf<T>, L: (c: number) => string): string;
  /** checks the op against the run and returns the rows it changes, reading only (absent: not an editRun op) */
  plan?(ctx: OpContext, op: OpOf<T>, cs: ChangeSet): { op?: EditOp } | void;
  /** clusters the op names whose rows it does not change (a person's remembered suggestions): events name them */
  names?(op: OpOf<T>): number[];
}

export const defineOp = <T extends EditOp['type']>(m: OpModule<T>): OpModule<T> => m;

export const quote = (s: string) => `'${s.length > 60 ? `${s.slice(0, 57)}...` : s}'`;
export const listOf = (xs: string[], max = 3) => (xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`);
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export const notInRun = (c: number | string, runId: number) => new AppError('NOT_FOUND', `cluster ${c} is not in run ${runId}`);

/** The names and curated flags of these clusters, kept so that undo restores them (also when the edit empties them). */
export function snapshot(ctx: OpContext, cs: ChangeSet, clusters: number[]): void {
  for (const c of clusters) {
    const r = ctx.repo.cluster(ctx.runId, c);
    if (!r) throw notInRun(c, ctx.runId);
    cs.clusters.push({ cluster: c, before: { name: r.name, curated: r.curated }, after: { name: r.name, curated: r.curated } });
  }
}

const byCluster = new WeakMap<ChangeSet, Map<number, ChangeSet['clusters'][number]>>();

/** The fields a snapshot cluster has after the edit (the op sets what it changes). */
export function after(cs: ChangeSet, c: number): ClusterFields {
  // an index of the change set's clusters (a names op of 100,000 clusters looks each one up)
  let m = byCluster.get(cs);
  if (!m || m.size !== cs.clusters.length) { m = new Map(cs.clusters.map((x) => [x.cluster, x])); byCluster.set(cs, m); }
  const ch = m.get(c);
  if (!ch) throw new Error(`cluster ${c} was not snapshot`);
  return ch.after;
}

/** The cluster each of these items is in (every one must be in the run). */
export function itemsIn(ctx: OpContext, items: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const it of items) {
    if (!Number.isInteger(it)) throw badArg('items', `not an item id: ${JSON.stringify(it)}`);
    const c = ctx.repo.clusterOf(ctx.runId, it);
    if (c === undefined) throw new AppError('NOT_FOUND', `item ${it} is not in run ${ctx.runId}`);
    m.set(it, c);
  }
  return m;
}

/** Items the user decided, and how (their states before are kept for undo); keep: items decided before stay as they were. */
export function decide(ctx: OpContext, cs: ChangeSet, how: ItemDecision, items: Iterable<number>, o: { keep?: boolean } = {}): void {
  const states = itemStatesRepo(ctx.db);
  const list: number[] = [], before: Array<ItemDecision | null> = [];
  for (const it of new Set(items)) {
    const b = states.get(ctx.runId, it);
    if (b === how || (o.keep && b !== null)) continue;
    list.push(it); before.push(b);
  }
  if (list.length) cs.decided.push({ how, items: list, before });
}

export function nonEmpty(items: unknown, what = 'item'): void {
  if (!Array.isArray(items) || items.length === 0) throw badArg('items', `give at least one ${what}`);
}
