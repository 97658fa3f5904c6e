import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { clusterStats, dropDuplicateSources, filterBySimilarity, filterMinSize, postprocess, relabelDense, sizeReport } from './postprocess.ts';

/** k directions in d dims, members = direction + noise of varying strength, rows NOT normalized (scaled randomly) */
function data(k: number, per: number, d: number, seed: number) {
  const r = createRng(seed);
  const C = Float32Array.from({ length: k * d }, () => r.normal());
  const n = k * per;
  const X = new Float32Array(n * d), y = new Int32Array(n), noiseLevel = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / per); y[i] = c;
    const s = (i % per) / per; // later members noisier
    noiseLevel[i] = s;
    const scale = 0.5 + 2 * r.next();
    for (let p = 0; p < d; p++) X[i * d + p] = scale * (C[c * d + p] + 1.5 * s * r.normal());
  }
  return { X, y, n, d, noiseLevel };
}

describe('cluster statistics', () => {
  const { X, y, n, d } = data(4, 30, 12, 1);
  it('centroids are normalized means of normalized members; sims, top and tail are consistent', () => {
    const st = clusterStats(X, n, d, y, { samples: 5 });
    expect(Array.from(st.ids)).toEqual([0, 1, 2, 3]);
    expect(Array.from(st.sizes)).toEqual([30, 30, 30, 30]);
    for (let c = 0; c < 4; c++) {
      let q = 0; for (let p = 0; p < d; p++) q += st.centroids[c * d + p] ** 2;
      expect(q).toBeCloseTo(1, 5);
      const cl = st.clusters[c];
      expect(cl.top).toHaveLength(5); expect(cl.tail).toHaveLength(5);
      for (let t = 1; t < 5; t++) { expect(cl.top[t].sim).toBeLessThanOrEqual(cl.top[t - 1].sim); expect(cl.tail[t].sim).toBeGreaterThanOrEqual(cl.tail[t - 1].sim); }
      expect(cl.top[0].sim).toBeGreaterThan(cl.meanSim);
      expect(cl.tail[0].sim).toBe(cl.minSim);
      // the least noisy members are among the top, the noisiest among the tail
      expect(cl.top.some((s) => s.index % 30 < 10)).toBe(true);
      expect(cl.tail.every((s) => s.index % 30 >= 10)).toBe(true);
      // sims are true cosines
      const i = cl.top[0].index;
      let dot = 0, nx = 0; for (let p = 0; p < d; p++) { dot += X[i * d + p] * st.centroids[c * d + p]; nx += X[i * d + p] ** 2; }
      expect(st.sims[i]).toBeCloseTo(dot / Math.sqrt(nx), 5);
    }
    const withNoise = y.slice(); withNoise[0] = -1;
    expect(Number.isNaN(clusterStats(X, n, d, withNoise).sims[0])).toBe(true);
  });

  it('dropDuplicateSources keeps the member closest to the centroid per source and cluster', () => {
    const st = clusterStats(X, n, d, y);
    const src = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 3)); // 3 crops per photo, same cluster
    const r = dropDuplicateSources(y, src, st.sims);
    expect(r.dropped).toBe(n - n / 3);
    for (let g = 0; g < n / 3; g++) {
      const kept = [0, 1, 2].map((o) => g * 3 + o).filter((i) => r.labels[i] >= 0);
      expect(kept).toHaveLength(1);
      const best = [0, 1, 2].map((o) => g * 3 + o).reduce((a, b) => (st.sims[b] > st.sims[a] ? b : a));
      expect(kept[0]).toBe(best);
    }
    // same source in different clusters is not a duplicate
    const src2 = Int32Array.from({ length: n }, (_, i) => i % 30);
    expect(dropDuplicateSources(y, src2, st.sims).dropped).toBe(0);
  });

  it('filters, relabelling and the report', () => {
    const st = clusterStats(X, n, d, y);
    const f = filterBySimilarity(y, st.sims, 0.7);
    for (let i = 0; i < n; i++) expect(f.labels[i] >= 0).toBe(st.sims[i] >= 0.7);
    expect(f.dropped).toBeGreaterThan(0);
    const lab = Int32Array.from([0, 0, 0, 1, 1, 2, -1, 5, 5, 5, 5]);
    const m = filterMinSize(lab, 3);
    expect(Array.from(m.labels)).toEqual([0, 0, 0, -1, -1, -1, -1, 5, 5, 5, 5]);
    expect(m.clustersRemoved).toBe(2);
    expect(Array.from(relabelDense(m.labels))).toEqual([1, 1, 1, -1, -1, -1, -1, 0, 0, 0, 0]);
    const rep = sizeReport(lab, m.labels, 2);
    expect(rep.before.top).toEqual([{ id: 5, size: 4 }, { id: 0, size: 3 }]);
    expect(rep.before.tail).toEqual([{ id: 2, size: 1 }, { id: 1, size: 2 }]);
    expect(rep.after.clusters).toBe(2);
    expect(rep.after.noise).toBe(4);
    expect(() => filterMinSize(lab, 0)).toThrow(/^min:/);
    expect(() => filterBySimilarity(lab, new Float32Array(lab.length), 2)).toThrow(/^threshold:/);
    expect(() => dropDuplicateSources(lab, [1, 2], new Float32Array(lab.length))).toThrow(/^sourceIds:/);
  });

  it('pipeline: duplicates, similarity floor, min size; report before/after', () => {
    const src = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 2));
    const out = postprocess(X, n, d, y, { sourceIds: src, similarity: 0.5, minSize: 5, samples: 3 });
    expect(out.report.steps.map((s) => s.step)).toEqual(['dropDuplicateSources', 'filterBySimilarity(0.5)', 'filterMinSize(5)']);
    expect(out.report.before.clustered).toBe(n);
    expect(out.report.after.clustered).toBe(n - out.report.steps.reduce((a, s) => a + s.dropped, 0));
    for (const c of out.stats.clusters) expect(c.size).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < n; i++) if (out.labels[i] >= 0) expect(out.labels[i]).toBe(y[i]);
  });
});
