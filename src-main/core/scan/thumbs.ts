/** Thumbnails: JPEGs in the library's cache, keyed by content hash, written atomically. */
import { existsSync } from 'node:fs';
import { renderThumb } from '../thumb-cache.ts';
import { saveThumb, thumbFile } from '../thumb-path.ts';
import sharp from 'sharp';

export async function writeThumb(input: Buffer, thumbDir: string, key: string): Promise<string> {
  const file = thumbFile(thumbDir, key);
  if (existsSync(file)) {
    // still decode fully so that a damaged file is detected even when its thumbnail exists
    await sharp(input, { failOn: 'truncated', limitInputPixels: 200_000_000 }).resize(8, 8, { fit: 'inside' }).raw().toBuffer();
    return file;
  }
  await saveThumb(file, await renderThumb(input));
  return file;
}
