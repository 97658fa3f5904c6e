import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../common/jobs.ts';
import { clusterJob } from '../cluster/cluster-job.ts';
import { embedJob } from '../embed/embed-job.ts';
import { Library } from '../library.ts';
import { scanRoots } from '../scan/scanner.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';
import { expandHome, userPath } from '../user-path.ts';

const t = tempDir();
const file = join(t.dir, 'history.constellate');
const faces = join(t.dir, 'faces');
let svc: CoreService;
let runA: number;
let runB: number;
const events: AppEvent[] = [];

beforeAll(async () => {
  mkdirSync(faces);
  for (const p of readdirSync(sharedPath('data/faces-london')).sort().slice(0, 6)) cpSync(sharedPath('data/faces-london', p), join(faces, p), { recursive: true });
  const lib = Library.open(file);
  await scanRoots(lib, [lib.addRoot(faces).id], testContext());
  await embedJob(lib, { model: 'face' }, testContext());
  runA = (await clusterJob(lib, { model: 'face', params: { algo: 'kmeans', k: 6, nInit: 3 }, labels: 'folders' }, testContext())).runId;
  runB = (await clusterJob(lib, { model: 'face', params: { algo: 'kmeans', k: 6, nInit: 3, seed: 3 }, labels: 'folders' }, testContext())).runId;
  lib.close();
  svc = CoreService.open(file);
  svc.onEvent((e) => events.push(e));
}, 240_000);
afterAll(async () => { await svc?.close(); t.cleanup(); });

const runEvents = () => events.filter((e): e is Extract<AppEvent, { type: 'run' }> => e.type === 'run');

describe('named, scoped, undoable edits', () => {
  it('every edit, undo and redo emits a change event naming what it did', async () => {
    const [c] = await svc.getClusters({ runId: runA });
    events.length = 0;
    const r = await svc.editRun({ runId: runA, op: { type: 'rename', cluster: c.cluster, name: 'Anna' } });
    expect(r.description).toBe(`rename 'cluster ${c.cluster}' → 'Anna'`);
    const u = await svc.undo({ runId: runA });
    expect(u?.description).toBe(r.description);
    await svc.redo({ runId: runA });
    expect(runEvents().map((e) => [e.runId, e.change?.action, e.change?.description, e.change?.clusters])).toEqual([
      [runA, 'edit', r.description, [c.cluster]], [runA, 'undo', r.description, [c.cluster]], [runA, 'redo', r.description, [c.cluster]],
    ]);
    const h = await svc.getHistory({ runId: runA });
    expect(h.edits.at(-1)).toMatchObject({ description: r.description, undone: false });
    // undo is scoped to its run: run B has nothing to undo
    expect(await svc.undo({ runId: runB })).toBeNull();
    expect((await svc.getClusters({ runId: runA })).find((x) => x.cluster === c.cluster)?.name).toBe('Anna');
  });

  it('undoing a reject that emptied a named, curated cluster brings back its name and flag', async () => {
    const c = (await svc.getClusters({ runId: runA })).find((x) => x.name === 'Anna')!;
    await svc.editRun({ runId: runA, op: { type: 'accept', cluster: c.cluster } });
    const members = (await svc.getClusterMembers({ runId: runA, cluster: c.cluster })).items.map((i) => i.item);
    const r = await svc.editRun({ runId: runA, op: { type: 'reject', items: members } });
    expect(r.description).toBe(`reject ${members.length} item${members.length === 1 ? '' : 's'} (to noise)`);
    expect((await svc.getClusters({ runId: runA })).some((x) => x.cluster === c.cluster)).toBe(false);
    await svc.undo({ runId: runA });
    expect((await svc.getClusters({ runId: runA })).find((x) => x.cluster === c.cluster)).toMatchObject({ name: 'Anna', curated: true, size: members.length });
  });

  it('a bulk accept (names op) is one undoable edit', async () => {
    const cs = (await svc.getClusters({ runId: runB })).slice(0, 3);
    const r = await svc.editRun({ runId: runB, op: { type: 'names', clusters: cs.map((c) => ({ cluster: c.cluster, curated: true })) } });
    expect(r.description).toBe('mark 3 groups curated');
    expect((await svc.getClusters({ runId: runB })).filter((c) => c.curated)).toHaveLength(3);
    await svc.undo({ runId: runB });
    expect((await svc.getClusters({ runId: runB })).filter((c) => c.curated)).toHaveLength(0);
    expect((await svc.getHistory({ runId: runB })).canUndo).toBe(false);
  });

  it('import labels names the chosen run (not the newest) as one undoable edit, and says which run', async () => {
    events.length = 0;
    const before = await svc.getClusters({ runId: runB });
    const r = await svc.importLabels({ source: faces, runId: runA });
    expect(r.runId).toBe(runA);
    expect(r.seeded).toEqual([expect.objectContaining({ runId: runA, kind: 'face' })]);
    expect(r.editId).toBeGreaterThan(0);
    expect(await svc.getClusters({ runId: runB })).toEqual(before);
    const ev = runEvents().find((e) => e.change?.action === 'import');
    expect(ev).toMatchObject({ runId: runA, change: { editId: r.editId } });
    expect(ev!.change!.description).toMatch(/^import labels from faces: name \d+ groups/);
    const named = (await svc.getClusters({ runId: runA })).filter((c) => c.name && c.name !== 'Anna');
    expect(named.length).toBe(r.seeded[0].named);
    await svc.undo({ runId: runA });
    expect((await svc.getClusters({ runId: runA })).filter((c) => c.name && c.name !== 'Anna')).toHaveLength(0);
    // the default is the newest run
    const d = await svc.importLabels({ source: faces });
    expect(d.runId).toBe(runB);
    await svc.undo({ runId: runB });
    await expect(svc.importLabels({ source: faces, runId: 999 })).rejects.toThrow(/run 999 does not exist/);
  });
});

describe('paths a person types', () => {
  it('~ is the home folder; a relative path is refused with the reason', async () => {
    expect(expandHome('~/Pictures', '/home/x')).toBe('/home/x/Pictures');
    expect(userPath('paths', '~', '/home/x')).toBe('/home/x');
    expect(() => userPath('paths', 'Pictures', '/home/x')).toThrow(/^paths: "Pictures" is a relative path; give an absolute path \(such as \/home\/x\/Pictures or ~\/Pictures\)/);
    await expect(svc.addRoots({ paths: ['some/relative'] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^paths: "some\/relative" is a relative path/) });
    await expect(svc.addRoots({ paths: ['~/constellate-no-such-folder-17'] })).rejects.toThrow(`${join(homedir(), 'constellate-no-such-folder-17')}: no such folder`);
    await expect(svc.exportRun({ runId: runA, to: 'out', format: 'csv' })).rejects.toThrow(/^to: "out" is a relative path/);
    await expect(svc.importLabels({ source: 'labels.csv' })).rejects.toThrow(/^source: "labels.csv" is a relative path/);
  });

  it('export asks before it creates a missing folder (createMissing: false), and a file path is a user error', async () => {
    const to = join(t.dir, 'new', 'exports');
    await expect(svc.exportRun({ runId: runA, to, format: 'csv', createMissing: false })).rejects.toMatchObject({ code: 'CONFLICT', message: `${to} does not exist: export would create it` });
    expect(existsSync(to)).toBe(false);
    const plain = join(t.dir, 'plain');
    writeFileSync(plain, 'x');
    await expect(svc.exportRun({ runId: runA, to: plain, format: 'csv' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    const job = await svc.exportRun({ runId: runA, to, format: 'csv', createMissing: true });
    expect((await svc.jobs.wait(job.id)).state).toBe('done');
    expect(existsSync(to)).toBe(true);
  });
});

describe('runs told apart, renamed, deleted', () => {
  it('renames a run (kept in its record) and deletes one with everything of it', async () => {
    events.length = 0;
    const r = await svc.renameRun({ runId: runB, name: 'seed 3' });
    expect(r.record.name).toBe('seed 3');
    expect((await svc.listRuns()).find((x) => x.id === runB)?.record.name).toBe('seed 3');
    expect(runEvents().at(-1)).toMatchObject({ runId: runB, change: { action: 'rename-run', description: `rename run ${runB} → 'seed 3'` } });
    await svc.editRun({ runId: runB, op: { type: 'rename', cluster: 0, name: 'Zed' } });
    const d = await svc.deleteRun({ runId: runB });
    const n = (q: string) => svc.lib.db.prepare(q).pluck().get(runA) as number;
    expect(d).toMatchObject({ runId: runB, clusters: 6, items: n('SELECT COUNT(*) FROM assignments WHERE run_id = ?') });
    expect(d.named).toBeGreaterThanOrEqual(1);
    expect(d.edits).toBeGreaterThanOrEqual(1);
    expect((await svc.listRuns()).map((x) => x.id)).toEqual([runA]);
    expect(svc.lib.db.prepare('SELECT COUNT(*) FROM assignments WHERE run_id = ?').pluck().get(runB)).toBe(0);
    expect(svc.lib.db.prepare('SELECT COUNT(*) FROM edits WHERE run_id = ?').pluck().get(runB)).toBe(0);
    await expect(svc.deleteRun({ runId: runB })).rejects.toThrow(`run ${runB} does not exist`);
  });
});

describe('export target', () => {
  it('checkExportTarget says where an export goes and whether the folder exists', async () => {
    expect(await svc.checkExportTarget({ to: t.dir })).toEqual({ to: t.dir, exists: true });
    expect(await svc.checkExportTarget({ to: join(t.dir, 'not-yet') })).toEqual({ to: join(t.dir, 'not-yet'), exists: false });
    expect((await svc.checkExportTarget({ to: '~' })).to).toBe(homedir());
    await expect(svc.checkExportTarget({ to: 'rel' })).rejects.toThrow(/^to: "rel" is a relative path/);
  });
});

describe('backups (the last tests: they replace the library content)', () => {
  it('backs up now and restores it: what changed since comes back as it was', async () => {
    const b = await svc.backupNow();
    expect(b.path.startsWith(`${file}.backup-v`)).toBe(true);
    expect((await svc.listBackups()).map((x) => x.path)).toContain(b.path);
    const before = await svc.getClusters({ runId: runA });
    await svc.editRun({ runId: runA, op: { type: 'rename', cluster: before[0].cluster, name: 'after the backup' } });
    const r = await svc.restoreBackup({ path: b.path });
    expect(r.tables.assignments).toBeGreaterThan(0);
    expect(await svc.getClusters({ runId: runA })).toEqual(before);
    await expect(svc.restoreBackup({ path: join(t.dir, 'nope') })).rejects.toThrow(/not a backup of this library/);
  });

  it('restores a pre-migration backup (an older schema is migrated first)', async () => {
    const { default: Database } = await import('better-sqlite3');
    const { MIGRATIONS } = await import('../store/migrations.ts');
    const { APPLICATION_ID } = await import('../store/db.ts');
    const old = `${file}.backup-v1-1700000000000`;
    const db = new Database(old);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    db.exec(MIGRATIONS[0].sql);
    db.prepare('INSERT INTO schema_migrations VALUES (1, ?, 0)').run(MIGRATIONS[0].name);
    db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?)').run('/old/photos', 1);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.close();
    const listed = (await svc.listBackups()).find((x) => x.path === old);
    expect(listed).toMatchObject({ version: 1, preMigration: true });
    await svc.restoreBackup({ path: old });
    expect((await svc.listRoots()).map((r) => r.path)).toEqual(['/old/photos']);
    expect(await svc.listRuns()).toEqual([]);
    expect((await svc.getInfo()).photos).toBe(0);
  });
});
