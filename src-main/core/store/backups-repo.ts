/**
 * The backups repository: what a backup copy says about itself (its application id, its tables and their rows) and
 * the restore's one transaction that replaces a library's tables with those of an attached copy.
 */
import { AppError } from '../../common/errors.ts';
import type { Db } from './db.ts';

/** The copy's application id and its tables (throws SQLite's error when the file is not a readable database). */
export function backupCopyFacts(ro: Db): { appId: number; tables: string[] } {
  const appId = ro.pragma('application_id', { simple: true }) as number;
  const tables = ro.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
  return { appId, tables };
}

/** The rows of one table (named by the copy's own table list). */
export function tableRowCount(ro: Db, table: string): number {
  return ro.prepare(`SELECT COUNT(*) FROM "${table}"`).pluck().get() as number;
}

/**
 * Replaces the library's tables (all but `keep`, parents first as in `order`) with those of the database at `copy`,
 * in one immediate transaction; the rows copied per table. `path` is the backup the user chose (for the error when
 * the copy's rows do not hold together).
 */
export function replaceTablesFrom(db: Db, copy: string, path: string, order: readonly string[], keep: ReadonlySet<string>): Record<string, number> {
  db.prepare('ATTACH DATABASE ? AS b').run(copy);
  try {
    const tables = (db.prepare(`SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[]).filter((t) => !keep.has(t));
    const sorted = [...order.filter((t) => tables.includes(t)), ...tables.filter((t) => !order.includes(t))];
    const counts: Record<string, number> = {};
    db.transaction(() => {
      for (const t of [...sorted].reverse()) db.prepare(`DELETE FROM main."${t}"`).run();
      for (const t of sorted) {
        const cols = (db.prepare(`PRAGMA main.table_info("${t}")`).all() as Array<{ name: string }>).map((c) => `"${c.name}"`).join(', ');
        counts[t] = db.prepare(`INSERT INTO main."${t}" (${cols}) SELECT ${cols} FROM b."${t}"`).run().changes;
      }
      const bad = db.pragma('foreign_key_check') as unknown[];
      if (bad.length) throw new AppError('LIBRARY_CORRUPT', `${path}: the backup does not hold together (${bad.length} foreign key problems); nothing was restored`);
    }).immediate();
    return counts;
  } finally {
    db.prepare('DETACH DATABASE b').run();
  }
}
