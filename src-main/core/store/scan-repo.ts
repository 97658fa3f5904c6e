/**
 * The scan repository: the statements a scan runs over `photos`, `scan_issues` and `roots` (what is known of a path
 * or a content hash, a photo added, updated, moved or seen again, an issue set or cleared, what a complete walk did
 * not see). The statements of one scan are prepared once (`scanStatements`); the caller keeps its transactions.
 */
import type { Db } from './db.ts';

/** A photo's stored fields as a scan writes them. */
export interface ScannedPhoto {
  rootId: number; path: string; relPath: string; folder: string; size: number; mtimeMs: number; hash: string;
  width: number; height: number; format: string; orientation: number | null; takenAt: string | null;
}

export interface ScanStatements {
  photoByPath(path: string): { id: number; size: number; mtimeMs: number; status: string; hash: string } | undefined;
  issueByPath(path: string): { size: number | null; mtimeMs: number | null; reason: string } | undefined;
  /** the photos of a content hash, missing ones first, then by id */
  photosByHash(hash: string): Array<{ id: number; path: string; status: string }>;
  insertPhoto(p: ScannedPhoto, at: number): void;
  updatePhoto(id: number, p: ScannedPhoto, at: number): void;
  touchOk(id: number, at: number): void;
  setIssue(path: string, rootId: number, size: number | null, mtimeMs: number | null, reason: string, at: number): void;
  clearIssue(path: string): void;
}

export function scanStatements(db: Db): ScanStatements {
  const byPath = db.prepare('SELECT id, size, mtime_ms AS mtimeMs, status, hash FROM photos WHERE path = ?');
  const issueByPath = db.prepare('SELECT size, mtime_ms AS mtimeMs, reason FROM scan_issues WHERE path = ?');
  const byHash = db.prepare(`SELECT id, path, status FROM photos WHERE hash = ? ORDER BY status = 'missing' DESC, id`);
  const insert = db.prepare(`INSERT INTO photos (root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format,
      orientation, taken_at, status, added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?)`);
  const update = db.prepare(`UPDATE photos SET root_id = ?, path = ?, rel_path = ?, folder = ?, size = ?, mtime_ms = ?, hash = ?,
      width = ?, height = ?, format = ?, orientation = ?, taken_at = ?, status = 'ok', updated_at = ? WHERE id = ?`);
  const touchOk = db.prepare(`UPDATE photos SET status = 'ok', updated_at = ? WHERE id = ?`);
  const setIssue = db.prepare(`INSERT INTO scan_issues (path, root_id, size, mtime_ms, reason, at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(path) DO UPDATE SET root_id = excluded.root_id, size = excluded.size, mtime_ms = excluded.mtime_ms,
      reason = excluded.reason, at = excluded.at`);
  const clearIssue = db.prepare('DELETE FROM scan_issues WHERE path = ?');
  return {
    photoByPath: (path) => byPath.get(path) as { id: number; size: number; mtimeMs: number; status: string; hash: string } | undefined,
    issueByPath: (path) => issueByPath.get(path) as { size: number | null; mtimeMs: number | null; reason: string } | undefined,
    photosByHash: (hash) => byHash.all(hash) as Array<{ id: number; path: string; status: string }>,
    insertPhoto: (p, at) => { insert.run(p.rootId, p.path, p.relPath, p.folder, p.size, p.mtimeMs, p.hash, p.width, p.height, p.format, p.orientation, p.takenAt, at, at); },
    updatePhoto: (id, p, at) => { update.run(p.rootId, p.path, p.relPath, p.folder, p.size, p.mtimeMs, p.hash, p.width, p.height, p.format, p.orientation, p.takenAt, at, id); },
    touchOk: (id, at) => { touchOk.run(at, id); },
    setIssue: (path, rootId, size, mtimeMs, reason, at) => { setIssue.run(path, rootId, size, mtimeMs, reason, at); },
    clearIssue: (path) => { clearIssue.run(path); },
  };
}

/**
 * After a complete walk of a folder (inside the caller's transaction): its readable photos the walk did not see
 * (`gone`) are marked missing, never deleted; its scan issues whose path is gone (`issueGone`) are dropped; the
 * folder's scan time is set. The number of photos marked missing.
 */
export function finishRootScan(db: Db, rootId: number, at: number, gone: (path: string) => boolean, issueGone: (path: string) => boolean): number {
  let missing = 0;
  const rows = db.prepare(`SELECT id, path FROM photos WHERE root_id = ? AND status = 'ok'`).all(rootId) as Array<{ id: number; path: string }>;
  const mark = db.prepare(`UPDATE photos SET status = 'missing', updated_at = ? WHERE id = ?`);
  for (const r of rows) if (gone(r.path)) { mark.run(at, r.id); missing++; }
  const issueRows = db.prepare('SELECT path FROM scan_issues WHERE root_id = ?').pluck().all(rootId) as string[];
  const drop = db.prepare('DELETE FROM scan_issues WHERE path = ?');
  for (const p of issueRows) if (issueGone(p)) drop.run(p);
  db.prepare('UPDATE roots SET last_scan_at = ? WHERE id = ?').run(at, rootId);
  return missing;
}

/** The readable photos of one folder (what a vanished folder still holds in the library). */
export function rootOkPhotoCount(db: Db, rootId: number): number {
  return db.prepare(`SELECT COUNT(*) FROM photos WHERE root_id = ? AND status = 'ok'`).pluck().get(rootId) as number;
}

/** The number of readable photos in the library. */
export function okPhotoCount(db: Db): number {
  return db.prepare(`SELECT COUNT(*) FROM photos WHERE status = 'ok'`).pluck().get() as number;
}
