import { describe, expect, it } from 'vitest';
import type { KnnResult } from '../../algo/knn.ts';
import { normalizeRowsInPlace } from '../../algo/linalg.ts';
import { createRng } from '../../algo/rng.ts';
import { runTask, sharedFloat32 } from './pool.ts';

describe('worker pool', () => {
  it('runs kNN in a worker on a shared matrix and reports progress', async () => {
    const n = 2000, d = 32;
    const X = sharedFloat32(n * d);
    const rng = createRng(5);
    for (let i = 0; i < X.length; i++) X[i] = rng.normal();
    normalizeRowsInPlace(X, n, d);
    let progressed = 0;
    const r = await runTask<KnnResult>('knn', { X, n, d, k: 5, metric: 'cosine' }, { onProgress: () => progressed++ });
    expect(r.indices.length).toBe(n * 5);
    expect(progressed).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) expect(r.indices[i * 5]).not.toBe(i);
  });

  it('cancels a running task', async () => {
    const n = 20000, d = 64;
    const X = sharedFloat32(n * d);
    for (let i = 0; i < X.length; i++) X[i] = Math.sin(i);
    const c = new AbortController();
    const p = runTask('knn', { X, n, d, k: 5, metric: 'cosine' }, { signal: c.signal, onProgress: () => c.abort() });
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('reports errors with their code', async () => {
    const X = sharedFloat32(10);
    await expect(runTask('knn', { X, n: 5, d: 2, k: 9, metric: 'cosine' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });
});
