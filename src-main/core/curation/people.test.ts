/**
 * People and faces (issue 19) on real London faces and the real face model: people of a run (search, sort, hide,
 * avatar), suggestion queues (ranked, thresholded, rejections remembered, confirm), merge suggestions with "not the
 * same", split with preview; each one undoable edit with its 'run' event.
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../common/jobs.ts';
import type { LibraryZones } from '../../common/types.ts';
import { embedJob } from '../embed/embed-job.ts';
import { Library } from '../library.ts';
import { identityThresholdOf } from '../models/identity.ts';
import { buildIndex, suggest } from './suggest.ts';
import { runZones, zoneOf } from './zones.ts';
import { readRunRecord, writeRunRecord } from '../store/runs.ts';
import { scanRoots } from '../scan/scanner.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';

const t = tempDir('constellate-people-');
const file = join(t.dir, 'people.constellate');
const PEOPLE = readdirSync(sharedPath('data/faces-london')).filter((p) => p.startsWith('person-')).sort().slice(0, 8);
let svc: CoreService;
let runId: number;
const events: AppEvent[] = [];
/** face id -> London person (folder) */
const personOf = new Map<number, string>();

beforeAll(async () => {
  const dir = join(t.dir, 'faces');
  for (const p of PEOPLE) { mkdirSync(join(dir, p), { recursive: true }); cpSync(sharedPath('data/faces-london', p), join(dir, p), { recursive: true }); }
  const lib = Library.open(file);
  await scanRoots(lib, [lib.addRoot(dir).id], testContext());
  await embedJob(lib, { model: 'face' }, testContext());
  lib.close();
  svc = CoreService.open(file);
  svc.onEvent((e) => events.push(e));
  for (const r of svc.lib.db.prepare('SELECT f.id, p.folder FROM faces f JOIN photos p ON p.id = f.photo_id').all() as Array<{ id: number; folder: string }>) {
    personOf.set(r.id, r.folder.split('/').pop()!);
  }
  const job = await svc.jobs.wait((await svc.cluster({ model: 'face', params: { preset: 'people' } })).id);
  runId = (job.result as { runId: number }).runId;
}, 300_000);
afterAll(async () => { await svc?.close(); t.cleanup(); });

const clusterOf = (item: number) => svc.lib.db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck().get(runId, item) as number | undefined;
const membersOf = (c: number) => svc.lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck().all(runId, c) as number[];
const snapshot = () => svc.lib.db.prepare('SELECT item_id, cluster FROM assignments WHERE run_id = ? ORDER BY item_id').all(runId);
const lastRunEvent = () => [...events].reverse().find((e) => e.type === 'run');

describe('people of a run', () => {
  it('every London pair is one person; rename, search, sort by name / size / recent; hide and avatar are undoable edits', async () => {
    const people = await svc.listPeople({ runId });
    expect(people).toHaveLength(PEOPLE.length);
    for (const p of people) expect(new Set(membersOf(p.cluster).map((f) => personOf.get(f))).size).toBe(1);
    const [a, b] = people;
    await svc.editRun({ runId, op: { type: 'rename', cluster: b.cluster, name: 'Zoe' } });
    await svc.editRun({ runId, op: { type: 'rename', cluster: a.cluster, name: 'anna' } });
    expect((await svc.listPeople({ runId, sort: 'name' })).slice(0, 2).map((p) => p.name)).toEqual(['anna', 'Zoe']);
    expect((await svc.listPeople({ runId, sort: 'recent' }))[0].name).toBe('anna');
    expect((await svc.listPeople({ runId, search: 'ZO' })).map((p) => p.cluster)).toEqual([b.cluster]);

    const hid = await svc.setPerson({ runId, cluster: b.cluster, hidden: true });
    expect(hid.description).toBe(`hide 'Zoe'`);
    expect(lastRunEvent()).toMatchObject({ runId, change: { action: 'edit', editId: hid.editId } });
    expect((await svc.listPeople({ runId })).map((p) => p.cluster)).not.toContain(b.cluster);
    expect((await svc.listPeople({ runId, includeHidden: true })).find((p) => p.cluster === b.cluster)?.hidden).toBe(true);
    // kept by the library group (Zoe is named): a row of the group says so too
    expect(svc.lib.db.prepare('SELECT g.hidden FROM groups g JOIN clusters c ON c.group_id = g.id WHERE c.run_id = ? AND c.cluster = ?').pluck().get(runId, b.cluster)).toBe(1);
    await svc.undo({ runId });
    expect((await svc.listPeople({ runId })).find((p) => p.cluster === b.cluster)?.hidden).toBe(false);

    const other = membersOf(a.cluster).find((f) => f !== a.avatar)!;
    await svc.setPerson({ runId, cluster: a.cluster, avatar: other });
    expect((await svc.listPeople({ runId })).find((p) => p.cluster === a.cluster)).toMatchObject({ avatar: other, avatarChosen: true });
    await expect(svc.setPerson({ runId, cluster: a.cluster, avatar: membersOf(b.cluster)[0] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^avatar: face \d+ is not in cluster/) });
    await svc.undo({ runId });
    expect((await svc.listPeople({ runId })).find((p) => p.cluster === a.cluster)).toMatchObject({ avatar: a.avatar, avatarChosen: false });

    // a hidden person stays hidden in a new run (its library group keeps the flag)
    await svc.setPerson({ runId, cluster: b.cluster, hidden: true });
    const job = await svc.jobs.wait((await svc.cluster({ model: 'face', params: { preset: 'people' } })).id);
    const next = (job.result as { runId: number }).runId;
    expect((await svc.listPeople({ runId: next })).map((p) => p.name)).not.toContain('Zoe');
    expect((await svc.listPeople({ runId: next, includeHidden: true })).find((p) => p.name === 'Zoe')).toMatchObject({ hidden: true, size: 2 });
    await svc.undo({ runId });
    expect((await svc.listPeople({ runId: next })).map((p) => p.name)).toContain('Zoe');
    await svc.deleteRun({ runId: next });
  }, 60_000);
});

describe('suggestion queues', () => {
  it('a face sent to noise is suggested back to its person first, sure, above the library\'s zones; rejected ones never again; confirm is one edit', async () => {
    // the run's zones, computed once in its worker and kept in its record
    const zones = (await svc.getRun({ runId })).record.identity as LibraryZones;
    expect(zones).toMatchObject({ n: 2 * PEOPLE.length, tail: { set: 'faces-orl' } });
    expect(zones.maybe).toBeLessThan(zones.sure);
    const [p] = await svc.listPeople({ runId, sort: 'size' });
    const [keep, lost] = membersOf(p.cluster);
    await svc.editRun({ runId, op: { type: 'reject', items: [lost] } });
    expect(clusterOf(lost)).toBe(-1);
    const r = await svc.getSuggestions({ runId, cluster: p.cluster });
    expect([r.threshold, r.sure]).toEqual([zones.maybe, zones.sure]);
    expect(r.thresholdFrom).toMatch(/this library's maybe threshold \(16 faces/);
    expect(r.suggestions[0]).toMatchObject({ item: lost, source: 'noise', cluster: -1, zone: 'sure' });
    for (const s of r.suggestions) {
      expect(s.similarity).toBeGreaterThanOrEqual(zones.maybe);
      expect(s.zone).toBe(s.similarity >= zones.sure ? 'sure' : 'maybe');
      if (s.zone === 'sure') expect(personOf.get(s.item)).toBe(personOf.get(keep));
    }
    // a lower threshold asked for is never below the library's maybe threshold
    expect((await svc.getSuggestions({ runId, cluster: p.cluster, threshold: -1 })).threshold).toBe(zones.maybe);
    // the other persons never offer it as sure (every other London person is a different identity)
    for (const q of (await svc.listPeople({ runId })).filter((x) => x.cluster !== p.cluster)) {
      expect((await svc.getSuggestions({ runId, cluster: q.cluster })).suggestions.filter((s) => s.zone === 'sure').map((s) => s.item)).not.toContain(lost);
    }

    const rej = await svc.rejectSuggestions({ runId, cluster: p.cluster, items: [lost] });
    expect(rej.description).toMatch(/^reject 1 suggestion for /);
    expect((await svc.getSuggestions({ runId, cluster: p.cluster })).suggestions.map((s) => s.item)).not.toContain(lost);
    await svc.undo({ runId });
    expect((await svc.getSuggestions({ runId, cluster: p.cluster })).suggestions[0].item).toBe(lost);

    const before = snapshot();
    const ok = await svc.confirmSuggestions({ runId, cluster: p.cluster, items: [lost] });
    expect(clusterOf(lost)).toBe(p.cluster);
    expect(lastRunEvent()).toMatchObject({ change: { editId: ok.editId, action: 'edit' } });
    expect((await svc.getSuggestions({ runId, cluster: p.cluster })).suggestions.map((s) => s.item)).not.toContain(lost);
    await svc.undo({ runId });
    expect(snapshot()).toEqual(before);
    await svc.redo({ runId });
    expect(clusterOf(lost)).toBe(p.cluster);
  }, 60_000);

  it('faces embedded after the run are unassigned in its queues, and confirming one adds it to the run (undo takes it out)', async () => {
    const [p] = await svc.listPeople({ runId });
    const who = personOf.get(membersOf(p.cluster)[0])!;
    const dir = join(t.dir, 'later');
    mkdirSync(dir);
    cpSync(sharedPath('data/faces-london', who, 'smiling.jpg'), join(dir, 'again.jpg'));
    await scanRoots(svc.lib, [svc.lib.addRoot(dir).id], testContext());
    await embedJob(svc.lib, { model: 'face' }, testContext());
    const late = svc.lib.db.prepare('SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.path = ?').pluck().get(join(dir, 'again.jpg')) as number;
    expect(clusterOf(late)).toBeUndefined();
    personOf.set(late, who); // a copy of their photo
    const r = await svc.getSuggestions({ runId, cluster: p.cluster });
    expect(r.suggestions[0]).toMatchObject({ item: late, source: 'new', cluster: null, path: join(dir, 'again.jpg') });
    const n = svc.lib.db.prepare('SELECT n FROM runs WHERE id = ?').pluck().get(runId) as number;
    await svc.confirmSuggestions({ runId, cluster: p.cluster, items: [late] });
    expect(clusterOf(late)).toBe(p.cluster);
    expect(svc.lib.db.prepare('SELECT n FROM runs WHERE id = ?').pluck().get(runId)).toBe(n + 1);
    await svc.undo({ runId });
    expect(clusterOf(late)).toBeUndefined();
    expect(svc.lib.db.prepare('SELECT n FROM runs WHERE id = ?').pluck().get(runId)).toBe(n);
  }, 120_000);
});

describe('the suggestion index', () => {
  it('brought up to date after edits, it suggests what a fresh index of the run suggests', async () => {
    const people = await svc.listPeople({ runId });
    for (const p of people) await svc.getSuggestions({ runId, cluster: p.cluster });
    // edits: a face to noise, a face moved to another person, a split off a person
    const [a, b, c] = people;
    await svc.editRun({ runId, op: { type: 'reject', items: [membersOf(a.cluster)[0]] } });
    await svc.editRun({ runId, op: { type: 'move', items: [membersOf(b.cluster)[0]], to: c.cluster } });
    // the index, brought up to date from the edits' changed clusters only, equals a fresh index: members, candidates, suggestions
    const same = async () => {
      const idx = await svc.suggestionIndex(runId);
      expect(idx.refreshed.candidates).toBeLessThan(idx.ids.length);
      expect(idx.refreshed.incremental).toBe(true);
      const fresh = await buildIndex(svc.lib.db, runId);
      expect(fresh.refreshed.candidates).toBe(fresh.ids.length);
      expect(fresh.refreshed.incremental).toBe(false);
      expect([...idx.members.ids]).toEqual([...fresh.members.ids]);
      expect([...idx.members.cluster]).toEqual([...fresh.members.cluster]);
      expect(idx.members.fresh).toEqual(fresh.members.fresh);
      expect([...idx.ids]).toEqual([...fresh.ids]);
      expect([...idx.cluster]).toEqual([...fresh.cluster]);
      for (const p of await svc.listPeople({ runId })) {
        const x = await suggest(svc.lib.db, idx, p.cluster), y = await suggest(svc.lib.db, fresh, p.cluster);
        expect(x.suggestions.map((s) => [s.item, s.similarity, s.secondCluster])).toEqual(y.suggestions.map((s) => [s.item, s.similarity, s.secondCluster]));
      }
    };
    await same();
    // a rename (a named person's confident members leave the candidates), then undo of everything, one step at a time
    await svc.editRun({ runId, op: { type: 'rename', cluster: c.cluster, name: 'Someone' } });
    await same();
    await svc.undo({ runId });
    await same();
    await svc.undo({ runId });
    await same();
    await svc.undo({ runId });
    await same();
  }, 120_000);
});

describe('the run\'s identity zones', () => {
  it('a run without them in its record (older or imported) gets them on first use, the same as its worker computed, kept', async () => {
    const stored = (await svc.getRun({ runId })).record.identity as LibraryZones;
    const rec = readRunRecord(svc.lib.db, runId);
    delete rec.identity;
    writeRunRecord(svc.lib.db, runId, rec);
    expect((await svc.getRun({ runId })).record.identity).toBeUndefined();
    const z = (await runZones(svc.lib.db, runId))!;
    expect(z).toEqual(stored);
    expect((await svc.getRun({ runId })).record.identity).toEqual(stored);
    // a wrong record (maybe above sure) is not trusted: computed again
    writeRunRecord(svc.lib.db, runId, { ...rec, identity: { ...stored, maybe: stored.sure + 0.1 } });
    expect(await runZones(svc.lib.db, runId)).toEqual(stored);
    // zones of a similarity
    expect([zoneOf(z, z.sure), zoneOf(z, (z.sure + z.maybe) / 2), zoneOf(z, z.maybe - 1e-6)]).toEqual(['sure', 'maybe', null]);
  });
});

describe('unknown faces that look alike', () => {
  it('three people sent to noise come back as three pairs (complete linkage at the identity threshold), none mixing people', async () => {
    const identity = identityThresholdOf(svc.lib.db, 'face')!.similarity;
    const people = (await svc.listPeople({ runId, includeHidden: true })).filter((p) => p.size === 2).slice(0, 3);
    expect(people.length).toBe(3);
    const dropped = people.map((p) => membersOf(p.cluster));
    await svc.editRun({ runId, op: { type: 'reject', items: dropped.flat() } });
    const r = await svc.getUnknownGroups({ runId });
    expect(r.threshold).toBe(identity);
    expect(r.candidates).toBeGreaterThanOrEqual(6);
    for (const g of r.groups) {
      expect(g.size).toBeGreaterThanOrEqual(2);
      expect(g.minSim).toBeGreaterThanOrEqual(identity);
      expect(new Set(g.items.map((it) => personOf.get(it))).size).toBe(1);
      expect(g.faces.map((f) => f.item)).toEqual(g.items);
    }
    for (let i = 1; i < r.groups.length; i++) expect(r.groups[i].minSim).toBeLessThanOrEqual(r.groups[i - 1].minSim);
    // each dropped person's two faces are one group (with a copy of one of their photos embedded after the run, if any)
    for (const pair of dropped) expect(r.groups.filter((g) => pair.every((it) => g.items.includes(it))).length).toBe(1);
    await svc.undo({ runId });
  }, 60_000);
});

describe('one face\'s person (Review)', () => {
  it('suggestPerson offers a face to exactly the person whose queue offers it (same prototypes, threshold, margin)', async () => {
    const people = await svc.listPeople({ runId, includeHidden: true });
    const [a] = people;
    const lost = membersOf(a.cluster)[0];
    await svc.editRun({ runId, op: { type: 'reject', items: [lost] } });
    const r = await svc.suggestPerson({ runId, item: lost });
    expect(r).toMatchObject({ item: lost, from: -1, cluster: a.cluster, reason: '' });
    expect(personOf.get(lost)).toBe(personOf.get(membersOf(a.cluster)[0]));
    const offeredTo = new Map<number, number>();
    for (const p of people) for (const s of (await svc.getSuggestions({ runId, cluster: p.cluster, limit: 1000 })).suggestions) offeredTo.set(s.item, p.cluster);
    const idx = await svc.suggestionIndex(runId);
    let checked = 0;
    for (const item of idx.ids) {
      const x = await svc.suggestPerson({ runId, item });
      expect(x.cluster).toBe(offeredTo.get(item) ?? null);
      if (x.cluster === null) expect(x.reason).not.toBe('');
      checked++;
    }
    expect(checked).toBe(idx.ids.length);
    // a confident member of a person: no other person clears the margin over its own
    const keep = membersOf(people[1].cluster)[0];
    expect((await svc.suggestPerson({ runId, item: keep })).cluster).toBe(null);
    await svc.undo({ runId });
  }, 60_000);
});

describe('merge suggestions and split with preview', () => {
  it('two halves of one person are the first merge suggestion; "not the same" is remembered and undoable; a split\'s parts are never offered', async () => {
    const [p] = await svc.listPeople({ runId });
    const [x] = membersOf(p.cluster);
    // the parts of a split are two people by the user's word: never offered for merging
    const split = await svc.applySplit({ runId, cluster: p.cluster, parts: [{ items: [x], name: 'half' }] });
    const part = split.clusters.find((c) => c !== p.cluster && c >= 0)!;
    expect(membersOf(part)).toEqual([x]);
    // (the part may meet another person in the uncertain zone; never the person it was split from)
    expect((await svc.getMergeSuggestions({ runId })).suggestions.some((s) => [s.a.cluster, s.b.cluster].sort().join() === [part, p.cluster].sort().join())).toBe(false);
    await svc.undo({ runId });
    expect(membersOf(p.cluster)).toHaveLength(2);
    // a face moved out to a new cluster by hand is the same person's half: offered first
    const moved = await svc.editRun({ runId, op: { type: 'move', items: [x], to: 'new' } });
    const half = moved.clusters.find((c) => c !== p.cluster && c >= 0)!;
    expect(membersOf(half)).toEqual([x]);
    const m = await svc.getMergeSuggestions({ runId });
    const zones = (await svc.getRun({ runId })).record.identity as LibraryZones;
    expect([m.threshold, m.sure]).toEqual([zones.maybe, zones.sure]);
    expect([m.suggestions[0].a.cluster, m.suggestions[0].b.cluster].sort()).toEqual([p.cluster, half].sort());
    expect(m.suggestions[0].zone).toBe('sure');
    for (const s of m.suggestions) {
      expect(s.similarity).toBeGreaterThanOrEqual(m.threshold);
      expect(s.zone).toBe(s.similarity >= m.sure ? 'sure' : 'maybe');
    }
    await svc.notSamePerson({ runId, clusters: [half, p.cluster] });
    // (the one-face half may still meet someone else in the uncertain zone; never the person it is not)
    expect((await svc.getMergeSuggestions({ runId })).suggestions.some((s) => [s.a.cluster, s.b.cluster].sort().join() === [half, p.cluster].sort().join())).toBe(false);
    await svc.undo({ runId });
    expect((await svc.getMergeSuggestions({ runId })).suggestions[0].b.cluster).toBe(Math.max(half, p.cluster));
    await svc.undo({ runId }); // the move
    expect(membersOf(p.cluster)).toHaveLength(2);
  }, 60_000);

  it('a merge of two people previews as the two again (k-means, k = 2); applying names both in one edit; undo restores exactly', async () => {
    const ps = await svc.listPeople({ runId });
    const [a, b] = [ps[ps.length - 1], ps[ps.length - 2]];
    const wantA = membersOf(a.cluster), wantB = membersOf(b.cluster);
    await svc.editRun({ runId, op: { type: 'merge', clusters: [a.cluster, b.cluster], into: a.cluster } });
    const before = snapshot();
    const names = svc.lib.db.prepare('SELECT cluster, name FROM clusters WHERE run_id = ? ORDER BY cluster').all(runId);
    const pv = await svc.previewSplit({ runId, cluster: a.cluster, k: 2 });
    expect(snapshot()).toEqual(before); // a preview changes nothing
    expect(pv.parts.map((x) => [...x.items].sort((u, v) => u - v)).sort()).toEqual([wantA, wantB].sort());
    expect(pv.parts.every((x) => x.samples.length === x.size && x.meanSim! > 0.5)).toBe(true);
    const r = await svc.applySplit({ runId, cluster: a.cluster, parts: pv.parts.map((x, i) => ({ items: x.items, name: `part ${i + 1}` })) });
    expect(r.description).toMatch(/^split .* in 2 \('part 1', 'part 2'\)$/);
    const after = await svc.listPeople({ runId, search: 'part ' });
    expect(after.map((x) => x.name).sort()).toEqual(['part 1', 'part 2']);
    expect(after.find((x) => x.name === 'part 1')?.cluster).toBe(a.cluster);
    await svc.undo({ runId });
    expect(snapshot()).toEqual(before);
    expect(svc.lib.db.prepare('SELECT cluster, name FROM clusters WHERE run_id = ? ORDER BY cluster').all(runId)).toEqual(names);
    await svc.redo({ runId });
    expect((await svc.listPeople({ runId, search: 'part ' })).map((x) => x.size)).toEqual([2, 2]);
    // a brushed selection previews as [selection, rest]
    const sel = await svc.previewSplit({ runId, cluster: a.cluster, items: [membersOf(a.cluster)[0]] });
    expect(sel).toMatchObject({ algo: 'selection', parts: [{ size: 1 }, { size: 1 }] });
    await expect(svc.previewSplit({ runId, cluster: a.cluster, items: membersOf(a.cluster) })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  }, 120_000);
});
