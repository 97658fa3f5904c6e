import { describe, expect, it } from 'vitest';
import { adjustedMutualInfo } from '../metrics.ts';
import { createRng, type Rng } from '../rng.ts';
import { calibrateImpostorTail } from './identity-scale.ts';
import { exactLink, graphAverageLink, peopleGroups, relabelBySize } from './people-link.ts';

/** `people` identities in d dims: unit centres, each face = centre + N(0, sigma^2) noise (cosine ~ 1 / (1 + d sigma^2)). */
function population(rng: Rng, people: number, per: number, d: number, sigma: number): { X: Float32Array; labels: Int32Array; n: number } {
  const n = people * per;
  const X = new Float32Array(n * d), labels = new Int32Array(n);
  for (let p = 0; p < people; p++) {
    const c = Array.from({ length: d }, () => rng.normal());
    const nc = Math.hypot(...c);
    for (let f = 0; f < per; f++) {
      const i = p * per + f; labels[i] = p;
      for (let t = 0; t < d; t++) X[i * d + t] = c[t] / nc + sigma * rng.normal();
    }
  }
  return { X, labels, n };
}

/**
 * A run of m look-alike detections: a random walk on the sphere, each face a small step (cosine ~ 1 / sqrt(1 + d tau^2))
 * from the last, so neighbours look alike while faces a few steps apart do not (drawn faces of many characters).
 */
function chain(rng: Rng, m: number, d: number, tau: number): Float32Array {
  const X = new Float32Array(m * d);
  const x = Array.from({ length: d }, () => rng.normal());
  for (let i = 0; i < m; i++) {
    const nx = Math.hypot(...x);
    for (let t = 0; t < d; t++) { x[t] /= nx; X[i * d + t] = x[t]; }
    for (let t = 0; t < d; t++) x[t] += tau * rng.normal();
  }
  return X;
}

const cos = (X: Float32Array, d: number, i: number, j: number) => {
  let s = 0, a = 0, b = 0;
  for (let t = 0; t < d; t++) { s += X[i * d + t] * X[j * d + t]; a += X[i * d + t] ** 2; b += X[j * d + t] ** 2; }
  return s / Math.sqrt(a * b);
};

describe('average linkage on the kNN graph', () => {
  const d = 64;
  it('does not chain a run of look-alike detections into one person, where single link would', async () => {
    const m = 200;
    const X = chain(createRng(1), m, d, 0.11); // neighbours at cos ~0.75
    // single link at 0.5 would be one group: every consecutive pair is above it
    for (let i = 1; i < m; i++) expect(cos(X, d, i - 1, i)).toBeGreaterThan(0.5);
    const r = await graphAverageLink(X, m, d, { similarity: 0.5 });
    expect(r.largest).toBeLessThanOrEqual(0.05 * m);
    // and each group is a short stretch of the arc: all its pairs similar
    for (let g = 0; g < r.groups; g++) {
      const rows = [...r.labels.keys()].filter((i) => r.labels[i] === g);
      expect(Math.max(...rows) - Math.min(...rows)).toBe(rows.length - 1);
    }
  });

  it('finds the people among junk detections: AMI >= 0.99, no group over 5% of the faces', async () => {
    const rng = createRng(2);
    const pop = population(rng, 60, 6, d, 0.09);
    const junk = chain(rng, 150, d, 0.11);
    const n = pop.n + 150;
    const X = new Float32Array(n * d); X.set(pop.X); X.set(junk, pop.n * d);
    const r = await graphAverageLink(X, n, d, { similarity: 0.5 });
    const known = Array.from({ length: pop.n }, (_, i) => i);
    const ami = adjustedMutualInfo(known.map((i) => pop.labels[i]), known.map((i) => (r.labels[i] < 0 ? -1 - i : r.labels[i])));
    expect(ami).toBeGreaterThanOrEqual(0.99);
    expect(r.largest).toBeLessThanOrEqual(0.05 * n);
  });

  it('is exact average linkage cut at the threshold when the graph holds every pair', async () => {
    const pop = population(createRng(3), 25, 4, d, 0.16); // noisy: some people split, some pairs close
    for (const s of [0.3, 0.45, 0.6]) {
      const g = await graphAverageLink(pop.X, pop.n, d, { similarity: s, k: pop.n - 1 });
      const e = await exactLink(pop.X, pop.n, d, { similarity: s, linkage: 'average' });
      expect(Array.from(g.labels)).toEqual(Array.from(e.labels));
    }
  });

  it('complete linkage is stricter than average linkage at the same threshold', async () => {
    const pop = population(createRng(4), 20, 5, d, 0.16);
    const a = await exactLink(pop.X, pop.n, d, { similarity: 0.4, linkage: 'average' });
    const c = await exactLink(pop.X, pop.n, d, { similarity: 0.4, linkage: 'complete' });
    expect(c.labels.filter((l) => l < 0).length).toBeGreaterThanOrEqual(a.labels.filter((l) => l < 0).length);
    expect(c.groups + c.labels.filter((l) => l < 0).length).toBeGreaterThan(a.groups + a.labels.filter((l) => l < 0).length);
  });

  it('peopleGroups links at the library\'s own link threshold, calibrated on another population', async () => {
    const cal = population(createRng(20), 40, 10, d, 0.09);
    const tail = calibrateImpostorTail(cal.X, cal.n, d, cal.labels);
    const rng = createRng(21);
    const pop = population(rng, 80, 4, d, 0.09);
    const junk = chain(rng, 100, d, 0.11);
    const n = pop.n + 100;
    const X = new Float32Array(n * d); X.set(pop.X); X.set(junk, pop.n * d);
    const r = await peopleGroups(X, n, d, tail);
    expect(r.thresholds.link).toBeGreaterThanOrEqual(r.thresholds.maybe);
    expect(r.thresholds.link).toBeLessThanOrEqual(r.thresholds.sure);
    const again = await graphAverageLink(X, n, d, { similarity: r.thresholds.link });
    expect(Array.from(r.labels)).toEqual(Array.from(again.labels));
    const known = Array.from({ length: pop.n }, (_, i) => i);
    expect(adjustedMutualInfo(known.map((i) => pop.labels[i]), known.map((i) => (r.labels[i] < 0 ? -1 - i : r.labels[i])))).toBeGreaterThanOrEqual(0.99);
    expect(r.largest).toBeLessThanOrEqual(0.05 * n);
  });

  it('numbers groups by decreasing size and leaves lone faces as -1', () => {
    const r = relabelBySize([5, 5, 9, 7, 7, 7, 3], 7);
    expect(Array.from(r.labels)).toEqual([1, 1, -1, 0, 0, 0, -1]);
    expect(r.groups).toBe(2); expect(r.largest).toBe(3);
  });

  it('rejects bad parameters by name, and stops when cancelled', async () => {
    const pop = population(createRng(5), 5, 3, d, 0.1);
    await expect(graphAverageLink(pop.X, pop.n, d, { similarity: 1.5 })).rejects.toThrow(/similarity/);
    await expect(graphAverageLink(pop.X, pop.n, d, { similarity: Number.NaN })).rejects.toThrow(/similarity/);
    await expect(graphAverageLink(pop.X.subarray(0, 10), pop.n, d, { similarity: 0.5 })).rejects.toThrow(/X/);
    await expect(graphAverageLink(pop.X, pop.n, d, { similarity: 0.5, k: 0 })).rejects.toThrow(/k/);
    await expect(graphAverageLink(pop.X, pop.n, d, { similarity: 0.5, isCancelled: () => true })).rejects.toThrow(/cancel/);
    const one = await graphAverageLink(pop.X, 1, d, { similarity: 0.5 });
    expect(Array.from(one.labels)).toEqual([-1]);
  });
});
