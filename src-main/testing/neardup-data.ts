/**
 * The near-duplicate fixture: faces-london (30 people x 2 photos on one studio background) and photos-flowers copied
 * into a folder, plus copies of some photos made with sharp next to their originals: re-encoded (JPEG quality 60),
 * resized (3/4 of the width) and slightly cropped (3% off each side). Tests and the benchmark share it.
 */
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { sharedPath } from './fixtures.ts';

export const COPY_KINDS = ['reencoded', 'resized', 'cropped'] as const;

export interface DupFixture {
  london: string;
  flowers: string;
  /** original path -> its copies' paths */
  copies: Map<string, string[]>;
}

export async function makeCopies(file: string): Promise<string[]> {
  const stem = file.replace(/\.jpg$/i, '');
  const img = sharp(file).rotate();
  const meta = await img.metadata();
  const w = meta.width!, h = meta.height!;
  const out = [`${stem}-copy-reencoded.jpg`, `${stem}-copy-resized.jpg`, `${stem}-copy-cropped.jpg`];
  writeFileSync(out[0], await sharp(file).jpeg({ quality: 60 }).toBuffer());
  writeFileSync(out[1], await sharp(file).resize(Math.round(w * 0.75)).jpeg({ quality: 85 }).toBuffer());
  const dx = Math.round(w * 0.03), dy = Math.round(h * 0.03);
  writeFileSync(out[2], await sharp(file).extract({ left: dx, top: dy, width: w - 2 * dx, height: h - 2 * dy }).jpeg({ quality: 90 }).toBuffer());
  return out;
}

/** Copies the two sets into `dir` and makes copies of `perSet` photos of each (the first ones in name order). */
export async function makeDupFixture(dir: string, perSet = 6): Promise<DupFixture> {
  const london = join(dir, 'london'), flowers = join(dir, 'flowers');
  cpSync(sharedPath('data/faces-london'), london, { recursive: true });
  cpSync(sharedPath('data/photos-flowers'), flowers, { recursive: true });
  const copies = new Map<string, string[]>();
  for (const root of [london, flowers]) {
    const files = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /\.jpe?g$/i.test(e.name)).map((e) => join(e.parentPath, e.name)).sort();
    // spread over the folders: every k-th file
    const step = Math.max(1, Math.floor(files.length / perSet));
    for (let i = 0; i < perSet; i++) {
      const f = files[i * step];
      copies.set(f, await makeCopies(f));
    }
  }
  void basename;
  return { london, flowers, copies };
}
