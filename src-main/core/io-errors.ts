/**
 * Core-side mapping of Node errno and SQLite result codes to AppError('IO') with the file named. A full disk, a
 * read-only file system, an I/O error or a file that cannot be opened is an I/O problem of the machine, never a
 * damaged library: callers use `isSqliteIoError` to tell the two apart before calling a library "damaged".
 */
import { AppError } from '../common/errors.ts';

/** SQLite extended codes that mean the disk or the file system, not the database content. */
const SQLITE_IO = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|PERM|BUSY|LOCKED|NOLFS)/;

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EMFILE: 'too many open files',
  EFBIG: 'file too large',
  ETIMEDOUT: 'timed out',
};

const SQLITE_TEXT: Record<string, string> = {
  SQLITE_FULL: 'the disk is full',
  SQLITE_READONLY: 'the library file or its folder is read-only',
  SQLITE_IOERR: 'input/output error',
  SQLITE_CANTOPEN: 'the library file cannot be opened',
  SQLITE_PERM: 'permission denied',
  SQLITE_BUSY: 'the library is busy',
  SQLITE_LOCKED: 'the library is locked',
};

export function errorCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** True for SQLite errors that come from the disk/file system (full, read-only, I/O error, cannot open). */
export function isSqliteIoError(e: unknown): boolean {
  const c = errorCode(e);
  return !!c && SQLITE_IO.test(c);
}

/** True for a Node errno that means the disk or file system (full, read-only, I/O error, permission). */
export function isFsIoError(e: unknown): boolean {
  const c = errorCode(e);
  return !!c && c in ERRNO_TEXT;
}

/** What the error means in words, with its code: 'the disk is full (ENOSPC)'. */
export function describeIoError(e: unknown): string {
  const c = errorCode(e);
  if (c) {
    const base = SQLITE_TEXT[c] ?? SQLITE_TEXT[c.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1')] ?? ERRNO_TEXT[c];
    if (base) return `${base} (${c})`;
    return `${(e as Error).message?.split('\n')[0] ?? c} (${c})`;
  }
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

/** AppError('IO') naming the file and what went wrong; an AppError passes through unchanged. */
export function ioError(file: string, e: unknown, what = 'cannot write'): AppError {
  if (e instanceof AppError) return e;
  return new AppError('IO', `${file}: ${what} (${describeIoError(e)})`);
}
