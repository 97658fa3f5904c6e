/**
 * The file of a thumbnail in a cache folder: `<thumbDir>/<first two hex digits>/<key>.jpg`. The one place a
 * thumbnail's path is made (Library.thumbPath, the scanner's writer, the embed workers; check, export and
 * removeFolder go through Library.thumbPath). A key that is not a cache key (common/thumbs.ts) is refused, so no
 * route or stored value can name another file.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError } from '../common/errors.ts';
import { isPhotoHash, isThumbKey } from '../common/thumbs.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { ioError } from './io-errors.ts';

export function thumbFile(thumbDir: string, key: string): string {
  if (!isThumbKey(key)) throw new AppError('BAD_ARGUMENT', `thumbnail key: ${JSON.stringify(String(key).slice(0, 80))} is not a cache key`);
  return join(thumbDir, key.slice(0, 2), `${key}.jpg`);
}

/** The file of a photo's viewer-size preview: `<previewDir>/<first two hex digits>/<hash>.jpg`; a non-hash is refused. */
export function previewFile(previewDir: string, hash: string): string {
  if (!isPhotoHash(hash)) throw new AppError('BAD_ARGUMENT', `photo hash: ${JSON.stringify(String(hash).slice(0, 80))} is not a content hash`);
  return join(previewDir, hash.slice(0, 2), `${hash}.jpg`);
}

/**
 * Writes a thumbnail's JPEG to its file unless one is there (the one writer of the scanner, the embed workers, a face
 * drawn by hand and the cache's rebuild): atomic, checked and size-verified, not fsynced (a cache, rebuilt from the
 * photo). Asynchronous: the scanner and the thumbnail routes call it on the main process's thread.
 */
export async function saveThumb(file: string, jpeg: Uint8Array): Promise<void> {
  if (existsSync(file)) return;
  try { await mkdir(dirname(file), { recursive: true }); } catch (e) { throw ioError(dirname(file), e, 'cannot make the thumbnail folder'); }
  await writeFileAtomic(file, jpeg, { tmp: `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`, durable: false });
}
