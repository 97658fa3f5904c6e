/**
 * Photo thumbnails, and thumbnails rebuilt when the cache lost them (a cleared or deleted cache folder, a library moved
 * without it). `renderThumb` makes a photo's thumbnail for the scanner and for the rebuild alike. The route that serves
 * a thumbnail asks here, and a file that is not in the cache is made again from the photo it shows: a photo's
 * thumbnail as the scan makes it, a face's aligned crop from the photo and the 68 landmarks stored with the face (the
 * same pixels as the face pipeline's). Only keys of the library's own photos and faces are made; a photo whose file
 * is gone or changed since its scan is NOT_FOUND or CONFLICT naming it, an undecodable one BAD_IMAGE; a full disk is
 * IO. At most two renders at once, one per key.
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { AppError } from '../common/errors.ts';
import { alignedFaceCrop, decodeRgb, faceCropJpeg } from './models/image.ts';
import { RenderGate, readScannedPhoto, type PreviewSource } from './preview.ts';
import { saveThumb, thumbFile } from './thumb-path.ts';

export const THUMB_SIZE = 256;

/**
 * A photo's thumbnail JPEG from its bytes (the scanner's and the rebuild's): EXIF-rotated, at most THUMB_SIZE px on its
 * long side, never enlarged.
 */
export async function renderThumb(input: Buffer): Promise<Buffer> {
  return sharp(input, { failOn: 'truncated', limitInputPixels: 200_000_000, sequentialRead: true })
    .rotate()
    .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 78, mozjpeg: false })
    .toBuffer();
}

/** What a thumbnail key names: the photo's file and size when scanned, and for a face crop its landmarks. */
export interface ThumbSource extends PreviewSource {
  /** a face crop: the face's 68 landmarks (null when none were stored); absent for a photo's own thumbnail */
  face?: { landmarks: Float32Array | null };
}

export class ThumbCache {
  private readonly gate = new RenderGate(2);

  constructor(private readonly dir: string, private readonly source: (key: string) => ThumbSource | null) {}

  /** The thumbnail file of a key of the library, made again from its photo when the cache has lost it. */
  file(key: string): Promise<string> {
    let file: string;
    try { file = thumbFile(this.dir, key); } catch (e) { return Promise.reject(e); } // refuses anything but a key
    if (existsSync(file)) return Promise.resolve(file);
    const src = this.source(key);
    if (!src) return Promise.reject(new AppError('NOT_FOUND', `no photo or face of this library has the thumbnail ${key}`));
    return this.gate.run(key, async () => {
      const input = await readScannedPhoto(src);
      await saveThumb(file, await (src.face ? faceCrop(src.path, src.face.landmarks, input) : photoThumb(src.path, input)));
      return file;
    });
  }
}

async function photoThumb(path: string, input: Buffer): Promise<Buffer> {
  try {
    return await renderThumb(input);
  } catch (e) {
    throw new AppError('BAD_IMAGE', `${path}: cannot be decoded for its thumbnail (${(e as Error).message.split('\n')[0]}); the file may be damaged or truncated`);
  }
}

async function faceCrop(path: string, landmarks: Float32Array | null, input: Buffer): Promise<Buffer> {
  if (!landmarks) throw new AppError('NOT_FOUND', `${path}: this face's crop cannot be made again (no landmarks stored with it); embed the faces of its folder again`);
  let img;
  try { img = await decodeRgb(input); } catch (e) { throw new AppError('BAD_IMAGE', `${path}: cannot be decoded for its face crop (${(e as Error).message}); the file may be damaged or truncated`); }
  return faceCropJpeg(alignedFaceCrop(img, landmarks));
}
