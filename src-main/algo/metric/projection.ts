/**
 * A metric learned from a labeling session: a small linear projection on top of frozen embeddings, trained from the
 * user's explicit decisions only ("item r belongs to group c", "item r does not belong to group c").
 *
 * Pipeline: rows L2-normalized -> centered PCA to p dimensions (unsupervised, all items: it keeps the cosine structure
 * of the data) -> W (p x k, started at the first k axes) -> L2-normalized. W and one proxy per group are trained with a
 * proxy softmax loss (scale s): a member's similarity to its group's proxy against every other group's, and for a
 * "not in c" decision -log(1 - p_c); W is held near its start by weight decay toward the identity, so few decisions
 * bend the metric without forgetting the embedding's own structure. Adam on mini-batches, seeded, cancellable.
 *
 * Accuracy on held-out decisions: nearest group mean (means of the training members) in a metric; a member counts right
 * when its nearest mean is its group's, a "not in c" decision when its nearest mean is not c's.
 */
import { AppError, badArg } from '../../common/errors.ts';
import { gemmJs, normalizeRowsInPlace, type Gemm } from '../linalg.ts';
import { pca } from '../map/pca.ts';
import { createRng, shuffleInPlace } from '../rng.ts';

/** One explicit decision: row `row` of the matrix is (sign 1) or is not (sign -1) a member of group `cls`. */
export interface MetricExample { row: number; cls: number; sign: 1 | -1 }

export interface MetricModel {
  /** input dimension, PCA dimension, output dimension */
  d: number; p: number; k: number;
  /** d: the mean of the normalized rows; p x d: the PCA axes; p x k: the learned map */
  mean: Float32Array; basis: Float32Array; W: Float32Array;
}

export interface TrainOptions {
  /** PCA dimension (default min(d, n - 1, 128)) */
  p?: number;
  /** output dimension (default min(p, 64)): the map starts at the first k axes */
  k?: number;
  epochs?: number;
  lr?: number;
  /** softmax scale on cosine similarities */
  scale?: number;
  /** weight decay toward the identity */
  decay?: number;
  seed?: number;
  /** decisions per step (default 64) */
  batch?: number;
  /** early stopping: epochs without the epoch's mean loss falling 0.3% below its best before training stops (default 8) */
  patience?: number;
  /** the PCA scores of every row of X under the start (scoresOf), computed once and kept: read instead of computed */
  scores?: Float32Array;
  gemm?: Gemm;
  isCancelled?: () => boolean;
  onProgress?: (done: number, total: number) => void;
}

const cancelled = (o: TrainOptions) => { if (o.isCancelled?.()) throw new AppError('CANCELLED', 'learning cancelled'); };

/** The PCA part of a model (W the identity): the unsupervised start every trained model shares. */
export async function basisOf(X: Float32Array, n: number, d: number, o: TrainOptions = {}): Promise<MetricModel> {
  if (!Number.isInteger(n) || n < 3) throw badArg('n', `need at least 3 items to learn a metric, got ${n}`);
  if (X.length < n * d) throw badArg('X', `has ${X.length} values, expected n*d = ${n * d}`);
  const p = Math.max(1, Math.min(o.p ?? 128, d, n - 1));
  const Xn = Float32Array.from(X.subarray(0, n * d));
  normalizeRowsInPlace(Xn, n, d);
  const r = await pca(Xn, n, d, p, { seed: o.seed ?? 0, gemm: o.gemm ?? gemmJs, isCancelled: o.isCancelled });
  return { d, p, k: Math.min(p, o.k ?? 64), mean: r.mean, basis: r.components, W: identityMap(p, Math.min(p, o.k ?? 64)) };
}

/** The starting map: the first k PCA axes as they are (p x k). */
export function identityMap(p: number, k: number): Float32Array {
  const W = new Float32Array(p * k);
  for (let i = 0; i < Math.min(p, k); i++) W[i * k + i] = 1;
  return W;
}

/** The PCA scores of rows (n x p): (normalize(x) - mean) . axes. */
export function scoresOf(m: MetricModel, X: Float32Array, n: number): Float32Array {
  const { d, p } = m;
  const Y = new Float32Array(n * p);
  const x = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) { const v = X[i * d + t]; s += v * v; }
    const r = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let t = 0; t < d; t++) x[t] = X[i * d + t] * r - m.mean[t];
    for (let c = 0; c < p; c++) {
      let a = 0;
      const o = c * d;
      for (let t = 0; t < d; t++) a += x[t] * m.basis[o + t];
      Y[i * p + c] = a;
    }
  }
  return Y;
}

/**
 * The PCA scores of rows as scoresOf, through a float32 matrix product (blocks of rows normalized and centered, times
 * the axes): what is computed once per PCA start and kept, so a retraining maps every item with a p x k product only.
 */
export async function scoresByGemm(m: MetricModel, X: Float32Array, n: number, gemm: Gemm = gemmJs, isCancelled?: () => boolean): Promise<Float32Array> {
  const { d, p } = m;
  if (X.length < n * d) throw badArg('X', `has ${X.length} values, expected n*d = ${n * d}`);
  const Bt = new Float32Array(d * p);
  for (let c = 0; c < p; c++) for (let t = 0; t < d; t++) Bt[t * p + c] = m.basis[c * d + t];
  const Y = new Float32Array(n * p);
  const block = Math.max(1, Math.floor((8 << 20) / Math.max(1, d)));
  for (let b0 = 0; b0 < n; b0 += block) {
    if (isCancelled?.()) throw new AppError('CANCELLED', 'learning cancelled');
    const rows = Math.min(n, b0 + block) - b0;
    const A = Float32Array.from(X.subarray(b0 * d, (b0 + rows) * d));
    normalizeRowsInPlace(A, rows, d);
    for (let r = 0; r < rows; r++) for (let t = 0; t < d; t++) A[r * d + t] -= m.mean[t];
    Y.set(await gemm(A, rows, Bt, p, d), b0 * p);
  }
  return Y;
}

/** Rows through the model: n x k, unit rows (cosine similarity in the learned metric is their dot product). */
export function projectRows(m: MetricModel, X: Float32Array, n: number): Float32Array {
  return mapScores(m, scoresOf(m, X, n), n);
}

/** PCA scores (n x p, scoresOf or scoresByGemm) through the model's map: n x k unit rows. */
export function mapScores(m: MetricModel, Y: Float32Array, n: number): Float32Array {
  const { p, k, W } = m;
  const Z = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < p; a++) {
      const y = Y[i * p + a];
      if (y === 0) continue;
      const o = a * k;
      for (let b = 0; b < k; b++) Z[i * k + b] += y * W[o + b];
    }
  }
  return normalizeRowsInPlace(Z, n, k);
}

/**
 * Trains the map from the decisions on `start` (basisOf's model, or a model trained before: training goes on from its
 * W). Returns a new model; `start` is left as it is.
 */
export function trainMap(start: MetricModel, X: Float32Array, n: number, examples: readonly MetricExample[], o: TrainOptions = {}): MetricModel {
  for (const e of examples) {
    if (!Number.isInteger(e.row) || e.row < 0 || e.row >= n) throw badArg('examples', `row ${e.row} is outside 0..${n - 1}`);
    if (!Number.isInteger(e.cls) || e.cls < 0) throw badArg('examples', `group ${e.cls} must be a non-negative integer`);
  }
  const { p, k } = start;
  const W = Float32Array.from(start.W);
  const model: MetricModel = { ...start, W };
  // groups with members (a "not in c" decision about a group with no member yet has nothing to push from)
  const withMembers = [...new Set(examples.filter((e) => e.sign > 0).map((e) => e.cls))].sort((a, b) => a - b);
  if (withMembers.length < 2) return model;
  const G = withMembers.length;
  const gOf = new Map(withMembers.map((c, j) => [c, j]));
  const ex = examples.filter((e) => gOf.has(e.cls));
  const rows = [...new Set(ex.map((e) => e.row))].sort((a, b) => a - b);
  const rowPos = new Map(rows.map((r, i) => [r, i]));
  let Y: Float32Array;
  if (o.scores) {
    if (o.scores.length < n * p) throw badArg('scores', `has ${o.scores.length} values, expected n*p = ${n * p}`);
    Y = new Float32Array(rows.length * p);
    rows.forEach((r, i) => Y.set(o.scores!.subarray(r * p, (r + 1) * p), i * p));
  } else {
    const sub = new Float32Array(rows.length * start.d);
    rows.forEach((r, i) => sub.set(X.subarray(r * start.d, (r + 1) * start.d), i * start.d));
    Y = scoresOf(start, sub, rows.length);
  }
  // proxies start at the members' means in the starting metric
  const Z0 = mapScores(model, Y, rows.length);
  const P = new Float64Array(G * k);
  for (const e of ex) if (e.sign > 0) { const j = gOf.get(e.cls)!, i = rowPos.get(e.row)!; for (let b = 0; b < k; b++) P[j * k + b] += Z0[i * k + b]; }
  const epochs = o.epochs ?? 100, lr = o.lr ?? 0.03, s = o.scale ?? 16, decay = o.decay ?? 1e-3;
  const rng = createRng(o.seed ?? 0);
  // Adam state
  const mW = new Float64Array(p * k), vW = new Float64Array(p * k), mP = new Float64Array(G * k), vP = new Float64Array(G * k);
  const gW = new Float64Array(p * k), gP = new Float64Array(G * k);
  const u = new Float64Array(k), z = new Float64Array(k), dz = new Float64Array(k), du = new Float64Array(k);
  const Pn = new Float64Array(G * k), pNorm = new Float64Array(G), cos = new Float64Array(G), prob = new Float64Array(G);
  const order = new Int32Array(ex.length).map((_, i) => i);
  const b1 = 0.9, b2 = 0.999, eps = 1e-8, batch = o.batch ?? 64, patience = o.patience ?? 8;
  let step = 0, best = Infinity, since = 0, loss = 0;
  for (let ep = 0; ep < epochs; ep++) {
    cancelled(o);
    shuffleInPlace(order, rng);
    loss = 0;
    for (let b0 = 0; b0 < order.length; b0 += batch) {
    step++;
    gW.fill(0); gP.fill(0);
    for (let j = 0; j < G; j++) {
      let q = 0; for (let b = 0; b < k; b++) q += P[j * k + b] ** 2;
      pNorm[j] = Math.sqrt(q) || 1;
      for (let b = 0; b < k; b++) Pn[j * k + b] = P[j * k + b] / pNorm[j];
    }
    const dPn = new Float64Array(G * k);
    const part = order.subarray(b0, Math.min(order.length, b0 + batch));
    for (const t of part) {
      const e = ex[t], i = rowPos.get(e.row)!, c = gOf.get(e.cls)!;
      u.fill(0);
      for (let a = 0; a < p; a++) { const y = Y[i * p + a]; if (y === 0) continue; for (let b = 0; b < k; b++) u[b] += y * W[a * k + b]; }
      let un = 0; for (let b = 0; b < k; b++) un += u[b] * u[b];
      un = Math.sqrt(un) || 1;
      for (let b = 0; b < k; b++) z[b] = u[b] / un;
      let mx = -Infinity;
      for (let j = 0; j < G; j++) { let a = 0; for (let b = 0; b < k; b++) a += z[b] * Pn[j * k + b]; cos[j] = a; if (s * a > mx) mx = s * a; }
      let sum = 0;
      for (let j = 0; j < G; j++) { prob[j] = Math.exp(s * cos[j] - mx); sum += prob[j]; }
      for (let j = 0; j < G; j++) prob[j] /= sum;
      loss -= Math.log(Math.max(1e-12, e.sign > 0 ? prob[c] : 1 - prob[c]));
      // dL/dlogit_j: member: p_j - [j = c]; not a member: -log(1 - p_c) -> p_c (p_j - [j = c]) / (1 - p_c) ... written out
      dz.fill(0);
      for (let j = 0; j < G; j++) {
        let g: number;
        if (e.sign > 0) g = prob[j] - (j === c ? 1 : 0);
        else { const pc = Math.min(prob[c], 1 - 1e-6); g = j === c ? pc : -pc * prob[j] / (1 - pc); }
        if (g === 0) continue;
        g *= s;
        for (let b = 0; b < k; b++) { dz[b] += g * Pn[j * k + b]; dPn[j * k + b] += g * z[b]; }
      }
      let zd = 0; for (let b = 0; b < k; b++) zd += z[b] * dz[b];
      for (let b = 0; b < k; b++) du[b] = (dz[b] - z[b] * zd) / un;
      for (let a = 0; a < p; a++) { const y = Y[i * p + a]; if (y === 0) continue; for (let b = 0; b < k; b++) gW[a * k + b] += y * du[b]; }
    }
    const m = part.length;
    for (let j = 0; j < G; j++) {
      let pd = 0; for (let b = 0; b < k; b++) pd += Pn[j * k + b] * dPn[j * k + b];
      for (let b = 0; b < k; b++) gP[j * k + b] = (dPn[j * k + b] - Pn[j * k + b] * pd) / pNorm[j];
    }
    const c1 = 1 - b1 ** step, c2 = 1 - b2 ** step;
    for (let t = 0; t < p * k; t++) {
      const a = Math.floor(t / k), b = t % k;
      const g = gW[t] / m + decay * (W[t] - (a === b ? 1 : 0));
      mW[t] = b1 * mW[t] + (1 - b1) * g; vW[t] = b2 * vW[t] + (1 - b2) * g * g;
      W[t] -= lr * (mW[t] / c1) / (Math.sqrt(vW[t] / c2) + eps);
    }
    for (let t = 0; t < G * k; t++) {
      const g = gP[t] / m;
      mP[t] = b1 * mP[t] + (1 - b1) * g; vP[t] = b2 * vP[t] + (1 - b2) * g * g;
      P[t] -= lr * (mP[t] / c1) / (Math.sqrt(vP[t] / c2) + eps);
    }
    }
    o.onProgress?.(ep + 1, epochs);
    // early stopping: the epoch's mean loss has not fallen 0.3% below its best for `patience` epochs
    loss /= ex.length;
    if (loss < best * (1 - 0.003)) { best = loss; since = 0; } else if (++since >= patience) break;
  }
  return model;
}

/** The examples split in two, seeded: about `share` of each group's decisions held out (none from a group with < 2). */
export function holdOut(examples: readonly MetricExample[], share: number, seed = 0): { train: MetricExample[]; test: MetricExample[] } {
  const rng = createRng(seed);
  const byGroup = new Map<number, number[]>();
  examples.forEach((e, i) => { const g = byGroup.get(e.cls) ?? []; g.push(i); byGroup.set(e.cls, g); });
  const test = new Set<number>();
  for (const idx of byGroup.values()) {
    if (idx.length < 2) continue;
    const a = Int32Array.from(idx);
    shuffleInPlace(a, rng);
    const h = Math.min(a.length - 1, Math.round(a.length * share));
    for (let t = 0; t < h; t++) test.add(a[t]);
  }
  return { train: examples.filter((_, i) => !test.has(i)), test: examples.filter((_, i) => test.has(i)) };
}

/**
 * Accuracy of the decisions in `test` by nearest group mean over unit rows Z (n x k): the means of `train`'s members.
 * NaN when no test decision is about a group with a training member.
 */
export function nearestMeanAccuracy(Z: Float32Array, k: number, train: readonly MetricExample[], test: readonly MetricExample[]): number {
  const sums = new Map<number, Float64Array>();
  for (const e of train) {
    if (e.sign < 0) continue;
    const v = sums.get(e.cls) ?? new Float64Array(k);
    for (let b = 0; b < k; b++) v[b] += Z[e.row * k + b];
    sums.set(e.cls, v);
  }
  const groups = [...sums.entries()].map(([c, v]) => { let q = 0; for (const x of v) q += x * x; q = Math.sqrt(q) || 1; return [c, v.map((x) => x / q)] as const; });
  let right = 0, total = 0;
  for (const e of test) {
    if (!sums.has(e.cls)) continue;
    let best = -1, bs = -Infinity;
    for (const [c, v] of groups) { let a = 0; for (let b = 0; b < k; b++) a += Z[e.row * k + b] * v[b]; if (a > bs) { bs = a; best = c; } }
    total++;
    if ((best === e.cls) === (e.sign > 0)) right++;
  }
  return total ? right / total : NaN;
}
