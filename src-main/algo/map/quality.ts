/**
 * Map quality measures, computed the way the peers (peers.py / scikit-learn) compute them:
 *  - trustworthiness@k (sklearn.manifold.trustworthiness) on a random sample of the points, with cosine (or euclidean)
 *    distances in the original space and euclidean distances in the map;
 *  - k-NN label agreement: share of each point's k nearest map neighbours (self excluded) that carry its label.
 */
import { badArg } from '../../common/errors.ts';
import { gemmJs, normalizeRows, transpose, rowSqNorms, type Gemm } from '../linalg.ts';
import { createRng } from '../rng.ts';
import type { Metric } from '../../common/types.ts';

export interface TrustworthinessOptions {
  k?: number;
  metric?: Metric;
  /** points in the sample (default 5000, as peers.py); all points when n <= sampleSize */
  sampleSize?: number;
  seed?: number;
  gemm?: Gemm;
}

/** A sorted sample of m distinct indices out of n (partial Fisher-Yates). */
export function sampleIndices(n: number, m: number, seed: number): Int32Array {
  if (m >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const rng = createRng(seed);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
  return perm.slice(0, m).sort();
}

/**
 * Exact k nearest neighbours in a low-dimensional space (the map) with a k-d tree. Self is excluded.
 * Returns n*k indices, each row nearest first.
 */
export function lowDimKnn(Y: Float32Array, n: number, dim: number, k: number): Int32Array {
  if (k >= n) throw badArg('k', `${k} neighbours requested but only ${n - 1} other points exist`);
  const leafSize = 16;
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  // nodes: [start, end) over perm, split dim, split value, children
  const maxNodes = 2 * Math.ceil(n / (leafSize / 2)) + 2;
  const nStart = new Int32Array(maxNodes), nEnd = new Int32Array(maxNodes);
  const nLeft = new Int32Array(maxNodes).fill(-1), nRight = new Int32Array(maxNodes).fill(-1);
  const nDim = new Int32Array(maxNodes), nVal = new Float64Array(maxNodes);
  let count = 0;
  const build = (start: number, end: number): number => {
    const id = count++;
    nStart[id] = start; nEnd[id] = end;
    if (end - start <= leafSize) return id;
    // split on the dimension of largest spread at the median
    let bestDim = 0, bestSpread = -1;
    for (let c = 0; c < dim; c++) {
      let lo = Infinity, hi = -Infinity;
      for (let t = start; t < end; t++) { const v = Y[perm[t] * dim + c]; if (v < lo) lo = v; if (v > hi) hi = v; }
      if (hi - lo > bestSpread) { bestSpread = hi - lo; bestDim = c; }
    }
    if (bestSpread <= 0) return id;
    const sub = Array.from(perm.subarray(start, end)).sort((a, b) => Y[a * dim + bestDim] - Y[b * dim + bestDim]);
    perm.set(sub, start);
    const mid = (start + end) >> 1;
    nDim[id] = bestDim; nVal[id] = Y[perm[mid] * dim + bestDim];
    nLeft[id] = build(start, mid);
    nRight[id] = build(mid, end);
    return id;
  };
  build(0, n);
  const out = new Int32Array(n * k);
  const hd = new Float64Array(k), hi = new Int32Array(k);
  const stack = new Int32Array(256), stackD = new Float64Array(256);
  for (let q = 0; q < n; q++) {
    let size = 0;
    const qo = q * dim;
    let sp = 0;
    stack[sp] = 0; stackD[sp++] = 0;
    while (sp > 0) {
      const node = stack[--sp], lb = stackD[sp];
      if (size === k && lb >= hd[0]) continue;
      if (nLeft[node] < 0) {
        for (let t = nStart[node]; t < nEnd[node]; t++) {
          const j = perm[t];
          if (j === q) continue;
          let s = 0;
          for (let c = 0; c < dim; c++) { const x = Y[qo + c] - Y[j * dim + c]; s += x * x; }
          if (size < k) {
            let c = size++;
            while (c > 0) { const p = (c - 1) >> 1; if (hd[p] >= s) break; hd[c] = hd[p]; hi[c] = hi[p]; c = p; }
            hd[c] = s; hi[c] = j;
          } else if (s < hd[0]) {
            let c = 0;
            for (;;) {
              const l = 2 * c + 1; if (l >= k) break;
              const r = l + 1; const m = r < k && hd[r] > hd[l] ? r : l;
              if (hd[m] <= s) break;
              hd[c] = hd[m]; hi[c] = hi[m]; c = m;
            }
            hd[c] = s; hi[c] = j;
          }
        }
        continue;
      }
      const diff = Y[qo + nDim[node]] - nVal[node];
      const near = diff < 0 ? nLeft[node] : nRight[node];
      const far = diff < 0 ? nRight[node] : nLeft[node];
      // push far first so near is popped first
      stack[sp] = far; stackD[sp++] = Math.max(lb, diff * diff);
      stack[sp] = near; stackD[sp++] = lb;
    }
    // heap (max-heap on distance) -> sorted ascending
    const o = q * k;
    const order = Array.from({ length: size }, (_, t) => t).sort((a, b) => hd[a] - hd[b] || hi[a] - hi[b]);
    for (let t = 0; t < size; t++) out[o + t] = hi[order[t]];
  }
  return out;
}

/** Share of the k nearest map neighbours (self excluded) with the same label, over all points. */
export function knnLabelAgreement(Y: Float32Array, n: number, dim: number, labels: ArrayLike<number>, k = 10): number {
  if (labels.length < n) throw badArg('labels', `has ${labels.length} entries, expected ${n}`);
  const nn = lowDimKnn(Y, n, dim, k);
  let same = 0;
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) if (labels[nn[i * k + t]] === labels[i]) same++;
  return same / (n * k);
}

/**
 * Trustworthiness@k (Venna & Kaski; sklearn's formula) of the map Y (n x dim) for the data X (n x d), on a sample of
 * `sampleSize` points (both spaces restricted to the sample, as peers.py does).
 */
export async function trustworthiness(
  X: Float32Array, n: number, d: number, Y: Float32Array, dim: number, opts: TrustworthinessOptions = {},
): Promise<number> {
  const k = opts.k ?? 10;
  const metric = opts.metric ?? 'cosine';
  const s = sampleIndices(n, opts.sampleSize ?? 5000, opts.seed ?? 0);
  const m = s.length;
  if (!Number.isInteger(k) || k < 1) throw badArg('k', `must be a positive integer, got ${k}`);
  if (k >= m / 2) throw badArg('k', `must be < ${m / 2} for ${m} sampled points, got ${k}`);
  const gemm = opts.gemm ?? gemmJs;
  let Xs = new Float32Array(m * d);
  const Ys = new Float32Array(m * dim);
  for (let t = 0; t < m; t++) {
    Xs.set(X.subarray(s[t] * d, s[t] * d + d), t * d);
    Ys.set(Y.subarray(s[t] * dim, s[t] * dim + dim), t * dim);
  }
  if (metric === 'cosine') Xs = normalizeRows(Xs, m, d) as Float32Array<ArrayBuffer>;
  const sq = metric === 'euclidean' ? rowSqNorms(Xs, m, d) : null;
  const embNN = lowDimKnn(Ys, m, dim, k);
  const Xt = transpose(Xs, m, d);
  const block = Math.max(1, Math.min(m, Math.floor((4 << 20) / m)));
  let t = 0;
  const row = new Float64Array(m);
  for (let b0 = 0; b0 < m; b0 += block) {
    const b1 = Math.min(m, b0 + block);
    const S = await gemm(Xs.subarray(b0 * d, b1 * d), b1 - b0, Xt, m, d);
    for (let r = 0; r < b1 - b0; r++) {
      const i = b0 + r;
      // distance (monotone transform is enough for ranks)
      for (let j = 0; j < m; j++) row[j] = sq ? sq[j] - 2 * S[r * m + j] : -S[r * m + j];
      row[i] = Infinity;
      for (let e = 0; e < k; e++) {
        const j = embNN[i * k + e];
        const dj = row[j];
        // rank = 1 + number of points strictly nearer in X (ties broken by index, like a stable argsort)
        let rank = 1;
        for (let l = 0; l < m; l++) { const v = row[l]; if (v < dj || (v === dj && l < j)) rank++; }
        if (rank > k) t += rank - k;
      }
    }
  }
  return 1 - t * (2 / (m * k * (2 * m - 3 * k - 1)));
}
