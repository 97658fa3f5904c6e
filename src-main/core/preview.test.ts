/** Viewer-size previews with real photos: EXIF rotation as the thumbnails and face boxes, the size bound, the cache bound, bad files. */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../common/errors.ts';
import { PREVIEW_SIZE } from '../common/thumbs.ts';
import { CoreService } from './service.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';
import { PreviewCache } from './preview.ts';

const t = tempDir();
const root = join(t.dir, 'photos');
let svc: CoreService;
const UPRIGHT = join(t.dir, 'upright.png');

/** mean absolute difference of two images' grey pixels at 64x64 */
async function diff(a: Buffer | string, b: Buffer | string): Promise<number> {
  const px = (x: Buffer | string) => sharp(x).rotate().resize(64, 64, { fit: 'fill' }).greyscale().raw().toBuffer();
  const [pa, pb] = await Promise.all([px(a), px(b)]);
  let s = 0;
  for (let i = 0; i < pa.length; i++) s += Math.abs(pa[i] - pb[i]);
  return s / pa.length;
}

beforeAll(async () => {
  mkdirSync(root, { recursive: true });
  // a portrait photo 1800x2400 stored sideways (2400x1800 pixels) with EXIF orientation 6, as phones write them
  await sharp(sharedPath('data/faces-london/person-001/neutral.jpg')).resize(1800, 2400, { fit: 'fill' }).png().toFile(UPRIGHT);
  await sharp(UPRIGHT).rotate(-90).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toFile(join(root, 'rotated.jpg'));
  cpSync(sharedPath('data/faces-london/person-002/smiling.jpg'), join(root, 'gone.jpg'));
  cpSync(sharedPath('data/faces-london/person-003/smiling.jpg'), join(root, 'cut.jpg'));
  cpSync(sharedPath('data/photos-flowers/daisy'), join(root, 'daisy'), { recursive: true });
  svc = CoreService.open(join(t.dir, 'p.constellate'));
  await svc.addRoots({ paths: [root] });
  const job = await svc.waitJob({ id: (await svc.scan()).id });
  expect(job.state).toBe('done');
});
afterAll(async () => { await svc.close(); t.cleanup(); });

const photoNamed = async (rel: string) => {
  const p = (await svc.listPhotos({ limit: 1000 })).items.find((x) => x.relPath === rel);
  expect(p, rel).toBeDefined();
  return svc.getPhoto({ id: p!.id });
};

describe('viewer-size previews', () => {
  it('an EXIF-rotated photo is rendered upright, in the frame of its face boxes and thumbnail, at most 1600 px', async () => {
    expect(readFileSync(join(root, 'rotated.jpg')).length).toBeGreaterThan(0);
    expect((await sharp(join(root, 'rotated.jpg')).metadata()).orientation).toBe(6);
    const p = await photoNamed('rotated.jpg');
    // the library's size (the frame face boxes are given in) is the rotated photo's
    expect([p.width, p.height]).toEqual([1800, 2400]);
    const file = await svc.lib.previewPath(p.hash);
    const meta = await sharp(file).metadata();
    expect(meta.format).toBe('jpeg');
    expect([meta.width, meta.height]).toEqual([PREVIEW_SIZE * 1800 / 2400, PREVIEW_SIZE]);
    expect(meta.orientation).toBeUndefined(); // pixels already upright: no browser applies the tag twice
    // same picture as the upright original and as the thumbnail; the sideways pixels are far from it
    expect(await diff(file, UPRIGHT)).toBeLessThan(4);
    expect(await diff(file, svc.lib.thumbPath(p.hash))).toBeLessThan(6);
    const sideways = await sharp(UPRIGHT).rotate(-90).png().toBuffer();
    expect(await diff(file, sideways)).toBeGreaterThan(15);
  });

  it('a small photo is not enlarged, and a second call serves the cached file', async () => {
    const p = await photoNamed((await svc.listPhotos({ limit: 1000 })).items.find((x) => x.relPath.startsWith('daisy/'))!.relPath);
    const file = await svc.lib.previewPath(p.hash);
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height]).toEqual([p.width, p.height]);
    const mtime = statSync(file).mtimeMs;
    expect(await svc.lib.previewPath(p.hash)).toBe(file);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(file.startsWith(join(svc.lib.cacheDir, 'previews'))).toBe(true);
  });

  it('a vanished file is NOT_FOUND naming it; a changed (truncated) one is refused naming it; an unknown hash is NOT_FOUND; a non-hash is refused', async () => {
    const gone = await photoNamed('gone.jpg');
    rmSync(join(root, 'gone.jpg'));
    await expect(svc.lib.previewPath(gone.hash)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(join(root, 'gone.jpg')) });
    const cut = await photoNamed('cut.jpg');
    truncateSync(join(root, 'cut.jpg'), Math.floor(statSync(join(root, 'cut.jpg')).size / 2));
    await expect(svc.lib.previewPath(cut.hash)).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining(join(root, 'cut.jpg')) });
    await expect(svc.lib.previewPath('0123456789abcdef0123456789abcdef')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    for (const bad of ['../../etc/passwd', `${cut.hash}/../x`, cut.hash.toUpperCase(), ''])
      await expect(svc.lib.previewPath(bad), bad).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    // the service keeps working
    expect((await svc.getInfo()).photos).toBeGreaterThan(3);
  });

  it('a truncated JPEG whose size matches its row is BAD_IMAGE naming the file, not a crash', async () => {
    const file = join(t.dir, 'truncated.jpg');
    const bytes = readFileSync(sharedPath('data/faces-london/person-011/neutral.jpg'));
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const cache = new PreviewCache(join(t.dir, 'prev-bad'), () => ({ path: file, size: statSync(file).size }));
    const err = await cache.file('ab'.repeat(16)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'BAD_IMAGE', message: expect.stringContaining(file) });
    expect(existsSync(join(t.dir, 'prev-bad', 'ab', `${'ab'.repeat(16)}.jpg`))).toBe(false);
  });

  it('the cache stays under its byte bound, dropping the least recently served first', async () => {
    const daisies = (await svc.listPhotos({ limit: 1000 })).items.filter((x) => x.relPath.startsWith('daisy/')).slice(0, 6);
    const byHash = new Map(daisies.map((d) => [d.hash, { path: d.path, size: d.size }]));
    const dir = join(t.dir, 'prev-bounded');
    const one = (await sharp(await sharp(daisies[0].path).rotate().jpeg({ quality: 85 }).toBuffer()).metadata()).size!;
    const cache = new PreviewCache(dir, (h) => byHash.get(h) ?? null, { maxBytes: one * 3.5 });
    const files: string[] = [];
    for (const d of daisies.slice(0, 3)) files.push(await cache.file(d.hash));
    await cache.file(daisies[0].hash); // served again: now the most recent
    for (const d of daisies.slice(3)) files.push(await cache.file(d.hash));
    expect(cache.bytes()).toBeLessThanOrEqual(one * 3.5);
    expect(existsSync(files[5])).toBe(true);
    expect(existsSync(files[1])).toBe(false); // the least recently served went first
    // a new cache over the same folder finds what is there
    const again = new PreviewCache(dir, (h) => byHash.get(h) ?? null, { maxBytes: one * 3.5 });
    expect(again.bytes()).toBe(cache.bytes());
    // a photo no longer in the library is not served, though its preview is still cached
    byHash.delete(daisies[5].hash);
    await expect(again.file(daisies[5].hash)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(existsSync(files[5])).toBe(true);
  });

  it('removing the folder removes its previews and its photos are no longer served', async () => {
    const p = await photoNamed('rotated.jpg');
    const file = await svc.lib.previewPath(p.hash);
    expect(existsSync(file)).toBe(true);
    await svc.removeFolder({ rootId: p.rootId });
    expect(existsSync(file)).toBe(false);
    await expect(svc.lib.previewPath(p.hash)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
