/** Presets, identity thresholds and assignment on small synthetic data (the real-face protocol: reliability/assign-protocol.test.ts). */
import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { assignToGroups } from './assign.ts';
import { evaluateThreshold, plateauLinkSimilarity, verificationThresholds } from '../../testing/identity-verification.ts';
import { applyPreset, resolvePreset } from './presets.ts';
import { constrainedSweep } from './sweep.ts';

/** g groups of m unit vectors around random centres (noise s). */
function blobs(g: number, m: number, d: number, s: number, seed = 1): { X: Float32Array; y: Int32Array; C: Float32Array } {
  const rng = createRng(seed);
  const C = new Float32Array(g * d).map(() => rng.normal());
  const X = new Float32Array(g * m * d), y = new Int32Array(g * m);
  for (let i = 0; i < g * m; i++) {
    y[i] = i % g;
    for (let j = 0; j < d; j++) X[i * d + j] = C[y[i] * d + j] + s * rng.normal();
  }
  return { X, y, C };
}

describe('identity threshold', () => {
  it('the threshold at a false-accept rate lets at most that share of impostor pairs above it, and reports on another set', async () => {
    const a = blobs(10, 4, 32, 0.8, 1), b = blobs(8, 4, 32, 0.8, 2);
    const r = await verificationThresholds(a.X, 40, 32, a.y, [1e-2, 1e-1]);
    expect(r.genuine).toBe(10 * 6);
    expect(r.impostor).toBe(40 * 39 / 2 - 60);
    const [p1, p10] = r.points;
    expect(p1.similarity).toBeGreaterThan(p10.similarity);
    const self = await evaluateThreshold(a.X, 40, 32, a.y, p10.similarity);
    expect(self.far).toBeLessThanOrEqual(0.1);
    const held = await evaluateThreshold(b.X, 32, 32, b.y, p1.similarity);
    expect(held.tar).toBeGreaterThan(0.5);
    expect(held.far).toBeLessThan(0.05);
  });

  it('the people link similarity lands where the number of groups of two or more stops growing', async () => {
    const a = blobs(12, 3, 24, 0.5, 3);
    const r = await plateauLinkSimilarity(a.X, 36, 24, 0.1, { step: 0.05, steps: 16 });
    expect(r.maxGroups).toBe(12);
    expect(r.grid.find((p) => p.similarity === r.similarity)!.groups).toBeGreaterThanOrEqual(0.97 * 12);
    // a lower similarity chains people together: fewer groups
    expect(r.grid[0].groups).toBeLessThan(12);
  });
});

describe('presets', () => {
  it('people: average linkage with the model\'s tail (else the fallback one); explicit parameters override; another algorithm keeps only the explicit ones', () => {
    const tail = { a: 1.7, b: 0.35, set: 'faces-orl' };
    const c = resolvePreset('people', { n: 500, d: 512, kind: 'face', identity: { similarity: 0.465, far: 1e-4, set: 'faces-orl', tail } }, { a: 0, b: 1, set: 'fallback' });
    expect(c.params).toMatchObject({ algo: 'ward', linkage: 'average', metric: 'cosine' });
    expect(c.tail).toEqual(tail);
    expect(c.why.join(' ')).toMatch(/identity threshold is cosine 0.465/);
    expect(c.why.join(' ')).toMatch(/do not chain/);
    expect(resolvePreset('people', { n: 500, d: 512, kind: 'face', identity: null }, { a: 0, b: 1, set: 'fallback' }).tail?.set).toBe('fallback');
    expect(resolvePreset('people', { n: 500, d: 512, kind: 'face', identity: null }).tail).toBeUndefined();
    expect(applyPreset(c, { distanceThreshold: 0.4 })).toMatchObject({ params: { algo: 'ward', linkage: 'average', distanceThreshold: 0.4, preset: 'people' }, overridden: ['distanceThreshold'] });
    expect(applyPreset(c, { algo: 'kmeans', k: 5 }).params).toEqual({ algo: 'kmeans', k: 5, preset: 'people' });
    for (const p of ['themes', 'objects', 'duplicates'] as const) {
      const x = resolvePreset(p, { n: 20000, d: 1792, kind: 'photo' });
      expect(x.params.algo).toMatch(/hdbscan|dbscan/);
      expect(x.why.length).toBeGreaterThan(0);
    }
    expect(() => resolvePreset('faces' as never, { n: 1, d: 1, kind: 'face' })).toThrow(/preset/);
  });
});

describe('assign', () => {
  it('places items of known groups, leaves new people and ambiguous items unassigned', async () => {
    const d = 32, g = 6;
    const a = blobs(g, 5, d, 0.4, 5);
    const norm = (v: Float32Array, n: number) => { for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += v[i * d + j] ** 2; s = Math.sqrt(s); for (let j = 0; j < d; j++) v[i * d + j] /= s; } return v; };
    norm(a.X, 30);
    const C = new Float32Array(g * d);
    for (let i = 0; i < 30; i++) for (let j = 0; j < d; j++) C[a.y[i] * d + j] += a.X[i * d + j] / 5;
    norm(C, g);
    const protoGroup = Int32Array.from(a.y.slice(0, 18)); // three prototypes per group
    const prototypes = a.X.slice(0, 18 * d);
    const fresh = blobs(g, 2, d, 0.4, 5); // same centres (same seed), new noise
    const stranger = blobs(2, 2, d, 0.4, 99);
    const Q = norm(Float32Array.from([...fresh.X, ...stranger.X]), 16);
    const r = await assignToGroups(Q, 16, d, { g, centroids: C, prototypes, protoGroup }, { threshold: 0.5, margin: 0.05 });
    for (let i = 0; i < 12; i++) expect(r.group[i]).toBe(fresh.y[i]);
    for (let i = 12; i < 16; i++) expect(r.group[i]).toBe(-1);
    // an item between two groups is within the margin of both
    const mid = norm(Float32Array.from(Array.from({ length: d }, (_, j) => prototypes[j] + prototypes[d + j])), 1);
    const m = await assignToGroups(mid, 1, d, { g, centroids: C, prototypes, protoGroup }, { threshold: 0.3, margin: 0.05 });
    expect(m.group[0]).toBe(-1);
    expect(m.reason[0]).toBe(2);
  });

  it('sweeps name a runner-up that was not rejected', async () => {
    const r = await constrainedSweep('k', [1, 2, 3, 4], (k) => Int32Array.from({ length: 8 }, (_, i) => i % k), (_l, k) => [0, 0.2, 0.5, 0.4][k - 1], { minClusters: 2 });
    expect(r.best?.value).toBe(3);
    expect(r.runnerUp?.value).toBe(4);
  });
});
