import { describe, expect, it } from 'vitest';
import { knnExact, knnQuery } from './knn.ts';
import { normalizeRows, sqDist, dot } from './linalg.ts';
import { createRng } from './rng.ts';

function randomMatrix(n: number, d: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const X = new Float32Array(n * d);
  for (let i = 0; i < X.length; i++) X[i] = rng.normal();
  return X;
}

function bruteForce(X: Float32Array, n: number, d: number, k: number, metric: 'cosine' | 'euclidean') {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const c: Array<[number, number]> = [];
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dist = metric === 'cosine' ? 1 - dot(X, i * d, X, j * d, d) : Math.sqrt(sqDist(X, i * d, X, j * d, d));
      c.push([dist, j]);
    }
    c.sort((a, b) => a[0] - b[0]);
    out.push(c.slice(0, k).map((x) => x[1]));
  }
  return out;
}

describe('knnExact', () => {
  for (const metric of ['cosine', 'euclidean'] as const) {
    it(`matches brute force (${metric})`, async () => {
      const n = 300, d = 17, k = 7;
      let X = randomMatrix(n, d, 1);
      if (metric === 'cosine') X = normalizeRows(X, n, d);
      const r = await knnExact(X, n, d, k, { metric, blockRows: 37 });
      const ref = bruteForce(X, n, d, k, metric);
      let agree = 0;
      for (let i = 0; i < n; i++) {
        const got = Array.from(r.indices.subarray(i * k, i * k + k));
        expect(got).not.toContain(i);
        for (let t = 1; t < k; t++) expect(r.distances[i * k + t]).toBeGreaterThanOrEqual(r.distances[i * k + t - 1] - 1e-6);
        agree += got.filter((j, t) => j === ref[i][t]).length;
      }
      expect(agree / (n * k)).toBeGreaterThan(0.99);
    });
  }

  it('rejects impossible k with a message naming k', async () => {
    const X = randomMatrix(5, 3, 2);
    await expect(knnExact(X, 5, 3, 5)).rejects.toThrow(/^k: /);
  });

  it('queries another set', async () => {
    const X = normalizeRows(randomMatrix(100, 8, 3), 100, 8);
    const r = await knnQuery(X, 100, X.subarray(0, 8 * 10), 10, 8, 1);
    for (let i = 0; i < 10; i++) expect(r.indices[i]).toBe(i);
  });
});
