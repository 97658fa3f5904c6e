/**
 * A cache that lost its thumbnails (folder deleted, library moved without it): the thumbnail routes make each one again
 * from its photo, a face crop from the photo and the landmarks stored with the face, byte for byte what the scan and
 * the face pipeline wrote; a key of no photo or face of the library, a photo gone or changed, a face with no landmarks
 * and a full cache each answer with a clear error naming what is wrong, and nothing stored changes.
 */
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { AppError } from '../common/errors.ts';
import { CoreService } from './service.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';

const t = tempDir('constellate-thumbcache-');
let svc: CoreService;
const root = join(t.dir, 'photos');
let faces: Array<{ id: number; thumb: string; path: string }>;
let photos: Array<{ hash: string; path: string }>;
const originals = new Map<string, Buffer>();

const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof AppError ? `${e.code}: ${e.message}` : String(e)));

beforeAll(async () => {
  mkdirSync(root, { recursive: true });
  for (const p of ['person-001', 'person-002']) cpSync(sharedPath('data/faces-london', p), join(root, p), { recursive: true });
  cpSync(sharedPath('data/photos-flowers/daisy'), join(root, 'daisy'), { recursive: true, filter: (f) => !/\.jpg$/.test(f) || /100080576_f52e8ee070_n|102841525_bd6628ae3c/.test(f) });
  svc = CoreService.open(join(t.dir, 'lib.constellate'));
  await svc.addRoots({ paths: [root] });
  expect((await svc.jobs.wait((await svc.scan()).id)).state).toBe('done');
  expect((await svc.jobs.wait((await svc.embed({ model: 'face' })).id)).state).toBe('done');
  const db = svc.lib.db;
  faces = db.prepare('SELECT f.id, f.thumb, p.path FROM faces f JOIN photos p ON p.id = f.photo_id ORDER BY f.id').all() as typeof faces;
  photos = db.prepare(`SELECT hash, path FROM photos WHERE status = 'ok' ORDER BY id`).all() as typeof photos;
  for (const k of [...photos.map((p) => p.hash), ...faces.map((f) => f.thumb)]) originals.set(k, readFileSync(svc.lib.thumbPath(k)));
}, 300_000);
afterAll(async () => { await svc?.close(); t.cleanup(); });

describe('thumbnails lost from the cache', () => {
  it('are made again from their photos, the same bytes as the scan and the face pipeline wrote', async () => {
    expect(faces.length).toBeGreaterThanOrEqual(4);
    expect(photos.length).toBeGreaterThanOrEqual(6);
    const before = (await svc.check()).problems;
    expect(before.filter((p) => p.kind === 'missing-thumbnail')).toEqual([]);
    rmSync(svc.lib.thumbDir, { recursive: true, force: true });
    const lost = (await svc.check()).problems.filter((p) => p.kind === 'missing-thumbnail');
    expect(lost.map((p) => p.count).sort()).toEqual([faces.length, photos.length].sort());
    // asked for at once, as a grid of thumbnails does
    const keys = [...photos.map((p) => p.hash), ...faces.map((f) => f.thumb)];
    const files = await Promise.all(keys.map((k) => svc.lib.thumbFile(k)));
    for (const [i, k] of keys.entries()) {
      expect(files[i]).toBe(svc.lib.thumbPath(k));
      expect(readFileSync(files[i]).equals(originals.get(k)!), k).toBe(true);
    }
    const meta = await sharp(files[photos.length]).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([112, 112, 'jpeg']);
    expect((await svc.check()).problems.filter((p) => p.kind === 'missing-thumbnail')).toEqual([]);
  });

  it('refuses a key of nothing in the library and anything that is not a key', async () => {
    expect(await codeOf(svc.lib.thumbFile('0123456789abcdef0123456789abcdef'))).toMatch(/^NOT_FOUND: no photo or face of this library has the thumbnail/);
    expect(await codeOf(svc.lib.thumbFile(`${photos[0].hash}-f77`))).toMatch(/^NOT_FOUND: /);
    expect(await codeOf(svc.lib.thumbFile('../../etc/passwd'))).toMatch(/^BAD_ARGUMENT: thumbnail key/);
  });

  it('names the photo when it is gone, changed or damaged, and a face whose landmarks were not stored', async () => {
    const face = faces[0];
    const db = svc.lib.db;
    const lm = db.prepare('SELECT landmarks FROM faces WHERE id = ?').pluck().get(face.id) as Buffer;
    db.prepare('UPDATE faces SET landmarks = NULL WHERE id = ?').run(face.id);
    unlinkSync(svc.lib.thumbPath(face.thumb));
    expect(await codeOf(svc.lib.thumbFile(face.thumb))).toMatch(new RegExp(`^NOT_FOUND: ${face.path}: this face's crop cannot be made again`));
    db.prepare('UPDATE faces SET landmarks = ? WHERE id = ?').run(lm, face.id);

    const gone = photos.find((p) => p.path !== face.path)!;
    unlinkSync(svc.lib.thumbPath(gone.hash));
    const saved = readFileSync(gone.path);
    unlinkSync(gone.path);
    expect(await codeOf(svc.lib.thumbFile(gone.hash))).toMatch(new RegExp(`^NOT_FOUND: ${gone.path}: the photo's file is gone`));
    cpSync(sharedPath('data/faces-london/person-003/neutral.jpg'), gone.path); // another photo under its name
    expect(await codeOf(svc.lib.thumbFile(gone.hash))).toMatch(new RegExp(`^CONFLICT: ${gone.path}: changed since it was scanned`));
    // the same size, its end cut off: decoding fails
    const cut = Buffer.concat([saved.subarray(0, saved.length >> 1), Buffer.alloc(saved.length - (saved.length >> 1))]);
    rmSync(gone.path); appendFileSync(gone.path, cut);
    expect(await codeOf(svc.lib.thumbFile(gone.hash))).toMatch(new RegExp(`^BAD_IMAGE: ${gone.path}: cannot be decoded`));
    rmSync(gone.path); appendFileSync(gone.path, saved);
    expect(readFileSync(await svc.lib.thumbFile(gone.hash)).equals(originals.get(gone.hash)!)).toBe(true);
    expect(readFileSync(await svc.lib.thumbFile(face.thumb)).equals(originals.get(face.thumb)!)).toBe(true);
  });

  it('a cache folder it cannot write into is an IO error naming it, and the photo stays', async () => {
    const p = photos[photos.length - 1];
    const sub = join(svc.lib.thumbDir, p.hash.slice(0, 2));
    rmSync(sub, { recursive: true, force: true });
    writeFileSync(sub, 'not a folder'); // where its folder should be
    try {
      expect(await codeOf(svc.lib.thumbFile(p.hash))).toMatch(new RegExp(`^IO: ${sub}: cannot make the thumbnail folder`));
    } finally {
      rmSync(sub);
    }
    expect(existsSync(p.path)).toBe(true);
    expect(readFileSync(await svc.lib.thumbFile(p.hash)).equals(originals.get(p.hash)!)).toBe(true);
  });
});
