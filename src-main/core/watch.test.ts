/** Watched folders with real photos and the real face models: a photo dropped into a library folder is scanned, embedded and assigned. */
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppEvent } from '../common/jobs.ts';
import { CoreService } from './service.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';

const t = tempDir();
afterAll(() => t.cleanup());

describe('watched folders', () => {
  it('a new photo in a watched folder joins its person\'s group, with a summary event; nothing happens while watch is off', async () => {
    const root = join(t.dir, 'photos');
    for (const p of ['person-001', 'person-002', 'person-003']) cpSync(sharedPath('data/faces-london', p), join(root, p), { recursive: true });
    const svc = CoreService.open(join(t.dir, 'w.constellate'));
    const wait = async (j: { id: number }) => { const r = await svc.waitJob({ id: j.id }); expect(r.state).toBe('done'); return r; };
    await svc.addRoots({ paths: [root] });
    await wait(await svc.scan());
    await wait(await svc.embed({ model: 'face', workers: 1 }));
    const run = await wait(await svc.cluster({ model: 'face', params: { preset: 'people' } }));
    const runId = (run.result as { runId: number }).runId;
    await svc.importLabels({ source: root });
    const events: AppEvent[] = [];
    svc.onEvent((e) => { if (e.type === 'watch') events.push(e); });
    const watcher = svc.watchFolders(300);
    expect(watcher.watching()).toEqual([]); // the setting is off
    await svc.setSettings({ watch: true, watchModels: ['face'] });
    expect(watcher.watching().length).toBe(1);
    mkdirSync(join(root, 'person-002', 'new'), { recursive: true });
    await sharp(sharedPath('data/faces-london', 'person-002', 'smiling.jpg')).flop().jpeg({ quality: 90 }).toFile(join(root, 'person-002', 'new', 'mirrored.jpg'));
    const deadline = Date.now() + 120_000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(events.length).toBeGreaterThan(0);
    const s = (events[0] as Extract<AppEvent, { type: 'watch' }>).summary;
    expect(s.scan?.added).toBe(1);
    expect(s.embedded.face).toBe(1);
    expect(s.assigned[0]).toMatchObject({ runId, assigned: 1, groups: 1 });
    expect(s.assigned[0].joined[0].name).toBe('person-002');
    await svc.setSettings({ watch: false });
    expect(watcher.watching()).toEqual([]);
    await svc.close();
  }, 300_000);
});
