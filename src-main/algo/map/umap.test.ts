import { describe, expect, it } from 'vitest';
import { createOrtGemm } from '../../core/gemm-ort.ts';
import { knnExact } from '../knn.ts';
import { normalizeRows } from '../linalg.ts';
import { knnForest } from './knn-forest.ts';
import { knnLabelAgreement, trustworthiness } from './quality.ts';
import { findAbParams, fitUmap, fuzzySimplicialSet, Umap } from './umap.ts';
import { loadC3, peerQuality } from '../../testing/map-data.ts';

const { X, y, n, d } = loadC3();
const gemmP = createOrtGemm(1);

describe('umap pieces', () => {
  it('fits a, b like umap-learn find_ab_params', () => {
    const p = findAbParams(1, 0.1);
    expect(p.a).toBeCloseTo(1.5769, 2);
    expect(p.b).toBeCloseTo(0.8951, 3);
    const q = findAbParams(1, 0);
    expect(q.a).toBeGreaterThan(1.85);
    expect(q.a).toBeLessThan(2.0);
    expect(q.b).toBeCloseTo(0.79, 1);
  });

  it('builds a symmetric fuzzy graph with memberships in (0, 1] and sum log2(k) per row before the union', async () => {
    const m = 800;
    const Xn = normalizeRows(X, m, d);
    const knn = await knnExact(Xn, m, d, 14, { metric: 'cosine', gemm: await gemmP });
    const g = fuzzySimplicialSet(knn);
    const w = new Map<number, number>();
    for (let i = 0; i < m; i++) for (let p = g.indptr[i]; p < g.indptr[i + 1]; p++) {
      expect(g.weights[p]).toBeGreaterThan(0);
      expect(g.weights[p]).toBeLessThanOrEqual(1);
      expect(g.indices[p]).not.toBe(i);
      w.set(i * m + g.indices[p], g.weights[p]);
    }
    for (const [key, v] of w) { const i = Math.floor(key / m), j = key % m; expect(w.get(j * m + i)).toBeCloseTo(v, 6); }
    // every point keeps at least its nearest neighbour at weight 1 (local connectivity 1)
    for (let i = 0; i < m; i++) expect(w.get(i * m + knn.indices[i * 14])).toBeCloseTo(1, 6);
  });

  it('rp-forest kNN has high recall against exact kNN on real data', async () => {
    const m = 3000, gemm = await gemmP;
    const Xn = normalizeRows(X, m, d);
    const ex = await knnExact(Xn, m, d, 10, { metric: 'cosine', gemm });
    const ap = await knnForest(Xn, m, d, 10, { metric: 'cosine', leafSize: 256, nTrees: 2, seed: 3, gemm });
    let hit = 0;
    for (let i = 0; i < m; i++) { const s = new Set(ex.indices.subarray(i * 10, i * 10 + 10)); for (let t = 0; t < 10; t++) if (s.has(ap.indices[i * 10 + t])) hit++; }
    expect(hit / (m * 10)).toBeGreaterThan(0.9);
  });
});

describe('umap 2-D on c3_5000x128', () => {
  it('matches umap-learn trustworthiness@10 and 10-NN label agreement (within 0.02), emits snapshots', async () => {
    const gemm = await gemmP;
    const peer = peerQuality('c3_5000x128', 'umap2d');
    const snaps: number[] = [];
    const Y = await fitUmap(X, n, d, { gemm, seed: 42, progressEvery: 100, onProgress: (e, total, emb) => { snaps.push(e); expect(total).toBe(500); expect(emb.length).toBe(n * 2); } });
    expect(snaps).toEqual([100, 200, 300, 400, 500]);
    expect(Y.every(Number.isFinite)).toBe(true);
    const trust = await trustworthiness(X, n, d, Y, 2, { gemm });
    const agree = knnLabelAgreement(Y, n, 2, y, 10);
    console.log(`umap c3: trust ${trust.toFixed(4)} (peer ${peer.trust.toFixed(4)}), agree ${agree.toFixed(4)} (peer ${peer.agree.toFixed(4)})`);
    expect(trust).toBeGreaterThan(peer.trust - 0.02);
    expect(agree).toBeGreaterThan(peer.agree - 0.02);
  });
});

describe('umap determinism, n-D, errors', () => {
  const m = 1200, mX = X.subarray(0, m * d);

  it('same seed gives the identical embedding; another seed a different one', async () => {
    const gemm = await gemmP;
    const a = await fitUmap(mX, m, d, { seed: 5, nEpochs: 60, gemm });
    const b = await fitUmap(mX, m, d, { seed: 5, nEpochs: 60, gemm });
    const c = await fitUmap(mX, m, d, { seed: 6, nEpochs: 60, gemm });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('n-D (50 components, nNeighbors 30, minDist 0) keeps the clusters; step() API counts epochs', async () => {
    const gemm = await gemmP;
    const u = new Umap({ nComponents: 50, nNeighbors: 30, minDist: 0, seed: 1, nEpochs: 80, gemm });
    expect(await u.initializeFit(mX, m, d)).toBe(80);
    let e = 0;
    while ((e = u.step()) < u.nEpochs);
    expect(e).toBe(80);
    const Z = u.getEmbedding();
    expect(Z.length).toBe(m * 50);
    // label agreement of the 10 nearest neighbours in the 50-d embedding vs in the original (cosine) space
    const ex = await knnExact(normalizeRows(mX, m, d), m, d, 10, { metric: 'cosine', gemm });
    let same = 0;
    for (let i = 0; i < m; i++) for (let t = 0; t < 10; t++) if (y[ex.indices[i * 10 + t]] === y[i]) same++;
    const orig = same / (m * 10);
    const emb = knnLabelAgreement(Z, m, 50, y.subarray(0, m), 10);
    console.log(`umap 50-d: agreement ${emb.toFixed(4)}, original space ${orig.toFixed(4)}`);
    expect(emb).toBeGreaterThan(orig - 0.03);
  });

  it('rejects bad parameters naming them, and cancels', async () => {
    await expect(fitUmap(mX, 10, d, { nNeighbors: 10 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('nNeighbors') });
    expect(() => new Umap({ nComponents: 0 })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringContaining('nComponents') }));
    expect(() => new Umap({ minDist: -1 })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringContaining('minDist') }));
    let calls = 0;
    await expect(fitUmap(mX, m, d, { nEpochs: 50, progressEvery: 1, onProgress: () => {}, isCancelled: () => ++calls > 20 }))
      .rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
