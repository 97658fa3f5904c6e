import { describe, expect, it } from 'vitest';
import type { KnnResult } from '../../algo/knn.ts';
import { normalizeRowsInPlace } from '../../algo/linalg.ts';
import { createRng } from '../../algo/rng.ts';
import { runTask, sharedFloat32, WorkerPool } from './pool.ts';

describe('worker pool', () => {
  it('runs kNN in a worker on a shared matrix and reports progress', async () => {
    const n = 2000, d = 32;
    const X = sharedFloat32(n * d);
    const rng = createRng(5);
    for (let i = 0; i < X.length; i++) X[i] = rng.normal();
    normalizeRowsInPlace(X, n, d);
    let progressed = 0;
    const r = await runTask('knn', { X, n, d, k: 5, metric: 'cosine' }, { onProgress: () => progressed++ });
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

describe('warm worker pool', () => {
  const blob = (n: number, d: number) => {
    const X = sharedFloat32(n * d);
    const rng = createRng(3);
    for (let i = 0; i < X.length; i++) X[i] = rng.normal();
    return X;
  };

  it('runs a burst of tasks on at most maxThreads workers, queueing the rest', async () => {
    const pool = new WorkerPool({ maxThreads: 2 });
    try {
      const n = 300, d = 16, X = blob(n, d);
      const all = await Promise.all(Array.from({ length: 16 }, () => pool.run('knn', { X, n, d, k: 3, metric: 'cosine' })));
      for (const r of all) expect(r.indices.length).toBe(n * 3);
      const s = pool.stats();
      expect(s.created).toBeLessThanOrEqual(2);
      expect(s.peak).toBeLessThanOrEqual(2);
      expect(s.finished).toBe(16);
      expect(s.queued).toBe(0);
    } finally { await pool.close(); }
  });

  it('keeps its workers and their ORT sessions between calls', async () => {
    const pool = new WorkerPool({ maxThreads: 1 });
    try {
      const n = 200, d = 8, X = blob(n, d);
      for (let t = 0; t < 3; t++) await pool.run('knn', { X, n, d, k: 2, metric: 'cosine' });
      const w = await pool.run('warmStats', {});
      expect(pool.stats().created).toBe(1);
      expect(w.tasks).toBe(4);
      expect(w.gemmSessions).toBe(1); // one MatMul session for the three kNN tasks
      expect(w.gemmReused).toBe(2);
    } finally { await pool.close(); }
  });

  it('drops a queued task that is cancelled before it starts, and keeps serving', async () => {
    const pool = new WorkerPool({ maxThreads: 1 });
    try {
      const n = 200, d = 8, X = blob(n, d);
      const first = pool.run('knn', { X, n, d, k: 2, metric: 'cosine' });
      const c = new AbortController();
      const second = pool.run('knn', { X, n, d, k: 2, metric: 'cosine' }, { signal: c.signal });
      c.abort();
      await expect(second).rejects.toMatchObject({ code: 'CANCELLED' });
      expect((await first).indices.length).toBe(n * 2);
      expect((await pool.run('knn', { X, n, d, k: 2, metric: 'cosine' })).indices.length).toBe(n * 2);
      expect(pool.stats().created).toBe(1);
    } finally { await pool.close(); }
  });

  it('keeps a worker whose task failed with an error and runs the next task on it', async () => {
    const pool = new WorkerPool({ maxThreads: 1 });
    try {
      const X = sharedFloat32(10);
      await expect(pool.run('knn', { X, n: 5, d: 2, k: 9, metric: 'cosine' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
      const Y = blob(50, 4);
      expect((await pool.run('knn', { X: Y, n: 50, d: 4, k: 2, metric: 'cosine' })).indices.length).toBe(100);
      expect(pool.stats().created).toBe(1); // an error inside a task does not cost the worker
    } finally { await pool.close(); }
  });
});
