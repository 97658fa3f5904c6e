import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { basisOf, holdOut, mapScores, nearestMeanAccuracy, projectRows, scoresByGemm, scoresOf, trainMap, type MetricExample } from './projection.ts';

/**
 * Groups told apart only along a few low-variance directions, under high-variance nuisance directions that mix them:
 * cosine on the raw rows mostly sees the nuisance; a metric learned from decisions must find the group directions.
 */
function nuisanceSet(n: number, groups: number, seed: number) {
  const d = 40, rng = createRng(seed);
  const centers = Array.from({ length: groups }, () => Array.from({ length: 6 }, () => rng.normal() * 1.2));
  const X = new Float32Array(n * d), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const g = i % groups; y[i] = g;
    for (let t = 0; t < d; t++) X[i * d + t] = rng.normal() * (t < 6 ? 0.4 : 3) + (t < 6 ? centers[g][t] : 0) + 5;
  }
  return { X, y, n, d };
}

describe('learned metric', () => {
  it('learns from member and not-member decisions: held-out accuracy rises well above the raw metric', async () => {
    const { X, y, n, d } = nuisanceSet(600, 6, 1);
    const rng = createRng(2);
    const examples: MetricExample[] = [];
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      if (r < 0.25) examples.push({ row: i, cls: y[i], sign: 1 });
      else if (r < 0.3) examples.push({ row: i, cls: (y[i] + 1) % 6, sign: -1 });
    }
    const { train, test } = holdOut(examples, 0.3, 3);
    expect(test.length).toBeGreaterThan(20);
    const start = await basisOf(X, n, d, { p: 40 });
    const raw = Float32Array.from(X); for (let i = 0; i < n; i++) { let s = 0; for (let t = 0; t < d; t++) s += raw[i * d + t] ** 2; for (let t = 0; t < d; t++) raw[i * d + t] /= Math.sqrt(s); }
    const before = nearestMeanAccuracy(raw, d, train, test);
    const m = trainMap(start, X, n, train, { seed: 4, epochs: 120, lr: 0.03 });
    const after = nearestMeanAccuracy(projectRows(m, X, n), m.k, train, test);
    expect(before).toBeLessThan(0.75);
    expect(after).toBeGreaterThan(0.75);
    expect(after - before).toBeGreaterThan(0.25);
  });

  it('is seeded: the same decisions and seed give the same map; another seed another one', async () => {
    const { X, y, n, d } = nuisanceSet(200, 4, 5);
    const ex: MetricExample[] = Array.from({ length: 60 }, (_, i) => ({ row: i * 3, cls: y[i * 3], sign: 1 as const }));
    const start = await basisOf(X, n, d, { p: 16 });
    const a = trainMap(start, X, n, ex, { seed: 1, epochs: 20, batch: 16 }), b = trainMap(start, X, n, ex, { seed: 1, epochs: 20, batch: 16 }), c = trainMap(start, X, n, ex, { seed: 2, epochs: 20, batch: 16 });
    expect(Array.from(a.W)).toEqual(Array.from(b.W));
    expect(Array.from(a.W)).not.toEqual(Array.from(c.W));
    expect(Array.from(start.W.slice(0, 3))).toEqual([1, 0, 0]);
  });

  it('every row\'s PCA scores made once by a float32 product serve each training: the same scores, the same map, the same rows', async () => {
    const { X, y, n, d } = nuisanceSet(300, 4, 8);
    const start = await basisOf(X, n, d, { p: 20, k: 12 });
    const Y = await scoresByGemm(start, X, n);
    const ref = scoresOf(start, X, n);
    let worst = 0;
    for (let t = 0; t < ref.length; t++) worst = Math.max(worst, Math.abs(Y[t] - ref[t]));
    expect(worst).toBeLessThan(1e-4);
    const ex: MetricExample[] = Array.from({ length: 80 }, (_, i) => ({ row: i * 3, cls: y[i * 3], sign: 1 as const }));
    const a = trainMap(start, X, n, ex, { seed: 3, epochs: 15 }), b = trainMap(start, X, n, ex, { seed: 3, epochs: 15, scores: Y });
    let dw = 0;
    for (let t = 0; t < a.W.length; t++) dw = Math.max(dw, Math.abs(a.W[t] - b.W[t]));
    expect(dw).toBeLessThan(1e-3);
    const Za = projectRows(b, X, n), Zb = mapScores(b, Y, n);
    let dz = 0;
    for (let t = 0; t < Za.length; t++) dz = Math.max(dz, Math.abs(Za[t] - Zb[t]));
    expect(dz).toBeLessThan(1e-4);
    expect(() => trainMap(start, X, n, ex, { scores: Y.subarray(0, 10) })).toThrow(/scores/);
  });

  it('stops early once the loss no longer falls (groups apart already), and trains on while it does', async () => {
    const rng = createRng(9), n = 200, d = 10;
    const X = new Float32Array(n * d), y = new Int32Array(n);
    for (let i = 0; i < n; i++) { y[i] = i % 2; for (let t = 0; t < d; t++) X[i * d + t] = (t === y[i] ? 10 : 0) + rng.normal() * 0.1 + 1; }
    const start = await basisOf(X, n, d, { p: 8, k: 4 });
    const ex: MetricExample[] = Array.from({ length: 60 }, (_, i) => ({ row: i, cls: y[i], sign: 1 as const }));
    let ran = 0;
    trainMap(start, X, n, ex, { seed: 1, epochs: 300, onProgress: (e) => { ran = e; } });
    expect(ran).toBeGreaterThan(8);
    expect(ran).toBeLessThan(300);
    let all = 0;
    trainMap(start, X, n, ex, { seed: 1, epochs: 300, patience: Infinity, onProgress: (e) => { all = e; } });
    expect(all).toBe(300);
  });

  it('refuses bad input by name, cancels, and leaves the metric as it was with fewer than two groups', async () => {
    const { X, n, d } = nuisanceSet(50, 2, 6);
    await expect(basisOf(X, 2, d)).rejects.toThrow(/at least 3 items/);
    const start = await basisOf(X, n, d, { p: 8 });
    expect(() => trainMap(start, X, n, [{ row: n, cls: 0, sign: 1 }])).toThrow(/row 50/);
    expect(() => trainMap(start, X, n, [{ row: 0, cls: -1, sign: 1 }])).toThrow(/group -1/);
    const one = trainMap(start, X, n, [{ row: 0, cls: 0, sign: 1 }, { row: 1, cls: 0, sign: 1 }, { row: 2, cls: 1, sign: -1 }]);
    expect(Array.from(one.W)).toEqual(Array.from(start.W));
    const ex: MetricExample[] = [{ row: 0, cls: 0, sign: 1 }, { row: 1, cls: 1, sign: 1 }];
    expect(() => trainMap(start, X, n, ex, { isCancelled: () => true })).toThrow(/cancelled/);
  });
});
