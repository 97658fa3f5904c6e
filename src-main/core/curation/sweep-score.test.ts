/**
 * The DBSCAN sweep is ranked by DBCV (issue 18), on real face embeddings: faces-london's 60 faces (30 people x 2),
 * embedded with the real face models. DBCV's pick reaches the labels (AMI 1) where the silhouette's pick, under the
 * same guards, leaves a third of the faces as noise (bench/sweep-score.mts, BENCHMARKS.md).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { adjustedMutualInfo } from '../../algo/metrics.ts';
import { dbscan } from '../../algo/cluster/dbscan.ts';
import { labelsFromFolders } from '../cluster/labels.ts';
import { loadMatrix } from '../store/embeddings.ts';
import { CoreService } from '../service.ts';
import { sharedPath, tempDir } from '../../testing/fixtures.ts';
import { sweepTask } from './tasks.ts';

const t = tempDir();
afterAll(() => t.cleanup());

describe('sweep score for density methods', () => {
  it('faces-london: the DBCV-ranked DBSCAN sweep recommends a setting with AMI 1, names its score, shows a runner-up', async () => {
    const svc = CoreService.open(join(t.dir, 'london.constellate'));
    await svc.addRoots({ paths: [sharedPath('data/faces-london')] });
    await svc.waitJob({ id: (await svc.scan()).id });
    await svc.waitJob({ id: (await svc.embed({ model: 'face', workers: 2 })).id });
    const m = loadMatrix(svc.lib.db, 'face');
    const y = labelsFromFolders(svc.lib.db, 'face', m.ids).labels;
    await svc.close();
    expect(m.n).toBe(60);
    const values = [0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6];
    const ctx = { isCancelled: () => false, progress: () => {} };
    const byDbcv = (await sweepTask({ X: m.X, n: m.n, d: m.d, kind: 'dbscan', values, minSamples: 2, space: 'umap' }, ctx)).result;
    const bySil = (await sweepTask({ X: m.X, n: m.n, d: m.d, kind: 'dbscan', values, minSamples: 2, space: 'umap', score: 'silhouette' }, ctx)).result;
    expect(byDbcv.scoreName).toBe('dbcv');
    expect(bySil.scoreName).toBe('silhouette');
    expect(byDbcv.runnerUp).not.toBeNull();
    const ami = async (eps: number) => adjustedMutualInfo(y, (await dbscan(m.X, m.n, m.d, eps, 2, { metric: 'cosine' })).labels);
    const aDbcv = await ami(byDbcv.best!.value), aSil = await ami(bySil.best!.value);
    console.log(`[sweep score] london DBSCAN min 2: DBCV picks eps ${byDbcv.best!.value} (AMI ${aDbcv.toFixed(3)}), silhouette eps ${bySil.best!.value} (AMI ${aSil.toFixed(3)})`);
    expect(aDbcv).toBeGreaterThanOrEqual(0.98);
    expect(aDbcv).toBeGreaterThanOrEqual(aSil);
    // the guards still hold: nothing rejected is chosen
    expect(byDbcv.best!.rejected).toBeUndefined();
  }, 600_000);
});
