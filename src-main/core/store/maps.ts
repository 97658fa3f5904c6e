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

/* What a map is coloured by (core/map/fields.ts): each a Map from item id to one value, read in one statement. */

function byItem<T>(db: Db, sql: string, ...args: unknown[]): Map<number, T> {
  return new Map(db.prepare(sql).raw().all(...args) as Array<[number, T]>);
}

function photoCol(kind: string, col: 'folder'): string {
  return kind === 'photo' ? `SELECT id, ${col} FROM photos` : `SELECT f.id, p.${col} FROM faces f JOIN photos p ON p.id = f.photo_id`;
}

/** Each item's cluster in a run (noise included). */
export const runClusterByItem = (db: Db, runId: number | undefined): Map<number, number> => byItem<number>(db, 'SELECT item_id, cluster FROM assignments WHERE run_id = ?', runId);
/** Each cluster's name in a run. */
export const runClusterNames = (db: Db, runId: number | undefined): Map<number, string | null> => byItem<string | null>(db, 'SELECT cluster, name FROM clusters WHERE run_id = ?', runId);
/** Each clustered item's curated flag of its cluster in a run. */
export const runCuratedByItem = (db: Db, runId: number | undefined): Map<number, number> => byItem<number>(db, 'SELECT a.item_id, c.curated FROM assignments a JOIN clusters c ON c.run_id = a.run_id AND c.cluster = a.cluster WHERE a.run_id = ? AND a.cluster >= 0', runId);
/** Each item's folder (a face's: its photo's). */
export const folderByItem = (db: Db, kind: string): Map<number, string> => byItem<string>(db, photoCol(kind, 'folder'));
/** Each item's label of one source. */
export const labelByItem = (db: Db, kind: string, source: string): Map<number, string> => byItem<string>(db, 'SELECT item_id, label FROM labels WHERE kind = ? AND source = ?', kind, source);
/** Each clustered item's similarity in a run. */
export const runSimByItem = (db: Db, runId: number | undefined): Map<number, number | null> => byItem(db, 'SELECT item_id, sim FROM assignments WHERE run_id = ? AND cluster >= 0', runId);
/** Each face's detection score. */
export const faceScores = (db: Db): Map<number, number | null> => byItem(db, 'SELECT id, score FROM faces');
/** Each item's date as JSON text [taken_at, mtime_ms] (a face's: its photo's). */
export const dateByItem = (db: Db, kind: string): Map<number, string> => byItem<string>(db, kind === 'photo' ? 'SELECT id, json_array(taken_at, mtime_ms) FROM photos' : 'SELECT f.id, json_array(p.taken_at, p.mtime_ms) FROM faces f JOIN photos p ON p.id = f.photo_id');
