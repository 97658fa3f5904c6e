/**
 * Images for exports: face crops cut from the EXIF-rotated photo (tagged so that import-labels can find the face
 * again), and small JPEG data URIs for the HTML report.
 */
import { fsPath } from '../fs-names.ts';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { Library } from '../library.ts';
import type { ExportItem } from './items.ts';

/**
 * Written into every exported face crop's EXIF ImageDescription: the photo's content hash and the face box, so a
 * crop moved into a label folder can be matched back to its face (import-labels), in this library or another one
 * holding the same photo.
 */
export const FACE_TAG = 'constellate:face:';

export function faceTag(hash: string, box: [number, number, number, number]): string {
  return `${FACE_TAG}${hash}:${box.map((v) => Math.round(v * 100) / 100).join(',')}`;
}

/** Finds a face tag in the first 64 KiB of a file (EXIF lives in the JPEG's APP1 segment, at the start). */
export function readFaceTag(buf: Buffer): { hash: string; box: [number, number, number, number] } | null {
  const head = buf.subarray(0, 65536);
  const at = head.indexOf(FACE_TAG, 0, 'latin1');
  if (at < 0) return null;
  const m = /^constellate:face:([0-9a-f]{16,64}):(-?[\d.]+),(-?[\d.]+),([\d.]+),([\d.]+)/.exec(head.subarray(at, at + 200).toString('latin1'));
  if (!m) return null;
  const box = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])] as [number, number, number, number];
  return box.every(Number.isFinite) ? { hash: m[1], box } : null;
}

/** The face's box cut from the EXIF-rotated photo, as a JPEG carrying the face tag. */
export async function faceCrop(path: string, hash: string, box: [number, number, number, number], opts: { maxSide?: number; quality?: number; tag?: boolean } = {}): Promise<Buffer> {
  const input = await readFile(fsPath(path));
  const meta = await sharp(input, { failOn: 'none' }).metadata();
  const W = meta.autoOrient?.width ?? meta.width ?? 0;
  const H = meta.autoOrient?.height ?? meta.height ?? 0;
  const left = Math.max(0, Math.min(W - 1, Math.floor(box[0])));
  const top = Math.max(0, Math.min(H - 1, Math.floor(box[1])));
  const width = Math.max(1, Math.min(W - left, Math.ceil(box[0] + box[2]) - left));
  const height = Math.max(1, Math.min(H - top, Math.ceil(box[1] + box[3]) - top));
  let img = sharp(input, { failOn: 'none', limitInputPixels: 200_000_000 }).rotate().extract({ left, top, width, height });
  if (opts.maxSide) img = img.resize(opts.maxSide, opts.maxSide, { fit: 'inside', withoutEnlargement: true });
  img = img.flatten({ background: '#ffffff' }).jpeg({ quality: opts.quality ?? 92 });
  if (opts.tag !== false) img = img.withExif({ IFD0: { ImageDescription: faceTag(hash, box), Software: 'Constellate' } });
  return img.toBuffer();
}

/** A small JPEG data URI of an item: from the thumbnail cache when there, else from the photo. Null if unreadable. */
export async function sampleDataUri(lib: Library, it: Pick<ExportItem, 'kind' | 'path' | 'hash' | 'box' | 'thumb'>, side = 80): Promise<string | null> {
  try {
    let buf: Buffer | null = null;
    const key = it.kind === 'face' ? it.thumb : it.hash;
    if (key) {
      let f: string | null = null;
      try { f = lib.thumbPath(key); } catch { f = null; }
      if (f && existsSync(f)) buf = await readFile(f);
    }
    if (!buf && it.path && existsSync(fsPath(it.path))) {
      buf = it.kind === 'face' && it.box && it.hash ? await faceCrop(it.path, it.hash, it.box, { maxSide: side * 2, tag: false }) : await readFile(fsPath(it.path));
    }
    if (!buf) return null;
    const out = await sharp(buf, { failOn: 'none', limitInputPixels: 200_000_000 }).rotate()
      .resize(side, side, { fit: 'cover' }).flatten({ background: '#ffffff' }).jpeg({ quality: 60 }).toBuffer();
    return `data:image/jpeg;base64,${out.toString('base64')}`;
  } catch {
    return null;
  }
}
