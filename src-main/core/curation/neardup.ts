/**
 * Near-duplicates in the library: what each member of a group is (pixels, bytes, sharpness), the rule that picks the
 * one to keep, and compare. The rule, stated once (KEEP_RULE): the most pixels (photo width x height, or the face box's
 * area), then the sharpest by more than 20% (variance of the 4-neighbour Laplacian of the greyscale thumbnail, 256 px),
 * then the largest file, then the lowest id. Sharpness within 20% counts as a tie because JPEG block artefacts of a
 * re-encoded copy raise the Laplacian variance a little (measured on photos-flowers and faces-london: +0..16% at quality 60, while a real blur or an
 * upscaled copy changes it by far more); the larger file then wins, which is the better-quality encoding.
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { AppError } from '../../common/errors.ts';
import type { ItemKind } from '../../common/types.ts';
import type { Library } from '../library.ts';
import { THUMB_SIZE } from '../thumb-cache.ts';
import { itemQualityRows } from '../store/items.ts';

export const KEEP_RULE = 'most pixels, then sharper by more than 20% (variance of the Laplacian of the greyscale thumbnail), then largest file, then lowest id';
/** sharpness ratios within this are a tie */
export const SHARPNESS_TIE = 0.2;

export interface ItemQuality {
  item: number; kind: ItemKind; photoId: number; path: string; folder: string; thumb: string | null;
  width: number; height: number; pixels: number; bytes: number; format: string; takenAt: string | null;
  /** variance of the Laplacian of the greyscale thumbnail; null when neither thumbnail nor file can be read */
  sharpness: number | null;
}

/** Variance of the 4-neighbour Laplacian of a greyscale image (a standard focus measure: blur and downscaling lower it). */
export function laplacianVariance(g: Uint8Array | Buffer, w: number, h: number): number {
  if (w < 3 || h < 3) return 0;
  let s = 0, s2 = 0, n = 0;
  for (let y = 1; y < h - 1; y++) for (let x = 1; x < w - 1; x++) {
    const i = y * w + x;
    const l = g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4 * g[i];
    s += l; s2 += l * l; n++;
  }
  const m = s / n;
  return s2 / n - m * m;
}

async function sharpness(lib: Library, thumb: string | null, path: string, box: [number, number, number, number] | null): Promise<number | null> {
  try {
    let img;
    const t = thumb ? lib.thumbPath(thumb) : null;
    if (t && existsSync(t)) img = sharp(t);
    else if (existsSync(path)) {
      img = sharp(path, { limitInputPixels: 200_000_000 }).rotate();
      if (box) img = sharp(await img.extract({ left: Math.max(0, Math.round(box[0])), top: Math.max(0, Math.round(box[1])), width: Math.max(1, Math.round(box[2])), height: Math.max(1, Math.round(box[3])) }).toBuffer());
      img = img.resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true });
    } else return null;
    const { data, info } = await img.greyscale().raw().toBuffer({ resolveWithObject: true });
    return laplacianVariance(data, info.width, info.height);
  } catch {
    return null;
  }
}

/** What each item is, in the order of `ids`; an unknown id is NOT_FOUND. */
export async function itemQualities(lib: Library, kind: ItemKind, ids: number[]): Promise<ItemQuality[]> {
  const rows = new Map(itemQualityRows(lib.db, kind, ids).map((r) => [r.item, r]));
  const out: ItemQuality[] = [];
  for (const id of ids) {
    const r = rows.get(id);
    if (!r) throw new AppError('NOT_FOUND', `${kind} ${id} does not exist`);
    const box = r.x === null ? null : [r.x, r.y!, r.w!, r.h!] as [number, number, number, number];
    const width = box ? Math.round(box[2]) : r.width, height = box ? Math.round(box[3]) : r.height;
    out.push({
      item: r.item, kind, photoId: r.photoId, path: r.path, folder: r.folder, thumb: r.thumb, width, height, pixels: width * height,
      bytes: r.size, format: r.format, takenAt: r.taken_at, sharpness: await sharpness(lib, r.thumb, r.path, box),
    });
  }
  return out;
}

/** The KEEP_RULE order: negative when a is better. */
export function compareQuality(a: ItemQuality, b: ItemQuality): number {
  if (a.pixels !== b.pixels) return b.pixels - a.pixels;
  const sa = a.sharpness ?? -1, sb = b.sharpness ?? -1;
  if (Math.abs(sa - sb) > SHARPNESS_TIE * Math.max(sa, sb, 1e-9)) return sb - sa;
  return (b.bytes - a.bytes) || (a.item - b.item);
}

/** The item to keep by KEEP_RULE. */
export function bestOf(qs: ItemQuality[]): ItemQuality {
  if (qs.length === 0) throw new AppError('BAD_ARGUMENT', 'an empty group has no best item');
  return qs.reduce((best, q) => (compareQuality(q, best) < 0 ? q : best));
}
