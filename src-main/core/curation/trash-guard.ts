/**
 * What may go to the trash: only the file that was scanned. Before anything is moved, every file is checked
 * against its photo row: still a regular file (not a symlink), every folder from the library folder down to it still
 * a real folder (a folder swapped for a symlink to elsewhere is refused) and its real folder inside the library's, the same size and the same content hash
 * (a photo replaced since the scan is refused). The bytes are hashed through a descriptor whose inode is compared
 * with the path's, so what was hashed is what would be moved. One refusal refuses the whole edit (CONFLICT, the file
 * named), and nothing is moved.
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { AppError } from '../../common/errors.ts';
import type { Db } from '../store/db.ts';
import { scannedFileReader } from '../store/trash-guard.ts';
import { openRegularSync, readRangeSync } from '../safe-read.ts';

function refuse(path: string, why: string): AppError {
  return new AppError('CONFLICT', `${path}: ${why}; nothing was moved to the trash (scan again, then retry)`);
}

/**
 * The content hash the scanner stores: the first 32 hex digits of the file's sha256, read through the one reader
 * (a regular file only); with `ino`, the descriptor's inode must be that one.
 */
export function contentHash(path: string, ino?: number): string {
  const f = openRegularSync(path, 'columnar');
  try {
    if (ino !== undefined && f.stat.ino !== ino) throw refuse(path, 'was replaced while it was checked');
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(Math.max(f.size, 1), 8 << 20));
    for (let off = 0; off < f.size;) {
      const n = readRangeSync(f, buf, off, Math.min(buf.length, f.size - off));
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      off += n;
    }
    return h.digest('hex').slice(0, 32);
  } finally {
    closeSync(f.fd);
  }
}

/** Checks each photo's file is the one scanned, inside its library folder; returns the paths (in order) or throws. */
export function checkTrashable(db: Db, photoIds: number[]): string[] {
  const scanned = scannedFileReader(db);
  return photoIds.map((id) => {
    const row = scanned(id);
    if (!row) throw new AppError('NOT_FOUND', `photo ${id} does not exist`);
    const { path } = row;
    let st;
    try { st = lstatSync(path); } catch { throw refuse(path, 'is gone since the scan'); }
    if (st.isSymbolicLink()) throw refuse(path, 'is now a symbolic link');
    if (!st.isFile()) throw refuse(path, 'is no longer a regular file');
    // every folder from the library folder down to the file must still be a real folder, not a symlink swapped in
    const rel = relative(row.root, dirname(path));
    if (rel.startsWith('..') || isAbsolute(rel)) throw refuse(path, `is not inside the library folder ${row.root}`);
    let dir = row.root;
    for (const part of ['', ...(rel ? rel.split(sep) : [])]) {
      dir = part ? join(dir, part) : dir;
      let ds;
      try { ds = lstatSync(dir); } catch { throw refuse(path, `its folder ${dir} is gone since the scan`); }
      if (ds.isSymbolicLink()) throw refuse(path, `its folder ${dir} is now a symbolic link (to ${(() => { try { return realpathSync(dir); } catch { return '?'; } })()})`);
      if (!ds.isDirectory()) throw refuse(path, `${dir} is no longer a folder`);
    }
    let realDir: string, realRoot: string;
    try { realDir = realpathSync(dirname(path)); realRoot = realpathSync(row.root); } catch { throw refuse(path, 'its folder is gone since the scan'); }
    if (realDir !== realRoot && !realDir.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
      throw refuse(path, `its folder now leads outside the library folder ${row.root} (to ${realDir})`);
    }
    if (st.size !== row.size) throw refuse(path, `changed since the scan (${st.size} bytes, ${row.size} when scanned)`);
    if (contentHash(path, st.ino) !== row.hash) throw refuse(path, 'changed since the scan (its content is not the photo scanned)');
    return path;
  });
}
