/**
 * UMAP (McInnes, Healy & Melville 2018), following umap-learn 0.5's numerics: kNN graph (exact blocked products for
 * moderate n, rp-forest + leaf products beyond `exactKnnMaxN`), smooth kNN distances (sigma/rho binary search), fuzzy
 * simplicial set with fuzzy union, a/b curve fit, spectral initialization (per connected component, components placed
 * by a layout of their centroids), and the SGD of `optimize_layout_euclidean` with negative sampling.
 *
 * Everything lives in typed arrays; the SGD epoch allocates nothing. API in the style of umap-js:
 *   const u = new Umap(opts); await u.initializeFit(X, n, d); while (u.step() < u.nEpochs); u.getEmbedding();
 */
import { AppError, badArg } from '../../common/errors.ts';
import { knnExact, type KnnResult } from '../knn.ts';
import { normalizeRows, type Gemm } from '../linalg.ts';
import { createRng, type Rng } from '../rng.ts';
import { knnForest } from './knn-forest.ts';
import { jacobiEigen, orthonormalizeColumns, pca } from './pca.ts';
import { allocSgd, kernelMemory, readEmbedding, serialSgdRunner, sgdViews, umapKernels, writeEmbedding, type SgdRunner, type SgdState } from './umap-sgd.ts';
import type { Metric } from '../../common/types.ts';

export type { SgdRunner, SgdState } from './umap-sgd.ts';

export interface UmapOptions {
  nComponents?: number;
  nNeighbors?: number;
  minDist?: number;
  spread?: number;
  /** default: 500 for n <= 10000, else 200 (umap-learn) */
  nEpochs?: number;
  metric?: Metric;
  seed?: number;
  gemm?: Gemm;
  init?: 'spectral' | 'pca' | 'random';
  learningRate?: number;
  negativeSampleRate?: number;
  repulsionStrength?: number;
  /** above this many points the kNN graph is approximate (rp-forest); default 20000 */
  exactKnnMaxN?: number;
  /** precomputed kNN (self excluded, nNeighbors - 1 per row), skips the search */
  knn?: KnnResult;
  onProgress?: (epoch: number, nEpochs: number, embedding: Float32Array) => void;
  /** epochs between progress snapshots (default 10) */
  progressEvery?: number;
  isCancelled?: () => boolean;
  /** runs each SGD epoch (default: in this thread); results do not depend on it */
  sgdRunner?: SgdRunner;
}

/** Fit a, b of 1 / (1 + a x^(2b)) to the min_dist / spread target curve (umap-learn find_ab_params). */
export function findAbParams(spread: number, minDist: number): { a: number; b: number } {
  const N = 300;
  const xs = new Float64Array(N), ys = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const x = (spread * 3 * i) / (N - 1);
    xs[i] = x;
    ys[i] = x < minDist ? 1 : Math.exp(-(x - minDist) / spread);
  }
  // Levenberg-Marquardt on (a, b) from (1, 1), as scipy curve_fit
  let a = 1, b = 1, lambda = 1e-3;
  const sse = (a_: number, b_: number): number => {
    let s = 0;
    for (let i = 1; i < N; i++) { const r = 1 / (1 + a_ * Math.pow(xs[i], 2 * b_)) - ys[i]; s += r * r; }
    const r0 = 1 - ys[0]; // x = 0: f = 1
    return s + r0 * r0;
  };
  let cur = sse(a, b);
  for (let it = 0; it < 500; it++) {
    let jaa = 0, jab = 0, jbb = 0, ga = 0, gb = 0;
    for (let i = 1; i < N; i++) {
      const x = xs[i];
      const p = Math.pow(x, 2 * b);
      const den = 1 + a * p;
      const f = 1 / den;
      const r = f - ys[i];
      const da = -p / (den * den);
      const db = -a * p * 2 * Math.log(x) / (den * den);
      jaa += da * da; jab += da * db; jbb += db * db; ga += da * r; gb += db * r;
    }
    const A11 = jaa * (1 + lambda), A22 = jbb * (1 + lambda), A12 = jab;
    const det = A11 * A22 - A12 * A12;
    if (!(Math.abs(det) > 1e-300)) break;
    const sa = -(A22 * ga - A12 * gb) / det;
    const sb = -(A11 * gb - A12 * ga) / det;
    const na = a + sa, nb = b + sb;
    const ns = na > 0 && nb > 0 ? sse(na, nb) : Infinity;
    if (ns < cur) {
      const done = Math.abs(cur - ns) < 1e-15 * Math.max(1, cur) || (Math.abs(sa) < 1e-12 && Math.abs(sb) < 1e-12);
      a = na; b = nb; cur = ns; lambda = Math.max(lambda / 10, 1e-12);
      if (done) break;
    } else {
      lambda *= 10;
      if (lambda > 1e12) break;
    }
  }
  return { a, b };
}

/**
 * sigma and rho of every point (umap-learn smooth_knn_dist, local_connectivity 1). `dist` holds, per row, the
 * distances to the kk nearest OTHER points ascending; the target is log2(kk + 1) (umap-learn counts the point itself).
 */
export function smoothKnnDist(dist: Float32Array, n: number, kk: number): { sigma: Float32Array; rho: Float32Array } {
  const sigma = new Float32Array(n), rho = new Float32Array(n);
  const target = Math.log2(kk + 1);
  let meanAll = 0;
  for (let t = 0; t < n * kk; t++) meanAll += dist[t];
  meanAll /= n * kk;
  for (let i = 0; i < n; i++) {
    const o = i * kk;
    let r = 0;
    for (let j = 0; j < kk; j++) if (dist[o + j] > 0) { r = dist[o + j]; break; }
    rho[i] = r;
    let lo = 0, hi = Infinity, mid = 1;
    for (let it = 0; it < 64; it++) {
      let psum = 0;
      for (let j = 0; j < kk; j++) {
        const dd = dist[o + j] - r;
        psum += dd > 0 ? Math.exp(-dd / mid) : 1;
      }
      if (Math.abs(psum - target) < 1e-5) break;
      if (psum > target) { hi = mid; mid = (lo + hi) / 2; } else { lo = mid; mid = hi === Infinity ? mid * 2 : (lo + hi) / 2; }
    }
    if (r > 0) {
      let m = 0;
      for (let j = 0; j < kk; j++) m += dist[o + j];
      m /= kk;
      if (mid < 1e-3 * m) mid = 1e-3 * m;
    } else if (mid < 1e-3 * meanAll) mid = 1e-3 * meanAll;
    sigma[i] = mid;
  }
  return { sigma, rho };
}

/** Symmetric sparse graph in CSR (both directions stored). */
export interface FuzzyGraph {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  weights: Float32Array;
}

/** Fuzzy simplicial set: membership strengths then the fuzzy union P + P^T - P o P^T. */
export function fuzzySimplicialSet(knn: KnnResult): FuzzyGraph {
  const { n, k, indices: ki, distances: kd } = knn;
  const { sigma, rho } = smoothKnnDist(kd, n, k);
  const P = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const t = i * k + j;
      const dd = kd[t] - rho[i];
      P[t] = ki[t] === i ? 0 : dd <= 0 || sigma[i] === 0 ? 1 : Math.exp(-dd / sigma[i]);
    }
  }
  // COO of the union: for each stored (i, j) look (j, i) up in j's short list
  const rows = new Int32Array(2 * n * k), cols = new Int32Array(2 * n * k), vals = new Float32Array(2 * n * k);
  let m = 0;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      const j = ki[i * k + a];
      if (j < 0 || j === i) continue;
      const v = P[i * k + a];
      let back = -1;
      for (let b = 0; b < k; b++) if (ki[j * k + b] === i) { back = b; break; }
      const w = back >= 0 ? v + P[j * k + back] - v * P[j * k + back] : v;
      if (w <= 0) continue;
      rows[m] = i; cols[m] = j; vals[m] = w; m++;
      if (back < 0) { rows[m] = j; cols[m] = i; vals[m] = w; m++; }
    }
  }
  // CSR by counting sort on rows, columns sorted within a row
  const indptr = new Int32Array(n + 1);
  for (let t = 0; t < m; t++) indptr[rows[t] + 1]++;
  for (let i = 0; i < n; i++) indptr[i + 1] += indptr[i];
  const fill = indptr.slice(0, n);
  const indices = new Int32Array(m), weights = new Float32Array(m);
  for (let t = 0; t < m; t++) { const p = fill[rows[t]]++; indices[p] = cols[t]; weights[p] = vals[t]; }
  for (let i = 0; i < n; i++) {
    const s = indptr[i], e = indptr[i + 1];
    for (let p = s + 1; p < e; p++) {
      const c = indices[p], w = weights[p];
      let q = p - 1;
      while (q >= s && indices[q] > c) { indices[q + 1] = indices[q]; weights[q + 1] = weights[q]; q--; }
      indices[q + 1] = c; weights[q + 1] = w;
    }
  }
  return { n, indptr, indices, weights };
}

/** True when every row has L2 norm 1 (within float32 rounding). */
export function rowsAreUnit(X: Float32Array, n: number, d: number): boolean {
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let p = 0; p < d; p++) s += X[o + p] * X[o + p];
    if (Math.abs(s - 1) > 1e-4) return false;
  }
  return true;
}

/** Connected components of the graph: labels 0..count-1 in order of first appearance. */
export function connectedComponents(g: FuzzyGraph): { labels: Int32Array; count: number } {
  const labels = new Int32Array(g.n).fill(-1);
  const stack = new Int32Array(g.n);
  let count = 0;
  for (let s = 0; s < g.n; s++) {
    if (labels[s] >= 0) continue;
    let sp = 0;
    stack[sp++] = s; labels[s] = count;
    while (sp > 0) {
      const v = stack[--sp];
      for (let p = g.indptr[v]; p < g.indptr[v + 1]; p++) {
        const u = g.indices[p];
        if (labels[u] < 0) { labels[u] = count; stack[sp++] = u; }
      }
    }
    count++;
  }
  return { labels, count };
}

/**
 * The `dim` eigenvectors after the trivial one of the normalized adjacency D^-1/2 W D^-1/2 (i.e. the smallest of the
 * normalized Laplacian) of the subgraph on `nodes`, by block power iteration on (I + N)/2 with Rayleigh-Ritz.
 * Returns nodes.length x dim (row-major).
 */
function spectralComponent(g: FuzzyGraph, nodes: Int32Array, local: Int32Array, dim: number, rng: Rng, iters: number): Float64Array {
  const m = nodes.length;
  const deg = new Float64Array(m);
  for (let a = 0; a < m; a++) {
    const v = nodes[a];
    let s = 0;
    for (let p = g.indptr[v]; p < g.indptr[v + 1]; p++) s += g.weights[p];
    deg[a] = s;
  }
  const isq = new Float64Array(m);
  let tn = 0;
  for (let a = 0; a < m; a++) { isq[a] = deg[a] > 0 ? 1 / Math.sqrt(deg[a]) : 0; tn += deg[a]; }
  // trivial eigenvector sqrt(deg) / |.|
  const triv = new Float64Array(m);
  for (let a = 0; a < m; a++) triv[a] = Math.sqrt(deg[a] / (tn || 1));
  const l = dim + 2 + (dim & 1); // a little oversampling, even for the 2-wide SIMD product
  // the normalized adjacency's rows (local indices, weights w_ab / sqrt(deg_a deg_b) / 2) and the two blocks, in a
  // WebAssembly memory for the SIMD product
  let nnz = 0;
  for (let a = 0; a < m; a++) nnz += g.indptr[nodes[a] + 1] - g.indptr[nodes[a]];
  const a16 = (x: number) => Math.ceil(x / 16) * 16;
  const offI = 0, offC = a16((m + 1) * 4), offW = offC + a16(nnz * 4), offV = offW + a16(nnz * 8), offX = offV + a16(m * l * 8);
  const mem = kernelMemory(offX + m * l * 8);
  const ip = new Int32Array(mem.buffer, offI, m + 1), cols = new Int32Array(mem.buffer, offC, nnz), vals = new Float64Array(mem.buffer, offW, nnz);
  let e = 0;
  for (let a = 0; a < m; a++) {
    const v = nodes[a];
    for (let p = g.indptr[v]; p < g.indptr[v + 1]; p++) {
      const b = local[g.indices[p]];
      cols[e] = b; vals[e] = 0.5 * g.weights[p] * isq[a] * isq[b]; e++;
    }
    ip[a + 1] = e;
  }
  const V = new Float64Array(mem.buffer, offV, m * l), W = new Float64Array(mem.buffer, offX, m * l);
  for (let t = 0; t < m * l; t++) V[t] = rng.normal();
  const deflate = (M: Float64Array) => {
    for (let c = 0; c < l; c++) {
      let s = 0;
      for (let a = 0; a < m; a++) s += M[a * l + c] * triv[a];
      for (let a = 0; a < m; a++) M[a * l + c] -= s * triv[a];
    }
  };
  const spmm = umapKernels(mem).spmm;
  // dst = (src + N src) / 2 with N = D^-1/2 W D^-1/2
  const apply = (src: Float64Array, dst: Float64Array) => spmm(0, m, l * 8, 0.5, offI, offC, offW, src.byteOffset, dst.byteOffset);
  deflate(V);
  orthonormalizeColumns(V, m, l);
  for (let it = 0; it < iters; it++) {
    apply(V, W);
    // (I + N) / 2 has its spectrum in [0, 1], so the block cannot overflow: re-orthonormalize every few steps
    if (it % 8 === 7 || it === iters - 1) { deflate(W); orthonormalizeColumns(W, m, l); }
    V.set(W);
  }
  // Rayleigh-Ritz: H = V^T A V, rotate to its eigenvectors
  apply(V, W);
  const H = new Float64Array(l * l);
  for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) {
    let s = 0;
    for (let a = 0; a < m; a++) s += V[a * l + i] * W[a * l + j];
    H[i * l + j] = s;
  }
  for (let i = 0; i < l; i++) for (let j = i + 1; j < l; j++) { const s = 0.5 * (H[i * l + j] + H[j * l + i]); H[i * l + j] = s; H[j * l + i] = s; }
  const { vectors } = jacobiEigen(H, l);
  const out = new Float64Array(m * dim);
  for (let a = 0; a < m; a++) for (let c = 0; c < dim; c++) {
    let s = 0;
    for (let j = 0; j < l; j++) s += V[a * l + j] * vectors[j * l + c];
    out[a * dim + c] = s;
  }
  return out;
}

/** umap-learn style spectral layout, multi-component aware; noise and [0, 10] scaling are applied by the caller. */
async function spectralLayout(g: FuzzyGraph, X: Float32Array, d: number, dim: number, rng: Rng, gemm: Gemm | undefined): Promise<Float64Array> {
  const n = g.n;
  const { labels, count } = connectedComponents(g);
  const nnz = g.indptr[n];
  const iters = Math.max(30, Math.min(300, Math.floor(3e9 / Math.max(1, (nnz + n) * (dim + 2) * 2))));
  const result = new Float64Array(n * dim);
  const local = new Int32Array(n);
  const members: Int32Array[] = [];
  const sizes = new Int32Array(count);
  for (let i = 0; i < n; i++) sizes[labels[i]]++;
  for (let c = 0; c < count; c++) members.push(new Int32Array(sizes[c]));
  const fill = new Int32Array(count);
  for (let i = 0; i < n; i++) { const c = labels[i]; local[i] = fill[c]; members[c][fill[c]++] = i; }
  if (count === 1) {
    const E = spectralComponent(g, members[0], local, dim, rng, iters);
    let mx = 0;
    for (let t = 0; t < E.length; t++) mx = Math.max(mx, Math.abs(E[t]));
    for (let t = 0; t < E.length; t++) result[t] = E[t] / (mx || 1);
    return result;
  }
  // meta layout of the components
  const meta = new Float64Array(count * dim);
  if (count > 2 * dim) {
    // PCA of the component centroids in data space, scaled so the max |coordinate| is 1
    const C = new Float32Array(count * d);
    for (let i = 0; i < n; i++) { const c = labels[i]; for (let p = 0; p < d; p++) C[c * d + p] += X[i * d + p]; }
    for (let c = 0; c < count; c++) for (let p = 0; p < d; p++) C[c * d + p] /= sizes[c];
    const pc = Math.min(dim, count, d);
    const r = await pca(C, count, d, pc, { seed: rng.int(1 << 30), gemm });
    let mx = 0;
    for (let t = 0; t < count * pc; t++) mx = Math.max(mx, Math.abs(r.projected[t]));
    for (let c = 0; c < count; c++) for (let q = 0; q < pc; q++) meta[c * dim + q] = r.projected[c * pc + q] / (mx || 1);
  } else {
    const k = Math.ceil(count / 2);
    for (let c = 0; c < count; c++) {
      const row = c < k ? c : c - k;
      if (row < dim) meta[c * dim + row] = c < k ? 1 : -1;
    }
  }
  for (let c = 0; c < count; c++) {
    // half the distance to the nearest other component centre
    let best = Infinity;
    for (let o = 0; o < count; o++) {
      if (o === c) continue;
      let s = 0;
      for (let q = 0; q < dim; q++) { const x = meta[c * dim + q] - meta[o * dim + q]; s += x * x; }
      if (s > 0 && s < best) best = s;
    }
    const range = best === Infinity ? 1 : Math.sqrt(best) / 2;
    const mem = members[c];
    if (mem.length < 2 * dim || mem.length <= dim + 1) {
      for (const i of mem) for (let q = 0; q < dim; q++) result[i * dim + q] = meta[c * dim + q] + (rng.next() * 2 - 1) * range;
      continue;
    }
    const E = spectralComponent(g, mem, local, dim, rng, iters);
    let mx = 0;
    for (let t = 0; t < E.length; t++) mx = Math.max(mx, Math.abs(E[t]));
    const scale = range / (mx || 1);
    for (let a = 0; a < mem.length; a++) for (let q = 0; q < dim; q++) result[mem[a] * dim + q] = E[a * dim + q] * scale + meta[c * dim + q];
  }
  return result;
}

export class Umap {
  readonly nComponents: number;
  readonly nNeighbors: number;
  readonly minDist: number;
  readonly spread: number;
  nEpochs = 0;
  private readonly opts: UmapOptions;
  private n = 0;
  /** which of the state's two embedding buffers holds the current positions */
  private cur: 0 | 1 = 0;
  private state: SgdState | null = null;
  private epoch = 0;
  graph: FuzzyGraph | null = null;

  constructor(opts: UmapOptions = {}) {
    this.opts = opts;
    this.nComponents = opts.nComponents ?? 2;
    this.nNeighbors = opts.nNeighbors ?? 15;
    this.minDist = opts.minDist ?? 0.1;
    this.spread = opts.spread ?? 1;
    if (!Number.isInteger(this.nComponents) || this.nComponents < 1) throw badArg('nComponents', `must be an integer >= 1, got ${this.nComponents}`);
    if (!Number.isInteger(this.nNeighbors) || this.nNeighbors < 2) throw badArg('nNeighbors', `must be an integer >= 2, got ${this.nNeighbors}`);
    if (!(this.spread > 0)) throw badArg('spread', `must be > 0, got ${this.spread}`);
    if (!(this.minDist >= 0) || this.minDist > this.spread) throw badArg('minDist', `must be in [0, spread], got ${this.minDist}`);
    if (opts.nEpochs !== undefined && (!Number.isInteger(opts.nEpochs) || opts.nEpochs < 1)) throw badArg('nEpochs', `must be a positive integer, got ${opts.nEpochs}`);
    if (opts.metric !== undefined && opts.metric !== 'cosine' && opts.metric !== 'euclidean') throw badArg('metric', `must be 'cosine' or 'euclidean', got ${String(opts.metric)}`);
    if (opts.init !== undefined && !['spectral', 'pca', 'random'].includes(opts.init)) throw badArg('init', `must be 'spectral', 'pca' or 'random', got ${String(opts.init)}`);
  }

  private checkCancelled(): void {
    if (this.opts.isCancelled?.()) throw new AppError('CANCELLED', 'UMAP cancelled');
  }

  /** kNN graph, fuzzy set, initialization and SGD schedule. Returns the number of epochs. */
  async initializeFit(X: Float32Array, n: number, d: number): Promise<number> {
    const o = this.opts;
    if (!Number.isInteger(n) || n < 2) throw badArg('n', `need at least 2 points, got ${n}`);
    if (!Number.isInteger(d) || d < 1) throw badArg('d', `must be a positive integer, got ${d}`);
    if (X.length < n * d) throw badArg('X', `has ${X.length} values, expected n*d = ${n * d}`);
    if (this.nNeighbors >= n) throw badArg('nNeighbors', `must be < the number of points (${n}), got ${this.nNeighbors}`);
    const dim = this.nComponents;
    if (dim >= n) throw badArg('nComponents', `must be < the number of points (${n}), got ${dim}`);
    const metric = o.metric ?? 'cosine';
    const seed = o.seed ?? 0;
    const rng = createRng(seed);
    this.n = n;
    this.checkCancelled();
    // cosine: unit rows (no copy when they already are, as embeddings usually are: saves n*d floats of peak memory)
    const Xm = metric === 'cosine' && !rowsAreUnit(X, n, d) ? normalizeRows(X, n, d) : X;
    const kk = this.nNeighbors - 1;
    let knn = o.knn;
    if (knn) {
      if (knn.n !== n || knn.k < kk) throw badArg('knn', `must have n=${n} rows of at least ${kk} neighbours`);
    } else if (n <= (o.exactKnnMaxN ?? 20000)) {
      knn = await knnExact(Xm, n, d, kk, { metric, gemm: o.gemm, isCancelled: o.isCancelled });
    } else {
      // the neighbours-of-neighbours pass costs n k^2 d-dimensional distances: worth it for small d only
      knn = await knnForest(Xm, n, d, kk, { metric, gemm: o.gemm, seed: rng.int(1 << 30), isCancelled: o.isCancelled, refineIters: d <= 256 ? 1 : 0 });
    }
    if (knn.k > kk) {
      const ii = new Int32Array(n * kk), dd = new Float32Array(n * kk);
      for (let i = 0; i < n; i++) for (let j = 0; j < kk; j++) { ii[i * kk + j] = knn.indices[i * knn.k + j]; dd[i * kk + j] = knn.distances[i * knn.k + j]; }
      knn = { n, k: kk, indices: ii, distances: dd };
    }
    this.checkCancelled();
    const g = fuzzySimplicialSet(knn);
    this.graph = g;
    const nEpochs = o.nEpochs ?? (n <= 10000 ? 500 : 200);
    this.nEpochs = nEpochs;
    // edges grouped by head, dropping those too weak to be sampled in nEpochs
    let wmax = 0;
    for (let t = 0; t < g.weights.length; t++) if (g.weights[t] > wmax) wmax = g.weights[t];
    const cut = wmax / nEpochs;
    let m = 0;
    for (let t = 0; t < g.weights.length; t++) if (g.weights[t] >= cut) m++;
    const { a, b } = findAbParams(this.spread, this.minDist);
    const st = allocSgd({
      n, dim, m, nEpochs, a, b, gamma: o.repulsionStrength ?? 1, learningRate: o.learningRate ?? 1,
      seed: rng.int(0xffffffff) >>> 0,
    });
    const { indptr, tail, epochsPerSample, epochOfNextSample, epochsPerNegSample, epochOfNextNegSample } = sgdViews(st);
    const nsr = o.negativeSampleRate ?? 5;
    let e = 0;
    for (let i = 0; i < n; i++) {
      for (let p = g.indptr[i]; p < g.indptr[i + 1]; p++) {
        const w = g.weights[p];
        if (w < cut) continue;
        tail[e] = g.indices[p];
        const eps = wmax / w; // = nEpochs / (nEpochs * w / wmax)
        epochsPerSample[e] = eps; epochOfNextSample[e] = eps;
        epochsPerNegSample[e] = eps / nsr; epochOfNextNegSample[e] = eps / nsr;
        e++;
      }
      indptr[i + 1] = e;
    }

    // initialization
    const init = o.init ?? 'spectral';
    const Y = new Float64Array(n * dim);
    this.checkCancelled();
    if (init === 'random') {
      for (let t = 0; t < n * dim; t++) Y[t] = rng.next() * 20 - 10;
    } else {
      let E: Float64Array;
      if (init === 'pca') {
        const pc = Math.min(dim, d);
        const r = await pca(Xm, n, d, pc, { seed: rng.int(1 << 30), gemm: o.gemm, isCancelled: o.isCancelled });
        E = new Float64Array(n * dim);
        for (let i = 0; i < n; i++) for (let q = 0; q < pc; q++) E[i * dim + q] = r.projected[i * pc + q];
        for (let i = 0; i < n; i++) for (let q = pc; q < dim; q++) E[i * dim + q] = rng.normal() * 1e-4;
      } else {
        E = await spectralLayout(g, Xm, d, dim, rng, o.gemm);
      }
      let mx = 0;
      for (let t = 0; t < E.length; t++) mx = Math.max(mx, Math.abs(E[t]));
      const expansion = 10 / (mx || 1);
      for (let t = 0; t < n * dim; t++) Y[t] = E[t] * expansion + rng.normal() * 1e-4;
    }
    // scale every coordinate to [0, 10] (umap-learn simplicial_set_embedding)
    const E0 = new Float32Array(n * dim);
    for (let q = 0; q < dim; q++) {
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < n; i++) { const v = Y[i * dim + q]; if (v < lo) lo = v; if (v > hi) hi = v; }
      const s = hi > lo ? 10 / (hi - lo) : 0;
      for (let i = 0; i < n; i++) E0[i * dim + q] = (Y[i * dim + q] - lo) * s;
    }
    writeEmbedding(st, 0, E0);
    this.state = st;
    this.cur = 0;
    this.epoch = 0;
    return nEpochs;
  }

  /** One SGD epoch (see umap-sgd.ts); returns the number of epochs done. */
  step(): number {
    if (this.epoch >= this.nEpochs || !this.state) return this.epoch;
    (this.opts.sgdRunner ?? serialSgdRunner).epoch(this.state, this.epoch, this.cur);
    this.cur = this.cur === 0 ? 1 : 0;
    this.epoch++;
    return this.epoch;
  }

  /** The current embedding (n x nComponents, row-major): a copy. */
  getEmbedding(): Float32Array {
    return this.state ? readEmbedding(this.state, this.cur) : new Float32Array(0);
  }

  get epochsDone(): number {
    return this.epoch;
  }

  /** Run the remaining epochs, with progress snapshots and cancellation checks; yields to the event loop between them. */
  async run(): Promise<Float32Array> {
    const every = Math.max(1, this.opts.progressEvery ?? 10);
    while (this.epoch < this.nEpochs) {
      this.checkCancelled();
      const e = this.step();
      if (this.opts.onProgress && (e % every === 0 || e === this.nEpochs)) {
        this.opts.onProgress(e, this.nEpochs, this.getEmbedding());
        await new Promise<void>((r) => setTimeout(r, 0));
      }
    }
    return this.getEmbedding();
  }
}

/** Fit a UMAP embedding of X (n x d). Returns n*nComponents coordinates (row-major). */
export async function fitUmap(X: Float32Array, n: number, d: number, opts: UmapOptions = {}): Promise<Float32Array> {
  const u = new Umap(opts);
  await u.initializeFit(X, n, d);
  return u.run();
}
