/** Error codes that cross every transport as `{code, message}`. */
export type ErrorCode =
  | 'BAD_ARGUMENT'
  | 'NOT_FOUND'
  | 'NOT_A_LIBRARY'
  | 'LIBRARY_TOO_NEW'
  | 'LIBRARY_LOCKED'
  | 'LIBRARY_CORRUPT'
  | 'BAD_IMAGE'
  | 'BAD_MODEL'
  | 'MODEL_MISSING'
  | 'BAD_FILE'
  | 'CANCELLED'
  | 'UNAUTHORIZED'
  | 'CONFLICT'
  | 'IO'
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = [
  'BAD_ARGUMENT', 'NOT_FOUND', 'NOT_A_LIBRARY', 'LIBRARY_TOO_NEW', 'LIBRARY_LOCKED', 'LIBRARY_CORRUPT', 'BAD_IMAGE', 'BAD_MODEL',
  'MODEL_MISSING', 'BAD_FILE', 'CANCELLED', 'UNAUTHORIZED', 'CONFLICT', 'IO', 'INTERNAL',
];

/** A code from the wire as an ErrorCode (anything else is INTERNAL: codes never cross as free strings). */
export function asErrorCode(code: unknown): ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL';
}

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'AppError';
  }
  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message };
  }
}

/** Shorthand for a bad parameter: names the parameter and what was wrong. */
export function badArg(param: string, why: string): AppError {
  return new AppError('BAD_ARGUMENT', `${param}: ${why}`);
}

/**
 * A Node or SQLite error as an app error whose message names the file, disk or permission: system codes never cross
 * a transport raw. ENOENT is a missing file (NOT_FOUND, bad input); permission, disk full, read-only media, I/O
 * errors and a busy database are IO (exit 3). Null for anything else.
 */
export function fromSystemError(err: unknown): AppError | null {
  if (!err || typeof err !== 'object') return null;
  const e = err as { code?: unknown; path?: unknown; dest?: unknown; syscall?: unknown; message?: unknown };
  if (typeof e.code !== 'string') return null;
  const code = e.code;
  const file = typeof e.path === 'string' ? e.path : null;
  const where = file ? `${file}: ` : '';
  const what = file ? 'the file' : code.startsWith('SQLITE') ? 'the library database' : `a file${e.syscall ? ` (${e.syscall})` : ''}`;
  if (code === 'ENOENT') return new AppError('NOT_FOUND', `${where}no such file or folder`);
  if (code === 'ENOTDIR') return new AppError('NOT_FOUND', `${where}a part of the path is not a folder`);
  if (code === 'EISDIR') return new AppError('BAD_FILE', `${where}is a folder, not a file`);
  if (code === 'EACCES' || code === 'EPERM') return new AppError('IO', `${where}permission denied${e.syscall ? ` (${e.syscall})` : ''}`);
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return new AppError('IO', `${where}disk full: no space left to write ${what}`);
  if (code === 'EROFS' || code.startsWith('SQLITE_READONLY')) return new AppError('IO', `${where}read-only: cannot write ${what} (read-only disk, file or permission)`);
  if (code === 'EIO' || code === 'ENXIO' || code === 'ENODEV' || code === 'ESTALE' || code.startsWith('SQLITE_IOERR')) {
    return new AppError('IO', `${where}I/O error reading or writing ${what} (${code}: the disk or medium failed or was removed)`);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new AppError('IO', `the library database is busy (${code}): another process holds it; try again`);
  if (code === 'EMFILE' || code === 'ENFILE') return new AppError('IO', `${where}too many open files (${code})`);
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return new AppError('LIBRARY_CORRUPT', `the library database is damaged (${code})`);
  return null;
}

/** Any thrown value as `{code, message}` with an ErrorCode (system errors mapped, unknown codes INTERNAL). */
export function toPayload(err: unknown): ErrorPayload {
  if (err instanceof AppError) return err.toPayload();
  const sys = fromSystemError(err);
  if (sys) return sys.toPayload();
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    // an app error that crossed a thread or process boundary as a plain object
    const e = err as { code: unknown; message: unknown };
    if (typeof e.message === 'string' && (ERROR_CODES as readonly unknown[]).includes(e.code)) return { code: e.code as ErrorCode, message: e.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message };
}

/** The CLI's exit code for an error (the table in README.md). */
export const EXIT = { ok: 0, internal: 1, badInput: 2, io: 3, checkProblems: 4, cancelled: 130 } as const;

export function exitCode(code: ErrorCode): number {
  switch (code) {
    case 'INTERNAL': return EXIT.internal;
    case 'IO': return EXIT.io;
    case 'CANCELLED': return EXIT.cancelled;
    default: return EXIT.badInput;
  }
}

export function fromPayload(p: ErrorPayload): AppError {
  return new AppError(p.code, p.message);
}
