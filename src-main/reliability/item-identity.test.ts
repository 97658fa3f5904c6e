/**
 * Issue 12's "done when", with real SQLite, the real face models and real photos: scan two folders, embed faces,
 * cluster and name the groups, re-encode a photo (same face, other bytes), rename a photo, remove one folder, add a
 * new one: `check` is ok, the named groups keep every remaining face, nothing of the removed folder is left or
 * re-attached. Once through the AppApi (CoreService), once through the CLI.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../common/jobs.ts';
import { Library } from '../core/library.ts';
import { CoreService } from '../core/service.ts';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';

const t = tempDir();
afterAll(() => t.cleanup());

const A_PEOPLE = ['person-001', 'person-002', 'person-003'];
const B_PEOPLE = ['person-011', 'person-016'];
const C_PEOPLE = ['person-024'];

function folder(name: string, people: string[]): string {
  const dir = join(t.dir, name);
  for (const p of people) cpSync(sharedPath('data/faces-london', p), join(dir, p), { recursive: true });
  return dir;
}

async function reencode(file: string): Promise<void> {
  const before = readFileSync(file);
  const after = await sharp(before).jpeg({ quality: 82 }).toBuffer();
  expect(after.equals(before)).toBe(false);
  writeFileSync(file, after);
}

interface Before { replacedFaces?: number[]; faceName: Map<number, string | null>; faceCluster: Map<number, number>; bFaces: number[]; bPhotos: number[]; maxFace: number; maxPhoto: number; changedPhoto: number; changedFaces: number[]; renamedPhoto: number }

function snapshot(lib: Library, runId: number, A: string, B: string, changed: string, renamed: string): Before {
  const db = lib.db;
  const rows = db.prepare(`SELECT a.item_id AS id, a.cluster, c.name FROM assignments a LEFT JOIN clusters c ON c.run_id = a.run_id AND c.cluster = a.cluster WHERE a.run_id = ?`).all(runId) as Array<{ id: number; cluster: number; name: string | null }>;
  const inB = (sql: string) => db.prepare(sql).pluck().all(B + '/%') as number[];
  const photoId = (p: string) => db.prepare('SELECT id FROM photos WHERE path = ?').pluck().get(p) as number;
  return {
    faceName: new Map(rows.map((r) => [r.id, r.name])),
    faceCluster: new Map(rows.map((r) => [r.id, r.cluster])),
    bFaces: inB('SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.path LIKE ?'),
    bPhotos: inB('SELECT id FROM photos WHERE path LIKE ?'),
    maxFace: db.prepare('SELECT MAX(id) FROM faces').pluck().get() as number,
    maxPhoto: db.prepare('SELECT MAX(id) FROM photos').pluck().get() as number,
    changedPhoto: photoId(changed),
    changedFaces: db.prepare('SELECT id FROM faces WHERE photo_id = ? ORDER BY id').pluck().all(photoId(changed)) as number[],
    renamedPhoto: photoId(renamed),
    ...(void A, {}),
  };
}

/** What must hold at the end, whichever door was used. */
function verify(lib: Library, runId: number, b: Before, renamedTo: string): void {
  const db = lib.db;
  const ids = (sql: string, ...a: unknown[]) => db.prepare(sql).pluck().all(...a) as number[];
  // the changed photo kept its faces' ids, the renamed one its id
  expect(ids('SELECT id FROM faces WHERE photo_id = ? ORDER BY id', b.changedPhoto)).toEqual(b.changedFaces);
  expect(db.prepare('SELECT id FROM photos WHERE path = ?').pluck().get(renamedTo)).toBe(b.renamedPhoto);
  // nothing of the removed folder is left
  const bFaces = new Set(b.bFaces), bPhotos = new Set(b.bPhotos);
  expect(ids(`SELECT item_id FROM embeddings WHERE model = 'face'`).filter((i) => bFaces.has(i))).toEqual([]);
  expect(ids('SELECT id FROM faces').filter((i) => bFaces.has(i))).toEqual([]);
  expect(ids('SELECT id FROM photos').filter((i) => bPhotos.has(i))).toEqual([]);
  expect(ids(`SELECT item_id FROM labels WHERE kind = 'face'`).filter((i) => bFaces.has(i))).toEqual([]);
  // the run holds exactly the faces that remain of it, none of the new folder's (ids are new, never reused)
  const assigned = ids('SELECT item_id FROM assignments WHERE run_id = ? ORDER BY item_id', runId);
  const replaced = new Set(b.replacedFaces ?? []);
  for (const f of replaced) expect(ids('SELECT id FROM faces WHERE id = ?', f)).toEqual([]);
  const remaining = [...b.faceName.keys()].filter((i) => !bFaces.has(i) && !replaced.has(i)).sort((x, y) => x - y);
  expect(assigned).toEqual(remaining);
  const newFaces = ids('SELECT id FROM faces WHERE id > ?', b.maxFace);
  expect(newFaces.length).toBeGreaterThan(0);
  expect(ids('SELECT id FROM photos WHERE id > ?', b.maxPhoto).length).toBe(C_PEOPLE.length * 2);
  for (const f of newFaces) expect(assigned).not.toContain(f);
  // every remaining face is still in its named group
  const now = db.prepare(`SELECT a.item_id AS id, a.cluster, c.name FROM assignments a LEFT JOIN clusters c ON c.run_id = a.run_id AND c.cluster = a.cluster WHERE a.run_id = ?`).all(runId) as Array<{ id: number; cluster: number; name: string | null }>;
  for (const r of now) {
    expect(r.cluster).toBe(b.faceCluster.get(r.id));
    expect(r.name).toBe(b.faceName.get(r.id));
  }
  expect(now.filter((r) => r.name).length).toBeGreaterThan(0);
}

describe('one item identity through the API', () => {
  it('check is ok after scan, faces, named groups, a changed and a renamed photo, remove-folder and a new folder', async () => {
    const A = folder('api-a', A_PEOPLE), B = folder('api-b', B_PEOPLE);
    const svc = CoreService.open(join(t.dir, 'api.constellate'));
    const done = async (job: Promise<JobInfo>) => {
      const j = await svc.jobs.wait((await job).id);
      expect(j.error).toBeNull();
      expect(j.state).toBe('done');
      return j;
    };
    const [ra, rb] = await svc.addRoots({ paths: [A, B] });
    await done(svc.scan());
    await done(svc.embed({ model: 'face', workers: 1 }));
    const faces = (await svc.getInfo()).faces;
    expect(faces).toBeGreaterThanOrEqual((A_PEOPLE.length + B_PEOPLE.length) * 2 - 1);
    const cj = await done(svc.cluster({ model: 'face', params: { algo: 'kmeans', k: A_PEOPLE.length + B_PEOPLE.length, seed: 1 } as never }));
    const runId = (cj.result as { runId: number }).runId;
    for (const c of await svc.getClusters({ runId: runId })) {
      await svc.editRun({ runId: runId, op: { type: 'rename', cluster: c.cluster, name: `GROUP-${c.cluster}` } });
      await svc.editRun({ runId: runId, op: { type: 'accept', cluster: c.cluster } });
    }
    const changed = join(A, A_PEOPLE[0], 'neutral.jpg');
    const renamedFrom = join(A, A_PEOPLE[1], 'smiling.jpg'), renamedTo = join(A, A_PEOPLE[1], 'smiling-renamed.jpg');
    const before = snapshot(svc.lib, runId, A, B, changed, renamedFrom);
    expect(before.changedFaces.length).toBeGreaterThan(0);

    // and a photo overwritten by one of another person, framed the same: its face is another item
    const replaced = join(A, A_PEOPLE[2], 'neutral.jpg');
    const replacedId = svc.lib.db.prepare('SELECT id FROM photos WHERE path = ?').pluck().get(replaced) as number;
    before.replacedFaces = svc.lib.db.prepare('SELECT id FROM faces WHERE photo_id = ?').pluck().all(replacedId) as number[];
    expect(before.replacedFaces.length).toBe(1);

    await reencode(changed);
    renameSync(renamedFrom, renamedTo);
    cpSync(sharedPath('data/faces-london', C_PEOPLE[0], 'smiling.jpg'), replaced);
    const scan2 = await done(svc.scan());
    expect(scan2.result).toMatchObject({ updated: 2, moved: 1, added: 0 });
    const e2 = await done(svc.embed({ model: 'face', workers: 1 }));
    expect(e2.result).toMatchObject({ pending: 2, processed: 2 });
    const newFace = svc.lib.db.prepare('SELECT id FROM faces WHERE photo_id = ?').pluck().all(replacedId) as number[];
    expect(newFace.length).toBe(1);
    expect(newFace[0]).toBeGreaterThan(before.maxFace);

    // a mixed-kind comparison and a face asked as a photo are refused clearly
    await done(svc.embed({ model: 'photo', workers: 1 }));
    const pj = await done(svc.cluster({ model: 'photo', params: { algo: 'kmeans', k: 2, seed: 1 } as never }));
    await expect(svc.compareRuns({ a: runId, b: (pj.result as { runId: number }).runId })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/faces .* photos/) });
    await expect(svc.similar({ model: 'photo', item: { kind: 'face', id: before.changedFaces[0] }, k: 3 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    const near = await svc.similar({ model: 'face', item: { kind: 'face', id: before.changedFaces[0] }, k: 3 });
    expect(near.every((v) => v.kind === 'face')).toBe(true);

    const rm = await svc.removeFolder({ rootId: rb.id });
    expect(rm).toEqual({ removed: B, photos: B_PEOPLE.length * 2, faces: before.bFaces.length });
    const C = folder('api-c', C_PEOPLE);
    await svc.addRoots({ paths: [C] });
    await done(svc.scan());
    await done(svc.embed({ model: 'face', workers: 1 }));
    // similar after new faces were written: the cache follows the model's revision, the new faces are there
    const all = await svc.similar({ model: 'face', item: { kind: 'face', id: before.changedFaces[0] }, k: 50 });
    expect(all.some((v) => v.item > before.maxFace)).toBe(true);
    expect(all.some((v) => before.bFaces.includes(v.item))).toBe(false);

    expect(await svc.check({})).toEqual({ ok: true, problems: [] });
    verify(svc.lib, runId, before, renamedTo);
    expect((await svc.listRoots()).map((r) => r.id)).not.toContain(rb.id);
    expect(ra.id).toBeGreaterThan(0);
    await svc.close();
  }, 600_000);
});

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

describe('one item identity through the CLI', () => {
  it('remove-folder, check and clusters keep their contracts through the same story', async () => {
    const A = folder('cli-a', A_PEOPLE), B = folder('cli-b', B_PEOPLE);
    const lib = join(t.dir, 'cli.constellate');
    const L = ['--library', lib];
    expect(cli(['scan', A, B, ...L, '--json']).code).toBe(0);
    expect(cli(['embed', '--model', 'face', '--workers', '1', ...L, '--json']).code).toBe(0);
    const cl = cli(['cluster', '--model', 'face', '--algo', 'kmeans', '--k', String(A_PEOPLE.length + B_PEOPLE.length), '--seed', '1', ...L, '--json']);
    expect(cl.code, cl.stderr).toBe(0);
    const runId = cl.json().runId as number;
    // the folder names name the groups (and mark the unanimous ones curated)
    for (const d of [A, B]) expect(cli(['import-labels', d, ...L, '--json']).code).toBe(0);
    const groups = cli(['clusters', '--run', String(runId), ...L, '--json']);
    expect(groups.code, groups.stderr).toBe(0);
    const g0 = groups.json() as Array<{ cluster: number; name: string | null; size: number; curated: boolean }>;
    expect(g0.length).toBeGreaterThan(0);
    for (const g of g0) expect(Object.keys(g).sort()).toEqual(['cluster', 'curated', 'name', 'size']);
    expect(g0.some((g) => g.name)).toBe(true);

    const changed = join(A, A_PEOPLE[0], 'neutral.jpg');
    const renamedFrom = join(A, A_PEOPLE[1], 'smiling.jpg'), renamedTo = join(A, A_PEOPLE[1], 'smiling-renamed.jpg');
    let before: Before;
    { const l = Library.open(lib); before = snapshot(l, runId, A, B, changed, renamedFrom); l.close(); }
    await reencode(changed);
    renameSync(renamedFrom, renamedTo);
    expect(cli(['scan', ...L, '--json']).json()).toMatchObject({ updated: 1, moved: 1, added: 0 });
    expect(cli(['embed', '--model', 'face', '--workers', '1', ...L, '--json']).json()).toMatchObject({ pending: 1, processed: 1 });

    const bad = cli(['remove-folder', join(t.dir, 'not-a-folder-of-it'), ...L, '--json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not-a-folder-of-it: not a folder of this library/);
    const rm = cli(['remove-folder', B, ...L, '--json']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.json()).toEqual({ removed: B, photos: B_PEOPLE.length * 2, faces: before.bFaces.length });
    const C = folder('cli-c', C_PEOPLE);
    expect(cli(['scan', C, ...L, '--json']).code).toBe(0);
    expect(cli(['embed', '--model', 'face', '--workers', '1', ...L, '--json']).code).toBe(0);

    const ck = cli(['check', ...L, '--json']);
    expect(ck.code, ck.stdout).toBe(0);
    expect(ck.json()).toEqual({ ok: true, problems: [] });
    const g1 = cli(['clusters', '--run', String(runId), ...L, '--json']).json() as typeof g0;
    // names and curated flags stay; sizes are the remaining members
    for (const g of g1) {
      const was = g0.find((x) => x.cluster === g.cluster)!;
      expect([g.name, g.curated]).toEqual([was.name, was.curated]);
    }
    { const l = Library.open(lib); verify(l, runId, before, renamedTo); l.close(); }

    // a damaged library: check says what and exits 4
    { const l = Library.open(lib); l.db.prepare(`UPDATE clusters SET size = size + 5 WHERE run_id = ?`).run(runId); l.close(); }
    const ck2 = cli(['check', ...L, '--json']);
    expect(ck2.code).toBe(4);
    const r2 = ck2.json();
    expect(r2.ok).toBe(false);
    expect(r2.problems[0]).toMatchObject({ kind: 'cluster-size', count: g1.length });
    expect(Object.keys(r2.problems[0]).sort()).toEqual(['count', 'kind', 'message']);
  }, 600_000);
});
