/**
 * The export target folder: checked writable before a job starts, files written under temporary names and published
 * under free names (never over a file already there), temporaries of a crashed export cleaned up.
 */
import { fsPath } from '../fs-names.ts';
import { closeSync, constants, existsSync, openSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { link, rename, symlink, unlink } from 'node:fs/promises';
import { fsyncDir } from '../atomic-write.ts';
import { checkNotPseudoFs } from '../safe-write.ts';
import { describeIoError } from '../io-errors.ts';
import { dirname, join } from 'node:path';
import { AppError } from '../../common/errors.ts';
import { NameSet } from './names.ts';

/** the name prefix of an export's temporary files (a crash leaves them; the next export of the folder removes them) */
export const TEMP_PREFIX = '.constellate-export-';

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);
}

/** A target that is not a folder (under a file, ENOTDIR/EEXIST) is bad input; permission, disk full, I/O are IO. */
export function cannotWrite(dir: string, e: unknown): AppError {
  if (e instanceof AppError) return e;
  const c = errCode(e);
  return new AppError(c === 'ENOTDIR' || c === 'EEXIST' ? 'BAD_ARGUMENT' : 'IO', `${dir}: cannot write there (${describeIoError(e)})`);
}

/** Makes sure `dir` is a folder we can create files in (creating it); one clear error naming it otherwise. */
export function ensureWritableDir(dir: string): void {
  // never under /proc or /sys: a recursive mkdir on procfs loops forever on ENOENT
  checkNotPseudoFs(dir, 'to');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw cannotWrite(dir, e);
  }
  let st;
  try { st = statSync(dir); } catch (e) { throw cannotWrite(dir, e); }
  if (!st.isDirectory()) throw new AppError('BAD_ARGUMENT', `${dir}: cannot write there (not a folder)`);
  const probe = join(dir, `${TEMP_PREFIX}probe-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  try {
    // exclusive create: never touches an existing file
    closeSync(openSync(probe, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY));
    unlinkSync(probe);
  } catch (e) {
    throw cannotWrite(dir, e);
  }
}

/** Checks without creating anything that `dir` is or can become a folder (its nearest existing ancestor is a folder). */
export function checkTargetDry(dir: string): void {
  checkNotPseudoFs(dir, 'to');
  let p = dir;
  for (;;) {
    let st;
    try { st = statSync(p); } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      if (c === 'ENOENT') { const up = dirname(p); if (up === p) return; p = up; continue; }
      throw cannotWrite(dir, e);
    }
    if (!st.isDirectory()) throw new AppError('BAD_ARGUMENT', `${dir}: cannot write there (${p === dir ? 'not a folder' : `${p} is a file, ENOTDIR`})`);
    return;
  }
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Names in a folder. Temp files left by an export that was killed (SIGKILL, power loss) are ours, carry the dead
 * process's pid, and are removed here (only when `clean`; never anything else).
 */
export function listNames(dir: string, clean = false): { all: string[]; nonDirs: string[] } {
  try {
    let ents = readdirSync(dir, { withFileTypes: true });
    if (clean) {
      ents = ents.filter((e) => {
        const m = /^\.constellate-export-(\d+)-.*\.tmp$/.exec(e.name);
        if (!m || !e.isFile() || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) return true;
        try { unlinkSync(join(dir, e.name)); return false; } catch { return true; }
      });
    }
    return { all: ents.map((e) => e.name), nonDirs: ents.filter((e) => !e.isDirectory()).map((e) => e.name) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { all: [], nonDirs: [] };
    throw cannotWrite(dir, e);
  }
}

/** Temp files of this export; removed if it ends early. */
export class Temps {
  private set = new Set<string>();
  name(dir: string, ext = ''): string {
    const p = join(dir, `${TEMP_PREFIX}${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}${ext}.tmp`);
    this.set.add(p);
    return p;
  }
  done(p: string): void { this.set.delete(p); }
  removeAll(): void {
    for (const p of this.set) { try { unlinkSync(p); } catch { /* already gone */ } }
    this.set.clear();
  }
}

/**
 * Moves a finished temp file to the first free name in `dir`, never replacing anything: link() fails on an existing
 * name (EEXIST) and we try the next; where hard links are unsupported (FAT, some network shares) a checked rename.
 */
export async function publish(tmp: string, dir: string, names: NameSet, wanted: string): Promise<{ name: string; collided: boolean }> {
  let name = names.take(wanted);
  let collided = name !== wanted;
  for (let tries = 0; tries < 10_000; tries++) {
    const target = join(dir, name);
    try {
      await link(tmp, fsPath(target));
      await unlink(tmp);
      fsyncDir(dir);
      return { name, collided };
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      if (c === 'EEXIST') { name = names.take(wanted); collided = true; continue; }
      if (c === 'EPERM' || c === 'ENOTSUP' || c === 'EOPNOTSUPP' || c === 'ENOSYS' || c === 'EXDEV' || c === 'EMLINK') {
        if (existsSync(fsPath(target))) { name = names.take(wanted); collided = true; continue; }
        await rename(tmp, fsPath(target));
        fsyncDir(dir);
        return { name, collided };
      }
      throw cannotWrite(dir, e);
    }
  }
  throw new AppError('IO', `${dir}: no free name for ${wanted}`);
}

/** Creates a link/symlink at the first free name; both are atomic and fail on an existing name. */
export async function linkFree(kind: 'hardlink' | 'symlink', src: string, dir: string, names: NameSet, wanted: string): Promise<{ name: string; collided: boolean }> {
  let name = names.take(wanted);
  let collided = name !== wanted;
  for (let tries = 0; tries < 10_000; tries++) {
    const target = join(dir, name);
    try {
      if (kind === 'hardlink') await link(fsPath(src), fsPath(target));
      else await symlink(fsPath(src), fsPath(target));
      return { name, collided };
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      if (c === 'EEXIST') { name = names.take(wanted); collided = true; continue; }
      if (kind === 'hardlink' && c === 'EXDEV') throw new AppError('IO', `${dir}: --link hardlink needs the same file system as the photos (${src}); use --link copy or symlink`);
      if (kind === 'symlink' && c === 'EPERM' && process.platform === 'win32') throw new AppError('IO', `${dir}: Windows refused to create a symbolic link (needs Developer Mode or admin rights); use --link copy or hardlink`);
      throw cannotWrite(dir, e);
    }
  }
  throw new AppError('IO', `${dir}: no free name for ${wanted}`);
}
