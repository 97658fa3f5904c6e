/**
 * Approximate k-nearest-neighbour graph for large n, by candidate search with matrix products inside k-means cells:
 *
 * 1. C = n / cellSize cells: k-means (a few Lloyd steps through the Gemm) on a uniform sample of rows.
 * 2. Every row is assigned to its `probes` nearest cells (blocked products of the rows with the centroids).
 * 3. Per cell, one product of its rows (those whose nearest cell it is) with every row that probes it; each row keeps
 *    its k best candidates. Each row is a query exactly once, so its k-best list is local (no global heaps, no dedupe).
 *
 * Cost ~ n * probes * cellSize * d multiply-adds in the Gemm (vs n^2 d for the exact graph) plus n * C * d for the
 * assignment. Distances are euclidean on the rows as given (for cosine, pass L2-normalized rows: euclidean is then
 * sqrt(2 - 2 cos), the same order). `graphRecall` measures recall against exact neighbours on a sample of rows.
 *
 * Pure numeric code: no I/O; the products run through the injected Gemm.
 */
import { AppError, badArg } from '../common/errors.ts';
import { gemmJs, rowSqNorms, transpose, type Gemm } from './linalg.ts';
import { kmeans } from './cluster/kmeans.ts';
import { createRng } from './rng.ts';

export interface KnnGraph {
  n: number;
  k: number;
  /** n*k neighbour indices, each row nearest first (-1 where a row found fewer than k candidates) */
  indices: Int32Array;
  /** n*k euclidean distances matching `indices` (Infinity where -1) */
  distances: Float32Array;
  stats: { cells: number; probes: number; meanCandidates: number; products: number };
}

export interface KnnGraphOptions {
  gemm?: Gemm;
  /** target rows per cell (default 256) */
  cellSize?: number;
  /** cells each row is a candidate in (default 2) */
  probes?: number;
  /** Lloyd steps of the cell k-means (default 6) */
  kmeansIter?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

const cancelled = (): AppError => new AppError('CANCELLED', 'nearest-neighbour graph cancelled');

/** Approximate k nearest neighbours (self excluded, euclidean) of every row of X. */
export async function approxKnnGraph(X: Float32Array, n: number, d: number, k: number, opts: KnnGraphOptions = {}): Promise<KnnGraph> {
  if (!Number.isInteger(n) || n < 2) throw badArg('n', `need at least 2 rows, got ${n}`);
  if (!Number.isInteger(k) || k < 1 || k > n - 1) throw badArg('k', `must be an integer in [1, ${n - 1}], got ${k}`);
  if (X.length < n * d) throw badArg('X', `has ${X.length} values, expected ${n} x ${d}`);
  const cellSize = opts.cellSize ?? 256;
  if (!Number.isInteger(cellSize) || cellSize < 2) throw badArg('cellSize', `must be an integer >= 2, got ${cellSize}`);
  const gemm = opts.gemm ?? gemmJs;
  const C = Math.max(1, Math.round(n / cellSize));
  const probes = Math.min(C, Math.max(1, opts.probes ?? 2));
  const rng = createRng(opts.seed ?? 0);
  const sq = rowSqNorms(X, n, d);
  const check = () => { if (opts.isCancelled?.()) throw cancelled(); };

  // 1. cells: k-means on a sample, initialized on random sample rows
  let centroids: Float32Array;
  if (C === 1) centroids = new Float32Array(d);
  else {
    const s = Math.min(n, Math.max(C * 16, 4096));
    const pick = sampleDistinct(n, s, rng);
    const S = new Float32Array(s * d);
    for (let t = 0; t < s; t++) S.set(X.subarray(pick[t] * d, pick[t] * d + d), t * d);
    const init = S.slice(0, C * d);
    const km = await kmeans(S, s, d, C, { metric: 'euclidean', init, maxIter: opts.kmeansIter ?? 6, gemm, isCancelled: opts.isCancelled });
    centroids = km.centroids;
  }
  check();

  // 2. each row's `probes` nearest cells
  const near = new Int32Array(n * probes);
  if (C === 1) near.fill(0);
  else {
    const Ct = transpose(centroids, C, d);
    const csq = rowSqNorms(centroids, C, d);
    const block = Math.max(64, Math.min(n, Math.floor((8 << 20) / C)));
    const bs = new Float32Array(probes), bi = new Int32Array(probes);
    for (let b0 = 0; b0 < n; b0 += block) {
      check();
      const b1 = Math.min(n, b0 + block);
      const P = await gemm(X.subarray(b0 * d, b1 * d), b1 - b0, Ct, C, d);
      for (let r = 0; r < b1 - b0; r++) {
        bs.fill(Infinity); bi.fill(-1);
        const o = r * C;
        for (let c = 0; c < C; c++) {
          const v = csq[c] - 2 * P[o + c];
          if (v < bs[probes - 1]) {
            let t = probes - 1;
            while (t > 0 && bs[t - 1] > v) { bs[t] = bs[t - 1]; bi[t] = bi[t - 1]; t--; }
            bs[t] = v; bi[t] = c;
          }
        }
        near.set(bi, (b0 + r) * probes);
      }
    }
  }

  // 3. per cell: queries (nearest cell) x candidates (probing rows)
  const qStart = new Int32Array(C + 1), cStart = new Int32Array(C + 1);
  for (let i = 0; i < n; i++) {
    qStart[near[i * probes] + 1]++;
    for (let p = 0; p < probes; p++) cStart[near[i * probes + p] + 1]++;
  }
  for (let c = 0; c < C; c++) { qStart[c + 1] += qStart[c]; cStart[c + 1] += cStart[c]; }
  const qList = new Int32Array(n), cList = new Int32Array(n * probes);
  {
    const qf = qStart.slice(0, C), cf = cStart.slice(0, C);
    for (let i = 0; i < n; i++) {
      qList[qf[near[i * probes]]++] = i;
      for (let p = 0; p < probes; p++) cList[cf[near[i * probes + p]]++] = i;
    }
  }
  const indices = new Int32Array(n * k).fill(-1);
  const distances = new Float32Array(n * k).fill(Infinity);
  let maxQ = 0, maxCand = 0;
  for (let c = 0; c < C; c++) {
    maxQ = Math.max(maxQ, qStart[c + 1] - qStart[c]);
    maxCand = Math.max(maxCand, cStart[c + 1] - cStart[c]);
  }
  const A = new Float32Array(Math.min(maxQ, 1024) * d);
  const Bt = new Float32Array(maxCand * d);
  const hs = new Float32Array(k), hi = new Int32Array(k);
  let products = 0;
  for (let c = 0; c < C; c++) {
    check();
    const c0 = cStart[c], m = cStart[c + 1] - c0;
    if (m < 2) continue;
    for (let t = 0; t < m; t++) {
      const o = cList[c0 + t] * d;
      for (let p = 0; p < d; p++) Bt[p * m + t] = X[o + p];
    }
    // queries in chunks of at most 1024 rows (bounded product buffer)
    for (let q0 = qStart[c]; q0 < qStart[c + 1]; q0 += 1024) {
      const q1 = Math.min(qStart[c + 1], q0 + 1024), rows = q1 - q0;
      for (let r = 0; r < rows; r++) A.set(X.subarray(qList[q0 + r] * d, qList[q0 + r] * d + d), r * d);
      const S = await gemm(A.subarray(0, rows * d), rows, Bt.subarray(0, d * m), m, d);
      products += rows * m;
      for (let r = 0; r < rows; r++) {
        const i = qList[q0 + r];
        const so = r * m;
        // max-heap on squared distance minus |x_i|^2: v = |x_j|^2 - 2 x_i.x_j
        let size = 0;
        for (let t = 0; t < m; t++) {
          const j = cList[c0 + t];
          if (j === i) continue;
          const v = sq[j] - 2 * S[so + t];
          if (size < k) {
            let x = size++;
            while (x > 0) { const pp = (x - 1) >> 1; if (hs[pp] >= v) break; hs[x] = hs[pp]; hi[x] = hi[pp]; x = pp; }
            hs[x] = v; hi[x] = j;
          } else if (v < hs[0]) {
            let x = 0;
            for (;;) {
              const l = 2 * x + 1;
              if (l >= k) break;
              const rr = l + 1;
              const mm = rr < k && hs[rr] > hs[l] ? rr : l;
              if (hs[mm] <= v) break;
              hs[x] = hs[mm]; hi[x] = hi[mm]; x = mm;
            }
            hs[x] = v; hi[x] = j;
          }
        }
        // pop into the row, farthest last
        const o = i * k, si = sq[i];
        for (let last = size - 1; last >= 0; last--) {
          const v = hs[0], j = hi[0];
          const lv = hs[last], lj = hi[last];
          let x = 0;
          for (;;) {
            const l = 2 * x + 1;
            if (l >= last) break;
            const rr = l + 1;
            const mm = rr < last && hs[rr] > hs[l] ? rr : l;
            if (hs[mm] <= lv) break;
            hs[x] = hs[mm]; hi[x] = hi[mm]; x = mm;
          }
          hs[x] = lv; hi[x] = lj;
          indices[o + last] = j;
          distances[o + last] = Math.sqrt(Math.max(0, si + v));
        }
      }
    }
    opts.onProgress?.(qStart[c + 1], n);
  }
  return { n, k, indices, distances, stats: { cells: C, probes, meanCandidates: products / n, products } };
}

/** s distinct indices in [0, n), in increasing order. */
function sampleDistinct(n: number, s: number, rng: ReturnType<typeof createRng>): Int32Array {
  if (s >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const chosen = new Uint8Array(n);
  let got = 0;
  while (got < s) { const i = rng.int(n); if (!chosen[i]) { chosen[i] = 1; got++; } }
  const out = new Int32Array(s);
  for (let i = 0, t = 0; i < n; i++) if (chosen[i]) out[t++] = i;
  return out;
}

/**
 * Recall of a kNN graph against exact neighbours on `sample` rows drawn with `seed`: the share of each sampled row's
 * exact k nearest (self excluded, euclidean) that the graph lists. One product of the sample with X in row blocks.
 */
export async function graphRecall(
  X: Float32Array, n: number, d: number, g: Pick<KnnGraph, 'k' | 'indices'>,
  opts: { sample?: number; seed?: number; gemm?: Gemm; isCancelled?: () => boolean } = {},
): Promise<{ recall: number; sample: number; k: number }> {
  const k = g.k;
  const s = Math.min(n, Math.max(1, opts.sample ?? 200));
  const gemm = opts.gemm ?? gemmJs;
  const rows = sampleDistinct(n, s, createRng(opts.seed ?? 12345));
  const Q = new Float32Array(s * d);
  for (let t = 0; t < s; t++) Q.set(X.subarray(rows[t] * d, rows[t] * d + d), t * d);
  const Qt = transpose(Q, s, d);
  // per sampled row, a max-heap of the k best squared distances (minus |q|^2)
  const hs = new Float32Array(s * k).fill(Infinity), hi = new Int32Array(s * k).fill(-1);
  const block = Math.max(64, Math.min(n, Math.floor((8 << 20) / s)));
  for (let b0 = 0; b0 < n; b0 += block) {
    if (opts.isCancelled?.()) throw cancelled();
    const b1 = Math.min(n, b0 + block);
    const P = await gemm(X.subarray(b0 * d, b1 * d), b1 - b0, Qt, s, d);
    for (let r = 0; r < b1 - b0; r++) {
      const j = b0 + r;
      let sj = 0;
      for (let p = 0, o = j * d; p < d; p++) sj += X[o + p] * X[o + p];
      for (let t = 0; t < s; t++) {
        if (rows[t] === j) continue;
        const v = sj - 2 * P[r * s + t];
        const o = t * k;
        if (!(v < hs[o])) continue;
        let x = 0;
        for (;;) {
          const l = 2 * x + 1;
          if (l >= k) break;
          const rr = l + 1;
          const mm = rr < k && hs[o + rr] > hs[o + l] ? rr : l;
          if (hs[o + mm] <= v) break;
          hs[o + x] = hs[o + mm]; hi[o + x] = hi[o + mm]; x = mm;
        }
        hs[o + x] = v; hi[o + x] = j;
      }
    }
  }
  let hit = 0, total = 0;
  for (let t = 0; t < s; t++) {
    const listed = new Set<number>();
    for (let u = 0; u < k; u++) listed.add(g.indices[rows[t] * k + u]);
    for (let u = 0; u < k; u++) { const j = hi[t * k + u]; if (j < 0) continue; total++; if (listed.has(j)) hit++; }
  }
  return { recall: total ? hit / total : 1, sample: s, k };
}
