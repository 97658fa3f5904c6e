/** The items repository: the SQL that reads a run's items (photos or faces) as the UI shows them, and what they are. */
import type { ItemKind } from '../../common/types.ts';
import type { Db } from './db.ts';
import type { MEMBER_ORDERS } from '../../common/schema-kit.ts';

const PHOTO_VIEW = `SELECT p.id AS item, 'photo' AS kind, p.id AS photoId, p.path, p.folder, p.hash AS thumb, NULL AS x, NULL AS y, NULL AS w, NULL AS h`;
const FACE_VIEW = `SELECT f.id AS item, 'face' AS kind, p.id AS photoId, p.path, p.folder, COALESCE(f.thumb, p.hash) AS thumb, f.x, f.y, f.w, f.h`;

/** An item as the UI shows it, with its cluster and similarity when read from a run's assignments. */
export interface ItemViewRow { item: number; kind: ItemKind; photoId: number; path: string; folder: string; thumb: string | null; x: number | null; y: number | null; w: number | null; h: number | null; cluster?: number | null; sim?: number | null }

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

/** The rows of the given items of a kind (any order; unknown ids have none), with their cluster in a run when given. */
export function itemViewRows(db: Db, kind: ItemKind, ids: number[], runId?: number): ItemViewRow[] {
  const sql = runId !== undefined
    ? `${base(kind).replace('SELECT', 'SELECT a.cluster, a.sim,')} JOIN assignments a ON a.run_id = ? AND a.item_id = ${idCol(kind)} WHERE ${idCol(kind)} IN (SELECT value FROM json_each(?))`
    : `${base(kind)} WHERE ${idCol(kind)} IN (SELECT value FROM json_each(?))`;
  return (runId !== undefined ? db.prepare(sql).all(runId, JSON.stringify(ids)) : db.prepare(sql).all(JSON.stringify(ids))) as ItemViewRow[];
}

/** How many items a run puts in a cluster (or noise, -1). */
export function clusterMemberCount(db: Db, runId: number, cluster: number): number {
  return db.prepare('SELECT COUNT(*) FROM assignments WHERE run_id = ? AND cluster = ?').pluck().get(runId, cluster) as number;
}

/** A page of a cluster's members, most similar first (or least, with order 'asc'); limit and offset as given. */
export function clusterMemberRows(db: Db, kind: ItemKind, runId: number, cluster: number, order: (typeof MEMBER_ORDERS)[number], limit: number, offset: number): ItemViewRow[] {
  const sql = `${fromAssignments(kind)} WHERE a.run_id = ? AND a.cluster = ?
    ORDER BY a.sim ${order === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, a.item_id LIMIT ? OFFSET ?`;
  return db.prepare(sql).all(runId, cluster, limit, offset) as ItemViewRow[];
}

// a face marked "not a face" leaves the queue at once (it sits in the run's noise until the next run leaves it out)
const REVIEW_WHERE = `(a.cluster < 0 OR a.sim < ?) AND NOT EXISTS (SELECT 1 FROM not_faces n JOIN runs r ON r.id = a.run_id AND r.kind = 'face' WHERE n.face_id = a.item_id)`;

/** How many items of a run are in its review queue (noise, or below maxSim to their centroid). */
export function reviewQueueCount(db: Db, runId: number, maxSim: number): number {
  return db.prepare(`SELECT COUNT(*) FROM assignments a WHERE a.run_id = ? AND (${REVIEW_WHERE})`).pluck().get(runId, maxSim) as number;
}

/** A page of the review queue: noise first, then the lowest similarity to the centroid. */
export function reviewQueueRows(db: Db, kind: ItemKind, runId: number, maxSim: number, limit: number, offset: number): ItemViewRow[] {
  const sql = `${fromAssignments(kind)} WHERE a.run_id = ? AND (${REVIEW_WHERE})
    ORDER BY a.cluster >= 0, a.sim ASC NULLS FIRST, a.item_id LIMIT ? OFFSET ?`;
  return db.prepare(sql).all(runId, maxSim, limit, offset) as ItemViewRow[];
}

/** What a search matches on, combined with AND (each given one; the run already checked to group items of the kind). */
export interface SearchFilter { group?: { runId: number; name: string }; folder?: string; dateMs?: [number, number] }

/** The ids (in id order) and paths of the items of a kind whose photo is ok and that match the filter. */
export function searchRows(db: Db, kind: ItemKind, f: SearchFilter): Array<[number, string]> {
  const where: string[] = [];
  const args: unknown[] = [];
  let from = kind === 'photo' ? 'photos p' : 'faces f JOIN photos p ON p.id = f.photo_id';
  const idCol = kind === 'photo' ? 'p.id' : 'f.id';
  if (f.group !== undefined) {
    from += ' JOIN assignments a ON a.run_id = ? AND a.item_id = ' + idCol + ' JOIN clusters c ON c.run_id = a.run_id AND c.cluster = a.cluster';
    args.push(f.group.runId);
    where.push(`instr(lower(COALESCE(c.name, 'cluster ' || c.cluster)), lower(?)) > 0`);
    args.push(f.group.name);
  }
  if (f.folder !== undefined) { where.push(`instr(lower(p.folder), lower(?)) > 0`); args.push(f.folder); }
  if (f.dateMs !== undefined) {
    // the photo's date: EXIF taken_at when it has one (its wall-clock time, read as UTC like the days given), else the file's mtime
    where.push(`COALESCE(CAST(unixepoch(replace(substr(p.taken_at, 1, 10), ':', '-') || substr(p.taken_at, 11), 'subsec') * 1000 AS INTEGER), p.mtime_ms) BETWEEN ? AND ?`);
    args.push(f.dateMs[0], f.dateMs[1]);
  }
  where.push(`p.status = 'ok'`);
  return db.prepare(`SELECT ${idCol} AS id, p.path FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${idCol}`).raw().all(...args) as Array<[number, string]>;
}

/** What an item is (its photo's file, size and format, and a face's box), for the near-duplicate keep rule. */
export interface ItemQualityRow { item: number; photoId: number; path: string; folder: string; thumb: string | null; width: number; height: number; size: number; format: string; taken_at: string | null; x: number | null; y: number | null; w: number | null; h: number | null }

/** The quality rows of the given items of a kind (any order; unknown ids have none). */
export function itemQualityRows(db: Db, kind: ItemKind, ids: number[]): ItemQualityRow[] {
  const sql = kind === 'photo'
    ? `SELECT p.id AS item, p.id AS photoId, p.path, p.folder, p.hash AS thumb, p.width, p.height, p.size, p.format, p.taken_at, NULL AS x, NULL AS y, NULL AS w, NULL AS h
       FROM photos p WHERE p.id IN (SELECT value FROM json_each(?))`
    : `SELECT f.id AS item, p.id AS photoId, p.path, p.folder, COALESCE(f.thumb, p.hash) AS thumb, p.width, p.height, p.size, p.format, p.taken_at, f.x, f.y, f.w, f.h
       FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id IN (SELECT value FROM json_each(?))`;
  return db.prepare(sql).all(JSON.stringify(ids)) as ItemQualityRow[];
}
