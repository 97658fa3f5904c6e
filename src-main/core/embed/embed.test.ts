import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Library } from '../library.ts';
import { MODELS_DIR } from '../paths.ts';
import { scanRoots } from '../scan/scanner.ts';
import { sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';
import { embedJob } from './embed-job.ts';
import { exportEmbeddings, importEmbeddings } from './io.ts';
import { loadMatrix } from '../store/embeddings.ts';

const t = tempDir();
afterAll(() => t.cleanup());

async function scanned(name: string, src: string): Promise<Library> {
  const lib = Library.open(join(t.dir, `${name}.constellate`));
  const root = lib.addRoot(src);
  await scanRoots(lib, [root.id], testContext());
  return lib;
}

describe('photo embeddings', () => {
  const photos = join(t.dir, 'photos');
  let lib: Library;
  beforeAll(async () => {
    mkdirSync(photos);
    for (const cls of ['daisy', 'tulips']) {
      mkdirSync(join(photos, cls));
      for (const f of readdirSync(sharedPath('data/photos-flowers', cls)).sort().slice(0, 6)) copyFileSync(sharedPath('data/photos-flowers', cls, f), join(photos, cls, f));
    }
    lib = await scanned('photos', photos);
  });
  afterAll(() => lib.close());

  it('embeds every photo once, in workers, and only new ones on a re-run', async () => {
    const stages: number[] = [];
    const r = await embedJob(lib, { model: 'photo', workers: 2, batch: 4 }, testContext((_s, d) => stages.push(d)));
    expect(r.processed).toBe(12);
    expect(r.failed).toBe(0);
    expect(r.embeddings).toBe(12);
    expect(stages.at(-1)).toBe(12);
    const m = loadMatrix(lib.db, 'photo');
    expect(m.d).toBe(1792);
    expect(m.X.every(Number.isFinite)).toBe(true);
    // same-class photos are closer than different-class ones on average
    const again = await embedJob(lib, { model: 'photo' }, testContext());
    expect(again.pending).toBe(0);
    copyFileSync(sharedPath('data/photos-flowers/roses', readdirSync(sharedPath('data/photos-flowers/roses'))[0]), join(photos, 'daisy', 'new.jpg'));
    await scanRoots(lib, [lib.roots()[0].id], testContext());
    const third = await embedJob(lib, { model: 'photo' }, testContext());
    expect(third.pending).toBe(1);
    expect(third.embeddings).toBe(13);
  });

  it('a damaged model file fails clearly and loses nothing stored', async () => {
    const bad = join(t.dir, 'bad-models');
    // a real copy: where resources/models is a symlink (a worktree sharing the models), copying the link itself would
    // let this test damage the shared files
    cpSync(realpathSync(MODELS_DIR), bad, { recursive: true, dereference: true, filter: (src) => !src.includes(`${sep}.cache`) });
    expect(lstatSync(bad).isSymbolicLink()).toBe(false);
    const f = join(bad, 'photo.onnx');
    const bytes = readFileSync(f);
    bytes.fill(7, 1000, 5000);
    writeFileSync(f, bytes);
    const before = lib.db.prepare('SELECT COUNT(*) FROM embeddings').pluck().get();
    await expect(embedJob(lib, { model: 'photo', modelsDir: bad }, testContext())).rejects.toThrow(/photo\.onnx.*(damaged|cannot load)/);
    writeFileSync(join(bad, 'photo.onnx'), 'not a model');
    writeFileSync(join(bad, 'checksums.json'), '{"files":{}}');
    await expect(embedJob(lib, { model: 'photo', modelsDir: bad }, testContext())).rejects.toThrow(/photo\.onnx/);
    expect(lib.db.prepare('SELECT COUNT(*) FROM embeddings').pluck().get()).toBe(before);
  });

  it('records a photo that cannot be decoded with its reason and goes on', async () => {
    const lib2 = Library.open(join(t.dir, 'corrupt.constellate'));
    const dir = join(t.dir, 'corrupt');
    mkdirSync(dir);
    const good = readdirSync(join(photos, 'tulips'));
    for (const f of good.slice(0, 3)) copyFileSync(join(photos, 'tulips', f), join(dir, f));
    const root = lib2.addRoot(dir);
    await scanRoots(lib2, [root.id], testContext());
    // the file changes on disk after the scan: damaged by the time it is embedded
    const victim = join(dir, good[0]);
    writeFileSync(victim, readFileSync(victim).subarray(0, 500));
    const r = await embedJob(lib2, { model: 'photo', workers: 1 }, testContext());
    expect(r.processed).toBe(2);
    expect(r.failed).toBe(1);
    expect(r.failures[0].path).toBe(victim);
    expect(r.failures[0].reason).toContain(good[0]);
    lib2.close();
  });

  it('a cancelled embed job is finished by the next run without duplicates', async () => {
    const lib3 = await scanned('resume', photos);
    const ctx = testContext((_s, d) => { if (d >= 4) ctx.cancel(); });
    await expect(embedJob(lib3, { model: 'photo', workers: 1, batch: 2 }, ctx)).rejects.toThrow(/cancel/i);
    const partial = lib3.db.prepare('SELECT COUNT(*) FROM embeddings').pluck().get() as number;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(13);
    const r = await embedJob(lib3, { model: 'photo' }, testContext());
    expect(r.pending).toBe(13 - partial);
    expect(lib3.db.prepare('SELECT COUNT(*) FROM embeddings').pluck().get()).toBe(13);
    lib3.close();
  });

  it('exports and re-imports embeddings as .npy + ids, and rejects bad files with one-line errors', () => {
    const out = join(t.dir, 'x.npy');
    const e = exportEmbeddings(lib, 'photo', out);
    expect(e.rows).toBe(13);
    expect(existsSync(e.ids)).toBe(true);
    const imp = importEmbeddings(lib, out, e.ids, 'photo-copy');
    expect(imp.imported).toBe(13);
    const a = loadMatrix(lib.db, 'photo'), b = loadMatrix(lib.db, 'photo-copy');
    expect(Array.from(b.ids)).toEqual(Array.from(a.ids));
    expect(b.X).toEqual(a.X);
    // float64 input with JSON-lines ids
    const f64 = join(t.dir, 'x64.npy');
    const X = new Float64Array(2 * 3).map((_, i) => i / 7);
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const pre = Buffer.alloc(10);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
    pre.writeUInt16LE(header.length, 8);
    writeFileSync(f64, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(X.buffer)]));
    const rows = lib.photos({ limit: 2 }).items.sort((a, b) => a.id - b.id);
    writeFileSync(join(t.dir, 'ids.jsonl'), rows.map((p) => JSON.stringify({ path: p.path })).join('\n'));
    expect(importEmbeddings(lib, f64, join(t.dir, 'ids.jsonl'), 'tiny').imported).toBe(2);
    expect(loadMatrix(lib.db, 'tiny').X[5]).toBeCloseTo(5 / 7, 6);

    writeFileSync(join(t.dir, 'short.csv'), 'path\n' + rows[0].path + '\n');
    expect(() => importEmbeddings(lib, out, join(t.dir, 'short.csv'), 'bad')).toThrow(/1 ids for 13 rows/);
    writeFileSync(join(t.dir, 'junk.npy'), 'garbage');
    expect(() => importEmbeddings(lib, join(t.dir, 'junk.npy'), e.ids, 'bad')).toThrow(/junk\.npy: not a \.npy file/);
    writeFileSync(join(t.dir, 'trunc.npy'), readFileSync(out).subarray(0, 4000));
    expect(() => importEmbeddings(lib, join(t.dir, 'trunc.npy'), e.ids, 'bad')).toThrow(/trunc\.npy: truncated/);
    expect(() => importEmbeddings(lib, out, e.ids, 'photo')).toThrow(/built-in model/);
    expect(lib.db.prepare(`SELECT COUNT(*) FROM models WHERE name = 'bad'`).pluck().get()).toBe(0);
  });
});

describe('face embeddings', () => {
  it('finds a face in every London-set photo, with aligned crops and 512-d vectors', async () => {
    const dir = join(t.dir, 'faces');
    mkdirSync(dir);
    for (const p of readdirSync(sharedPath('data/faces-london')).sort().slice(0, 6)) cpSync(sharedPath('data/faces-london', p), join(dir, p), { recursive: true });
    const lib = await scanned('faces', dir);
    const r = await embedJob(lib, { model: 'face' }, testContext());
    expect(r.processed).toBe(12);
    const perPhoto = lib.db.prepare('SELECT p.id, COUNT(f.id) AS n FROM photos p LEFT JOIN faces f ON f.photo_id = p.id GROUP BY p.id').all() as Array<{ n: number }>;
    expect(perPhoto.every((x) => x.n >= 1)).toBe(true);
    const m = loadMatrix(lib.db, 'face');
    expect(m.d).toBe(512);
    const photo = lib.photo(perPhoto.length ? (lib.photos({ limit: 1 }).items[0].id) : 0);
    expect(photo.faces.length).toBeGreaterThan(0);
    expect(existsSync(lib.thumbPath(photo.faces[0].thumb!))).toBe(true);
    const again = await embedJob(lib, { model: 'face' }, testContext());
    expect(again.pending).toBe(0);
    expect(lib.db.prepare('SELECT COUNT(*) FROM faces').pluck().get()).toBe(r.faces);
    lib.close();
  });
});
