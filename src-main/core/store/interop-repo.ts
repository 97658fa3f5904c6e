/**
 * What interop reads and writes of the library: the items of an embeddings file or job bundle (path, hash, face box),
 * matching imported rows to photos and faces, storing imported vectors and faces, naming clusters from a file.
 * The statements of core/interop/export.ts and import.ts.
 */
import type { Db } from './db.ts';

/** Prepares once the readers of an item's photo (path, hash) and a face's box with its photo's path and hash. */
export function itemFileReaders(db: Db): {
  photo: (id: number) => { path: string; hash: string } | undefined;
  face: (id: number) => { path: string; hash: string; x: number; y: number; w: number; h: number } | undefined;
} {
  const photoQ = db.prepare('SELECT path, hash FROM photos WHERE id = ?');
  const faceQ = db.prepare('SELECT p.path, p.hash, f.x, f.y, f.w, f.h FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id = ?');
  return {
    photo: (id) => photoQ.get(id) as { path: string; hash: string } | undefined,
    face: (id) => faceQ.get(id) as { path: string; hash: string; x: number; y: number; w: number; h: number } | undefined,
  };
}

/** An item of a job bundle: a photo, or a face with its box and landmarks. */
export type BundleItemRow = { id: number; path: string; hash: string; x?: number; y?: number; w?: number; h?: number; landmarks?: Buffer | null };

/** The items a job bundle embeds: the photos that are ok, or the faces (with landmarks) on them, by id. */
export function bundleItemRows(db: Db, kind: string): BundleItemRow[] {
  return kind === 'photo'
    ? db.prepare(`SELECT id, path, hash FROM photos WHERE status = 'ok' ORDER BY id`).all() as BundleItemRow[]
    : db.prepare(`SELECT f.id, p.path, p.hash, f.x, f.y, f.w, f.h, f.landmarks FROM faces f JOIN photos p ON p.id = f.photo_id
        WHERE p.status = 'ok' AND f.landmarks IS NOT NULL ORDER BY f.id`).all() as BundleItemRow[];
}

/** Prepares once the lookups that match an imported row to the library: a photo by path or by hash (ok photos only),
 * a face of a photo by its box (each side within half a pixel), and which of a batch's photo or face ids exist. */
export function itemMatchers(db: Db): {
  photoByPath: (path: string) => number | undefined;
  photoByHash: (hash: string) => number | undefined;
  findFace: (photo: number, x: number, y: number, w: number, h: number) => number | undefined;
  photosIn: (ids: number[]) => number[];
  facesIn: (ids: number[]) => number[];
} {
  const photoByPath = db.prepare(`SELECT id FROM photos WHERE path = ? AND status = 'ok'`).pluck();
  const photoByHash = db.prepare(`SELECT id FROM photos WHERE hash = ? AND status = 'ok' ORDER BY id LIMIT 1`).pluck();
  const findFace = db.prepare('SELECT id FROM faces WHERE photo_id = ? AND abs(x - ?) < 0.5 AND abs(y - ?) < 0.5 AND abs(w - ?) < 0.5 AND abs(h - ?) < 0.5').pluck();
  // item ids: the ids of one batch looked up in one query per kind (not one per row: 1,000,000 rows, BENCHMARKS.md)
  const photosIn = db.prepare(`SELECT id FROM photos WHERE status = 'ok' AND id IN (SELECT value FROM json_each(?))`).pluck();
  const facesIn = db.prepare('SELECT id FROM faces WHERE id IN (SELECT value FROM json_each(?))').pluck();
  return {
    photoByPath: (path) => photoByPath.get(path) as number | undefined,
    photoByHash: (hash) => photoByHash.get(hash) as number | undefined,
    findFace: (photo, x, y, w, h) => findFace.get(photo, x, y, w, h) as number | undefined,
    photosIn: (ids) => photosIn.all(JSON.stringify(ids)) as number[],
    facesIn: (ids) => facesIn.all(JSON.stringify(ids)) as number[],
  };
}

/** Prepares once the writers of an embeddings import: a face an imported row boxes (returns its id), and an item's
 * vector (replacing the model's old one). The caller holds the transaction. */
export function importWriters(db: Db): {
  insertFace: (photo: number, x: number, y: number, w: number, h: number, createdAt: number) => number;
  upsertVec: (model: string, item: number, version: string, vec: Buffer) => void;
} {
  const insFace = db.prepare(`INSERT INTO faces (photo_id, detector, x, y, w, h, score, created_at) VALUES (?, 'imported', ?, ?, ?, ?, 1, ?)`);
  const upsert = db.prepare(`INSERT INTO embeddings (model, item_id, version, vec) VALUES (?, ?, ?, ?)
      ON CONFLICT(model, item_id) DO UPDATE SET version = excluded.version, vec = excluded.vec`);
  return {
    insertFace: (photo, x, y, w, h, createdAt) => Number(insFace.run(photo, x, y, w, h, createdAt).lastInsertRowid),
    upsertVec: (model, item, version, vec) => { upsert.run(model, item, version, vec); },
  };
}

/** Names a run's clusters that have no name yet, in one transaction; returns how many were named. */
export function nameUnnamedClusters(db: Db, runId: number, names: Iterable<[number, string]>): number {
  let named = 0;
  const set = db.prepare('UPDATE clusters SET name = ? WHERE run_id = ? AND cluster = ? AND name IS NULL');
  db.transaction(() => { for (const [c, nm] of names) named += set.run(nm, runId, c).changes; })();
  return named;
}
