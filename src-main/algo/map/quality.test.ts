import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { knnLabelAgreement, lowDimKnn, sampleIndices, trustworthiness } from './quality.ts';

describe('lowDimKnn', () => {
  it('matches brute force on random 2-D points with duplicates', () => {
    const n = 700, k = 7, rng = createRng(5);
    const Y = new Float32Array(n * 2);
    for (let t = 0; t < n * 2; t++) Y[t] = Math.round(rng.normal() * 20) / 4;
    const nn = lowDimKnn(Y, n, 2, k);
    for (let i = 0; i < n; i++) {
      const ds = [] as number[];
      for (let j = 0; j < n; j++) if (j !== i) ds.push((Y[2 * i] - Y[2 * j]) ** 2 + (Y[2 * i + 1] - Y[2 * j + 1]) ** 2);
      ds.sort((a, b) => a - b);
      for (let t = 0; t < k; t++) {
        const j = nn[i * k + t];
        expect(j).not.toBe(i);
        expect((Y[2 * i] - Y[2 * j]) ** 2 + (Y[2 * i + 1] - Y[2 * j + 1]) ** 2).toBeCloseTo(ds[t], 5);
      }
    }
  });
});

describe('trustworthiness and label agreement', () => {
  const n = 600, d = 6, rng = createRng(11);
  const X = new Float32Array(n * d);
  for (let t = 0; t < n * d; t++) X[t] = rng.normal();

  it('is 1 for a map that keeps the neighbourhoods and near 0.5 for a random map', async () => {
    // euclidean metric: the data itself (first 2 of 2 dims) is a perfect map of itself
    const X2 = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) { X2[2 * i] = X[i * d]; X2[2 * i + 1] = X[i * d + 1]; }
    expect(await trustworthiness(X2, n, 2, X2, 2, { metric: 'euclidean' })).toBeCloseTo(1, 10);
    const R = new Float32Array(n * 2);
    for (let t = 0; t < n * 2; t++) R[t] = rng.normal();
    const tr = await trustworthiness(X, n, d, R, 2, { metric: 'euclidean' });
    expect(tr).toBeGreaterThan(0.4);
    expect(tr).toBeLessThan(0.6);
    // a projection keeping 2 of 6 informative dims is in between
    const tp = await trustworthiness(X, n, d, X2, 2, { metric: 'euclidean' });
    expect(tp).toBeGreaterThan(tr + 0.1);
    expect(tp).toBeLessThan(1);
  });

  it('label agreement: 1 for separated labelled blobs, chance level for shuffled labels', () => {
    const Y = new Float32Array(n * 2), lab = new Int32Array(n);
    for (let i = 0; i < n; i++) { lab[i] = i % 3; Y[2 * i] = lab[i] * 100 + rng.normal(); Y[2 * i + 1] = rng.normal(); }
    expect(knnLabelAgreement(Y, n, 2, lab, 10)).toBe(1);
    const shuffled = Int32Array.from(lab);
    for (let i = n - 1; i > 0; i--) { const j = rng.int(i + 1); const t = shuffled[i]; shuffled[i] = shuffled[j]; shuffled[j] = t; }
    const a = knnLabelAgreement(Y, n, 2, shuffled, 10);
    expect(a).toBeGreaterThan(0.25);
    expect(a).toBeLessThan(0.42);
  });

  it('samples distinct sorted indices', () => {
    const s = sampleIndices(1000, 100, 3);
    expect(new Set(s).size).toBe(100);
    for (let t = 1; t < s.length; t++) expect(s[t]).toBeGreaterThan(s[t - 1]);
  });
});
