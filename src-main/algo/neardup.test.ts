import { describe, expect, it } from 'vitest';
import { knnExact } from './knn.ts';
import { normalizeRows } from './linalg.ts';
import { nearDuplicateGroups, rowDot, singleLinkageGroups } from './neardup.ts';
import { createRng } from './rng.ts';

async function candidates(Xn: Float32Array, n: number, d: number, k: number) {
  const r = await knnExact(Xn, n, d, k, { metric: 'cosine' });
  return { indices: r.indices, sims: Float32Array.from(r.distances, (x) => 1 - x), k };
}

/** Every pair of every group at or above the group's stated minimum, and that minimum the true one. */
function expectNoChain(Xn: Float32Array, d: number, groups: Array<{ rows: number[]; minSim: number }>, threshold: number) {
  for (const g of groups) {
    let min = Infinity;
    for (let a = 0; a < g.rows.length; a++) for (let b = a + 1; b < g.rows.length; b++) min = Math.min(min, rowDot(Xn, d, g.rows[a], g.rows[b]));
    expect(min).toBeGreaterThanOrEqual(threshold);
    expect(g.minSim).toBeCloseTo(min, 9);
  }
}

describe('near-duplicate groups (complete linkage)', () => {
  it('a chain of small steps is not one group, where single linkage makes it one', async () => {
    // points on a circle arc, 3 degrees apart: neighbours at cos 3deg ~ 0.9986, the ends 57 degrees apart
    const n = 20, d = 2;
    const X = new Float32Array(n * d);
    for (let i = 0; i < n; i++) { X[2 * i] = Math.cos((i * 3 * Math.PI) / 180); X[2 * i + 1] = Math.sin((i * 3 * Math.PI) / 180); }
    const c = await candidates(X, n, d, 4);
    const single = singleLinkageGroups(X, n, d, c, 0.998);
    expect(single).toHaveLength(1);
    expect(single[0].rows).toHaveLength(20);
    expect(single[0].minSim).toBeLessThan(0.6);
    const groups = nearDuplicateGroups(X, n, d, c, 0.998);
    expect(groups.length).toBeGreaterThan(1);
    expectNoChain(X, d, groups, 0.998);
    // cos 3deg passes 0.998, cos 6deg (0.9945) does not: only pairs
    expect(groups.every((g) => g.rows.length === 2)).toBe(true);
  });

  it('at any threshold, tight blobs come out whole and no group has a pair below its stated minimum', async () => {
    const rng = createRng(7);
    const gauss = () => rng.normal();
    const blobs = 30, per = 4, d = 64, n = blobs * per;
    const X = new Float32Array(n * d);
    for (let b = 0; b < blobs; b++) {
      const c = Array.from({ length: d }, gauss);
      for (let p = 0; p < per; p++) for (let t = 0; t < d; t++) X[(b * per + p) * d + t] = c[t] + 0.05 * gauss();
    }
    const Xn = normalizeRows(X, n, d);
    const c = await candidates(Xn, n, d, 10);
    for (const th of [0.2, 0.5, 0.8, 0.95, 0.99]) expectNoChain(Xn, d, nearDuplicateGroups(Xn, n, d, c, th), th);
    const g = nearDuplicateGroups(Xn, n, d, c, 0.95);
    expect(g).toHaveLength(blobs);
    // groups never grow past maxGroup (and still do not chain)
    const capped = nearDuplicateGroups(Xn, n, d, c, 0.95, { maxGroup: 3 });
    expect(Math.max(...capped.map((x) => x.rows.length))).toBe(3);
    expectNoChain(Xn, d, capped, 0.95);
    for (const x of g) {
      expect(x.rows).toHaveLength(per);
      expect(new Set(x.rows.map((r) => Math.floor(r / per))).size).toBe(1);
      expect(x.rows[0]).toBe(x.representative);
    }
  });
});
