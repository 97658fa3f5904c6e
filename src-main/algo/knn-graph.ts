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
  /** largestCell: candidates of the largest cell (uneven cells cost their size squared) */
  stats: { cells: number; probes: number; meanCandidates: number; products: number; largestCell: number };
}

export interface KnnGraphOptions {
  gemm?: Gemm;
  /** target rows per cell (default 256) */
  cellSize?: number;
  /** cells each row is a candidate in (default 2) */
  probes?: number;
  /** two-level cells: coarse cells whose fine cells each row is scored against (default 8; 300k: recall 0.87 with 2, 0.93 with 4, 0.96 with 8) */
  coarseProbes?: number;
  /** more cells than this: two-level cells (default 400) */
  twoLevelAbove?: number;
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
  const C0 = Math.max(1, Math.round(n / cellSize));
  const probes = Math.min(C0, Math.max(1, opts.probes ?? 2));
  const twoLevelAbove = opts.twoLevelAbove ?? 400;
  const rng = createRng(opts.seed ?? 0);
  const sq = rowSqNorms(X, n, d);
  const check = () => { if (opts.isCancelled?.()) throw cancelled(); };

  // 1-2. cells (k-means on a sample, initialized on random sample rows) and each row's `probes` nearest cells. Past
  // `twoLevelAbove` cells, two levels: sqrt(C) coarse cells, fine cells inside each, and each row scored only against
  // the fine cells of its two nearest coarse ones (n * (sqrt(C) + 2 C / sqrt(C)) * d instead of n * C * d)
  let C = C0;
  let near: Int32Array;
  const kIter = opts.kmeansIter ?? 6;
  if (C0 === 1) near = new Int32Array(n * probes);
  else {
    // 16 sample rows per cell: with fewer, fine cells come out uneven and a large cell costs its size squared
    const s = Math.min(n, Math.max(C0 * 16, 4096));
    const pick = sampleDistinct(n, s, rng);
    const S = new Float32Array(s * d);
    for (let t = 0; t < s; t++) S.set(X.subarray(pick[t] * d, pick[t] * d + d), t * d);
    if (C0 <= twoLevelAbove) {
      const km = await kmeans(S, s, d, C0, { metric: 'euclidean', init: S.slice(0, C0 * d), maxIter: kIter, gemm, isCancelled: opts.isCancelled });
      near = (await nearestCentroids(X, null, n, d, km.centroids, C0, probes, gemm, check)).idx;
    } else {
      const C1 = Math.max(2, Math.round(Math.sqrt(C0)));
      const coarse = await kmeans(S, s, d, C1, { metric: 'euclidean', init: S.slice(0, C1 * d), maxIter: kIter, gemm, isCancelled: opts.isCancelled });
      // fine cells per coarse cell, in proportion to its share of the sample
      const fine: Float32Array[] = [];
      const fineStart = new Int32Array(C1 + 1);
      for (let g = 0; g < C1; g++) {
        check();
        const mem: number[] = [];
        for (let t = 0; t < s; t++) if (coarse.labels[t] === g) mem.push(t);
        let kg = Math.max(1, Math.round((C0 * mem.length) / s));
        const Sg = new Float32Array(mem.length * d);
        mem.forEach((t, u) => Sg.set(S.subarray(t * d, t * d + d), u * d));
        if (mem.length === 0) { fine.push(coarse.centroids.slice(g * d, g * d + d)); kg = 1; }
        else if (mem.length <= kg) { fine.push(Sg); kg = mem.length; }
        else fine.push((await kmeans(Sg, mem.length, d, kg, { metric: 'euclidean', init: Sg.slice(0, kg * d), maxIter: kIter, gemm, isCancelled: opts.isCancelled })).centroids);
        fineStart[g + 1] = fineStart[g] + kg;
      }
      C = fineStart[C1];
      const cp = Math.min(C1, Math.max(1, opts.coarseProbes ?? 8));
      const top2 = (await nearestCentroids(X, null, n, d, coarse.centroids, C1, cp, gemm, check)).idx;
      const best = new Float32Array(n * probes).fill(Infinity);
      near = new Int32Array(n * probes).fill(-1);
      for (let g = 0; g < C1; g++) {
        const rows: number[] = [];
        for (let i = 0; i < n; i++) for (let t = 0; t < cp; t++) if (top2[i * cp + t] === g) { rows.push(i); break; }
        const kg = fineStart[g + 1] - fineStart[g];
        const r = await nearestCentroids(X, Int32Array.from(rows), rows.length, d, fine[g], kg, Math.min(probes, kg), gemm, check);
        const pg = Math.min(probes, kg);
        for (let u = 0; u < rows.length; u++) {
          const o = rows[u] * probes;
          for (let t = 0; t < pg; t++) {
            const v = r.score[u * pg + t];
            if (!(v < best[o + probes - 1])) break;
            let x = probes - 1;
            while (x > 0 && best[o + x - 1] > v) { best[o + x] = best[o + x - 1]; near[o + x] = near[o + x - 1]; x--; }
            best[o + x] = v; near[o + x] = fineStart[g] + r.idx[u * pg + t];
          }
        }
      }
      // a row with fewer than `probes` fine cells in its two coarse ones repeats its nearest
      for (let i = 0; i < n; i++) for (let t = 1; t < probes; t++) if (near[i * probes + t] < 0) near[i * probes + t] = near[i * probes];
    }
  }
  check();

  // 3. per cell: queries (nearest cell) x candidates (probing rows)
  const qStart = new Int32Array(C + 1), cStart = new Int32Array(C + 1);
  for (let i = 0; i < n; i++) {
    qStart[near[i * probes] + 1]++;
    for (let p = 0; p < probes; p++) if (firstProbe(near, i, probes, p)) cStart[near[i * probes + p] + 1]++;
  }
  for (let c = 0; c < C; c++) { qStart[c + 1] += qStart[c]; cStart[c + 1] += cStart[c]; }
  const qList = new Int32Array(n), cList = new Int32Array(n * probes);
  {
    const qf = qStart.slice(0, C), cf = cStart.slice(0, C);
    for (let i = 0; i < n; i++) {
      qList[qf[near[i * probes]]++] = i;
      for (let p = 0; p < probes; p++) if (firstProbe(near, i, probes, p)) cList[cf[near[i * probes + p]]++] = i;
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
  return { n, k, indices, distances, stats: { cells: C, probes, meanCandidates: products / n, products, largestCell: maxCand } };
}

/**
 * The `P` nearest of C centroids (euclidean) of each listed row of X (all rows when `rows` is null), nearest first:
 * blocked products with the transposed centroids. Scores are |c|^2 - 2 x.c (squared distance minus |x|^2).
 */
async function nearestCentroids(
  X: Float32Array, rows: Int32Array | null, m: number, d: number, cent: Float32Array, C: number, P: number, gemm: Gemm, check: () => void,
): Promise<{ idx: Int32Array; score: Float32Array }> {
  const Ct = transpose(cent, C, d);
  const csq = rowSqNorms(cent, C, d);
  const block = Math.max(64, Math.min(m, Math.floor((8 << 20) / Math.max(C, d))));
  const idx = new Int32Array(m * P), score = new Float32Array(m * P);
  const bs = new Float32Array(P), bi = new Int32Array(P);
  const A = rows ? new Float32Array(Math.min(m, block) * d) : null;
  for (let b0 = 0; b0 < m; b0 += block) {
    check();
    const b1 = Math.min(m, b0 + block);
    let src: Float32Array;
    if (rows) {
      for (let u = b0; u < b1; u++) A!.set(X.subarray(rows[u] * d, rows[u] * d + d), (u - b0) * d);
      src = A!.subarray(0, (b1 - b0) * d);
    } else src = X.subarray(b0 * d, b1 * d);
    const G = await gemm(src, b1 - b0, Ct, C, d);
    for (let r = 0; r < b1 - b0; r++) {
      bs.fill(Infinity); bi.fill(-1);
      const o = r * C;
      for (let c = 0; c < C; c++) {
        const v = csq[c] - 2 * G[o + c];
        if (v < bs[P - 1]) {
          let t = P - 1;
          while (t > 0 && bs[t - 1] > v) { bs[t] = bs[t - 1]; bi[t] = bi[t - 1]; t--; }
          bs[t] = v; bi[t] = c;
        }
      }
      idx.set(bi, (b0 + r) * P); score.set(bs, (b0 + r) * P);
    }
  }
  return { idx, score };
}

/** Is row i's p-th probed cell not one of its earlier ones? */
function firstProbe(near: Int32Array, i: number, probes: number, p: number): boolean {
  const c = near[i * probes + p];
  for (let t = 0; t < p; t++) if (near[i * probes + t] === c) return false;
  return true;
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
