import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Library } from '../library.ts';
import { copyShared, sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';
import { scanRoots } from './scanner.ts';

const t = tempDir();
afterAll(() => t.cleanup());

describe('scanning the shared flower photos', () => {
  let lib: Library;
  beforeAll(() => { lib = Library.open(join(t.dir, 'flowers.constellate')); });
  afterAll(() => lib.close());

  it('finds all 200 photos in 5 folders with sizes and thumbnails', async () => {
    const root = lib.addRoot(sharedPath('data/photos-flowers'));
    const stages = new Set<string>();
    const r = await scanRoots(lib, [root.id], testContext((s) => stages.add(s)));
    expect(r.added).toBe(200);
    expect(r.errors).toBe(0);
    expect(stages.has('read')).toBe(true);
    const info = lib.info();
    expect(info.photos).toBe(200);
    const page = lib.photos({ limit: 500 });
    expect(new Set(page.items.map((p) => p.folder)).size).toBe(5);
    for (const p of page.items) {
      expect(p.width).toBeGreaterThan(0);
      expect(p.height).toBeGreaterThan(0);
      expect(existsSync(lib.thumbPath(p.hash))).toBe(true);
    }
    const meta = await sharp(lib.thumbPath(page.items[0].hash)).metadata();
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(256);
  });

  it('gives new photos ids in the order of their paths, whatever order their reads finished in', () => {
    const paths = lib.photos({ limit: 500 }).items.slice().sort((a, b) => a.id - b.id).map((p) => p.path);
    expect(paths).toEqual([...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('skips everything on an unchanged rescan', async () => {
    const r = await scanRoots(lib, lib.roots().map((x) => x.id), testContext());
    expect(r.unchanged).toBe(200);
    expect(r.added + r.updated + r.moved + r.missing).toBe(0);
  });
});

describe('incremental scan of a folder that changes', () => {
  const src = join(t.dir, 'photos');
  let lib: Library;
  beforeAll(() => {
    mkdirSync(src, { recursive: true });
    copyShared('data/photos-flowers/daisy', join(src, 'daisy'));
    copyShared('data/photos-flowers/roses', join(src, 'roses'));
    lib = Library.open(join(t.dir, 'changing.constellate'));
  });
  afterAll(() => lib.close());

  it('records bad files with reasons and goes on', async () => {
    const bad = join(src, 'bad');
    mkdirSync(bad);
    const good = readFileSync(join(src, 'daisy', readdirSync(join(src, 'daisy'))[0]));
    writeFileSync(join(bad, 'truncated.jpg'), good.subarray(0, Math.floor(good.length / 2)));
    writeFileSync(join(bad, 'empty.jpg'), Buffer.alloc(0));
    writeFileSync(join(bad, 'text.jpg'), 'this is not an image\n');
    symlinkSync(join(bad, 'does-not-exist.jpg'), join(bad, 'dangling.jpg'));
    writeFileSync(join(bad, 'locked.jpg'), good);
    chmodSync(join(bad, 'locked.jpg'), 0o000);
    symlinkSync('..', join(bad, 'loop'));
    mkdirSync(join(src, '.hidden'));
    writeFileSync(join(src, '.hidden', 'secret.jpg'), good);
    writeFileSync(join(src, 'notes.txt'), 'ignored');

    const root = lib.addRoot(src);
    const r = await scanRoots(lib, [root.id], testContext());
    const issues = new Map(lib.scanIssues(0, 100).items.map((i) => [i.path.slice(src.length + 1), i.reason]));
    expect(issues.get('bad/truncated.jpg')).toMatch(/not a readable image|cannot decode/);
    expect(issues.get('bad/empty.jpg')).toMatch(/empty file/);
    expect(issues.get('bad/text.jpg')).toMatch(/not a readable image/);
    expect(issues.get('bad/dangling.jpg')).toMatch(/broken link/);
    expect(issues.get('bad/loop')).toMatch(/symlink loop/);
    // root can read a chmod-000 file; anyone else gets 'permission denied'
    const asRoot = process.getuid?.() === 0;
    if (asRoot) expect(issues.has('bad/locked.jpg')).toBe(false);
    else expect(issues.get('bad/locked.jpg')).toMatch(/permission denied/);
    expect(lib.info().photos).toBe(80 + (asRoot ? 1 : 0));
    expect(r.errors).toBe(issues.size);
    expect([...issues.keys()].some((k) => k.includes('.hidden'))).toBe(false);
    chmodSync(join(bad, 'locked.jpg'), 0o644);
    // a second scan keeps the issues without re-reading
    const again = await scanRoots(lib, [root.id], testContext());
    expect(again.errors).toBe(r.errors);
  });

  it('follows renamed and moved files by content, marks deleted ones missing, re-reads changed ones', async () => {
    const ids = new Map(lib.photos({ limit: 1000 }).items.map((p) => [p.relPath, p.id]));
    const daisy = readdirSync(join(src, 'daisy')).sort();
    const roses = readdirSync(join(src, 'roses')).sort();
    renameSync(join(src, 'daisy', daisy[0]), join(src, 'daisy', 'renamed.jpg'));
    mkdirSync(join(src, 'moved'));
    renameSync(join(src, 'daisy', daisy[1]), join(src, 'moved', daisy[1]));
    unlinkSync(join(src, 'roses', roses[0]));
    // replace a file's content with another picture: same path, new content
    copyFileSync(join(src, 'roses', roses[2]), join(src, 'roses', roses[1]));
    const before = lib.photo(ids.get(`roses/${roses[1]}`)!).hash;

    const root = lib.roots()[0];
    const r = await scanRoots(lib, [root.id], testContext());
    expect(r.moved).toBe(2);
    expect(r.missing).toBe(1);
    expect(r.updated).toBe(1);
    expect(r.added).toBe(0);
    const now = new Map(lib.photos({ limit: 1000 }).items.map((p) => [p.relPath, p.id]));
    expect(now.get('daisy/renamed.jpg')).toBe(ids.get(`daisy/${daisy[0]}`));
    expect(now.get(`moved/${daisy[1]}`)).toBe(ids.get(`daisy/${daisy[1]}`));
    expect(lib.photo(ids.get(`roses/${roses[1]}`)!).hash).not.toBe(before);
    const missing = lib.photos({ status: 'missing' }).items;
    expect(missing.map((p) => p.id)).toEqual([ids.get(`roses/${roses[0]}`)]);
    // the file comes back: it is found again under the same id
    copyFileSync(join(src, 'roses', roses[3]), join(t.dir, 'spare.jpg'));
    writeFileSync(join(src, 'roses', roses[0]), readFileSync(sharedPath('data/photos-flowers/roses', roses[0])));
    const r2 = await scanRoots(lib, [root.id], testContext());
    expect(r2.moved + r2.updated + r2.unchanged).toBeGreaterThan(0);
    expect(lib.photos({ status: 'missing' }).total).toBe(0);
    expect(lib.photos({ limit: 1000 }).items.find((p) => p.relPath === `roses/${roses[0]}`)!.id).toBe(ids.get(`roses/${roses[0]}`));
  });

  it('a cancelled scan is finished by the next one without duplicates', async () => {
    const lib2 = Library.open(join(t.dir, 'resume.constellate'));
    const root = lib2.addRoot(src);
    const ctx = testContext((stage, done) => { if (stage === 'read' && done >= 16) ctx.cancel(); });
    await expect(scanRoots(lib2, [root.id], ctx)).rejects.toThrow(/cancel/);
    const partial = lib2.info().photos;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(79);
    const r = await scanRoots(lib2, [root.id], testContext());
    expect(r.unchanged).toBeGreaterThanOrEqual(partial);
    const rows = lib2.db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT path) AS d FROM photos').get() as { n: number; d: number };
    expect(rows.n).toBe(rows.d);
    expect(lib2.info().photos).toBe(lib.info().photos);
    lib2.close();
  });
});

describe('a folder that vanished', () => {
  it('is reported (which folder, its photos, why) while the other folders are scanned; not an unreadable file, nothing marked missing', async () => {
    const v = tempDir();
    try {
      const a = join(v.dir, 'a'), b = join(v.dir, 'b');
      mkdirSync(a); mkdirSync(b);
      const flowers = readdirSync(sharedPath('data/photos-flowers/daisy')).sort().slice(0, 5);
      flowers.slice(0, 3).forEach((f) => copyFileSync(sharedPath('data/photos-flowers/daisy', f), join(a, f)));
      flowers.slice(3).forEach((f) => copyFileSync(sharedPath('data/photos-flowers/daisy', f), join(b, f)));
      const lib = Library.open(join(v.dir, 'v.constellate'), { noBackup: true });
      try {
        const ra = lib.addRoot(a), rb = lib.addRoot(b);
        await scanRoots(lib, [ra.id, rb.id], testContext());
        renameSync(a, join(v.dir, 'a-away'));
        const rose = readdirSync(sharedPath('data/photos-flowers/roses')).sort()[0];
        copyFileSync(sharedPath('data/photos-flowers/roses', rose), join(b, 'new.jpg'));
        const r = await scanRoots(lib, [ra.id, rb.id], testContext());
        expect(r.vanished).toEqual([{ rootId: ra.id, path: a, reason: 'no longer exists', photos: 3 }]);
        expect(r.errors).toBe(0);
        expect(r.missing).toBe(0);
        expect(r.added).toBe(1);
        expect(r.photos).toBe(6);
        expect(lib.info().errors).toBe(0);
        // every folder gone: the scan fails, naming the folder and what it kept
        renameSync(b, join(v.dir, 'b-away'));
        const err = await scanRoots(lib, [ra.id, rb.id], testContext()).then(() => null, (e) => e as { code: string; message: string });
        expect(err?.code).toBe('IO');
        expect(err?.message).toBe(`cannot scan ${a} (no longer exists): its 3 photos were left as they were; ${b} (no longer exists): its 3 photos were left as they were`);
        // back again: nothing reported
        renameSync(join(v.dir, 'a-away'), a); renameSync(join(v.dir, 'b-away'), b);
        const back = await scanRoots(lib, [ra.id, rb.id], testContext());
        expect(back.vanished).toBeUndefined();
        expect(back.photos).toBe(6);
        expect(back.missing).toBe(0);
      } finally { lib.close(); }
    } finally { v.cleanup(); }
  }, 120_000);
});
