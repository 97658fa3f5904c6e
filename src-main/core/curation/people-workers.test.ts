/**
 * The people views' loops moved into worker tasks (people-tasks.ts) give the answers the main-thread versions gave:
 * the suggestion queues, one face's best person, merge suggestions, unknown groups and assign, each held to the code as
 * it was before the move (src-main/testing/before-workers/, verbatim, on the same MatMul) on a real library: London
 * faces embedded with the real face model, clustered by the people preset, some faces sent to noise, some people
 * named, and more people embedded after the run.
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedJob } from '../embed/embed-job.ts';
import { createOrtGemm } from '../gemm-ort.ts';
import { Library } from '../library.ts';
import { scanRoots } from '../scan/scanner.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';
import * as before from '../../testing/before-workers/suggest.ts';
import { mergeSuggestions as mergeBefore } from '../../testing/before-workers/people.ts';
import { unknownGroups as unknownBefore } from '../../testing/before-workers/unknown-groups.ts';
import { assignRun as assignBefore } from '../../testing/before-workers/assign.ts';

const t = tempDir('constellate-people-workers-');
const file = join(t.dir, 'people.constellate');
const ALL = readdirSync(sharedPath('data/faces-london')).filter((p) => p.startsWith('person-')).sort();
const FIRST = ALL.slice(0, 10), LATER = ALL.slice(10, 14);
let svc: CoreService;
let runId: number;
let gemm: Awaited<ReturnType<typeof createOrtGemm>>;

function copyPeople(dir: string, people: string[]): void {
  for (const p of people) { mkdirSync(join(dir, p), { recursive: true }); cpSync(sharedPath('data/faces-london', p), join(dir, p), { recursive: true }); }
}

beforeAll(async () => {
  copyPeople(join(t.dir, 'first'), FIRST);
  const lib = Library.open(file);
  await scanRoots(lib, [lib.addRoot(join(t.dir, 'first')).id], testContext());
  await embedJob(lib, { model: 'face' }, testContext());
  lib.close();
  svc = CoreService.open(file);
  const job = await svc.jobs.wait((await svc.cluster({ model: 'face', params: { preset: 'people' } })).id);
  runId = (job.result as { runId: number }).runId;
  // some faces to noise, some people named; then more people embedded after the run (new items)
  const people = await svc.listPeople({ runId });
  const membersOf = (c: number) => svc.lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck().all(runId, c) as number[];
  await svc.editRun({ runId, op: { type: 'reject', items: [membersOf(people[0].cluster)[0], membersOf(people[1].cluster)[1]] } });
  for (const [i, p] of people.slice(2, 6).entries()) await svc.editRun({ runId, op: { type: 'rename', cluster: p.cluster, name: `P${i}` } });
  copyPeople(join(t.dir, 'later'), LATER);
  await svc.addRoots({ paths: [join(t.dir, 'later')] });
  await svc.waitJob({ id: (await svc.scan()).id });
  const e = await svc.waitJob({ id: (await svc.embed({ model: 'face' })).id });
  if (e.state !== 'done') throw new Error(`embed: ${e.state}`);
  // the MatMul the service used on the main thread before (2 intra-op threads)
  gemm = await createOrtGemm(2);
}, 600_000);
afterAll(async () => { await gemm?.release(); await svc?.close(); t.cleanup(); });

const r5 = (x: number | null) => (x === null ? null : Math.round(x * 1e5) / 1e5);

describe('people views in workers give the answers of the main-thread code', () => {
  it('suggestion queues and one face\'s best person', async () => {
    const db = svc.lib.db;
    const old = await before.buildIndex(db, runId, gemm);
    const idx = await svc.suggestionIndex(runId);
    expect([...idx.ids]).toEqual([...old.ids]);
    expect(idx.ids.length).toBeGreaterThan(0);
    expect(idx.source.filter((s) => s === 'new').length).toBeGreaterThan(0);
    let offered = 0;
    for (const p of await svc.listPeople({ runId })) {
      const x = await svc.getSuggestions({ runId, cluster: p.cluster });
      const y = await before.suggest(db, old, p.cluster, {}, gemm);
      const view = (r: typeof x) => r.suggestions.map((s) => [s.item, r5(s.similarity), r5(s.second), s.secondCluster, s.source, s.zone]);
      expect(view(x)).toEqual(view(y));
      expect([x.candidates, x.rejected, x.threshold, x.sure]).toEqual([y.candidates, y.rejected, y.threshold, y.sure]);
      offered += x.suggestions.length;
    }
    expect(offered).toBeGreaterThan(0);
    // a candidate (noise, new) and a confident member (scored from its vector)
    const items = [idx.ids[0], idx.ids[idx.ids.length - 1], ...(svc.lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster >= 0 ORDER BY item_id LIMIT 2').pluck().all(runId) as number[])];
    for (const item of items) {
      const x = await svc.suggestPerson({ runId, item });
      const y = before.suggestPersonFor(db, old, item);
      expect([x.cluster, r5(x.similarity), r5(x.second), x.secondCluster, x.reason]).toEqual([y.cluster, r5(y.similarity), r5(y.second), y.secondCluster, y.reason]);
    }
  });

  it('merge suggestions and unknown groups', async () => {
    const db = svc.lib.db;
    const x = await svc.getMergeSuggestions({ runId, threshold: 0 });
    const y = await mergeBefore(db, runId, { threshold: 0, gemm });
    expect(x.suggestions.length).toBeGreaterThan(0);
    const view = (r: typeof x) => r.suggestions.map((s) => [s.a.cluster, s.b.cluster, r5(s.similarity), r5(s.max), s.zone]);
    expect(view(x)).toEqual(view(y));
    const u = await svc.getUnknownGroups({ runId });
    const v = await unknownBefore(db, runId, { gemm });
    expect(u.candidates).toBeGreaterThan(0);
    expect(u.groups.length).toBeGreaterThan(0);
    expect([u.candidates, u.total, u.threshold]).toEqual([v.candidates, v.total, v.threshold]);
    expect(u.groups.map((g) => [g.items, r5(g.minSim)])).toEqual(v.groups.map((g) => [g.items, r5(g.minSim)]));
  });

  it('assign', async () => {
    // the same library twice: assigned by the worker version here, by the main-thread version in a copy
    const copy = join(t.dir, 'copy.constellate');
    await svc.lib.db.backup(copy);
    const x = await svc.assign({ runId });
    const lib = Library.open(copy);
    try {
      const y = await assignBefore(lib.db, runId);
      const view = (r: typeof x) => [r.assigned, r.unassigned, r.groups, r.threshold, r.margin, r.joined, r.reasons, r.targets];
      expect(x.assigned + x.unassigned).toBeGreaterThan(0);
      expect(view(x)).toEqual(view(y));
      const rows = (db: typeof lib.db) => db.prepare('SELECT item_id, cluster FROM assignments WHERE run_id = ? ORDER BY item_id').all(runId);
      expect(rows(svc.lib.db)).toEqual(rows(lib.db));
    } finally { lib.close(); }
  });
});
