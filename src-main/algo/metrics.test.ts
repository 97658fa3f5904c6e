import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng } from './rng.ts';
import {
  adjustedMutualInfo, adjustedRandIndex, bcubedPRF, daviesBouldin, externalScores, homogeneityCompletenessV,
  noiseShare, normalizedMutualInfo, pairwisePRF, silhouette, sizeDistribution,
} from './metrics.ts';

const PY = '/usr/bin/python3';
const hasSklearn = existsSync(PY) && (() => {
  try { execFileSync(PY, ['-c', 'import sklearn'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

/** Runs a Python snippet that reads JSON from stdin and prints JSON. */
function py(code: string, input: unknown): any {
  return JSON.parse(execFileSync(PY, ['-c', code], { input: JSON.stringify(input), maxBuffer: 1 << 26 }).toString());
}

function randomLabels(n: number, k: number, seed: number, noise = 0): Int32Array {
  const r = createRng(seed);
  return Int32Array.from({ length: n }, () => (r.next() < noise ? -1 : r.int(k)));
}

/** a noisy copy of `t`: a share of labels replaced at random */
function perturb(t: Int32Array, k: number, share: number, seed: number, noise = 0): Int32Array {
  const r = createRng(seed);
  return t.map((v) => (r.next() < noise ? -1 : r.next() < share ? r.int(k) : v));
}

const EXTERNAL_PY = `
import sys, json
from sklearn import metrics as m
cases = json.load(sys.stdin)
out = []
for t, p in cases:
    h, c, v = m.homogeneity_completeness_v_measure(t, p)
    out.append(dict(ami=m.adjusted_mutual_info_score(t, p), ari=m.adjusted_rand_score(t, p),
                    nmi=m.normalized_mutual_info_score(t, p), h=h, c=c, v=v))
print(json.dumps(out))
`;

function cases(): Array<[Int32Array, Int32Array]> {
  const t1 = randomLabels(300, 7, 1);
  const t2 = randomLabels(2000, 40, 2);
  const t3 = randomLabels(500, 12, 3);
  return [
    [t1, perturb(t1, 7, 0.3, 11)],
    [t1, randomLabels(300, 5, 12)], // independent: AMI ~ 0
    [t2, perturb(t2, 55, 0.2, 13)],
    [t3, perturb(t3, 12, 0.1, 14, 0.25)], // with DBSCAN-style noise -1
    [Int32Array.from([0, 0, 1, 1]), Int32Array.from([1, 1, 0, 0])], // permutation
    [Int32Array.from([0, 0, 0, 0]), Int32Array.from([0, 1, 2, 3])], // one class vs singletons
  ];
}

describe('external metrics vs scikit-learn', () => {
  it.skipIf(!hasSklearn)('AMI, ARI, NMI, homogeneity, completeness, V match sklearn 1.2 to 1e-9', () => {
    const cs = cases();
    const ref = py(EXTERNAL_PY, cs.map(([t, p]) => [Array.from(t), Array.from(p)]));
    cs.forEach(([t, p], i) => {
      const hcv = homogeneityCompletenessV(t, p);
      expect(adjustedMutualInfo(t, p)).toBeCloseTo(ref[i].ami, 9);
      expect(adjustedRandIndex(t, p)).toBeCloseTo(ref[i].ari, 9);
      expect(normalizedMutualInfo(t, p)).toBeCloseTo(ref[i].nmi, 9);
      expect(hcv.homogeneity).toBeCloseTo(ref[i].h, 9);
      expect(hcv.completeness).toBeCloseTo(ref[i].c, 9);
      expect(hcv.vMeasure).toBeCloseTo(ref[i].v, 9);
    });
  });

  it('AMI on a fixed small case equals the value sklearn prints', () => {
    // /usr/bin/python3 -c "from sklearn.metrics import *; t=[0,0,0,1,1,1,2,2,2,2]; p=[0,0,1,1,1,2,2,2,-1,-1];
    //   print(adjusted_mutual_info_score(t,p), adjusted_rand_score(t,p), normalized_mutual_info_score(t,p))"
    // -> 0.3393713656092224 0.23728813559322035 0.5759466679735676   (sklearn 1.2.1)
    const t = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2], p = [0, 0, 1, 1, 1, 2, 2, 2, -1, -1];
    expect(adjustedMutualInfo(t, p)).toBeCloseTo(0.3393713656092224, 10);
    expect(adjustedRandIndex(t, p)).toBeCloseTo(0.23728813559322035, 10);
    expect(normalizedMutualInfo(t, p)).toBeCloseTo(0.5759466679735676, 10);
  });

  it('noise as singletons differs from noise as one label, and never helps a noisy answer', () => {
    const t = randomLabels(400, 8, 5);
    const p = perturb(t, 8, 0.05, 6, 0.3);
    const asLabel = adjustedMutualInfo(t, p);
    const asSingletons = adjustedMutualInfo(t, p, { noise: 'singletons' });
    expect(asSingletons).not.toBeCloseTo(asLabel, 3);
    expect(pairwisePRF(t, p, { noise: 'singletons' }).precision).toBeGreaterThanOrEqual(pairwisePRF(t, p).precision);
  });

  it('pairwise and BCubed precision/recall by hand', () => {
    // true {0,1,2},{3,4}; pred {0,1},{2,3,4}
    const t = [0, 0, 0, 1, 1], p = [0, 0, 1, 1, 1];
    // pairs: pred-together {01, 23, 24, 34} = 4, true-together {01,02,12,34} = 4, both {01, 34} = 2
    const pw = pairwisePRF(t, p);
    expect(pw.precision).toBeCloseTo(0.5, 12);
    expect(pw.recall).toBeCloseTo(0.5, 12);
    // BCubed precision: items 0,1: 2/2; item 2: 1/3; items 3,4: 2/3 -> (1+1+1/3+2/3+2/3)/5
    const b = bcubedPRF(t, p);
    expect(b.precision).toBeCloseTo((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3) / 5, 12);
    // recall: items 0,1: 2/3; item 2: 1/3; items 3,4: 2/2
    expect(b.recall).toBeCloseTo((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5, 12);
    const perfect = externalScores(t, t);
    expect(perfect.ami).toBe(1);
    expect(perfect.pairwise.f).toBe(1);
    expect(perfect.bcubed.f).toBe(1);
  });

  it('rejects label vectors of different lengths naming the parameter', () => {
    expect(() => adjustedMutualInfo([0, 1], [0])).toThrow(/labelsPred/);
    try { adjustedRandIndex([0, 1], [0]); } catch (e) { expect((e as { code: string }).code).toBe('BAD_ARGUMENT'); }
  });
});

describe('internal metrics', () => {
  function blobs(n: number, d: number, k: number, seed: number): { X: Float32Array; y: Int32Array } {
    const r = createRng(seed);
    const C = Float32Array.from({ length: k * d }, () => r.normal());
    const X = new Float32Array(n * d), y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % k; y[i] = c;
      for (let p = 0; p < d; p++) X[i * d + p] = C[c * d + p] + 0.6 * r.normal();
    }
    return { X, y };
  }

  it.skipIf(!hasSklearn)('silhouette (cosine, euclidean) and Davies-Bouldin match sklearn, noise left out', async () => {
    const n = 600, d = 16;
    const { X, y } = blobs(n, d, 5, 7);
    const lab = perturb(y, 5, 0.1, 8, 0.1);
    const ref = py(`
import sys, json, numpy as np
from sklearn import metrics as m
a = json.load(sys.stdin); X = np.array(a['X'], dtype=np.float32).reshape(-1, a['d']); l = np.array(a['l'])
k = l >= 0; Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
print(json.dumps(dict(cos=float(m.silhouette_score(X[k], l[k], metric='cosine')), euc=float(m.silhouette_score(X[k], l[k])),
    db_euc=float(m.davies_bouldin_score(X[k], l[k])), db_cos=float(m.davies_bouldin_score(Xn[k], l[k])))))
`, { X: Array.from(X), d, l: Array.from(lab) });
    const sc = await silhouette(X, n, d, lab, { metric: 'cosine' });
    const se = await silhouette(X, n, d, lab, { metric: 'euclidean' });
    expect(sc.score).toBeCloseTo(ref.cos, 4);
    expect(se.score).toBeCloseTo(ref.euc, 4);
    expect(sc.n).toBe(Array.from(lab).filter((v) => v >= 0).length);
    expect(daviesBouldin(X, n, d, lab, { metric: 'euclidean' })).toBeCloseTo(ref.db_euc, 4);
    expect(daviesBouldin(X, n, d, lab)).toBeCloseTo(ref.db_cos, 4);
  });

  it('silhouette samples above sampleSize with a seed: deterministic, close to the full value', async () => {
    const n = 3000, d = 8;
    const { X, y } = blobs(n, d, 6, 9);
    const full = await silhouette(X, n, d, y, { sampleSize: 10000 });
    const s1 = await silhouette(X, n, d, y, { sampleSize: 1000, seed: 3 });
    const s2 = await silhouette(X, n, d, y, { sampleSize: 1000, seed: 3 });
    expect(s1.n).toBe(1000);
    expect(s1.score).toBe(s2.score);
    expect(Math.abs(s1.score - full.score)).toBeLessThan(0.05);
    expect(full.score).toBeGreaterThan(0.3);
    expect(Number.isNaN((await silhouette(X, n, d, new Int32Array(n))).score)).toBe(true);
    await expect(silhouette(X, n, d, y, { sampleSize: 1 })).rejects.toThrow(/sampleSize/);
  });

  it('size distribution and noise share', () => {
    const l = Int32Array.from([3, 3, 3, -1, 5, 5, 7, -1, -1, 9]);
    const s = sizeDistribution(l);
    expect(Array.from(s.sizes)).toEqual([3, 2, 1, 1]);
    expect(Array.from(s.clusterIds)).toEqual([3, 5, 7, 9]);
    expect(s.count).toBe(4);
    expect(s.min).toBe(1); expect(s.max).toBe(3); expect(s.median).toBe(1.5);
    expect(s.noise).toBe(3); expect(s.noiseShare).toBeCloseTo(0.3, 12); expect(s.singletons).toBe(2);
    expect(noiseShare(l)).toBeCloseTo(0.3, 12);
  });
});
