import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrtGemm } from '../../core/gemm-ort.ts';
import { SHARED } from '../../testing/fixtures.ts';
import { readNpyLabels, readNpyMatrix } from '../../core/npy-file.ts';
import type { Gemm } from '../linalg.ts';
import { adjustedMutualInfo, adjustedRandIndex } from '../metrics.ts';
import { createRng } from '../rng.ts';
import { dbscan, epsFromKDistance } from './dbscan.ts';

const C3X = path.resolve(SHARED, 'data/matrices/c3_5000x128_X.npy');
const C3Y = path.resolve(SHARED, 'data/matrices/c3_5000x128_y.npy');
const PY = '/usr/bin/python3';
const hasSklearn = existsSync(PY) && (() => {
  try { execFileSync(PY, ['-c', 'import sklearn'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

/** the peers' DBSCAN records on c3 (eps chosen by their k-distance quantile) */
function peerRuns(): Array<{ eps: number; q: number; ami: number; clusters: number; noise: number }> {
  const lines = readFileSync(path.resolve(SHARED, 'reference/peers/peers-runs.jsonl'), 'utf8').split('\n').filter(Boolean);
  const out = new Map<number, { eps: number; q: number; ami: number; clusters: number; noise: number }>();
  for (const l of lines) {
    const r = JSON.parse(l);
    if (r.tag === 'c3_5000x128' && r.method === 'dbscan') {
      out.set(r.extra.eps_q, { eps: r.extra.eps, q: r.extra.eps_q, ami: r.quality.AMI, clusters: r.extra.n_clusters_found, noise: r.extra.noise_frac });
    }
  }
  return [...out.values()];
}

let gemm: Gemm & { release(): Promise<void> };
beforeAll(async () => { gemm = await createOrtGemm(1); });
afterAll(async () => { await gemm.release(); });

describe('DBSCAN on c3_5000x128 at the peers\' eps values', () => {
  const X = readNpyMatrix(C3X);
  const y = readNpyLabels(C3Y);
  const runs = peerRuns();

  it('reproduces the peers\' cluster count, noise share and AMI (peers-runs.jsonl)', async () => {
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const r of runs) {
      const res = await dbscan(X.data, X.rows, X.cols, r.eps, 5, { gemm });
      expect(res.nClusters).toBe(r.clusters);
      expect(Math.abs(res.noiseCount / X.rows - r.noise)).toBeLessThan(0.002);
      expect(Math.abs(adjustedMutualInfo(y, res.labels) - r.ami)).toBeLessThan(0.02);
    }
  });

  it.skipIf(!hasSklearn)('labels agree with sklearn DBSCAN(metric=cosine) run now (ARI >= 0.99), core masks agree', async () => {
    for (const r of runs.slice(0, 2)) {
      const ref = JSON.parse(execFileSync(PY, ['-c', `
import json, numpy as np
from sklearn.cluster import DBSCAN
X = np.load(${JSON.stringify(C3X)})
m = DBSCAN(eps=${r.eps}, min_samples=5, metric='cosine').fit(X)
core = np.zeros(len(X), dtype=int); core[m.core_sample_indices_] = 1
print(json.dumps(dict(labels=m.labels_.tolist(), core=core.tolist())))
`], { maxBuffer: 1 << 26 }).toString());
      const res = await dbscan(X.data, X.rows, X.cols, r.eps, 5, { gemm });
      expect(adjustedRandIndex(ref.labels, res.labels)).toBeGreaterThanOrEqual(0.99);
      let coreDiff = 0;
      for (let i = 0; i < X.rows; i++) if (ref.core[i] !== res.coreMask[i]) coreDiff++;
      expect(coreDiff).toBeLessThanOrEqual(5);
    }
  });

  it('eps from the k-distance quantile is close to the peers\' eps', async () => {
    const r = createRng(0);
    const sample = Int32Array.from({ length: 2000 }, () => r.int(X.rows));
    for (const run of runs) {
      const eps = await epsFromKDistance(X.data, X.rows, X.cols, 5, run.q, sample, { gemm });
      expect(Math.abs(eps - run.eps)).toBeLessThan(0.02);
    }
  });
});

describe('DBSCAN invariants and parameters', () => {
  // three tight groups on the circle plus two far points
  const ang = [0, 0.02, 0.04, 0.06, 2, 2.02, 2.04, 2.06, 4, 4.02, 4.04, 4.06, 1, 3];
  const X = Float32Array.from(ang.flatMap((a) => [Math.cos(a), Math.sin(a)]));
  const n = ang.length;

  it('groups, noise and core samples by hand; euclidean agrees; deterministic', async () => {
    const r = await dbscan(X, n, 2, 0.01, 3);
    expect(Array.from(r.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, -1, -1]);
    expect(r.nClusters).toBe(3);
    expect(r.noiseCount).toBe(2);
    expect(Array.from(r.coreMask)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    const b = await dbscan(X, n, 2, 0.0005, 3); // only 0.02 rad apart are neighbours: arc ends are border points
    expect(Array.from(b.coreMask.subarray(0, 4))).toEqual([0, 1, 1, 0]);
    expect(Array.from(b.labels.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    const e = await dbscan(X, n, 2, 0.1, 3, { metric: 'euclidean', blockRows: 5 });
    expect(Array.from(e.labels)).toEqual(Array.from(r.labels));
    const all = await dbscan(X, n, 2, 2, 1);
    expect(Array.from(all.labels)).toEqual(new Array(n).fill(0));
  });

  it('bad parameters throw BAD_ARGUMENT naming the parameter', async () => {
    const bad = [
      [() => dbscan(X, n, 2, 0, 3), /^eps:/],
      [() => dbscan(X, n, 2, -0.1, 3), /^eps:/],
      [() => dbscan(X, n, 2, Number.NaN, 3), /^eps:/],
      [() => dbscan(X, n, 2, 0.1, 0), /^minSamples:/],
      [() => dbscan(X, n, 2, 0.1, 2.5), /^minSamples:/],
      [() => dbscan(X, n, 2, 0.1, 3, { metric: 'l1' as never }), /^metric:/],
      [() => dbscan(Float32Array.from([1, Number.NaN, 0, 1]), 2, 2, 0.1, 1), /^X:/],
    ] as const;
    for (const [f, re] of bad) await expect(f()).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(re) });
    await expect(dbscan(X, n, 2, 0.1, 3, { isCancelled: () => true })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
