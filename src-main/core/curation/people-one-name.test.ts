/**
 * One person split over two clusters under one name (ORL faces, the real face model): the two clusters are that
 * person, not rivals. A face of theirs between the two is not "too close to call": both queues offer it (a queue
 * scores with the prototypes of every cluster under the name), Review's suggestPerson names them, and `assign` places
 * a new face of theirs.
 */
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir } from '../../testing/fixtures.ts';

const t = tempDir('constellate-one-name-');
let svc: CoreService;
let runId: number;
const later = join(t.dir, 'later');

beforeAll(async () => {
  const start = join(t.dir, 'start');
  for (const p of ['s1', 's2', 's3', 's4']) {
    mkdirSync(join(start, p), { recursive: true });
    for (let i = 1; i <= 10; i++) if (!(p === 's1' && i === 10)) cpSync(sharedPath('data/faces-orl', p, `${i}.png`), join(start, p, `${i}.png`));
  }
  // s1's tenth photo arrives after the run
  mkdirSync(join(later, 's1'), { recursive: true });
  cpSync(sharedPath('data/faces-orl/s1/10.png'), join(later, 's1', '10.png'));
  svc = CoreService.open(join(t.dir, 'one-name.constellate'));
  await svc.addRoots({ paths: [start] });
  await svc.jobs.wait((await svc.scan()).id);
  await svc.jobs.wait((await svc.embed({ model: 'face' })).id);
  runId = ((await svc.jobs.wait((await svc.cluster({ model: 'face', params: { preset: 'people' } })).id)).result as { runId: number }).runId;
}, 300_000);
afterAll(async () => { await svc?.close(); t.cleanup(); });

const folderOf = (path: string) => path.split('/').at(-2)!;

describe('one person under one name in two clusters', () => {
  it('queues, suggestPerson and assign treat the two clusters as the person, not as rivals within the margin', async () => {
    // s1's cluster: its members split alternately into two clusters both named s1 (look-alike halves); one face to noise
    const clusters = await svc.getClusters({ runId });
    const s1 = [];
    for (const c of clusters.filter((x) => x.cluster >= 0)) {
      const items = (await svc.getClusterMembers({ runId, cluster: c.cluster, offset: 0, limit: 100 })).items;
      if (items.filter((it) => folderOf(it.path) === 's1').length > items.length / 2) s1.push({ c: c.cluster, items: items.filter((it) => folderOf(it.path) === 's1').map((it) => it.item) });
    }
    const main = s1.sort((a, b) => b.items.length - a.items.length)[0];
    expect(main.items.length).toBeGreaterThanOrEqual(7);
    const [loose, ...rest] = main.items;
    await svc.editRun({ runId, op: { type: 'reject', items: [loose] } });
    await svc.editRun({ runId, op: { type: 'rename', cluster: main.c, name: 's1' } });
    await svc.editRun({ runId, op: { type: 'move', items: rest.filter((_, i) => i % 2 === 1), to: 'new', name: 's1' } });
    const parts = (await svc.getClusters({ runId })).filter((c) => c.name === 's1');
    expect(parts).toHaveLength(2);
    // the loose face: offered by one of the two queues (not held back by the margin against the other half)
    const offered = [];
    for (const p of parts) {
      const r = await svc.getSuggestions({ runId, cluster: p.cluster, limit: 50 });
      if (r.suggestions.some((s) => s.item === loose)) offered.push(p.cluster);
      // a member of the other half is never offered across (it is this person's already)
      const other = parts.find((x) => x.cluster !== p.cluster)!;
      const otherItems = new Set((await svc.getClusterMembers({ runId, cluster: other.cluster, offset: 0, limit: 100 })).items.map((it) => it.item));
      expect(r.suggestions.filter((s) => otherItems.has(s.item))).toEqual([]);
    }
    // both halves are the person: each queue offers it (with both halves' prototypes)
    expect(offered.sort()).toEqual(parts.map((p) => p.cluster).sort());
    const review = await svc.suggestPerson({ runId, item: loose });
    expect(review.name).toBe('s1');
    expect(offered).toContain(review.cluster);
    // a new face of s1 joins one of the halves
    await svc.addRoots({ paths: [later] });
    await svc.jobs.wait((await svc.scan()).id);
    await svc.jobs.wait((await svc.embed({ model: 'face' })).id);
    const a = await svc.assign({ runId });
    expect(a.joined).toHaveLength(1);
    expect(a.joined[0]).toMatchObject({ name: 's1', added: 1 });
    expect(a.reasons.ambiguous).toBe(0);
  }, 300_000);
});
