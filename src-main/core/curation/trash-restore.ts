/**
 * After a restore: the photos the restored library holds whose files a later keep-best moved to the trash come back
 * to their places. The undo that would have moved them back belonged to edits the restore replaced, so the trash
 * itself is the record: every `.trashinfo` of the home trash and of the photos' mounts' `.Trash-$uid` whose `Path=`
 * is a photo missing now. A file comes back only if it is still the photo scanned (same size, same content hash)
 * and nothing stands at its place; anything else stays in the trash, said in `problems`.
 */
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { Db } from '../store/db.ts';
import { scannedFiles } from '../store/trash-guard.ts';
import { errorCode } from '../io-errors.ts';
import { readFileSafeSync } from '../safe-read.ts';
import { homeTrash, restoreFromTrash } from './trash.ts';
import { contentHash } from './trash-guard.ts';

export interface UntrashReport { restored: string[]; problems: string[] }

function missing(path: string): boolean {
  try { lstatSync(path); return false; } catch (e) { return errorCode(e) === 'ENOENT'; }
}

/** The folder nearest to `path` that exists (the path itself if it does). */
function existingAncestor(path: string): string | null {
  for (let p = path; ; p = dirname(p)) {
    if (!missing(p)) return p;
    if (dirname(p) === p) return null;
  }
}

/** The highest folder above `dir` (itself included) on the same device: the top of its mount. */
function folderMountTop(dir: string): string {
  const dev = statSync(dir).dev;
  let top = dir;
  for (;;) {
    const up = dirname(top);
    if (up === top) return top;
    try { if (statSync(up).dev !== dev) return top; } catch { return top; }
    top = up;
  }
}

/** `Path=` of a trash info file, decoded; relative paths (a mount's own trash) against `top`. */
function infoPath(text: string, top: string): string | null {
  const line = text.split('\n').find((l) => l.startsWith('Path='));
  if (!line) return null;
  let p: string;
  try { p = line.slice(5).trim().split('/').map((s) => decodeURIComponent(s)).join('/'); } catch { return null; }
  return isAbsolute(p) ? p : join(top, p);
}

/** Brings back from the trash the scanned files of `db`'s photos that are missing now (see the module comment). */
export function untrashScanned(db: Db): UntrashReport {
  const report: UntrashReport = { restored: [], problems: [] };
  const want = new Map<string, { size: number; hash: string }>();
  for (const r of scannedFiles(db)) if (missing(r.path)) want.set(r.path, { size: r.size, hash: r.hash });
  if (want.size === 0) return report;
  // the home trash, and the trash of each mount a missing photo was on (top folder: where relative paths start)
  const trashes = new Map<string, string>([[homeTrash(), '/']]);
  const uid = userInfo().uid;
  for (const dir of new Set([...want.keys()].map((p) => dirname(p)))) {
    const have = existingAncestor(dir);
    if (!have) continue;
    try { const top = folderMountTop(have); trashes.set(join(top, `.Trash-${uid}`), top); } catch { /* unreadable: the home trash only */ }
  }
  for (const [trash, top] of trashes) {
    let names: string[];
    try { names = readdirSync(join(trash, 'info')); } catch { continue; }
    for (const n of names) {
      if (!n.endsWith('.trashinfo') || want.size === 0) continue;
      const info = join(trash, 'info', n);
      let original: string | null;
      try { original = infoPath(readFileSafeSync(info, 'trashinfo', undefined, 'utf8'), top); } catch { continue; }
      const w = original ? want.get(original) : undefined;
      if (!original || !w) continue;
      const trashed = join(trash, 'files', n.slice(0, -'.trashinfo'.length));
      try {
        const st = lstatSync(trashed);
        if (!st.isFile() || st.size !== w.size || contentHash(trashed, st.ino) !== w.hash) continue; // another file of that name
        restoreFromTrash({ original, trashed, info });
        want.delete(original);
        report.restored.push(original);
      } catch (e) {
        report.problems.push(`${original}: left in the trash (${(e as Error).message})`);
      }
    }
  }
  return report;
}
