/**
 * Every AppApi method's result has a schema (common/schemas.ts API_RESULT_SCHEMAS), and the results of real calls on a
 * real library (real photos, the real ONNX models) match them: every method of the contract is called here through
 * the door with result checking on (as in development and test builds), and a job's result is typed by its kind.
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS, type AppApi, type ApiMethod } from '../common/api.ts';
import { checkedApi } from '../common/dispatch.ts';
import type { ClusterReport } from '../common/jobs.ts';
import { API_RESULT_SCHEMAS, JOB_SCHEMAS, checkResult, isJobOf, jobResult } from '../common/schemas.ts';
import type { JobInfo } from '../common/jobs.ts';
import { config } from '../core/config.ts';
import { writeNpy } from '../core/npy-file.ts';
import { CoreService } from '../core/service.ts';
import { LibraryHost } from '../core/library-host.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';

const t = tempDir('constellate-results-');
let svc: CoreService;
let api: AppApi;
const called = new Set<ApiMethod>();

/** The service with every call noted (to hold that each method was called), behind the checking door. */
function tracked(impl: CoreService): AppApi {
  const out = {} as Record<ApiMethod, (o: unknown) => Promise<unknown>>;
  for (const m of API_METHODS) out[m] = (o: unknown) => { called.add(m); return (impl[m] as (o: unknown) => Promise<unknown>).call(impl, o); };
  return out as unknown as AppApi;
}

function copySome(from: string, to: string, n: number): void {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from).filter((x) => x.endsWith('.jpg')).sort().slice(0, n)) cpSync(join(from, f), join(to, f));
}

beforeAll(() => {
  copySome(sharedPath('data/photos-flowers/daisy'), join(t.dir, 'photos/daisy'), 6);
  copySome(sharedPath('data/photos-flowers/roses'), join(t.dir, 'photos/roses'), 6);
  for (const p of ['person-001', 'person-002']) copySome(sharedPath('data/faces-london', p), join(t.dir, 'faces', p), 2);
  copySome(sharedPath('data/photos-flowers/tulips'), join(t.dir, 'spare'), 2);
  copySome(sharedPath('data/photos-flowers/tulips'), join(t.dir, 'spare2'), 1);
  svc = CoreService.open(join(t.dir, 'lib.constellate'));
  api = checkedApi(tracked(svc), { checkResults: true });
});
let host: LibraryHost | null = null;
afterAll(async () => { await host?.close(); await svc?.close(); t.cleanup(); });

/** Waits for a job through the contract; its end state must be `state`. */
async function finished(job: JobInfo, state: JobInfo['state'] = 'done'): Promise<JobInfo> {
  const end = await api.waitJob({ id: job.id });
  expect([end.kind, end.state, end.error]).toEqual([job.kind, state, state === 'done' ? null : end.error]);
  return end;
}

describe('result schemas', () => {
  it('every method has a result schema, and every job kind a params and result schema', () => {
    expect(Object.keys(API_RESULT_SCHEMAS).sort()).toEqual([...API_METHODS].sort());
    expect(Object.keys(JOB_SCHEMAS).sort()).toEqual(['cluster', 'download', 'embed', 'export', 'exportJob', 'importEmbeddings', 'importRun', 'map', 'neardup', 'recluster', 'scan', 'similar', 'split', 'sweep']);
  });

  it('a result that does not match is refused by the door (INTERNAL naming the field); without checking it passes', async () => {
    const liar = { ...svc, getInfo: async () => ({ library: 5 }), listRoots: async () => [{ id: 1, path: '/x' }] } as unknown as AppApi;
    await expect(checkedApi(liar, { checkResults: true }).getInfo()).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/^the result of getInfo does not match its schema: library: /) });
    await expect(checkedApi(liar, { checkResults: true }).listRoots()).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/listRoots .*: 0\.addedAt: /) });
    expect(await checkedApi(liar).getInfo()).toEqual({ library: 5 });
    expect(checkResult('getAssignments', { runId: 1, kind: 'photo', ids: [1, 2], clusters: new Int32Array(2) })).toMatch(/^ids: /);
  });

  it('tests and development builds check results at the door (config.checkResults)', () => {
    expect(config.checkResults()).toBe(true); // under vitest
  });

  it('the results of real calls match their schemas; every method of the contract is called', async () => {
    expect(await api.getInfo()).toMatchObject({ photos: 0 });
    const [photos, faces] = await api.addRoots({ paths: [join(t.dir, 'photos'), join(t.dir, 'faces')] });
    const [spare] = await api.addRoots({ paths: [join(t.dir, 'spare')] });
    const [spare2] = await api.addRoots({ paths: [join(t.dir, 'spare2')] });
    expect((await api.listRoots()).length).toBe(4);
    const scan = await api.scan();
    expect(scan.kind).toBe('scan');
    const scanned = await finished(scan);
    if (!isJobOf(scanned, 'scan')) throw new Error('not a scan job');
    expect(jobResult(scanned)?.photos).toBe(19); // typed: ScanResult
    expect((await api.getJob({ id: scan.id })).state).toBe('done');
    const page = await api.listPhotos({ limit: 50 });
    expect(page.total).toBe(19);
    const daisy = page.items.find((p) => p.folder.endsWith('daisy'))!;
    expect((await api.getPhoto({ id: daisy.id })).id).toBe(daisy.id);
    expect((await api.listScanIssues({})).total).toBe(0);

    await finished(await api.embed({ model: 'photo' }));
    await finished(await api.embed({ model: 'face' }));
    expect((await api.getInfo()).embeddings.photo).toBe(19);

    // an imported model (4-d) and its export
    const n = page.items.length;
    const X = new Float32Array(n * 4).map((_, i) => Math.sin(i));
    writeNpy(join(t.dir, 'x.npy'), X, [n, 4]);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(t.dir, 'ids.csv'), ['path', ...page.items.map((p) => p.path)].join('\n'));
    expect((await api.importEmbeddings({ npy: join(t.dir, 'x.npy'), ids: join(t.dir, 'ids.csv'), model: 'toy' })).imported).toBe(n);
    expect((await api.exportEmbeddings({ model: 'toy', out: join(t.dir, 'out.npy') })).rows).toBe(n);

    const c1 = await finished(await api.cluster({ model: 'photo', params: { algo: 'kmeans', k: 2, seed: 1 }, labels: 'folders' }));
    if (!isJobOf(c1, 'cluster')) throw new Error('not a cluster job');
    const run1: ClusterReport | null = jobResult(c1); // typed by the job-kind map, no cast
    expect(run1?.runId).toBeGreaterThan(0);
    const runId = run1!.runId;
    const c2 = await finished(await api.cluster({ model: 'photo', params: { algo: 'kmeans', k: 3, seed: 2 } }));
    const runId2 = isJobOf(c2, 'cluster') ? jobResult(c2)!.runId : -1;
    expect((await api.listRuns()).length).toBe(2);
    expect((await api.getRun({ runId })).id).toBe(runId);
    const clusters = await api.getClusters({ runId });
    expect(clusters.length).toBeGreaterThanOrEqual(2);
    expect((await api.getCluster({ runId, cluster: clusters[0].cluster })).cluster).toBe(clusters[0].cluster);
    expect((await api.getAssignments({ runId })).ids).toBeInstanceOf(Int32Array);
    expect((await api.compareRuns({ a: runId, b: runId2 })).common).toBe(19);

    await finished(await api.exportRun({ runId, to: join(t.dir, 'export'), format: 'json' }));
    expect((await api.importLabels({ source: join(t.dir, 'photos') })).mode).toBe('folders');
    const fr = await finished(await api.cluster({ model: 'face', params: { algo: 'kmeans', k: 2, seed: 1 } }));
    const faceRun = isJobOf(fr, 'cluster') ? jobResult(fr)!.runId : -1;
    await api.importLabels({ source: join(t.dir, 'faces') });
    expect((await api.exportXmp({ runId: faceRun })).regions).toBe(4);
    expect((await api.importXmp()).sidecars).toBe(4);
    await finished(await api.computeMap({ model: 'photo', params: { method: 'pca' } }));
    expect((await api.listMaps()).length).toBe(1);
    expect((await api.getMap({ model: 'photo' })).xy).toBeInstanceOf(Float32Array);

    expect((await api.getCatalog()).length).toBeGreaterThan(0);
    const dl = await api.downloadCatalogModel({ id: (await api.getCatalog())[0].id });
    await api.cancelJob({ id: dl.id }); // no internet here: cancel it (or it fails): either end is a valid job
    const dlEnd = await api.waitJob({ id: dl.id });
    expect(['cancelled', 'failed', 'done']).toContain(dlEnd.state);

    const edit = await api.editRun({ runId, op: { type: 'rename', cluster: clusters[0].cluster, name: 'flowers' } });
    expect(edit.op.type).toBe('rename');
    expect((await api.undo({ runId }))?.editId).toBe(edit.editId);
    expect((await api.redo({ runId }))?.editId).toBe(edit.editId);
    expect((await api.getHistory({ runId })).edits.length).toBe(1);
    expect((await api.getItemStates({ runId })).runId).toBe(runId);
    const members = await api.getClusterMembers({ runId, cluster: clusters[0].cluster, limit: 5 });
    expect(members.items.length).toBeGreaterThan(0);
    expect((await api.getItems({ kind: 'photo', ids: [daisy.id], runId })).length).toBe(1);
    expect((await api.getReviewQueue({ runId, maxSim: 1 })).total).toBeGreaterThan(0); // every member is at most 1 similar
    expect((await api.similar({ model: 'photo', item: { kind: 'photo', id: daisy.id }, k: 3 })).length).toBe(3);
    expect(Array.isArray(await api.nearDuplicates({ model: 'photo', threshold: 0.99 }))).toBe(true);
    const sw = await finished(await api.sweep({ model: 'photo', kind: 'elbow', values: [2, 3] }));
    expect(isJobOf(sw, 'sweep') && jobResult(sw)?.points.length).toBe(2);

    // runs, export targets, backups (issue 17)
    expect((await api.renameRun({ runId: runId2, name: 'second' })).record.name).toBe('second');
    expect((await api.checkExportTarget({ to: join(t.dir, 'nowhere') })).exists).toBe(false);
    const backup = await api.backupNow();
    expect((await api.listBackups()).map((b) => b.path)).toContain(backup.path);
    expect((await api.restoreBackup({ path: backup.path })).restored).toBe(backup.path);
    // exploration (issue 20)
    const pair = [daisy.id, page.items.find((p) => p.id !== daisy.id)!.id];
    expect((await api.compareItems({ kind: 'photo', ids: pair, model: 'photo' })).items.length).toBe(2);
    const mapId = (await api.listMaps())[0].id;
    expect((await api.getMapField({ mapId, field: 'folder' })).codes).toBeInstanceOf(Int32Array);
    expect((await api.searchItems({ kind: 'photo', folder: 'daisy' })).total).toBeGreaterThan(0);
    expect((await api.keepBestDuplicates({ runId, groups: [{ items: pair }] })).kept.length).toBe(1);
    // groups and assignment (issue 18)
    expect((await api.assign({ runId })).runId).toBe(runId);
    expect((await api.setSettings({ autoAssign: false })).autoAssign).toBe(false);
    expect((await api.getSettings()).autoAssign).toBe(false);
    // people and faces (issue 19)
    const people = await api.listPeople({ runId: faceRun, sort: 'size' });
    expect(people.length).toBe(2);
    const pc = people[0].cluster;
    expect((await api.setPerson({ runId: faceRun, cluster: pc, hidden: false })).op.type).toBe('person');
    expect((await api.getSuggestions({ runId: faceRun, cluster: pc })).cluster).toBe(pc);
    expect((await api.getUnknownGroups({ runId: faceRun })).runId).toBe(faceRun);
    expect((await api.suggestPerson({ runId: faceRun, item: (await api.getClusterMembers({ runId: faceRun, cluster: pc })).items[0].item })).from).toBe(pc);
    const faceIds = (await api.getClusterMembers({ runId: faceRun, cluster: pc })).items.map((i) => i.item);
    expect((await api.rejectSuggestions({ runId: faceRun, cluster: people[1].cluster, items: [faceIds[0]] })).op.type).toBe('reject-suggestions');
    expect((await api.confirmSuggestions({ runId: faceRun, cluster: pc, items: [faceIds[0]] })).op.type).toBe('confirm');
    expect((await api.getMergeSuggestions({ runId: faceRun })).runId).toBe(faceRun);
    expect((await api.notSamePerson({ runId: faceRun, clusters: [people[0].cluster, people[1].cluster] })).op.type).toBe('not-same');
    // a labeling session that learns: from the confirm, reject and not-same decisions above
    expect((await api.learn({ runId: faceRun })).runId).toBe(faceRun);
    const pv = await api.previewSplit({ runId: faceRun, cluster: pc, k: 2 });
    expect(pv.parts.length).toBe(2);
    expect((await api.applySplit({ runId: faceRun, cluster: pc, parts: pv.parts.map((x) => ({ items: x.items })) })).op.type).toBe('split-parts');
    expect((await api.markNotFace({ runId: faceRun, items: [faceIds[0]] })).op.type).toBe('not-face');
    const [fv] = await api.getItems({ kind: 'face', ids: [faceIds[1]] });
    const added = await api.addFace({ photoId: fv.photoId, box: fv.box!, runId: faceRun });
    expect(added.face.manual).toBe(true);
    expect((await api.getHistory({ runId: faceRun })).edits.map((e) => e.op.type)).toContain('assign');
    expect((await api.setSettings({ faceMinQuality: null, faceExcludedFolders: [] })).faceExcludedFolders).toEqual([]);
    // other engines (issue 22)
    const pq = join(t.dir, 'toy.parquet');
    expect((await api.exportEmbeddingsFile({ model: 'toy', out: pq, format: 'parquet' })).rows).toBe(n);
    await finished(await api.importEmbeddingsFile({ file: pq, model: 'toy2' }));
    await finished(await api.exportRun({ runId, to: join(t.dir, 'pq'), format: 'parquet' }));
    await finished(await api.importRun({ file: join(t.dir, 'pq', `run-${runId}.parquet`), model: 'photo' }));
    await finished(await api.exportJob({ model: 'photo', to: join(t.dir, 'bundle') }));
    expect((await api.deleteRun({ runId: runId2 })).runId).toBe(runId2);

    expect((await api.listJobs()).length).toBeGreaterThan(5);
    expect((await api.check()).ok).toBe(true);
    expect(await api.retryFailed()).toEqual({ errors: 0, retryable: 0, rootIds: [], scan: null });
    expect((await api.removeFolder({ rootId: spare.id })).photos).toBe(2);
    expect(await api.removeRoot({ rootId: spare2.id })).toBeUndefined();
    expect(photos.id).not.toBe(faces.id);
    // libraries (issue 17): the CLI's service serves one library; an app's host switches (recent list in the temp dir)
    await expect(api.openLibrary({ path: join(t.dir, 'other.constellate'), create: true })).rejects.toMatchObject({ code: 'CONFLICT' });
    host = new LibraryHost(svc, { recentFile: join(t.dir, 'recent.json') });
    expect((await api.listRecentLibraries()).map((r) => [r.name, r.current])).toEqual([['lib.constellate', true]]);
    expect(await api.checkLibrary({ path: join(t.dir, 'other.constellate'), create: true })).toEqual({ path: join(t.dir, 'other.constellate'), exists: false, current: false, version: 0 });
    expect((await api.openLibrary({ path: join(t.dir, 'other.constellate'), create: true })).library).toBe(join(t.dir, 'other.constellate'));

    expect([...API_METHODS].filter((m) => !called.has(m))).toEqual([]);
  }, 600_000);
});
