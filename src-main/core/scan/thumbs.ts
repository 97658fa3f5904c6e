/** Thumbnails: JPEGs in the library's cache, keyed by content hash, written atomically. */
import { existsSync } from 'node:fs';
import { saveThumb, thumbFile } from '../thumb-path.ts';
import sharp from 'sharp';

export const THUMB_SIZE = 256;

/** A photo's thumbnail JPEG from its bytes: EXIF-rotated, at most THUMB_SIZE px on its long side, never enlarged. */
export async function renderThumb(input: Buffer): Promise<Buffer> {
  return sharp(input, { failOn: 'truncated', limitInputPixels: 200_000_000, sequentialRead: true })
    .rotate()
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 78, mozjpeg: false })
    .toBuffer();
}

export async function writeThumb(input: Buffer, thumbDir: string, key: string): Promise<string> {
  const file = thumbFile(thumbDir, key);
  if (existsSync(file)) {
    // still decode fully so that a damaged file is detected even when its thumbnail exists
    await sharp(input, { failOn: 'truncated', limitInputPixels: 200_000_000 }).resize(8, 8, { fit: 'inside' }).raw().toBuffer();
    return file;
  }
  saveThumb(file, await renderThumb(input));
  return file;
}
