/**
 * Barnes-Hut t-SNE (van der Maaten 2014) with scikit-learn's schedule: PCA to `pcaDims` first, perplexity calibration
 * (binary search on beta) over a kNN graph of k = 3 * perplexity + 1 neighbours, symmetrized joint P, early
 * exaggeration 12 for 250 iterations with momentum 0.5 then momentum 0.8, delta-bar-delta gains, learning rate 'auto'
 * = max(n / exaggeration / 4, 50), PCA initialization scaled to std 1e-4 on the first axis. The repulsion is Barnes-Hut
 * (theta = 0.5 by default), FFT interpolation (FIt-SNE) or exact, per `method` (auto: see chooseTsneMethod); the
 * gradient's phases run on an injected TsneRunner (tsne-gradient.ts), the same map on any number of threads. Same API
 * shape as Umap (initializeFit / step / getEmbedding).
 */
import { AppError, badArg } from '../../common/errors.ts';
import { TSNE_METHODS } from '../../common/schema-kit.ts';
import { knnExact, type KnnResult } from '../knn.ts';
import { normalizeRows, type Gemm } from '../linalg.ts';
import { createRng } from '../rng.ts';
import { knnForest } from './knn-forest.ts';
import { smoothSize } from './fft.ts';
import { pca } from './pca.ts';
import { allocTsneState, QuadTree, serialTsneRunner, tsneIteration, type TsneGradientMethod, type TsneRunner, type TsneState } from './tsne-gradient.ts';
import type { Metric } from '../../common/types.ts';

export type { TsneRunner } from './tsne-gradient.ts';

// the methods are the contract's (common/schema-kit.ts)
export { TSNE_METHODS };
export type TsneMethod = (typeof TSNE_METHODS)[number];
/** auto: Barnes-Hut throughout below this many points; from here on the cheaper of FFT and Barnes-Hut per iteration */
export const TSNE_AUTO_MIN_N = 5000;

/**
 * Cost model of one repulsion pass (milliseconds on one core here, fitted on Fashion-MNIST 10,000 x 784 maps):
 * FFT ~ M^2 log2 M for an M x M grid (M = 6 boxes per unit of extent, at least 300), Barnes-Hut ~ n log2 n, about 3
 * times more while the early exaggeration packs the points into tight clumps. It depends only on n, the iteration and
 * the map's extent, never on a clock: the same input gives the same sequence of methods, so the same map.
 */
export function tsneRepulsionCost(n: number, span: number, early: boolean): { fft: number; bh: number } {
  const M = 6 * smoothSize(Math.max(50, Math.ceil(span)));
  return { fft: 1.8e-4 * M * M * Math.log2(M), bh: 5.8e-4 * n * Math.log2(Math.max(2, n)) * (early ? 3 : 1) };
}

/** The repulsion of one iteration: fixed unless auto; auto switches only when the other way is 20% cheaper. */
export function chooseTsneMethod(m: TsneMethod, n: number, span: number, early: boolean, current: TsneGradientMethod | null): TsneGradientMethod {
  if (m !== 'auto') return m;
  if (n < TSNE_AUTO_MIN_N) return 'bh';
  const c = tsneRepulsionCost(n, span, early);
  if (current === 'fft') return c.bh < 0.8 * c.fft ? 'bh' : 'fft';
  if (current === 'bh') return c.fft < 0.8 * c.bh ? 'fft' : 'bh';
  return c.fft <= c.bh ? 'fft' : 'bh';
}

export interface TsneOptions {
  /** only 2 is supported (Barnes-Hut quadtree) */
  nComponents?: number;
  perplexity?: number;
  earlyExaggeration?: number;
  /** iterations with exaggeration (default 250) */
  exaggerationIters?: number;
  learningRate?: number | 'auto';
  /** total iterations (default 1000) */
  nIter?: number;
  theta?: number;
  /** reduce to this many dimensions by PCA first when d is larger (default 50; 0 = never) */
  pcaDims?: number;
  /** input-space metric (default euclidean, as sklearn) */
  metric?: Metric;
  init?: 'pca' | 'random';
  seed?: number;
  gemm?: Gemm;
  exactKnnMaxN?: number;
  onProgress?: (iteration: number, nIter: number, embedding: Float32Array) => void;
  /** iterations between progress snapshots (default 25) */
  progressEvery?: number;
  isCancelled?: () => boolean;
  /** repulsion: exact (all pairs), bh (Barnes-Hut), fft (FIt-SNE interpolation), auto (default: by size) */
  method?: TsneMethod;
  /** runs the gradient's chunks (default: on this thread); core/workers has one on all cores */
  runner?: TsneRunner;
}

/**
 * Conditional probabilities p_{j|i} over each row's kNN (squared distances), calibrated to the perplexity by a binary
 * search on beta = 1 / (2 sigma^2) (sklearn _binary_search_perplexity). Returns n*k row-normalized probabilities.
 */
export function calibratePerplexity(sqDist: Float32Array, n: number, k: number, perplexity: number): Float32Array {
  const P = new Float32Array(n * k);
  const desired = Math.log(perplexity);
  const row = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let beta = 1, bmin = -Infinity, bmax = Infinity;
    let sumP = 0;
    for (let it = 0; it < 100; it++) {
      sumP = 0;
      for (let j = 0; j < k; j++) { const v = Math.exp(-sqDist[o + j] * beta); row[j] = v; sumP += v; }
      if (sumP === 0) sumP = 1e-8;
      let sumDP = 0;
      for (let j = 0; j < k; j++) sumDP += sqDist[o + j] * row[j];
      const entropy = Math.log(sumP) + (beta * sumDP) / sumP;
      const diff = entropy - desired;
      if (Math.abs(diff) <= 1e-5) break;
      if (diff > 0) { bmin = beta; beta = bmax === Infinity ? beta * 2 : (beta + bmax) / 2; }
      else { bmax = beta; beta = bmin === -Infinity ? beta / 2 : (beta + bmin) / 2; }
    }
    for (let j = 0; j < k; j++) P[o + j] = row[j] / sumP;
  }
  return P;
}

/** Joint P = (P + P^T) / sum, as CSR (both directions). */
export function symmetrizeP(knn: KnnResult, Pc: Float32Array): { indptr: Int32Array; indices: Int32Array; values: Float32Array } {
  const { n, k, indices: ki } = knn;
  const rows = new Int32Array(2 * n * k), cols = new Int32Array(2 * n * k), vals = new Float64Array(2 * n * k);
  // reverse lists: for each i, the (j, b) with ki[j * k + b] === i, in increasing j then b (O(n k), not O(n k^2))
  const inPtr = new Int32Array(n + 1);
  for (let t = 0; t < n * k; t++) { const j = ki[t]; if (j >= 0) inPtr[j + 1]++; }
  for (let i = 0; i < n; i++) inPtr[i + 1] += inPtr[i];
  const inAt = inPtr.slice(0, n), inSrc = new Int32Array(inPtr[n]), inPos = new Int32Array(inPtr[n]);
  for (let t = 0; t < n * k; t++) { const j = ki[t]; if (j >= 0) { const q = inAt[j]++; inSrc[q] = (t / k) | 0; inPos[q] = t % k; } }
  const backOf = new Int32Array(n).fill(-1);
  let m = 0, total = 0;
  for (let i = 0; i < n; i++) {
    // backOf[j] = the first position of i in row j (as a linear search of row j would find it)
    for (let q = inPtr[i]; q < inPtr[i + 1]; q++) if (backOf[inSrc[q]] < 0) backOf[inSrc[q]] = inPos[q];
    for (let a = 0; a < k; a++) {
      const j = ki[i * k + a];
      if (j < 0 || j === i) continue;
      const v = Pc[i * k + a];
      const back = backOf[j];
      const w = back >= 0 ? v + Pc[j * k + back] : v;
      rows[m] = i; cols[m] = j; vals[m] = w; m++; total += w;
      if (back < 0) { rows[m] = j; cols[m] = i; vals[m] = w; m++; total += w; }
    }
    for (let q = inPtr[i]; q < inPtr[i + 1]; q++) backOf[inSrc[q]] = -1;
  }
  const indptr = new Int32Array(n + 1);
  for (let t = 0; t < m; t++) indptr[rows[t] + 1]++;
  for (let i = 0; i < n; i++) indptr[i + 1] += indptr[i];
  const fill = indptr.slice(0, n);
  const indices = new Int32Array(m), values = new Float32Array(m);
  const inv = total > 0 ? 1 / total : 0;
  for (let t = 0; t < m; t++) { const p = fill[rows[t]]++; indices[p] = cols[t]; values[p] = vals[t] * inv; }
  return { indptr, indices, values };
}

export class Tsne {
  readonly nComponents: number;
  readonly perplexity: number;
  readonly nIter: number;
  private readonly opts: TsneOptions;
  /** the repulsion of the last iteration */
  method: TsneGradientMethod = 'bh';
  /** iterations done by each repulsion */
  readonly methodIterations: Record<TsneGradientMethod, number> = { exact: 0, bh: 0, fft: 0 };
  private requested: TsneMethod = 'auto';
  private n = 0;
  private Y: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private st: TsneState | null = null;
  private tree: QuadTree | null = null;
  private runner: TsneRunner;
  private iter = 0;
  private lr = 200;
  private exIters = 250;
  private exaggeration = 12;
  private theta = 0.5;

  constructor(opts: TsneOptions = {}) {
    this.opts = opts;
    this.nComponents = opts.nComponents ?? 2;
    this.perplexity = opts.perplexity ?? 30;
    this.nIter = opts.nIter ?? 1000;
    this.runner = opts.runner ?? serialTsneRunner;
    if (!Number.isInteger(this.nComponents) || this.nComponents < 1) throw badArg('nComponents', `must be an integer >= 1, got ${this.nComponents}`);
    if (this.nComponents !== 2) throw badArg('nComponents', `t-SNE supports 2 components, got ${this.nComponents}`);
    if (!(this.perplexity >= 1)) throw badArg('perplexity', `must be >= 1, got ${this.perplexity}`);
    if (!Number.isInteger(this.nIter) || this.nIter < 1) throw badArg('nIter', `must be a positive integer, got ${this.nIter}`);
    const th = opts.theta ?? 0.5;
    if (!(th >= 0)) throw badArg('theta', `must be >= 0, got ${th}`);
    this.theta = th;
    const lr = opts.learningRate ?? 'auto';
    if (lr !== 'auto' && !(lr > 0)) throw badArg('learningRate', `must be > 0 or 'auto', got ${String(lr)}`);
    this.exaggeration = opts.earlyExaggeration ?? 12;
    if (!(this.exaggeration >= 1)) throw badArg('earlyExaggeration', `must be >= 1, got ${this.exaggeration}`);
    const m = opts.method ?? 'auto';
    if (!TSNE_METHODS.includes(m)) throw badArg('method', `expected ${TSNE_METHODS.join(', ')}, got ${JSON.stringify(m)}`);
    this.requested = m;
  }

  private checkCancelled(): void {
    if (this.opts.isCancelled?.()) throw new AppError('CANCELLED', 't-SNE cancelled');
  }

  async initializeFit(X: Float32Array, n: number, d: number): Promise<number> {
    const o = this.opts;
    if (!Number.isInteger(n) || n < 4) throw badArg('n', `need at least 4 points, got ${n}`);
    if (!Number.isInteger(d) || d < 1) throw badArg('d', `must be a positive integer, got ${d}`);
    if (X.length < n * d) throw badArg('X', `has ${X.length} values, expected n*d = ${n * d}`);
    // as sklearn: k = min(n - 1, 3 * perplexity + 1) neighbours; the perplexity itself must stay below n
    if (this.perplexity >= n) throw badArg('perplexity', `must be less than the number of points (${n}), got ${this.perplexity}`);
    const k = Math.min(n - 1, Math.floor(3 * this.perplexity + 1));
    this.n = n;
    const rng = createRng(o.seed ?? 0);
    const metric = o.metric ?? 'euclidean';
    let Z = metric === 'cosine' ? normalizeRows(X, n, d) : X;
    let dz = d;
    const pcaDims = o.pcaDims ?? 50;
    this.checkCancelled();
    if (pcaDims > 0 && d > pcaDims && n > pcaDims) {
      const r = await pca(Z, n, d, pcaDims, { seed: rng.int(1 << 30), gemm: o.gemm, isCancelled: o.isCancelled });
      Z = r.projected; dz = pcaDims;
    }
    this.checkCancelled();
    const knn = n <= (o.exactKnnMaxN ?? 20000)
      ? await knnExact(Z, n, dz, k, { metric: 'euclidean', gemm: o.gemm, isCancelled: o.isCancelled })
      : await knnForest(Z, n, dz, k, { metric: 'euclidean', gemm: o.gemm, seed: rng.int(1 << 30), isCancelled: o.isCancelled, refineIters: 1 });
    const sq = new Float32Array(knn.distances.length);
    for (let t = 0; t < sq.length; t++) sq[t] = knn.distances[t] * knn.distances[t];
    this.checkCancelled();
    const Pc = calibratePerplexity(sq, n, k, this.perplexity);
    const P = symmetrizeP(knn, Pc);

    // initialization
    this.Y = new Float32Array(n * 2);
    if ((o.init ?? 'pca') === 'pca') {
      const r = await pca(Z, n, dz, 2, { seed: rng.int(1 << 30), gemm: o.gemm });
      let mean = 0, ss = 0;
      for (let i = 0; i < n; i++) mean += r.projected[2 * i];
      mean /= n;
      for (let i = 0; i < n; i++) { const v = r.projected[2 * i] - mean; ss += v * v; }
      const std = Math.sqrt(ss / n) || 1;
      for (let t = 0; t < 2 * n; t++) this.Y[t] = (r.projected[t] / std) * 1e-4;
    } else {
      for (let t = 0; t < 2 * n; t++) this.Y[t] = rng.normal() * 1e-4;
    }
    this.method = chooseTsneMethod(this.requested, n, 0, true, null);
    this.st = allocTsneState(n, this.method, P, this.Y, this.requested === 'auto');
    this.Y = this.st.Y;
    this.tree = this.method === 'bh' || this.requested === 'auto' ? new QuadTree(n) : null;
    this.methodIterations.exact = this.methodIterations.bh = this.methodIterations.fft = 0;
    const lr = o.learningRate ?? 'auto';
    this.lr = lr === 'auto' ? Math.max(n / this.exaggeration / 4, 50) : lr;
    this.exIters = Math.min(this.nIter, o.exaggerationIters ?? 250);
    this.iter = 0;
    return this.nIter;
  }

  /** One gradient-descent iteration; returns the number done. */
  step(): number {
    if (this.iter >= this.nIter) return this.iter;
    const early = this.iter < this.exIters;
    if (this.requested === 'auto') {
      const Y = this.Y;
      let lo = Infinity, hi = -Infinity;
      for (let t = 0; t < Y.length; t++) { const v = Y[t]; if (v < lo) lo = v; if (v > hi) hi = v; }
      const m = chooseTsneMethod('auto', this.n, hi - lo, early, this.method);
      if (m !== this.st!.method) this.st = { ...this.st!, method: m };
      this.method = m;
    }
    this.methodIterations[this.method]++;
    this.st = tsneIteration(this.st!, this.runner, this.tree, {
      exaggeration: early ? this.exaggeration : 1, momentum: early ? 0.5 : 0.8, learningRate: this.lr, theta: this.theta,
    });
    this.Y = this.st.Y;
    this.iter++;
    return this.iter;
  }

  /** the live embedding (in shared memory) */
  getEmbedding(): Float32Array<ArrayBufferLike> {
    return this.Y;
  }

  get iterationsDone(): number {
    return this.iter;
  }

  async run(): Promise<Float32Array> {
    const every = Math.max(1, this.opts.progressEvery ?? 25);
    while (this.iter < this.nIter) {
      this.checkCancelled();
      const it = this.step();
      if (this.opts.onProgress && (it % every === 0 || it === this.nIter)) {
        this.opts.onProgress(it, this.nIter, this.Y.slice());
        await new Promise<void>((r) => setTimeout(r, 0));
      }
    }
    return this.Y.slice();
  }
}

/** Fit a 2-D t-SNE map of X (n x d). Returns n*2 coordinates (row-major). */
export async function fitTsne(X: Float32Array, n: number, d: number, opts: TsneOptions = {}): Promise<Float32Array> {
  const t = new Tsne(opts);
  await t.initializeFit(X, n, d);
  return t.run();
}
