/**
 * The recent libraries of this user: kept outside any library, in the user data folder (`recent-libraries.json`),
 * newest first. The app instances that serve a library (desktop, serve mode) record the ones they open.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RecentLibrary } from '../common/api.ts';
import { writeFileAtomicSync } from './atomic-write.ts';
import { userDataDir } from './library.ts';

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
