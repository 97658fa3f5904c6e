import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { jacobiEigen, pca } from './pca.ts';
import { loadC3 } from '../../testing/map-data.ts';

describe('jacobiEigen', () => {
  it('decomposes a random symmetric matrix (A v = lambda v, sorted)', () => {
    const m = 12, rng = createRng(3);
    const A = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = i; j < m; j++) { const v = rng.normal(); A[i * m + j] = v; A[j * m + i] = v; }
    const { values, vectors } = jacobiEigen(A.slice(), m);
    for (let c = 0; c < m; c++) {
      if (c > 0) expect(values[c]).toBeLessThanOrEqual(values[c - 1]);
      for (let r = 0; r < m; r++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += A[r * m + k] * vectors[k * m + c];
        expect(s).toBeCloseTo(values[c] * vectors[r * m + c], 8);
      }
    }
  });
});

describe('pca', () => {
  const { X, n, d } = loadC3();

  it('exact and randomized solvers agree on real data (variances, axes, scores)', async () => {
    const k = 5;
    const ex = await pca(X, n, d, k, { solver: 'exact' });
    const rd = await pca(X, n, d, k, { solver: 'randomized', seed: 1 });
    for (let c = 0; c < k; c++) {
      expect(Math.abs(rd.explainedVariance[c] / ex.explainedVariance[c] - 1)).toBeLessThan(0.02);
      let dotc = 0;
      for (let p = 0; p < d; p++) dotc += ex.components[c * d + p] * rd.components[c * d + p];
      expect(Math.abs(dotc)).toBeGreaterThan(0.97);
    }
    // the scores are the centered data on the axes, and their variance is the explained variance
    for (let c = 0; c < k; c++) {
      let ss = 0;
      for (let i = 0; i < n; i++) ss += ex.projected[i * k + c] ** 2;
      expect(ss / (n - 1)).toBeCloseTo(ex.explainedVariance[c], 4);
    }
    // total variance bounds the explained variance
    let total = 0;
    for (let p = 0; p < d; p++) { let s = 0; for (let i = 0; i < n; i++) s += (X[i * d + p] - ex.mean[p]) ** 2; total += s / (n - 1); }
    const explained = ex.explainedVariance.reduce((a, b) => a + b, 0);
    expect(explained).toBeLessThan(total);
    expect(explained).toBeGreaterThan(0);
  });

  it('is deterministic for a seed and rejects bad arguments by name', async () => {
    const a = await pca(X, 500, d, 3, { solver: 'randomized', seed: 7 });
    const b = await pca(X, 500, d, 3, { solver: 'randomized', seed: 7 });
    expect(a.projected).toEqual(b.projected);
    await expect(pca(X, n, d, 0)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('nComponents') });
    await expect(pca(X, n, d, d + 1)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('nComponents') });
  });
});
