/**
 * The recent libraries of this user: kept outside any library, in the user data folder (`recent-libraries.json`),
 * newest first. The app instances that serve a library (desktop, serve mode) record the ones they open.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LibraryCheck, RecentLibrary } from '../common/api.ts';
import { AppError } from '../common/errors.ts';
import { writeFileAtomicSync } from './atomic-write.ts';
import { userDataDir } from './library.ts';
import { inspectLibrary } from './store/db.ts';
import { LATEST_VERSION } from './store/migrations.ts';
import { userPath } from './user-path.ts';

function samePath(a: string, b: string): boolean {
  if (a === b) return true;
  try { return realpathSync(a) === realpathSync(b); } catch { return false; }
}

/**
 * Whether `path` can be opened as a library (or, with `create`, made one), before anything is opened or asked: a
 * folder, a file of another kind, an empty file, a damaged or newer library and a missing one (without `create`) are
 * refused with the reason; nothing is created or changed. `current`: the library open now, if any.
 */
export function checkLibraryPath(path: string, create: boolean, current: string | null): LibraryCheck {
  const abs = userPath('path', path);
  if (current && samePath(abs, current)) return { path: abs, exists: true, current: true, version: LATEST_VERSION };
  if (!existsSync(abs)) {
    if (!create) throw new AppError('NOT_FOUND', `${abs}: no library there (choose "New library" to make one)`);
    let dir;
    try { dir = statSync(dirname(abs)); } catch { throw new AppError('NOT_FOUND', `${dirname(abs)}: no such folder for the new library`); }
    if (!dir.isDirectory()) throw new AppError('BAD_ARGUMENT', `path: ${dirname(abs)} is not a folder`);
    return { path: abs, exists: false, current: false, version: 0 };
  }
  let st;
  try { st = statSync(abs); } catch (e) { throw new AppError('IO', `${abs}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  if (st.isDirectory()) {
    // a photo folder or the folder a library is in: name the library files it holds, if any
    let inside: string[] = [];
    try { inside = readdirSync(abs).filter((f) => f.endsWith('.constellate')).sort().slice(0, 3); } catch { /* unreadable: said below */ }
    throw new AppError('NOT_A_LIBRARY', `${abs}: is a folder, not a library file` +
      (inside.length ? ` (it holds ${inside.map((f) => join(abs, f)).join(', ')}: open that)` : ' (a library is one file, such as ~/Pictures/holidays.constellate; add photo folders from the Library view)'));
  }
  const found = inspectLibrary(abs);
  if (found.version > LATEST_VERSION) {
    throw new AppError('LIBRARY_TOO_NEW', `${abs}: this library was written by a newer version of Constellate (schema ${found.version}, this version knows up to ${LATEST_VERSION}); update the app to open it`);
  }
  // an empty file (or an empty database) is not a library yet: only "New library" makes it one
  if (found.version === 0 && !create) throw new AppError('NOT_A_LIBRARY', `${abs}: an empty file, not a library yet (choose "New library" to make one there)`);
  return { path: abs, exists: true, current: false, version: found.version };
}


/** How many libraries the recent list keeps. */
export const RECENT_MAX = 10;

export function recentLibrariesFile(): string {
  return join(userDataDir(), 'recent-libraries.json');
}

interface RecentRecord { path: string; openedAt: number }

function readRecords(file: string): RecentRecord[] {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { libraries?: unknown };
    if (!Array.isArray(v.libraries)) return [];
    return v.libraries.filter((x): x is RecentRecord => !!x && typeof (x as RecentRecord).path === 'string' && typeof (x as RecentRecord).openedAt === 'number');
  } catch {
    return []; // none yet, or unreadable: the list starts again (it is a convenience, never the library's data)
  }
}

/** Puts `path` first in the recent list (at most RECENT_MAX); a list that cannot be written is skipped. */
export function rememberLibrary(path: string, file = recentLibrariesFile()): void {
  const list = [{ path, openedAt: Date.now() }, ...readRecords(file).filter((r) => r.path !== path)].slice(0, RECENT_MAX);
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomicSync(file, JSON.stringify({ libraries: list }, null, 2) + '\n');
  } catch { /* a read-only home: the list is not kept, opening still works */ }
}

/** The recent libraries, newest first, each saying whether its file is still there and whether it is open now. */
export function recentLibraries(current: string | null, file = recentLibrariesFile()): RecentLibrary[] {
  return readRecords(file).map((r) => ({ path: r.path, name: basename(r.path), openedAt: r.openedAt, exists: existsSync(r.path), current: r.path === current }));
}
