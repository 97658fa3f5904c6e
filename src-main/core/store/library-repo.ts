/**
 * The library repository: the statements behind the Library's own views (its counts, models, folders, photos, scan
 * issues, the file a preview or a lost thumbnail is rendered from) and a folder's removal (what it takes with it, the stored map points
 * of the items that went, the runs' sizes after).
 */
import type { ItemKind, ModelInfo, PhotoDetail, PhotoSummary, Root, ScanIssue } from '../../common/types.ts';
import type { Db } from './db.ts';
import { blobVec } from './embeddings.ts';

/** The file to render a preview of the photo with this content hash from (a readable one first), or null. */
export function previewSourceOf(db: Db, hash: string): { path: string; size: number } | null {
  return (db.prepare(`SELECT path, size FROM photos WHERE hash = ? ORDER BY status = 'ok' DESC, id LIMIT 1`).get(hash) as { path: string; size: number } | undefined) ?? null;
}

/**
 * The file (and, for a face crop, the face's landmarks) to make a thumbnail key's file again from, or null when no
 * photo or face of the library has it: a photo's key is its content hash, a face crop's `<hash>-f<k>`.
 */
export function thumbSourceOf(db: Db, key: string): { path: string; size: number; face?: { landmarks: Float32Array | null } } | null {
  const dash = key.indexOf('-f');
  if (dash < 0) return previewSourceOf(db, key);
  const row = db.prepare(`SELECT p.path, p.size, f.landmarks FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.hash = ? AND f.thumb = ?
    ORDER BY p.status = 'ok' DESC, f.id LIMIT 1`).get(key.slice(0, dash), key) as { path: string; size: number; landmarks: Buffer | null } | undefined;
  if (!row) return null;
  const lm = row.landmarks && row.landmarks.byteLength === 136 * 4 ? blobVec(row.landmarks, 136, 'landmarks') : null;
  return { path: row.path, size: row.size, face: { landmarks: lm } };
}

/** The library's counts for `info`. */
export function libraryCounts(db: Db): { roots: number; photos: number; missing: number; errors: number; faces: number; runs: number } {
  const one = (sql: string) => (db.prepare(sql).pluck().get() as number) ?? 0;
  return {
    roots: one('SELECT COUNT(*) FROM roots'),
    photos: one(`SELECT COUNT(*) FROM photos WHERE status = 'ok'`),
    missing: one(`SELECT COUNT(*) FROM photos WHERE status = 'missing'`),
    errors: one('SELECT COUNT(*) FROM scan_issues'),
    faces: one('SELECT COUNT(*) FROM faces'),
    runs: one('SELECT COUNT(*) FROM runs'),
  };
}

/** Scan issues per reason. */
export function scanIssueCountsByReason(db: Db): Array<{ reason: string; n: number }> {
  return db.prepare('SELECT reason, COUNT(*) AS n FROM scan_issues GROUP BY reason').all() as Array<{ reason: string; n: number }>;
}

/** Items that failed to embed, per model (by name). */
export function embedFailureCounts(db: Db): Array<{ model: string; n: number }> {
  return db.prepare(`SELECT model, COUNT(*) AS n FROM processed WHERE error IS NOT NULL GROUP BY model ORDER BY model`)
    .all() as Array<{ model: string; n: number }>;
}

/** The models with their number of embeddings, by name (identityThreshold is the caller's). */
export function modelRows(db: Db): ModelInfo[] {
  return db.prepare(`
      SELECT m.name, m.kind, m.dim, m.version, m.source,
             (SELECT COUNT(*) FROM embeddings e WHERE e.model = m.name) AS embeddings
      FROM models m ORDER BY m.name`).all() as ModelInfo[];
}

/** The folders with their counts, by id. */
export function rootRows(db: Db): Root[] {
  return db.prepare(`
      SELECT r.id, r.path, r.added_at AS addedAt, r.last_scan_at AS lastScanAt,
        (SELECT COUNT(*) FROM photos p WHERE p.root_id = r.id AND p.status = 'ok') AS photos,
        (SELECT COUNT(*) FROM scan_issues s WHERE s.root_id = r.id) AS errors,
        (SELECT COUNT(*) FROM photos p WHERE p.root_id = r.id AND p.status = 'missing') AS missing
      FROM roots r ORDER BY r.id`).all() as Root[];
}

export function rootIdByPath(db: Db, path: string): number | undefined {
  return db.prepare('SELECT id FROM roots WHERE path = ?').pluck().get(path) as number | undefined;
}

/** A new folder; its id. */
export function insertRoot(db: Db, path: string, addedAt: number): number {
  return Number(db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?)').run(path, addedAt).lastInsertRowid);
}

/** What removing a folder takes with it, read before the removal (inside the caller's transaction). */
export function rootContents(db: Db, id: number): {
  photos: number; faces: number; touched: Array<{ runId: number; cluster: number }>; thumbs: string[]; gone: Record<ItemKind, Set<number>>;
} {
  const photos = db.prepare('SELECT COUNT(*) FROM photos WHERE root_id = ?').pluck().get(id) as number;
  const faces = db.prepare('SELECT COUNT(*) FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.root_id = ?').pluck().get(id) as number;
  const touched = db.prepare(`
        SELECT DISTINCT a.run_id AS runId, a.cluster FROM assignments a JOIN runs r ON r.id = a.run_id
        WHERE (r.kind = 'photo' AND a.item_id IN (SELECT id FROM photos WHERE root_id = ?))
           OR (r.kind = 'face' AND a.item_id IN (SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.root_id = ?))`)
    .all(id, id) as Array<{ runId: number; cluster: number }>;
  const thumbs = [
    ...(db.prepare('SELECT DISTINCT hash FROM photos WHERE root_id = ?').pluck().all(id) as string[]),
    ...(db.prepare('SELECT DISTINCT f.thumb FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.root_id = ? AND f.thumb IS NOT NULL').pluck().all(id) as string[]),
  ];
  const gone = {
    photo: new Set(db.prepare('SELECT id FROM photos WHERE root_id = ?').pluck().all(id) as number[]),
    face: new Set(db.prepare('SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.root_id = ?').pluck().all(id) as number[]),
  };
  return { photos, faces, touched, thumbs, gone };
}

/** Deletes a folder (its photos, faces, embeddings, labels and assignments go through the triggers). */
export function deleteRoot(db: Db, id: number): void {
  db.prepare('DELETE FROM roots WHERE id = ?').run(id);
}

/** A run's size after its assignments changed. */
export function recountRun(db: Db, runId: number): void {
  db.prepare('UPDATE runs SET n = (SELECT COUNT(*) FROM assignments WHERE run_id = ?) WHERE id = ?').run(runId, runId);
}

/** Whether a thumbnail key is still used: a test prepared once, called with the key. */
export function thumbStillUsed(db: Db): (key: string) => boolean {
  const stmt = db.prepare('SELECT 1 FROM photos WHERE hash = ? UNION ALL SELECT 1 FROM faces WHERE thumb = ? LIMIT 1').pluck();
  return (key) => stmt.get(key, key) !== undefined;
}

const PHOTO_COLS = `id, path, rel_path AS relPath, root_id AS rootId, folder, hash, width, height, format, taken_at AS takenAt, status, size`;

/** One page of photos of a status (and folder), by folder and path, with the total. */
export function photoPage(db: Db, q: { status: PhotoSummary['status']; rootId?: number; limit: number; offset: number }): { total: number; items: PhotoSummary[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  where.push('status = ?'); args.push(q.status);
  if (q.rootId !== undefined) { where.push('root_id = ?'); args.push(q.rootId); }
  const w = `WHERE ${where.join(' AND ')}`;
  const total = db.prepare(`SELECT COUNT(*) FROM photos ${w}`).pluck().get(...args) as number;
  const items = db.prepare(`SELECT ${PHOTO_COLS} FROM photos ${w} ORDER BY root_id, rel_path LIMIT ? OFFSET ?`)
    .all(...args, q.limit, q.offset) as PhotoSummary[];
  return { total, items };
}

/** A photo's row (without its faces), or undefined. */
export function photoDetailRow(db: Db, id: number): PhotoDetail | undefined {
  return db.prepare(`SELECT ${PHOTO_COLS}, mtime_ms AS mtimeMs, orientation FROM photos WHERE id = ?`).get(id) as PhotoDetail | undefined;
}

/** A photo's faces, by id. */
export function facesOfPhoto(db: Db, photoId: number): Array<{ id: number; photoId: number; x: number; y: number; w: number; h: number; score: number; thumb: string | null }> {
  // a face the user marked "not a face" is no face of the photo any more (undo of the mark brings it back)
  return db.prepare(`SELECT id, photo_id AS photoId, x, y, w, h, score, thumb FROM faces f WHERE photo_id = ?
    AND NOT EXISTS (SELECT 1 FROM not_faces n WHERE n.face_id = f.id) ORDER BY id`).all(photoId) as Array<{ id: number; photoId: number; x: number; y: number; w: number; h: number; score: number; thumb: string | null }>;
}

/** One page of scan issues, by path, with the total. */
export function scanIssuePage(db: Db, limit: number, offset: number): { total: number; items: ScanIssue[] } {
  const total = db.prepare('SELECT COUNT(*) FROM scan_issues').pluck().get() as number;
  const items = db.prepare('SELECT path, root_id AS rootId, reason, at FROM scan_issues ORDER BY path LIMIT ? OFFSET ?')
    .all(limit, offset) as ScanIssue[];
  return { total, items };
}

/** Stored maps keep only the points of items that still exist (x, y pairs go with their ids). */
export function dropMapPoints(db: Db, gone: Record<ItemKind, Set<number>>): void {
  const maps = db.prepare('SELECT m.id, m.ids, m.xy, md.kind FROM maps m JOIN models md ON md.name = m.model').all() as Array<{ id: number; ids: Buffer; xy: Buffer; kind: ItemKind }>;
  const upd = db.prepare('UPDATE maps SET n = ?, ids = ?, xy = ? WHERE id = ?');
  for (const m of maps) {
    const set = gone[m.kind];
    if (!set || set.size === 0) continue;
    const ids = new Int32Array(new Uint8Array(m.ids).buffer);
    const xy = new Float32Array(new Uint8Array(m.xy).buffer);
    const keep: number[] = [];
    for (let i = 0; i < ids.length; i++) if (!set.has(ids[i])) keep.push(i);
    if (keep.length === ids.length) continue;
    const ni = Int32Array.from(keep, (i) => ids[i]);
    const nxy = new Float32Array(keep.length * 2);
    keep.forEach((i, j) => { nxy[2 * j] = xy[2 * i]; nxy[2 * j + 1] = xy[2 * i + 1]; });
    upd.run(keep.length, Buffer.from(ni.buffer), Buffer.from(nxy.buffer), m.id);
  }
}
