/**
 * Backups of a library: "back up now" (SQLite's online backup: consistent while the library is open) next to the
 * library as `<library>.backup-v<schema>-<time>`, the same naming as the backups made before a migration, and restore
 * from any of them. A restore upgrades a copy of the backup first (an older schema is migrated like any library), then
 * replaces the library's content in one transaction: everything the backup holds comes back; the job history stays.
 * Item ids are never reused (AUTOINCREMENT keeps its high-water mark).
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../common/errors.ts';
import { fsyncDir, tempNameFor, writeAllSync } from './atomic-write.ts';
import { ioError, isFsIoError, isSqliteIoError } from './io-errors.ts';
import type { Library } from './library.ts';
import { openRegularSync, readRangeSync } from './safe-read.ts';
import { backupCopyFacts, replaceTablesFrom, tableRowCount } from './store/backups-repo.ts';
import { LATEST_VERSION } from './store/migrations.ts';
import { APPLICATION_ID, openLibrary, openReadOnly } from './store/db.ts';

// the contract's (common/api.ts)
import type { BackupInfo } from '../common/api.ts';
export type { BackupInfo };

const NAME = /\.backup-v(\d+)-(\d+)(-now|-before-restore)?$/;

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

export async function backupNow(lib: Library, suffix = 'now'): Promise<BackupInfo> {
  const at = Date.now();
  const dest = `${lib.path}.backup-v${LATEST_VERSION}-${at}-${suffix}`;
  // written under a hidden temp name and renamed when whole: a backup killed midway is never listed as one
  const tmp = tempNameFor(dest);
  try {
    await lib.db.backup(tmp);
    const fd = openSync(tmp, 'r+');
    try { fsyncSync(fd); } finally { closeSync(fd); }
    renameSync(tmp, dest);
    fsyncDir(dirname(dest));
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* not made */ }
    throw new AppError('IO', `${dest}: cannot write the backup (${ioError(dest, e).message.replace(`${dest}: cannot write (`, '').replace(/\)$/, '')})`);
  }
  return { path: dest, version: LATEST_VERSION, at, size: statSync(dest).size, preMigration: false };
}

/** Copies a backup through the one reader (a FIFO or a device named like a backup is refused, never waited on). */
function copyBackup(path: string, dest: string): void {
  const src = openRegularSync(path, 'backup');
  let out: number | null = null;
  try {
    if (src.size < 100) throw new AppError('BAD_FILE', `${path}: ${src.size === 0 ? 'an empty file' : `${src.size} bytes`}, not a backup of a library; nothing was restored`);
    out = openSync(dest, 'wx', 0o600);
    const buf = Buffer.allocUnsafe(Math.min(src.size, 8 << 20));
    for (let off = 0; off < src.size;) {
      const n = readRangeSync(src, buf, off, Math.min(buf.length, src.size - off));
      if (n === 0) throw new AppError('BAD_FILE', `${path}: shrank while it was read; nothing was restored`);
      writeAllSync(out, buf.subarray(0, n), dest);
      off += n;
    }
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('IO', `${path}: cannot copy the backup to restore it (${ioError(dest, e).message})`);
  } finally {
    closeSync(src.fd);
    if (out !== null) closeSync(out);
  }
}

/** Checks the copy is a non-empty Constellate library before anything of the current one is touched. */
function checkBackupCopy(path: string, copy: string): void {
  let ro;
  try { ro = openReadOnly(copy); } catch { throw new AppError('BAD_FILE', `${path}: not a backup of a library (not an SQLite database); nothing was restored`); }
  try {
    let appId: number, tables: string[];
    try {
      ({ appId, tables } = backupCopyFacts(ro));
    } catch (e) {
      throw new AppError('BAD_FILE', `${path}: not a readable backup (${(e as Error).message.split('\n')[0]}); nothing was restored`);
    }
    if (appId !== APPLICATION_ID || !tables.includes('schema_migrations')) throw new AppError('BAD_FILE', `${path}: not a backup of a Constellate library; nothing was restored`);
    const count = (t: string) => (tables.includes(t) ? tableRowCount(ro, t) : 0);
    if (count('roots') + count('photos') + count('runs') + count('embeddings') === 0) {
      throw new AppError('BAD_FILE', `${path}: the backup holds an empty library (no folders, photos, embeddings or runs); nothing was restored`);
    }
  } finally {
    ro.close();
  }
}

/** tables restored, parents first (the job history is the running app's and stays) */
const ORDER = ['roots', 'photos', 'faces', 'models', 'embeddings', 'processed', 'scan_issues', 'groups', 'group_members', 'runs', 'clusters', 'assignments', 'edits', 'labels', 'maps', 'exports', 'settings', 'suggestion_rejects', 'merge_rejects', 'not_faces'];
const KEEP = new Set(['jobs', 'meta', 'schema_migrations', 'sqlite_sequence']);

/**
 * Restores a backup: only a whole, non-empty Constellate library (a FIFO, an empty or foreign file named like a
 * backup is refused with the library unchanged), and only after a backup of the current state (`-before-restore`),
 * so a restore can itself be undone by restoring that one.
 */
export async function restoreBackup(lib: Library, path: string): Promise<{ restored: string; tables: Record<string, number>; safety: string }> {
  const known = listBackups(lib).find((b) => b.path === path);
  if (!known) throw new AppError('NOT_FOUND', `${path}: not a backup of this library (backups: ${listBackups(lib).map((b) => basename(b.path)).join(', ') || 'none'})`);
  const tmp = mkdtempSync(join(tmpdir(), 'constellate-restore-'));
  const copy = join(tmp, 'restore.constellate');
  // errors about the temp copy name the backup the user chose
  const named = (e: unknown): unknown => (e instanceof AppError && e.message.includes(copy) ? new AppError(e.code, e.message.replaceAll(copy, path)) : e);
  try {
    copyBackup(path, copy);
    checkBackupCopy(path, copy);
    // an older schema (a pre-migration backup) is brought up to date on the copy
    try {
      const opened = openLibrary(copy, { noBackup: true });
      opened.db.close();
    } catch (e) { throw named(e); }
    const safety = (await backupNow(lib, 'before-restore')).path;
    const tables = replaceTablesFrom(lib.db, copy, path, ORDER, KEEP);
    return { restored: path, tables, safety };
  } catch (e) {
    // never a raw error (a 500 in serve mode): the disk is IO naming the library, anything else names the backup
    const n = named(e);
    if (n instanceof AppError) throw n;
    if (isSqliteIoError(e) || isFsIoError(e)) throw ioError(lib.path, e, 'cannot restore into the library');
    throw new AppError('BAD_FILE', `${path}: cannot be restored (${(e as Error).message?.split('\n')[0] ?? String(e)}); nothing was restored`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
