/**
 * `constellate check` (as `git fsck`): what the library file says about itself. SQLite's integrity check and foreign
 * keys, then the item identity rules the triggers keep (nothing names a photo or face that does not exist, no id was
 * given out twice), cluster summaries against their assignments, and the thumbnails the views need.
 */
import { existsSync } from 'node:fs';
import type { CheckProblem, CheckReport } from '../common/types.ts';
import { fileProblems } from './check-files.ts';
import type { Library } from './library.ts';
import { faceThumbKeys, okPhotoHashes, rowCheckCounts } from './store/check-repo.ts';

export function checkLibrary(lib: Library): CheckReport {
  const db = lib.db;
  const problems: CheckProblem[] = [];
  const add = (kind: string, count: number, message: string) => { if (count > 0) problems.push({ kind, message, count }); };
  const c = rowCheckCounts(db);

  add('integrity', c.integrity.length, `SQLite integrity_check: ${c.integrity.slice(0, 3).join('; ')}`);
  const fkTables = [...new Set(c.foreignKeys.map((f) => `${f.table} -> ${f.parent}`))];
  add('foreign-key', c.foreignKeys.length, `rows pointing at nothing: ${fkTables.join(', ')}`);

  add('dangling-embedding', c.danglingEmbeddings, 'embeddings of photos or faces that do not exist');
  add('dangling-label', c.danglingLabels, 'labels of photos or faces that do not exist');
  add('dangling-assignment', c.danglingAssignments, 'run assignments of photos or faces that do not exist');
  add('run-missing-items', c.runsMissingItems.length, `runs whose assignments point at missing items: ${c.runsMissingItems.slice(0, 20).join(', ')}`);
  add('orphan-face', c.orphanFaces, 'faces of photos that do not exist');
  add('orphan-photo', c.orphanPhotos, 'photos of folders that are not in the library');

  // a run's item that was added after the run was made is another item under a reused id
  add('reused-id', c.reusedAssignments, 'run assignments naming an item added after the run (an id given out again)');
  for (const { table: t, autoincrement, seq, max } of c.ids) {
    add('reused-id', autoincrement ? 0 : 1, `${t}: ids are not AUTOINCREMENT (a freed id would be given out again)`);
    add('reused-id', max > (seq ?? 0) ? 1 : 0, `${t}: the highest id (${max}) is above the id sequence (${seq ?? 0})`);
  }

  // cluster summaries against the assignments they summarize
  add('cluster-size', c.clusterSizes, 'groups whose size is not their number of members');
  add('cluster-sample', c.clusterSamples, 'group samples (top/tail) naming items that are not in the group');
  add('dangling-map-point', c.mapPoints, 'stored map points of photos or faces that do not exist');

  let thumbs = 0;
  for (const h of okPhotoHashes(db)) {
    if (!thumbExists(lib, h)) thumbs++;
  }
  add('missing-thumbnail', thumbs, `photo thumbnails missing from ${lib.thumbDir} (each is made again from its photo when shown, or by a scan)`);
  let faceThumbs = 0;
  for (const k of faceThumbKeys(db)) {
    if (!thumbExists(lib, k)) faceThumbs++;
  }
  add('missing-thumbnail', faceThumbs, `face thumbnails missing from ${lib.thumbDir} (each is made again from its photo when shown)`);
  // non-finite vectors, leaked temp/spool files, a library emptied since its last backup (core/check-files.ts)
  problems.push(...fileProblems(lib));
  return { ok: problems.length === 0, problems };
}

function thumbExists(lib: Library, key: string): boolean {
  try { return existsSync(lib.thumbPath(key)); } catch { return false; }
}
