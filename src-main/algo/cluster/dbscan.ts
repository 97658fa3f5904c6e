/**
 * DBSCAN (Ester et al. 1996) as scikit-learn runs it, with the eps-neighbourhoods found by blocked Gemm tiles over the
 * upper triangle of the similarity matrix (each pair computed once). Cosine (default): rows L2-normalized on a copy,
 * distance 1 - cos, neighbours when distance <= eps (eps in (0, 2]). Euclidean: distance <= eps on the rows as given.
 *
 * A point is core when its neighbourhood, itself included, holds >= minSamples points (sklearn's convention). Clusters
 * are the connected components of core points (union-find over core-core edges), numbered in order of their
 * lowest-index core point; a border point joins the lowest-numbered cluster among its core neighbours, which is the
 * label sklearn's depth-first expansion gives it. Everything else is noise (-1).
 */
import { AppError, badArg } from '../../common/errors.ts';
import { gemmJs, normalizeRows, rowSqNorms, transpose, type Gemm } from '../linalg.ts';
import { checkFiniteRows, checkMatrix, type ClusterMetric } from './kmeans.ts';

export interface DbscanOptions {
  metric?: ClusterMetric;
  gemm?: Gemm;
  /** rows per tile side (default 2048) */
  blockRows?: number;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

export interface DbscanResult {
  /** cluster id per point, -1 = noise */
  labels: Int32Array;
  /** 1 for core samples */
  coreMask: Uint8Array;
  nClusters: number;
  noiseCount: number;
  /** neighbours per point, itself excluded */
  neighbourCounts: Int32Array;
}

/** Growable pair list (i < j). */
class PairList {
  a = new Int32Array(1 << 16);
  b = new Int32Array(1 << 16);
  size = 0;
  push(i: number, j: number): void {
    if (this.size === this.a.length) {
      const cap = this.a.length * 2;
      const na = new Int32Array(cap); na.set(this.a); this.a = na;
      const nb = new Int32Array(cap); nb.set(this.b); this.b = nb;
    }
    this.a[this.size] = i; this.b[this.size] = j; this.size++;
  }
}

function find(parent: Int32Array, x: number): number {
  while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; }
  return x;
}

export async function dbscan(X: Float32Array, n: number, d: number, eps: number, minSamples: number, opts: DbscanOptions = {}): Promise<DbscanResult> {
  checkMatrix(X, n, d);
  const metric = opts.metric ?? 'cosine';
  if (metric !== 'cosine' && metric !== 'euclidean') throw badArg('metric', `must be 'cosine' or 'euclidean', got ${String(metric)}`);
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0) throw badArg('eps', `must be a finite number > 0, got ${eps}`);
  if (!Number.isInteger(minSamples) || minSamples < 1) throw badArg('minSamples', `must be a positive integer, got ${minSamples}`);
  const b = opts.blockRows ?? 2048;
  if (!Number.isInteger(b) || b < 1) throw badArg('blockRows', `must be a positive integer, got ${b}`);
  checkFiniteRows(X, n * d);
  const gemm = opts.gemm ?? gemmJs;
  const Y = metric === 'cosine' ? normalizeRows(X, n, d) : X;
  const sq = metric === 'euclidean' ? rowSqNorms(Y, n, d) : null;
  // similarity threshold: cos >= 1 - eps, or |x|^2 + |y|^2 - 2xy <= eps^2
  const simThr = 1 - eps;
  const eps2 = eps * eps;
  const nb = Math.ceil(n / b);
  const tilesT: Float32Array[] = [];
  for (let J = 0; J < nb; J++) {
    const j0 = J * b, j1 = Math.min(n, j0 + b);
    tilesT.push(transpose(Y.subarray(j0 * d, j1 * d), j1 - j0, d));
  }
  const deg = new Int32Array(n);
  const pairs = new PairList();
  const totalTiles = (nb * (nb + 1)) / 2;
  let doneTiles = 0;
  for (let I = 0; I < nb; I++) {
    const i0 = I * b, i1 = Math.min(n, i0 + b), bi = i1 - i0;
    const A = Y.subarray(i0 * d, i1 * d);
    for (let J = I; J < nb; J++) {
      if (opts.isCancelled?.()) throw new AppError('CANCELLED', 'DBSCAN cancelled');
      const j0 = J * b, j1 = Math.min(n, j0 + b), bj = j1 - j0;
      const G = await gemm(A, bi, tilesT[J], bj, d);
      for (let r = 0; r < bi; r++) {
        const i = i0 + r;
        const o = r * bj;
        const cStart = J === I ? r + 1 : 0;
        if (sq) {
          const si = sq[i];
          for (let c = cStart; c < bj; c++) {
            const j = j0 + c;
            if (si + sq[j] - 2 * G[o + c] <= eps2) { deg[i]++; deg[j]++; pairs.push(i, j); }
          }
        } else {
          for (let c = cStart; c < bj; c++) {
            if (G[o + c] >= simThr) { const j = j0 + c; deg[i]++; deg[j]++; pairs.push(i, j); }
          }
        }
      }
      doneTiles++;
      opts.onProgress?.(doneTiles, totalTiles);
    }
  }
  const coreMask = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (deg[i] + 1 >= minSamples) coreMask[i] = 1;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const { a: pa, b: pb, size } = pairs;
  for (let e = 0; e < size; e++) {
    const i = pa[e], j = pb[e];
    if (coreMask[i] && coreMask[j]) {
      const ri = find(parent, i), rj = find(parent, j);
      if (ri !== rj) { if (ri < rj) parent[rj] = ri; else parent[ri] = rj; }
    }
  }
  const labels = new Int32Array(n).fill(-1);
  const rootLabel = new Int32Array(n).fill(-1);
  let nClusters = 0;
  for (let i = 0; i < n; i++) {
    if (!coreMask[i]) continue;
    const r = find(parent, i);
    if (rootLabel[r] < 0) rootLabel[r] = nClusters++;
    labels[i] = rootLabel[r];
  }
  // border points: lowest cluster id among core neighbours
  for (let e = 0; e < size; e++) {
    const i = pa[e], j = pb[e];
    const ci = coreMask[i], cj = coreMask[j];
    if (ci && !cj) { const l = labels[i]; if (labels[j] < 0 || l < labels[j]) labels[j] = l; }
    else if (cj && !ci) { const l = labels[j]; if (labels[i] < 0 || l < labels[i]) labels[i] = l; }
  }
  let noiseCount = 0;
  for (let i = 0; i < n; i++) if (labels[i] < 0) noiseCount++;
  return { labels, coreMask, nClusters, noiseCount, neighbourCounts: deg };
}

/**
 * The eps heuristic the peers use: quantile q of each sampled point's minSamples-th nearest cosine distance (the point
 * itself counts as the first). Pure: pass a seeded sample of row indices (e.g. 2,000).
 */
export async function epsFromKDistance(
  X: Float32Array, n: number, d: number, minSamples: number, q: number, sample: Int32Array,
  opts: { metric?: ClusterMetric; gemm?: Gemm } = {},
): Promise<number> {
  checkMatrix(X, n, d);
  if (!Number.isInteger(minSamples) || minSamples < 1 || minSamples > n) throw badArg('minSamples', `must be an integer in [1, ${n}], got ${minSamples}`);
  if (!(q >= 0 && q <= 1)) throw badArg('q', `must be in [0, 1], got ${q}`);
  if (sample.length < 1) throw badArg('sample', 'must hold at least one row index');
  const metric = opts.metric ?? 'cosine';
  const gemm = opts.gemm ?? gemmJs;
  const Y = metric === 'cosine' ? normalizeRows(X, n, d) : X;
  const sq = metric === 'euclidean' ? rowSqNorms(Y, n, d) : null;
  const m = sample.length;
  const S = new Float32Array(m * d);
  for (let t = 0; t < m; t++) S.set(Y.subarray(sample[t] * d, sample[t] * d + d), t * d);
  const Yt = transpose(Y, n, d);
  const kth = new Float64Array(m);
  const row = new Float64Array(n);
  const br = Math.max(1, Math.floor((4 << 20) / n));
  for (let t0 = 0; t0 < m; t0 += br) {
    const t1 = Math.min(m, t0 + br);
    const G = await gemm(S.subarray(t0 * d, t1 * d), t1 - t0, Yt, n, d);
    for (let r = 0; r < t1 - t0; r++) {
      const si = sample[t0 + r];
      for (let j = 0; j < n; j++) {
        const g = G[r * n + j];
        row[j] = sq ? Math.sqrt(Math.max(0, sq[si] + sq[j] - 2 * g)) : Math.min(2, Math.max(0, 1 - g));
      }
      row[si] = 0;
      kth[t0 + r] = quickselect(row, minSamples - 1);
    }
  }
  // numpy's default linear-interpolation quantile
  const sorted = Float64Array.from(kth).sort();
  const pos = q * (m - 1);
  const lo = Math.floor(pos), hi = Math.min(m - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** k-th smallest (0-based) of a, reordering a. */
function quickselect(a: Float64Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (k <= j) hi = j; else if (k >= i) lo = i; else return a[k];
  }
  return a[k];
}
