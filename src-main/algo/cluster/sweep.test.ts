import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrtGemm } from '../../core/gemm-ort.ts';
import { readNpyLabels, readNpyMatrix } from '../../core/npy-file.ts';
import type { Gemm } from '../linalg.ts';
import { adjustedMutualInfo } from '../metrics.ts';
import { createRng } from '../rng.ts';
import { constrainedSweep, dbscanEpsSweep, elbowSweep, kneedle, silhouetteSweep } from './sweep.ts';
import { SHARED } from '../../testing/fixtures.ts';

const M = (name: string) => path.resolve(SHARED, 'data/matrices', name);

let gemm: Gemm & { release(): Promise<void> };
beforeAll(async () => { gemm = await createOrtGemm(1); });
afterAll(async () => { await gemm.release(); });

function blobs(k: number, per: number, d: number, spread: number, seed: number) {
  const r = createRng(seed);
  const C = Float32Array.from({ length: k * d }, () => r.normal());
  const n = k * per, X = new Float32Array(n * d), y = new Int32Array(n);
  for (let i = 0; i < n; i++) { const c = i % k; y[i] = c; for (let p = 0; p < d; p++) X[i * d + p] = C[c * d + p] + spread * r.normal(); }
  return { X, y, n, d };
}

describe('kneedle', () => {
  it('finds the knee of a convex decreasing curve and of a concave increasing one', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(kneedle(xs, xs.map((x) => (x <= 4 ? 100 - 22 * x : 12 - (x - 4))))).toBe(3);
    expect(kneedle(xs, xs.map((x) => Math.min(x, 3) * 10 + x * 0.1))).toBe(2);
    expect(kneedle(xs, xs.map((x) => x))).toBe(-1); // straight line: no knee
    expect(kneedle([1, 2], [2, 1])).toBe(-1);
  });
});

describe('sweeps', () => {
  const { X, n, d } = blobs(6, 60, 10, 0.35, 3);

  it('elbow marks the true k (6) as knee; silhouette over k peaks at 6', async () => {
    const ks = [2, 3, 4, 5, 6, 7, 8, 10, 12, 14];
    const e = await elbowSweep(X, n, d, ks, { seed: 0, gemm, nInit: 3 });
    expect(e.points.map((p) => p.value)).toEqual(ks);
    for (let t = 1; t < e.points.length; t++) expect(e.points[t].score).toBeLessThanOrEqual(e.points[t - 1].score * 1.02);
    expect(e.best?.value).toBe(6);
    expect(e.points.filter((p) => p.knee)).toHaveLength(1);
    const s = await silhouetteSweep(X, n, d, [3, 4, 5, 6, 7, 8], { seed: 0, gemm, nInit: 2 });
    expect(s.best?.value).toBe(6);
    await expect(elbowSweep(X, n, d, [0, 2])).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^ks:/) });
    await expect(elbowSweep(X, n, d, [n + 1])).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
  });

  it('DBSCAN eps sweep on c3 refuses degenerate answers (too much noise, too few clusters)', async () => {
    const A = readNpyMatrix(M('c3_5000x128_X.npy'));
    const y = readNpyLabels(M('c3_5000x128_y.npy'));
    const eps = [0.3, 0.41, 0.46, 0.53, 0.6, 0.8];
    const r = await dbscanEpsSweep(A.data, A.rows, A.cols, eps, 5, { gemm, minClusters: 5, maxNoiseShare: 0.45, sampleSize: 2000 });
    expect(r.points).toHaveLength(eps.length);
    const p03 = r.points[0];
    expect(p03.rejected).toMatch(/noise share/); // almost everything is noise at 0.3
    const p08 = r.points[5];
    expect(p08.rejected).toMatch(/clusters < minClusters/); // one giant cluster at 0.8
    expect(r.best).not.toBeNull();
    expect(r.best!.rejected).toBeUndefined();
    expect(r.best!.clusters).toBeGreaterThanOrEqual(5);
    expect(r.best!.noiseShare).toBeLessThanOrEqual(0.45);
    for (const p of r.points) { expect(p.param).toBe('eps'); expect(Number.isFinite(p.score) || typeof p.rejected === 'string', `eps ${p.value}: a score or a reason`).toBe(true); }
    // custom score: AMI vs the truth; the chosen point is the best unrejected one
    const r2 = await dbscanEpsSweep(A.data, A.rows, A.cols, eps, 5, { gemm, minClusters: 5, maxNoiseShare: 0.45, score: (l) => adjustedMutualInfo(y, l) });
    const ok = r2.points.filter((p) => !p.rejected);
    expect(r2.best!.score).toBe(Math.max(...ok.map((p) => p.score)));
    await expect(dbscanEpsSweep(A.data, A.rows, A.cols, [0.2, -1], 5)).rejects.toMatchObject({ message: expect.stringMatching(/^epsValues:/) });
  });

  it('constrainedSweep returns best = null when everything is rejected', async () => {
    const r = await constrainedSweep('x', [1, 2], () => new Int32Array(10).fill(-1), () => 1, { maxNoiseShare: 0.5 });
    expect(r.best).toBeNull();
    expect(r.points.every((p) => p.rejected)).toBe(true);
  });
});

describe('constrainedSweep singletonsAsNoise', () => {
  it('points in clusters of one count as noise for the guard, and the point still reports the labels\' own noise', async () => {
    // value 1: 8 clusters of one and a pair (no noise label); value 2: two real clusters
    const labels = (v: number) => (v === 1 ? Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 8]) : Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]));
    const plain = await constrainedSweep('eps', [1, 2], labels, (_l, v) => (v === 1 ? 0.9 : 0.5), { maxNoiseShare: 0.5 });
    expect(plain.best?.value).toBe(1);
    const guarded = await constrainedSweep('eps', [1, 2], labels, (_l, v) => (v === 1 ? 0.9 : 0.5), { maxNoiseShare: 0.5, singletonsAsNoise: true });
    expect(guarded.best?.value).toBe(2);
    expect(guarded.points[0].rejected).toMatch(/clusters of one/);
    expect(guarded.points[0].noiseShare).toBe(0);
  });
});
