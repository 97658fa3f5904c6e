/**
 * k-means (k-means++ init, Lloyd or Hamerly iterations) with the distance blocks through an injected `Gemm`.
 *
 * Metric: `cosine` (default) L2-normalizes a copy of the rows and then runs ordinary euclidean k-means on them, with
 * centroids = plain means (not re-normalized), which is what scikit-learn's KMeans does on normalized embeddings (the
 * peers ran sklearn on the matrices as stored, whose rows are unit length). `spherical: true` re-normalizes centroids
 * after every update instead (spherical k-means). `euclidean` uses the rows as given.
 *
 * Semantics follow sklearn 1.2: greedy k-means++ with 2 + floor(ln k) local trials, tolerance = tol * mean feature
 * variance on the squared centroid shift, stop early when no label changes, empty clusters relocated to the points
 * farthest from their centres, inertia = sum of squared distances to the closest centre.
 */
import { AppError, badArg } from '../../common/errors.ts';
import { gemmJs, normalizeRows, normalizeRowsInPlace, rowSqNorms, transpose, type Gemm } from '../linalg.ts';
import { createRng, type Rng } from '../rng.ts';
import type { Metric } from '../../common/types.ts';

export type ClusterMetric = Metric;

export interface KMeansOptions {
  metric?: ClusterMetric;
  seed?: number;
  /** independent restarts; the lowest inertia wins (default 1, like the peers) */
  nInit?: number;
  maxIter?: number;
  /** relative tolerance on the squared centroid shift (sklearn semantics, default 1e-4) */
  tol?: number;
  algorithm?: 'lloyd' | 'hamerly';
  /** re-normalize centroids after each update (only with cosine) */
  spherical?: boolean;
  /** initial centroids (k*d) instead of k-means++ */
  init?: Float32Array;
  /**
   * k-means++ runs on at most this many rows, drawn uniformly without replacement with the seed (sampled k-means++:
   * each greedy step streams the whole matrix, so the serial init cost grows with n*k). Default `initSampleSize(n, k)`;
   * 0 = always all rows.
   */
  initSample?: number;
  gemm?: Gemm;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

export interface KMeansResult {
  labels: Int32Array;
  /** k*d row-major (in the normalized space for cosine) */
  centroids: Float32Array;
  inertia: number;
  iterations: number;
  k: number;
  d: number;
}

export function checkMatrix(X: Float32Array, n: number, d: number): void {
  if (!Number.isInteger(n) || n < 1) throw badArg('n', `must be a positive integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw badArg('d', `must be a positive integer, got ${d}`);
  if (!(X instanceof Float32Array) || X.length < n * d) throw badArg('X', `must be a Float32Array of n*d=${n * d} values`);
}

export function checkK(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 1) throw badArg('k', `must be a positive integer, got ${k}`);
  if (k > n) throw badArg('k', `${k} clusters requested but there are only ${n} points`);
}

export function checkFiniteRows(X: Float32Array, len: number, param = 'X'): void {
  for (let i = 0; i < len; i++) {
    const v = X[i];
    if (v !== v || v === Infinity || v === -Infinity) throw badArg(param, `contains a non-finite value at index ${i}`);
  }
}

function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw badArg(name, `must be a positive integer, got ${v}`);
}

export function cancelled(what: string): AppError {
  return new AppError('CANCELLED', `${what} cancelled`);
}

/** rows per Gemm block so a block of products is ~16 MB */
export function blockRowsFor(cols: number, n: number): number {
  return Math.max(64, Math.min(n, Math.floor((4 << 20) / Math.max(1, cols))));
}

/**
 * Greedy k-means++ (sklearn's `_kmeans_plusplus`): first centre uniform, then for each next centre draw
 * 2 + floor(ln k) candidates proportional to D^2 and keep the one that lowers the potential most.
 * X rows are used as given; xsq their squared norms. Returns k*d centres.
 */
export async function kmeansPlusPlus(
  X: Float32Array, n: number, d: number, k: number, rng: Rng,
  opts: { gemm?: Gemm; xsq?: Float32Array; isCancelled?: () => boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<Float32Array> {
  const gemm = opts.gemm ?? gemmJs;
  const xsq = opts.xsq ?? rowSqNorms(X, n, d);
  const centers = new Float32Array(k * d);
  const T = 2 + Math.floor(Math.log(k));
  const closest = new Float64Array(n);
  const cum = new Float64Array(n);
  const first = rng.int(n);
  centers.set(X.subarray(first * d, first * d + d), 0);
  {
    const ct = X.slice(first * d, first * d + d); // d x 1 transposed == the row
    const G = await gemm(X, n, ct, 1, d);
    for (let i = 0; i < n; i++) closest[i] = Math.max(0, xsq[i] + xsq[first] - 2 * G[i]);
  }
  let pot = 0;
  for (let i = 0; i < n; i++) pot += closest[i];
  const cand = new Int32Array(T);
  const candPot = new Float64Array(T);
  for (let c = 1; c < k; c++) {
    if ((c & 15) === 0 && opts.isCancelled?.()) throw cancelled('k-means++ initialisation');
    let s = 0;
    for (let i = 0; i < n; i++) { s += closest[i]; cum[i] = s; }
    for (let t = 0; t < T; t++) {
      const r = rng.next() * pot;
      let lo = 0, hi = n - 1;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] < r) lo = mid + 1; else hi = mid; }
      cand[t] = lo;
    }
    // candidates transposed: d x T
    const Ct = new Float32Array(d * T);
    for (let t = 0; t < T; t++) { const o = cand[t] * d; for (let p = 0; p < d; p++) Ct[p * T + t] = X[o + p]; }
    const G = await gemm(X, n, Ct, T, d);
    candPot.fill(0);
    for (let i = 0; i < n; i++) {
      const xi = xsq[i], ci = closest[i], o = i * T;
      for (let t = 0; t < T; t++) {
        let v = xi + xsq[cand[t]] - 2 * G[o + t];
        if (v < 0) v = 0;
        candPot[t] += v < ci ? v : ci;
      }
    }
    let best = 0;
    for (let t = 1; t < T; t++) if (candPot[t] < candPot[best]) best = t;
    pot = candPot[best];
    for (let i = 0; i < n; i++) {
      let v = xsq[i] + xsq[cand[best]] - 2 * G[i * T + best];
      if (v < 0) v = 0;
      if (v < closest[i]) closest[i] = v;
    }
    centers.set(X.subarray(cand[best] * d, cand[best] * d + d), c * d);
    opts.onProgress?.(c + 1, k);
  }
  return centers;
}

/**
 * Assign rows [0, m) of A to the nearest of k centres (Ct = centres transposed, csq their squared norms) through the
 * Gemm in blocks; writes labels and squared distances; returns the summed squared distance.
 */
export async function assignNearest(
  A: Float32Array, m: number, d: number, asq: Float32Array | null, Ct: Float32Array, csq: Float32Array, k: number,
  gemm: Gemm, labels: Int32Array, dist2: Float32Array | Float64Array | null, isCancelled?: () => boolean,
): Promise<number> {
  const br = blockRowsFor(k, m);
  let inertia = 0;
  for (let b0 = 0; b0 < m; b0 += br) {
    if (isCancelled?.()) throw cancelled('k-means');
    const b1 = Math.min(m, b0 + br);
    const G = await gemm(A.subarray(b0 * d, b1 * d), b1 - b0, Ct, k, d);
    for (let r = 0, i = b0; i < b1; r++, i++) {
      const o = r * k;
      let best = 0, bv = csq[0] - 2 * G[o];
      for (let j = 1; j < k; j++) {
        const v = csq[j] - 2 * G[o + j];
        if (v < bv) { bv = v; best = j; }
      }
      labels[i] = best;
      let dd = bv + (asq ? asq[i] : 0);
      if (dd < 0) dd = 0;
      if (dist2) dist2[i] = dd;
      inertia += dd;
    }
  }
  return inertia;
}

function featureVarianceMean(X: Float32Array, n: number, d: number): number {
  const mean = new Float64Array(d), m2 = new Float64Array(d);
  for (let i = 0; i < n; i++) { const o = i * d; for (let p = 0; p < d; p++) mean[p] += X[o + p]; }
  for (let p = 0; p < d; p++) mean[p] /= n;
  for (let i = 0; i < n; i++) { const o = i * d; for (let p = 0; p < d; p++) { const v = X[o + p] - mean[p]; m2[p] += v * v; } }
  let s = 0;
  for (let p = 0; p < d; p++) s += m2[p] / n;
  return s / d;
}

/** Prepare the working copy of X for a metric: a normalized copy for cosine, X itself for euclidean. */
export function prepareRows(X: Float32Array, n: number, d: number, metric: ClusterMetric): Float32Array {
  if (metric === 'cosine') return normalizeRows(X, n, d);
  if (metric === 'euclidean') return X;
  throw badArg('metric', `must be 'cosine' or 'euclidean', got ${String(metric)}`);
}

/**
 * Default row count for sampled k-means++: max(4,096, 16 k, 2^20 / k) rows (all rows below that). The init streams
 * m*d values per centre, so small k keeps every row (the serial cost is small there and the full init keeps sklearn's
 * semantics), large k samples.
 */
export function initSampleSize(n: number, k: number): number {
  return Math.min(n, Math.max(4096, 16 * k, Math.ceil((1 << 20) / k)));
}

/** `m` distinct row indices out of n, ascending, drawn with rng (partial Fisher-Yates). */
export function sampleRows(n: number, m: number, rng: Rng): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i]; idx[i] = idx[j]; idx[j] = t;
  }
  return idx.subarray(0, m).sort();
}

/** k-means++ on a uniform sample of the rows (all rows when sample >= n). */
async function sampledPlusPlus(
  Y: Float32Array, n: number, d: number, k: number, rng: Rng, xsq: Float32Array, sample: number,
  opts: { gemm: Gemm; isCancelled?: () => boolean },
): Promise<Float32Array> {
  if (sample >= n) return kmeansPlusPlus(Y, n, d, k, rng, { gemm: opts.gemm, xsq, isCancelled: opts.isCancelled });
  const idx = sampleRows(n, sample, rng);
  const S = new Float32Array(sample * d);
  const ssq = new Float32Array(sample);
  for (let t = 0; t < sample; t++) { const i = idx[t]; S.set(Y.subarray(i * d, i * d + d), t * d); ssq[t] = xsq[i]; }
  return kmeansPlusPlus(S, sample, d, k, rng, { gemm: opts.gemm, xsq: ssq, isCancelled: opts.isCancelled });
}

export async function kmeans(X: Float32Array, n: number, d: number, k: number, opts: KMeansOptions = {}): Promise<KMeansResult> {
  checkMatrix(X, n, d);
  checkK(k, n);
  const metric = opts.metric ?? 'cosine';
  const nInit = opts.nInit ?? 1;
  const maxIter = opts.maxIter ?? 300;
  const tol = opts.tol ?? 1e-4;
  const algorithm = opts.algorithm ?? 'hamerly';
  checkPositiveInt('nInit', nInit);
  checkPositiveInt('maxIter', maxIter);
  if (!(tol >= 0)) throw badArg('tol', `must be >= 0, got ${tol}`);
  if (algorithm !== 'lloyd' && algorithm !== 'hamerly') throw badArg('algorithm', `must be 'lloyd' or 'hamerly', got ${String(algorithm)}`);
  if (opts.init && opts.init.length !== k * d) throw badArg('init', `must hold k*d=${k * d} values, got ${opts.init.length}`);
  const initSample = opts.initSample === undefined ? initSampleSize(n, k) : opts.initSample === 0 ? n : opts.initSample;
  if (!Number.isInteger(initSample) || initSample < k) throw badArg('initSample', `must be an integer >= k (${k}) or 0, got ${opts.initSample}`);
  checkFiniteRows(X, n * d);
  const Y = prepareRows(X, n, d, metric);
  const spherical = !!opts.spherical && metric === 'cosine';
  const gemm = opts.gemm ?? gemmJs;
  const xsq = rowSqNorms(Y, n, d);
  const tolAbs = tol * featureVarianceMean(Y, n, d);
  const rng = createRng(opts.seed ?? 0);
  let best: KMeansResult | null = null;
  const total = nInit * maxIter;
  for (let run = 0; run < nInit; run++) {
    const init = opts.init
      ? (metric === 'cosine' && spherical ? normalizeRows(opts.init, k, d) : opts.init.slice())
      : await sampledPlusPlus(Y, n, d, k, rng, xsq, initSample, { gemm, isCancelled: opts.isCancelled });
    const r = algorithm === 'lloyd'
      ? await lloyd(Y, n, d, k, xsq, init, { gemm, maxIter, tolAbs, spherical, isCancelled: opts.isCancelled, onIter: (it) => opts.onProgress?.(run * maxIter + it, total) })
      : await hamerly(Y, n, d, k, xsq, init, { gemm, maxIter, tolAbs, spherical, isCancelled: opts.isCancelled, onIter: (it) => opts.onProgress?.(run * maxIter + it, total) });
    if (!best || r.inertia < best.inertia) best = r;
  }
  opts.onProgress?.(total, total);
  return best!;
}

interface IterOpts {
  gemm: Gemm; maxIter: number; tolAbs: number; spherical: boolean;
  isCancelled?: () => boolean; onIter?: (it: number) => void;
}

/** Centres from float64 sums and counts; empty clusters keep `prev`. Returns squared shift total. */
function updateCenters(sums: Float64Array, counts: Float64Array, k: number, d: number, C: Float32Array, spherical: boolean, shift: Float64Array): number {
  let tot = 0;
  for (let j = 0; j < k; j++) {
    const o = j * d;
    const c = counts[j];
    let s = 0;
    if (c > 0) {
      let nrm = 1;
      if (spherical) {
        let q = 0;
        for (let p = 0; p < d; p++) { const v = sums[o + p]; q += v * v; }
        nrm = q > 0 ? Math.sqrt(q) : 1;
      } else nrm = c;
      for (let p = 0; p < d; p++) {
        const v = sums[o + p] / nrm;
        const dv = v - C[o + p];
        s += dv * dv;
        C[o + p] = v;
      }
    }
    shift[j] = s;
    tot += s;
  }
  return tot;
}

/** sklearn's empty-cluster relocation: empty clusters take the points farthest from their centres. */
function relocateEmpty(
  Y: Float32Array, n: number, d: number, k: number, labels: Int32Array, dist2: Float64Array,
  sums: Float64Array, counts: Float64Array,
): boolean {
  const empty: number[] = [];
  for (let j = 0; j < k; j++) if (counts[j] === 0) empty.push(j);
  if (!empty.length) return false;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => dist2[b] - dist2[a]);
  let t = 0;
  for (const j of empty) {
    // take the farthest point whose cluster keeps at least one member
    while (t < n && counts[labels[order[t]]] <= 1) t++;
    if (t >= n) break;
    const i = order[t++];
    const old = labels[i];
    const o = i * d;
    for (let p = 0; p < d; p++) { sums[old * d + p] -= Y[o + p]; sums[j * d + p] += Y[o + p]; }
    counts[old]--; counts[j]++;
    labels[i] = j;
    dist2[i] = 0;
  }
  return true;
}

function accumulate(Y: Float32Array, n: number, d: number, k: number, labels: Int32Array, sums: Float64Array, counts: Float64Array): void {
  sums.fill(0); counts.fill(0);
  for (let i = 0; i < n; i++) {
    const j = labels[i];
    counts[j]++;
    const o = i * d, so = j * d;
    for (let p = 0; p < d; p++) sums[so + p] += Y[o + p];
  }
}

async function finalInertia(Y: Float32Array, n: number, d: number, k: number, xsq: Float32Array, C: Float32Array, gemm: Gemm, labels: Int32Array, isCancelled?: () => boolean): Promise<number> {
  return assignNearest(Y, n, d, xsq, transpose(C, k, d), rowSqNorms(C, k, d), k, gemm, labels, null, isCancelled);
}

async function lloyd(Y: Float32Array, n: number, d: number, k: number, xsq: Float32Array, C: Float32Array, o: IterOpts): Promise<KMeansResult> {
  const labels = new Int32Array(n);
  const prev = new Int32Array(n).fill(-1);
  const dist2 = new Float64Array(n);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const shift = new Float64Array(k);
  let it = 0;
  let strict = false;
  for (; it < o.maxIter; it++) {
    await assignNearest(Y, n, d, xsq, transpose(C, k, d), rowSqNorms(C, k, d), k, o.gemm, labels, dist2, o.isCancelled);
    accumulate(Y, n, d, k, labels, sums, counts);
    relocateEmpty(Y, n, d, k, labels, dist2, sums, counts);
    let same = true;
    for (let i = 0; i < n; i++) if (labels[i] !== prev[i]) { same = false; break; }
    prev.set(labels);
    const tot = updateCenters(sums, counts, k, d, C, o.spherical, shift);
    o.onIter?.(it + 1);
    if (same) { strict = true; it++; break; }
    if (tot <= o.tolAbs) { it++; break; }
  }
  // labels consistent with the final centres (sklearn re-runs the E-step unless strictly converged)
  const inertia = await finalInertia(Y, n, d, k, xsq, C, o.gemm, labels, o.isCancelled);
  void strict;
  return { labels, centroids: C, inertia, iterations: it, k, d };
}

/**
 * Hamerly's algorithm: one upper bound (to the assigned centre) and one lower bound (to the second closest) per point;
 * only points whose bounds overlap get a full distance row, gathered into blocks for the Gemm.
 */
async function hamerly(Y: Float32Array, n: number, d: number, k: number, xsq: Float32Array, C: Float32Array, o: IterOpts): Promise<KMeansResult> {
  if (k === 1) return lloyd(Y, n, d, k, xsq, C, o);
  const labels = new Int32Array(n);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const shift = new Float64Array(k);
  const half = new Float64Array(k);
  const dist2 = new Float64Array(n);
  const gemm = o.gemm;
  const br = blockRowsFor(k, n);
  const buf = new Float32Array(br * d);
  const bidx = new Int32Array(br);
  // slack for float32 Gemm rounding in the bounds
  const slack = 1e-5 * Math.sqrt(Math.max(1e-30, xsq.reduce((a, b) => Math.max(a, b), 0)));

  let Ct = transpose(C, k, d);
  let csq = rowSqNorms(C, k, d);
  // full first assignment with the two nearest
  const fullRows = async (count: number): Promise<number> => {
    if (count === 0) return 0;
    const G = await gemm(buf, count, Ct, k, d);
    let changed = 0;
    for (let r = 0; r < count; r++) {
      const i = bidx[r];
      const go = r * k;
      let b1 = Infinity, b2 = Infinity, j1 = 0;
      for (let j = 0; j < k; j++) {
        const v = csq[j] - 2 * G[go + j];
        if (v < b1) { b2 = b1; b1 = v; j1 = j; } else if (v < b2) b2 = v;
      }
      const s = xsq[i];
      upper[i] = Math.sqrt(Math.max(0, b1 + s));
      lower[i] = Math.sqrt(Math.max(0, b2 + s));
      dist2[i] = Math.max(0, b1 + s);
      const old = labels[i];
      if (old !== j1) {
        changed++;
        labels[i] = j1;
        if (old >= 0) {
          const xo = i * d, oo = old * d, no = j1 * d;
          for (let p = 0; p < d; p++) { const v = Y[xo + p]; sums[oo + p] -= v; sums[no + p] += v; }
          counts[old]--; counts[j1]++;
        }
      }
    }
    return changed;
  };

  labels.fill(-1);
  {
    let cnt = 0;
    for (let i = 0; i < n; i++) {
      buf.set(Y.subarray(i * d, i * d + d), cnt * d);
      bidx[cnt++] = i;
      if (cnt === br) { await fullRows(cnt); cnt = 0; }
    }
    await fullRows(cnt);
    accumulate(Y, n, d, k, labels, sums, counts);
  }
  let it = 0;
  let converged = false;
  for (; it < o.maxIter; it++) {
    if (o.isCancelled?.()) throw cancelled('k-means');
    if (relocateEmpty(Y, n, d, k, labels, dist2, sums, counts)) {
      // bounds of moved points are stale: force a recompute for them next round
      for (let i = 0; i < n; i++) if (dist2[i] === 0) { upper[i] = Infinity; lower[i] = 0; }
    }
    const tot = updateCenters(sums, counts, k, d, C, o.spherical, shift);
    // bound maintenance
    let m1 = 0, m2 = 0, r1 = -1;
    for (let j = 0; j < k; j++) {
      const s = Math.sqrt(shift[j]);
      shift[j] = s;
      if (s > m1) { m2 = m1; m1 = s; r1 = j; } else if (s > m2) m2 = s;
    }
    for (let i = 0; i < n; i++) {
      const a = labels[i];
      upper[i] += shift[a];
      lower[i] -= a === r1 ? m2 : m1;
    }
    o.onIter?.(it + 1);
    if (tot <= o.tolAbs) { it++; break; }
    Ct = transpose(C, k, d);
    csq = rowSqNorms(C, k, d);
    // half the distance from each centre to its nearest other centre
    {
      const G = await gemm(C, k, Ct, k, d);
      for (let j = 0; j < k; j++) {
        let m = Infinity;
        for (let q = 0; q < k; q++) {
          if (q === j) continue;
          const v = csq[j] + csq[q] - 2 * G[j * k + q];
          if (v < m) m = v;
        }
        half[j] = 0.5 * Math.sqrt(Math.max(0, m));
      }
    }
    let cnt = 0;
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const a = labels[i];
      const bound = Math.max(half[a], lower[i]) - slack;
      if (upper[i] <= bound) continue;
      // tighten the upper bound with one exact distance
      const xo = i * d, co = a * d;
      let s = 0;
      for (let p = 0; p < d; p++) { const v = Y[xo + p] - C[co + p]; s += v * v; }
      upper[i] = Math.sqrt(s);
      dist2[i] = s;
      if (upper[i] <= bound) continue;
      buf.set(Y.subarray(xo, xo + d), cnt * d);
      bidx[cnt++] = i;
      if (cnt === br) { changed += await fullRows(cnt); cnt = 0; }
    }
    changed += await fullRows(cnt);
    if (changed === 0) { it++; converged = true; break; }
  }
  if (converged) {
    // no label changed against these centres: the bounds proved every label nearest, so the final E-step of
    // sklearn would return the same labels; the inertia needs only one exact distance per point
    let inertia = 0;
    for (let i = 0; i < n; i++) {
      const xo = i * d, co = labels[i] * d;
      let s = 0;
      for (let p = 0; p < d; p++) { const v = Y[xo + p] - C[co + p]; s += v * v; }
      inertia += s;
    }
    return { labels, centroids: C, inertia, iterations: it, k, d };
  }
  if (it >= o.maxIter) {
    // final centres from the final labels
    updateCenters(sums, counts, k, d, C, o.spherical, shift);
  }
  const inertia = await finalInertia(Y, n, d, k, xsq, C, gemm, labels, o.isCancelled);
  return { labels, centroids: C, inertia, iterations: it, k, d };
}

/** Nearest centre for each row of X (normalized first for cosine); returns labels and squared distances. */
export async function kmeansPredict(
  X: Float32Array, n: number, d: number, centroids: Float32Array, k: number,
  opts: { metric?: ClusterMetric; gemm?: Gemm; isCancelled?: () => boolean } = {},
): Promise<{ labels: Int32Array; dist2: Float32Array; inertia: number }> {
  checkMatrix(X, n, d);
  const metric = opts.metric ?? 'cosine';
  const Y = prepareRows(X, n, d, metric);
  const labels = new Int32Array(n);
  const dist2 = new Float32Array(n);
  const inertia = await assignNearest(Y, n, d, rowSqNorms(Y, n, d), transpose(centroids, k, d), rowSqNorms(centroids, k, d), k, opts.gemm ?? gemmJs, labels, dist2, opts.isCancelled);
  return { labels, dist2, inertia };
}

export { normalizeRowsInPlace };
