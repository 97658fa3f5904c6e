/**
 * Issue 18's measured protocol, with real SQLite, the real face models and the real photos of ../shared:
 * - faces-london: both photos of 20 people are scanned and clustered with the `people` preset (no other parameter),
 *   the groups are named from the folder tree (import-labels); then a mirrored copy of each of those people's smiling
 *   photo and both photos of the other 10 people arrive, are embedded and assigned. Precision (new faces of known
 *   people placed in their own group, of those placed), recall (of all of them) and the faces of the 10 unknown
 *   people wrongly placed in a known group.
 * - faces-orl: the first 5 photos of every person first, the other 5 later (all 40 people known).
 * Then: undo takes the assignment back, and a re-run holds the curated groups under their names.
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { AssignReport } from '../common/types.ts';
import type { JobInfo } from '../common/jobs.ts';
import { CoreService } from '../core/service.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';
import { cliSync } from './helpers.ts';

const t = tempDir();
afterAll(() => t.cleanup());

async function done(job: Promise<JobInfo> | JobInfo, svc: CoreService): Promise<JobInfo> {
  const j = await svc.jobs.wait((await job).id);
  expect(j.error).toBeNull();
  expect(j.state).toBe('done');
  return j;
}

interface Outcome { knownNew: number; placed: number; correct: number; unknownNew: number; unknownPlaced: number; precision: number; recall: number; report: AssignReport; clusterAmi: number }

/** start -> cluster (people preset) -> import-labels -> later photos -> embed -> assign, measured. */
async function protocol(name: string, start: string, later: string, unknown: Set<string>): Promise<{ svc: CoreService; runId: number; o: Outcome }> {
  const svc = CoreService.open(join(t.dir, `${name}.constellate`));
  await svc.addRoots({ paths: [start] });
  await done(svc.scan(), svc);
  await done(svc.embed({ model: 'face', workers: 2 }), svc);
  const cj = await done(svc.cluster({ model: 'face', params: { preset: 'people' }, labels: 'folders' }), svc);
  const run = cj.result as { runId: number; metrics: { ami: number }; record: { preset?: { why: string[] } } };
  expect(run.record.preset?.why.length).toBeGreaterThan(0);
  const labels = await svc.importLabels({ source: start });
  expect(labels.seeded[0]?.named).toBeGreaterThan(0);
  await svc.addRoots({ paths: [later] });
  await done(svc.scan(), svc);
  await done(svc.embed({ model: 'face', workers: 2 }), svc);
  const report = await svc.assign({ runId: run.runId });
  // assign places only above the library's sure threshold for the prototypes it compares now (from the run's zones,
  // kept in its record: never below their maybe threshold)
  const zones = (await svc.getRun({ runId: run.runId })).record.identity as { sure: number; maybe: number };
  expect(report.threshold).toBeGreaterThanOrEqual(zones.maybe);
  expect(report.thresholdFrom).toMatch(/this library's sure threshold for \d+ prototype\(s\) compared per face/);
  const db = svc.lib.db;
  const rows = db.prepare(`SELECT f.id, p.folder, p.path, a.cluster, c.name FROM faces f JOIN photos p ON p.id = f.photo_id
    JOIN assignments a ON a.run_id = ? AND a.item_id = f.id LEFT JOIN clusters c ON c.run_id = a.run_id AND c.cluster = a.cluster
    WHERE p.path LIKE ?`).all(run.runId, `${later}/%`) as Array<{ id: number; folder: string; path: string; cluster: number; name: string | null }>;
  const person = (r: { folder: string; path: string }) => r.path.split('/').at(-2)!;
  const known = rows.filter((r) => !unknown.has(person(r)));
  const unk = rows.filter((r) => unknown.has(person(r)));
  const placed = known.filter((r) => r.cluster >= 0);
  const correct = placed.filter((r) => r.name === person(r));
  const curatedQ = db.prepare('SELECT curated FROM clusters WHERE run_id = ? AND cluster = ?').pluck();
  for (const r of placed.filter((x) => x.name !== person(x))) console.log(`[assign protocol] ${name} wrong: ${person(r)} -> ${r.name} (cluster ${r.cluster}, curated ${curatedQ.get(run.runId, r.cluster)})`);
  const o: Outcome = {
    knownNew: known.length, placed: placed.length, correct: correct.length, unknownNew: unk.length, unknownPlaced: unk.filter((r) => r.cluster >= 0).length,
    precision: placed.length ? correct.length / placed.length : 1, recall: known.length ? correct.length / known.length : 0, report, clusterAmi: run.metrics.ami,
  };
  console.log(`[assign protocol] ${name}: ${JSON.stringify({ ...o, report: { assigned: report.assigned, unassigned: report.unassigned, groups: report.groups, threshold: report.threshold, reasons: report.reasons } })}`);
  return { svc, runId: run.runId, o };
}

describe('assign protocol (real face models)', () => {
  it('faces-london: 20 known people, their mirrored smiling photos and 10 unknown people', async () => {
    const people = readdirSync(sharedPath('data/faces-london')).sort();
    const knownP = people.slice(0, 20), unknownP = people.slice(20);
    const start = join(t.dir, 'london-start'), later = join(t.dir, 'london-later');
    for (const p of knownP) cpSync(sharedPath('data/faces-london', p), join(start, p), { recursive: true });
    for (const p of knownP) {
      mkdirSync(join(later, p), { recursive: true });
      await sharp(sharedPath('data/faces-london', p, 'smiling.jpg')).flop().jpeg({ quality: 92 }).toFile(join(later, p, 'smiling-mirrored.jpg'));
    }
    for (const p of unknownP) cpSync(sharedPath('data/faces-london', p), join(later, p), { recursive: true });
    const { svc, runId, o } = await protocol('london', start, later, new Set(unknownP));
    expect(o.clusterAmi).toBeGreaterThanOrEqual(0.98);
    expect(o.knownNew).toBe(20);
    expect(o.unknownNew).toBe(20);
    expect(o.precision).toBeGreaterThanOrEqual(0.99);
    expect(o.recall).toBeGreaterThanOrEqual(0.95);
    expect(o.unknownPlaced).toBe(0);
    expect(o.report).toMatchObject({ runId, assigned: o.placed + o.unknownPlaced, unassigned: 40 - o.placed - o.unknownPlaced });

    // one undoable edit: undo takes every new face out of the run again, redo puts them back
    const n = (await svc.getRun({ runId })).n;
    expect((await svc.undo({ runId }))?.op.type).toBe('assign');
    expect((await svc.getRun({ runId })).n).toBe(n - 40);
    await svc.redo({ runId });
    expect((await svc.getRun({ runId })).n).toBe(n);

    // a re-run holds the curated groups under their names and clusters only the rest
    const curated = (await svc.getClusters({ runId })).filter((c) => c.curated);
    expect(curated.length).toBeGreaterThan(0);
    const rj = await done(svc.cluster({ model: 'face', params: { preset: 'people' } }), svc);
    const r2 = rj.result as { runId: number; record: { groups: { held: Array<{ name: string; size: number; cluster: number }> } } };
    expect(r2.record.groups.held.length).toBe(curated.length);
    const after = await svc.getClusters({ runId: r2.runId });
    for (const h of r2.record.groups.held) {
      const c = after.find((x) => x.cluster === h.cluster)!;
      expect(c).toMatchObject({ name: h.name, curated: true, size: h.size });
    }
    expect(new Set(after.filter((c) => c.curated).map((c) => c.name))).toEqual(new Set(curated.map((c) => c.name)));
    expect((await svc.check()).ok).toBe(true);
    await svc.close();

    // the CLI contract: cluster --preset people (no --algo), assign --run ID --json with its keys
    const file = join(t.dir, 'london.constellate');
    const c = cliSync(['cluster', '--model', 'face', '--preset', 'people', '--labels', 'folders', '--library', file, '--json']);
    expect(c.code, c.stderr).toBe(0);
    const cj2 = JSON.parse(c.stdout);
    expect(cj2).toMatchObject({ ami: 1, params: { algo: 'ward', linkage: 'average', preset: 'people' }, record: { preset: { name: 'people', link: { n: 20 } }, identity: { n: 80 } } }); // the zones on all 80 faces; 60 are held in curated groups
    const a = cliSync(['assign', '--run', String(cj2.runId), '--library', file, '--json']);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ runId: cj2.runId, assigned: 0, unassigned: 0, groups: 0 });
    expect(cliSync(['assign', '--library', file, '--json']).code).toBe(2);
  }, 600_000);

  it('faces-orl: 5 photos per person first, 5 later', async () => {
    const people = readdirSync(sharedPath('data/faces-orl')).filter((p) => /^s\d+$/.test(p)).sort();
    const start = join(t.dir, 'orl-start'), later = join(t.dir, 'orl-later');
    for (const p of people) {
      mkdirSync(join(start, p), { recursive: true });
      mkdirSync(join(later, p), { recursive: true });
      const files = readdirSync(sharedPath('data/faces-orl', p)).sort((a, b) => parseInt(a) - parseInt(b));
      files.forEach((f, i) => cpSync(sharedPath('data/faces-orl', p, f), join(i < 5 ? start : later, p, f)));
    }
    const { svc, o } = await protocol('orl', start, later, new Set());
    expect(o.knownNew).toBeGreaterThan(180);
    // measured 1.0 and 0.953 (181 of 190, the rest below the run's sure threshold, 0.524); at the fixed 0.465 with
    // two members agreeing it was 184 of 190; at the sure threshold for the ~195 prototypes compared (per-face rate)
    // the offline replay (bench/people-zones.mts) gives 183 of 190
    expect(o.precision).toBeGreaterThanOrEqual(0.99);
    expect(o.recall).toBeGreaterThanOrEqual(0.95);
    await svc.close();
  }, 600_000);
});
