/**
 * The one reader for every file Constellate opens that is not a photo: XMP sidecars, Parquet/Arrow files and their
 * parts, backups, label and id lists, manifests, .npy matrices. Photos have their own (scan/read-file.ts), on the same
 * principles:
 *
 * - regular files only: the file is opened non-blocking (a FIFO without a writer returns at once instead of freezing
 *   the process) and `fstat` of the open descriptor decides; a FIFO, a device (`/dev/zero`: an endless file), a socket
 *   or a folder is a BAD_FILE naming the file and what it is, whatever symlink led there;
 * - a size bound per kind (a 50 MB "sidecar" is not one), checked before anything is read;
 * - never more than the size fstat gave is read (a file that grows while it is read cannot make the read endless);
 * - the async form reads off the main thread (libuv's pool) and gives up after a time bound (a hung mount);
 * - large files (Parquet parts, backups) are not read whole: `openRegularSync` hands out the checked descriptor to
 *   read ranges from.
 *
 * Errors: a missing file is NOT_FOUND, a file that is not what it claims BAD_FILE (exit 2), a failing disk or a
 * permission IO (exit 3); each names the file.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { AppError } from '../common/errors.ts';
import { fsPath } from './fs-names.ts';
import { describeIoError, errorCode } from './io-errors.ts';
import { readPhotoFile, readTimeoutMs } from './read-file.ts';

/** What a file is to the app; each kind has its size bound. */
export type ReadKind = 'sidecar' | 'labels' | 'ids' | 'manifest' | 'json' | 'npy' | 'columnar' | 'backup' | 'trashinfo';

const MiB = 1 << 20;

/** Largest file of each kind read (bytes). Parquet parts and backups are read by ranges, so theirs is wide. */
export const READ_LIMITS: Readonly<Record<ReadKind, number>> = {
  sidecar: 8 * MiB,
  labels: 512 * MiB,
  ids: 512 * MiB,
  manifest: 16 * MiB,
  json: 64 * MiB,
  npy: 16 * 1024 * MiB,
  columnar: Number.MAX_SAFE_INTEGER,
  backup: Number.MAX_SAFE_INTEGER,
  trashinfo: 64 * 1024,
};

const KIND_NAME: Record<ReadKind, string> = {
  sidecar: 'an XMP sidecar', labels: 'a labels file', ids: 'an ids file', manifest: 'a manifest', json: 'a JSON file',
  npy: 'a .npy file', columnar: 'a Parquet/Arrow file', backup: 'a backup', trashinfo: 'a trash info file',
};

export function fileTypeName(st: Pick<Stats, 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket' | 'isDirectory'>): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a plain file';
}

/** A failure to open or read `file` as an AppError naming it. */
export function readError(file: string, e: unknown, kind?: ReadKind): AppError {
  if (e instanceof AppError) return e;
  const c = errorCode(e);
  if (c === 'ENOENT' || c === 'ENOTDIR') return new AppError('NOT_FOUND', `${file}: cannot read (${c}), no such file`);
  if (c === 'EFTYPE') return new AppError('BAD_FILE', `${file}: ${(e as Error).message}${kind ? `, not ${KIND_NAME[kind]}` : ''}`);
  if (c === 'EFBIG') return new AppError('BAD_FILE', `${file}: ${(e as Error).message.replace(/^file too large/, `too large${kind ? ` for ${KIND_NAME[kind]}` : ''}`)}`);
  if (c === 'EISDIR') return new AppError('BAD_FILE', `${file}: is a folder${kind ? `, not ${KIND_NAME[kind]}` : ''}`);
  if (c === 'ELOOP') return new AppError('BAD_FILE', `${file}: a loop of symbolic links`);
  return new AppError('IO', `${file}: cannot read (${describeIoError(e)})`);
}

function checkStat(file: string, st: Stats, kind: ReadKind, maxBytes?: number): void {
  if (!st.isFile()) throw new AppError('BAD_FILE', `${file}: not a regular file (${fileTypeName(st)}), not ${KIND_NAME[kind]}`);
  const max = maxBytes ?? READ_LIMITS[kind];
  if (st.size > max) throw new AppError('BAD_FILE', `${file}: too large for ${KIND_NAME[kind]} (${st.size} bytes, limit ${max})`);
}

/** A checked descriptor of a regular file within its kind's bound; the caller closes it. */
export interface CheckedFile { fd: number; size: number; stat: Stats; path: string }

/** Opens `file` non-blocking and checks it is a regular file within the bound, before anything is read. */
export function openRegularSync(file: string, kind: ReadKind, maxBytes?: number): CheckedFile {
  let fd: number;
  try {
    fd = openSync(fsPath(file), constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0));
  } catch (e) {
    throw readError(file, e, kind);
  }
  try {
    const st = fstatSync(fd);
    checkStat(file, st, kind, maxBytes);
    return { fd, size: st.size, stat: st, path: file };
  } catch (e) {
    try { closeSync(fd); } catch { /* ignore */ }
    throw readError(file, e, kind);
  }
}

/** Reads `length` bytes at `position` of a checked file into `buf` from `at` (fewer only at its end). */
export function readRangeSync(f: CheckedFile, buf: Uint8Array, position: number, length = buf.length, at = 0): number {
  let off = 0;
  try {
    while (off < length) {
      const n = readSync(f.fd, buf, at + off, length - off, position + off);
      if (n <= 0) break;
      off += n;
    }
  } catch (e) {
    throw readError(f.path, e);
  }
  return off;
}

/** The whole of a small file (sidecar, labels, ids, manifest), read synchronously after the checks. */
export function readFileSafeSync(file: string, kind: ReadKind, maxBytes?: number): Buffer;
export function readFileSafeSync(file: string, kind: ReadKind, maxBytes: number | undefined, encoding: 'utf8'): string;
export function readFileSafeSync(file: string, kind: ReadKind, maxBytes?: number, encoding?: 'utf8'): Buffer | string {
  const f = openRegularSync(file, kind, maxBytes);
  try {
    const buf = Buffer.allocUnsafe(f.size);
    const n = readRangeSync(f, buf, 0, f.size);
    const out = n === f.size ? buf : buf.subarray(0, n);
    return encoding ? out.toString(encoding) : out;
  } finally {
    try { closeSync(f.fd); } catch { /* ignore */ }
  }
}

/** The whole of a file, read off the main thread with the checks and a time bound (CONSTELLATE_READ_TIMEOUT_MS). */
export async function readFileSafe(file: string, kind: ReadKind, o: { maxBytes?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
  try {
    return await readPhotoFile(file, { anyContent: true, maxBytes: o.maxBytes ?? READ_LIMITS[kind], timeoutMs: o.timeoutMs ?? readTimeoutMs(), signal: o.signal });
  } catch (e) {
    const c = errorCode(e);
    if (c === 'ECANCELED') throw new AppError('CANCELLED', `${file}: reading cancelled`);
    if (c === 'ETIMEDOUT') throw new AppError('IO', `${file}: ${(e as Error).message}`);
    throw readError(file, e, kind);
  }
}
