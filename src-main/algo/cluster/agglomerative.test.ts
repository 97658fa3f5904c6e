import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SHARED } from '../../testing/fixtures.ts';
import { readNpyLabels, readNpyMatrix, writeNpy } from '../../core/npy-file.ts';
import { createOrtGemm } from '../../core/gemm-ort.ts';
import type { Gemm } from '../linalg.ts';
import { createRng } from '../rng.ts';
import { adjustedMutualInfo } from '../metrics.ts';
import { agglomerative, condensedDistances, nnChain, cutDendrogram } from './agglomerative.ts';
import { adjustedRandIndex } from '../../testing/cluster.ts';

const MAT = path.resolve(SHARED, 'data/matrices');
const PEERS = path.resolve(SHARED, 'reference/peers/peers-runs.jsonl');
const PY = '/usr/bin/python3';

let gemm: Gemm & { release(): Promise<void> };
beforeAll(async () => { gemm = await createOrtGemm(1); });
afterAll(async () => { await gemm?.release(); });

describe('agglomerative vs scikit-learn AgglomerativeClustering', () => {
  const cases = [['ward', 'euclidean'], ['average', 'cosine'], ['complete', 'cosine']] as const;
  const ks = [4, 12, 40];
  let dir = '';
  let X: Float32Array;
  const n = 360;
  let d = 0;
  beforeAll(() => {
    if (!existsSync(PY)) return; // setup only: the cases that need it are it.skipIf(!existsSync(PY))
    const M = readNpyMatrix(path.join(MAT, 'c3_5000x128_X.npy'));
    d = M.cols;
    // a spread of rows across the file, with a little noise so there are no exact ties
    const rng = createRng(7);
    X = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const src = (i * 13) % M.rows;
      for (let j = 0; j < d; j++) X[i * d + j] = M.data[src * d + j] + rng.normal() * 0.01;
    }
    dir = mkdtempSync(path.join(tmpdir(), 'agglo-'));
    writeNpy(path.join(dir, 'x.npy'), X, [n, d]);
    // one python run: labels for each case and k, and for thresholds between sklearn's own merge distances
    const py = `
import numpy as np, json
from sklearn.cluster import AgglomerativeClustering
X = np.load('${dir}/x.npy')
out = {}
for linkage, metric in ${JSON.stringify(cases)}:
    for k in ${JSON.stringify(ks)}:
        m = AgglomerativeClustering(n_clusters=k, linkage=linkage, metric=metric, compute_distances=True).fit(X)
        out[f'{linkage}_{k}'] = m.labels_.tolist()
        dist = np.sort(m.distances_)
        out[f'{linkage}_dist'] = dist.tolist()
    dist = np.sort(out[f'{linkage}_dist'])
    for q in (0.5, 0.9, 0.97):
        i = int(q * (len(dist) - 1))
        t = float((dist[i] + dist[i + 1]) / 2)
        m = AgglomerativeClustering(n_clusters=None, distance_threshold=t, linkage=linkage, metric=metric).fit(X)
        out[f'{linkage}_t{q}'] = {'t': t, 'labels': m.labels_.tolist(), 'k': int(m.n_clusters_)}
json.dump(out, open('${dir}/out.json', 'w'))
`;
    execFileSync(PY, ['-c', py]);
  });
  const ref = () => JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8'));

  for (const [linkage, metric] of cases) {
    it.skipIf(!existsSync(PY))(`${linkage} (${metric}): labels for several k, merge heights, distance_threshold cuts`, async () => {
      const R = ref();
      for (const k of ks) {
        const r = await agglomerative(X, n, d, { linkage, metric, nClusters: k, gemm });
        expect(r.method).toBe('exact');
        expect(r.nClusters).toBe(k);
        expect(new Set(r.labels).size).toBe(k);
        expect(adjustedRandIndex(r.labels, R[`${linkage}_${k}`])).toBeGreaterThanOrEqual(0.99);
      }
      // merge heights (scipy/sklearn convention)
      const r = await agglomerative(X, n, d, { linkage, metric, nClusters: 1, gemm });
      const mine = Array.from(r.dendrogram.distance).sort((a, b) => a - b);
      const theirs: number[] = R[`${linkage}_dist`];
      let maxRel = 0;
      for (let i = 0; i < mine.length; i++) maxRel = Math.max(maxRel, Math.abs(mine[i] - theirs[i]) / Math.max(1e-6, theirs[i]));
      expect(maxRel).toBeLessThan(1e-3);
      for (const q of [0.5, 0.9, 0.97]) {
        const c = R[`${linkage}_t${q}`];
        const rt = await agglomerative(X, n, d, { linkage, metric, distanceThreshold: c.t, gemm });
        expect(rt.nClusters).toBe(c.k);
        expect(adjustedRandIndex(rt.labels, c.labels)).toBeGreaterThanOrEqual(0.99);
      }
    });
  }
});

describe('ward on weighted leaves and micro-clusters', () => {
  it('weighted leaves equal the same points repeated', async () => {
    const rng = createRng(3);
    const u = 60, d = 6;
    const U = new Float32Array(u * d);
    for (let i = 0; i < U.length; i++) U[i] = rng.normal() + (i % 5);
    const w = new Float64Array(u);
    for (let i = 0; i < u; i++) w[i] = 1 + rng.int(4);
    const total = w.reduce((a, b) => a + b, 0);
    const X = new Float32Array(total * d);
    const owner = new Int32Array(total);
    let r = 0;
    for (let i = 0; i < u; i++) for (let t = 0; t < w[i]; t++, r++) { X.set(U.subarray(i * d, i * d + d), r * d); owner[r] = i; }
    const full = await agglomerative(X, total, d, { nClusters: 7 });
    const D = await condensedDistances(U, u, d, 'sqeuclidean', gemm);
    let idx = 0;
    for (let i = 0; i < u; i++) for (let j = i + 1; j < u; j++, idx++) D[idx] = (2 * w[i] * w[j] / (w[i] + w[j])) * D[idx];
    const dn = nnChain(D, u, 'ward', w);
    const cut = cutDendrogram(dn, 7);
    const expanded = Int32Array.from(owner, (o) => cut.labels[o]);
    expect(adjustedRandIndex(full.labels, expanded)).toBe(1);
    expect(dn.size[u - 2]).toBe(total);
  });

  it('switches to micro-clusters above maxExact and stays close to exact Ward (c3)', async () => {
    const M = readNpyMatrix(path.join(MAT, 'c3_5000x128_X.npy'));
    const y = readNpyLabels(path.join(MAT, 'c3_5000x128_y.npy'));
    const n = 3000, d = M.cols;
    const X = M.data.subarray(0, n * d);
    const exact = await agglomerative(X, n, d, { nClusters: 50, gemm });
    const micro = await agglomerative(X, n, d, { nClusters: 50, gemm, maxExact: 2000, microClusters: 600, seed: 1 });
    const microKm = await agglomerative(X, n, d, { nClusters: 50, gemm, maxExact: 2000, microClusters: 600, seed: 1, microMethod: 'kmeans' });
    expect(exact.method).toBe('exact');
    expect(micro.method).toBe('microclusters');
    expect(micro.microMethod).toBe('knn-ward');
    expect(microKm.microMethod).toBe('kmeans');
    expect(microKm.microClusters).toBeLessThanOrEqual(600);
    const amiKm = adjustedMutualInfo(y.subarray(0, n), microKm.labels);
    expect(amiKm).toBeGreaterThan(0.8);
    expect(micro.microClusters).toBeLessThanOrEqual(600);
    expect(micro.microLabels!.length).toBe(n);
    const ari = adjustedRandIndex(exact.labels, micro.labels);
    const amiE = adjustedMutualInfo(y.subarray(0, n), exact.labels), amiM = adjustedMutualInfo(y.subarray(0, n), micro.labels);
    console.log(JSON.stringify({ ariExactVsMicro: ari, amiExact: amiE, amiMicroKnnWard: amiM, amiMicroKmeans: amiKm }));
    expect(micro.microClusters).toBe(600);
    expect(ari).toBeGreaterThan(0.85);
    expect(amiM).toBeGreaterThan(amiE - 0.02);
  });
});

describe('ward on c3 vs the peer UMAP-50 + Ward', () => {
  it('Ward on the raw c3 matrix reaches the peer AMI within 0.02 (or better)', async () => {
    const M = readNpyMatrix(path.join(MAT, 'c3_5000x128_X.npy'));
    const y = readNpyLabels(path.join(MAT, 'c3_5000x128_y.npy'));
    const peer = readFileSync(PEERS, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .find((r) => r.tag === 'c3_5000x128' && r.method === 'umap50_ward');
    const r = await agglomerative(M.data, M.rows, M.cols, { nClusters: peer.k, gemm });
    const ami = adjustedMutualInfo(y, r.labels);
    console.log(JSON.stringify({ amiWardRaw: ami, peerUmap50Ward: peer.quality.AMI }));
    expect(ami).toBeGreaterThanOrEqual(peer.quality.AMI - 0.02);
  });
});

describe('agglomerative parameters', () => {
  const X = new Float32Array(40 * 3).map((_, i) => Math.sin(i * 1.7));
  const bad = async (o: object, name: string) => {
    const p = agglomerative(X, 40, 3, o as never);
    await expect(p).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(p).rejects.toThrow(new RegExp(`^${name}: `));
  };
  it('rejects impossible parameters, naming them', async () => {
    await bad({}, 'nClusters');
    await bad({ nClusters: 2, distanceThreshold: 1 }, 'nClusters');
    await bad({ nClusters: 0 }, 'nClusters');
    await bad({ nClusters: 41 }, 'nClusters');
    await bad({ distanceThreshold: -1 }, 'distanceThreshold');
    await bad({ nClusters: 2, linkage: 'single' }, 'linkage');
    await bad({ nClusters: 2, linkage: 'ward', metric: 'cosine' }, 'metric');
    await bad({ nClusters: 2, maxExact: 1 }, 'maxExact');
    await bad({ nClusters: 2, maxExact: 10, linkage: 'average' }, 'linkage');
    await bad({ nClusters: 20, maxExact: 10, microClusters: 10 }, 'nClusters');
    await bad({ nClusters: 2, maxExact: 10, microMethod: 'grid' }, 'microMethod');
  });
  it('cancels', async () => {
    await expect(agglomerative(X, 40, 3, { nClusters: 2, isCancelled: () => true })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
  it('handles tiny inputs with default options', async () => {
    const one = await agglomerative(new Float32Array(3), 1, 3, { nClusters: 1 });
    expect(Array.from(one.labels)).toEqual([0]);
    const five = await agglomerative(X.subarray(0, 15), 5, 3, { nClusters: 2, linkage: 'average' });
    expect(new Set(five.labels).size).toBe(2);
  });
  it('threshold 0 keeps every distinct point apart; a huge threshold gives one cluster', async () => {
    const r0 = await agglomerative(X, 40, 3, { distanceThreshold: 0 });
    expect(r0.nClusters).toBe(40);
    const r1 = await agglomerative(X, 40, 3, { distanceThreshold: 1e9 });
    expect(r1.nClusters).toBe(1);
    expect(r1.labels.every((l) => l === 0)).toBe(true);
  });
});
