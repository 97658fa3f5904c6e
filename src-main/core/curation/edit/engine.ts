/**
 * The labeling session's one edit engine. An edit (rename, merge, split, move, reject, accept, the people ops...) is
 * planned by its op's module (ops/) as a change set, written here, and logged in the same transaction with that change
 * set, so undo and redo walk the log the same way for every op: closing and reopening the library restores the
 * session exactly, undo history included. Log rows written by v0.2 are read through legacy.ts.
 */
import { AppError, badArg } from '../../../common/errors.ts';
import type { EditOp, EditResult, HistoryInfo } from '../../../common/types.ts';
import { getRun } from '../../store/runs.ts';
import type { Db } from '../../store/db.ts';
import { editsRepo, type EditsRepo } from '../../store/edits-repo.ts';
import { joinGroups, syncRunGroups } from '../groups.ts';
import { emptyChangeSet, snapshotClusters, writeBackward, writeForward, type ChangeSet, type LogRecord } from './change-set.ts';
import { fromLogRow } from './legacy.ts';
import { opModule } from './ops/index.ts';
import { quote, type ReclusterPlan } from './ops/op.ts';
import { refreshAdded, refreshClusters } from './refresh.ts';

/** A cluster as a person reads it: its name, else "cluster N" (noise for -1). */
function clusterLabel(repo: EditsRepo, runId: number, c: number): string {
  if (c < 0) return 'noise';
  const name = repo.clusterName(runId, c);
  return quote(name || `cluster ${c}`);
}

/**
 * The edit in words, from the run as it is BEFORE the edit is applied (names are the names then). Shown by undo/redo
 * toasts and the history panel: "rename 'cluster 6' → 'Anna'", "merge 'Anna', 'cluster 3' into 'Anna'".
 */
export function describeEdit(db: Db, runId: number, op: EditOp): string {
  const repo = editsRepo(db);
  const m = opModule(op.type);
  return m ? m.describe(op, (c) => clusterLabel(repo, runId, c)) : (op as { type: string }).type;
}

/** The clusters an op names though no row of theirs changed (a person's flags, remembered suggestions). */
const opClusters = (op: EditOp): number[] => opModule(op.type)?.names?.(op) ?? [];

const ordered = (xs: number[]) => [...new Set(xs)];

function log(repo: EditsRepo, runId: number, rec: LogRecord, at: number): number {
  // a new edit ends the redo branch
  repo.dropRedo(runId);
  return repo.append(runId, JSON.stringify(rec), at);
}

/**
 * Applies one edit. `split` (for 'split') holds the new sub-cluster of each member, in the order of `split.items`,
 * and `recluster` (for 'recluster') where the undecided items go: the caller computes them (in a worker) before calling.
 */
export function applyEdit(db: Db, runId: number, op: EditOp, split?: { items: number[]; labels: Int32Array }, recluster?: ReclusterPlan): EditResult {
  getRun(db, runId);
  const repo = editsRepo(db);
  return db.transaction((): EditResult => {
    const description = describeEdit(db, runId, op);
    const m = opModule(op.type);
    if (!m?.plan) throw badArg('op', `unknown edit ${JSON.stringify((op as { type?: unknown }).type)}`);
    const cs = emptyChangeSet();
    const logged = m.plan({ db, repo, runId, split, recluster }, op, cs)?.op ?? op;
    const at = Date.now();
    writeForward(db, repo, runId, cs, at);
    refreshClusters(db, runId, cs.refresh);
    const before = snapshotClusters(cs);
    syncRunGroups(db, runId, [...ordered(cs.refresh), ...before]);
    const editId = log(repo, runId, { v: 2, op: logged, description, changes: cs }, at);
    // renamed / accepted clusters changed too (their figures need no refresh)
    const changed = ordered([...cs.refresh, ...before, ...opClusters(op)]);
    repo.touchChanged(runId, changed, Date.now());
    return { editId, op: logged, clusters: changed, history: history(db, runId), description, runId };
  }).immediate();
}

/**
 * Adds new items to a run as one edit (undo takes them out of the run again): each joins its cluster, or the run's
 * unassigned items (-1, for review). Existing members, names and curated marks are left as they are.
 */
export function applyAssign(db: Db, runId: number, items: number[], to: number[]): EditResult {
  getRun(db, runId);
  if (items.length !== to.length) throw badArg('to', `${to.length} targets for ${items.length} items`);
  const repo = editsRepo(db);
  return db.transaction((): EditResult => {
    for (const it of items) if (repo.clusterOf(runId, it) !== undefined) throw new AppError('CONFLICT', `item ${it} is already in run ${runId}`);
    for (const c of new Set(to)) if (!repo.clusterExists(runId, c)) throw new AppError('NOT_FOUND', `cluster ${c} is not in run ${runId}`);
    const op: EditOp = { type: 'assign', items, to };
    const cs: ChangeSet = { ...emptyChangeSet(), items: items.map((it, i): [number, null, number] => [it, null, to[i]]), refresh: [...new Set(to)] };
    const at = Date.now();
    writeForward(db, repo, runId, cs, at);
    // cost grows with the new items: sizes, centroids and the new members' similarities are updated incrementally
    // (top and tail samples stay as they were); each new member joins its cluster's library group
    const added = items.map((it, i): [number, number] => [it, to[i]]);
    refreshAdded(db, runId, added);
    joinGroups(db, runId, added);
    // v0.2 logged assign without words: its history and undo/redo name it by its type
    const editId = log(repo, runId, { v: 2, op, description: op.type, changes: cs }, at);
    return { editId, op, clusters: [...new Set(to)], history: history(db, runId) };
  }).immediate();
}

function step(db: Db, runId: number, dir: 'undo' | 'redo'): EditResult | null {
  getRun(db, runId);
  const repo = editsRepo(db);
  return db.transaction(() => {
    const row = dir === 'undo' ? repo.lastDone(runId) : repo.firstUndone(runId);
    if (!row) return null;
    const rec = fromLogRow(row.op, `edit ${row.id} of run ${runId}`);
    const at = Date.now();
    const touched = ordered(dir === 'undo' ? writeBackward(db, repo, runId, rec.changes, at) : writeForward(db, repo, runId, rec.changes, at));
    refreshClusters(db, runId, touched);
    syncRunGroups(db, runId, [...touched, ...snapshotClusters(rec.changes)]);
    repo.setUndone(row.id, dir === 'undo');
    repo.touchChanged(runId, [...touched, ...opClusters(rec.op)], Date.now());
    return { editId: row.id, op: rec.op, clusters: touched, history: history(db, runId), description: rec.description, runId };
  }).immediate();
}

export const undo = (db: Db, runId: number): EditResult | null => step(db, runId, 'undo');
export const redo = (db: Db, runId: number): EditResult | null => step(db, runId, 'redo');

export function history(db: Db, runId: number): HistoryInfo {
  const rows = editsRepo(db).list(runId);
  return {
    runId,
    canUndo: rows.some((r) => !r.undone),
    canRedo: rows.some((r) => r.undone),
    edits: rows.map((r) => { const l = fromLogRow(r.op, `edit ${r.id} of run ${runId}`, false); return { id: r.id, op: l.op, undone: !!r.undone, at: r.created_at, description: l.description }; }),
  };
}
