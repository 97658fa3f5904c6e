/**
 * Mini-batch k-means (Sculley 2010) with scikit-learn 1.2's update rule, random reassignment of starved centres and
 * early stopping on the exponentially weighted batch inertia. Rows come from a `RowSource`, so the caller (core) can
 * stream them from SQLite: the driver only ever holds one batch plus the centres. Batches are slices of a seeded
 * permutation per epoch (each row once per epoch); indices inside a batch are sorted before `readRows`.
 *
 * Metric `cosine` (default) normalizes every batch on a private copy; centroids are weighted means (sklearn-like);
 * `spherical: true` re-normalizes them after each step.
 */
import { AppError, badArg } from '../../common/errors.ts';
import { gemmJs, normalizeRowsInPlace, rowSqNorms, transpose, type Gemm } from '../linalg.ts';
import { createRng, shuffleInPlace, type Rng } from '../rng.ts';
import {
  assignNearest, cancelled, checkFiniteRows, kmeansPlusPlus, type ClusterMetric, type KMeansResult,
} from './kmeans.ts';

export interface RowSource {
  n: number;
  d: number;
  /** rows at these indices, row-major (indices.length x d); may be a fresh array or a view */
  readRows(indices: Int32Array): Promise<Float32Array> | Float32Array;
}

/** The matrices behind matrixSource's sources: the driver gathers and prepares their rows in one pass. */
const MATRICES = new WeakMap<RowSource, Float32Array>();

/** A RowSource over an in-memory matrix. */
export function matrixSource(X: Float32Array, n: number, d: number): RowSource {
  if (X.length < n * d) throw badArg('X', `must hold n*d=${n * d} values, got ${X.length}`);
  const src: RowSource = {
    n, d,
    readRows(indices: Int32Array): Float32Array {
      const out = new Float32Array(indices.length * d);
      for (let t = 0; t < indices.length; t++) {
        const i = indices[t];
        if (!(i >= 0 && i < n)) throw badArg('indices', `row ${i} out of range [0, ${n})`);
        out.set(X.subarray(i * d, i * d + d), t * d);
      }
      FRESH.add(out);
      return out;
    },
  };
  MATRICES.set(src, X);
  return src;
}

export interface MiniBatchOptions {
  metric?: ClusterMetric;
  seed?: number;
  batchSize?: number;
  /** passes over the data at most (sklearn's max_iter, default 100) */
  maxEpochs?: number;
  /** stop after this many steps without improvement of the smoothed batch inertia (default 10; 0 = never) */
  maxNoImprovement?: number;
  /** stop when the squared centre shift of a step falls below tol * mean feature variance of the init sample (default 0 = off) */
  tol?: number;
  /** centres whose weight is below this share of the heaviest one are re-seeded from the batch (default 0.01) */
  reassignmentRatio?: number;
  /** rows sampled for k-means++ (default 3 * batchSize, at least 3k, at most n) */
  initSize?: number;
  /** k-means++ restarts on the init sample, best inertia on a validation sample wins (default 1) */
  nInit?: number;
  spherical?: boolean;
  gemm?: Gemm;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

export interface MiniBatchResult extends KMeansResult {
  /** mini-batch steps taken */
  steps: number;
  /** epochs started */
  epochs: number;
}

/** arrays handed out by matrixSource: fresh copies the driver may normalize in place */
const FRESH = new WeakSet<Float32Array>();

/**
 * Prepared rows for the metric: finite check, normalization for cosine (on a copy unless `owned`), and the squared
 * norms in the same pass.
 */
function prepare(batch: Float32Array, m: number, d: number, metric: ClusterMetric, owned: boolean, param = 'batch'): { B: Float32Array; sq: Float32Array } {
  const B = owned ? batch : batch.slice(0, m * d);
  const sq = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    const o = i * d;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, p = 0;
    for (; p + 3 < d; p += 4) {
      const a = B[o + p], b = B[o + p + 1], c = B[o + p + 2], e = B[o + p + 3];
      s0 += a * a; s1 += b * b; s2 += c * c; s3 += e * e;
    }
    for (; p < d; p++) s0 += B[o + p] * B[o + p];
    const s = s0 + s1 + s2 + s3;
    if (!Number.isFinite(s)) checkFiniteRows(B.subarray(o, o + d), d, param);
    if (metric === 'cosine' && s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let q = 0; q < d; q++) B[o + q] *= inv;
      sq[i] = 1;
    } else sq[i] = s;
  }
  return { B, sq };
}

/**
 * `prepare` of the rows of X at `indices`, gathered into `out` in the same pass (the same values as a copy then
 * prepare: no per-row views, no second pass over the copy).
 */
function gatherPrepared(X: Float32Array, n: number, d: number, indices: Int32Array, out: Float32Array, metric: ClusterMetric, param: string): { B: Float32Array; sq: Float32Array } {
  const m = indices.length;
  const sq = new Float32Array(m);
  const cos = metric === 'cosine';
  for (let t = 0; t < m; t++) {
    const i = indices[t];
    if (!(i >= 0 && i < n)) throw badArg('indices', `row ${i} out of range [0, ${n})`);
    const o = i * d, q = t * d;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, p = 0;
    for (; p + 3 < d; p += 4) {
      const a = X[o + p], b = X[o + p + 1], c = X[o + p + 2], e = X[o + p + 3];
      s0 += a * a; s1 += b * b; s2 += c * c; s3 += e * e;
    }
    for (; p < d; p++) s0 += X[o + p] * X[o + p];
    const s = s0 + s1 + s2 + s3;
    if (!Number.isFinite(s)) checkFiniteRows(X.subarray(o, o + d), d, param);
    if (cos && s > 0) {
      // stored as float32: the same value as scaling a float32 copy in place
      const inv = 1 / Math.sqrt(s);
      for (let r = 0; r < d; r++) out[q + r] = X[o + r] * inv;
      sq[t] = 1;
    } else {
      for (let r = 0; r < d; r++) out[q + r] = X[o + r];
      sq[t] = s;
    }
  }
  return { B: out, sq };
}

/** Incremental mini-batch k-means with sklearn `partial_fit` semantics. */
export class MiniBatchKMeans {
  readonly k: number;
  readonly d: number;
  readonly metric: ClusterMetric;
  /** k*d centres once initialized */
  centroids: Float32Array | null = null;
  /** per-centre accumulated weight (points seen) */
  readonly counts: Float64Array;
  steps = 0;
  /** smoothed batch inertia per point after the last step (NaN before) */
  ewaInertia = NaN;
  private readonly rng: Rng;
  private readonly gemm: Gemm;
  private readonly reassignmentRatio: number;
  private readonly spherical: boolean;
  private readonly nInit: number;
  private sinceReassign = 0;
  private labelsBuf = new Int32Array(0);

  constructor(k: number, d: number, opts: Pick<MiniBatchOptions, 'metric' | 'seed' | 'reassignmentRatio' | 'spherical' | 'gemm' | 'nInit'> = {}) {
    if (!Number.isInteger(k) || k < 1) throw badArg('k', `must be a positive integer, got ${k}`);
    if (!Number.isInteger(d) || d < 1) throw badArg('d', `must be a positive integer, got ${d}`);
    const metric = opts.metric ?? 'cosine';
    if (metric !== 'cosine' && metric !== 'euclidean') throw badArg('metric', `must be 'cosine' or 'euclidean', got ${String(metric)}`);
    const rr = opts.reassignmentRatio ?? 0.01;
    if (!(rr >= 0)) throw badArg('reassignmentRatio', `must be >= 0, got ${rr}`);
    const nInit = opts.nInit ?? 1;
    if (!Number.isInteger(nInit) || nInit < 1) throw badArg('nInit', `must be a positive integer, got ${nInit}`);
    this.k = k; this.d = d; this.metric = metric;
    this.reassignmentRatio = rr;
    this.spherical = !!opts.spherical && metric === 'cosine';
    this.rng = createRng(opts.seed ?? 0);
    this.gemm = opts.gemm ?? gemmJs;
    this.nInit = nInit;
    this.counts = new Float64Array(k);
  }

  /**
   * Seed the centres by k-means++ on a sample (already prepared rows); with nInit > 1 the candidate set with the
   * lowest inertia on `valid` wins.
   */
  async initFrom(sample: Float32Array, m: number, valid?: { rows: Float32Array; m: number }): Promise<void> {
    const { k, d } = this;
    if (m < k) throw badArg('m', `the first batch must hold at least k=${k} rows, got ${m}`);
    const xsq = rowSqNorms(sample, m, d);
    let best: Float32Array | null = null, bestInertia = Infinity;
    for (let r = 0; r < this.nInit; r++) {
      const C = await kmeansPlusPlus(sample, m, d, k, this.rng, { gemm: this.gemm, xsq });
      if (this.nInit === 1) { best = C; break; }
      const V = valid ?? { rows: sample, m };
      const lab = new Int32Array(V.m);
      const inertia = await assignNearest(V.rows, V.m, d, rowSqNorms(V.rows, V.m, d), transpose(C, k, d), rowSqNorms(C, k, d), k, this.gemm, lab, null);
      if (inertia < bestInertia) { bestInertia = inertia; best = C; }
    }
    this.centroids = best!;
    if (this.spherical) normalizeRowsInPlace(this.centroids, k, d);
  }

  /** One mini-batch step on raw rows (copied and normalized for cosine). Initializes on the first call. */
  async partialFit(batch: Float32Array, m: number): Promise<this> {
    if (!Number.isInteger(m) || m < 1) throw badArg('m', `must be a positive integer, got ${m}`);
    if (batch.length < m * this.d) throw badArg('batch', `must hold m*d=${m * this.d} values, got ${batch.length}`);
    const { B, sq } = prepare(batch, m, this.d, this.metric, false);
    if (!this.centroids) await this.initFrom(B, m);
    await this.stepPrepared(B, m, sq);
    return this;
  }

  /**
   * A step on prepared rows; returns the batch inertia (sum of squared distances to the centres before the update)
   * and the squared centre shift.
   */
  async stepPrepared(B: Float32Array, m: number, bsq?: Float32Array, wantShift = false): Promise<{ inertia: number; shift2: number }> {
    const { k, d } = this;
    const C = this.centroids!;
    if (this.labelsBuf.length < m) this.labelsBuf = new Int32Array(m);
    const labels = this.labelsBuf;
    const sq = bsq ?? rowSqNorms(B, m, d);
    const inertia = await assignNearest(B, m, d, sq, transpose(C, k, d), rowSqNorms(C, k, d), k, this.gemm, labels, null);
    // sklearn _minibatch_update_dense: c_new = (c_old * w + sum x) / (w + count), done as a running mean per point
    const old = wantShift ? C.slice() : null;
    const counts = this.counts;
    const touched = this.spherical ? new Uint8Array(k) : null;
    for (let t = 0; t < m; t++) {
      const j = labels[t];
      const w = ++counts[j];
      const f = 1 / w;
      const o = j * d, bo = t * d;
      for (let p = 0; p < d; p++) C[o + p] += (B[bo + p] - C[o + p]) * f;
      if (touched) touched[j] = 1;
    }
    if (touched) {
      for (let j = 0; j < k; j++) if (touched[j]) normalizeRowsInPlace(C.subarray(j * d, j * d + d), 1, d);
    }
    let shift2 = 0;
    if (old) for (let q = 0; q < k * d; q++) { const v = C[q] - old[q]; shift2 += v * v; }
    // random reassignment of starved centres (sklearn's _random_reassign + the block in _mini_batch_step)
    this.sinceReassign += m;
    let anyZero = false;
    for (let j = 0; j < k; j++) if (this.counts[j] === 0) { anyZero = true; break; }
    if (this.reassignmentRatio > 0 && (anyZero || this.sinceReassign >= 10 * k)) {
      this.sinceReassign = 0;
      let wmax = 0;
      for (let j = 0; j < k; j++) if (this.counts[j] > wmax) wmax = this.counts[j];
      const thr = this.reassignmentRatio * wmax;
      let re: number[] = [];
      for (let j = 0; j < k; j++) if (this.counts[j] < thr) re.push(j);
      if (re.length > 0.5 * m) {
        // keep only the lightest floor(0.5 m) (sklearn: argsort of weights, the rest not reassigned)
        re = re.sort((a, b) => this.counts[a] - this.counts[b] || a - b).slice(0, Math.floor(0.5 * m));
      }
      if (re.length) {
        const pick = Int32Array.from({ length: m }, (_, i) => i);
        // partial Fisher-Yates: choice without replacement
        for (let t = 0; t < re.length; t++) {
          const r = t + this.rng.int(m - t);
          const tmp = pick[t]; pick[t] = pick[r]; pick[r] = tmp;
        }
        const isRe = new Uint8Array(k);
        for (let t = 0; t < re.length; t++) {
          const j = re[t];
          isRe[j] = 1;
          C.set(B.subarray(pick[t] * d, pick[t] * d + d), j * d);
        }
        let wmin = Infinity;
        for (let j = 0; j < k; j++) if (!isRe[j] && this.counts[j] < wmin) wmin = this.counts[j];
        if (!Number.isFinite(wmin)) wmin = 0;
        for (const j of re) this.counts[j] = wmin;
      }
    }
    this.steps++;
    return { inertia, shift2 };
  }

  /** Nearest centre for each of n raw rows (normalized on a copy for cosine). */
  async predict(X: Float32Array, n: number): Promise<Int32Array> {
    return (await this.predictWithInertia(X, n)).labels;
  }

  async predictWithInertia(X: Float32Array, n: number): Promise<{ labels: Int32Array; inertia: number }> {
    if (!this.centroids) throw new AppError('BAD_ARGUMENT', 'model: predict called before any partialFit');
    if (X.length < n * this.d) throw badArg('X', `must hold n*d=${n * this.d} values, got ${X.length}`);
    const { B, sq } = prepare(X, n, this.d, this.metric, false, 'X');
    const labels = new Int32Array(n);
    const { k, d } = this;
    const inertia = await assignNearest(B, n, d, sq, transpose(this.centroids, k, d), rowSqNorms(this.centroids, k, d), k, this.gemm, labels, null);
    return { labels, inertia };
  }
}

/**
 * Fit mini-batch k-means over a row source: k-means++ on a random init sample, then epochs of shuffled batches with
 * sklearn's early stopping, then a predict pass over all rows in blocks for labels and inertia.
 */
export async function minibatchKmeans(source: RowSource, opts: MiniBatchOptions & { k: number }): Promise<MiniBatchResult> {
  const { n, d } = source;
  const k = opts.k;
  if (!Number.isInteger(n) || n < 1) throw badArg('source.n', `must be a positive integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw badArg('source.d', `must be a positive integer, got ${d}`);
  if (!Number.isInteger(k) || k < 1) throw badArg('k', `must be a positive integer, got ${k}`);
  if (k > n) throw badArg('k', `${k} clusters requested but there are only ${n} points`);
  const batchSize = opts.batchSize ?? 1024;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw badArg('batchSize', `must be a positive integer, got ${batchSize}`);
  const maxEpochs = opts.maxEpochs ?? 100;
  if (!Number.isInteger(maxEpochs) || maxEpochs < 1) throw badArg('maxEpochs', `must be a positive integer, got ${maxEpochs}`);
  const maxNoImprovement = opts.maxNoImprovement ?? 10;
  if (!Number.isInteger(maxNoImprovement) || maxNoImprovement < 0) throw badArg('maxNoImprovement', `must be an integer >= 0, got ${maxNoImprovement}`);
  const tol = opts.tol ?? 0;
  if (!(tol >= 0)) throw badArg('tol', `must be >= 0, got ${tol}`);
  const metric = opts.metric ?? 'cosine';
  let initSize = opts.initSize ?? 3 * batchSize;
  if (!Number.isInteger(initSize) || initSize < 1) throw badArg('initSize', `must be a positive integer, got ${initSize}`);
  if (initSize < k) initSize = 3 * k;
  initSize = Math.min(initSize, n);
  const bs = Math.min(batchSize, n);
  const model = new MiniBatchKMeans(k, d, opts);
  const rng = createRng(((opts.seed ?? 0) ^ 0x5bd1e995) >>> 0);
  // an in-memory matrix gets two batch buffers, used in turn (one batch is prefetched while the
  // other is processed) and one for the predict blocks: no allocation, and no garbage, per batch
  const X = MATRICES.get(source);
  const read = async (idx: Int32Array, buf?: Float32Array): Promise<{ B: Float32Array; sq: Float32Array }> => {
    if (X && buf) return gatherPrepared(X, n, d, idx, buf, metric, 'source');
    const rows = await source.readRows(idx);
    if (!(rows instanceof Float32Array) || rows.length < idx.length * d) throw badArg('source.readRows', `returned ${rows?.length} values for ${idx.length} rows of ${d}`);
    return prepare(rows, idx.length, d, metric, FRESH.has(rows), 'source');
  };
  // init sample (without replacement) and, for nInit > 1, a validation sample
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  shuffleInPlace(perm, rng);
  const initIdx = perm.slice(0, initSize).sort();
  const initRows = (await read(initIdx)).B;
  let valid: { rows: Float32Array; m: number } | undefined;
  if ((opts.nInit ?? 1) > 1) {
    shuffleInPlace(perm, rng);
    const vIdx = perm.slice(0, initSize).sort();
    valid = { rows: (await read(vIdx)).B, m: vIdx.length };
  }
  if (opts.isCancelled?.()) throw cancelled('mini-batch k-means');
  await model.initFrom(initRows, initSize, valid);
  let tolAbs = 0;
  if (tol > 0) {
    // tol relative to the mean feature variance of the init sample
    const mean = new Float64Array(d), m2 = new Float64Array(d);
    for (let i = 0; i < initSize; i++) for (let p = 0; p < d; p++) mean[p] += initRows[i * d + p];
    for (let p = 0; p < d; p++) mean[p] /= initSize;
    for (let i = 0; i < initSize; i++) for (let p = 0; p < d; p++) { const v = initRows[i * d + p] - mean[p]; m2[p] += v * v; }
    let s = 0;
    for (let p = 0; p < d; p++) s += m2[p] / initSize;
    tolAbs = tol * (s / d);
  }
  const stepsPerEpoch = Math.ceil(n / bs);
  const totalSteps = stepsPerEpoch * maxEpochs;
  const alpha = Math.min(1, (bs * 2) / (n + 1));
  let ewa: number | null = null, ewaMin: number | null = null, noImp = 0;
  let step = 0, epochs = 0;
  let stop = false;
  // prefetch the next batch while the current one is processed (useful for async sources)
  const bufs = X ? [new Float32Array(bs * d), new Float32Array(bs * d)] : null;
  let turn = 0;
  const nextBuf = (): Float32Array | undefined => (bufs ? bufs[turn++ & 1] : undefined);
  const batchIdx = (e: Int32Array, s: number): Int32Array => e.slice(s * bs, Math.min(n, (s + 1) * bs)).sort();
  for (let epoch = 0; epoch < maxEpochs && !stop; epoch++) {
    epochs++;
    shuffleInPlace(perm, rng);
    const order = perm.slice();
    let next: Promise<{ B: Float32Array; sq: Float32Array }> = read(batchIdx(order, 0), nextBuf());
    for (let s = 0; s < stepsPerEpoch; s++) {
      if (opts.isCancelled?.()) throw cancelled('mini-batch k-means');
      const idx = s * bs;
      const m = Math.min(n, idx + bs) - idx;
      const { B, sq } = await next;
      if (s + 1 < stepsPerEpoch) next = read(batchIdx(order, s + 1), nextBuf());
      const { inertia, shift2 } = await model.stepPrepared(B, m, sq, tolAbs > 0);
      step++;
      opts.onProgress?.(step, totalSteps);
      // sklearn _mini_batch_convergence
      const bi = inertia / m;
      if (step === 1) continue;
      ewa = ewa === null ? bi : ewa * (1 - alpha) + bi * alpha;
      model.ewaInertia = ewa;
      if (tolAbs > 0 && shift2 <= tolAbs) { stop = true; break; }
      if (ewaMin === null || ewa < ewaMin) { noImp = 0; ewaMin = ewa; } else noImp++;
      if (maxNoImprovement > 0 && noImp >= maxNoImprovement) { stop = true; break; }
    }
  }
  // predict pass over all rows in sequential blocks
  const labels = new Int32Array(n);
  const C = model.centroids!;
  const Ct = transpose(C, k, d), csq = rowSqNorms(C, k, d);
  const block = Math.max(bs, 4096);
  let inertia = 0;
  const lab = new Int32Array(block);
  const predictBuf = X ? new Float32Array(Math.min(n, block) * d) : undefined;
  for (let b0 = 0; b0 < n; b0 += block) {
    if (opts.isCancelled?.()) throw cancelled('mini-batch k-means');
    const b1 = Math.min(n, b0 + block);
    const idx = Int32Array.from({ length: b1 - b0 }, (_, t) => b0 + t);
    const { B, sq } = await read(idx, predictBuf);
    inertia += await assignNearest(B, b1 - b0, d, sq, Ct, csq, k, opts.gemm ?? gemmJs, lab, null);
    labels.set(lab.subarray(0, b1 - b0), b0);
  }
  opts.onProgress?.(totalSteps, totalSteps);
  return { labels, centroids: C, inertia, iterations: epochs, steps: step, epochs, k, d };
}
