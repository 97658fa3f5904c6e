import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { jacobiEigen, orthonormalizeColumns, pca } from './pca.ts';
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

describe('orthonormalizeColumns', () => {
  it('gives orthonormal columns spanning the input\'s, each column a combination of itself and the ones before (thin QR, R > 0)', () => {
    for (const [n, l] of [[500, 12], [40, 40], [7, 3]]) {
      const A = new Float64Array(n * l);
      let x = 12345;
      for (let i = 0; i < A.length; i++) { x = (x * 1103515245 + 12345) % 2147483648; A[i] = x / 2147483648 - 0.5; }
      const Q = Float64Array.from(A);
      orthonormalizeColumns(Q, n, l);
      // Q^T Q = I
      for (let a = 0; a < l; a++) for (let b = 0; b < l; b++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += Q[r * l + a] * Q[r * l + b];
        expect(Math.abs(s - (a === b ? 1 : 0)), `${n}x${l} (${a}, ${b})`).toBeLessThan(1e-12);
      }
      // R = Q^T A is upper triangular with a positive diagonal, and Q R = A
      for (let a = 0; a < l; a++) for (let b = 0; b < l; b++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += Q[r * l + a] * A[r * l + b];
        if (a > b) expect(Math.abs(s), `R[${a}, ${b}]`).toBeLessThan(1e-10);
        if (a === b) expect(s).toBeGreaterThan(0);
      }
    }
  });
});
