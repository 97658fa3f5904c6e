/**
 * Approximate k-nearest neighbours for large n: a forest of random-projection trees (hyperplane between two random
 * points of the node, as pynndescent's rp-trees) with large leaves; inside each leaf the exact neighbours are found
 * with one matrix product (Gemm) over the full-dimensional vectors, and the per-point k-best lists are merged across
 * trees. Optionally refined with NN-descent style "neighbours of neighbours" passes.
 *
 * Cosine: rows must already be L2-normalized by the caller (distance 1 - dot), as for knnExact.
 */
import { AppError, badArg } from '../../common/errors.ts';
import { dot, gemmJs, rowSqNorms, sqDist, type Gemm } from '../linalg.ts';
import type { KnnResult, Metric } from '../knn.ts';
import { createRng, type Rng } from '../rng.ts';

export interface KnnForestOptions {
  metric?: Metric;
  /** number of random-projection trees (default 3) */
  nTrees?: number;
  /** maximum points per leaf (default 1024) */
  leafSize?: number;
  /** 2-means refinement steps of each split hyperplane (default 2; 0 = plain random projection) */
  twoMeansSteps?: number;
  /** neighbours-of-neighbours refinement passes (default 1) */
  refineIters?: number;
  seed?: number;
  gemm?: Gemm;
  isCancelled?: () => boolean;
}

/** Per-point bounded max-heaps (the root holds the worst of the k best). */
class KnnHeaps {
  readonly dist: Float32Array;
  readonly idx: Int32Array;
  constructor(readonly n: number, readonly k: number) {
    this.dist = new Float32Array(n * k).fill(Infinity);
    this.idx = new Int32Array(n * k).fill(-1);
  }
  /** Push j at distance dv into i's list; returns 1 when the list changed. */
  push(i: number, j: number, dv: number): number {
    const k = this.k, o = i * k, D = this.dist, I = this.idx;
    if (!(dv < D[o])) return 0;
    for (let t = 0; t < k; t++) if (I[o + t] === j) return 0;
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= k) break;
      const r = l + 1;
      const m = r < k && D[o + r] > D[o + l] ? r : l;
      if (D[o + m] <= dv) break;
      D[o + c] = D[o + m]; I[o + c] = I[o + m]; c = m;
    }
    D[o + c] = dv; I[o + c] = j;
    return 1;
  }
  /** Sorted result (nearest first). */
  toResult(): KnnResult {
    const { n, k } = this;
    const indices = new Int32Array(n * k), distances = new Float32Array(n * k);
    const ord = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      const o = i * k;
      for (let t = 0; t < k; t++) ord[t] = t;
      const sorted = Array.from(ord).sort((a, b) => this.dist[o + a] - this.dist[o + b] || this.idx[o + a] - this.idx[o + b]);
      for (let t = 0; t < k; t++) { indices[o + t] = this.idx[o + sorted[t]]; distances[o + t] = this.dist[o + sorted[t]]; }
    }
    return { n, k, indices, distances };
  }
}

/** Leaves (arrays of point indices) of one random-projection tree. */
function rpTreeLeaves(X: Float32Array, n: number, d: number, leafSize: number, angular: boolean, rng: Rng, twoMeansSteps: number): Int32Array[] {
  const leaves: Int32Array[] = [];
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const normal = new Float64Array(d);
  const stack: Int32Array[] = [all];
  const side = new Uint8Array(n);
  while (stack.length) {
    const idx = stack.pop()!;
    const m = idx.length;
    if (m <= leafSize) { leaves.push(idx); continue; }
    const a = idx[rng.int(m)];
    let b = idx[rng.int(m)];
    for (let tries = 0; b === a && tries < 8; tries++) b = idx[rng.int(m)];
    // hyperplane between two random points, then a few 2-means steps so the cut follows the gaps between clusters
    const c1 = new Float64Array(d), c2 = new Float64Array(d);
    for (let p = 0; p < d; p++) { c1[p] = X[a * d + p]; c2[p] = X[b * d + p]; }
    let left = 0;
    for (let step = 0; step <= twoMeansSteps; step++) {
      let offset = 0, nn = 0;
      for (let p = 0; p < d; p++) {
        const v = c1[p] - c2[p];
        normal[p] = v; nn += v * v;
        offset += v * 0.5 * (c1[p] + c2[p]);
      }
      if (angular) offset = 0;
      left = 0;
      if (nn <= 0) break;
      for (let t = 0; t < m; t++) {
        const i = idx[t], o = i * d;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, p = 0;
        for (; p + 3 < d; p += 4) {
          s0 += normal[p] * X[o + p]; s1 += normal[p + 1] * X[o + p + 1];
          s2 += normal[p + 2] * X[o + p + 2]; s3 += normal[p + 3] * X[o + p + 3];
        }
        for (; p < d; p++) s0 += normal[p] * X[o + p];
        const s = s0 + s1 + s2 + s3 - offset;
        const sd = s > 0 ? 0 : s < 0 ? 1 : rng.int(2);
        side[t] = sd; left += 1 - sd;
      }
      if (step === twoMeansSteps || left === 0 || left === m) break;
      c1.fill(0); c2.fill(0);
      for (let t = 0; t < m; t++) {
        const o = idx[t] * d, c = side[t] === 0 ? c1 : c2;
        for (let p = 0; p < d; p++) c[p] += X[o + p];
      }
      const i1 = 1 / left, i2 = 1 / (m - left);
      for (let p = 0; p < d; p++) { c1[p] *= i1; c2[p] *= i2; }
      if (angular) {
        let q1 = 0, q2 = 0;
        for (let p = 0; p < d; p++) { q1 += c1[p] * c1[p]; q2 += c2[p] * c2[p]; }
        q1 = q1 > 0 ? 1 / Math.sqrt(q1) : 0; q2 = q2 > 0 ? 1 / Math.sqrt(q2) : 0;
        for (let p = 0; p < d; p++) { c1[p] *= q1; c2[p] *= q2; }
      }
    }
    if (left === 0 || left === m) {
      // degenerate split (duplicates): random halves
      left = 0;
      for (let t = 0; t < m; t++) { side[t] = rng.int(2); left += 1 - side[t]; }
      if (left === 0 || left === m) { side.fill(0, 0, m >> 1); side.fill(1, m >> 1, m); left = m >> 1; }
    }
    const L = new Int32Array(left), R = new Int32Array(m - left);
    let li = 0, ri = 0;
    for (let t = 0; t < m; t++) { if (side[t] === 0) L[li++] = idx[t]; else R[ri++] = idx[t]; }
    stack.push(R, L);
  }
  return leaves;
}

/** Approximate kNN of every row of X (self excluded) with an rp-forest + exact leaf products. */
export async function knnForest(X: Float32Array, n: number, d: number, k: number, opts: KnnForestOptions = {}): Promise<KnnResult> {
  if (!Number.isInteger(k) || k < 1) throw badArg('k', `must be a positive integer, got ${k}`);
  if (k > n - 1) throw badArg('k', `${k} neighbours requested but only ${n - 1} other points exist`);
  const metric = opts.metric ?? 'cosine';
  const angular = metric === 'cosine';
  const nTrees = opts.nTrees ?? 3;
  const leafSize = Math.max(opts.leafSize ?? 1024, 2 * (k + 1));
  const gemm = opts.gemm ?? gemmJs;
  const rng = createRng(opts.seed ?? 0);
  const sq = angular ? null : rowSqNorms(X, n, d);
  const heaps = new KnnHeaps(n, k);
  const cancelled = () => { if (opts.isCancelled?.()) throw new AppError('CANCELLED', 'nearest-neighbour search cancelled'); };
  let A = new Float32Array(0), At = new Float32Array(0);
  for (let tree = 0; tree < nTrees; tree++) {
    cancelled();
    const leaves = rpTreeLeaves(X, n, d, leafSize, angular, rng, opts.twoMeansSteps ?? 2);
    for (const leaf of leaves) {
      const m = leaf.length;
      if (m < 2) continue;
      if (A.length < m * d) { A = new Float32Array(m * d); At = new Float32Array(m * d); }
      for (let r = 0; r < m; r++) {
        const src = leaf[r] * d;
        A.set(X.subarray(src, src + d), r * d);
        for (let p = 0; p < d; p++) At[p * m + r] = X[src + p];
      }
      const S = await gemm(A.subarray(0, m * d), m, At.subarray(0, m * d), m, d);
      for (let r = 0; r < m; r++) {
        const i = leaf[r];
        const so = r * m;
        for (let c = 0; c < m; c++) {
          if (c === r) continue;
          const j = leaf[c];
          const dv = angular ? Math.max(0, 1 - S[so + c]) : Math.sqrt(Math.max(0, sq![i] + sq![j] - 2 * S[so + c]));
          heaps.push(i, j, dv);
        }
      }
      cancelled();
    }
  }
  // refinement: for each point try the neighbours of its neighbours (new ones only after the first pass)
  const iters = opts.refineIters ?? 1;
  const dist = (i: number, j: number): number => angular
    ? Math.max(0, 1 - dot(X, i * d, X, j * d, d))
    : Math.sqrt(sqDist(X, i * d, X, j * d, d));
  for (let it = 0; it < iters; it++) {
    cancelled();
    const snapshot = heaps.idx.slice();
    let updates = 0;
    for (let i = 0; i < n; i++) {
      const o = i * k;
      for (let a = 0; a < k; a++) {
        const j = snapshot[o + a];
        if (j < 0) continue;
        const jo = j * k;
        for (let b = 0; b < k; b++) {
          const l = snapshot[jo + b];
          if (l < 0 || l === i) continue;
          // cheap reject: already present
          const dv = dist(i, l);
          updates += heaps.push(i, l, dv);
          updates += heaps.push(l, i, dv);
        }
      }
      if ((i & 1023) === 0) cancelled();
    }
    if (updates < 0.001 * n * k) break;
  }
  return heaps.toResult();
}
