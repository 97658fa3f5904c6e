import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrtGemm } from '../../core/gemm-ort.ts';
import { readNpyLabels, readNpyMatrix } from '../../core/npy-file.ts';
import type { Gemm } from '../linalg.ts';
import { createRng } from '../rng.ts';
import { adjustedRandIndex } from '../../testing/cluster.ts';
import { SHARED } from '../../testing/fixtures.ts';
import { hdbscan } from './hdbscan.ts';
import { graphMutualReachabilityMst } from './mst-graph.ts';
import { approxKnnGraph } from '../knn-graph.ts';
import { densityPath, GRAPH_MIN_ROWS, runClustering } from './run.ts';

let gemm: Gemm & { release(): Promise<void> };
beforeAll(async () => { gemm = await createOrtGemm(1); });
afterAll(async () => { await gemm?.release(); });

const MAT = `${SHARED}/data/matrices`;

describe('HDBSCAN on the approximate kNN graph', () => {
  it('agrees with the exact path on c3 (5,000 x 128, 50 clusters) and records what ran', async () => {
    const M = readNpyMatrix(`${MAT}/c3_5000x128_X.npy`);
    const y = readNpyLabels(`${MAT}/c3_5000x128_y.npy`);
    const o = { minClusterSize: 6, minSamples: 6, metric: 'euclidean' as const, normalize: true, gemm, returnTree: false };
    const exact = await hdbscan(M.data, M.rows, M.cols, o);
    const approx = await hdbscan(M.data, M.rows, M.cols, { ...o, graph: { cellSize: 256, probes: 2 } });
    expect(exact.stats.path).toBe('exact');
    expect(approx.stats.path).toBe('graph');
    const g = approx.stats.graph!;
    expect(g.recall).toBeGreaterThan(0.9);
    expect(g.recallSample).toBe(200);
    expect(adjustedRandIndex(exact.labels, approx.labels)).toBeGreaterThan(0.9);
    expect(adjustedRandIndex(y, approx.labels)).toBeGreaterThan(adjustedRandIndex(y, exact.labels) - 0.05);
  });

  it('joins well-separated groups (a disconnected graph) into one spanning tree with exact edges', async () => {
    // three far-apart blobs: the 5-NN graph has (at least) three components
    const d = 16, per = 300, n = 3 * per, rng = createRng(5);
    const X = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let p = 0; p < d; p++) X[i * d + p] = (p === 0 ? Math.floor(i / per) * 100 : 0) + rng.normal();
    const g = await approxKnnGraph(X, n, d, 5, { gemm, cellSize: 64, probes: 2 });
    const mst = await graphMutualReachabilityMst(X, n, d, 5, g, { gemm });
    expect(mst.stats.graphComponents).toBeGreaterThanOrEqual(3);
    expect(mst.from.length).toBe(n - 1);
    // a spanning tree: n - 1 edges joining everything
    const parent = Int32Array.from({ length: n }, (_, i) => i);
    const find = (x: number): number => { while (parent[x] !== x) x = parent[x] = parent[parent[x]]; return x; };
    for (let e = 0; e < n - 1; e++) { const a = find(mst.from[e]), b = find(mst.to[e]); expect(a).not.toBe(b); parent[a] = b; }
    // the joining edges are the real distances between the blobs (about 100 apart), weighted as mutual reachability
    const heavy = Array.from(mst.weight).filter((w) => w > 50);
    expect(heavy.length).toBe(2);
    for (const w of heavy) expect(w).toBeLessThan(100);
    const r = await hdbscan(X, n, d, { minClusterSize: 20, gemm, graph: { k: 5, cellSize: 64 } });
    expect(r.nClusters).toBe(3);
    const truth = Int32Array.from({ length: n }, (_, i) => Math.floor(i / per));
    expect(adjustedRandIndex(truth, r.labels)).toBeGreaterThan(0.95);
  });

  it('chooses the path by size unless exact says otherwise', () => {
    expect(densityPath({}, GRAPH_MIN_ROWS - 1)).toBe('exact');
    expect(densityPath({}, GRAPH_MIN_ROWS)).toBe('graph');
    expect(densityPath({ exact: true }, 10 * GRAPH_MIN_ROWS)).toBe('exact');
    expect(densityPath({ exact: false }, 100)).toBe('graph');
  });

  it('runClustering records the path and the recall of the graph', async () => {
    const M = readNpyMatrix(`${MAT}/c3_5000x128_X.npy`);
    const out = await runClustering({ X: M.data, n: M.rows, d: M.cols }, { algo: 'hdbscan', minClusterSize: 6, minSamples: 6, exact: false }, { gemm });
    expect(out.record.path).toBe('graph');
    expect((out.record.graph as { recall: number }).recall).toBeGreaterThan(0.9);
    const ex = await runClustering({ X: M.data, n: M.rows, d: M.cols }, { algo: 'hdbscan', minClusterSize: 6, minSamples: 6 }, { gemm });
    expect(ex.record.path).toBe('exact');
    expect(ex.record.graph).toBeUndefined();
  });

  it('refuses min_samples beyond the graph and can be cancelled', async () => {
    const M = readNpyMatrix(`${MAT}/c3_5000x128_X.npy`);
    const g = await approxKnnGraph(M.data, M.rows, M.cols, 4, { gemm });
    await expect(graphMutualReachabilityMst(M.data, M.rows, M.cols, 5, g, { gemm })).rejects.toThrow(/minSamples/);
    let calls = 0;
    await expect(hdbscan(M.data, M.rows, M.cols, { gemm, graph: {}, isCancelled: () => ++calls > 5 })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
