import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterStats } from '../../algo/cluster/postprocess.ts';
import { clusterJob } from '../cluster/cluster-job.ts';
import { loadMatrix } from '../store/embeddings.ts';
import { runClusters } from '../store/runs.ts';
import { embedJob } from '../embed/embed-job.ts';
import { Library } from '../library.ts';
import { scanRoots } from '../scan/scanner.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';

const t = tempDir();
const file = join(t.dir, 'session.constellate');
let svc: CoreService;
let runId: number;

beforeAll(async () => {
  const dir = join(t.dir, 'faces');
  mkdirSync(dir);
  for (const p of readdirSync(sharedPath('data/faces-london')).sort().slice(0, 8)) cpSync(sharedPath('data/faces-london', p), join(dir, p), { recursive: true });
  const lib = Library.open(file);
  await scanRoots(lib, [lib.addRoot(dir).id], testContext());
  await embedJob(lib, { model: 'face' }, testContext());
  runId = (await clusterJob(lib, { model: 'face', params: { algo: 'kmeans', k: 8, nInit: 3 }, labels: 'folders' }, testContext())).runId;
  lib.close();
  svc = CoreService.open(file);
});
afterAll(async () => { await svc?.close(); t.cleanup(); });

const sizes = async () => (await svc.getClusters({ runId })).map((c) => [c.cluster, c.size, c.name] as const).sort((a, b) => a[0] - b[0]);

describe('labeling session', () => {
  it('names, merges, moves with unlimited undo/redo, and survives closing the library', async () => {
    const start = await sizes();
    expect(start).toHaveLength(8);
    const [a, b, c] = start.map((x) => x[0]);
    await svc.editRun({ runId, op: { type: 'rename', cluster: a, name: 'Alice' } });
    await svc.editRun({ runId, op: { type: 'merge', clusters: [a, b] } });
    const merged = await sizes();
    expect(merged).toHaveLength(7);
    expect(merged.find((x) => x[0] === a)).toEqual([a, 4, 'Alice']);
    const member = (await svc.getClusterMembers({ runId, cluster: c })).items[0].item;
    const moved = await svc.editRun({ runId, op: { type: 'move', items: [member], to: a } });
    expect(moved.history.canUndo).toBe(true);
    expect((await sizes()).find((x) => x[0] === a)![1]).toBe(5);
    const afterEdits = await sizes();

    await svc.undo({ runId }); // move
    await svc.undo({ runId }); // merge
    expect(await sizes()).toEqual(start.map((x) => (x[0] === a ? [a, x[1], 'Alice'] : x)));
    await svc.undo({ runId }); // rename
    expect(await sizes()).toEqual(start);
    expect(await svc.undo({ runId })).toBeNull();
    await svc.redo({ runId }); await svc.redo({ runId }); await svc.redo({ runId });
    expect(await sizes()).toEqual(afterEdits);
    expect((await svc.getHistory({ runId })).canRedo).toBe(false);
    // the member's similarity to its new centroid was recomputed
    const ms = (await svc.getClusterMembers({ runId, cluster: a })).items;
    expect(ms.every((m) => m.sim !== null && m.sim > -1 && m.sim <= 1.0001)).toBe(true);

    // reopen: the state and the undo history are intact
    await svc.close();
    svc = CoreService.open(file);
    expect(await sizes()).toEqual(afterEdits);
    await svc.undo({ runId });
    expect((await sizes()).find((x) => x[0] === a)![1]).toBe(4);
    await svc.redo({ runId });
  });

  it('splits a cluster in a worker, rejects items to noise, accepts a cluster; a new edit ends the redo branch', async () => {
    const big = (await svc.getClusters({ runId })).sort((x, y) => y.size - x.size)[0];
    const before = (await svc.getClusters({ runId })).length;
    await svc.editRun({ runId, op: { type: 'split', cluster: big.cluster, k: 2 } });
    expect((await svc.getClusters({ runId })).length).toBe(before + 1);
    await svc.undo({ runId });
    expect((await svc.getClusters({ runId })).length).toBe(before);
    await svc.redo({ runId });
    expect((await svc.getClusters({ runId })).length).toBe(before + 1);
    const one = (await svc.getClusterMembers({ runId, cluster: big.cluster })).items[0].item;
    await svc.editRun({ runId, op: { type: 'reject', items: [one] } });
    expect((await svc.getClusterMembers({ runId, cluster: -1 })).items.map((i) => i.item)).toContain(one);
    expect((await svc.getReviewQueue({ runId })).items[0].item).toBe(one);
    await svc.editRun({ runId, op: { type: 'accept', cluster: big.cluster } });
    expect((await svc.getClusters({ runId })).find((x) => x.cluster === big.cluster)!.curated).toBe(true);
    await svc.undo({ runId });
    await svc.editRun({ runId, op: { type: 'rename', cluster: big.cluster, name: 'Bob' } });
    expect((await svc.getHistory({ runId })).canRedo).toBe(false);
    await expect(svc.editRun({ runId, op: { type: 'move', items: [999999], to: big.cluster } })).rejects.toThrow(/item 999999 is not in run/);
    await expect(svc.editRun({ runId, op: { type: 'merge', clusters: [big.cluster] } })).rejects.toThrow(/^clusters: /);
  });

  it('an edited cluster gets the statistics a run computes for the same members (clusterStats)', async () => {
    const [x, y] = (await svc.getClusters({ runId: runId })).filter((c) => c.cluster >= 0).slice(0, 2);
    await svc.editRun({ runId: runId, op: { type: 'merge', clusters: [x.cluster, y.cluster] } });
    const members = svc.lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck().all(runId, x.cluster) as number[];
    const m = loadMatrix(svc.lib.db, 'face');
    const rowOf = new Map(Array.from(m.ids, (id, i) => [id, i]));
    const X = new Float32Array(members.length * m.d);
    members.forEach((id, i) => X.set(m.X.subarray(rowOf.get(id)! * m.d, (rowOf.get(id)! + 1) * m.d), i * m.d));
    const st = clusterStats(X, members.length, m.d, new Int32Array(members.length), { samples: 10 });
    const row = await svc.getCluster({ runId: runId, cluster: x.cluster });
    expect(row.size).toBe(members.length);
    expect(row.meanSim).toBe(st.meanSims[0]);
    expect(row.top).toEqual(st.clusters[0].top.map((t) => ({ item: members[t.index], sim: Math.round(t.sim * 1e6) / 1e6 })));
    expect(row.tail).toEqual(st.clusters[0].tail.map((t) => ({ item: members[t.index], sim: Math.round(t.sim * 1e6) / 1e6 })));
    await svc.undo({ runId: runId });
  });

  it('a re-run keeps the user\'s names on the matching new clusters', async () => {
    const named = (await svc.getClusters({ runId })).filter((c) => c.name);
    expect(named.length).toBeGreaterThan(0);
    const job = await svc.cluster({ model: 'face', params: { algo: 'kmeans', k: 8, nInit: 3, seed: 7 } });
    const done = await svc.jobs.wait(job.id);
    expect(done.state).toBe('done');
    const newRun = (done.result as { runId: number }).runId;
    const names = runClusters(svc.lib.db, newRun).filter((c) => c.name).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['Bob']));
  });
});
