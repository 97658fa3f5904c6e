/** The faces repository: the SQL over `faces` that drawing a face by hand needs. */
import { faceThumbKey } from '../../common/thumbs.ts';
import type { Db } from './db.ts';
import { vecBlob } from './embeddings.ts';

export interface FacePhotoRow { id: number; path: string; hash: string; width: number; height: number }

/** The photo a face is drawn on (undefined: no such photo). */
export function facePhoto(db: Db, photoId: number): FacePhotoRow | undefined {
  return db.prepare('SELECT id, path, hash, width, height FROM photos WHERE id = ?').get(photoId) as FacePhotoRow | undefined;
}

/** The version of the library's face model (undefined: no face embeddings yet). */
export function faceModelVersion(db: Db): string | undefined {
  return db.prepare(`SELECT version FROM models WHERE name = 'face'`).pluck().get() as string | undefined;
}

/**
 * Stores a hand-drawn face in one transaction: the face row (flagged manual), its thumbnail key (the photo's hash and
 * thumbBase + its id) and its 'face' embedding of the given model version. Returns the face's id.
 */
export function insertManualFace(db: Db, f: {
  photo: { id: number; hash: string }; box: { x: number; y: number; width: number; height: number };
  landmarks: Float32Array; embedding: Float32Array; model: string; thumbBase: number;
}): number {
  return db.transaction(() => {
    const fid = Number(db.prepare(`INSERT INTO faces (photo_id, detector, x, y, w, h, score, landmarks, thumb, created_at, manual) VALUES (?, 'manual', ?, ?, ?, ?, 1, ?, NULL, ?, 1)`)
      .run(f.photo.id, f.box.x, f.box.y, f.box.width, f.box.height, vecBlob(f.landmarks), Date.now()).lastInsertRowid);
    db.prepare('UPDATE faces SET thumb = ? WHERE id = ?').run(faceThumbKey(f.photo.hash, f.thumbBase + fid), fid);
    db.prepare('INSERT INTO embeddings (model, item_id, version, vec, extra) VALUES (?, ?, ?, ?, ?)').run('face', fid, f.model, vecBlob(f.embedding), JSON.stringify({ manual: true }));
    return fid;
  }).immediate();
}

export interface FaceFolderVectorRow { folder: string; vec: Buffer }

/**
 * The stored faces of a model with their photo's folder (the path up to its last separator, which is kept) and their
 * vector, folder by folder; faces drawn by hand are left out (they are the user's, not the detector's).
 */
export function faceVectorsByFolder(db: Db, model: string): FaceFolderVectorRow[] {
  return db.prepare(`SELECT rtrim(p.path, replace(replace(p.path, '/', ''), '\\', '')) AS folder, e.vec AS vec
    FROM faces f JOIN photos p ON p.id = f.photo_id JOIN embeddings e ON e.model = ? AND e.item_id = f.id
    WHERE f.manual = 0 ORDER BY folder, f.id`).all(model) as FaceFolderVectorRow[];
}
