/**
 * The one checked atomic write. Everything Constellate publishes as a file (exports, .npy, ids lists, thumbnails)
 * goes through here: data are written to a temp file in the same folder, every write is checked (short writes are
 * continued, a write that makes no progress is an error), the file and then its folder are fsynced, the size on disk
 * is verified, and only then is it renamed (or linked by the caller) under the final name. On any failure the temp is
 * removed and an AppError('IO') names the file and the cause ("the disk is full (ENOSPC)"); nothing truncated is ever
 * left under a final name.
 */
import { closeSync, fchmodSync, fstatSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../common/errors.ts';
import { ioError } from './io-errors.ts';
import { pidAlive } from './store/lock.ts';

/** A temp name next to `file` (same folder, so the final rename is atomic). */
export function tempNameFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
}

/** A temp named by tempNameFor: `.NAME.<pid>.<random>.tmp` (NAME, the pid). */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-z]+\.tmp$/;

/**
 * Removes the files in `dir` that a process that is gone left behind: `pidOf` gives the pid a name belongs to (null:
 * not such a file); a live process's file (this one's or another's) is left. Returns the paths removed.
 */
export function removeDeadProcessFiles(dir: string, pidOf: (name: string) => number | null): string[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  const out: string[] = [];
  for (const n of names) {
    const pid = pidOf(n);
    if (pid === null || pid === process.pid || pidAlive(pid)) continue;
    try { unlinkSync(join(dir, n)); out.push(join(dir, n)); } catch { /* gone already, or not ours to remove */ }
  }
  return out;
}

/** The temps (tempNameFor's) in `dir` of the targets `which` accepts, left by a process that is gone, removed. */
export function removeLeakedTemps(dir: string, which: (target: string) => boolean = () => true): string[] {
  return removeDeadProcessFiles(dir, (n) => {
    const m = TEMP_NAME.exec(n);
    return m && which(m[1]!) ? Number(m[2]) : null;
  });
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** fsync of a folder, so that a rename in it survives a crash; file systems that cannot fsync folders are fine. */
export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    if (c !== 'EINVAL' && c !== 'EISDIR' && c !== 'EPERM' && c !== 'EACCES' && c !== 'ENOTSUP') throw e;
  } finally {
    if (fd !== null) try { closeSync(fd); } catch { /* ignore */ }
  }
}

/** Writes all of `bytes` at the fd's position, continuing short writes; throws on a write that makes no progress. */
export function writeAllSync(fd: number, bytes: Uint8Array, file: string): void {
  let off = 0;
  while (off < bytes.length) {
    const n = writeSync(fd, bytes, off, bytes.length - off);
    if (n <= 0) throw Object.assign(new Error(`${file}: short write`), { code: 'ENOSPC' });
    off += n;
  }
}

/** Synchronous checked atomic write of a whole file. */
export interface AtomicOptions {
  /** temp path (default: a hidden name next to the file) */
  tmp?: string;
  /** fsync the file and folder (default true); caches that can be rebuilt (thumbnails) skip it */
  durable?: boolean;
  /** permission bits of the file (default 0644 less the umask); set exactly, so a 0600 file stays 0600 */
  mode?: number;
}

export function writeFileAtomicSync(file: string, data: string | Uint8Array | Uint8Array[], opts: AtomicOptions = {}): void {
  const tmp = opts.tmp ?? tempNameFor(file);
  const parts = Array.isArray(data) ? data : [toBytes(data)];
  const expected = parts.reduce((s, p) => s + p.length, 0);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
    if (opts.mode !== undefined) fchmodSync(fd, opts.mode);
    for (const p of parts) writeAllSync(fd, p, tmp);
    if (opts.durable !== false) fsyncSync(fd);
    const size = fstatSync(fd).size;
    if (size !== expected) throw Object.assign(new Error(`size ${size} instead of ${expected}`), { code: 'EIO' });
    closeSync(fd);
    fd = null;
    renameSync(tmp, file);
    if (opts.durable !== false) fsyncDir(dirname(file));
  } catch (e) {
    if (fd !== null) try { closeSync(fd); } catch { /* ignore */ }
    try { unlinkSync(tmp); } catch { /* not created or already gone */ }
    throw ioError(file, e);
  }
}

/**
 * A checked temp file written piece by piece (a large CSV/JSON export); `finish()` fsyncs and verifies it and
 * returns its path for the caller to publish (rename or link); `abort()` removes it.
 */
export class CheckedTempFile {
  private fh: FileHandle | null = null;
  private written = 0;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private constructor(readonly tmp: string, readonly target: string, private durable: boolean) {}

  /** `target` is the file (or folder) named in errors. */
  static async create(tmp: string, target = tmp, durable = true): Promise<CheckedTempFile> {
    const f = new CheckedTempFile(tmp, target, durable);
    try {
      f.fh = await open(tmp, 'wx', 0o644);
    } catch (e) {
      throw ioError(target, e);
    }
    return f;
  }

  async write(data: string | Uint8Array): Promise<void> {
    const b = toBytes(data);
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= 1 << 18) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buf = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    let off = 0;
    try {
      while (off < buf.length) {
        const { bytesWritten } = await this.fh!.write(buf, off, buf.length - off);
        if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
        off += bytesWritten;
      }
    } catch (e) {
      await this.abort();
      throw ioError(this.target, e);
    }
    this.written += buf.length;
  }

  /** Flushes, fsyncs, verifies the size and closes; returns the temp's path. */
  async finish(): Promise<string> {
    await this.flush();
    try {
      if (this.durable) await this.fh!.sync();
      const { size } = await this.fh!.stat();
      if (size !== this.written) throw Object.assign(new Error(`size ${size} instead of ${this.written}`), { code: 'EIO' });
      await this.fh!.close();
      this.fh = null;
    } catch (e) {
      await this.abort();
      throw ioError(this.target, e);
    }
    return this.tmp;
  }

  async abort(): Promise<void> {
    try { await this.fh?.close(); } catch { /* ignore */ }
    this.fh = null;
    try { await unlink(this.tmp); } catch { /* ignore */ }
  }
}

/** Async checked atomic write of a whole file (temp in the same folder, checked, fsynced, verified, renamed). */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicOptions = {}): Promise<void> {
  const f = await CheckedTempFile.create(opts.tmp ?? tempNameFor(file), file, opts.durable !== false);
  await f.write(data);
  const tmp = await f.finish();
  try {
    await rename(tmp, file);
    if (opts.durable !== false) fsyncDir(dirname(file));
  } catch (e) {
    try { await unlink(tmp); } catch { /* ignore */ }
    throw ioError(file, e);
  }
}

/** Checks that a copied file has the size of its source and syncs it (copyFile does neither). */
export async function verifyCopy(tmp: string, expectedSize: number, target: string): Promise<void> {
  let fh: FileHandle | null = null;
  try {
    fh = await open(tmp, 'r+');
    await fh.sync();
    const { size } = await fh.stat();
    if (size !== expectedSize) throw Object.assign(new Error(`copied ${size} of ${expectedSize} bytes`), { code: 'EIO' });
  } catch (e) {
    throw e instanceof AppError ? e : ioError(target, e);
  } finally {
    try { await fh?.close(); } catch { /* ignore */ }
  }
}
