/** What exports and reports read of a run: its groups with their sizes and names, each group's items (with photo,
 * face box and vector), the stored samples of its clusters. The statements of core/export/items.ts and html.ts. */
import type { Statement } from 'better-sqlite3';
import type { ItemKind } from '../../common/types.ts';
import type { Db } from './db.ts';

/** A run's groups by current size (largest first), noise clusters last, with their names and curated flags. */
export function runGroupRows(db: Db, runId: number): Array<{ cluster: number; size: number; name: string | null; curated: number }> {
  return db.prepare(`
    SELECT a.cluster AS cluster, COUNT(*) AS size, c.name AS name, COALESCE(c.curated, 0) AS curated
    FROM assignments a LEFT JOIN clusters c ON c.run_id = a.run_id AND c.cluster = a.cluster
    WHERE a.run_id = ? GROUP BY a.cluster ORDER BY (a.cluster < 0), COUNT(*) DESC, a.cluster`).all(runId) as
    Array<{ cluster: number; size: number; name: string | null; curated: number }>;
}

function itemsSql(kind: ItemKind, noise: boolean): string {
  const where = noise ? 'a.run_id = ? AND a.cluster < 0' : 'a.run_id = ? AND a.cluster = ?';
  return kind === 'photo'
    ? `SELECT a.item_id AS item, a.cluster AS cluster, p.id AS photo, p.path AS path, p.hash AS hash, p.status AS status,
         NULL AS x, NULL AS y, NULL AS w, NULL AS h, NULL AS thumb, e.vec AS vec
       FROM assignments a LEFT JOIN photos p ON p.id = a.item_id
       LEFT JOIN embeddings e ON e.model = ? AND e.item_id = a.item_id
       WHERE ${where} ORDER BY a.item_id`
    : `SELECT a.item_id AS item, a.cluster AS cluster, p.id AS photo, p.path AS path, p.hash AS hash, p.status AS status,
         f.x AS x, f.y AS y, f.w AS w, f.h AS h, f.thumb AS thumb, e.vec AS vec
       FROM assignments a LEFT JOIN faces f ON f.id = a.item_id LEFT JOIN photos p ON p.id = f.photo_id
       LEFT JOIN embeddings e ON e.model = ? AND e.item_id = a.item_id
       WHERE ${where} ORDER BY a.item_id`;
}

/** An item of a run's group, with its photo (and face box), joined with its vector of the run's model. */
export type RunItemRow = { item: number; cluster: number; photo: number | null; path: string | null; hash: string | null; status: string | null;
  x: number | null; y: number | null; w: number | null; h: number | null; thumb: string | null; vec: Buffer | null };

/** The statement of a group's items (by item id): bound (model, runId, cluster), or (model, runId) for noise. */
export function prepareRunItems(db: Db, kind: ItemKind, noise: boolean): Statement<unknown[]> {
  return db.prepare<unknown[]>(itemsSql(kind, noise));
}

/** Each cluster row's stored samples (JSON text) and mean similarity, of a run. */
export function clusterSampleRows(db: Db, runId: number): Iterable<{ cluster: number; top: string; tail: string; mean_sim: number | null }> {
  return db.prepare('SELECT cluster, top, tail, mean_sim FROM clusters WHERE run_id = ?').iterate(runId) as Iterable<{ cluster: number; top: string; tail: string; mean_sim: number | null }>;
}

/** Prepares once the readers of a sample's photo (path, hash) and a sample's face (with its photo's path and hash). */
export function sampleReaders(db: Db): {
  photo: (id: number) => { path: string; hash: string } | undefined;
  face: (id: number) => { path: string; hash: string; x: number; y: number; w: number; h: number; thumb: string | null } | undefined;
} {
  const photoQ = db.prepare('SELECT path, hash FROM photos WHERE id = ?');
  const faceQ = db.prepare('SELECT p.path, p.hash, f.x, f.y, f.w, f.h, f.thumb FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id = ?');
  return {
    photo: (id) => photoQ.get(id) as { path: string; hash: string } | undefined,
    face: (id) => faceQ.get(id) as { path: string; hash: string; x: number; y: number; w: number; h: number; thumb: string | null } | undefined,
  };
}

/** Records a finished export of a run; returns its id. */
export function insertExportRow(db: Db, runId: number, dir: string, format: string, count: number, createdAt: number): number {
  return Number(db.prepare('INSERT INTO exports (run_id, dir, format, count, created_at) VALUES (?, ?, ?, ?, ?)')
    .run(runId, dir, format, count, createdAt).lastInsertRowid);
}

/** Opens one read transaction on a connection and reads once, so its snapshot starts now (throws as the reads do). */
export function beginReadSnapshot(db: Db): void {
  db.exec('BEGIN');
  db.prepare('SELECT COUNT(*) FROM runs').get(); // the snapshot starts at the first read
}

/** Ends the read transaction of beginReadSnapshot (an error, e.g. none open, is ignored). */
export function endReadSnapshot(db: Db): void {
  try { db.exec('COMMIT'); } catch { /* ignore */ }
}
