/**
 * The face folder notice stays with the library: the newest face embed that searched photos is listed by listJobs
 * (what a UI opened later reads) even after an embed with nothing new and more than a page of newer jobs.
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EmbedReport } from '../../common/jobs.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir } from '../../testing/fixtures.ts';

const t = tempDir();
afterAll(() => t.cleanup());

describe('the face folder notice after a reload', () => {
  it('the last face embed that searched photos is listed after an empty embed and 55 newer jobs', async () => {
    const root = join(t.dir, 'photos');
    for (const p of readdirSync(sharedPath('data/faces-london')).sort().slice(0, 2)) cpSync(sharedPath('data/faces-london', p), join(root, p), { recursive: true });
    // one ORL photo four times over: four near-identical faces, a flagged folder
    mkdirSync(join(root, 'copies'), { recursive: true });
    for (let i = 0; i < 4; i++) cpSync(sharedPath('data/faces-orl/s1/1.png'), join(root, 'copies', `c${i}.png`));
    const file = join(t.dir, 'notice.constellate');
    let svc = CoreService.open(file);
    await svc.addRoots({ paths: [root] });
    await svc.jobs.wait((await svc.scan()).id);
    const first = await svc.jobs.wait((await svc.embed({ model: 'face' })).id);
    expect(first.state).toBe('done');
    const flaggedOf = (r: unknown) => ((r as EmbedReport).faceFolders ?? []).filter((f) => f.flagged).map((f) => f.folder);
    expect(flaggedOf(first.result)).toEqual([join(root, 'copies')]);
    // nothing new: this embed searches no photo (its notice has no drops to say), then a page of newer jobs
    const empty = await svc.jobs.wait((await svc.embed({ model: 'face' })).id);
    expect((empty.result as EmbedReport).processed).toBe(0);
    for (let i = 0; i < 55; i++) await svc.jobs.wait((await svc.scan()).id);
    await svc.close();
    // a UI opened later (a new process): the job list still holds the notice's job, as the newest face embed that searched photos
    svc = CoreService.open(file);
    try {
      const jobs = await svc.listJobs();
      expect(jobs.slice(0, 50).some((j) => j.id === first.id)).toBe(false);
      const faceEmbeds = jobs.filter((j) => j.kind === 'embed' && j.state === 'done' && (j.result as EmbedReport | null)?.kind === 'face' && (j.result as EmbedReport).processed > 0);
      expect(faceEmbeds.map((j) => j.id)).toEqual([first.id]);
      expect(flaggedOf(faceEmbeds[0].result)).toEqual([join(root, 'copies')]);
      expect(jobs.length).toBe(51);
    } finally { await svc.close(); }
  }, 300_000);
});
