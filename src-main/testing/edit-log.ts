/**
 * A labeling session replayed step by step, and the library's rows as a comparable value: used to check that the edit
 * engine applies, undoes and redoes every op exactly as the v0.2 code did (src-main/testing/fixtures/edits-v0.2.*,
 * written by that code), on edit-log rows of either form.
 */
import type { EditOp, EditResult } from '../common/types.ts';
import type { Db } from '../core/store/db.ts';

/** One step of the scripted session: an editRun op (split with its precomputed labels), or an assign. */
export type ScriptStep =
  | { op: EditOp; split?: { items: number[]; labels: number[] } }
  | { assign: { items: number[]; to: number[] } };

/** a log row's op (a damaged row: its text) */
const opOf = (json: string): unknown => { try { return (JSON.parse(json) as { op: EditOp }).op; } catch { return json; } };

const r6 = (x: number | null) => (x === null ? null : Math.round(x * 1e5) / 1e5);

/** Everything an edit may change (timestamps left out), in a stable order. */
export function dumpRun(db: Db, runId: number): unknown {
  const q = (sql: string, ...a: unknown[]) => db.prepare(sql).all(...a) as Array<Record<string, unknown>>;
  return {
    run: q('SELECT n, clusters, noise FROM runs WHERE id = ?', runId),
    assignments: q('SELECT item_id, cluster, original, sim FROM assignments WHERE run_id = ? ORDER BY item_id', runId).map((r) => ({ ...r, sim: r6(r.sim as number | null) })),
    clusters: q('SELECT cluster, size, name, curated, hidden, avatar, group_id, mean_sim, top, tail FROM clusters WHERE run_id = ? ORDER BY cluster', runId)
      .map((r) => ({ ...r, mean_sim: r6(r.mean_sim as number | null) })),
    groups: q('SELECT id, kind, name, curated, hidden, avatar FROM groups ORDER BY id'),
    groupMembers: q('SELECT group_id, item_id FROM group_members ORDER BY group_id, item_id'),
    suggestionRejects: q('SELECT run_id, cluster, item_id, group_id FROM suggestion_rejects ORDER BY run_id, cluster, item_id'),
    mergeRejects: q('SELECT run_id, a, b, group_a, group_b FROM merge_rejects ORDER BY run_id, a, b'),
    notFaces: q('SELECT photo_hash, x, y, w, h, face_id FROM not_faces ORDER BY photo_hash, x, y, w, h'),
    edits: q('SELECT op, undone FROM edits WHERE run_id = ? ORDER BY id', runId).map((r) => ({ undone: r.undone, op: opOf(r.op as string) })),
  };
}

/** An edit's result without what differs between two runs of the same session (ids, times, cluster order). */
export function resultOf(r: EditResult | null): unknown {
  if (!r) return null;
  return {
    op: r.op,
    clusters: [...r.clusters].sort((a, b) => a - b),
    description: r.description ?? null,
    history: { canUndo: r.history.canUndo, canRedo: r.history.canRedo, edits: r.history.edits.map((e) => `${e.undone ? 'undone ' : ''}${e.description}`) },
  };
}
