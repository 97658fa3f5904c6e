/** Library groups (migration 5) with real faces: names outlive runs, un-naming makes a proposal again, held groups stay whole. */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedJob } from '../embed/embed-job.ts';
import { Library } from '../library.ts';
import { scanRoots } from '../scan/scanner.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';
import { listGroups, unassignedItems } from './groups.ts';

const t = tempDir();
const file = join(t.dir, 'groups.constellate');
let svc: CoreService;

beforeAll(async () => {
  const dir = join(t.dir, 'faces');
  mkdirSync(dir);
  for (const p of readdirSync(sharedPath('data/faces-london')).sort().slice(0, 6)) cpSync(sharedPath('data/faces-london', p), join(dir, p), { recursive: true });
  const lib = Library.open(file);
  await scanRoots(lib, [lib.addRoot(dir).id], testContext());
  await embedJob(lib, { model: 'face' }, testContext());
  lib.close();
  svc = CoreService.open(file);
});
afterAll(async () => { await svc?.close(); t.cleanup(); });

const run = async (params: Record<string, unknown>) => ((await svc.jobs.wait((await svc.cluster({ model: 'face', params: params as never })).id)).result as { runId: number; record: Record<string, unknown> });

describe('library groups', () => {
  it('a named group outlives runs, a curated one is held, un-naming returns a cluster to a proposal', async () => {
    const r1 = (await run({ preset: 'people' })).runId;
    const cs = await svc.getClusters({ runId: r1 });
    expect(cs).toHaveLength(6);
    await svc.editRun({ runId: r1, op: { type: 'rename', cluster: cs[0].cluster, name: 'Ann' } });
    await svc.editRun({ runId: r1, op: { type: 'rename', cluster: cs[1].cluster, name: 'Bob' } });
    await svc.editRun({ runId: r1, op: { type: 'accept', cluster: cs[1].cluster } });
    expect(listGroups(svc.lib.db, 'face').map((g) => [g.name, g.curated, g.size])).toEqual([['Ann', false, 2], ['Bob', true, 2]]);
    // undo of the accept: Bob is named, no longer curated
    await svc.undo({ runId: r1 });
    expect(listGroups(svc.lib.db, 'face').find((g) => g.name === 'Bob')?.curated).toBe(false);
    await svc.redo({ runId: r1 });

    // another algorithm: Bob is held whole under his name (curated), and Ann too: naming her decided her faces
    const r2 = await run({ algo: 'kmeans', k: 2, seed: 1 });
    const held = (r2.record.groups as { held: Array<{ name: string; size: number }>; linked: number });
    expect(held.held.map((h) => [h.name, h.size])).toEqual([['Ann', 2], ['Bob', 2]]);
    const c2 = await svc.getClusters({ runId: r2.runId });
    expect(c2.find((c) => c.name === 'Bob')).toMatchObject({ size: 2, curated: true });
    expect(c2.find((c) => c.name === 'Ann')).toMatchObject({ size: 2, curated: false });
    // without holding, the curated group is clustered like the rest
    const r3 = await run({ preset: 'people', holdGroups: false });
    expect((r3.record.groups as { held: unknown[] }).held).toEqual([]);
    const c3 = await svc.getClusters({ runId: r3.runId });
    expect(c3.find((c) => c.name === 'Ann')?.size).toBe(2);
    expect(c3.find((c) => c.name === 'Bob')?.size).toBe(2);

    // un-naming Ann in the newest run makes the cluster a proposal; the group goes once nothing points at it
    const ann = c3.find((c) => c.name === 'Ann')!;
    await svc.editRun({ runId: r3.runId, op: { type: 'rename', cluster: ann.cluster, name: '' } });
    const still = svc.lib.db.prepare("SELECT COUNT(*) FROM clusters WHERE group_id = (SELECT id FROM groups WHERE name = 'Ann')").pluck().get() as number;
    expect(listGroups(svc.lib.db, 'face').some((g) => g.name === 'Ann')).toBe(still > 0);
    expect(unassignedItems(svc.lib.db, r3.runId)).toEqual({ noise: [], notInRun: [] });
    expect((await svc.check()).ok).toBe(true);
  }, 300_000);

  it('a person hidden without a name is kept by the next run too, hidden', async () => {
    const r1 = (await run({ preset: 'people' })).runId;
    const members = async (runId: number, cluster: number) => (await svc.getClusterMembers({ runId, cluster, offset: 0, limit: 100 })).items.map((i) => i.item).sort((a, b) => a - b);
    const cs = (await svc.getClusters({ runId: r1 })).filter((c) => !c.name && c.size >= 2);
    expect(cs.length).toBeGreaterThanOrEqual(3);
    const hiddenItems = await members(r1, cs[0].cluster);
    await svc.setPerson({ runId: r1, cluster: cs[0].cluster, hidden: true });
    for (const params of [{ algo: 'kmeans', k: 2, seed: 3 }, { algo: 'hdbscan', minClusterSize: 2, minSamples: 2 }]) {
      const r = (await run(params)).runId;
      const people = await svc.listPeople({ runId: r, includeHidden: true });
      const hidden = people.filter((p) => p.hidden);
      expect(hidden).toHaveLength(1);
      expect(await members(r, hidden[0].cluster)).toEqual(hiddenItems);
    }
  }, 300_000);
});
