/**
 * Issue 20's exploration API on photos-flowers (200 real photos, 5 folders) with the real photo model: similar with k
 * and "more like these", map settings stored per setting (API and CLI), colour by any field, search as a selection.
 */
import { checkedApi } from '../../common/dispatch.ts';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../common/jobs.ts';
import { colourDistance } from '../../common/palette.ts';
import { CoreService } from '../service.ts';
import { REPO_ROOT, sharedPath, tempDir } from '../../testing/fixtures.ts';

const t = tempDir();
const lib = join(t.dir, 'explore.constellate');
const FLOWERS = sharedPath('data/photos-flowers');
let svc: CoreService;
let runId: number;
let folderOf: Map<number, string>;

async function done<K extends JobInfo['kind']>(p: Promise<JobInfo<K>>): Promise<JobInfo<K>> {
  const j = await svc.jobs.wait((await p).id);
  expect(j.state, JSON.stringify(j.error)).toBe('done');
  return j as JobInfo<K>;
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args, '--library', lib], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  svc = CoreService.open(lib);
  await svc.addRoots({ paths: [FLOWERS] });
  await done(svc.scan());
  await done(svc.embed({ model: 'photo' }));
  const run = await done(svc.cluster({ model: 'photo', params: { algo: 'kmeans', k: 5, seed: 1 } }));
  runId = (run.result as { id: number }).id;
  await svc.importLabels({ source: FLOWERS, seed: false });
  const photos = (await svc.listPhotos({ limit: 1000 })).items;
  folderOf = new Map(photos.map((p) => [p.id, p.path.split('/').at(-2)!]));
}, 600_000);

afterAll(async () => { await svc?.close(); t.cleanup(); });

describe('similar: k and more like these', () => {
  it('k is the caller\'s; a selection gives its neighbours (mean or max), never itself, with clusters to act on', async () => {
    const daisies = [...folderOf].filter(([, f]) => f === 'daisy').map(([id]) => id);
    const one = await svc.similar({ model: 'photo', item: { kind: 'photo', id: daisies[0] }, k: 7 });
    expect(one).toHaveLength(7);
    expect((await svc.similar({ model: 'photo', item: { kind: 'photo', id: daisies[0] }, k: 50 }))).toHaveLength(50);
    const sel = daisies.slice(0, 5).map((id) => ({ kind: 'photo' as const, id }));
    for (const combine of ['mean', 'max'] as const) {
      const r = await svc.similar({ model: 'photo', items: sel, k: 20, combine, runId });
      expect(r).toHaveLength(20);
      expect(r.some((v) => daisies.slice(0, 5).includes(v.item))).toBe(false);
      for (let i = 1; i < r.length; i++) expect(r[i - 1].similarity).toBeGreaterThanOrEqual(r[i].similarity);
      // mean: more like five daisies gives far more daisies than chance (35 of the 195 others: 3.6 of 20)
      if (combine === 'mean') expect(r.filter((v) => folderOf.get(v.item) === 'daisy').length).toBeGreaterThanOrEqual(8);
      else {
        // max: each result's similarity is its best cosine to any selected item
        const cmp = await svc.compareItems({ kind: 'photo', ids: [...daisies.slice(0, 5), ...r.map((v) => v.item)], model: 'photo' });
        r.forEach((v, i) => expect(v.similarity).toBeCloseTo(Math.max(...cmp.sims![5 + i].slice(0, 5)), 4));
      }
      expect(r.every((v) => typeof v.cluster === 'number')).toBe(true);
    }
    // the results are actionable: move them into a new group (undoable)
    const r = await svc.similar({ model: 'photo', items: sel, k: 5, runId });
    const e = await svc.editRun({ runId, op: { type: 'move', items: r.map((v) => v.item), to: 'new', name: 'like daisies' } });
    expect(e.op.type).toBe('move');
    await svc.undo({ runId });
    // shapes are the door's (every transport and direct call goes through it): both item and items is BAD_ARGUMENT there
    await expect(checkedApi(svc).similar({ model: 'photo', item: { kind: 'photo', id: daisies[0] }, items: sel })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^item:/) });
  }, 120_000);
});

describe('map settings', () => {
  it('one stored map per setting, listed with it; getMap takes the setting; the same setting again replaces its map', async () => {
    const a = await done(svc.computeMap({ model: 'photo', params: { method: 'umap', nNeighbors: 10, minDist: 0.3, seed: 3 } }));
    const b = await done(svc.computeMap({ model: 'photo', params: { method: 'umap' } }));
    const c = await done(svc.computeMap({ model: 'photo', params: { method: 'pca' } }));
    const maps = await svc.listMaps({ model: 'photo' });
    expect(maps).toHaveLength(3);
    const ma = maps.find((m) => m.id === (a.result as { id: number }).id)!;
    expect(ma.setting).toEqual({ method: 'umap', metric: 'cosine', seed: 3, nNeighbors: 10, minDist: 0.3, nEpochs: null });
    expect(maps.find((m) => m.id === (b.result as { id: number }).id)!.settingKey).toBe('umap metric=cosine seed=0 nNeighbors=15 minDist=0.1 nEpochs=auto');
    // defaults spelled out are the same setting
    const got = await svc.getMap({ model: 'photo', setting: { method: 'umap', nNeighbors: 15, minDist: 0.1, seed: 0 } });
    expect(got.id).toBe((b.result as { id: number }).id);
    expect((await svc.getMap({ model: 'photo', setting: { method: 'umap', nNeighbors: 10, minDist: 0.3, seed: 3 } })).id).toBe(ma.id);
    await expect(svc.getMap({ model: 'photo', setting: { method: 'umap', seed: 9 } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const again = await done(svc.computeMap({ model: 'photo', params: { method: 'umap', nNeighbors: 10, minDist: 0.3, seed: 3 } }));
    const after = await svc.listMaps({ model: 'photo' });
    expect(after).toHaveLength(3);
    expect(after.map((m) => m.id)).toContain((again.result as { id: number }).id);
    expect(after.map((m) => m.id)).not.toContain(ma.id);
    void c;
  }, 300_000);
});

describe('colour by any field', () => {
  it('folder, label, cluster, curated, score and date: one code per map item, a legend with counts and colours', async () => {
    const map = await svc.getMap({ model: 'photo', setting: { method: 'umap' } });
    const folder = await svc.getMapField({ mapId: map.id, field: 'folder' });
    expect(folder.codes).toBeInstanceOf(Int32Array);
    expect(folder.codes).toHaveLength(map.n);
    expect(Array.from(folder.ids)).toEqual(Array.from(map.ids));
    expect(folder.legend.map((l) => l.count)).toEqual([40, 40, 40, 40, 40]);
    for (let i = 0; i < map.n; i++) expect(folder.legend[folder.codes[i]].value!.endsWith(folderOf.get(map.ids[i])!)).toBe(true);
    const cols = folder.legend.map((l) => l.colour);
    for (let i = 0; i < cols.length; i++) for (let j = i + 1; j < cols.length; j++) expect(colourDistance(cols[i], cols[j])).toBeGreaterThan(0.05);
    const label = await svc.getMapField({ mapId: map.id, field: 'label' });
    expect(label.legend.map((l) => l.label).sort()).toEqual(['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips']);
    // reject a few: the cluster field has a grey noise entry with their count
    const someIds = Array.from(map.ids.slice(0, 3));
    await svc.editRun({ runId, op: { type: 'reject', items: someIds } });
    await svc.editRun({ runId, op: { type: 'rename', cluster: 0, name: 'Group zero' } });
    await svc.editRun({ runId, op: { type: 'accept', cluster: 0 } });
    const cl = await svc.getMapField({ mapId: map.id, field: 'cluster', runId });
    const noise = cl.legend.find((l) => l.noise)!;
    expect(noise.count).toBe(3);
    expect(noise.label).toBe('noise');
    expect(cl.legend.reduce((s, l) => s + l.count, 0)).toBe(map.n);
    expect(cl.legend.some((l) => l.label === 'Group zero')).toBe(true);
    for (const l of cl.legend.filter((x) => !x.noise)) expect(colourDistance(l.colour, noise.colour)).toBeGreaterThan(0.1);
    const cur = await svc.getMapField({ mapId: map.id, field: 'curated', runId });
    expect(cur.legend.find((l) => l.label === 'curated')!.count).toBe(cl.legend.find((l) => l.label === 'Group zero')!.count);
    const score = await svc.getMapField({ mapId: map.id, field: 'score', runId, bins: 4 });
    expect(score.values).toBeInstanceOf(Float32Array);
    expect(score.legend).toHaveLength(5);
    expect(score.legend[4].count).toBe(3); // the rejected ones have no similarity
    const date = await svc.getMapField({ mapId: map.id, field: 'date' });
    expect(date.legend.reduce((s, l) => s + l.count, 0)).toBe(map.n);
    expect(Array.from(date.values!).every(Number.isFinite)).toBe(true);
    await expect(svc.getMapField({ mapId: map.id, field: 'cluster' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/runId/) });
    await expect(svc.getMapField({ mapId: map.id, field: 'score', score: 'detection' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  }, 120_000);
});

describe('search', () => {
  it('by folder, file name, group name and date, as a selection; text says what is missing', async () => {
    const daisy = await svc.searchItems({ kind: 'photo', folder: 'DAISY' });
    expect(daisy.total).toBe(40);
    expect(daisy.ids).toBeInstanceOf(Int32Array);
    expect(daisy.items.every((v) => v.folder.endsWith('daisy'))).toBe(true);
    const anyPath = daisy.items[0].path.split('/').at(-1)!;
    const byName = await svc.searchItems({ kind: 'photo', fileName: anyPath.slice(0, 12) });
    expect(byName.items.map((v) => v.path)).toContain(daisy.items[0].path);
    const both = await svc.searchItems({ kind: 'photo', folder: 'roses', fileName: anyPath.slice(0, 12) });
    expect(both.total).toBeLessThan(byName.total + 1);
    expect(both.items.every((v) => v.folder.endsWith('roses'))).toBe(true);
    const group = await svc.searchItems({ kind: 'photo', runId, group: 'group ZERO' });
    const zero = await svc.getCluster({ runId, cluster: 0 });
    expect(group.total).toBe(zero.size);
    expect(group.items.every((v) => v.cluster === 0)).toBe(true);
    const all = await svc.searchItems({ kind: 'photo', from: '1970-01-01' });
    expect(all.total).toBe(200);
    expect((await svc.searchItems({ kind: 'photo', from: '2200-01-01' })).total).toBe(0);
    await expect(svc.searchItems({ kind: 'photo', from: 'yesterday' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^from:/) });
    await expect(svc.searchItems({ kind: 'photo', text: 'a yellow flower' })).rejects.toMatchObject({ code: 'MODEL_MISSING', message: expect.stringMatching(/no photo model of this library has a text encoder \(photo models: photo\).*clip-vit-b32-text/) });
    await expect(svc.searchItems({ kind: 'photo', group: 'x' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/runId/) });
  }, 120_000);
});

describe('CLI', () => {
  it('map --neighbors N --min-dist D --perplexity P --seed S stores a map per setting; maps lists them', async () => {
    await svc.close();
    const r = cli(['map', '--model', 'photo', '--method', 'umap', '--neighbors', '8', '--min-dist', '0.25', '--seed', '5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.setting).toEqual({ method: 'umap', metric: 'cosine', seed: 5, nNeighbors: 8, minDist: 0.25, nEpochs: null });
    const ts = cli(['map', '--model', 'photo', '--method', 'tsne', '--perplexity', '12', '--seed', '1', '--json']);
    expect(ts.code, ts.stderr).toBe(0);
    expect(JSON.parse(ts.stdout).settingKey).toBe('tsne metric=cosine seed=1 perplexity=12');
    const l = cli(['maps', '--model', 'photo', '--json']);
    expect(l.code).toBe(0);
    const keys = JSON.parse(l.stdout).maps.map((m: { settingKey: string }) => m.settingKey);
    expect(keys).toContain(j.settingKey);
    expect(keys).toContain('tsne metric=cosine seed=1 perplexity=12');
    expect(keys).toHaveLength(5);
    const bad = cli(['map', '--model', 'photo', '--method', 'umap', '--neighbors', '1', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--neighbors/);
    svc = CoreService.open(lib);
  }, 300_000);
});
