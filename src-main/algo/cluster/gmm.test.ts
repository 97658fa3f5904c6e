import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { externalScores } from '../metrics.ts';
import { gmm, gmmParamCount, whiteningFactors } from './gmm.ts';
import { softAssign } from './dec.ts';
import { kmeans } from './kmeans.ts';

/** Three 2-D Gaussians with different, correlated covariances (k-means' spherical assumption does not hold). */
function blobs(n: number, seed: number): { X: Float32Array; y: Int32Array } {
  const rng = createRng(seed);
  const comps = [
    { m: [0, 0], a: [[3, 0], [2.5, 0.4]] },
    { m: [6, 1], a: [[0.5, 0], [0, 0.5]] },
    { m: [0, 7], a: [[2.5, 0], [-2, 0.6]] },
  ];
  const X = new Float32Array(n * 2), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3, { m, a } = comps[c];
    const z0 = rng.normal(), z1 = rng.normal();
    X[i * 2] = m[0] + a[0][0] * z0 + a[0][1] * z1;
    X[i * 2 + 1] = m[1] + a[1][0] * z0 + a[1][1] * z1;
    y[i] = c;
  }
  return { X, y };
}

describe('Gaussian mixture (EM, BIC)', () => {
  const { X, y } = blobs(900, 5);

  it('recovers elongated, correlated clusters that k-means splits wrongly; seeded and deterministic', async () => {
    const a = await gmm(X, 900, 2, { k: 3, seed: 0 });
    const b = await gmm(X, 900, 2, { k: 3, seed: 0 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.converged).toBe(true);
    const nmi = externalScores(y, a.labels).nmi;
    expect(nmi).toBeGreaterThan(0.9);
    const km = await kmeans(X, 900, 2, 3, { metric: 'euclidean', seed: 0, nInit: 5 });
    expect(externalScores(y, km.labels).nmi).toBeLessThan(nmi - 0.05);
    let wsum = 0;
    for (const w of a.weights) wsum += w;
    expect(wsum).toBeCloseTo(1, 6);
    for (const p of a.probabilities) { expect(p).toBeGreaterThanOrEqual(1 / 3 - 1e-6); expect(p).toBeLessThanOrEqual(1 + 1e-6); }
    expect(a.bic).toBeCloseTo(-2 * a.logLikelihood + gmmParamCount(3, 2, 'full') * Math.log(900), 6);
    expect(a.selectedBy).toBe('given');
  });

  it('whitening factors invert each covariance (A^T A cov = I), so a Student-t kernel on them keeps the mixture\'s partition', async () => {
    const g = await gmm(X, 900, 2, { k: 3, seed: 0 });
    for (const cv of ['full', 'diag'] as const) {
      const f = cv === 'full' ? g : await gmm(X, 900, 2, { k: 3, seed: 0, covariance: 'diag' });
      const A = whiteningFactors(f.covariances, 3, 2, cv);
      for (let c = 0; c < 3; c++) {
        const a = (i: number, j: number) => A[c * 4 + i * 2 + j];
        const cov = (i: number, j: number) => (cv === 'full' ? f.covariances[c * 4 + i * 2 + j] : i === j ? f.covariances[c * 2 + i] : 0);
        for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
          let t = 0;
          for (let m = 0; m < 2; m++) for (let p = 0; p < 2; p++) t += a(p, i) * a(p, m) * cov(m, j);
          expect(t).toBeCloseTo(i === j ? 1 : 0, 6);
        }
      }
    }
    // DEC's soft assignment around the mixture's means: with the mixture's shapes it keeps (almost) every label of the
    // mixture; with euclidean distances it falls back to nearest-mean, which splits the elongated clusters
    const argmax = (q: Float32Array) => Int32Array.from({ length: 900 }, (_, i) => { let b = 0; for (let j = 1; j < 3; j++) if (q[i * 3 + j] > q[i * 3 + b]) b = j; return b; });
    const mu = Float32Array.from(g.means);
    const shaped = argmax(softAssign(X, 900, 2, mu, 3, whiteningFactors(g.covariances, 3, 2, 'full')).q);
    const plain = argmax(softAssign(X, 900, 2, mu, 3).q);
    const agree = (l: Int32Array) => l.reduce((s, v, i) => s + (v === g.labels[i] ? 1 : 0), 0) / 900;
    expect(agree(shaped)).toBeGreaterThan(0.97);
    expect(agree(plain)).toBeLessThan(agree(shaped) - 0.03);
    expect(() => whiteningFactors(new Float64Array([1, 2, 2, 1]), 1, 2, 'full')).toThrow(/reg-covar/);
  });

  it('picks k by BIC when k is not given, and a diagonal model has fewer parameters', async () => {
    const r = await gmm(X, 900, 2, { kMin: 1, kMax: 6, seed: 0 });
    expect(r.selectedBy).toBe('bic');
    expect(r.bicByK.map((b) => b.k)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.k).toBe(3);
    const min = Math.min(...r.bicByK.map((b) => b.bic));
    expect(r.bic).toBe(min);
    expect(gmmParamCount(3, 10, 'diag')).toBeLessThan(gmmParamCount(3, 10, 'full'));
    const dg = await gmm(X, 900, 2, { k: 3, covariance: 'diag', seed: 0 });
    expect(dg.covariances.length).toBe(3 * 2);
  });

  it('rejects bad parameters and hostile input naming the parameter; stops when cancelled', async () => {
    await expect(gmm(X, 900, 2, { k: 901 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^k:/) });
    await expect(gmm(X, 900, 2, { k: 0 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(gmm(X, 900, 2, { kMin: 5, kMax: 3 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/k-min/) });
    await expect(gmm(X, 900, 2, { k: 3, covariance: 'spherical' as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    const bad = X.slice(); bad[7] = NaN;
    await expect(gmm(bad, 900, 2, { k: 3 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/row 3/) });
    // every point on one spot: no covariance to speak of without regularization
    const flat = new Float32Array(200).fill(1);
    await expect(gmm(flat, 100, 2, { k: 2, regCovar: 0 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/reg-covar/) });
    let calls = 0;
    await expect(gmm(X, 900, 2, { k: 3, isCancelled: () => ++calls > 3 })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
