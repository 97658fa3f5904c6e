/**
 * `constellate check` (as `git fsck`): what the library file says about itself. SQLite's integrity check and foreign
 * keys, then the item identity rules the triggers keep (nothing names a photo or face that does not exist, no id was
 * given out twice), cluster summaries against their assignments, and the thumbnails the views need.
 */
import { existsSync } from 'node:fs';
import type { CheckProblem, CheckReport } from '../common/types.ts';
import { fileProblems } from './check-files.ts';
import type { Library } from './library.ts';

const EXISTS_FOR = (kindCol: string, idCol: string) => `(
  (${kindCol} = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = ${idCol})) OR
  (${kindCol} = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = ${idCol})))`;

export function checkLibrary(lib: Library): CheckReport {
  const db = lib.db;
  const problems: CheckProblem[] = [];
  const add = (kind: string, count: number, message: string) => { if (count > 0) problems.push({ kind, message, count }); };
  const one = (sql: string) => (db.prepare(sql).pluck().get() as number | null) ?? 0;

  const integrity = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
  const bad = integrity.map((r) => r.integrity_check).filter((m) => m !== 'ok');
  add('integrity', bad.length, `SQLite integrity_check: ${bad.slice(0, 3).join('; ')}`);
  const fks = db.pragma('foreign_key_check') as Array<{ table: string; parent: string }>;
  const fkTables = [...new Set(fks.map((f) => `${f.table} -> ${f.parent}`))];
  add('foreign-key', fks.length, `rows pointing at nothing: ${fkTables.join(', ')}`);

  add('dangling-embedding', one(`SELECT COUNT(*) FROM embeddings e LEFT JOIN models m ON m.name = e.model WHERE m.name IS NULL OR NOT ${EXISTS_FOR('m.kind', 'e.item_id')}`),
    'embeddings of photos or faces that do not exist');
  add('dangling-label', one(`SELECT COUNT(*) FROM labels l WHERE NOT ${EXISTS_FOR('l.kind', 'l.item_id')}`),
    'labels of photos or faces that do not exist');
  add('dangling-assignment', one(`SELECT COUNT(*) FROM assignments a LEFT JOIN runs r ON r.id = a.run_id WHERE r.id IS NULL OR NOT ${EXISTS_FOR('r.kind', 'a.item_id')}`),
    'run assignments of photos or faces that do not exist');
  const runsMissing = db.prepare(`SELECT DISTINCT a.run_id FROM assignments a JOIN runs r ON r.id = a.run_id WHERE NOT ${EXISTS_FOR('r.kind', 'a.item_id')} ORDER BY 1`).pluck().all() as number[];
  add('run-missing-items', runsMissing.length, `runs whose assignments point at missing items: ${runsMissing.slice(0, 20).join(', ')}`);
  add('orphan-face', one('SELECT COUNT(*) FROM faces f WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.id = f.photo_id)'), 'faces of photos that do not exist');
  add('orphan-photo', one('SELECT COUNT(*) FROM photos p WHERE NOT EXISTS (SELECT 1 FROM roots r WHERE r.id = p.root_id)'), 'photos of folders that are not in the library');

  // a run's item that was added after the run was made is another item under a reused id
  // (an item assign added to the run later is compared with the time it was added)
  add('reused-id', one(`SELECT COUNT(*) FROM assignments a JOIN runs r ON r.id = a.run_id WHERE
      (r.kind = 'photo' AND EXISTS (SELECT 1 FROM photos p WHERE p.id = a.item_id AND p.added_at > COALESCE(a.added_at, r.created_at))) OR
      (r.kind = 'face' AND EXISTS (SELECT 1 FROM faces f WHERE f.id = a.item_id AND f.created_at > COALESCE(a.added_at, r.created_at)))`),
    'run assignments naming an item added after the run (an id given out again)');
  for (const t of ['roots', 'photos', 'faces']) {
    const sql = one(`SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '${t}' AND sql LIKE '%AUTOINCREMENT%'`);
    add('reused-id', sql === 0 ? 1 : 0, `${t}: ids are not AUTOINCREMENT (a freed id would be given out again)`);
    const seq = db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = ?`).pluck().get(t) as number | undefined;
    const max = one(`SELECT MAX(id) FROM ${t}`);
    add('reused-id', max > (seq ?? 0) ? 1 : 0, `${t}: the highest id (${max}) is above the id sequence (${seq ?? 0})`);
  }

  // cluster summaries against the assignments they summarize
  add('cluster-size', one(`SELECT COUNT(*) FROM clusters c WHERE c.size != (SELECT COUNT(*) FROM assignments a WHERE a.run_id = c.run_id AND a.cluster = c.cluster)`),
    'groups whose size is not their number of members');
  let samples = 0;
  const members = db.prepare('SELECT 1 FROM assignments WHERE run_id = ? AND item_id = ? AND cluster = ?').pluck();
  for (const c of db.prepare('SELECT run_id AS runId, cluster, top, tail FROM clusters').iterate() as Iterable<{ runId: number; cluster: number; top: string; tail: string }>) {
    for (const s of [...JSON.parse(c.top), ...JSON.parse(c.tail)] as Array<{ item: number }>) {
      if (members.get(c.runId, s.item, c.cluster) === undefined) samples++;
    }
  }
  add('cluster-sample', samples, 'group samples (top/tail) naming items that are not in the group');

  let mapPoints = 0;
  const exists = { photo: db.prepare('SELECT 1 FROM photos WHERE id = ?').pluck(), face: db.prepare('SELECT 1 FROM faces WHERE id = ?').pluck() };
  for (const m of db.prepare('SELECT m.ids, md.kind FROM maps m JOIN models md ON md.name = m.model').iterate() as Iterable<{ ids: Buffer; kind: 'photo' | 'face' }>) {
    const ids = new Int32Array(new Uint8Array(m.ids).buffer);
    for (const i of ids) if (exists[m.kind].get(i) === undefined) mapPoints++;
  }
  add('dangling-map-point', mapPoints, 'stored map points of photos or faces that do not exist');

  let thumbs = 0;
  for (const h of db.prepare(`SELECT DISTINCT hash FROM photos WHERE status = 'ok'`).pluck().iterate() as Iterable<string>) {
    if (!thumbExists(lib, h)) thumbs++;
  }
  add('missing-thumbnail', thumbs, `photo thumbnails missing from ${lib.thumbDir} (a scan writes them again)`);
  let faceThumbs = 0;
  for (const k of db.prepare('SELECT thumb FROM faces WHERE thumb IS NOT NULL').pluck().iterate() as Iterable<string>) {
    if (!thumbExists(lib, k)) faceThumbs++;
  }
  add('missing-thumbnail', faceThumbs, `face thumbnails missing from ${lib.thumbDir}`);
  // non-finite vectors, leaked temp/spool files, a library emptied since its last backup (core/check-files.ts)
  problems.push(...fileProblems(lib));
  return { ok: problems.length === 0, problems };
}

function thumbExists(lib: Library, key: string): boolean {
  try { return existsSync(lib.thumbPath(key)); } catch { return false; }
}
