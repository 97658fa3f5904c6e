import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrtGemm } from '../core/gemm-ort.ts';
import type { Gemm } from './linalg.ts';
import { knnExact } from './knn.ts';
import { approxKnnGraph, graphRecall } from './knn-graph.ts';
import { readNpyMatrix } from '../core/npy-file.ts';
import { SHARED } from '../testing/fixtures.ts';

let gemm: Gemm & { release(): Promise<void> };
beforeAll(async () => { gemm = await createOrtGemm(1); });
afterAll(async () => { await gemm?.release(); });

// c1: 18,969 x 512 face-like rows (237 clusters); the first 6,000 keep the test short
const M = readNpyMatrix(`${SHARED}/data/matrices/c1_18969x512_X.npy`);
const n = 6000, d = M.cols;
const X = M.data.subarray(0, n * d);

describe('approxKnnGraph (candidate search in k-means cells)', () => {
  it('finds most exact neighbours, sorted nearest first, never itself', async () => {
    const g = await approxKnnGraph(X, n, d, 10, { gemm, cellSize: 256, probes: 2, seed: 3 });
    expect(g.stats.cells).toBe(Math.round(n / 256));
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < 10; t++) {
        expect(g.indices[i * 10 + t]).not.toBe(i);
        if (t > 0) expect(g.distances[i * 10 + t]).toBeGreaterThanOrEqual(g.distances[i * 10 + t - 1]);
      }
    }
    const r = await graphRecall(X, n, d, g, { gemm, sample: 300 });
    expect(r.sample).toBe(300);
    expect(r.recall).toBeGreaterThan(0.9);
    // fewer probes, smaller cells: lower recall, measured the same way (the measure can tell them apart)
    const weak = await approxKnnGraph(X, n, d, 10, { gemm, cellSize: 32, probes: 1, seed: 3 });
    const rw = await graphRecall(X, n, d, weak, { gemm, sample: 300 });
    expect(rw.recall).toBeLessThan(r.recall);
  });

  it('two-level cells (coarse then fine) keep the recall', async () => {
    const g = await approxKnnGraph(X, n, d, 10, { gemm, cellSize: 64, probes: 2, seed: 3, twoLevelAbove: 20 });
    expect(g.stats.cells).toBeGreaterThan(60);
    const r = await graphRecall(X, n, d, g, { gemm, sample: 300 });
    expect(r.recall).toBeGreaterThan(0.8);
    for (let i = 0; i < n; i++) {
      const row = Array.from(g.indices.subarray(i * 10, i * 10 + 10));
      expect(new Set(row).size).toBe(10);
    }
  });

  it('recall of the exact graph is 1, and its distances agree', async () => {
    const m = 1500;
    const ex = await knnExact(X, m, d, 8, { metric: 'euclidean', gemm });
    const r = await graphRecall(X, m, d, { k: 8, indices: ex.indices }, { gemm, sample: 200 });
    expect(r.recall).toBe(1);
    // one cell holding everything = exact search
    const g = await approxKnnGraph(X, m, d, 8, { gemm, cellSize: m * 2 });
    expect(g.stats.cells).toBe(1);
    for (let i = 0; i < m * 8; i++) expect(g.distances[i]).toBeCloseTo(ex.distances[i], 3);
  });

  it('refuses bad parameters by name', async () => {
    await expect(approxKnnGraph(X, n, d, 0)).rejects.toThrow(/k/);
    await expect(approxKnnGraph(X, 10, d, 10)).rejects.toThrow(/k/);
    await expect(approxKnnGraph(X, n, d, 5, { cellSize: 1 })).rejects.toThrow(/cellSize/);
    await expect(approxKnnGraph(X.subarray(0, 100), n, d, 5)).rejects.toThrow(/X/);
  });

  it('can be cancelled', async () => {
    let calls = 0;
    await expect(approxKnnGraph(X, n, d, 5, { gemm, isCancelled: () => ++calls > 3 })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
