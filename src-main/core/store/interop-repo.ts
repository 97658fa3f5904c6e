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
