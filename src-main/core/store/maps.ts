/** The maps table (one row per computed map: its setting, item ids and coordinates as blobs). The statements of core/map/maps.ts. */
import type { Db } from './db.ts';

export interface MapRow { id: number; model: string; method: string; params: string; n: number; created_at: number }
export type MapDataRow = MapRow & { ids: Buffer; xy: Buffer };
export interface NewMapRow { model: string; method: string; params: string; n: number; ids: Buffer; xy: Buffer; createdAt: number }

/** Prepares the insert once (before the caller's transaction); returns the writer of one row (its new id). */
export function mapInserter(db: Db): (m: NewMapRow) => number {
  const insert = db.prepare('INSERT INTO maps (model, method, params, n, ids, xy, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  return (m) => Number(insert.run(m.model, m.method, m.params, m.n, m.ids, m.xy, m.createdAt).lastInsertRowid);
}

export function deleteMap(db: Db, id: number): void {
  db.prepare('DELETE FROM maps WHERE id = ?').run(id);
}

export function mapRow(db: Db, id: number): MapRow | undefined {
  return db.prepare('SELECT id, model, method, params, n, created_at FROM maps WHERE id = ?').get(id) as MapRow | undefined;
}

/** All maps, newest first. */
export function mapRows(db: Db): MapRow[] {
  return db.prepare('SELECT id, model, method, params, n, created_at FROM maps ORDER BY id DESC').all() as MapRow[];
}

/** A map with its coordinates, by id. */
export function mapDataById(db: Db, id: number): MapDataRow | undefined {
  return db.prepare('SELECT * FROM maps WHERE id = ?').get(id) as MapDataRow | undefined;
}

/** The newest map of a model (and method, when given), with its coordinates. */
export function newestMapData(db: Db, model: string, method: string | null): MapDataRow | undefined {
  return db.prepare(`SELECT * FROM maps WHERE model = ? AND (? IS NULL OR method = ?) ORDER BY id DESC LIMIT 1`).get(model, method, method) as MapDataRow | undefined;
}

/** The item kind of a model, undefined when the model is not registered. */
export function modelKindOf(db: Db, model: string): string | undefined {
  return db.prepare('SELECT kind FROM models WHERE name = ?').pluck().get(model) as string | undefined;
}
