/**
 * People who stay as the user left them, with real faces (faces-london, a few faces-orl and a group photo made of two
 * London faces side by side), copied under names that say nothing: the user names people, splits one, hides one,
 * makes one from unknown faces and marks faces "not a face"; then runs with k-means (k = 20), HDBSCAN (5, 5) and the
 * people preset each keep every decided face under its name, the hidden person hidden, the not-faces out, and no
 * photo's two faces in one person. The truth (which London/ORL person a face is) is read from the source paths here,
 * in the test only.
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Library } from '../library.ts';
import { scanRoots } from '../scan/scanner.ts';
import { embedJob } from '../embed/embed-job.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';

const t = tempDir();
const file = join(t.dir, 'people.constellate');
let svc: CoreService;
/** photo path -> true person */
const truth = new Map<string, string>();
let groupPhoto = '';

beforeAll(async () => {
  const dir = join(t.dir, 'photos');
  mkdirSync(dir);
  let k = 0;
  const put = (src: string, who: string, ext: string) => { const p = join(dir, `img-${String(k++ * 7919 % 1000).padStart(3, '0')}-${k}.${ext}`); copyFileSync(src, p); truth.set(p, who); };
  for (const p of readdirSync(sharedPath('data/faces-london')).sort()) for (const f of ['neutral.jpg', 'smiling.jpg']) put(sharedPath('data/faces-london', p, f), p, 'jpg');
  for (const s of ['s1', 's2', 's3', 's4', 's5']) for (const f of ['1.png', '2.png', '3.png']) put(sharedPath('data/faces-orl', s, f), `orl-${s}`, 'png');
  // a group photo: two London faces side by side in one image (the detector finds two faces in one photo)
  const left = await sharp(sharedPath('data/faces-london/person-003/smiling.jpg')).resize(512, 512).toBuffer();
  const right = await sharp(sharedPath('data/faces-london/person-011/smiling.jpg')).resize(512, 512).toBuffer();
  groupPhoto = join(dir, 'img-zz.jpg');
  writeFileSync(groupPhoto, await sharp({ create: { width: 1024, height: 512, channels: 3, background: '#777' } })
    .composite([{ input: left, left: 0, top: 0 }, { input: right, left: 512, top: 0 }]).jpeg({ quality: 92 }).toBuffer());
  const lib = Library.open(file);
  await scanRoots(lib, [lib.addRoot(dir).id], testContext());
  await embedJob(lib, { model: 'face' }, testContext());
  lib.close();
  svc = CoreService.open(file);
}, 600_000);
afterAll(async () => { await svc?.close(); t.cleanup(); });

const run = async (params: Record<string, unknown>) => {
  const job = await svc.cluster({ model: 'face', params: params as never });
  const done = await svc.jobs.wait(job.id);
  expect(done.state, JSON.stringify(done.error)).toBe('done');
  return (done.result as { runId: number }).runId;
};

interface Face { item: number; path: string; photoId: number; cluster: number }
async function faces(runId: number): Promise<Face[]> {
  const out: Face[] = [];
  const cs = await svc.getClusters({ runId });
  for (const c of [...cs.map((x) => x.cluster), -1]) {
    for (let offset = 0; ; offset += 200) {
      const page = await svc.getClusterMembers({ runId, cluster: c, offset, limit: 200 });
      for (const m of page.items) out.push({ item: m.item, path: m.path, photoId: m.photoId!, cluster: c });
      if (page.items.length < 200) break;
    }
  }
  return out;
}
const nameOf = async (runId: number) => new Map((await svc.getClusters({ runId })).map((c) => [c.cluster, c.name]));

/** photos with two faces in one person (noise is nobody) */
function sharedPhotos(fs: Face[]): number {
  const seen = new Set<string>(), bad = new Set<number>();
  for (const f of fs) if (f.cluster >= 0) { const key = `${f.photoId}:${f.cluster}`; if (seen.has(key)) bad.add(f.photoId); seen.add(key); }
  return bad.size;
}

describe('people who stay as the user left them', () => {
  it('every decision outlives k-means, HDBSCAN and people runs; two faces of one photo are two people', async () => {
    const r1 = await run({ preset: 'people' });
    const f1 = await faces(r1);
    expect(f1.filter((f) => f.path === groupPhoto)).toHaveLength(2);
    expect(sharedPhotos(f1)).toBe(0);

    // name 20 London people by the majority of their cluster
    const byCluster = new Map<number, Face[]>();
    for (const f of f1) if (f.cluster >= 0) byCluster.set(f.cluster, [...(byCluster.get(f.cluster) ?? []), f]);
    const londonClusters = [...byCluster].filter(([, fs]) => fs.every((f) => truth.get(f.path)?.startsWith('person-'))).sort((a, b) => a[0] - b[0]);
    expect(londonClusters.length).toBeGreaterThanOrEqual(22);
    const decided = new Map<number, string>();
    const named: number[] = [];
    for (const [c, fs] of londonClusters.slice(0, 20)) {
      const name = `Name ${truth.get(fs[0].path)}`;
      await svc.editRun({ runId: r1, op: { type: 'rename', cluster: c, name } });
      for (const f of fs) decided.set(f.item, name);
      named.push(c);
    }
    // split an unnamed London person in two named parts
    const [splitC, splitFs] = londonClusters[20];
    await svc.applySplit({ runId: r1, cluster: splitC, parts: [{ items: [splitFs[0].item], name: 'Part A' }, { items: splitFs.slice(1).map((f) => f.item), name: 'Part B' }] });
    decided.set(splitFs[0].item, 'Part A');
    for (const f of splitFs.slice(1)) decided.set(f.item, 'Part B');
    // hide the largest named person
    const hiddenC = named.reduce((a, b) => (byCluster.get(b)!.length > byCluster.get(a)!.length ? b : a));
    const hiddenName = (await nameOf(r1)).get(hiddenC)!;
    await svc.setPerson({ runId: r1, cluster: hiddenC, hidden: true });
    // choose an avatar for a named person (its last face, not the most central one)
    const avatarC = named.find((c) => c !== hiddenC && byCluster.get(c)!.length >= 2)!;
    const avatarFace = byCluster.get(avatarC)!.at(-1)!.item;
    const avatarName = (await nameOf(r1)).get(avatarC)!;
    await svc.setPerson({ runId: r1, cluster: avatarC, avatar: avatarFace });
    // the same faces after a re-encode and a move of their photos (the decisions follow the face, not the file)
    const reenc = byCluster.get(named[1])![0].path;
    writeFileSync(reenc, await sharp(readFileSync(reenc)).jpeg({ quality: 80 }).toBuffer());
    const movedFrom = byCluster.get(named[2])![0].path;
    renameSync(movedFrom, join(dirname(movedFrom), 'renamed-0.jpg'));
    truth.set(join(dirname(movedFrom), 'renamed-0.jpg'), truth.get(movedFrom)!);
    expect((await svc.jobs.wait((await svc.scan()).id)).state).toBe('done');
    expect((await svc.jobs.wait((await svc.embed({ model: 'face' })).id)).state).toBe('done');
    // make a person from two faces of one ORL person, and mark three other ORL faces "not a face"
    const orl = f1.filter((f) => truth.get(f.path)?.startsWith('orl-'));
    const s01 = orl.filter((f) => truth.get(f.path) === 'orl-s1').slice(0, 2);
    expect(s01).toHaveLength(2);
    await svc.editRun({ runId: r1, op: { type: 'move', items: s01.map((f) => f.item), to: 'new', name: 'Made' } });
    for (const f of s01) decided.set(f.item, 'Made');
    const notFaces = orl.filter((f) => truth.get(f.path) === 'orl-s2').map((f) => f.item);
    expect(notFaces).toHaveLength(3);
    await svc.markNotFace({ runId: r1, items: notFaces });
    expect(decided.size).toBeGreaterThanOrEqual(42);
    // the split's parts are never offered for merging
    const parts = (await svc.getClusters({ runId: r1 })).filter((c) => c.name === 'Part A' || c.name === 'Part B').map((c) => c.cluster);
    expect(parts).toHaveLength(2);
    const merges = await svc.getMergeSuggestions({ runId: r1, threshold: -1, limit: 10_000 });
    expect(merges.suggestions.some((s) => parts.includes(s.a.cluster) && parts.includes(s.b.cluster))).toBe(false);
    expect(merges.suggestions.length).toBeGreaterThan(0);

    for (const params of [{ algo: 'kmeans', k: 20, seed: 3 }, { algo: 'hdbscan', minClusterSize: 5, minSamples: 5 }, { preset: 'people' }]) {
      const r = await run(params);
      const fs = await faces(r);
      const names = await nameOf(r);
      const where = new Map(fs.map((f) => [f.item, f]));
      const kept = [...decided].filter(([it, name]) => { const f = where.get(it); return f && f.cluster >= 0 && names.get(f.cluster) === name; });
      expect(kept.length, `${JSON.stringify(params)}: decided faces under their names`).toBe(decided.size);
      // one cluster per name, nothing else under a user's name
      for (const name of new Set(decided.values())) {
        const cs = [...names].filter(([, n]) => n === name).map(([c]) => c);
        expect(cs, `${name} in ${JSON.stringify(params)}`).toHaveLength(1);
      }
      const people = await svc.listPeople({ runId: r, includeHidden: true });
      expect(people.find((p) => p.name === hiddenName)?.hidden).toBe(true);
      expect(people.find((p) => p.name === avatarName)).toMatchObject({ avatar: avatarFace, avatarChosen: true });
      expect((await svc.listPeople({ runId: r })).some((p) => p.name === hiddenName)).toBe(false);
      for (const it of notFaces) expect(where.get(it)?.cluster ?? -1).toBe(-1);
      expect(sharedPhotos(fs), `${JSON.stringify(params)}: photos whose two faces share a person`).toBe(0);
      // the decisions came with their faces: the new run's item states say so
      const states = await svc.getItemStates({ runId: r });
      expect(JSON.stringify(states)).toContain('split');
      const ms = await svc.getMergeSuggestions({ runId: r, threshold: -1, limit: 10_000 });
      const pa = [...names].filter(([, n]) => n === 'Part A' || n === 'Part B').map(([c]) => c);
      expect(ms.suggestions.some((s) => pa.includes(s.a.cluster) && pa.includes(s.b.cluster))).toBe(false);
    }
  }, 900_000);

  it('whatever the algorithm, a photo\'s two faces are never one person; assign and the queues keep it too', async () => {
    const last = Math.max(...(await svc.listRuns()).map((x) => x.id));
    // one k-means cluster for everything: the group photo's second face cannot stay with the first
    const r = await run({ algo: 'kmeans', k: 1, seed: 1, holdGroups: false });
    const fs = await faces(r);
    expect(sharedPhotos(fs)).toBe(0);
    expect(fs.filter((f) => f.path === groupPhoto).map((f) => f.cluster).sort()).toEqual([-1, 0]);

    // a new photo with the same named person twice: assign places one face at most, the queue does not offer the other
    const cs = await svc.getClusters({ runId: last });
    const person = cs.find((c) => c.name?.startsWith('Name person-'))!;
    const who = person.name!.slice('Name '.length);
    const a = await sharp(sharedPath('data/faces-london', who, 'neutral.jpg')).resize(512, 512).toBuffer();
    const b = await sharp(sharedPath('data/faces-london', who, 'smiling.jpg')).resize(512, 512).toBuffer();
    const twice = join(t.dir, 'photos', 'img-twice.jpg');
    writeFileSync(twice, await sharp({ create: { width: 1024, height: 512, channels: 3, background: '#888' } })
      .composite([{ input: a, left: 0, top: 0 }, { input: b, left: 512, top: 0 }]).jpeg({ quality: 92 }).toBuffer());
    await svc.jobs.wait((await svc.scan()).id);
    expect((await svc.jobs.wait((await svc.embed({ model: 'face' })).id)).state).toBe('done');
    // before assign both faces are unknown: the tentative groups never pair them (one photo, two people)
    const twiceFaces = (await svc.getItems({ kind: 'face', ids: Array.from({ length: 400 }, (_, i) => i + 1) })).filter((v) => v.path === twice).map((v) => v.item);
    expect(twiceFaces).toHaveLength(2);
    const unknown = await svc.getUnknownGroups({ runId: last, limit: 1000 });
    expect(unknown.candidates).toBeGreaterThanOrEqual(2);
    expect(unknown.groups.some((g) => twiceFaces.every((f) => g.items.includes(f)))).toBe(false);
    const rep = await svc.assign({ runId: last });
    const fl = await faces(last);
    const mine = fl.filter((f) => f.path === twice);
    expect(mine).toHaveLength(2);
    expect(mine.filter((f) => f.cluster === person.cluster).length).toBeLessThanOrEqual(1);
    expect(sharedPhotos(fl)).toBe(0);
    expect(rep.assigned).toBeGreaterThanOrEqual(1);
    const q = await svc.getSuggestions({ runId: last, cluster: person.cluster });
    const inPerson = new Set(mine.filter((f) => f.cluster === person.cluster).map((f) => f.photoId));
    expect(q.suggestions.filter((x) => inPerson.has(x.photoId!))).toEqual([]);
  }, 600_000);
});

describe('names imported before any face run', () => {
  it('become people of the next run, with their faces decided', async () => {
    const u = tempDir();
    try {
      const dir = join(u.dir, 'photos');
      mkdirSync(dir);
      const rows: string[] = ['path,label'];
      const people = readdirSync(sharedPath('data/faces-london')).sort().slice(0, 6);
      people.forEach((p, i) => ['neutral.jpg', 'smiling.jpg'].forEach((f, j) => {
        const dst = join(dir, `x${(i * 37 + j * 11) % 97}-${i}${j}.jpg`);
        copyFileSync(sharedPath('data/faces-london', p, f), dst);
        // labels for the first four people only
        if (i < 4) rows.push(`${dst},Who ${String.fromCharCode(65 + i)}`);
      }));
      const csv = join(u.dir, 'labels.csv');
      writeFileSync(csv, `${rows.join('\n')}\n`);
      const f = join(u.dir, 'imp.constellate');
      const lib = Library.open(f);
      await scanRoots(lib, [lib.addRoot(dir).id], testContext());
      await embedJob(lib, { model: 'face' }, testContext());
      lib.close();
      const s = CoreService.open(f);
      try {
        const rep = await s.importLabels({ source: csv });
        expect(rep.runId ?? null).toBeNull();
        // k-means with k = 1: only the names imported can keep the four people apart
        const job = await s.jobs.wait((await s.cluster({ model: 'face', params: { algo: 'kmeans', k: 1, seed: 1 } as never })).id);
        expect(job.state).toBe('done');
        const runId = (job.result as { runId: number }).runId;
        const cs = await s.getClusters({ runId });
        expect(cs.filter((c) => c.name).map((c) => [c.name, c.size]).sort()).toEqual([['Who A', 2], ['Who B', 2], ['Who C', 2], ['Who D', 2]]);
        const states = await s.getItemStates({ runId });
        expect(JSON.stringify(states)).toContain('named');
        // every face decided: the next run has nothing left to cluster, and still keeps every person
        const rest = cs.find((c) => !c.name)!;
        await s.editRun({ runId, op: { type: 'rename', cluster: rest.cluster, name: 'Rest' } });
        const again = await s.jobs.wait((await s.cluster({ model: 'face', params: { algo: 'kmeans', k: 2, seed: 1 } as never })).id);
        expect(again.state, JSON.stringify(again.error)).toBe('done');
        const cs2 = await s.getClusters({ runId: (again.result as { runId: number }).runId });
        expect(cs2.map((c) => [c.name, c.size]).sort()).toEqual([['Rest', 4], ['Who A', 2], ['Who B', 2], ['Who C', 2], ['Who D', 2]]);
      } finally { await s.close(); }
    } finally { u.cleanup(); }
  }, 600_000);
});

