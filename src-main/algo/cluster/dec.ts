/**
 * Deep Embedded Clustering (Xie, Girshick & Farhadi 2016): pretrain an autoencoder, cluster its codes (a Gaussian
 * mixture by default: the codes' clusters are elongated; k-means, the paper's start, on request), then refine
 * the encoder and the cluster centres together by minimizing KL(P || Q), where Q is the Student-t (alpha = 1) soft
 * assignment of codes to centres and P the sharpened target q^2 / f normalized per row. P is recomputed on all points
 * every `updateInterval` mini-batch steps (140, the reference implementation's value for MNIST), and training stops
 * when fewer than `tol` (0.001) of the hard labels changed between two target updates. SGD with momentum (lr 0.01,
 * momentum 0.9) as the reference. Pure: injected Gemm, seeded.
 *
 * A stopping rule that ends (the reference's tol alone ran 20,000 steps on 50 overlapping clusters): besides
 * tol, stop when the share of changed labels has not reached a new low for `patience` target updates (a plateau: the
 * assignments oscillate instead of settling), and after at most `maxEpochs` passes over the data (`maxIter` steps when
 * given). The result says which rule ended it and after how many steps.
 */
import { CLUSTER_DEFAULTS } from '../../common/cluster-contract.ts';
import { badArg } from '../../common/errors.ts';
import { gemmJs, type Gemm } from '../linalg.ts';
import { backward, forward, gatherRows, gradList, params, predict, sgdMomentum, type DenseNet } from '../nn/dense.ts';
import { encoderOf, trainAutoencoder, type AutoencoderOptions, type AutoencoderResult } from '../nn/autoencoder.ts';
import { createRng, shuffleInPlace } from '../rng.ts';
import { gmm, whiteningFactors } from './gmm.ts';
import { cancelled, kmeans } from './kmeans.ts';

/** DEC's defaults (those a run can set are the contract's: common/cluster-contract.ts CLUSTER_DEFAULTS). */
export const DEC_DEFAULTS = {
  batchSize: CLUSTER_DEFAULTS.aeBatchSize, updateInterval: CLUSTER_DEFAULTS.updateInterval, maxIter: 20000, maxEpochs: 10, patience: 5, tol: CLUSTER_DEFAULTS.tol, init: 'gmm',
} as const;

export interface DecOptions {
  ae?: AutoencoderOptions;
  /** a pretrained autoencoder (skips pretraining) */
  pretrained?: AutoencoderResult;
  tol?: number;
  updateInterval?: number;
  /** most refinement steps (default: maxEpochs passes over the data) */
  maxIter?: number;
  maxEpochs?: number;
  /** target updates without a new low in the share of changed labels before stopping (default 5) */
  patience?: number;
  batchSize?: number;
  lr?: number;
  momentum?: number;
  nInit?: number;
  /**
   * the start of the refinement: 'kmeans' (the paper's: k-means centres on the codes) or 'gmm' (the means of a seeded
   * full-covariance Gaussian mixture on the codes, whose elongated clusters k-means splits)
   */
  init?: 'kmeans' | 'gmm';
  /**
   * the Student-t kernel: 'euclidean' (the paper's), 'mahalanobis' (each centre keeps the covariance shape of the
   * mixture that started it) or 'mixture-t' (also its weight and volume, with the multivariate t's exponent: the soft
   * assignment is that mixture's posterior under t components); the last two only with init 'gmm'. Default: mahalanobis
   * after a mixture start (mixture-t was better on MNIST codes, 10-d, but worse on the tutorial's 32-d ReLU codes)
   */
  kernel?: 'euclidean' | 'mahalanobis' | 'mixture-t';
  seed?: number;
  gemm?: Gemm;
  isCancelled?: () => boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
  /** called at every target update with the KL divergence on all points and the share of labels changed */
  onUpdate?: (iteration: number, kl: number, changed: number) => void;
}

export interface DecResult {
  labels: Int32Array;
  /** k x dim cluster centres in code space */
  centres: Float32Array;
  encoder: DenseNet;
  ae: AutoencoderResult;
  /** labels of the initialisation (AE + k-means, or AE + GMM) */
  initLabels: Int32Array;
  init: 'kmeans' | 'gmm';
  kernel: 'euclidean' | 'mahalanobis' | 'mixture-t';
  iterations: number;
  converged: boolean;
  /** 'tol': fewer than tol labels changed; 'plateau': no new low for `patience` updates; 'max-iter' */
  stopReason: 'tol' | 'plateau' | 'max-iter';
  maxIter: number;
  kl: number[];
  changed: number[];
  timings: { pretrain: number; kmeans: number; refine: number };
}

/**
 * Squared distance of code i to centre j: euclidean, or with the whitening factors A (k x dim x dim, A_j^T A_j =
 * cov_j^-1 of the mixture that started the refinement) the Mahalanobis distance |A_j (z_i - mu_j)|^2. `v` receives
 * A_j (z_i - mu_j) (or z_i - mu_j).
 */
function dist2(Z: Float32Array, i: number, dim: number, mu: Float32Array, j: number, A: Float64Array | null, u: Float64Array, v: Float64Array): number {
  for (let p = 0; p < dim; p++) u[p] = Z[i * dim + p] - mu[j * dim + p];
  if (!A) { let s = 0; for (let p = 0; p < dim; p++) { v[p] = u[p]; s += u[p] * u[p]; } return s; }
  const o = j * dim * dim;
  let s = 0;
  for (let p = 0; p < dim; p++) {
    let t = 0;
    for (let q = 0; q <= p; q++) t += A[o + p * dim + q] * u[q];
    v[p] = t; s += t * t;
  }
  return s;
}

/**
 * Student-t soft assignment (alpha = 1) of r codes to k centres; also returns the unnormalized kernel 1/(1+d^2).
 * With whitening factors A the distance is each centre's Mahalanobis distance (the mixture's cluster shapes).
 */
export function softAssign(Z: Float32Array, r: number, dim: number, mu: Float32Array, k: number, A: Float64Array | null = null, mix: MixShape | null = null): { q: Float32Array; w: Float32Array } {
  const q = new Float32Array(r * k), w = new Float32Array(r * k);
  const u = new Float64Array(dim), v = new Float64Array(dim), lk = new Float64Array(k);
  for (let i = 0; i < r; i++) {
    let s = 0;
    if (!mix) {
      for (let j = 0; j < k; j++) {
        const x = 1 / (1 + dist2(Z, i, dim, mu, j, A, u, v));
        w[i * k + j] = x; s += x;
      }
      for (let j = 0; j < k; j++) q[i * k + j] = w[i * k + j] / s;
      continue;
    }
    // the mixture's multivariate t: log k_ij = log c_j - a log(1 + d^2), normalized in the log domain
    let mx = -Infinity;
    for (let j = 0; j < k; j++) {
      const d2 = dist2(Z, i, dim, mu, j, A, u, v);
      w[i * k + j] = 1 / (1 + d2);
      lk[j] = mix.logc[j] - mix.exponent * Math.log1p(d2);
      if (lk[j] > mx) mx = lk[j];
    }
    for (let j = 0; j < k; j++) { lk[j] = Math.exp(lk[j] - mx); s += lk[j]; }
    for (let j = 0; j < k; j++) q[i * k + j] = lk[j] / s;
  }
  return { q, w };
}

/**
 * The shape of a mixture's multivariate t kernel (nu = 1): k_ij = c_j (1 + d_ij^2)^-exponent with c_j = weight_j |cov_j|^-1/2
 * and exponent (1 + dim) / 2, so that the soft assignment is that mixture's posterior under t components.
 */
export interface MixShape { exponent: number; logc: Float64Array }

/** The target distribution p_ij = (q_ij^2 / f_j) / sum_j', f_j = sum_i q_ij. */
export function targetDistribution(q: Float32Array, n: number, k: number): Float32Array {
  const f = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) f[j] += q[i * k + j];
  const p = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) { const v = (q[i * k + j] * q[i * k + j]) / f[j]; p[i * k + j] = v; s += v; }
    for (let j = 0; j < k; j++) p[i * k + j] /= s;
  }
  return p;
}

function argmaxRows(q: Float32Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) { let b = 0; for (let j = 1; j < k; j++) if (q[i * k + j] > q[i * k + b]) b = j; out[i] = b; }
  return out;
}

function kl(p: Float32Array, q: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) s += p[i] * Math.log(p[i] / Math.max(q[i], 1e-30));
  return s / n;
}

/**
 * Gradient of the batch-mean KL(P || Q) with respect to the codes and the centres (the paper's equations 4-5 for
 * alpha = 1): dL/dz_i = 2/r sum_j w_ij (p_ij - q_ij)(z_i - mu_j), dL/dmu_j = -2/r sum_i w_ij (p_ij - q_ij)(z_i - mu_j);
 * with whitening factors A, (z_i - mu_j) becomes A_j^T A_j (z_i - mu_j) (the gradient of the Mahalanobis distance).
 */
export function klGrad(Z: Float32Array, r: number, dim: number, mu: Float32Array, k: number, P: Float32Array, A: Float64Array | null = null, mix: MixShape | null = null): { dZ: Float32Array; dMu: Float32Array; loss: number } {
  const { q, w } = softAssign(Z, r, dim, mu, k, A, mix);
  const dZ = new Float32Array(r * dim), dMu = new Float32Array(k * dim);
  const u = new Float64Array(dim), v = new Float64Array(dim), Sv = new Float64Array(dim);
  const c = (2 * (mix ? mix.exponent : 1)) / r;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < k; j++) {
      const g = c * w[i * k + j] * (P[i * k + j] - q[i * k + j]);
      if (g === 0) continue;
      dist2(Z, i, dim, mu, j, A, u, v);
      let s: Float64Array = v;
      if (A) {
        // A_j^T v
        const o = j * dim * dim;
        for (let p = 0; p < dim; p++) { let t = 0; for (let m = p; m < dim; m++) t += A[o + m * dim + p] * v[m]; Sv[p] = t; }
        s = Sv;
      }
      for (let p = 0; p < dim; p++) {
        const t = g * s[p];
        dZ[i * dim + p] += t; dMu[j * dim + p] -= t;
      }
    }
  }
  return { dZ, dMu, loss: kl(P, q, r) };
}

export async function dec(X: Float32Array, n: number, d: number, k: number, o: DecOptions = {}): Promise<DecResult> {
  if (!Number.isInteger(k) || k < 2 || k > n) throw badArg('k', `DEC needs 2 <= k <= n, got ${k}`);
  const tol = o.tol ?? DEC_DEFAULTS.tol;
  if (!(tol >= 0 && tol < 1)) throw badArg('tol', `must be in [0, 1), got ${tol}`);
  const gemm = o.gemm ?? gemmJs;
  const seed = o.seed ?? 0;
  const intArg = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw badArg(name, `expected an integer >= 1, got ${v}`);
  };
  intArg('update-interval', o.updateInterval); intArg('max-iter', o.maxIter); intArg('max-epochs', o.maxEpochs); intArg('patience', o.patience); intArg('batch-size', o.batchSize);
  const batch = Math.min(o.batchSize ?? DEC_DEFAULTS.batchSize, n);
  const updateInterval = o.updateInterval ?? DEC_DEFAULTS.updateInterval;
  const maxIter = o.maxIter ?? Math.min(DEC_DEFAULTS.maxIter, Math.ceil(((o.maxEpochs ?? DEC_DEFAULTS.maxEpochs) * n) / batch));
  const patience = o.patience ?? DEC_DEFAULTS.patience;
  const t0 = performance.now();
  const ae = o.pretrained ?? await trainAutoencoder(X, n, d, {
    seed, gemm, isCancelled: o.isCancelled, ...o.ae, onProgress: (dn, t) => o.onProgress?.('pretrain', dn, t),
  });
  const t1 = performance.now();
  const encoder = encoderOf(ae);
  const dim = encoder.layers[encoder.layers.length - 1].out;
  let Z: Float32Array = await predict(encoder, X, n, gemm);
  const init = o.init ?? DEC_DEFAULTS.init;
  if (init !== 'kmeans' && init !== 'gmm') throw badArg('init', `expected kmeans or gmm, got ${String(init)}`);
  const kernel = o.kernel ?? (init === 'gmm' ? 'mahalanobis' : 'euclidean');
  if (kernel !== 'euclidean' && kernel !== 'mahalanobis' && kernel !== 'mixture-t') throw badArg('kernel', `expected euclidean, mahalanobis or mixture-t, got ${String(kernel)}`);
  if (kernel !== 'euclidean' && init !== 'gmm') throw badArg('kernel', `${kernel} needs the mixture start (init gmm)`);
  let mu: Float32Array, initLabels: Int32Array;
  let A: Float64Array | null = null;
  let mix: MixShape | null = null;
  if (init === 'gmm') {
    const g = await gmm(Z, n, dim, { k, seed, gemm, isCancelled: o.isCancelled });
    mu = Float32Array.from(g.means); initLabels = g.labels;
    if (kernel !== 'euclidean') A = whiteningFactors(g.covariances, k, dim, g.covariance);
    if (kernel === 'mixture-t') {
      // log c_j = log weight_j - log|cov_j| / 2 = log weight_j + sum_p log A_j,pp (A_j = L_j^-1 is triangular)
      const logc = new Float64Array(k);
      for (let j = 0; j < k; j++) { let t = Math.log(g.weights[j]); for (let p = 0; p < dim; p++) t += Math.log(A![j * dim * dim + p * dim + p]); logc[j] = t; }
      mix = { exponent: (1 + dim) / 2, logc };
    }
  } else {
    const km = await kmeans(Z, n, dim, k, { metric: 'euclidean', seed, nInit: o.nInit ?? 20, gemm, isCancelled: o.isCancelled });
    mu = km.centroids.slice(); initLabels = km.labels;
  }
  const t2 = performance.now();
  const ps = [...params(encoder), mu];
  const opt = sgdMomentum(ps.map((p) => p.length), o.lr ?? 0.01, o.momentum ?? 0.9);
  const rng = createRng(seed ^ 0x5deece66);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  shuffleInPlace(perm, rng);
  const buf = new Float32Array(batch * d), Pb = new Float32Array(batch * k);
  let labels: Int32Array = initLabels.slice();
  let P: Float32Array = new Float32Array(0);
  const klCurve: number[] = [], changed: number[] = [];
  let converged = false, it = 0, pos = 0, bestChanged = Infinity, since = 0;
  let stopReason: DecResult['stopReason'] = 'max-iter';
  for (; it < maxIter; it++) {
    if (o.isCancelled?.()) throw cancelled('DEC');
    if (it % updateInterval === 0) {
      if (it > 0) Z = await predict(encoder, X, n, gemm);
      const { q } = softAssign(Z, n, dim, mu, k, A, mix);
      P = targetDistribution(q, n, k);
      const next = argmaxRows(q, n, k);
      let ch = 0;
      for (let i = 0; i < n; i++) if (next[i] !== labels[i]) ch++;
      labels = next;
      klCurve.push(kl(P, q, n)); changed.push(ch / n);
      o.onUpdate?.(it, klCurve[klCurve.length - 1], ch / n);
      o.onProgress?.('dec', it, maxIter);
      if (it > 0 && ch / n < tol) { converged = true; stopReason = 'tol'; break; }
      if (it > 0) {
        if (ch < bestChanged) { bestChanged = ch; since = 0; }
        else if (++since >= patience) { stopReason = 'plateau'; break; }
      }
    }
    const r = Math.min(batch, n - pos);
    const Xb = gatherRows(X, d, perm, pos, r, buf);
    for (let t = 0; t < r; t++) Pb.set(P.subarray(perm[pos + t] * k, perm[pos + t] * k + k), t * k);
    pos = pos + r >= n ? 0 : pos + r;
    const acts = await forward(encoder, Xb, r, gemm);
    const codes = acts[acts.length - 1];
    const g = klGrad(codes, r, dim, mu, k, Pb.subarray(0, r * k), A, mix);
    // through the code layer's activation (ReLU by construction; sigmoid/linear handled for completeness)
    const act = encoder.layers[encoder.layers.length - 1].act;
    const dZ = g.dZ;
    if (act === 'relu') { for (let i = 0; i < dZ.length; i++) if (codes[i] <= 0) dZ[i] = 0; }
    else if (act === 'sigmoid') { for (let i = 0; i < dZ.length; i++) dZ[i] *= codes[i] * (1 - codes[i]); }
    const gr = await backward(encoder, acts, r, dZ, gemm);
    opt.step(ps, [...gradList(gr), g.dMu]);
  }
  if (stopReason === 'max-iter' && it % updateInterval !== 0) {
    // the labels of the final encoder and centres, not those of the last target update
    Z = await predict(encoder, X, n, gemm);
    labels = argmaxRows(softAssign(Z, n, dim, mu, k, A, mix).q, n, k);
  }
  o.onProgress?.('dec', maxIter, maxIter);
  const t3 = performance.now();
  return {
    labels, centres: mu, encoder, ae, initLabels, init, kernel, iterations: it, converged, stopReason, maxIter, kl: klCurve, changed,
    timings: { pretrain: t1 - t0, kmeans: t2 - t1, refine: t3 - t2 },
  };
}
