/**
 * The check repository: the read-only statements of `constellate check` (SQLite's own checks, the item identity
 * rules, cluster summaries against their assignments, stored map points, thumbnail keys) and of its file checks
 * (stored vectors, the rows a backup holds).
 */
import type { Db } from './db.ts';
import type { ItemKind } from '../../common/types.ts';

const EXISTS_FOR = (kindCol: string, idCol: string) => `(
  (${kindCol} = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = ${idCol})) OR
  (${kindCol} = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = ${idCol})))`;

/** What the rows say about themselves; check turns each count into a problem. */
export interface RowCheckCounts {
  /** integrity_check's messages other than 'ok' */
  integrity: string[];
  /** foreign_key_check's rows as `table -> parent` */
  foreignKeys: Array<{ table: string; parent: string }>;
  danglingEmbeddings: number;
  danglingLabels: number;
  danglingAssignments: number;
  runsMissingItems: number[];
  orphanFaces: number;
  orphanPhotos: number;
  reusedAssignments: number;
  /** per table of roots/photos/faces: whether its ids are AUTOINCREMENT, its sequence (null: none) and its highest id */
  ids: Array<{ table: string; autoincrement: boolean; seq: number | undefined; max: number }>;
  clusterSizes: number;
  clusterSamples: number;
  mapPoints: number;
}

export function rowCheckCounts(db: Db): RowCheckCounts {
  const one = (sql: string) => (db.prepare(sql).pluck().get() as number | null) ?? 0;
  const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).filter((m) => m !== 'ok');
  const foreignKeys = db.pragma('foreign_key_check') as Array<{ table: string; parent: string }>;
  const danglingEmbeddings = one(`SELECT COUNT(*) FROM embeddings e LEFT JOIN models m ON m.name = e.model WHERE m.name IS NULL OR NOT ${EXISTS_FOR('m.kind', 'e.item_id')}`);
  const danglingLabels = one(`SELECT COUNT(*) FROM labels l WHERE NOT ${EXISTS_FOR('l.kind', 'l.item_id')}`);
  const danglingAssignments = one(`SELECT COUNT(*) FROM assignments a LEFT JOIN runs r ON r.id = a.run_id WHERE r.id IS NULL OR NOT ${EXISTS_FOR('r.kind', 'a.item_id')}`);
  const runsMissingItems = db.prepare(`SELECT DISTINCT a.run_id FROM assignments a JOIN runs r ON r.id = a.run_id WHERE NOT ${EXISTS_FOR('r.kind', 'a.item_id')} ORDER BY 1`).pluck().all() as number[];
  const orphanFaces = one('SELECT COUNT(*) FROM faces f WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.id = f.photo_id)');
  const orphanPhotos = one('SELECT COUNT(*) FROM photos p WHERE NOT EXISTS (SELECT 1 FROM roots r WHERE r.id = p.root_id)');
  // a run's item that was added after the run was made is another item under a reused id
  // (an item assign added to the run later is compared with the time it was added)
  const reusedAssignments = one(`SELECT COUNT(*) FROM assignments a JOIN runs r ON r.id = a.run_id WHERE
      (r.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = a.item_id AND p.added_at > COALESCE(a.added_at, r.created_at))) OR
      (r.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = a.item_id AND f.created_at > COALESCE(a.added_at, r.created_at)))`);
  const ids: RowCheckCounts['ids'] = [];
  for (const t of ['roots', 'photos', 'faces']) {
    const autoincrement = one(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '${t}' AND sql LIKE '%AUTOINCREMENT%'`) !== 0;
    const seq = db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = ?`).pluck().get(t) as number | undefined;
    const max = one(`SELECT MAX(id) FROM ${t}`);
    ids.push({ table: t, autoincrement, seq, max });
  }

  // cluster summaries against the assignments they summarize
  const clusterSizes = one(`SELECT COUNT(*) FROM clusters c WHERE c.size != (SELECT COUNT(*) FROM assignments a WHERE a.run_id = c.run_id AND a.cluster = c.cluster)`);
  let clusterSamples = 0;
  const members = db.prepare('SELECT 1 FROM assignments WHERE run_id = ? AND item_id = ? AND cluster = ?').pluck();
  for (const c of db.prepare('SELECT run_id AS runId, cluster, top, tail FROM clusters').iterate() as Iterable<{ runId: number; cluster: number; top: string; tail: string }>) {
    for (const s of [...JSON.parse(c.top), ...JSON.parse(c.tail)] as Array<{ item: number }>) {
      if (members.get(c.runId, s.item, c.cluster) === undefined) clusterSamples++;
    }
  }

  let mapPoints = 0;
  const exists = { photo: db.prepare('SELECT 1 FROM photos WHERE id = ?').pluck(), face: db.prepare('SELECT 1 FROM faces WHERE id = ?').pluck() };
  for (const m of db.prepare('SELECT m.ids, md.kind FROM maps m JOIN models md ON md.name = m.model').iterate() as Iterable<{ ids: Buffer; kind: ItemKind }>) {
    const mids = new Int32Array(new Uint8Array(m.ids).buffer);
    for (const i of mids) if (exists[m.kind].get(i) === undefined) mapPoints++;
  }
  return {
    integrity, foreignKeys, danglingEmbeddings, danglingLabels, danglingAssignments, runsMissingItems, orphanFaces, orphanPhotos,
    reusedAssignments, ids, clusterSizes, clusterSamples, mapPoints,
  };
}

/** The distinct thumbnail hashes of the photos that were read. */
export function okPhotoHashes(db: Db): Iterable<string> {
  return db.prepare(`SELECT DISTINCT hash FROM photos WHERE status = 'ok'`).pluck().iterate() as Iterable<string>;
}

/** The thumbnail keys of the faces that have one. */
export function faceThumbKeys(db: Db): Iterable<string> {
  return db.prepare('SELECT thumb FROM faces WHERE thumb IS NOT NULL').pluck().iterate() as Iterable<string>;
}

/** The paths of the photos that were read. */
export function okPhotoPaths(db: Db): Iterable<string> {
  return db.prepare(`SELECT path FROM photos WHERE status = 'ok'`).pluck().iterate() as Iterable<string>;
}

/** The names of the models, by name. */
export function modelNames(db: Db): string[] {
  return db.prepare('SELECT name FROM models ORDER BY name').pluck().all() as string[];
}

/** The stored vectors (raw blobs) of one model. */
export function modelVectorBlobs(db: Db, model: string): Iterable<Buffer> {
  return db.prepare('SELECT vec FROM embeddings WHERE model = ?').pluck().iterate(model) as Iterable<Buffer>;
}

/** How many photos and runs a library (or a backup opened read-only) holds. */
export function photoAndRunCounts(db: Db): { photos: number; runs: number } {
  const photos = db.prepare('SELECT COUNT(*) FROM photos').pluck().get() as number;
  const runs = db.prepare('SELECT COUNT(*) FROM runs').pluck().get() as number;
  return { photos, runs };
}

/** Per run: members whose item exists but holds no vector of the run's model (each edit, split or suggestion over them fails). */
export function membersWithoutVectors(db: Db): Array<{ runId: number; model: string; count: number }> {
  return db.prepare(`SELECT a.run_id AS runId, r.model AS model, COUNT(*) AS count FROM assignments a JOIN runs r ON r.id = a.run_id
    WHERE ${EXISTS_FOR('r.kind', 'a.item_id')} AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model = r.model AND e.item_id = a.item_id)
    GROUP BY a.run_id, r.model ORDER BY a.run_id`).all() as Array<{ runId: number; model: string; count: number }>;
}
