/**
 * The k nearest rows to one query: one product of the (L2-normalized) matrix with the query, then a k-heap over the
 * n similarities. No transpose of the matrix (what knnQuery needs for many queries), so one query costs one pass.
 */
import { badArg } from '../common/errors.ts';
import type { Gemm } from './linalg.ts';
import type { SIMILAR_COMBINES } from '../common/schema-kit.ts';

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

/**
 * "More like these": the k rows most similar to a selection of rows of Xn (rows L2-normalized), the selection left
 * out. `mean`: cosine to the normalized mean of the selected rows (one product); `max`: each row's highest cosine to
 * any selected row (the union of their neighbourhoods, ranked), in blocks of 64 selected rows.
 */
export async function similarToRows(Xn: Float32Array, n: number, d: number, rows: number[], k: number, combine: (typeof SIMILAR_COMBINES)[number], gemm: Gemm): Promise<TopK> {
  if (rows.length === 0) throw badArg('items', 'give at least one item');
  for (const r of rows) if (!Number.isInteger(r) || r < 0 || r >= n) throw badArg('rows', `expected 0..${n - 1}, got ${r}`);
  if (!Number.isInteger(k) || k < 1) throw badArg('k', `must be a positive integer, got ${k}`);
  const sel = [...new Set(rows)];
  let scores: Float32Array;
  if (combine === 'mean') {
    const q = new Float32Array(d);
    for (const r of sel) for (let t = 0; t < d; t++) q[t] += Xn[r * d + t];
    let norm = 0;
    for (let t = 0; t < d; t++) norm += q[t] * q[t];
    norm = Math.sqrt(norm) || 1;
    for (let t = 0; t < d; t++) q[t] /= norm;
    scores = (await gemm(Xn.subarray(0, n * d), n, q, 1, d)).slice(0, n);
  } else {
    scores = new Float32Array(n).fill(-Infinity);
    for (let b = 0; b < sel.length; b += 64) {
      const block = sel.slice(b, b + 64);
      const m = block.length;
      // the selected rows transposed (d x m), as the Gemm takes its right-hand side
      const Qt = new Float32Array(d * m);
      block.forEach((r, i) => { for (let t = 0; t < d; t++) Qt[t * m + i] = Xn[r * d + t]; });
      const C = await gemm(Xn.subarray(0, n * d), n, Qt, m, d); // n x m
      for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) if (C[j * m + i] > scores[j]) scores[j] = C[j * m + i];
    }
  }
  for (const r of sel) scores[r] = -Infinity;
  return topKScores(scores, Math.min(k, n - sel.length));
}

/**
 * The k rows of Xn (rows L2-normalized) most similar (cosine) to a vector from outside the matrix (a text's embedding,
 * L2-normalized, d floats), among the rows `among` only when given.
 */
export async function similarToVector(Xn: Float32Array, n: number, d: number, q: Float32Array, k: number, gemm: Gemm, among?: Int32Array): Promise<TopK> {
  if (q.length !== d) throw badArg('query', `expected ${d} values, got ${q.length}`);
  if (!Number.isInteger(k) || k < 1) throw badArg('k', `must be a positive integer, got ${k}`);
  const scores = (await gemm(Xn.subarray(0, n * d), n, q, 1, d)).slice(0, n);
  if (!among) return topKScores(scores, Math.min(k, n));
  const keep = new Uint8Array(n);
  for (const r of among) if (r >= 0 && r < n) keep[r] = 1;
  let m = 0;
  for (let j = 0; j < n; j++) if (keep[j]) m++; else scores[j] = -Infinity;
  return topKScores(scores, Math.min(k, m));
}
