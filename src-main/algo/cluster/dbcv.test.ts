import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { dbcv } from './dbcv.ts';

/** g well-separated Gaussian blobs of m points in d dimensions (centres 10 apart per axis, spread s). */
function blobs(g: number, m: number, d: number, s: number, seed = 1): { X: Float32Array; y: Int32Array } {
  const rng = createRng(seed);
  const X = new Float32Array(g * m * d), y = new Int32Array(g * m);
  for (let i = 0; i < g * m; i++) {
    y[i] = Math.floor(i / m);
    for (let j = 0; j < d; j++) X[i * d + j] = (j === y[i] % d ? 10 * (1 + Math.floor(y[i] / d)) : 0) + s * rng.normal();
  }
  return { X, y };
}

describe('DBCV (Moulavi et al. 2014)', () => {
  const d = 3, g = 3, m = 60;
  const { X, y } = blobs(g, m, d, 0.5);

  it('well-separated blobs labelled by blob score near 1', () => {
    const r = dbcv(X, g * m, d, y);
    expect(r.score).toBeGreaterThan(0.8);
    expect(r.score).toBeLessThanOrEqual(1);
    expect(r.perCluster.size).toBe(3);
  });

  it('a wrong split of one blob, a merge of two, and random labels score lower, in that order of harm', () => {
    const right = dbcv(X, g * m, d, y).score;
    // split blob 0 in two halves by its first coordinate's median: the halves touch
    const split = Int32Array.from(y);
    const xs0 = Array.from({ length: m }, (_, i) => X[i * d + 1]).sort((a, b) => a - b);
    for (let i = 0; i < m; i++) if (X[i * d + 1] > xs0[m / 2]) split[i] = 3;
    const merged = Int32Array.from(y, (l) => (l === 2 ? 1 : l));
    const rng = createRng(5);
    const random = Int32Array.from(y, () => Math.floor(rng.next() * 3));
    const s = dbcv(X, g * m, d, split).score, mg = dbcv(X, g * m, d, merged).score, rn = dbcv(X, g * m, d, random).score;
    expect(s).toBeLessThan(right - 0.3);
    expect(mg).toBeLessThan(right - 0.3);
    expect(rn).toBeLessThan(Math.min(s, mg));
    expect(rn).toBeLessThan(0);
  });

  it('calling points noise costs their share: half the points as noise about halves the score', () => {
    const right = dbcv(X, g * m, d, y).score;
    const noisy = Int32Array.from(y, (l, i) => (i % 2 === 0 ? -1 : l));
    const r = dbcv(X, g * m, d, noisy).score;
    expect(r).toBeLessThan(right * 0.6);
    expect(r).toBeGreaterThan(right * 0.4);
  });

  it('all singletons, or a single cluster, cannot score well (no degenerate answer)', () => {
    expect(dbcv(X, g * m, d, Int32Array.from({ length: g * m }, (_, i) => i)).score).toBe(0);
    expect(dbcv(X, g * m, d, new Int32Array(g * m)).score).toBe(0);
  });

  it('cosine on high-dimensional rows: the log-space core distance stays finite at D = 512', () => {
    const big = blobs(4, 20, 512, 0.3, 3);
    const r = dbcv(big.X, 80, 512, big.y, { metric: 'cosine' });
    expect(Number.isFinite(r.score)).toBe(true);
    expect(r.score).toBeGreaterThan(0.5);
  });

  it('samples large inputs deterministically', () => {
    const a = dbcv(X, g * m, d, y, { sampleSize: 90, seed: 1 }), b = dbcv(X, g * m, d, y, { sampleSize: 90, seed: 1 });
    expect(a.scored).toBe(90);
    expect(a.score).toBe(b.score);
    expect(a.score).toBeGreaterThan(0.7);
  });

  it('a hand-computed two-cluster case', () => {
    // 1-D: cluster A at 0, 1, 2; cluster B at 10, 11, 12 (D = 1). core(0) = ((1/1 + 1/2)/2)^-1 = 4/3, core(1) = 1,
    // core(2) = 4/3. MST A: 0-1 (4/3), 1-2 (4/3); internal node 1 only, no internal edge -> all edges: DSC = 4/3.
    // separation between internal nodes 1 and 11: 10. V = (10 - 4/3) / 10 = 0.8667 for both; DBCV = 0.8667.
    const X1 = Float32Array.from([0, 1, 2, 10, 11, 12]);
    const r = dbcv(X1, 6, 1, Int32Array.from([0, 0, 0, 1, 1, 1]));
    expect(r.score).toBeCloseTo(1 - (4 / 3) / 10, 6);
  });
});
