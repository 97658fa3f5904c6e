/**
 * The embed repository: the statements of the embed job (the count it reports), of importing and exporting vectors
 * (a photo by path, a face by its box, an imported face, a vector written; the path and box of an exported item) and
 * of the embed worker (the processed marks, the vectors, a photo's detected faces kept, moved or dropped).
 * The statements of one import, export or worker batch are prepared once by the functions that return them.
 */
import type { Db } from './db.ts';

/** The number of stored vectors of a model. */
export function embeddingCount(db: Db, model: string): number {
  return db.prepare('SELECT COUNT(*) FROM embeddings WHERE model = ?').pluck().get(model) as number;
}

export interface ImportStatements {
  /** the readable photo at this path */
  photoByPath(path: string): number | undefined;
  /** a face of the photo whose box is within half a pixel of this one */
  findFace(photoId: number, x: number, y: number, w: number, h: number): number | undefined;
  /** a new face of an imported box; its id */
  insertImportedFace(photoId: number, x: number, y: number, w: number, h: number, createdAt: number): number;
  /** an item's vector (a raw blob) of a model, replacing the one it had */
  upsertVector(model: string, itemId: number, version: string, vec: Buffer): void;
}

export function importStatements(db: Db): ImportStatements {
  const photoByPath = db.prepare(`SELECT id FROM photos WHERE path = ? AND status = 'ok'`).pluck();
  const findFace = db.prepare('SELECT id FROM faces WHERE photo_id = ? AND abs(x - ?) < 0.5 AND abs(y - ?) < 0.5 AND abs(w - ?) < 0.5 AND abs(h - ?) < 0.5').pluck();
  const insFace = db.prepare(`INSERT INTO faces (photo_id, detector, x, y, w, h, score, created_at) VALUES (?, 'imported', ?, ?, ?, ?, 1, ?)`);
  const upsert = db.prepare(`INSERT INTO embeddings (model, item_id, version, vec) VALUES (?, ?, ?, ?)
    ON CONFLICT(model, item_id) DO UPDATE SET version = excluded.version, vec = excluded.vec`);
  return {
    photoByPath: (path) => photoByPath.get(path) as number | undefined,
    findFace: (photoId, x, y, w, h) => findFace.get(photoId, x, y, w, h) as number | undefined,
    insertImportedFace: (photoId, x, y, w, h, createdAt) => Number(insFace.run(photoId, x, y, w, h, createdAt).lastInsertRowid),
    upsertVector: (model, itemId, version, vec) => { upsert.run(model, itemId, version, vec); },
  };
}

export interface ExportStatements {
  photoPath(id: number): string;
  facePathAndBox(id: number): { path: string; x: number; y: number; w: number; h: number };
}

export function exportStatements(db: Db): ExportStatements {
  const photoQ = db.prepare('SELECT path FROM photos WHERE id = ?').pluck();
  const faceQ = db.prepare('SELECT p.path, f.x, f.y, f.w, f.h FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id = ?');
  return {
    photoPath: (id) => photoQ.get(id) as string,
    facePathAndBox: (id) => faceQ.get(id) as { path: string; x: number; y: number; w: number; h: number },
  };
}

export interface EmbedWriteStatements {
  /** a photo processed by a model (its hash then), its error cleared */
  markOk(model: string, photoId: number, version: string, hash: string): void;
  /** a photo a model failed on, with the reason */
  markBad(model: string, photoId: number, version: string, hash: string, reason: string): void;
  /** an item's vector (and its extra, raw blobs), replacing the one it had */
  upsertVector(model: string, itemId: number, version: string, vec: Buffer, extra: Buffer | null): void;
}

/** The embed worker's writes, prepared once per task. */
export function embedWriteStatements(db: Db): EmbedWriteStatements {
  const markOk = db.prepare(`INSERT INTO processed (model, photo_id, version, hash, error) VALUES (?, ?, ?, ?, NULL)
    ON CONFLICT(model, photo_id) DO UPDATE SET version = excluded.version, hash = excluded.hash, error = NULL`);
  const markBad = db.prepare(`INSERT INTO processed (model, photo_id, version, hash, error) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(model, photo_id) DO UPDATE SET version = excluded.version, hash = excluded.hash, error = excluded.error`);
  const upsertVec = db.prepare(`INSERT INTO embeddings (model, item_id, version, vec, extra) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(model, item_id) DO UPDATE SET version = excluded.version, vec = excluded.vec, extra = excluded.extra`);
  return {
    markOk: (model, photoId, version, hash) => { markOk.run(model, photoId, version, hash); },
    markBad: (model, photoId, version, hash, reason) => { markBad.run(model, photoId, version, hash, reason); },
    upsertVector: (model, itemId, version, vec, extra) => { upsertVec.run(model, itemId, version, vec, extra); },
  };
}

type Box = { x: number; y: number; w: number; h: number };

export interface DetectedFaceStatements {
  /** a photo's detected faces (not those drawn by hand), by id */
  oldFaces(photoId: number): Array<{ id: number } & Box>;
  /** the boxes marked "not a face" on a photo's content */
  notFaces(photoHash: string): Box[];
  /** an item's stored vector of a model (a raw blob) */
  oldVector(model: string, itemId: number): Buffer | undefined;
  /** deletes a face (its embeddings, labels and run assignments go with it through the library's triggers) */
  deleteFace(id: number): void;
  /** the face runs' groups a face is in */
  faceRunClusters(faceId: number): Array<{ runId: number; cluster: number }>;
  updateFace(id: number, box: Box, score: number, landmarks: Buffer, thumb: string): void;
  /** a new detected face; its id */
  insertFace(photoId: number, box: Box, score: number, landmarks: Buffer, thumb: string, createdAt: number): number;
}

/** The statements over a photo's detected faces, prepared once per task. */
export function detectedFaceStatements(db: Db): DetectedFaceStatements {
  // faces drawn by hand stay as they are (a re-embed neither matches nor removes them)
  const oldFaces = db.prepare('SELECT id, x, y, w, h FROM faces WHERE photo_id = ? AND manual = 0 ORDER BY id');
  const notFaces = db.prepare('SELECT x, y, w, h FROM not_faces WHERE photo_hash = ?');
  const oldVec = db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
  const delFace = db.prepare('DELETE FROM faces WHERE id = ?');
  const inRuns = db.prepare(`SELECT run_id AS runId, cluster FROM assignments WHERE item_id = ? AND run_id IN (SELECT id FROM runs WHERE kind = 'face')`);
  const updFace = db.prepare(`UPDATE faces SET detector = 'faceplugin-fr', x = ?, y = ?, w = ?, h = ?, score = ?, landmarks = ?, thumb = ? WHERE id = ?`);
  const insFace = db.prepare(`INSERT INTO faces (photo_id, detector, x, y, w, h, score, landmarks, thumb, created_at)
        VALUES (?, 'faceplugin-fr', ?, ?, ?, ?, ?, ?, ?, ?)`);
  return {
    oldFaces: (photoId) => oldFaces.all(photoId) as Array<{ id: number } & Box>,
    notFaces: (photoHash) => notFaces.all(photoHash) as Box[],
    oldVector: (model, itemId) => oldVec.get(model, itemId) as Buffer | undefined,
    deleteFace: (id) => { delFace.run(id); },
    faceRunClusters: (faceId) => inRuns.all(faceId) as Array<{ runId: number; cluster: number }>,
    updateFace: (id, b, score, landmarks, thumb) => { updFace.run(b.x, b.y, b.w, b.h, score, landmarks, thumb, id); },
    insertFace: (photoId, b, score, landmarks, thumb, createdAt) => Number(insFace.run(photoId, b.x, b.y, b.w, b.h, score, landmarks, thumb, createdAt).lastInsertRowid),
  };
}
