import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLibrary } from '../check.ts';
import { Library } from '../library.ts';
import { CoreService } from '../service.ts';
import { tempDir } from '../../testing/fixtures.ts';
import { APPLICATION_ID, openLibrary } from './db.ts';
import { MIGRATIONS } from './migrations.ts';

let cleanup: (() => void) | null = null;
afterEach(() => { cleanup?.(); cleanup = null; });
function tmp() { const t = tempDir(); cleanup = t.cleanup; return t.dir; }

const vec = (d: number, seed: number) => Buffer.from(Float32Array.from({ length: d }, (_, i) => Math.sin(seed * 7 + i)).buffer);

/**
 * A library as version 0.1 (schema 3) leaves it: two folders, photos, faces, photo and face embeddings, a face run
 * with named groups, labels; and what its removeRoot left behind (embeddings, labels, assignments of a removed folder's
 * photos, whose ids the next photo took again).
 */
function v3Library(file: string): void {
  const db = new Database(file);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
  }
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma('foreign_keys = ON');
  const t = 1000;
  db.prepare('INSERT INTO roots (id, path, added_at) VALUES (1, ?, ?), (2, ?, ?)').run('/a', t, '/b', t);
  const ph = db.prepare(`INSERT INTO photos (id, root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format, added_at, updated_at)
    VALUES (?, ?, ?, ?, 'x', 1, 1, ?, 10, 10, 'jpeg', ?, ?)`);
  for (let i = 1; i <= 4; i++) ph.run(i, i <= 2 ? 1 : 2, `/${i <= 2 ? 'a' : 'b'}/${i}.jpg`, `${i}.jpg`, `${String(i).repeat(16)}`, t, t);
  const fa = db.prepare(`INSERT INTO faces (id, photo_id, detector, x, y, w, h, score, created_at) VALUES (?, ?, 'd', 0, 0, 5, 5, 0.9, ?)`);
  for (let i = 1; i <= 6; i++) fa.run(i, ((i - 1) % 4) + 1, t);
  db.exec(`INSERT INTO models (name, kind, dim, version, source) VALUES ('photo', 'photo', 4, 'v', 'builtin'), ('face', 'face', 4, 'v', 'builtin')`);
  const em = db.prepare(`INSERT INTO embeddings (model, item_id, version, vec) VALUES (?, ?, 'v', ?)`);
  for (let i = 1; i <= 4; i++) em.run('photo', i, vec(4, i));
  for (let i = 1; i <= 6; i++) em.run('face', i, vec(4, 10 + i));
  db.prepare(`INSERT INTO runs (id, model, kind, algo, params, n, clusters, noise, created_at) VALUES (1, 'face', 'face', 'kmeans', '{}', 6, 2, 0, ?)`).run(t + 1);
  const as = db.prepare('INSERT INTO assignments (run_id, item_id, cluster, original) VALUES (1, ?, ?, ?)');
  for (let i = 1; i <= 6; i++) as.run(i, i % 2, i % 2);
  db.exec(`INSERT INTO clusters (run_id, cluster, size, top, tail, name, curated) VALUES
    (1, 0, 3, '[{"item":2,"sim":1},{"item":4,"sim":1},{"item":6,"sim":1}]', '[]', 'ALICE', 1),
    (1, 1, 3, '[{"item":1,"sim":1},{"item":3,"sim":1},{"item":5,"sim":1}]', '[]', 'BOB', 0)`);
  db.exec(`INSERT INTO labels (kind, item_id, label, source) VALUES ('photo', 1, 'cat', 'import'), ('face', 2, 'alice', 'import')`);
  // left behind by 0.1's removeRoot of a folder whose photos were 5..7 and faces 7..9
  for (const i of [5, 6, 7]) em.run('photo', i, vec(4, 90 + i));
  for (const i of [7, 8, 9]) em.run('face', i, vec(4, 80 + i));
  db.exec(`INSERT INTO labels (kind, item_id, label, source) VALUES ('photo', 7, 'airplane', 'import')`);
  db.exec(`INSERT INTO runs (id, model, kind, algo, params, n, clusters, noise, created_at) VALUES (2, 'photo', 'photo', 'kmeans', '{}', 2, 1, 0, ${t + 2})`);
  db.exec(`INSERT INTO assignments (run_id, item_id, cluster, original) VALUES (2, 1, 0, 0), (2, 7, 0, 0)`);
  db.exec(`INSERT INTO clusters (run_id, cluster, size, top, tail) VALUES (2, 0, 2, '[]', '[]')`);
  db.close();
}

const count = (db: Database.Database, sql: string) => db.prepare(sql).pluck().get() as number;

describe('item identity (migration 4)', () => {
  it('migrates a library made by version 0.1, keeps every valid row, drops what pointed at nothing', () => {
    const file = join(tmp(), 'old.constellate');
    v3Library(file);
    const { db } = openLibrary(file, { noBackup: true });
    expect(count(db, 'SELECT MAX(version) FROM schema_migrations')).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
    expect(count(db, 'SELECT COUNT(*) FROM photos')).toBe(4);
    expect(count(db, 'SELECT COUNT(*) FROM faces')).toBe(6);
    expect(db.prepare('SELECT id FROM photos ORDER BY id').pluck().all()).toEqual([1, 2, 3, 4]);
    expect(count(db, `SELECT COUNT(*) FROM embeddings WHERE model = 'photo'`)).toBe(4);
    expect(count(db, `SELECT COUNT(*) FROM embeddings WHERE model = 'face'`)).toBe(6);
    expect(db.prepare(`SELECT vec FROM embeddings WHERE model = 'face' AND item_id = 3`).pluck().get()).toEqual(vec(4, 13));
    expect(count(db, 'SELECT COUNT(*) FROM assignments WHERE run_id = 1')).toBe(6);
    expect(db.prepare('SELECT name FROM clusters WHERE run_id = 1 ORDER BY cluster').pluck().all()).toEqual(['ALICE', 'BOB']);
    expect(db.prepare('SELECT kind || item_id || label FROM labels ORDER BY 1').pluck().all()).toEqual(['face2alice', 'photo1cat']);
    expect(count(db, 'SELECT COUNT(*) FROM assignments WHERE run_id = 2')).toBe(1);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // ids the old rows named are not given out again, and freed ids never are
    const ins = db.prepare(`INSERT INTO photos (root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format, added_at, updated_at)
      VALUES (1, ?, 'n.jpg', 'x', 1, 1, 'ffffffffffffffff', 10, 10, 'jpeg', 5, 5)`);
    const a = Number(ins.run('/a/n.jpg').lastInsertRowid);
    expect(a).toBe(8);
    db.prepare('DELETE FROM photos WHERE id = ?').run(a);
    expect(Number(ins.run('/a/n2.jpg').lastInsertRowid)).toBe(9);
    db.close();
  });

  it('the library enforces the identity: rows go with their item, none can name a missing one', () => {
    const file = join(tmp(), 'lib.constellate');
    v3Library(file);
    const { db } = openLibrary(file, { noBackup: true });
    // face 2 goes: its embedding, label and assignment with it
    db.prepare('DELETE FROM faces WHERE id = 2').run();
    expect(count(db, `SELECT COUNT(*) FROM embeddings WHERE model = 'face' AND item_id = 2`)).toBe(0);
    expect(count(db, `SELECT COUNT(*) FROM labels WHERE kind = 'face' AND item_id = 2`)).toBe(0);
    expect(count(db, 'SELECT COUNT(*) FROM assignments WHERE run_id = 1 AND item_id = 2')).toBe(0);
    // photo 2's photo embedding stays: photo 2 is another item than face 2
    expect(count(db, `SELECT COUNT(*) FROM embeddings WHERE model = 'photo' AND item_id = 2`)).toBe(1);
    // a photo goes with its faces and all their rows (as a folder's removal cascades)
    db.prepare('DELETE FROM photos WHERE id = 1').run();
    expect(count(db, `SELECT COUNT(*) FROM embeddings WHERE model = 'photo' AND item_id = 1`)).toBe(0);
    expect(count(db, `SELECT COUNT(*) FROM embeddings WHERE model = 'face' AND item_id = 5`)).toBe(0);
    expect(count(db, `SELECT COUNT(*) FROM labels WHERE kind = 'photo'`)).toBe(0);
    expect(() => db.prepare(`INSERT INTO embeddings (model, item_id, version, vec) VALUES ('face', 99, 'v', ?)`).run(vec(4, 1))).toThrow(/no such item/);
    expect(() => db.prepare(`INSERT INTO embeddings (model, item_id, version, vec) VALUES ('photo', 6, 'v', ?)`).run(vec(4, 1))).toThrow(/no such item/);
    expect(() => db.prepare(`INSERT INTO labels (kind, item_id, label, source) VALUES ('face', 42, 'x', 'user')`).run()).toThrow(/no such item/);
    expect(() => db.prepare('INSERT INTO assignments (run_id, item_id, cluster, original) VALUES (1, 77, 0, 0)').run()).toThrow(/no such item/);
    expect(() => db.prepare('UPDATE assignments SET item_id = 3 WHERE run_id = 1 AND item_id = 4').run()).toThrow(/cannot move/);
    // every write to a model's embeddings bumps its revision
    const rev = () => count(db, `SELECT revision FROM models WHERE name = 'face'`);
    const r0 = rev();
    db.prepare(`UPDATE embeddings SET vec = ? WHERE model = 'face' AND item_id = 3`).run(vec(4, 3));
    expect(rev()).toBe(r0 + 1);
    db.prepare('DELETE FROM faces WHERE id = 3').run();
    expect(rev()).toBe(r0 + 2);
    expect(count(db, `SELECT revision FROM models WHERE name = 'photo'`)).toBeGreaterThan(0);
    db.close();
  });

  it('removing a folder removes everything of it, recomputes the groups, keeps the names; check finds nothing', async () => {
    const dir = tmp();
    const file = join(dir, 'lib.constellate');
    v3Library(file);
    const svc = CoreService.open(file);
    const lib = svc.lib;
    for (const h of lib.db.prepare('SELECT hash FROM photos').pluck().all() as string[]) {
      const p = lib.thumbPath(h);
      (await import('node:fs')).mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, 'jpg');
    }
    expect(checkLibrary(lib)).toEqual({ ok: true, problems: [] });
    expect(lib.db.prepare('SELECT size || top FROM clusters WHERE run_id = 2').pluck().get()).toBe('1[]');
    const xy = Float32Array.from({ length: 12 }, (_, i) => i);
    lib.db.prepare(`INSERT INTO maps (model, method, params, n, ids, xy, created_at) VALUES ('face', 'pca', '{}', 6, ?, ?, 1)`)
      .run(Buffer.from(Int32Array.from([1, 2, 3, 4, 5, 6]).buffer), Buffer.from(xy.buffer));
    const b = lib.roots().find((r) => r.path === '/b')!;
    const r = await svc.removeFolder({ rootId: b.id });
    expect(r).toEqual({ removed: '/b', photos: 2, faces: 2 }); // photos 3, 4 and faces 3, 4
    expect(count(lib.db, 'SELECT COUNT(*) FROM photos WHERE root_id = 2')).toBe(0);
    expect(lib.db.prepare(`SELECT item_id FROM embeddings WHERE model = 'face' ORDER BY item_id`).pluck().all()).toEqual([1, 2, 5, 6]);
    expect(lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = 1 ORDER BY item_id').pluck().all()).toEqual([1, 2, 5, 6]);
    const groups = await svc.getClusters({ runId: 1 });
    expect(groups.map((g) => [g.name, g.size, g.curated])).toEqual([['ALICE', 2, true], ['BOB', 2, false]]);
    for (const g of groups) for (const s of g.top) expect([1, 2, 5, 6]).toContain(s.item);
    expect((await svc.getRun({ runId: 1 })).n).toBe(4);
    expect(existsSync(lib.thumbPath('3333333333333333'))).toBe(false);
    expect(existsSync(lib.thumbPath('1111111111111111'))).toBe(true);
    // the stored map keeps only the remaining faces, each with its own point
    const map = await svc.getMap({ model: 'face' });
    expect(map.kind).toBe('face');
    expect(Array.from(map.ids)).toEqual([1, 2, 5, 6]);
    expect(Array.from(map.xy)).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
    expect(checkLibrary(lib)).toEqual({ ok: true, problems: [] });
    await expect(svc.removeFolder({ rootId: b.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // the removed folder's id is not given to the next one
    expect(lib.addRoot(dir).id).toBe(3);
    await svc.close();
  });

  it('check reports dangling rows and reused ids; remove-folder is refused while a job uses the folder', async () => {
    const dir = tmp();
    const file = join(dir, 'lib.constellate');
    v3Library(file);
    const svc = CoreService.open(file);
    const db = svc.lib.db;
    db.pragma('foreign_keys = OFF');
    db.exec('DROP TRIGGER faces_item_gone');
    db.prepare('DELETE FROM faces WHERE id = 6').run();
    db.prepare(`UPDATE photos SET added_at = 5000 WHERE id = 1`).run();
    db.prepare(`INSERT INTO assignments (run_id, item_id, cluster, original) VALUES (2, 2, 0, 0)`).run();
    db.prepare('UPDATE clusters SET size = 10 WHERE run_id = 1 AND cluster = 0').run();
    db.prepare(`UPDATE clusters SET top = '[{"item":999,"sim":1}]' WHERE run_id = 1 AND cluster = 1`).run();
    const r = checkLibrary(svc.lib);
    expect(r.ok).toBe(false);
    const kinds = r.problems.map((p) => p.kind);
    for (const k of ['dangling-embedding', 'dangling-assignment', 'run-missing-items', 'reused-id', 'cluster-size', 'cluster-sample', 'missing-thumbnail']) expect(kinds).toContain(k);
    expect(r.problems.find((p) => p.kind === 'dangling-embedding')!.count).toBe(1);
    expect(r.problems.find((p) => p.kind === 'run-missing-items')!.message).toMatch(/runs whose assignments point at missing items: 1/);

    // a job holding the library: the folder's removal is refused, naming it, and nothing is removed
    let release!: () => void;
    const held = new Promise<void>((done) => { release = done; });
    const job = svc.jobs.start('embed', { model: 'face' } as never, () => held as never);
    await expect(svc.removeFolder({ rootId: 1 })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(new RegExp(`job ${job.id} \\(embed`)) });
    expect(count(db, 'SELECT COUNT(*) FROM photos WHERE root_id = 1')).toBe(2);
    release();
    await svc.jobs.wait(job.id);
    const scanJob = svc.jobs.start('scan', { rootIds: [2] }, () => new Promise<void>((done) => setTimeout(done, 50)) as never);
    await expect(svc.removeFolder({ rootId: 2 })).rejects.toThrow(/in use by job \d+ \(scan/);
    await expect(svc.removeFolder({ rootId: 1 })).resolves.toMatchObject({ removed: '/a', photos: 2 });
    await svc.jobs.wait(scanJob.id);
    await svc.close();
  });
});

describe('matrix caches', () => {
  it('follow the model revision (a vector rewritten in place is seen) and stay bounded', async () => {
    const file = join(tmp(), 'lib.constellate');
    v3Library(file);
    const svc = CoreService.open(file);
    const db = svc.lib.db;
    const first = await svc.similar({ model: 'photo', item: { kind: 'photo', id: 1 }, k: 3 });
    expect(first[0].item).not.toBe(4);
    // photo 4 is re-embedded in place as photo 1's twin: same number of embeddings, another matrix
    db.prepare(`UPDATE embeddings SET vec = (SELECT vec FROM embeddings WHERE model = 'photo' AND item_id = 1) WHERE model = 'photo' AND item_id = 4`).run();
    const again = await svc.similar({ model: 'photo', item: { kind: 'photo', id: 1 }, k: 3 });
    expect(again[0].item).toBe(4);
    expect(again[0].similarity).toBeCloseTo(1, 5);
    // an item of the other kind is refused, never answered with the photo that has its number
    await expect(svc.similar({ model: 'photo', item: { kind: 'face', id: 1 }, k: 3 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/face 1 is not a photo/) });
    await expect(svc.compareRuns({ a: 1, b: 2 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/faces .* photos/) });
    expect((await svc.getAssignments({ runId: 1 })).kind).toBe('face');
    svc.limitMatrixCache({ entries: 1 });
    await svc.similar({ model: 'face', item: { kind: 'face', id: 1 }, k: 2 });
    expect(svc.cachedMatrices()).toEqual(['face']);
    await svc.similar({ model: 'photo', item: { kind: 'photo', id: 1 }, k: 2 });
    expect(svc.cachedMatrices()).toEqual(['photo']);
    // bounded by bytes too (lru-cache): two matrices over the byte bound keep the newer one, a lone big one stays
    const photoBytes = svc.matrix('photo').X.byteLength;
    svc.limitMatrixCache({ entries: 4, bytes: photoBytes + 1 });
    svc.matrix('face');
    svc.matrix('photo');
    expect(svc.cachedMatrices()).toEqual(['photo']);
    svc.limitMatrixCache({ entries: 4, bytes: 8 });
    const big = svc.matrix('photo');
    expect(svc.cachedMatrices()).toEqual(['photo']);
    expect(svc.matrix('photo')).toBe(big);
    await svc.close();
  });
});

describe('schema snapshot', () => {
  const snapshot = join(import.meta.dirname, 'schema.snapshot.sql');
  /** Every table, index and trigger after all migrations: a migration cannot change the schema unnoticed. */
  function schema(db: Database.Database): string {
    const rows = db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name`).all() as Array<{ type: string; name: string; sql: string }>;
    return rows.map((r) => `-- ${r.type} ${r.name}\n${r.sql.replace(/[ \t]+$/gm, '')};\n`).join('\n');
  }

  it('a new library and a migrated 0.1 library both have exactly the committed schema', () => {
    const dir = tmp();
    const fresh = openLibrary(join(dir, 'new.constellate')).db;
    const got = schema(fresh);
    fresh.close();
    if (process.env.UPDATE_SCHEMA_SNAPSHOT) writeFileSync(snapshot, got);
    const want = readFileSync(snapshot, 'utf8');
    expect(got, 'the schema changed: if a new migration meant it, run UPDATE_SCHEMA_SNAPSHOT=1 npx vitest run src-main/core/store/identity.test.ts and commit schema.snapshot.sql').toBe(want);
    const oldFile = join(dir, 'old.constellate');
    v3Library(oldFile);
    const migrated = openLibrary(oldFile, { noBackup: true }).db;
    expect(schema(migrated)).toBe(want);
    migrated.close();
  });
});
