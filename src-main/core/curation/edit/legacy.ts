/**
 * Edit-log rows as v0.2 wrote them (libraries made before the engine hold them): the forward op plus what undoing it
 * needed, grown field by field. Read into a change set here, so the engine undoes and redoes them as it does its own
 * rows, and as v0.2 did (checked on a library written by v0.2: src-main/testing/fixtures/edits-v0.2.*).
 */
import { AppError } from '../../../common/errors.ts';
import type { EditOp } from '../../../common/types.ts';
import type { ClusterFields } from '../../store/edits-repo.ts';
import { emptyChangeSet, type ChangeSet, type LogRecord } from './change-set.ts';

/** A v0.2 log row. */
interface LoggedEdit {
  op: EditOp;
  /** items and the cluster each was in before */
  moves?: Array<[number, number]>;
  /** names / curated flags before */
  before?: Array<{ cluster: number; name: string | null; curated: number }>;
  /** clusters the edit created */
  created?: number[];
  description?: string;
  /** items the edit added to the run and the cluster each joined */
  added?: Array<[number, number]>;
  /** a person's hidden flag and avatar before (on the cluster and on its group) */
  person?: { cluster: number; hidden: number; avatar: number | null; group: number | null; gHidden: number | null; gAvatar: number | null };
  /** where each moved item went (split-parts, confirm, not-face) */
  targets?: Array<[number, number]>;
  /** where each moved item went ('split') */
  splitTargets?: Array<[number, number]>;
  /** names given to clusters the edit created (split-parts) */
  names?: Array<[number, string]>;
  remembered?: { rejects?: Array<[number, number, number | null]>; notSame?: [number, number, number | null, number | null]; notFaces?: Array<{ face: number; hash: string; box: [number, number, number, number] }> };
}

/** A log row of either form; `full` false: the op and its words only (the history list). `where` names it in errors. */
export function fromLogRow(json: string, where: string, full = true): LogRecord {
  let row: LogRecord | LoggedEdit;
  try {
    row = JSON.parse(json) as LogRecord | LoggedEdit;
    if (!row || typeof row !== 'object' || !row.op || typeof row.op.type !== 'string') throw new Error('no op');
    if ('v' in row && row.v === 2 && (typeof row.changes !== 'object' || !Array.isArray(row.changes.items))) throw new Error('no change set');
  } catch (e) {
    throw new AppError('LIBRARY_CORRUPT', `${where} is unreadable (${(e as Error).message}); nothing was changed`);
  }
  if ('v' in row && row.v === 2) return row;
  const l = row as LoggedEdit;
  return { v: 2, op: l.op, description: l.description ?? l.op.type, changes: full ? changesOf(l) : emptyChangeSet() };
}

/** The rows a v0.2 edit changed, with the "after" its redo wrote. */
function changesOf(l: LoggedEdit): ChangeSet {
  const op = l.op;
  const cs = emptyChangeSet();
  for (const [it, c] of l.added ?? []) cs.items.push([it, null, c]);
  const explicit = new Map<number, number>(l.targets ?? []);
  const splitTargets = new Map<number, number>(l.splitTargets ?? []);
  (l.moves ?? []).forEach(([it, from], i) => {
    let to: number;
    if (explicit.has(it)) to = explicit.get(it)!;
    else if (op.type === 'merge') to = op.into ?? op.clusters[0];
    else if (op.type === 'move') to = op.to as number;
    else if (op.type === 'reject' || op.type === 'dedupe') to = -1;
    else to = splitTargets.get(it) ?? i;
    cs.items.push([it, from, to]);
  });
  for (const b of l.before ?? []) {
    const after: ClusterFields = { name: b.name, curated: b.curated };
    if (op.type === 'rename' && b.cluster === op.cluster) after.name = op.name.trim() || null;
    if (op.type === 'accept' && b.cluster === op.cluster) after.curated = op.curated === false ? 0 : 1;
    if (op.type === 'names') {
      for (const c of op.clusters) {
        if (c.cluster !== b.cluster) continue;
        if (c.name !== undefined) after.name = c.name === null ? null : c.name.trim() || null;
        if (c.curated !== undefined) after.curated = c.curated ? 1 : 0;
      }
    }
    cs.clusters.push({ cluster: b.cluster, before: { name: b.name, curated: b.curated }, after });
  }
  if (op.type === 'merge' && l.before) {
    const into = op.into ?? op.clusters[0];
    const named = l.before.find((b) => b.name && b.cluster !== into);
    const target = cs.clusters.find((c) => c.cluster === into);
    if (target && !target.before!.name && named) target.after.name = named.name;
  }
  if (op.type === 'split-parts' && op.parts.length && l.targets) {
    const first = op.parts[0];
    const kept = !l.targets.some(([it]) => it === first.items[0]);
    const target = cs.clusters.find((c) => c.cluster === op.cluster);
    if (kept && first.name?.trim() && target) target.after.name = first.name.trim();
  }
  const createdNames = new Map<number, string>(l.names ?? []);
  for (const c of l.created ?? []) cs.clusters.push({ cluster: c, before: null, after: { name: op.type === 'move' ? op.name ?? null : createdNames.get(c) ?? null } });
  if (l.person && op.type === 'person') {
    const p = l.person;
    let ch = cs.clusters.find((c) => c.cluster === p.cluster);
    if (!ch) { ch = { cluster: p.cluster, before: {}, after: {} }; cs.clusters.push(ch); }
    Object.assign(ch.before!, { hidden: p.hidden, avatar: p.avatar });
    const set: { hidden?: number; avatar?: number | null } = {};
    if (op.hidden !== undefined) set.hidden = op.hidden ? 1 : 0;
    if (op.avatar !== undefined) set.avatar = op.avatar;
    Object.assign(ch.after, set);
    cs.groups.push({ cluster: p.cluster, group: p.group, before: { hidden: p.gHidden, avatar: p.gAvatar }, after: set });
  }
  const r = l.remembered;
  for (const [cluster, item, group] of r?.rejects ?? []) cs.remembered.push({ kind: 'reject', cluster, item, group });
  if (r?.notSame) { const [a, b, groupA, groupB] = r.notSame; cs.remembered.push({ kind: 'not-same', a, b, groupA, groupB }); }
  for (const f of r?.notFaces ?? []) cs.remembered.push({ kind: 'not-face', face: f.face, hash: f.hash, box: f.box });
  return cs;
}
