import type { AppEvent } from '../../common/jobs.ts';
/**
 * The fast tier of service tests: the assembled AppApi on a library in memory (`:memory:`), called through the door
 * as every transport calls it, with six real photos and embeddings made up here (two clear groups). Beside the
 * real-data tests (real models, real libraries on disk), this runs in seconds.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppApi } from '../../common/api.ts';
import { checkedApi } from '../../common/dispatch.ts';

import { Library } from '../library.ts';
import { writeNpy } from '../npy-file.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir } from '../../testing/fixtures.ts';

const D = 8;

describe('services on an in-memory library', () => {
  const tmp = tempDir('constellate-services-');
  let svc: CoreService;
  let api: AppApi;
  const events: AppEvent[] = [];
  const paths: string[] = [];

  beforeAll(async () => {
    // six photos in two folders; their embeddings: two tight groups, far apart
    for (const folder of ['daisy', 'dandelion']) {
      mkdirSync(join(tmp.dir, 'photos', folder), { recursive: true });
      for (const f of readdirSync(sharedPath('data/photos-flowers', folder)).filter((x) => x.endsWith('.jpg')).sort().slice(0, 3)) {
        copyFileSync(sharedPath('data/photos-flowers', folder, f), join(tmp.dir, 'photos', folder, f));
        paths.push(join(tmp.dir, 'photos', folder, f));
      }
    }
    svc = new CoreService(Library.inMemory(join(tmp.dir, 'cache')));
    svc.onEvent((e) => events.push(e));
    api = checkedApi(svc);
  });
  afterAll(async () => { await svc?.close(); tmp.cleanup(); });

  it('opens in memory: no file, no lock, the latest schema', async () => {
    expect(svc.lib.path).toBe(':memory:');
    const info = await api.getInfo();
    expect(info.photos).toBe(0);
    expect(await api.listRuns()).toEqual([]);
    // a caller that names the library it takes to be open: answered by that one only
    expect(await api.listRuns({ library: ':memory:' })).toEqual([]);
    await expect(api.listRuns({ library: '/elsewhere/other.constellate' })).rejects.toMatchObject({ code: 'CONFLICT', message: 'library: /elsewhere/other.constellate is not open (:memory: is)' });
    await expect(api.listRuns({ library: 3 } as never)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^library/) });
  });

  it('adds and scans a folder; a folder that is not there is NOT_FOUND and adds nothing', async () => {
    await expect(api.addRoots({ paths: [join(tmp.dir, 'nowhere')] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await api.listRoots()).toEqual([]);
    const [root] = await api.addRoots({ paths: [join(tmp.dir, 'photos')] });
    const job = await api.waitJob({ id: (await api.scan({ rootIds: [root.id] })).id });
    expect(job.state).toBe('done');
    expect((await api.getInfo()).photos).toBe(6);
    await expect(api.scan({ rootIds: [root.id + 100] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('imports embeddings, clusters them, and reads the run back', async () => {
    const X = new Float32Array(6 * D);
    paths.forEach((_, i) => { X[i * D + (i < 3 ? 0 : 1)] = 1; X[i * D + 2 + i] = 0.05; });
    writeNpy(join(tmp.dir, 'x.npy'), X, [6, D]);
    writeFileSync(join(tmp.dir, 'ids.csv'), 'path\n' + paths.join('\n') + '\n');
    const imp = await api.importEmbeddings({ npy: join(tmp.dir, 'x.npy'), ids: join(tmp.dir, 'ids.csv'), model: 'synth' });
    expect(imp).toMatchObject({ imported: 6, unmatched: 0, dim: D });
    // the door refuses a shape before the service sees it; the service refuses what only the library knows
    await expect(api.cluster({ model: 'synth', params: { algo: 'kmeans' } as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^params\.k/) });
    await expect(api.cluster({ model: 'nothing', params: { algo: 'kmeans', k: 2 } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const job = await api.waitJob({ id: (await api.cluster({ model: 'synth', params: { algo: 'kmeans', k: 2, seed: 1 } })).id });
    expect(job.state).toBe('done');
    const [run] = await api.listRuns();
    expect(run).toMatchObject({ model: 'synth', clusters: 2, n: 6 });
    expect(run.record).toMatchObject({ version: 1, algo: 'kmeans' });
    const { ids, clusters } = await api.getAssignments({ runId: run.id });
    expect(ids).toHaveLength(6);
    const idOf = new Map((await api.listPhotos({ limit: 100 })).items.map((p) => [p.path, p.id]));
    const clusterOf = (path: string) => clusters[Array.from(ids).indexOf(idOf.get(path)!)];
    const [a, b] = [paths.slice(0, 3).map(clusterOf), paths.slice(3).map(clusterOf)];
    expect(new Set(a).size).toBe(1);
    expect(new Set(b).size).toBe(1);
    expect(a[0]).not.toBe(b[0]);
    const cmp = await api.compareRuns({ a: run.id, b: run.id });
    expect(cmp.ari).toBeCloseTo(1, 9);
    // similar: a photo's nearest neighbours are its own group first
    const daisies = paths.slice(0, 3).map((p) => idOf.get(p)!);
    const near = await api.similar({ model: 'synth', item: { kind: 'photo', id: daisies[0] }, k: 2, runId: run.id });
    expect(near.map((v) => v.item).sort()).toEqual(daisies.slice(1).sort());
    expect(near.every((v) => v.cluster === a[0])).toBe(true);
  });

  it('edits a run with undo and redo, each with its run event', async () => {
    const [run] = await api.listRuns();
    const [c] = await api.getClusters({ runId: run.id });
    events.length = 0;
    const r = await api.editRun({ runId: run.id, op: { type: 'rename', cluster: c.cluster, name: 'Daisies' } });
    expect((await api.getCluster({ runId: run.id, cluster: c.cluster })).name).toBe('Daisies');
    expect(events.some((e) => e.type === 'run' && e.change?.editId === r.editId)).toBe(true);
    expect(await api.undo({ runId: run.id })).toMatchObject({ editId: r.editId });
    expect((await api.getCluster({ runId: run.id, cluster: c.cluster })).name).toBeNull();
    await api.redo({ runId: run.id });
    expect((await api.getCluster({ runId: run.id, cluster: c.cluster })).name).toBe('Daisies');
    expect((await api.getHistory({ runId: run.id })).edits).toHaveLength(1);
    await expect(api.editRun({ runId: run.id, op: { type: 'rename', cluster: 99, name: 'x' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('counts a run\'s item states: decided by how, and placed; undo and redo restore them; a run that is not there is NOT_FOUND', async () => {
    const [run] = await api.listRuns();
    // the rename before named the three members of the named cluster
    const named = { runId: run.id, decided: 3, placed: 3, byHow: { named: 3 } };
    expect(await api.getItemStates({ runId: run.id })).toEqual(named);
    const other = (await api.getClusters({ runId: run.id })).find((c) => c.name === null)!;
    const to = (await api.getClusters({ runId: run.id })).find((c) => c.name === 'Daisies')!;
    const moved = (await api.getClusterMembers({ runId: run.id, cluster: other.cluster, limit: 2 })).items.map((i) => i.item);
    await api.editRun({ runId: run.id, op: { type: 'move', items: moved, to: to.cluster } });
    const after = { runId: run.id, decided: 5, placed: 1, byHow: { named: 3, moved: 2 } };
    expect(await api.getItemStates({ runId: run.id })).toEqual(after);
    await api.undo({ runId: run.id });
    expect(await api.getItemStates({ runId: run.id })).toEqual(named);
    await api.redo({ runId: run.id });
    expect(await api.getItemStates({ runId: run.id })).toEqual(after);
    await api.undo({ runId: run.id });
    await expect(api.getItemStates({ runId: run.id + 100 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(api.getItemStates({ runId: 0 } as never)).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('renames and deletes a run; a run that is gone is NOT_FOUND everywhere', async () => {
    const [run] = await api.listRuns();
    expect((await api.renameRun({ runId: run.id, name: 'flowers' })).record.name).toBe('flowers');
    const del = await api.deleteRun({ runId: run.id });
    expect(del).toMatchObject({ runId: run.id, clusters: 2, named: 1, items: 6, edits: 2 }); // the rename and the undone move
    for (const call of [() => api.getRun({ runId: run.id }), () => api.getClusters({ runId: run.id }), () => api.undo({ runId: run.id }), () => api.getItemStates({ runId: run.id })]) {
      await expect(call()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('settings round-trip; a folder removed takes its photos and embeddings', async () => {
    expect((await api.setSettings({ autoAssign: true })).autoAssign).toBe(true);
    expect((await api.getSettings()).autoAssign).toBe(true);
    const [root] = await api.listRoots();
    const r = await api.removeFolder({ rootId: root.id });
    expect(r).toMatchObject({ photos: 6 });
    const info = await api.getInfo();
    expect(info.photos).toBe(0);
    await expect(api.removeFolder({ rootId: root.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
