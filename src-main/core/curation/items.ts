/** What the UI shows of a run's items: members of a cluster, the review queue, item views. */
import { AppError } from '../../common/errors.ts';
import type { ItemKind, ItemView, Page } from '../../common/types.ts';
import { getRun } from '../store/runs.ts';
import type { Db } from '../store/db.ts';

const PHOTO_VIEW = `SELECT p.id AS item, 'photo' AS kind, p.id AS photoId, p.path, p.folder, p.hash AS thumb, NULL AS x, NULL AS y, NULL AS w, NULL AS h`;
const FACE_VIEW = `SELECT f.id AS item, 'face' AS kind, p.id AS photoId, p.path, p.folder, COALESCE(f.thumb, p.hash) AS thumb, f.x, f.y, f.w, f.h`;

interface Row { item: number; kind: ItemKind; photoId: number; path: string; folder: string; thumb: string | null; x: number | null; y: number | null; w: number | null; h: number | null; cluster?: number | null; sim?: number | null }

function toView(r: Row): ItemView {
  return {
    item: r.item, kind: r.kind, photoId: r.photoId, path: r.path, folder: r.folder, thumb: r.thumb,
    box: r.x === null ? null : [r.x, r.y!, r.w!, r.h!], cluster: r.cluster ?? null, sim: r.sim ?? null,
  };
}

function base(kind: ItemKind): string {
  return kind === 'photo' ? `${PHOTO_VIEW} FROM photos p` : `${FACE_VIEW} FROM faces f JOIN photos p ON p.id = f.photo_id`;
}

/** Items of a run, driven from its assignments (the index on run and cluster) rather than from every photo. */
function fromAssignments(kind: ItemKind): string {
  return kind === 'photo'
    ? `SELECT a.cluster, a.sim, p.id AS item, 'photo' AS kind, p.id AS photoId, p.path, p.folder, p.hash AS thumb, NULL AS x, NULL AS y, NULL AS w, NULL AS h
       FROM assignments a CROSS JOIN photos p ON p.id = a.item_id`
    : `SELECT a.cluster, a.sim, f.id AS item, 'face' AS kind, p.id AS photoId, p.path, p.folder, COALESCE(f.thumb, p.hash) AS thumb, f.x, f.y, f.w, f.h
       FROM assignments a CROSS JOIN faces f ON f.id = a.item_id CROSS JOIN photos p ON p.id = f.photo_id`;
}

function idCol(kind: ItemKind): string {
  return kind === 'photo' ? 'p.id' : 'f.id';
}

/** Views of items of a kind, with their cluster in a run when given; unknown ids are left out. */
export function itemViews(db: Db, kind: ItemKind, ids: number[], runId?: number): ItemView[] {
  if (ids.length > 5000) throw new AppError('BAD_ARGUMENT', 'items: at most 5000 at a time');
  const sql = runId !== undefined
    ? `${base(kind).replace('SELECT', 'SELECT a.cluster, a.sim,')} JOIN assignments a ON a.run_id = ? AND a.item_id = ${idCol(kind)} WHERE ${idCol(kind)} IN (SELECT value FROM json_each(?))`
    : `${base(kind)} WHERE ${idCol(kind)} IN (SELECT value FROM json_each(?))`;
  const rows = (runId !== undefined ? db.prepare(sql).all(runId, JSON.stringify(ids)) : db.prepare(sql).all(JSON.stringify(ids))) as Row[];
  const byId = new Map(rows.map((r) => [r.item, toView(r)]));
  return ids.map((id) => byId.get(id)).filter((v): v is ItemView => !!v);
}

/** Members of a cluster (or noise, -1), most similar to the centroid first (or least, with order 'asc'). */
export function clusterMembers(db: Db, runId: number, cluster: number, offset = 0, limit = 200, order: 'desc' | 'asc' = 'desc'): Page<ItemView> {
  const run = getRun(db, runId);
  const total = db.prepare('SELECT COUNT(*) FROM assignments WHERE run_id = ? AND cluster = ?').pluck().get(runId, cluster) as number;
  const sql = `${fromAssignments(run.kind)} WHERE a.run_id = ? AND a.cluster = ?
    ORDER BY a.sim ${order === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, a.item_id LIMIT ? OFFSET ?`;
  const rows = db.prepare(sql).all(runId, cluster, Math.min(5000, Math.max(1, limit)), Math.max(0, offset)) as Row[];
  return { total, offset, items: rows.map(toView) };
}

/** The review queue: noise first, then members with the lowest similarity to their centroid. */
export function reviewQueue(db: Db, runId: number, offset = 0, limit = 200, maxSim = 0.6): Page<ItemView> {
  const run = getRun(db, runId);
  const where = `a.cluster < 0 OR a.sim < ?`;
  const total = db.prepare(`SELECT COUNT(*) FROM assignments a WHERE a.run_id = ? AND (${where})`).pluck().get(runId, maxSim) as number;
  const sql = `${fromAssignments(run.kind)} WHERE a.run_id = ? AND (${where})
    ORDER BY a.cluster >= 0, a.sim ASC NULLS FIRST, a.item_id LIMIT ? OFFSET ?`;
  const rows = db.prepare(sql).all(runId, maxSim, Math.min(5000, Math.max(1, limit)), Math.max(0, offset)) as Row[];
  return { total, offset, items: rows.map(toView) };
}
