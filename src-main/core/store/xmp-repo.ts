/** What XMP sidecars are written from and matched to: the named faces of a face run, the library's photos and their faces. The statements of core/xmp/sidecars.ts. */
import type { Db } from './db.ts';

/** A face with its photo (path and pixel size). */
export interface XmpFaceRow { photoId: number; path: string; pw: number; ph: number; faceId: number; x: number; y: number; w: number; h: number }

/** A run's id and kind; undefined: no such run. */
export function runKindRow(db: Db, runId: number): { id: number; kind: string } | undefined {
  return db.prepare('SELECT id, kind FROM runs WHERE id = ?').get(runId) as { id: number; kind: string } | undefined;
}

/** The faces of a run's clusters that have a name, on photos that are ok, by photo and face. */
export function namedRunFaces(db: Db, runId: number): Array<XmpFaceRow & { name: string }> {
  return db.prepare(`
    SELECT p.id AS photoId, p.path AS path, p.width AS pw, p.height AS ph, f.id AS faceId, f.x AS x, f.y AS y, f.w AS w, f.h AS h,
           c.name AS name
    FROM assignments a JOIN clusters c ON c.run_id = a.run_id AND c.cluster = a.cluster
    JOIN faces f ON f.id = a.item_id JOIN photos p ON p.id = f.photo_id
    WHERE a.run_id = ? AND a.cluster >= 0 AND c.name IS NOT NULL AND c.name != '' AND p.status = 'ok'
    ORDER BY p.id, f.id`).all(runId) as Array<XmpFaceRow & { name: string }>;
}

/** The photos that are ok, with their pixel sizes, by id. */
export function okPhotoSizes(db: Db): Array<{ id: number; path: string; pw: number; ph: number }> {
  return db.prepare(`SELECT id, path, width AS pw, height AS ph FROM photos WHERE status = 'ok' ORDER BY id`)
    .all() as Array<{ id: number; path: string; pw: number; ph: number }>;
}

/** Prepares once the reader of a photo's face boxes (by face id). */
export function photoFaceBoxes(db: Db): (photoId: number) => Array<{ faceId: number; x: number; y: number; w: number; h: number }> {
  const facesOf = db.prepare('SELECT id AS faceId, x, y, w, h FROM faces WHERE photo_id = ? ORDER BY id');
  return (photoId) => facesOf.all(photoId) as Array<{ faceId: number; x: number; y: number; w: number; h: number }>;
}
