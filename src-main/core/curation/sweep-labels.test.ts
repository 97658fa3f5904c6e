/**
 * A sweep given known labels is ranked by them: every point scored by the AMI against the labels (its ARI beside it),
 * the best being the one that agrees most. On c3 (50 known clusters) the silhouette-free AMI pick lands on k = 50,
 * not on the k = 2 a silhouette of two big blobs would favour; through the service the labels come from the folders,
 * a labels source naming one class is refused at once, and the job says which labels it was scored against.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adjustedMutualInfo, adjustedRandIndex } from '../../algo/metrics.ts';
import { kmeans } from '../../algo/cluster/kmeans.ts';
import { labelAgreement } from '../../algo/cluster/sweep.ts';
import { loadC3 } from '../../testing/map-data.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir } from '../../testing/fixtures.ts';
import { sweepTask } from './tasks.ts';

const t = tempDir();
afterAll(() => t.cleanup());
const ctx = { isCancelled: () => false, progress: () => {} };

describe('sweeps ranked by known labels', () => {
  it('c3 (1,000 rows, 50 clusters): each point is its AMI against the labels with the ARI beside it; best = highest AMI', async () => {
    const c3 = loadC3();
    const n = 1000, d = c3.d;
    const X = c3.X.slice(0, n * d), y = c3.y.slice(0, n);
    const values = [2, 10, 50, 90];
    const r = (await sweepTask({ X, n, d, kind: 'silhouette', values, labelsTrue: y }, ctx)).result;
    expect(r.scoreName).toBe('ami');
    expect(r.points.map((p) => p.value)).toEqual(values);
    for (const p of r.points) expect(typeof p.ari).toBe('number');
    const top = r.points.reduce((a, b) => (b.score > a.score ? b : a));
    expect(r.best!.value).toBe(top.value);
    expect(r.best!.value).toBe(50);
    // the score is the AMI of that k-means against the labels, noise-free here
    const labels = (await kmeans(X, n, d, 50, { seed: 0 })).labels;
    expect(r.best!.score).toBeCloseTo(adjustedMutualInfo(y, labels), 10);
    expect(r.best!.ari!).toBeCloseTo(adjustedRandIndex(y, labels), 10);
    // an elbow sweep with labels is ranked the same way (no knee: the labels answer)
    const e = (await sweepTask({ X, n, d, kind: 'elbow', values: [2, 50], labelsTrue: y }, ctx)).result;
    expect(e.scoreName).toBe('ami');
    expect(e.best!.value).toBe(50);
  }, 300_000);

  it('items without a label are left out; fewer than 2 classes is refused naming the labels', () => {
    const y = Int32Array.from([0, 0, 1, 1, -1, -1]);
    const agree = labelAgreement(y);
    // the unknown two may be anywhere: the known four decide
    expect(agree(Int32Array.from([0, 0, 1, 1, 0, 1])).ami).toBeCloseTo(1, 10);
    expect(agree(Int32Array.from([0, 0, 1, 1, 5, 5])).ari).toBeCloseTo(1, 10);
    // noise earns no "same group" credit
    expect(agree(Int32Array.from([-1, -1, -1, -1, 0, 0])).ami).toBeLessThan(0.5);
    expect(() => labelAgreement(Int32Array.from([0, 0, -1]))).toThrow(/labels.*1 class/);
  });

  it('service: sweep {labels: folders} scores AMI against the folders and says so; a one-class labels file is refused at once', async () => {
    const photos = join(t.dir, 'photos');
    for (const p of readdirSync(sharedPath('data/faces-london')).sort().slice(0, 4)) cpSync(sharedPath('data/faces-london', p), join(photos, p), { recursive: true });
    const svc = CoreService.open(join(t.dir, 'l.constellate'));
    try {
      await svc.addRoots({ paths: [photos] });
      await svc.waitJob({ id: (await svc.scan()).id });
      await svc.waitJob({ id: (await svc.embed({ model: 'photo', workers: 1 })).id });
      const job = await svc.sweep({ model: 'photo', kind: 'silhouette', values: [2, 3, 4, 5], labels: 'folders' });
      expect(job.params.options.labels).toBe('folders');
      const done = await svc.waitJob({ id: job.id });
      expect(done.state).toBe('done');
      const r = done.result as { scoreName: string; labels: { source: string; known: number; classes: number }; best: { value: number; score: number } };
      expect(r.scoreName).toBe('ami');
      expect(r.labels).toEqual({ source: 'folders', known: 8, classes: 4 });
      // one class only: refused before any job, the labels named
      const one = join(t.dir, 'one.csv');
      writeFileSync(one, `path,label\n${join(photos, readdirSync(photos).sort()[0], 'neutral.jpg')},a\n${join(photos, readdirSync(photos).sort()[1], 'neutral.jpg')},a\n`);
      await expect(svc.sweep({ model: 'photo', kind: 'silhouette', values: [2, 3], labels: one })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/one\.csv names 1 class/) });
      await expect(svc.sweep({ model: 'photo', kind: 'silhouette', values: [2, 3], labels: 'imported' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally { await svc.close(); }
  }, 300_000);
});
