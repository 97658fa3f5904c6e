import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createOrtGemm } from '../../core/gemm-ort.ts';
import { readNpyLabels, readNpyMatrix } from '../../core/npy-file.ts';
import type { Gemm } from '../linalg.ts';
import { normalizeRows } from '../linalg.ts';
import { adjustedRandIndex } from '../../testing/cluster.ts';
import { SHARED } from '../../testing/fixtures.ts';
import { approxKnnGraph } from '../knn-graph.ts';
import { knnExact } from '../knn.ts';
import { dbscan } from './dbscan.ts';
import { dbscanOnGraph } from './dbscan-graph.ts';
import { runClustering } from './run.ts';

let gemm: Gemm & { release(): Promise<void> };
beforeAll(async () => { gemm = await createOrtGemm(1); });
afterAll(async () => { await gemm?.release(); });

const X = readNpyMatrix(`${SHARED}/data/matrices/c3_5000x128_X.npy`);
const y = readNpyLabels(`${SHARED}/data/matrices/c3_5000x128_y.npy`);
// the peers' eps on c3 (scikit-learn DBSCAN, min_samples 5)
const peers = readFileSync(`${SHARED}/reference/peers/peers-runs.jsonl`, 'utf8').split('\n').filter((l) => l.trim())
  .map((l) => JSON.parse(l)).filter((r) => r.tag === 'c3_5000x128' && r.method === 'dbscan');
const eps: number = peers[0].extra.eps;

describe('DBSCAN reading the kNN graph', () => {
  it('equals the exact all-pairs DBSCAN on an exact graph with room for every neighbourhood', async () => {
    const U = normalizeRows(X.data, X.rows, X.cols);
    const exact = await dbscan(X.data, X.rows, X.cols, eps, 5, { gemm });
    const maxNb = Math.max(...Array.from(exact.neighbourCounts));
    const g = await knnExact(U, X.rows, X.cols, maxNb + 1, { metric: 'euclidean', gemm });
    const r = dbscanOnGraph(g, eps, 5, true);
    expect(Array.from(r.coreMask)).toEqual(Array.from(exact.coreMask));
    expect(Array.from(r.labels)).toEqual(Array.from(exact.labels));
  });

  it('on the approximate graph (16 neighbours) agrees with the exact path, and run records the path', async () => {
    const exact = await runClustering({ X: X.data, n: X.rows, d: X.cols, labelsTrue: y }, { algo: 'dbscan', eps, minSamples: 5 }, { gemm });
    const approx = await runClustering({ X: X.data, n: X.rows, d: X.cols, labelsTrue: y }, { algo: 'dbscan', eps, minSamples: 5, exact: false }, { gemm });
    expect(exact.record.path).toBe('exact');
    expect(approx.record.path).toBe('graph');
    expect((approx.record.graph as { recall: number }).recall).toBeGreaterThan(0.9);
    expect(adjustedRandIndex(exact.rawLabels, approx.rawLabels)).toBeGreaterThan(0.9);
  });

  it('refuses eps, min_samples and a graph too small for min_samples by name', async () => {
    const g = await approxKnnGraph(X.data, 500, X.cols, 4, { gemm });
    expect(() => dbscanOnGraph(g, 0, 5, true)).toThrow(/eps/);
    expect(() => dbscanOnGraph(g, 0.3, 0, true)).toThrow(/minSamples/);
    expect(() => dbscanOnGraph(g, 0.3, 7, true)).toThrow(/minSamples/);
  });
});
