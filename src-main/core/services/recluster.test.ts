/**
 * The 'recluster' edit on a real library file: real photos (flowers) with imported embeddings made up here so that the
 * groups differ only along weak directions under strong nuisance ones (the model's own clustering mixes them). The
 * user names four of six clusters and moves three quarters of each group into its cluster; once `learn` uses a metric,
 * the undecided members of the unnamed clusters move to the named group the learned metric gives them.
 */
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppApi } from '../../common/api.ts';
import { checkedApi } from '../../common/dispatch.ts';
import { CoreService } from '../service.ts';
import { runItemStates } from '../curation/item-states.ts';
import { REPO_ROOT, tempDir } from '../../testing/fixtures.ts';
import { nuisanceRun } from '../../testing/nuisance-photos.ts';

const D = 24, G = 4, PER = 40, K = 6;

describe('recluster: the undecided items moved in the learned metric', () => {
  const tmp = tempDir('constellate-recluster-');
  const lib = join(tmp.dir, 'recluster.constellate');
  let svc: CoreService;
  let api: AppApi;
  let runId = 0;
  let clusters: number[] = [];
  const truth = new Map<number, number>();
  const rank = new Map<number, number>();

  const assignments = async () => { const a = await api.getAssignments({ runId }); return new Map(Array.from(a.ids, (it, i) => [it, a.clusters[i]])); };
  /** each decided item and how (the core's one reader of item states) */
  const states = async () => new Map([...runItemStates(svc.lib.db, runId).decided].map(([it, d]) => [it, d.how]));

  beforeAll(async () => {
    let paths: string[];
    ({ svc, api, paths, runId, clusters } = await nuisanceRun(tmp.dir, lib, { G, PER, D, k: K }));
    expect(clusters.length).toBe(K);
    const idOf = new Map((await api.listPhotos({ limit: 1000 })).items.map((p) => [p.path, p.id]));
    paths.forEach((p, i) => { truth.set(idOf.get(p)!, Math.floor(i / PER)); rank.set(idOf.get(p)!, i); });
  });
  afterAll(async () => { await svc?.close(); tmp.cleanup(); });

  it('is refused, with what to do, while the run has no learned metric in use; bad parameters are named', async () => {
    const before = await assignments();
    await expect(api.editRun({ runId, op: { type: 'recluster' } })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/no learned metric.*learn first/) });
    // names alone are no decisions: the metric learned from them is not used, and the refusal stands
    for (let g = 0; g < G; g++) await api.editRun({ runId, op: { type: 'rename', cluster: clusters[g], name: `g${g}` } });
    expect((await api.learn({ runId })).used).toBe(false);
    await expect(api.editRun({ runId, op: { type: 'recluster' } })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(api.editRun({ runId, op: { type: 'recluster', threshold: 3 } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/threshold/) });
    await expect(api.editRun({ runId, op: { type: 'recluster', margin: -1 } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/margin/) });
    await expect(api.editRun({ runId: runId + 50, op: { type: 'recluster' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await assignments()).toEqual(before);
  });

  it('moves undecided members of unnamed groups to the named group of the learned metric, mostly rightly, never a decided item; cancel and undo leave the run as it was', async () => {
    // three quarters of each group moved by hand into its named cluster (cluster g holds group g from now on)
    const ids = [...(await assignments()).keys()].sort((a, b) => rank.get(a)! - rank.get(b)!);
    for (let g = 0; g < G; g++) {
      const items = ids.filter((it) => truth.get(it) === g).slice(0, (PER * 3) / 4);
      await api.editRun({ runId, op: { type: 'move', items, to: clusters[g] } });
    }
    // and puts two photos of group 0 into an unnamed cluster on purpose: decided there, never moved from it
    const kept = ids.filter((it) => truth.get(it) === 0).slice((PER * 3) / 4, (PER * 3) / 4 + 2);
    await api.editRun({ runId, op: { type: 'move', items: kept, to: clusters[G] } });
    const learned = await api.learn({ runId });
    expect(learned.used).toBe(true);
    const before = await assignments(), decidedBefore = await states();
    const undecidedUnnamed = [...before].filter(([it, c]) => !decidedBefore.has(it) && c >= 0 && !clusters.slice(0, G).includes(c));
    expect(undecidedUnnamed.length).toBeGreaterThan(0);
    const historyBefore = (await api.getHistory({ runId })).edits.length;

    // cancelled while its plan is computed: nothing changes, no edit is logged
    const seen: number[] = [];
    const off = svc.onEvent((e) => { if (e.type === 'job' && e.job.kind === 'recluster' && e.job.state === 'queued') seen.push(e.job.id); });
    const cancelled = api.editRun({ runId, op: { type: 'recluster' } });
    off();
    expect(seen).toHaveLength(1);
    await svc.cancelJob({ id: seen[0] });
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await assignments()).toEqual(before);
    expect((await api.getHistory({ runId })).edits.length).toBe(historyBefore);

    const r = await api.editRun({ runId, op: { type: 'recluster' } });
    expect(r.description).toMatch(/undecided items/);
    const after = await assignments();
    // no decided item moved, and nothing was decided by it
    for (const it of decidedBefore.keys()) expect([it, after.get(it)]).toEqual([it, before.get(it)]);
    for (const it of kept) expect(after.get(it)).toBe(clusters[G]);
    expect(await states()).toEqual(decidedBefore);
    const toNamed = undecidedUnnamed.filter(([it]) => clusters.slice(0, G).includes(after.get(it)!));
    expect(toNamed.length).toBeGreaterThan(0);
    const right = toNamed.filter(([it]) => after.get(it) === clusters[truth.get(it)!]).length;
    // (a handful of items, and the run's rows follow the scan's parallel order: 67-100% right in the runs seen; chance
    // among the four groups is 25%)
    expect(right / toNamed.length).toBeGreaterThan(0.5);
    // every item in the run still; only the undecided members of unnamed groups changed place
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const changed = [...after].filter(([it, c]) => before.get(it) !== c).map(([it]) => it);
    expect(changed.length).toBeGreaterThan(0);
    for (const it of changed) expect(undecidedUnnamed.map(([x]) => x)).toContain(it);

    // undo puts every item back, redo does it again
    await api.undo({ runId });
    expect(await assignments()).toEqual(before);
    await api.redo({ runId });
    expect(await assignments()).toEqual(after);
    expect(r.recluster!.moved + r.recluster!.regrouped).toBe(changed.length);
    await api.undo({ runId });
  });

  it('constellate recluster --run ID --json: the same edit through the CLI; a bad threshold and a missing --run are refused', async () => {
    const before = await assignments();
    await svc.close();
    const cli = (args: string[]) => {
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args, '--library', lib], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000 });
      return { code: r.status, json: (() => { try { return JSON.parse(r.stdout); } catch { return null; } })() };
    };
    const r = cli(['recluster', '--run', String(runId), '--json']);
    expect(r.code).toBe(0);
    expect(Object.keys(r.json).sort()).toEqual(['clusters', 'description', 'editId', 'moved', 'regrouped', 'runId']);
    expect(r.json.moved).toBeGreaterThan(0);
    const bad = cli(['recluster', '--run', String(runId), '--threshold', '5', '--json']);
    expect(bad.code).not.toBe(0);
    expect(bad.json.error).toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/threshold/) });
    expect(cli(['recluster', '--json']).code).toBe(2);
    svc = CoreService.open(lib);
    api = checkedApi(svc);
    const after = await assignments();
    expect([...after].filter(([it, c]) => before.get(it) !== c).length).toBe(r.json.moved + r.json.regrouped);
  });
});
