/** Thumbnails: JPEGs in the library's cache, keyed by content hash, written atomically. */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../atomic-write.ts';
import { dirname } from 'node:path';
import { thumbFile } from '../thumb-path.ts';
import sharp from 'sharp';

export const THUMB_SIZE = 256;

export async function writeThumb(input: Buffer, thumbDir: string, key: string): Promise<string> {
  const file = thumbFile(thumbDir, key);
  if (existsSync(file)) {
    // still decode fully so that a damaged file is detected even when its thumbnail exists
    await sharp(input, { failOn: 'truncated', limitInputPixels: 200_000_000 }).resize(8, 8, { fit: 'inside' }).raw().toBuffer();
    return file;
  }
  const out = await sharp(input, { failOn: 'truncated', limitInputPixels: 200_000_000, sequentialRead: true })
    .rotate()
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 78, mozjpeg: false })
    .toBuffer();
  await mkdir(dirname(file), { recursive: true });
  // a cache (rebuilt from the photo): every write checked and the size verified, not fsynced
  await writeFileAtomic(file, out, { tmp: `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`, durable: false });
  return file;
}
