/**
 * The one writer for every file Constellate writes that is not the library itself: exports, sidecars, job bundles,
 * .npy / Parquet / Arrow outputs, model files. On top of the checked atomic write (atomic-write.ts: temp in the same
 * folder, every write checked, fsynced, size verified, renamed) it decides whether a target may be written at all:
 *
 * - never under procfs, sysfs or /dev (a recursive mkdir on procfs loops on ENOENT; writing there is never an export);
 * - never over something that is not a regular file (a folder, a FIFO, a device);
 * - never over a library (an SQLite file) or a file the caller protects (a bundle's manifest, the input being read);
 * - never over a read-only file (0444 stays unchanged) unless the caller says so;
 * - an existing file keeps its permissions (a 0600 sidecar stays 0600).
 *
 * Refusals are BAD_ARGUMENT naming the file and the reason (exit 2); disk and permission failures IO (exit 3).
 */
import { accessSync, closeSync, constants, lstatSync, mkdirSync, openSync, readSync, realpathSync, statSync, statfsSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { AppError } from '../common/errors.ts';
import { writeFileAtomicSync, type AtomicOptions } from './atomic-write.ts';
import { fsPath } from './fs-names.ts';
import { describeIoError, errorCode } from './io-errors.ts';

/** statfs magic numbers of pseudo file systems nothing is ever written to. */
const PSEUDO_FS: Record<number, string> = { 0x9fa0: 'procfs', 0x62656572: 'sysfs', 0x1cd1: 'devpts', 0x73636673: 'securityfs', 0xcafe4a11: 'bpf', 0x27e0eb: 'cgroup', 0x63677270: 'cgroup2', 0x64626720: 'debugfs', 0x74726163: 'tracefs' };
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

export interface WriteTargetOptions {
  /** what the file is, for messages ('--out', 'the sidecar') */
  what?: string;
  /** paths that must never be replaced (the manifest, the input) */
  protect?: string[];
  /** replacing a read-only (no write permission) file is allowed */
  overwriteReadOnly?: boolean;
}

/** What the caller needs to write the target: the existing file's permission bits, if any. */
export interface WriteTarget { path: string; exists: boolean; mode: number | null }

function refuse(file: string, why: string, what?: string): AppError {
  return new AppError('BAD_ARGUMENT', `${what ? `${what}: ` : ''}${file}: ${why}`);
}

/** The nearest existing ancestor of `p` (or p), resolved through symlinks. */
function existingReal(p: string): string {
  let q = resolve(p);
  for (;;) {
    try { return realpathSync(q); } catch (e) {
      const c = errorCode(e);
      if (c !== 'ENOENT' && c !== 'ENOTDIR') return q;
      const up = dirname(q);
      if (up === q) return q;
      q = up;
    }
  }
}

/** Refuses a path on procfs, sysfs, /dev and their kind (by the resolved path and the file system's type). */
export function checkNotPseudoFs(p: string, what?: string): void {
  const real = existingReal(p);
  const abs = resolve(p);
  for (const root of PSEUDO_ROOTS) {
    if (real === root || real.startsWith(root + sep) || abs === root || abs.startsWith(root + sep)) {
      throw refuse(abs, `is under ${root}, a system folder nothing is exported to`, what);
    }
  }
  try {
    const t = Number(statfsSync(real).type);
    if (PSEUDO_FS[t]) throw refuse(abs, `is on ${PSEUDO_FS[t]}, a system file system nothing is written to`, what);
  } catch (e) {
    if (e instanceof AppError) throw e;
  }
}

/** Whether the file starts with SQLite's header (a library or any SQLite database). */
export function isSqliteFile(file: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(fsPath(file), constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0));
    const st = statSync(fsPath(file));
    if (!st.isFile() || st.size < 16) return false;
    const b = Buffer.alloc(16);
    return readSync(fd, b, 0, 16, 0) === 16 && b.toString('latin1') === 'SQLite format 3\0';
  } catch {
    return false;
  } finally {
    if (fd !== null) try { closeSync(fd); } catch { /* ignore */ }
  }
}

/** Checks that `file` may be written (see the module comment); returns the existing file's mode to keep. */
export function checkWriteTarget(file: string, o: WriteTargetOptions = {}): WriteTarget {
  const abs = resolve(file);
  checkNotPseudoFs(abs, o.what);
  let st;
  try { st = lstatSync(fsPath(abs)); } catch (e) {
    const c = errorCode(e);
    if (c === 'ENOENT') return { path: abs, exists: false, mode: null };
    if (c === 'ENOTDIR') throw refuse(abs, 'a part of the path is a file, not a folder', o.what);
    throw new AppError('IO', `${abs}: cannot write (${describeIoError(e)})`);
  }
  let real = abs;
  if (st.isSymbolicLink()) {
    try { real = realpathSync(fsPath(abs) as string); st = statSync(fsPath(abs)); } catch { return { path: abs, exists: false, mode: null }; }
    checkNotPseudoFs(real, o.what);
  }
  if (!st.isFile()) throw refuse(abs, `exists and is not a regular file (${st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : 'a device or socket'})`, o.what);
  for (const p of o.protect ?? []) {
    let rp = resolve(p);
    try { rp = realpathSync(rp); } catch { /* not there */ }
    if (rp === real || resolve(p) === abs) throw refuse(abs, 'is the file being read; choose another name', o.what);
  }
  if (isSqliteFile(abs)) throw refuse(abs, 'is a library (an SQLite database); it is never overwritten', o.what);
  if (!o.overwriteReadOnly) {
    let writable = (st.mode & 0o222) !== 0;
    if (writable) try { accessSync(fsPath(abs), constants.W_OK); } catch { writable = false; }
    if (!writable || (st.mode & 0o200) === 0) throw new AppError('IO', `${o.what ? `${o.what}: ` : ''}${abs}: read-only file (permission ${(st.mode & 0o777).toString(8)}); not replaced`);
  }
  return { path: abs, exists: true, mode: st.mode & 0o7777 };
}

/** Creates a folder (and its parents) to write into, refusing system file systems and a file in the way. */
export function makeDirSafe(dir: string, what?: string): void {
  const abs = resolve(dir);
  checkNotPseudoFs(abs, what);
  try {
    mkdirSync(fsPath(abs), { recursive: true });
  } catch (e) {
    const c = errorCode(e);
    if (c === 'ENOTDIR' || c === 'EEXIST') throw refuse(abs, `cannot be made a folder (${describeIoError(e)})`, what);
    throw new AppError('IO', `${what ? `${what}: ` : ''}${abs}: cannot write there (${describeIoError(e)})`);
  }
  let st;
  try { st = statSync(fsPath(abs)); } catch (e) { throw new AppError('IO', `${abs}: cannot write there (${describeIoError(e)})`); }
  if (!st.isDirectory()) throw refuse(abs, 'is not a folder', what);
}

/** Writes a whole file through the checks and the checked atomic write; an existing file keeps its permissions. */
export function writeFileSafeSync(file: string, data: string | Uint8Array | Uint8Array[], o: WriteTargetOptions & AtomicOptions & { mode?: number } = {}): WriteTarget {
  const t = checkWriteTarget(file, o);
  writeFileAtomicSync(t.path, data, { tmp: o.tmp, durable: o.durable, mode: t.mode ?? o.mode });
  return t;
}
