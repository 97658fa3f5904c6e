/**
 * The embeddings repository: float32 BLOBs keyed by (model, item), with the model's version and revision (bumped by
 * every write: the services' matrix cache is keyed by it); photos a model has processed (found faces or not, failed
 * or not) are recorded so that a re-run embeds only what is new or changed; "the vectors of these item ids" is
 * `vectorsOf`.
 */
import Database from 'better-sqlite3';
import { AppError } from '../../common/errors.ts';
import type { ItemKind } from '../../common/types.ts';
import type { Db } from './db.ts';
import type { MODEL_SOURCES } from '../../common/schema-kit.ts';

export interface ModelRow {
  name: string;
  kind: ItemKind;
  dim: number;
  version: string;
  source: (typeof MODEL_SOURCES)[number];
  info?: Record<string, unknown>;
}

export function ensureModel(db: Db, m: ModelRow): void {
  const cur = db.prepare('SELECT kind, dim FROM models WHERE name = ?').get(m.name) as { kind: string; dim: number } | undefined;
  if (cur && (cur.kind !== m.kind || cur.dim !== m.dim)) {
    throw new AppError('CONFLICT', `model ${m.name}: the library already has ${cur.kind} embeddings of ${cur.dim} dimensions under this name; choose another name`);
  }
  db.prepare(`INSERT INTO models (name, kind, dim, version, source, info) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT(name) DO UPDATE SET version = excluded.version, source = excluded.source, info = excluded.info`)
    .run(m.name, m.kind, m.dim, m.version, m.source, JSON.stringify(m.info ?? {}));
}

export function getModel(db: Db, name: string): ModelRow {
  const r = db.prepare('SELECT name, kind, dim, version, source, info FROM models WHERE name = ?').get(name) as (ModelRow & { info: string }) | undefined;
  if (!r) {
    const known = (db.prepare('SELECT name FROM models ORDER BY name').pluck().all() as string[]).join(', ') || 'none yet';
    throw new AppError('NOT_FOUND', `model ${JSON.stringify(name)}: no embeddings in this library (models: ${known}); run constellate embed --model ${name} first`);
  }
  return { ...r, info: JSON.parse(r.info) };
}

/** Photos that the model has not processed yet at this version, or whose content changed since. */
export function pendingPhotos(db: Db, model: string, version: string): Array<{ id: number; path: string; hash: string }> {
  return db.prepare(`
    SELECT p.id, p.path, p.hash FROM photos p
    LEFT JOIN processed pr ON pr.model = ? AND pr.photo_id = p.id
    WHERE p.status = 'ok' AND (pr.photo_id IS NULL OR pr.version != ? OR pr.hash != p.hash
      -- a failure to read the file (gone for a moment, permission, timeout) is tried again; a bad image is not
      OR (pr.error IS NOT NULL AND (pr.error LIKE '%: file not found' OR pr.error LIKE '%: cannot read (%')))
    ORDER BY p.id`).all(model, version) as Array<{ id: number; path: string; hash: string }>;
}

export function vecBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function blobVec(b: Buffer, dim: number, name = 'embedding'): Float32Array {
  if (b.byteLength !== dim * 4) throw new AppError('LIBRARY_CORRUPT', `${name}: stored vector has ${b.byteLength / 4} values, expected ${dim}`);
  const out = new Float32Array(dim);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export interface LoadedMatrix {
  model: ModelRow;
  /** item ids (photo ids or face ids) in row order */
  ids: Int32Array;
  /** n x d, row-major, in shared memory so workers use it without a copy */
  X: Float32Array;
  n: number;
  d: number;
}

/** All embeddings of a model as one shared matrix (rows ordered by item id). */
export function loadMatrix(db: Db, modelName: string): LoadedMatrix {
  const model = getModel(db, modelName);
  const d = model.dim;
  const n = db.prepare('SELECT COUNT(*) FROM embeddings WHERE model = ?').pluck().get(modelName) as number;
  if (n === 0) throw new AppError('NOT_FOUND', `model ${modelName}: no embeddings yet; run constellate embed --model ${modelName}`);
  const X = new Float32Array(new SharedArrayBuffer(n * d * 4));
  const ids = new Int32Array(n);
  const bytes = new Uint8Array(X.buffer);
  let i = 0;
  for (const r of db.prepare('SELECT item_id, vec FROM embeddings WHERE model = ? ORDER BY item_id').iterate(modelName) as Iterable<{ item_id: number; vec: Buffer }>) {
    if (i >= n) break;
    if (r.vec.byteLength !== d * 4) throw new AppError('LIBRARY_CORRUPT', `model ${modelName}: item ${r.item_id} has a vector of ${r.vec.byteLength / 4} values, expected ${d}`);
    bytes.set(r.vec, i * d * 4);
    ids[i++] = r.item_id;
  }
  return { model, ids: ids.subarray(0, i), X: X.subarray(0, i * d), n: i, d };
}

/** Opens the library file from a worker thread (no migrations: the main thread did them). */
export function openWorkerDb(path: string): Db {
  const db = new Database(path, { fileMustExist: true });
  db.pragma('busy_timeout = 30000');
  db.pragma('foreign_keys = ON');
  return db;
}

/** The photo each item belongs to, and its folder name (the label for --labels folders). */
export function itemSources(db: Db, kind: ItemKind, ids: Int32Array): { photoIds: Int32Array; folders: string[]; paths: string[] } {
  const q = kind === 'photo'
    ? db.prepare('SELECT id AS photo, folder, path FROM photos WHERE id = ?')
    : db.prepare('SELECT p.id AS photo, p.folder, p.path FROM faces f JOIN photos p ON p.id = f.photo_id WHERE f.id = ?');
  const photoIds = new Int32Array(ids.length);
  const folders: string[] = new Array(ids.length);
  const paths: string[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const r = q.get(ids[i]) as { photo: number; folder: string; path: string } | undefined;
    photoIds[i] = r?.photo ?? -1;
    folders[i] = r?.folder ?? '';
    paths[i] = r?.path ?? '';
  }
  return { photoIds, folders, paths };
}

/** A model's revision (bumped by every write of its embeddings); undefined: no such model. */
export function modelRevision(db: Db, model: string): number | undefined {
  return db.prepare('SELECT revision FROM models WHERE name = ?').pluck().get(model) as number | undefined;
}

/** How many items a model has embeddings of. */
export function embeddingCount(db: Db, model: string): number {
  return db.prepare('SELECT COUNT(*) FROM embeddings WHERE model = ?').pluck().get(model) as number;
}

/**
 * The vectors of these item ids under a model, one row each in id order (in shared memory with `shared`, so workers
 * read them without a copy). An item without an embedding: a zero row, or NOT_FOUND naming it with `strict`.
 */
export function vectorsOf(db: Db, model: string, ids: ArrayLike<number>, d: number, opts: { shared?: boolean; strict?: boolean } = {}): Float32Array {
  const X = new Float32Array(opts.shared ? new SharedArrayBuffer(ids.length * d * 4) : new ArrayBuffer(ids.length * d * 4));
  const bytes = new Uint8Array(X.buffer);
  const q = db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
  for (let i = 0; i < ids.length; i++) {
    const b = q.get(model, ids[i]) as Buffer | undefined;
    if (!b) {
      if (opts.strict) throw new AppError('NOT_FOUND', `item ${ids[i]} has no ${model} embedding`);
      continue;
    }
    if (b.byteLength !== d * 4) throw new AppError('LIBRARY_CORRUPT', `embedding: stored vector has ${b.byteLength / 4} values, expected ${d}`);
    bytes.set(b, i * d * 4);
  }
  return X;
}

/** The photos a model failed on, with why (the first `limit`, by model and path). */
export function embedFailures(db: Db, limit = 5000): Array<{ model: string; path: string; reason: string }> {
  return db.prepare(`SELECT pr.model, p.path, pr.error AS reason FROM processed pr
    JOIN photos p ON p.id = pr.photo_id WHERE pr.error IS NOT NULL ORDER BY pr.model, p.path LIMIT ?`).all(limit) as Array<{ model: string; path: string; reason: string }>;
}

/** A model's source and its stored info (JSON text); undefined: no such model. */
export function modelSourceInfo(db: Db, model: string): { source: string; info: string } | undefined {
  return db.prepare('SELECT source, info FROM models WHERE name = ?').get(model) as { source: string; info: string } | undefined;
}

/** Each item's label (an imported one first), null where it has none. */
export function itemLabels(db: Db, kind: ItemKind, ids: ArrayLike<number>): Array<string | null> {
  const q = db.prepare(`SELECT label FROM labels WHERE kind = ? AND item_id = ? ORDER BY source = 'import' DESC LIMIT 1`).pluck();
  return Array.from(ids, (id) => (q.get(kind, id) as string | undefined) ?? null);
}

/** Prepares once a reader of a model's vectors for a list of items (in no set order; items without a vector are skipped). */
export function embeddingRowsReader(db: Db): (model: string, items: number[]) => Iterable<{ item_id: number; vec: Buffer }> {
  const stmt = db.prepare(`SELECT item_id, vec FROM embeddings WHERE model = ? AND item_id IN (SELECT value FROM json_each(?))`);
  return (model, items) => stmt.iterate(model, JSON.stringify(items)) as Iterable<{ item_id: number; vec: Buffer }>;
}

/** A reader of one item's stored vector blob of a model (prepared once): undefined when it has none. */
export function vectorBlobReader(db: Db): (model: string, itemId: number) => Buffer | undefined {
  const vq = db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
  return (model, itemId) => vq.get(model, itemId) as Buffer | undefined;
}
