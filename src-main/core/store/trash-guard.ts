/** The trash guard's repository: what the scan stored of a photo's file (path, size, hash) and its library folder. */
import type { Db } from './db.ts';

export interface ScannedFileRow { path: string; size: number; hash: string; root: string }

/** A reader of photos' scanned files (prepared once): undefined for an unknown photo. */
export function scannedFileReader(db: Db): (photoId: number) => ScannedFileRow | undefined {
  const q = db.prepare('SELECT p.path, p.size, p.hash, r.path AS root FROM photos p JOIN roots r ON r.id = p.root_id WHERE p.id = ?');
  return (photoId) => q.get(photoId) as ScannedFileRow | undefined;
}

/** Every photo's scanned file (path, size, hash): what a restored library expects to find on disk. */
export function scannedFiles(db: Db): Array<{ path: string; size: number; hash: string }> {
  return db.prepare('SELECT path, size, hash FROM photos ORDER BY id').all() as Array<{ path: string; size: number; hash: string }>;
}
