/**
 * One writer per library: an exclusive lock file next to the library (`<library>.lock`) holding the owner's pid,
 * hostname, start time and a random nonce. It is created with O_EXCL, so of two processes opening the same library
 * exactly one wins; the other gets AppError('LIBRARY_LOCKED') naming the pid (and host) that holds it.
 *
 * A lock left by a process that died (SIGKILL, crash, power loss) is stale: on the same host, when its pid no longer
 * exists, the next opener takes it over. A lock from another host is never taken over automatically (its pid cannot be
 * checked from here); the message says which file to delete. Within one process the lock is reference-counted, so the
 * same app instance may hold several handles on its library (e.g. while switching libraries).
 *
 * Read-only opens (`constellate info` while another instance works) take no lock: SQLite's WAL lets them read a
 * consistent snapshot while the writer goes on.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { AppError } from '../../common/errors.ts';
import { ioError } from '../io-errors.ts';

export interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: number;
  nonce: string;
  /** what holds it, for the message: 'constellate' (CLI/server) or 'electron' */
  app?: string;
}

export interface LibraryLock {
  readonly file: string;
  readonly info: LockInfo;
  release(): void;
}

export function lockPath(library: string): string {
  return `${library}.lock`;
}

/** Whether a process with this pid exists on this machine (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's content, or null when the file is absent; a file that cannot be parsed counts as unreadable (stale). */
export function readLock(file: string): LockInfo | 'unreadable' | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return 'unreadable';
  }
  try {
    const j = JSON.parse(text) as LockInfo;
    if (typeof j.pid !== 'number' || typeof j.hostname !== 'string') return 'unreadable';
    return j;
  } catch {
    return 'unreadable';
  }
}

const held = new Map<string, { lock: LibraryLock; refs: number }>();

function describe(h: LockInfo): string {
  const since = Number.isFinite(h.startedAt) ? ` since ${new Date(h.startedAt).toISOString()}` : '';
  return `pid ${h.pid}${h.hostname !== hostname() ? ` on ${h.hostname}` : ''}${since}`;
}

/**
 * The library's real file, for the lock: a symlink to the library locks the file it points to (realpath), and a
 * library file with more than one hard link is refused for writing, since each name would get its own lock and its
 * own WAL and one writer's work would vanish (the lock cannot be keyed on an inode without a shared folder for it).
 */
export function realLibraryPath(library: string): string {
  let real: string;
  try { real = realpathSync(library); } catch { return library; } // a new library: nothing to resolve yet
  let st;
  try { st = statSync(real); } catch { return real; }
  if (st.isFile() && st.nlink > 1) {
    throw new AppError('LIBRARY_LOCKED', `${library}: the library file has ${st.nlink} hard links (device ${st.dev}, inode ${st.ino}); ` +
      `two names for one library would bypass its one-writer lock and lose work: keep one name (delete the other links) and open it by that name`);
  }
  return real;
}

/** Takes the library's writer lock or throws LIBRARY_LOCKED. */
export function acquireLock(library: string): LibraryLock {
  library = realLibraryPath(library);
  const file = lockPath(library);
  const mine = held.get(file);
  if (mine) {
    mine.refs++;
    return refHandle(file, mine.lock);
  }
  mkdirSync(dirname(file), { recursive: true });
  const info: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: Date.now(), nonce: randomBytes(8).toString('hex'), app: process.versions.electron ? 'electron' : 'constellate' };
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw ioError(file, e, "cannot create the library's lock file");
      const cur = readLock(file);
      if (cur === null) continue; // released meanwhile: try again
      if (cur !== 'unreadable') {
        if (cur.hostname !== hostname()) {
          throw new AppError('LIBRARY_LOCKED', `${library}: in use by another Constellate (${describe(cur)}); ` +
            `close it first, or if it is no longer running delete ${file}`);
        }
        if (pidAlive(cur.pid) && cur.pid !== process.pid) {
          throw new AppError('LIBRARY_LOCKED', `${library}: in use by another Constellate (${describe(cur)}); close it first ` +
            `(read-only commands such as constellate info still work)`);
        }
      } else if (Date.now() - fileAgeHint(file) < 2000) {
        // an unreadable lock may be one being written right now: give its writer a moment
        sleepMs(50);
        continue;
      }
      takeOverStale(file, cur);
      continue;
    }
    try {
      const bytes = Buffer.from(JSON.stringify(info) + '\n');
      if (writeSync(fd, bytes) !== bytes.length) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
    } catch (e) {
      // a full disk: no half-written lock may stay behind (the next opener would wait on an 'unreadable' lock)
      try { closeSync(fd); } catch { /* ignore */ }
      try { unlinkSync(file); } catch { /* ignore */ }
      throw ioError(file, e, "cannot write the library's lock file");
    }
    closeSync(fd);
    const lock: LibraryLock = {
      file, info,
      release: () => {
        const now = readLock(file);
        // only remove our own lock (never one that someone else took over after declaring ours stale)
        if (now && now !== 'unreadable' && now.nonce === info.nonce) {
          try { unlinkSync(file); } catch { /* already gone */ }
        }
      },
    };
    held.set(file, { lock, refs: 1 });
    return refHandle(file, lock);
  }
  throw new AppError('LIBRARY_LOCKED', `${library}: cannot take the lock ${file} (it keeps changing: another Constellate is opening this library)`);
}

/** Releases every lock this process holds (a forced stop: SIGTERM/SIGINT whose graceful end did not come in time). */
export function releaseAllLocks(): number {
  let n = 0;
  for (const [file, h] of [...held]) {
    held.delete(file);
    try { h.lock.release(); n++; } catch { /* best effort: the process is ending */ }
  }
  return n;
}

function refHandle(file: string, lock: LibraryLock): LibraryLock {
  let released = false;
  return {
    file, info: lock.info,
    release: () => {
      if (released) return;
      released = true;
      const h = held.get(file);
      if (!h) return;
      if (--h.refs === 0) {
        held.delete(file);
        h.lock.release();
      }
    },
  };
}

/**
 * Removes a stale lock without removing a fresh one that another process created meanwhile. Every takeover happens
 * under a guard file (`<lock>.takeover`, created with O_EXCL): under it the lock is read again and removed only when
 * it is still the stale one that was seen. Nothing else removes a lock that is not its own, and a new lock can only be
 * created where none is, so of several processes racing for one stale lock exactly one ends up holding the library.
 * (Moving the lock aside and back, as before, could put a live lock back over a newer one: two holders.)
 */
function takeOverStale(file: string, seen: LockInfo | 'unreadable'): void {
  const guard = `${file}.takeover`;
  const until = Date.now() + 3000;
  let fd: number | null = null;
  while (fd === null) {
    try {
      fd = openSync(guard, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return; // no guard can be made: the caller tries again
      if (guardLeftByDeadProcess(guard)) { try { unlinkSync(guard); } catch { /* another one removed it */ } continue; }
      if (Date.now() > until) return;
      sleepMs(5);
    }
  }
  try {
    try { writeSync(fd, String(process.pid)); } catch { /* the pid is a hint for a guard left behind */ }
    closeSync(fd);
    const cur = readLock(file);
    const same = seen === 'unreadable' ? cur === 'unreadable' : cur !== null && cur !== 'unreadable' && cur.nonce === seen.nonce && cur.pid === seen.pid;
    if (same) { try { unlinkSync(file); } catch { /* gone already */ } }
  } finally {
    try { unlinkSync(guard); } catch { /* ignore */ }
  }
}

/** A takeover guard whose process died (or one never written, older than 2 s): it may be removed. */
function guardLeftByDeadProcess(guard: string): boolean {
  let text: string;
  try { text = readFileSync(guard, 'utf8'); } catch { return false; }
  const pid = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(pid)) return Date.now() - fileAgeHint(guard) > 2000;
  return pid !== process.pid && !pidAlive(pid);
}

/** mtime of the lock file (a lock being written right now has 'now'), 0 when it cannot be read. */
function fileAgeHint(file: string): number {
  try { return statSync(file).mtimeMs; } catch { return 0; }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
