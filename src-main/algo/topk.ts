/**
 * The k nearest rows to one query: one product of the (L2-normalized) matrix with the query, then a k-heap over the
 * n similarities. No transpose of the matrix (what knnQuery needs for many queries), so one query costs one pass.
 */
import { badArg } from '../common/errors.ts';
import type { Gemm } from './linalg.ts';

export interface TopK { indices: Int32Array; sims: Float32Array }

/** The k largest of `scores` (skipping index `exclude`), largest first; ties by lower index. */
export function topKScores(scores: Float32Array, k: number, exclude = -1): TopK {
  const n = scores.length;
  const kk = Math.min(k, exclude >= 0 && exclude < n ? n - 1 : n);
  const hs = new Float32Array(kk), hi = new Int32Array(kk);
  let size = 0;
  // min-heap on (score, -index): the root is the worst kept
  const worse = (s1: number, i1: number, s2: number, i2: number) => s1 < s2 || (s1 === s2 && i1 > i2);
  for (let j = 0; j < n; j++) {
    if (j === exclude) continue;
    const s = scores[j];
    if (size < kk) {
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(s, j, hs[p], hi[p])) break;
        hs[c] = hs[p]; hi[c] = hi[p]; c = p;
      }
      hs[c] = s; hi[c] = j;
    } else if (kk > 0 && worse(hs[0], hi[0], s, j)) {
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        if (l >= kk) break;
        const r = l + 1;
        const m = r < kk && worse(hs[r], hi[r], hs[l], hi[l]) ? r : l;
        if (!worse(hs[m], hi[m], s, j)) break;
        hs[c] = hs[m]; hi[c] = hi[m]; c = m;
      }
      hs[c] = s; hi[c] = j;
    }
  }
  const order = Array.from({ length: kk }, (_, t) => t).sort((a, b) => hs[b] - hs[a] || hi[a] - hi[b]);
  return { indices: Int32Array.from(order, (t) => hi[t]), sims: Float32Array.from(order, (t) => hs[t]) };
}

/**
 * The k rows of Xn (n x d, rows L2-normalized) most similar (cosine) to row `row` of Xn, the row itself left out.
 */
export async function similarRows(Xn: Float32Array, n: number, d: number, row: number, k: number, gemm: Gemm): Promise<TopK> {
  if (!Number.isInteger(row) || row < 0 || row >= n) throw badArg('row', `expected 0..${n - 1}, got ${row}`);
  if (!Number.isInteger(k) || k < 1) throw badArg('k', `must be a positive integer, got ${k}`);
  const q = Xn.slice(row * d, (row + 1) * d);
  // C[n x 1] = Xn[n x d] * q[d x 1]
  const scores = await gemm(Xn.subarray(0, n * d), n, q, 1, d);
  return topKScores(scores.subarray(0, n), k, row);
}
