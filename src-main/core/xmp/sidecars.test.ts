import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../common/jobs.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir } from '../../testing/fixtures.ts';
import { readXmpPeople } from './xmp.ts';

const t = tempDir();
afterAll(() => t.cleanup());
const PEOPLE = ['person-001', 'person-002', 'person-003', 'person-011'];
const photos = join(t.dir, 'photos');
for (const p of PEOPLE) cpSync(sharedPath('data/faces-london', p), join(photos, p), { recursive: true });
const images = PEOPLE.flatMap((p) => readdirSync(join(photos, p)).filter((f) => f.endsWith('.jpg')).map((f) => join(photos, p, f)));
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

async function library(name: string): Promise<{ svc: CoreService; runId: number }> {
  const svc = CoreService.open(join(t.dir, `${name}.constellate`));
  const done = async (job: Promise<JobInfo>) => {
    const j = await svc.jobs.wait((await job).id);
    expect(j.error).toBeNull();
    return j;
  };
  await svc.addRoots({ paths: [photos] });
  await done(svc.scan());
  await done(svc.embed({ model: 'face', workers: 1 }));
  const j = await done(svc.cluster({ model: 'face', params: { algo: 'kmeans', k: PEOPLE.length, seed: 1 } as never }));
  return { svc, runId: (j.result as { runId: number }).runId };
}

describe('people in XMP sidecars', () => {
  it('named faces go out to photo.jpg.xmp and come back into another library as named groups; originals untouched', async () => {
    const before = new Map(images.map((f) => [f, sha(f)]));
    const a = await library('a');
    // name the groups after the folders (each London person is one group with k = 4)
    const seeded = await a.svc.importLabels({ source: photos });
    expect(seeded.seeded[0]!.named).toBe(PEOPLE.length);
    const out = await a.svc.exportXmp({ runId: a.runId });
    expect(out).toMatchObject({ runId: a.runId, photos: images.length, regions: images.length, created: images.length, updated: 0, failed: 0 });
    for (const f of images) {
      const x = readXmpPeople(readFileSync(`${f}.xmp`, 'utf8'));
      expect(x.regions.map((r) => r.name)).toEqual([f.split('/').at(-2)]);
      expect(x.keywords).toEqual([f.split('/').at(-2)]);
      expect(sha(f)).toBe(before.get(f));
    }
    // what an export killed between writing and renaming leaves: a hidden temp beside the sidecar; a dead process's
    // goes with the next export, a live one's (another export running now) stays
    const folder = join(photos, PEOPLE[0]!), name = images[0]!.split('/').at(-1)!;
    const dead = join(folder, `.${name}.xmp.4194301.k3j4h5.tmp`), live = join(folder, `.${name}.xmp.${process.ppid}.a1b2c3.tmp`);
    const other = join(folder, `.notes.txt.4194301.k3j4h5.tmp`);
    for (const f of [dead, live, other]) writeFileSync(f, '<x/>');
    // written again: nothing changes
    expect(await a.svc.exportXmp({ runId: a.runId })).toMatchObject({ created: 0, updated: 0, unchanged: images.length });
    expect([existsSync(dead), existsSync(live), existsSync(other)]).toEqual([false, true, true]);
    rmSync(live); rmSync(other);
    // a photo run is refused, a missing run named
    await expect(a.svc.exportXmp({ runId: 999 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await a.svc.close();

    // another tool (or person) renamed one person in a sidecar and broke another sidecar
    const renamed = images.find((f) => f.includes('person-003'))!;
    writeFileSync(`${renamed}.xmp`, readFileSync(`${renamed}.xmp`, 'utf8').replaceAll('person-003', 'Carla'));
    const broken = images.find((f) => f.includes('person-011'))!;
    writeFileSync(`${broken}.xmp`, '<x:xmpmeta><rdf:RDF>');

    const b = await library('b');
    const r = await b.svc.importXmp();
    expect(r.sidecars).toBe(images.length - 1);
    expect(r.failures.map((f) => f.path)).toEqual([`${broken}.xmp`]);
    expect(r.regions).toBe(images.length - 1);
    expect(r.matched).toBe(images.length - 1);
    expect(r.labels!.faces).toBe(images.length - 1);
    expect(r.labels!.source).toBe('xmp');
    const names = (await b.svc.getClusters({ runId: b.runId })).map((c) => c.name).filter(Boolean).sort();
    // distinct labels: the four people and Carla; a group is named when most of its labeled faces agree (> 50%;
    // a face without a label does not vote), so person-003 (one Carla, one person-003) stays for review and
    // person-011 (one sidecar unreadable, the other face labeled) is named
    expect(r.labels!.labels).toBe(5);
    expect(names).toEqual(['person-001', 'person-002', 'person-011']);
    await b.svc.close();
  }, 600_000);
});
