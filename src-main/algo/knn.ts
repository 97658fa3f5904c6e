/**
 * Exact k-nearest-neighbour search by blocked matrix products: the query block times the transposed data gives a block
 * of similarities, from which each row keeps its k best. Cosine (rows L2-normalized by the caller, distance 1 - cos) or
 * euclidean (distance sqrt(|a|^2 + |b|^2 - 2ab)). The product runs through an injected `Gemm` (see linalg.ts).
 */
import { AppError, badArg } from '../common/errors.ts';
import { gemmJs, rowSqNorms, transpose, type Gemm } from './linalg.ts';
import type { METRICS } from '../common/schema-kit.ts';

export type Metric = (typeof METRICS)[number];

export interface KnnResult {
  n: number;
  k: number;
  /** n*k neighbour indices, each row sorted by increasing distance */
  indices: Int32Array;
  /** n*k distances matching `indices` */
  distances: Float32Array;
}

export interface KnnOptions {
  metric?: Metric;
  /** leave the point itself out of its own neighbour list (default true) */
  excludeSelf?: boolean;
  gemm?: Gemm;
  /** rows per query block (default chosen so a block of products is ~32 MB) */
  blockRows?: number;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

/** k nearest neighbours of every row of X among the rows of X. */
export async function knnExact(X: Float32Array, n: number, d: number, k: number, opts: KnnOptions = {}): Promise<KnnResult> {
  return knnQuery(X, n, X, n, d, k, { ...opts, excludeSelf: opts.excludeSelf ?? true, selfQuery: true });
}

/**
 * k nearest neighbours of each of the m rows of Q among the n rows of X. With `selfQuery` (Q === X) and `excludeSelf`,
 * row i never lists itself.
 */
export async function knnQuery(
  X: Float32Array, n: number, Q: Float32Array, m: number, d: number, k: number,
  opts: KnnOptions & { selfQuery?: boolean } = {},
): Promise<KnnResult> {
  const metric = opts.metric ?? 'cosine';
  const excludeSelf = !!(opts.selfQuery && (opts.excludeSelf ?? true));
  const avail = excludeSelf ? n - 1 : n;
  if (!Number.isInteger(k) || k < 1) throw badArg('k', `must be a positive integer, got ${k}`);
  if (k > avail) throw badArg('k', `${k} neighbours requested but only ${avail} points are available`);
  const gemm = opts.gemm ?? gemmJs;
  const Xt = transpose(X, n, d);
  const xn = metric === 'euclidean' ? rowSqNorms(X, n, d) : null;
  const qn = metric === 'euclidean' ? (opts.selfQuery ? xn! : rowSqNorms(Q, m, d)) : null;
  const blockRows = Math.max(1, opts.blockRows ?? Math.min(m, Math.max(16, Math.floor((8 << 20) / Math.max(1, n)))));
  const indices = new Int32Array(m * k);
  const distances = new Float32Array(m * k);
  // per-row heap of the k best by score (higher is better: similarity, or -squared distance)
  const hs = new Float32Array(k);
  const hi = new Int32Array(k);
  for (let b0 = 0; b0 < m; b0 += blockRows) {
    if (opts.isCancelled?.()) throw new AppError('CANCELLED', 'nearest-neighbour search cancelled');
    const b1 = Math.min(m, b0 + blockRows);
    const rows = b1 - b0;
    const S = await gemm(Q.subarray(b0 * d, b1 * d), rows, Xt, n, d);
    for (let r = 0; r < rows; r++) {
      const qi = b0 + r;
      const so = r * n;
      let size = 0;
      const qsq = qn ? qn[qi] : 0;
      for (let j = 0; j < n; j++) {
        if (excludeSelf && j === qi) continue;
        // score: larger is nearer
        const s = xn ? 2 * S[so + j] - xn[j] : S[so + j];
        if (size < k) {
          // sift up into a min-heap
          let c = size++;
          while (c > 0) {
            const p = (c - 1) >> 1;
            if (hs[p] <= s) break;
            hs[c] = hs[p]; hi[c] = hi[p]; c = p;
          }
          hs[c] = s; hi[c] = j;
        } else if (s > hs[0]) {
          // replace the root and sift down
          let c = 0;
          for (;;) {
            const l = 2 * c + 1;
            if (l >= k) break;
            const rr = l + 1;
            const m2 = rr < k && hs[rr] < hs[l] ? rr : l;
            if (hs[m2] >= s) break;
            hs[c] = hs[m2]; hi[c] = hi[m2]; c = m2;
          }
          hs[c] = s; hi[c] = j;
        }
      }
      // pop the heap: ascending score, written from the back so the row is sorted nearest first
      const o = qi * k;
      for (let t = k - 1; t >= 0; t--) {
        const s = hs[0], j = hi[0];
        const last = t;
        const ls = hs[last], li = hi[last];
        let c = 0;
        for (;;) {
          const l = 2 * c + 1;
          if (l >= last) break;
          const rr = l + 1;
          const m2 = rr < last && hs[rr] < hs[l] ? rr : l;
          if (hs[m2] >= ls) break;
          hs[c] = hs[m2]; hi[c] = hi[m2]; c = m2;
        }
        hs[c] = ls; hi[c] = li;
        indices[o + t] = j;
        distances[o + t] = xn ? Math.sqrt(Math.max(0, qsq - s)) : Math.max(0, 1 - s);
      }
    }
    opts.onProgress?.(b1, m);
  }
  return { n: m, k, indices, distances };
}
