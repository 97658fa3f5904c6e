/**
 * Barnes-Hut t-SNE (van der Maaten 2014) with scikit-learn's schedule: PCA to `pcaDims` first, perplexity calibration
 * (binary search on beta) over a kNN graph of k = 3 * perplexity + 1 neighbours, symmetrized joint P, early
 * exaggeration 12 for 250 iterations with momentum 0.5 then momentum 0.8, delta-bar-delta gains, learning rate 'auto'
 * = max(n / exaggeration / 4, 50), PCA initialization scaled to std 1e-4 on the first axis. The quadtree lives in typed
 * arrays rebuilt every iteration; theta = 0.5 by default. Same API shape as Umap (initializeFit / step / getEmbedding).
 */
import { AppError, badArg } from '../../common/errors.ts';
import { knnExact, type KnnResult } from '../knn.ts';
import { normalizeRows, type Gemm } from '../linalg.ts';
import { createRng } from '../rng.ts';
import { knnForest } from './knn-forest.ts';
import { pca } from './pca.ts';

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
  metric?: 'euclidean' | 'cosine';
  init?: 'pca' | 'random';
  seed?: number;
  gemm?: Gemm;
  exactKnnMaxN?: number;
  onProgress?: (iteration: number, nIter: number, embedding: Float32Array) => void;
  /** iterations between progress snapshots (default 25) */
  progressEvery?: number;
  isCancelled?: () => boolean;
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
  let m = 0, total = 0;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      const j = ki[i * k + a];
      if (j < 0 || j === i) continue;
      const v = Pc[i * k + a];
      let back = -1;
      for (let b = 0; b < k; b++) if (ki[j * k + b] === i) { back = b; break; }
      const w = back >= 0 ? v + Pc[j * k + back] : v;
      rows[m] = i; cols[m] = j; vals[m] = w; m++; total += w;
      if (back < 0) { rows[m] = j; cols[m] = i; vals[m] = w; m++; total += w; }
    }
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

/** Quadtree over 2-D points in flat typed arrays, rebuilt in place every iteration. */
class QuadTree {
  cx: Float64Array; cy: Float64Array; hw: Float64Array;
  mx: Float64Array; my: Float64Array; cnt: Int32Array;
  child: Int32Array; point: Int32Array; inner: Uint8Array;
  /** per node after build(): [mean x, mean y, squared cell width, count], stride 4 */
  packed: Float64Array = new Float64Array(0);
  /** points in depth-first (spatially coherent) order after build() */
  order: Int32Array = new Int32Array(0);
  private leafOf: Int32Array = new Int32Array(0);
  size = 0;
  private cap: number;
  constructor(n: number) {
    this.cap = Math.max(16, 4 * n);
    this.cx = new Float64Array(this.cap); this.cy = new Float64Array(this.cap); this.hw = new Float64Array(this.cap);
    this.mx = new Float64Array(this.cap); this.my = new Float64Array(this.cap); this.cnt = new Int32Array(this.cap);
    this.child = new Int32Array(4 * this.cap); this.point = new Int32Array(this.cap); this.inner = new Uint8Array(this.cap);
  }
  private grow(): void {
    const cap = this.cap * 2;
    const g64 = (a: Float64Array) => { const b = new Float64Array(cap); b.set(a); return b; };
    const g32 = (a: Int32Array, len: number) => { const b = new Int32Array(len); b.set(a); return b; };
    this.cx = g64(this.cx); this.cy = g64(this.cy); this.hw = g64(this.hw);
    this.mx = g64(this.mx); this.my = g64(this.my); this.cnt = g32(this.cnt, cap);
    this.child = g32(this.child, 4 * cap); this.point = g32(this.point, cap);
    const inner = new Uint8Array(cap); inner.set(this.inner); this.inner = inner;
    this.cap = cap;
  }
  private newNode(cx: number, cy: number, hw: number): number {
    if (this.size >= this.cap) this.grow();
    const id = this.size++;
    this.cx[id] = cx; this.cy[id] = cy; this.hw[id] = hw;
    this.mx[id] = 0; this.my[id] = 0; this.cnt[id] = 0; this.point[id] = -1; this.inner[id] = 0;
    const c = id * 4;
    this.child[c] = -1; this.child[c + 1] = -1; this.child[c + 2] = -1; this.child[c + 3] = -1;
    return id;
  }
  private childFor(node: number, x: number, y: number): number {
    const q = (x > this.cx[node] ? 1 : 0) + (y > this.cy[node] ? 2 : 0);
    let c = this.child[node * 4 + q];
    if (c < 0) {
      const h = this.hw[node] / 2;
      c = this.newNode(this.cx[node] + (q & 1 ? h : -h), this.cy[node] + (q & 2 ? h : -h), h);
      this.child[node * 4 + q] = c;
      this.inner[node] = 1;
    }
    return c;
  }
  build(Y: Float32Array, n: number): void {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = Y[2 * i], y = Y[2 * i + 1];
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
    this.size = 0;
    if (this.leafOf.length < n) { this.leafOf = new Int32Array(n); this.order = new Int32Array(n); }
    const leafOf = this.leafOf;
    const hw = Math.max(x1 - x0, y1 - y0, 1e-12) * 0.5 * (1 + 1e-6);
    this.newNode((x0 + x1) / 2, (y0 + y1) / 2, hw);
    for (let i = 0; i < n; i++) {
      const x = Y[2 * i], y = Y[2 * i + 1];
      let node = 0;
      for (let depth = 0; ; depth++) {
        const had = this.cnt[node];
        this.mx[node] += x; this.my[node] += y; this.cnt[node] = had + 1;
        if (this.inner[node] === 0) {
          if (had === 0) { this.point[node] = i; leafOf[i] = node; break; }
          if (depth >= 40 || this.point[node] < 0) { this.point[node] = -2; leafOf[i] = node; break; } // multi-point leaf
          // split: push the resident point one level down, then continue with i
          const r = this.point[node];
          this.point[node] = -1;
          const rx = Y[2 * r], ry = Y[2 * r + 1];
          const rc = this.childFor(node, rx, ry);
          this.mx[rc] += rx; this.my[rc] += ry; this.cnt[rc] = 1; this.point[rc] = r; leafOf[r] = rc;
        }
        node = this.childFor(node, x, y);
      }
    }
    if (this.packed.length < 4 * this.size) this.packed = new Float64Array(4 * this.cap);
    const P = this.packed;
    for (let t = 0; t < this.size; t++) {
      const c = this.cnt[t];
      if (c > 0) { this.mx[t] /= c; this.my[t] /= c; }
      P[4 * t] = this.mx[t]; P[4 * t + 1] = this.my[t]; P[4 * t + 2] = 4 * this.hw[t] * this.hw[t]; P[4 * t + 3] = c;
    }
    // depth-first numbering of the nodes, then the points sorted by the number of their leaf (counting sort)
    const dfs = new Int32Array(this.size);
    const st = new Int32Array(this.size + 4);
    let sp = 0, num = 0;
    st[sp++] = 0;
    while (sp > 0) {
      const v = st[--sp];
      dfs[v] = num++;
      for (let q = 3; q >= 0; q--) { const ch = this.child[v * 4 + q]; if (ch >= 0) st[sp++] = ch; }
    }
    const start = new Int32Array(this.size + 1);
    for (let i = 0; i < n; i++) start[dfs[leafOf[i]] + 1]++;
    for (let t = 0; t < this.size; t++) start[t + 1] += start[t];
    for (let i = 0; i < n; i++) this.order[start[dfs[leafOf[i]]]++] = i;
  }
}

export class Tsne {
  readonly nComponents: number;
  readonly perplexity: number;
  readonly nIter: number;
  private readonly opts: TsneOptions;
  private n = 0;
  private Y = new Float32Array(0);
  private update = new Float32Array(0);
  private gains = new Float32Array(0);
  private grad = new Float64Array(0);
  private Pptr: Int32Array = new Int32Array(0);
  private Pidx: Int32Array = new Int32Array(0);
  private Pval: Float32Array = new Float32Array(0);
  private tree: QuadTree | null = null;
  private stack = new Int32Array(0);
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
    if (!Number.isInteger(this.nComponents) || this.nComponents < 1) throw badArg('nComponents', `must be an integer >= 1, got ${this.nComponents}`);
    if (this.nComponents !== 2) throw badArg('nComponents', `Barnes-Hut t-SNE supports 2 components, got ${this.nComponents}`);
    if (!(this.perplexity >= 1)) throw badArg('perplexity', `must be >= 1, got ${this.perplexity}`);
    if (!Number.isInteger(this.nIter) || this.nIter < 1) throw badArg('nIter', `must be a positive integer, got ${this.nIter}`);
    const th = opts.theta ?? 0.5;
    if (!(th >= 0)) throw badArg('theta', `must be >= 0, got ${th}`);
    this.theta = th;
    const lr = opts.learningRate ?? 'auto';
    if (lr !== 'auto' && !(lr > 0)) throw badArg('learningRate', `must be > 0 or 'auto', got ${String(lr)}`);
    this.exaggeration = opts.earlyExaggeration ?? 12;
    if (!(this.exaggeration >= 1)) throw badArg('earlyExaggeration', `must be >= 1, got ${this.exaggeration}`);
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
    this.Pptr = P.indptr; this.Pidx = P.indices; this.Pval = P.values;

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
    this.update = new Float32Array(2 * n);
    this.gains = new Float32Array(2 * n).fill(1);
    this.grad = new Float64Array(2 * n);
    this.tree = new QuadTree(n);
    this.stack = new Int32Array(4 * 64 + 16);
    const lr = o.learningRate ?? 'auto';
    this.lr = lr === 'auto' ? Math.max(n / this.exaggeration / 4, 50) : lr;
    this.exIters = Math.min(this.nIter, o.exaggerationIters ?? 250);
    this.iter = 0;
    return this.nIter;
  }

  /** One gradient-descent iteration; returns the number done. */
  step(): number {
    if (this.iter >= this.nIter) return this.iter;
    const n = this.n, Y = this.Y, grad = this.grad;
    const exag = this.iter < this.exIters ? this.exaggeration : 1;
    const momentum = this.iter < this.exIters ? 0.5 : 0.8;
    const tree = this.tree!;
    tree.build(Y, n);
    const { packed: ND, child, point, inner, order } = tree;
    const theta2 = this.theta * this.theta;
    let stack = this.stack;
    let sumQ = 0;
    // repulsive forces (unnormalized) into grad, Barnes-Hut; points visited in tree order for cache locality
    for (let oi = 0; oi < n; oi++) {
      const i = order[oi];
      const xi = Y[2 * i], yi = Y[2 * i + 1];
      let fx = 0, fy = 0;
      let sp = 0;
      stack[sp++] = 0;
      while (sp > 0) {
        const node = stack[--sp];
        const nb = node * 4;
        const c = ND[nb + 3];
        if (c === 0) continue;
        const dx = xi - ND[nb], dy = yi - ND[nb + 1];
        const d2 = dx * dx + dy * dy;
        if (inner[node] === 0) {
          if (point[node] === i) continue;
          const q = 1 / (1 + d2);
          const size = point[node] === -2 && d2 === 0 ? c - 1 : c; // a multi-point leaf may hold i itself
          sumQ += size * q;
          const mlt = size * q * q;
          fx += mlt * dx; fy += mlt * dy;
        } else if (ND[nb + 2] < theta2 * d2) {
          const q = 1 / (1 + d2);
          sumQ += c * q;
          const mlt = c * q * q;
          fx += mlt * dx; fy += mlt * dy;
        } else {
          if (sp + 4 > stack.length) { const s2 = new Int32Array(stack.length * 2); s2.set(stack); stack = this.stack = s2; }
          const ch0 = child[nb], ch1 = child[nb + 1], ch2 = child[nb + 2], ch3 = child[nb + 3];
          if (ch0 >= 0) stack[sp++] = ch0;
          if (ch1 >= 0) stack[sp++] = ch1;
          if (ch2 >= 0) stack[sp++] = ch2;
          if (ch3 >= 0) stack[sp++] = ch3;
        }
      }
      grad[2 * i] = fx; grad[2 * i + 1] = fy;
    }
    const invQ = sumQ > 0 ? 1 / sumQ : 0;
    const Pptr = this.Pptr, Pidx = this.Pidx, Pval = this.Pval;
    const upd = this.update, gains = this.gains, lr = this.lr;
    for (let i = 0; i < n; i++) {
      const xi = Y[2 * i], yi = Y[2 * i + 1];
      let ax = 0, ay = 0;
      for (let p = Pptr[i]; p < Pptr[i + 1]; p++) {
        const j = Pidx[p];
        const dx = xi - Y[2 * j], dy = yi - Y[2 * j + 1];
        const f = (exag * Pval[p]) / (1 + dx * dx + dy * dy);
        ax += f * dx; ay += f * dy;
      }
      for (let c = 0; c < 2; c++) {
        const t = 2 * i + c;
        const g = 4 * ((c === 0 ? ax : ay) - grad[t] * invQ);
        const u = upd[t];
        let gn = gains[t];
        gn = u * g < 0 ? gn + 0.2 : gn * 0.8;
        if (gn < 0.01) gn = 0.01;
        gains[t] = gn;
        const nu = momentum * u - lr * (g * gn);
        upd[t] = nu;
        grad[t] = nu;
      }
    }
    for (let t = 0; t < 2 * n; t++) Y[t] += grad[t];
    this.iter++;
    return this.iter;
  }

  getEmbedding(): Float32Array {
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
    return this.Y;
  }
}

/** Fit a 2-D t-SNE map of X (n x d). Returns n*2 coordinates (row-major). */
export async function fitTsne(X: Float32Array, n: number, d: number, opts: TsneOptions = {}): Promise<Float32Array> {
  const t = new Tsne(opts);
  await t.initializeFit(X, n, d);
  return t.run();
}
