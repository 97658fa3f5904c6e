/**
 * A dense autoencoder: input -> hidden... -> code (ReLU) -> mirrored hidden (ReLU) -> output (sigmoid, binary
 * cross-entropy) when every input value lies in [0, 1]; otherwise a linear output with mean squared error (recorded as
 * `loss: 'mse'`). Seeded Glorot initialization, Adam, shuffled mini-batches, cancellation between batches, progress per
 * batch and the loss per epoch. Pure (injected Gemm and seed; no I/O).
 *
 * Defaults that train enough: the architecture is the deep-clustering literature's d-500-500-2000-10 (DEC,
 * IDEC, N2D); the number of epochs follows the data: enough epochs for `minUpdates` mini-batch updates (at least
 * `minEpochs`, at most `maxEpochs`), a cosine learning-rate decay over them, and early stopping on the reconstruction
 * loss of a held-out share of the rows (`validation`, 10 %), keeping the weights of the best held-out epoch. With an
 * explicit `epochs` the run trains exactly that many epochs on all rows at a constant learning rate (the tutorial's
 * regimen), unless `patience` asks for early stopping on a held-out share.
 */
import { badArg } from '../../common/errors.ts';
import { CLUSTER_DEFAULTS, DEFAULT_HIDDEN } from '../../common/cluster-contract.ts';
import { cancelled, kmeans } from '../cluster/kmeans.ts';
import { gemmJs, type Gemm } from '../linalg.ts';
import { createRng, shuffleInPlace } from '../rng.ts';
import { adam, backward, forward, gatherRows, gradList, initNet, lossAndGrad, params, predict, subNet, type DenseNet, type LayerSpec, type LossKind } from './dense.ts';
import type { Metric } from '../../common/types.ts';

/** The literature's architecture for deep clustering, d-500-500-2000-10: the `reduce` parameter's bare `ae` (common/cluster-contract.ts). */
export { DEFAULT_HIDDEN };
/** The write-up's tutorial net (`ae:32`). */
export const TUTORIAL_HIDDEN: readonly number[] = [32];

/** The training defaults (those a run can set are the contract's: common/cluster-contract.ts CLUSTER_DEFAULTS). */
export const AE_DEFAULTS = {
  batchSize: CLUSTER_DEFAULTS.aeBatchSize,
  lr: 1e-3,
  /** mini-batch updates the default run makes at least (unless early stopping ends it) */
  minUpdates: CLUSTER_DEFAULTS.minUpdates,
  minEpochs: 10,
  maxEpochs: 200,
  /** share of the rows held out for the early-stopping loss (none below 200 rows) */
  validation: 0.1,
  /** epochs without a held-out improvement of more than minDelta (relative) before stopping */
  patience: CLUSTER_DEFAULTS.patience,
  minDelta: 1e-3,
  /** the cosine schedule's floor, as a share of lr */
  lrFloor: 0.05,
  /** the k-means-friendly term's weight and the share of the planned updates after which it starts */
  kmeansWeight: 0.05,
  kmeansFrom: 0.5,
} as const;

export interface AutoencoderOptions {
  /** hidden sizes of the encoder, the last one is the code size (default DEFAULT_HIDDEN) */
  hidden?: number[];
  /** exact number of epochs (early stopping only with `patience`); default: from minUpdates */
  epochs?: number;
  minUpdates?: number;
  minEpochs?: number;
  maxEpochs?: number;
  batchSize?: number;
  lr?: number;
  /** 'cosine' (default without `epochs`): lr decays to lrFloor * lr over the planned epochs; 'constant' (default with `epochs`) */
  schedule?: 'cosine' | 'constant';
  /** share of rows held out for early stopping (0 = stop on the training loss) */
  validation?: number;
  seed?: number;
  /** 'auto' (default): bce when all of X is in [0, 1], else mse */
  loss?: LossKind | 'auto';
  /**
   * denoising: the share of input values dropped (set to 0, the rest scaled by 1 / (1 - p), as dropout) in every
   * training batch, the target staying the clean row; 0 (default) trains a plain autoencoder
   */
  noise?: number;
  /**
   * codes made for k-means (a clustering-friendly term, the idea of DCN and IDEC): from the share `from` of the planned
   * updates on, each batch also minimizes `weight` x (the batch's k-means inertia around k centroids / its total
   * variance) of the codes (L2-normalized first with metric cosine: the k-means that follows compares codes by angle).
   * The centroids come from k-means on the codes when the term starts and follow the codes by one Lloyd step an epoch.
   * The ratio cannot be lowered by shrinking the codes; the reconstruction term keeps them informative.
   */
  kmeansFriendly?: { k: number; weight?: number; from?: number; metric?: Metric };
  /** the code layer's activation: 'relu' (the tutorial's) or 'linear' (DEC's and N2D's embedding layer) */
  codeActivation?: 'relu' | 'linear';
  /** early stopping: stop when the held-out (else training) loss has not improved by more than minDelta (relative) for `patience` epochs */
  patience?: number;
  minDelta?: number;
  gemm?: Gemm;
  isCancelled?: () => boolean;
  onProgress?: (done: number, total: number) => void;
  /** called after every epoch with its mean training loss and held-out loss (null without a held-out set) */
  onEpoch?: (epoch: number, loss: number, valLoss: number | null, net: DenseNet, planned: number) => void | Promise<void>;
}

export interface Autoencoder {
  net: DenseNet;
  /** the first `encoderLayers` layers of `net` are the encoder */
  encoderLayers: number;
  loss: LossKind;
}

export interface AutoencoderResult extends Autoencoder {
  /** mean training loss of each epoch run */
  lossCurve: number[];
  /** held-out loss after each epoch (empty without a held-out set) */
  valLossCurve: number[];
  epochs: number;
  /** epochs the schedule was planned for */
  epochsPlanned: number;
  /** the epoch whose weights were kept (1-based) */
  bestEpoch: number;
  updates: number;
  validationRows: number;
  stoppedEarly: boolean;
  /** milliseconds per epoch */
  epochMs: number[];
  batchSize: number;
  lr: number;
  schedule: 'cosine' | 'constant';
  /** the share of input values dropped in each training batch (0: a plain autoencoder) */
  noise: number;
  /** the k-means-friendly term when it ran: from which update, its weight, and its inertia ratio per epoch */
  kmeansFriendly: { k: number; weight: number; from: number; fromUpdate: number; metric: Metric; ratio: number[] } | null;
}

export function inUnitInterval(X: Float32Array, len: number): boolean {
  for (let i = 0; i < len; i++) { const v = X[i]; if (!(v >= 0 && v <= 1)) return false; }
  return true;
}

/** Layer specs of the autoencoder d -> hidden... -> code -> ...hidden reversed -> d. */
export function autoencoderLayers(d: number, hidden: number[], loss: LossKind, codeActivation: 'relu' | 'linear' = 'relu'): LayerSpec[] {
  const sizes = [d, ...hidden];
  const enc: LayerSpec[] = [];
  for (let l = 0; l < hidden.length; l++) enc.push({ in: sizes[l], out: sizes[l + 1], act: l === hidden.length - 1 ? codeActivation : 'relu' });
  const dec: LayerSpec[] = [];
  for (let l = hidden.length; l > 0; l--) dec.push({ in: sizes[l], out: sizes[l - 1], act: l === 1 ? (loss === 'bce' ? 'sigmoid' : 'linear') : 'relu' });
  return [...enc, ...dec];
}

const posInt = (name: string, v: number | undefined, min = 1) => {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) throw badArg(name, `expected an integer >= ${min}, got ${v}`);
};

/** The epochs a default run plans for n training rows: enough for minUpdates updates, within [minEpochs, maxEpochs]. */
export function plannedEpochs(nTrain: number, batch: number, o: Pick<AutoencoderOptions, 'epochs' | 'minUpdates' | 'minEpochs' | 'maxEpochs'> = {}): number {
  if (o.epochs !== undefined) return o.epochs;
  const steps = Math.ceil(nTrain / batch);
  const want = Math.ceil((o.minUpdates ?? AE_DEFAULTS.minUpdates) / steps);
  return Math.min(o.maxEpochs ?? AE_DEFAULTS.maxEpochs, Math.max(o.minEpochs ?? AE_DEFAULTS.minEpochs, want));
}

async function meanLoss(net: DenseNet, X: Float32Array, idx: Int32Array, from: number, d: number, kind: LossKind, gemm: Gemm, buf: Float32Array, batch: number): Promise<number> {
  let sum = 0;
  const m = idx.length - from;
  for (let s = from; s < idx.length; s += batch) {
    const r = Math.min(batch, idx.length - s);
    const Xb = gatherRows(X, d, idx, s, r, buf);
    const acts = await forward(net, Xb, r, gemm);
    sum += lossAndGrad(kind, acts[acts.length - 1], Xb, r * d).loss * r;
  }
  return sum / m;
}

/** The k-means-friendly term's state: k centroids of the (unit, with cosine) codes. */
interface KmTerm { k: number; weight: number; cos: boolean; dim: number; C: Float32Array; ratio: number[]; sum: number; rows: number }

/** Rows of Z as the term sees them (unit rows with cosine) and 1 / norm of each. */
function termRows(Z: Float32Array, r: number, dim: number, cos: boolean): { U: Float32Array; inv: Float32Array } {
  const U = new Float32Array(r * dim), inv = new Float32Array(r).fill(1);
  for (let i = 0; i < r; i++) {
    if (cos) { let s = 0; for (let p = 0; p < dim; p++) s += Z[i * dim + p] ** 2; inv[i] = 1 / Math.max(Math.sqrt(s), 1e-12); }
    for (let p = 0; p < dim; p++) U[i * dim + p] = Z[i * dim + p] * inv[i];
  }
  return { U, inv };
}

function nearestCentroid(U: Float32Array, i: number, C: Float32Array, k: number, dim: number): { j: number; d2: number } {
  let j = 0, best = Infinity;
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let p = 0; p < dim; p++) { const t = U[i * dim + p] - C[c * dim + p]; s += t * t; }
    if (s < best) { best = s; j = c; }
  }
  return { j, d2: best };
}

/** Centroids = the mean of the rows given to each (a centroid left without rows keeps its place). */
function centroidsOf(U: Float32Array, n: number, dim: number, labels: Int32Array, C: Float32Array, k: number): void {
  const sum = new Float64Array(k * dim), cnt = new Int32Array(k);
  for (let i = 0; i < n; i++) { const j = labels[i]; cnt[j]++; for (let p = 0; p < dim; p++) sum[j * dim + p] += U[i * dim + p]; }
  for (let c = 0; c < k; c++) if (cnt[c] > 0) for (let p = 0; p < dim; p++) C[c * dim + p] = sum[c * dim + p] / cnt[c];
}

/**
 * The term on a batch of codes: ratio = inertia / total variance of the batch (scale-free), and weight x its gradient
 * with respect to the codes (through the normalization with cosine).
 */
export function kmeansTermGrad(Z: Float32Array, r: number, dim: number, C: Float32Array, k: number, cos: boolean, weight: number): { ratio: number; dZ: Float32Array } {
  const { U, inv } = termRows(Z, r, dim, cos);
  const mean = new Float64Array(dim);
  for (let i = 0; i < r; i++) for (let p = 0; p < dim; p++) mean[p] += U[i * dim + p] / r;
  const s = new Int32Array(r);
  let W = 0, T = 0;
  for (let i = 0; i < r; i++) {
    const nc = nearestCentroid(U, i, C, k, dim);
    s[i] = nc.j; W += nc.d2;
    for (let p = 0; p < dim; p++) T += (U[i * dim + p] - mean[p]) ** 2;
  }
  const dZ = new Float32Array(r * dim);
  if (!(T > 0)) return { ratio: 0, dZ };
  const gu = new Float64Array(dim);
  for (let i = 0; i < r; i++) {
    let dot = 0;
    for (let p = 0; p < dim; p++) {
      const u = U[i * dim + p];
      gu[p] = weight * (2 * (u - C[s[i] * dim + p]) / T - (2 * W * (u - mean[p])) / (T * T));
      dot += u * gu[p];
    }
    for (let p = 0; p < dim; p++) dZ[i * dim + p] = cos ? (gu[p] - U[i * dim + p] * dot) * inv[i] : gu[p];
  }
  return { ratio: W / T, dZ };
}

/** At an epoch boundary: start the term (k-means on all codes) or move its centroids by one Lloyd step. */
async function refreshTerm(t: KmTerm, enc: DenseNet, X: Float32Array, n: number, gemm: Gemm, seed: number, start: boolean, isCancelled?: () => boolean): Promise<void> {
  const Z = await predict(enc, X, n, gemm);
  const { U } = termRows(Z, n, t.dim, t.cos);
  let labels: Int32Array;
  if (start) labels = (await kmeans(U, n, t.dim, t.k, { metric: 'euclidean', seed, nInit: 10, gemm, isCancelled })).labels;
  else { labels = new Int32Array(n); for (let i = 0; i < n; i++) labels[i] = nearestCentroid(U, i, t.C, t.k, t.dim).j; }
  centroidsOf(U, n, t.dim, labels, t.C, t.k);
}

export async function trainAutoencoder(X: Float32Array, n: number, d: number, o: AutoencoderOptions = {}): Promise<AutoencoderResult> {
  const hidden = o.hidden ?? [...DEFAULT_HIDDEN];
  if (hidden.length === 0 || hidden.some((h) => !Number.isInteger(h) || h < 1)) throw badArg('reduce', `autoencoder sizes must be positive integers, got ${hidden.join('-')}`);
  posInt('epochs', o.epochs); posInt('min-updates', o.minUpdates); posInt('min-epochs', o.minEpochs); posInt('max-epochs', o.maxEpochs);
  posInt('patience', o.patience); posInt('batch-size', o.batchSize);
  if (o.lr !== undefined && !(o.lr > 0 && o.lr < 1)) throw badArg('lr', `must be in (0, 1), got ${o.lr}`);
  // an explicit epoch count is the tutorial's fixed regimen (all rows, constant lr) unless patience asks for early stopping
  const fixed = o.epochs !== undefined;
  const validation = o.validation ?? (n >= 200 && !(fixed && o.patience === undefined) ? AE_DEFAULTS.validation : 0);
  if (!(validation >= 0 && validation <= 0.5)) throw badArg('validation', `must be in [0, 0.5], got ${validation}`);
  if (o.minDelta !== undefined && !(o.minDelta >= 0 && o.minDelta < 1)) throw badArg('min-delta', `must be in [0, 1), got ${o.minDelta}`);
  const kf = o.kmeansFriendly;
  if (kf) {
    if (!Number.isInteger(kf.k) || kf.k < 2 || kf.k > n) throw badArg('k', `the k-means-friendly codes need 2 <= k <= n, got ${kf.k}`);
    if (kf.weight !== undefined && !(kf.weight >= 0)) throw badArg('kmeans-weight', `must be >= 0, got ${kf.weight}`);
    if (kf.from !== undefined && !(kf.from >= 0 && kf.from < 1)) throw badArg('kmeans-from', `must be in [0, 1), got ${kf.from}`);
  }
  const noise = o.noise ?? 0;
  if (!(noise >= 0 && noise < 1)) throw badArg('noise', `must be in [0, 1), got ${o.noise}`);
  if (o.schedule !== undefined && o.schedule !== 'cosine' && o.schedule !== 'constant') throw badArg('schedule', `expected cosine or constant, got ${o.schedule}`);
  const loss: LossKind = o.loss && o.loss !== 'auto' ? o.loss : inUnitInterval(X, n * d) ? 'bce' : 'mse';
  const gemm = o.gemm ?? gemmJs;
  const rng = createRng(o.seed ?? 0);
  const codeActivation = o.codeActivation ?? 'relu';
  if (codeActivation !== 'relu' && codeActivation !== 'linear') throw badArg('code-activation', `expected relu or linear, got ${String(codeActivation)}`);
  const net = initNet(autoencoderLayers(d, hidden, loss, codeActivation), rng);
  const ps = params(net);
  const lr0 = o.lr ?? AE_DEFAULTS.lr;
  const schedule = o.schedule ?? (fixed ? 'constant' : 'cosine');
  let lrNow = lr0;
  const opt = adam(ps.map((p) => p.length), () => lrNow);
  // a seeded held-out share: the last nVal rows of a permutation
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const nVal = Math.floor(n * validation);
  if (nVal > 0) shuffleInPlace(all, rng);
  const nTrain = n - nVal;
  const perm = all.subarray(0, nTrain);
  const batch = Math.min(o.batchSize ?? AE_DEFAULTS.batchSize, nTrain);
  const epochs = plannedEpochs(nTrain, batch, o);
  // early stopping: on by default (explicit epochs: only with patience)
  const patience = o.patience ?? (o.epochs === undefined ? AE_DEFAULTS.patience : undefined);
  const minDelta = o.minDelta ?? AE_DEFAULTS.minDelta;
  const buf = new Float32Array(batch * d);
  const noisy = noise > 0 ? new Float32Array(batch * d) : null;
  const keepScale = 1 / (1 - noise);
  const steps = Math.ceil(nTrain / batch);
  const lossCurve: number[] = [], valLossCurve: number[] = [], epochMs: number[] = [];
  let ref = Infinity, bestAbs = Infinity, bestEpoch = 0, since = 0, stoppedEarly = false, updates = 0;
  let bestParams: Float32Array[] | null = null;
  const codeAt = hidden.length, dim = hidden[hidden.length - 1];
  const term: KmTerm | null = kf && (kf.weight ?? AE_DEFAULTS.kmeansWeight) > 0
    ? { k: kf.k, weight: kf.weight ?? AE_DEFAULTS.kmeansWeight, cos: (kf.metric ?? 'cosine') === 'cosine', dim, C: new Float32Array(kf.k * dim), ratio: [], sum: 0, rows: 0 }
    : null;
  const termFrom = term ? Math.floor((kf!.from ?? AE_DEFAULTS.kmeansFrom) * epochs * steps) : Infinity;
  let termOn = false;
  for (let e = 0; e < epochs; e++) {
    const te = performance.now();
    if (term && updates >= termFrom) {
      await refreshTerm(term, subNet(net, codeAt), X, n, gemm, o.seed ?? 0, !termOn, o.isCancelled);
      if (!termOn) { termOn = true; ref = Infinity; bestAbs = Infinity; since = 0; }
      term.sum = 0; term.rows = 0;
    }
    shuffleInPlace(perm, rng);
    let sum = 0;
    for (let s = 0, step = 0; s < nTrain; s += batch, step++) {
      if (o.isCancelled?.()) throw cancelled('autoencoder training');
      if (schedule === 'cosine') {
        const frac = (e * steps + step) / Math.max(1, epochs * steps);
        const floor = AE_DEFAULTS.lrFloor;
        lrNow = lr0 * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * frac)));
      }
      const r = Math.min(batch, nTrain - s);
      const Xb = gatherRows(X, d, perm, s, r, buf);
      let Xin = Xb;
      if (noisy) {
        Xin = noisy.subarray(0, r * d);
        for (let i = 0; i < Xin.length; i++) Xin[i] = rng.next() < noise ? 0 : Xb[i] * keepScale;
      }
      const acts = await forward(net, Xin, r, gemm);
      const { loss: l, dZ } = lossAndGrad(loss, acts[acts.length - 1], Xb, r * d);
      let extra: { at: number; dA: Float32Array } | undefined;
      if (termOn) {
        const kt = kmeansTermGrad(acts[codeAt], r, dim, term!.C, term!.k, term!.cos, term!.weight);
        term!.sum += kt.ratio * r; term!.rows += r;
        extra = { at: codeAt, dA: kt.dZ };
      }
      const g = await backward(net, acts, r, dZ, gemm, false, extra);
      opt.step(ps, gradList(g));
      updates++;
      sum += l * r;
      o.onProgress?.(e * steps + step + 1, epochs * steps);
    }
    const el = sum / nTrain;
    lossCurve.push(el);
    if (termOn) term!.ratio.push(term!.sum / Math.max(1, term!.rows));
    const vl = nVal > 0 ? await meanLoss(net, X, all, nTrain, d, loss, gemm, buf, batch) : null;
    if (vl !== null) valLossCurve.push(vl);
    epochMs.push(performance.now() - te);
    await o.onEpoch?.(e + 1, el, vl, net, epochs);
    const watched = vl ?? el;
    if (watched < bestAbs) { bestAbs = watched; bestEpoch = e + 1; if (vl !== null && patience !== undefined) bestParams = ps.map((p) => p.slice()); }
    if (watched < ref * (1 - minDelta)) { ref = watched; since = 0; }
    else if (patience !== undefined && ++since >= patience) { stoppedEarly = e + 1 < epochs; break; }
  }
  // keep the weights of the best held-out epoch
  if (bestParams && bestEpoch < lossCurve.length) for (let i = 0; i < ps.length; i++) ps[i].set(bestParams[i]);
  else bestEpoch = lossCurve.length;
  return {
    net, encoderLayers: hidden.length, loss, lossCurve, valLossCurve, epochs: lossCurve.length, epochsPlanned: epochs, bestEpoch, updates,
    validationRows: nVal, stoppedEarly, epochMs, batchSize: batch, lr: lr0, schedule, noise,
    kmeansFriendly: term && termOn ? { k: term.k, weight: term.weight, from: kf!.from ?? AE_DEFAULTS.kmeansFrom, fromUpdate: termFrom, metric: term.cos ? 'cosine' : 'euclidean', ratio: term.ratio } : null,
  };
}

/** The encoder (first layers) of an autoencoder, as a network of its own. */
export function encoderOf(ae: Autoencoder): DenseNet {
  return subNet(ae.net, ae.encoderLayers);
}

/** Codes of all n rows through an encoder network. */
export function encode(encoder: DenseNet, X: Float32Array, n: number, gemm: Gemm = gemmJs): Promise<Float32Array> {
  if (encoder.layers[0].in * n > X.length) throw badArg('embeddings', `encoder takes ${encoder.layers[0].in} dimensions`);
  return predict(encoder, X, n, gemm);
}
