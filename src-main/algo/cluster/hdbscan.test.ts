import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync, writeFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readNpyLabels, readNpyMatrix, writeNpy } from '../../core/npy-file.ts';
import { createOrtGemm } from '../../core/gemm-ort.ts';
import { AppError } from '../../common/errors.ts';
import type { Gemm } from '../linalg.ts';
import { dot, normalizeRows, sqDist } from '../linalg.ts';
import { createRng } from '../rng.ts';
import { hdbscan } from './hdbscan.ts';
import { mutualReachabilityMst } from './mst.ts';
import { numpyArgsort } from './hdbscan-prim.ts';
import { adjustedRandIndex } from '../../testing/cluster.ts';
import { SHARED } from '../../testing/fixtures.ts';

const REF = path.join(SHARED, 'reference/hdbscan');
const MAT = path.join(SHARED, 'data/matrices');

let gemm: Gemm & { release(): Promise<void> };
beforeAll(async () => { gemm = await createOrtGemm(1); });
afterAll(async () => { await gemm?.release(); });

function blobs(n: number, d: number, centers: number, spread: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const C = new Float32Array(centers * d);
  for (let i = 0; i < C.length; i++) C[i] = rng.normal() * 4;
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = i % centers;
    for (let j = 0; j < d; j++) X[i * d + j] = C[c * d + j] + rng.normal() * spread * (1 + (c % 3));
  }
  return X;
}

/** Reference run: parameters from its JSON, its labels, probabilities and outlier scores. */
function loadRef(tag: string) {
  const meta = JSON.parse(readFileSync(path.join(REF, `${tag}.json`), 'utf8'));
  return {
    meta,
    labels: readNpyLabels(path.join(REF, `${tag}_labels.npy`)),
    prob: readNpyMatrix(path.join(REF, `${tag}_probabilities.npy`)).data,
    outlier: readNpyMatrix(path.join(REF, `${tag}_outlier_scores.npy`)).data,
  };
}

async function compareWithReference(tag: string, matrixFile: string, normalize: boolean) {
  const ref = loadRef(tag);
  const M = readNpyMatrix(path.join(MAT, matrixFile));
  const P = ref.meta.params;
  expect(P.metric).toBe('euclidean');
  const r = await hdbscan(M.data, M.rows, M.cols, {
    minClusterSize: P.min_cluster_size,
    minSamples: P.min_samples ?? undefined,
    clusterSelectionMethod: P.cluster_selection_method ?? 'eom',
    clusterSelectionEpsilon: P.cluster_selection_epsilon ?? 0,
    metric: 'euclidean', normalize, gemm,
  });
  const ari = adjustedRandIndex(r.labels, ref.labels);
  let noiseDiff = 0, maxP = 0, sumP = 0, maxO = 0, sumO = 0;
  for (let i = 0; i < M.rows; i++) {
    if ((r.labels[i] < 0) !== (ref.labels[i] < 0)) noiseDiff++;
    const dp = Math.abs(r.probabilities[i] - ref.prob[i]); maxP = Math.max(maxP, dp); sumP += dp;
    const dq = Math.abs(r.outlierScores[i] - ref.outlier[i]); maxO = Math.max(maxO, dq); sumO += dq;
  }
  const report = { tag, ari, clusters: `${r.nClusters}/${ref.meta.n_clusters}`, noiseDiff, maxP, meanP: sumP / M.rows, maxO, meanO: sumO / M.rows };
  console.log(JSON.stringify(report));
  expect(ari).toBeGreaterThanOrEqual(0.98);
  expect(r.nClusters).toBe(ref.meta.n_clusters);
  expect(noiseDiff / M.rows).toBeLessThan(0.005);
  expect(sumP / M.rows).toBeLessThan(1e-3);
  expect(sumO / M.rows).toBeLessThan(1e-3);
  return r;
}

describe('hdbscan vs the reference Python hdbscan', () => {
  for (const set of ['a', 'b', 'c', 'd']) {
    it(`c3_5000x128 set ${set}`, async () => {
      const r = await compareWithReference(`c3_5000x128_${set}`, 'c3_5000x128_X.npy', false);
      checkInvariants(r, 5000, set === 'b' ? 15 : 6);
    });
  }
  it('fashion_t10k_l2 set d (L2-normalized rows, min_samples 3, epsilon 0.3)', async () => {
    await compareWithReference('fashion_t10k_l2_d', 'fashion_t10k_784_X.npy', true);
  });
});

function checkInvariants(r: Awaited<ReturnType<typeof hdbscan>>, n: number, mcs: number) {
  const sizes = new Int32Array(r.nClusters);
  for (let i = 0; i < n; i++) {
    const l = r.labels[i];
    expect(l).toBeGreaterThanOrEqual(-1);
    expect(l).toBeLessThan(r.nClusters);
    if (l >= 0) sizes[l]++;
    const p = r.probabilities[i];
    expect(p >= 0 && p <= 1).toBe(true);
    if (l < 0) expect(p).toBe(0);
    const o = r.outlierScores[i];
    expect(o >= 0 && o <= 1).toBe(true);
  }
  for (const s of sizes) expect(s).toBeGreaterThanOrEqual(mcs);
  // every cluster has at least one full-strength member
  const maxP = new Float32Array(r.nClusters);
  for (let i = 0; i < n; i++) if (r.labels[i] >= 0) maxP[r.labels[i]] = Math.max(maxP[r.labels[i]], r.probabilities[i]);
  for (const m of maxP) expect(m).toBe(1);
  // condensed tree: every point is a child exactly once, parents precede children
  const t = r.condensedTree!;
  const seen = new Uint8Array(n);
  for (let i = 0; i < t.child.length; i++) {
    expect(t.parent[i]).toBeLessThan(t.child[i] >= n ? t.child[i] : Infinity);
    if (t.child[i] < n) { expect(seen[t.child[i]]).toBe(0); seen[t.child[i]] = 1; }
  }
  expect(seen.every((v) => v === 1)).toBe(true);
}

describe('mutual-reachability MST', () => {
  function bruteForce(X: Float32Array, n: number, d: number, ms: number) {
    const D = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) D[i * n + j] = Math.sqrt(sqDist(X, i * d, X, j * d, d));
    const core = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const row = Array.from(D.subarray(i * n, i * n + n)).filter((_, j) => j !== i).sort((a, b) => a - b);
      core[i] = row[ms - 1];
    }
    // dense Prim
    const inT = new Uint8Array(n), key = new Float64Array(n).fill(Infinity);
    let total = 0, cur = 0;
    for (let s = 1; s < n; s++) {
      inT[cur] = 1;
      let best = -1;
      for (let j = 0; j < n; j++) {
        if (inT[j]) continue;
        const w = Math.max(core[cur], core[j], D[cur * n + j]);
        if (w < key[j]) key[j] = w;
        if (best < 0 || key[j] < key[best]) best = j;
      }
      total += key[best];
      cur = best;
    }
    return { core, total };
  }

  for (const [label, opts] of [
    ['table path', { candidates: 3 }],
    ['Boruvka full passes', { candidates: 2, maxTableComponents: 2, tileSize: 32 }],
    ['default', {}],
  ] as const) {
    it(`has the brute-force weight and core distances (${label})`, async () => {
      const n = 260, d = 9, ms = 4;
      const X = blobs(n, d, 7, 0.6, 11);
      const ref = bruteForce(X, n, d, ms);
      const r = await mutualReachabilityMst(X, n, d, ms, opts);
      for (let i = 0; i < n; i++) expect(r.core[i]).toBeCloseTo(ref.core[i], 4);
      const total = r.weight.reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(ref.total, 3);
      // spanning: union-find over the edges reaches one component
      const parent = Int32Array.from({ length: n }, (_, i) => i);
      const find = (x: number): number => { while (parent[x] !== x) x = parent[x] = parent[parent[x]]; return x; };
      for (let e = 0; e < n - 1; e++) parent[find(r.from[e])] = find(r.to[e]);
      const roots = new Set(Array.from({ length: n }, (_, i) => find(i)));
      expect(roots.size).toBe(1);
      if (label !== 'default') expect(r.stats.fullPasses).toBeGreaterThan(0);
    });
  }
});

describe('hdbscan options', () => {
  it('cosine metric uses 1 - cos core distances and the same partition as euclidean on unit rows under leaf selection', async () => {
    const n = 400, d = 16;
    const X = blobs(n, d, 5, 0.8, 3);
    const rc = await hdbscan(X, n, d, { minClusterSize: 8, metric: 'cosine', clusterSelectionMethod: 'leaf' });
    const re = await hdbscan(X, n, d, { minClusterSize: 8, normalize: true, clusterSelectionMethod: 'leaf' });
    const U = normalizeRows(X, n, d);
    // brute-force 8th cosine neighbour of point 0
    const dists = [];
    for (let j = 1; j < n; j++) dists.push(1 - dot(U, 0, U, j * d, d));
    dists.sort((a, b) => a - b);
    expect(rc.coreDistances[0]).toBeCloseTo(dists[7], 4);
    // leaf clusters depend only on the tree shape, which a monotone change of distance keeps
    expect(adjustedRandIndex(rc.labels, re.labels)).toBe(1);
  });

  it('attachNoise joins noise points to the most similar centroid above the threshold', async () => {
    const n = 600, d = 12;
    const X = blobs(n, d, 4, 1.2, 5);
    const base = await hdbscan(X, n, d, { minClusterSize: 10, normalize: true });
    const noise = base.labels.filter((l) => l < 0).length;
    expect(noise).toBeGreaterThan(0);
    const r = await hdbscan(X, n, d, { minClusterSize: 10, normalize: true, attachNoise: { threshold: 0.5 } });
    const U = normalizeRows(X, n, d);
    // centroids of the clustered points before attachment
    const cent = new Float64Array(base.nClusters * d);
    for (let i = 0; i < n; i++) if (base.labels[i] >= 0) for (let j = 0; j < d; j++) cent[base.labels[i] * d + j] += U[i * d + j];
    const att = new Set(r.attached!);
    expect(att.size).toBeGreaterThan(0);
    for (let i = 0; i < n; i++) {
      if (base.labels[i] >= 0) { expect(r.labels[i]).toBe(base.labels[i]); continue; }
      const sims = [] as number[];
      for (let c = 0; c < base.nClusters; c++) {
        let s = 0, nn = 0;
        for (let j = 0; j < d; j++) { s += U[i * d + j] * cent[c * d + j]; nn += cent[c * d + j] ** 2; }
        sims.push(s / Math.sqrt(nn));
      }
      const best = sims.indexOf(Math.max(...sims));
      if (sims[best] > 0.5) { expect(att.has(i)).toBe(true); expect(r.labels[i]).toBe(best); }
      else { expect(att.has(i)).toBe(false); expect(r.labels[i]).toBe(-1); }
    }
    const none = await hdbscan(X, n, d, { minClusterSize: 10, normalize: true, attachNoise: { threshold: 1 } });
    expect(none.attached!.length).toBe(0);
  });

  it('allowSingleCluster keeps one cluster on a single blob', async () => {
    const n = 300, d = 5;
    const X = blobs(n, d, 1, 1, 9);
    const r = await hdbscan(X, n, d, { minClusterSize: 20, allowSingleCluster: true });
    expect(r.nClusters).toBeGreaterThanOrEqual(1);
    const without = await hdbscan(X, n, d, { minClusterSize: 20 });
    expect(without.nClusters).not.toBe(1);
  });

  it('reports progress and honours cancellation', async () => {
    const n = 300, d = 8;
    const X = blobs(n, d, 3, 1, 2);
    let calls = 0;
    await hdbscan(X, n, d, { minClusterSize: 5, onProgress: (done, total) => { calls++; expect(done).toBeLessThanOrEqual(total); } });
    expect(calls).toBeGreaterThan(0);
    await expect(hdbscan(X, n, d, { isCancelled: () => true })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('rejects impossible parameters, naming them', async () => {
    const X = blobs(50, 3, 2, 1, 1);
    const bad = async (o: object, name: string) => {
      const p = hdbscan(X, 50, 3, o);
      await expect(p).rejects.toBeInstanceOf(AppError);
      await expect(p).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
      await expect(p).rejects.toThrow(new RegExp(`^${name.replace('.', '\\.')}: `));
    };
    await bad({ minClusterSize: 1 }, 'minClusterSize');
    await bad({ minClusterSize: 2.5 }, 'minClusterSize');
    await bad({ minSamples: 0 }, 'minSamples');
    await bad({ minSamples: 50 }, 'minSamples');
    await bad({ clusterSelectionEpsilon: -1 }, 'clusterSelectionEpsilon');
    await bad({ clusterSelectionMethod: 'mode' }, 'clusterSelectionMethod');
    await bad({ metric: 'manhattan' }, 'metric');
    await bad({ attachNoise: { threshold: 2 } }, 'attachNoise.threshold');
    const Xn = X.slice(); Xn[7] = NaN;
    await expect(hdbscan(Xn, 50, 3, {})).rejects.toThrow(/^X: /);
  });
});

describe('numpyArgsort', () => {
  const py = '/usr/bin/python3';
  it.skipIf(!existsSync(py))('orders ties exactly as numpy 1.24 argsort does', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'argsort-'));
    const rng = createRng(4);
    const n = 3000;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = rng.int(40) / 8;
    writeNpy(path.join(dir, 'v.npy'), v, [n]);
    const out = execFileSync(py, ['-c', `import numpy as np; v=np.load('${dir}/v.npy').astype(np.float64); print(','.join(map(str, np.argsort(v))))`], { encoding: 'utf8' });
    const expected = out.trim().split(',').map(Number);
    const got = Array.from(numpyArgsort(Float64Array.from(v)));
    expect(got).toEqual(expected);
    writeFileSync(path.join(dir, 'done'), '');
  });
});
