/**
 * The system trash (freedesktop.org Trash specification 1.0, the one GNOME, KDE and Xfce share): a file is moved, never
 * deleted, to `$XDG_DATA_HOME/Trash/files/NAME` (default `~/.local/share/Trash`) with `info/NAME.trashinfo` beside
 * it (`Path=` the percent-encoded absolute path, `DeletionDate=` local time), so the desktop's trash lists it and can
 * restore it. A file on another device than the home trash goes to `$topdir/.Trash-$uid` of its own mount (a rename
 * never crosses devices; nothing is copied and removed). The info file is created first with O_EXCL (which reserves
 * the name), then the file is renamed; restore renames it back (refused if something now stands at the original path)
 * and removes the info file.
 */
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { AppError } from '../../common/errors.ts';
import { config } from '../config.ts';
import { ioError } from '../io-errors.ts';

export interface Trashed {
  /** where the file was */
  original: string;
  /** where it is now (Trash/files/NAME) */
  trashed: string;
  /** its Trash/info/NAME.trashinfo */
  info: string;
}

/** The home trash folder: CONSTELLATE_TRASH (tests), else $XDG_DATA_HOME/Trash, else ~/.local/share/Trash. */
export function homeTrash(): string {
  return config.trash() ?? join(config.xdgDataHome() ?? join(homedir(), '.local/share'), 'Trash');
}

/** The top folder of the mount a path is on (the highest ancestor on the same device). */
function mountTop(path: string): string {
  const dev = statSync(path).dev;
  let dir = dirname(path);
  for (;;) {
    const up = dirname(dir);
    if (up === dir) return dir;
    let d: number;
    try { d = statSync(up).dev; } catch { return dir; }
    if (d !== dev) return dir;
    dir = up;
  }
}

const pad = (x: number) => String(x).padStart(2, '0');
function localDate(t: Date): string {
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
}

/** The spec's Path= value: the absolute path, percent-encoded as a URL path (slashes kept). */
export function trashInfoPath(abs: string): string {
  return abs.split('/').map((s) => encodeURIComponent(s)).join('/');
}

function tryTrash(file: string, trash: string, infoPath: string): Trashed | null {
  const filesDir = join(trash, 'files'), infoDir = join(trash, 'info');
  mkdirSync(filesDir, { recursive: true, mode: 0o700 });
  mkdirSync(infoDir, { recursive: true, mode: 0o700 });
  const ext = extname(file), stem = basename(file, ext);
  for (let i = 1; i < 10_000; i++) {
    const name = i === 1 ? basename(file) : `${stem}.${i}${ext}`;
    const info = join(infoDir, `${name}.trashinfo`);
    const target = join(filesDir, name);
    let fd: number;
    try { fd = openSync(info, 'wx', 0o600); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    try {
      if (existsSync(target)) { closeSync(fd); unlinkSync(info); continue; }
      writeSync(fd, `[Trash Info]\nPath=${infoPath}\nDeletionDate=${localDate(new Date())}\n`);
      closeSync(fd);
    } catch (e) {
      try { unlinkSync(info); } catch { /* ignore */ }
      throw e;
    }
    try {
      renameSync(file, target);
    } catch (e) {
      try { unlinkSync(info); } catch { /* ignore */ }
      if ((e as NodeJS.ErrnoException).code === 'EXDEV') return null;
      throw e;
    }
    return { original: file, trashed: target, info };
  }
  throw new AppError('IO', `${file}: no free name in the trash ${trash}`);
}

/** Moves a file to the trash (never deletes it); an AppError('IO') naming the file when it cannot be moved. */
export function moveToTrash(file: string): Trashed {
  let st;
  try { st = lstatSync(file); } catch (e) { throw ioError(file, e, 'cannot move to the trash'); }
  if (!st.isFile()) throw new AppError('BAD_ARGUMENT', `${file}: not a file, not moved to the trash`);
  try {
    const home = homeTrash();
    const r = tryTrash(file, home, trashInfoPath(file));
    if (r) return r;
    // another device: the mount's own $topdir/.Trash-$uid (Path= relative to the top folder, as the spec allows)
    const top = mountTop(file);
    const rel = file.slice(top.length).replace(/^\/+/, '');
    const r2 = tryTrash(file, join(top, `.Trash-${userInfo().uid}`), trashInfoPath(rel));
    if (r2) return r2;
    throw new AppError('IO', `${file}: cannot move it to a trash on its own device; left in place`);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw ioError(file, e, 'cannot move to the trash');
  }
}

/** Puts a trashed file back where it was and removes its info file; refused (CONFLICT) if the place is taken now. */
export function restoreFromTrash(t: Trashed): void {
  if (existsSync(t.original)) throw new AppError('CONFLICT', `${t.original} exists again: ${t.trashed} is left in the trash`);
  try {
    mkdirSync(dirname(t.original), { recursive: true });
    renameSync(t.trashed, t.original);
  } catch (e) { throw ioError(t.original, e, 'cannot restore from the trash'); }
  try { unlinkSync(t.info); } catch { /* the desktop may have emptied it already */ }
}
