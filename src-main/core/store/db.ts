/**
 * Opening a library: one SQLite file (WAL, foreign keys on) with numbered migrations. A file that is not a library,
 * or a library from a newer version, is refused with a clear error before anything is written. An existing library is
 * backed up before migrations change it.
 */
import Database from 'better-sqlite3';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../../common/errors.ts';
import { ioError, isFsIoError, isSqliteIoError } from '../io-errors.ts';
import { LATEST_VERSION, MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

/** 'Cnst' in the SQLite header's application_id field marks a Constellate library. */
export const APPLICATION_ID = 0x436e7374;

function readHeader(path: string): Buffer | null {
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(100);
    const n = readSync(fd, buf, 0, 100, 0);
    return buf.subarray(0, n);
  } catch (e) {
    throw new AppError('IO', `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Checks the file before opening it for writing; returns the schema version found (0 for a new file). */
export function inspectLibrary(path: string): { exists: boolean; version: number } {
  if (!existsSync(path)) return { exists: false, version: 0 };
  const st = statSync(path);
  if (st.isDirectory()) throw new AppError('NOT_A_LIBRARY', `${path}: is a folder, not a library file`);
  // a device (/dev/null, /dev/zero), a FIFO or a socket: SQLite would make its -journal next to it (in /dev)
  if (!st.isFile()) throw new AppError('NOT_A_LIBRARY', `${path}: not a regular file (${st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device'}), not a library file`);
  if (st.size === 0) return { exists: true, version: 0 };
  const header = readHeader(path)!;
  if (header.length < 100 || header.subarray(0, 16).toString('latin1') !== 'SQLite format 3\0') {
    throw new AppError('NOT_A_LIBRARY', `${path}: not a Constellate library (not an SQLite database)`);
  }
  let ro: Db | null = null;
  try {
    ro = openReadOnly(path);
    // through SQLite, not from the header bytes: a library not yet checkpointed (its process was killed) has its
    // application_id only in the WAL
    const appId = ro.pragma('application_id', { simple: true }) as number;
    const tables = ro.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
    if (appId !== APPLICATION_ID) {
      if (tables.length === 0 && appId === 0) return { exists: true, version: 0 };
      throw new AppError('NOT_A_LIBRARY', `${path}: not a Constellate library (an SQLite database of another application)`);
    }
    if (!tables.includes('schema_migrations')) return { exists: true, version: 0 };
    const v = (ro.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get() as number | null) ?? 0;
    return { exists: true, version: v };
  } catch (e) {
    if (e instanceof AppError) throw e;
    // a full disk, a read-only file or folder, an I/O error: the library is not damaged, the machine has a problem
    if (isSqliteIoError(e) || isFsIoError(e)) throw ioError(path, e, 'cannot open the library');
    const msg = (e as Error).message;
    throw new AppError('LIBRARY_CORRUPT', `${path}: the library file is damaged (${oneLine(msg)})${backupHint(path)}`);
  } finally {
    ro?.close();
  }
}

export interface OpenOptions {
  /** refuse to migrate (for read-only tools) */
  readonly?: boolean;
  /** skip the pre-migration backup (tests) */
  noBackup?: boolean;
}

export interface OpenedLibrary {
  db: Db;
  path: string;
  version: number;
  backup: string | null;
}

export function openLibrary(path: string, opts: OpenOptions = {}): OpenedLibrary {
  const found = inspectLibrary(path);
  if (found.version > LATEST_VERSION) {
    throw new AppError('LIBRARY_TOO_NEW',
      `${path}: this library was written by a newer version of Constellate (schema ${found.version}, this version knows up to ${LATEST_VERSION}); update the app to open it`);
  }
  if (!found.exists) mkdirSync(dirname(path), { recursive: true });
  let backup: string | null = null;
  if (found.exists && found.version > 0 && found.version < LATEST_VERSION && !opts.readonly && !opts.noBackup) {
    backup = `${path}.backup-v${found.version}-${Date.now()}`;
    backupFile(path, backup);
  }
  let db: Db;
  try {
    db = opts.readonly && found.exists ? openReadOnly(path) : new Database(path, { readonly: false, fileMustExist: !!opts.readonly });
  } catch (e) {
    throw ioError(path, e, 'cannot open library');
  }
  try {
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 10000');
    const quick = db.pragma('quick_check', { simple: true });
    if (quick !== 'ok') throw new AppError('LIBRARY_CORRUPT', `${path}: the library file is damaged (${oneLine(String(quick))})${backupHint(path)}`);
    if (!opts.readonly) migrate(db);
    const version = (db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get() as number | null) ?? 0;
    return { db, path, version, backup };
  } catch (e) {
    db.close();
    if (e instanceof AppError) throw e;
    if (isSqliteIoError(e) || isFsIoError(e)) {
      throw ioError(path, e, (e as { code?: string }).code?.startsWith('SQLITE_READONLY')
        ? 'cannot open the library for writing (read-only commands such as constellate info still work)' : 'cannot open the library');
    }
    throw new AppError('LIBRARY_CORRUPT', `${path}: the library file is damaged (${oneLine((e as Error).message)})${backupHint(path)}`);
  }
}

/** A library that lives in memory (`:memory:`, migrated, no file, no lock): the fast tier of service tests. */
export function openMemoryLibrary(): OpenedLibrary {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return { db, path: ':memory:', version: LATEST_VERSION, backup: null };
}

/**
 * A read-only connection. On read-only media SQLite cannot open a WAL library (it needs to create `-shm`):
 * SQLITE_CANTOPEN. Then, when no WAL content is next to the file, the library is read into memory as a snapshot
 * (header marked rollback-journal so that the in-memory copy opens) and inspected from there; nothing is written
 * and no lock file is made.
 */
export function openReadOnly(path: string): Db {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('schema_version', { simple: true });
    return db;
  } catch (e) {
    db.close();
    // read-only media, or a folder this user may not write (no -shm can be made): SQLITE_CANTOPEN / SQLITE_READONLY_*
    if (!(isSqliteIoError(e) && /^SQLITE_(CANTOPEN|READONLY)/.test(String((e as { code?: string }).code)))) throw e;
    let walSize = 0;
    try { walSize = statSync(`${path}-wal`).size; } catch { /* no WAL: everything is in the file */ }
    if (walSize > 0) throw e;
    const buf = readFileSync(path);
    if (buf.length >= 100 && buf[18] === 2) { buf[18] = 1; buf[19] = 1; }
    return new Database(buf, { readonly: true });
  }
}

/** quick_check reports one problem per line; the message must stay one line (the CLI prints only the first). */
function oneLine(s: string): string {
  const t = s.replace(/\*\*\* in database main \*\*\*/g, '').trim().replace(/\s*\n\s*/g, '; ');
  return t.length > 240 ? t.slice(0, 240) + '…' : t;
}

function backupHint(path: string): string {
  return `; backups of this library, if any, are next to it as ${path}.backup-*`;
}

/** Copies the library with its WAL content folded in (SQLite's online backup would need the file open for writing). */
function backupFile(path: string, dest: string): void {
  const src = new Database(path, { readonly: true, fileMustExist: true });
  try {
    src.exec(`VACUUM INTO '${dest.replaceAll("'", "''")}'`);
  } catch {
    try { copyFileSync(path, dest); } catch (e) { throw ioError(dest, e, 'cannot write the backup made before migrating'); }
  } finally {
    src.close();
  }
}

export function migrate(db: Db): void {
  // the mark and the migrations table commit together: a process killed while creating a library leaves a file that
  // the next open recognises as a (partly migrated) library, never 'an SQLite database of another application'
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    db.pragma(`application_id = ${APPLICATION_ID}`);
  })();
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    const fk = db.pragma('foreign_keys', { simple: true }) as number;
    // outside the transaction: SQLite ignores this pragma inside one
    if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(m.sql);
        if (m.rebuildsTables) {
          const bad = db.pragma('foreign_key_check') as Array<{ table: string }>;
          if (bad.length > 0) throw new Error(`migration ${m.version} (${m.name}): ${bad.length} row(s) of ${bad[0].table} point at nothing`);
        }
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      })();
    } finally {
      if (m.rebuildsTables) db.pragma(`foreign_keys = ${fk ? 'ON' : 'OFF'}`);
    }
  }
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma(`user_version = ${LATEST_VERSION}`);
}
