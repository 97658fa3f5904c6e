/**
 * Backups of a library: "back up now" (SQLite's online backup: consistent while the library is open) next to the
 * library as `<library>.backup-v<schema>-<time>`, the same naming as the backups made before a migration, and restore
 * from any of them. A restore upgrades a copy of the backup first (an older schema is migrated like any library), then
 * replaces the library's content in one transaction: everything the backup holds comes back; the job history stays.
 * Item ids are never reused (AUTOINCREMENT keeps its high-water mark).
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../common/errors.ts';
import type { Library } from './library.ts';
import { LATEST_VERSION } from './store/migrations.ts';
import { openLibrary } from './store/db.ts';

export interface BackupInfo { path: string; version: number; at: number; size: number; preMigration: boolean }

const NAME = /\.backup-v(\d+)-(\d+)(-now)?$/;

export function listBackups(lib: Library): BackupInfo[] {
  const dir = dirname(lib.path), base = basename(lib.path);
  let names: string[] = [];
  try { names = readdirSync(dir); } catch { return []; }
  return names.filter((n) => n.startsWith(`${base}.backup-v`) && NAME.test(n)).map((n) => {
    const m = NAME.exec(n)!;
    const p = join(dir, n);
    return { path: p, version: Number(m[1]), at: Number(m[2]), size: statSync(p).size, preMigration: !m[3] };
  }).sort((a, b) => b.at - a.at);
}

export async function backupNow(lib: Library): Promise<BackupInfo> {
  const at = Date.now();
  const dest = `${lib.path}.backup-v${LATEST_VERSION}-${at}-now`;
  try { await lib.db.backup(dest); } catch (e) { throw new AppError('IO', `${dest}: cannot write the backup (${(e as Error).message})`); }
  return { path: dest, version: LATEST_VERSION, at, size: statSync(dest).size, preMigration: false };
}

/** tables restored, parents first (the job history is the running app's and stays) */
const ORDER = ['roots', 'photos', 'faces', 'models', 'embeddings', 'processed', 'scan_issues', 'groups', 'group_members', 'runs', 'clusters', 'assignments', 'edits', 'labels', 'maps', 'exports', 'settings', 'suggestion_rejects', 'merge_rejects', 'not_faces'];
const KEEP = new Set(['jobs', 'meta', 'schema_migrations', 'sqlite_sequence']);

export function restoreBackup(lib: Library, path: string): { restored: string; tables: Record<string, number> } {
  const known = listBackups(lib).find((b) => b.path === path);
  if (!known) throw new AppError('NOT_FOUND', `${path}: not a backup of this library (backups: ${listBackups(lib).map((b) => basename(b.path)).join(', ') || 'none'})`);
  const tmp = mkdtempSync(join(tmpdir(), 'constellate-restore-'));
  const copy = join(tmp, 'restore.constellate');
  try {
    copyFileSync(path, copy);
    // an older schema (a pre-migration backup) is brought up to date on the copy
    const opened = openLibrary(copy, { noBackup: true });
    opened.db.close();
    const db = lib.db;
    db.prepare('ATTACH DATABASE ? AS b').run(copy);
    try {
      const tables = (db.prepare(`SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[]).filter((t) => !KEEP.has(t));
      const order = [...ORDER.filter((t) => tables.includes(t)), ...tables.filter((t) => !ORDER.includes(t))];
      const counts: Record<string, number> = {};
      db.transaction(() => {
        for (const t of [...order].reverse()) db.prepare(`DELETE FROM main."${t}"`).run();
        for (const t of order) {
          const cols = (db.prepare(`PRAGMA main.table_info("${t}")`).all() as Array<{ name: string }>).map((c) => `"${c.name}"`).join(', ');
          counts[t] = db.prepare(`INSERT INTO main."${t}" (${cols}) SELECT ${cols} FROM b."${t}"`).run().changes;
        }
        const bad = db.pragma('foreign_key_check') as unknown[];
        if (bad.length) throw new AppError('LIBRARY_CORRUPT', `${path}: the backup does not hold together (${bad.length} foreign key problems); nothing was restored`);
      }).immediate();
      return { restored: path, tables: counts };
    } finally {
      db.prepare('DETACH DATABASE b').run();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
