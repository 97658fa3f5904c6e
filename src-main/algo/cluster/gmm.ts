/**
 * Gaussian mixture by expectation-maximization (scikit-learn's GaussianMixture semantics): full (default) or diagonal
 * covariances, k-means initialisation (seeded), reg_covar added to every covariance diagonal, stop when the mean
 * log-likelihood per point improves by less than `tol`, best of `nInit` starts by likelihood. With no k, a range of k
 * is fitted and the lowest BIC (Schwarz 1978: -2 log L + p ln n) wins: the third step of N2D (McConville et al. 2020:
 * autoencoder -> UMAP -> GMM). Pure: arithmetic in float64, injected Gemm for the k-means start, seeded; no I/O.
 */
import { badArg } from '../../common/errors.ts';
import type { Gemm } from '../linalg.ts';
import { cancelled, checkMatrix, kmeans } from './kmeans.ts';
import type { COVARIANCES } from '../../common/cluster-contract.ts';

export type Covariance = (typeof COVARIANCES)[number];

export interface GmmOptions {
  /** components; undefined = pick by BIC over kMin..kMax */
  k?: number;
  kMin?: number;
  kMax?: number;
  covariance?: Covariance;
  seed?: number;
  maxIter?: number;
  tol?: number;
  regCovar?: number;
  nInit?: number;
  gemm?: Gemm;
  isCancelled?: () => boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface GmmFit {
  k: number;
  labels: Int32Array;
  /** max posterior responsibility per point */
  probabilities: Float32Array;
  weights: Float64Array;
  means: Float64Array;
  /** full: k x d x d; diag: k x d */
  covariances: Float64Array;
  logLikelihood: number;
  bic: number;
  iterations: number;
  converged: boolean;
}

export interface GmmResult extends GmmFit {
  covariance: Covariance;
  /** BIC of every k tried (one entry when k was given) */
  bicByK: Array<{ k: number; bic: number; logLikelihood: number; iterations: number; converged: boolean }>;
  selectedBy: 'given' | 'bic';
}

/** Free parameters of a k-component mixture in d dimensions. */
export function gmmParamCount(k: number, d: number, covariance: Covariance): number {
  return k - 1 + k * d + k * (covariance === 'full' ? (d * (d + 1)) / 2 : d);
}

/** In-place Cholesky of a d x d SPD matrix (lower triangle); false when not positive definite. */
function cholesky(A: Float64Array, o: number, d: number): boolean {
  for (let j = 0; j < d; j++) {
    let s = A[o + j * d + j];
    for (let p = 0; p < j; p++) s -= A[o + j * d + p] * A[o + j * d + p];
    if (!(s > 0)) return false;
    const l = Math.sqrt(s);
    A[o + j * d + j] = l;
    for (let i = j + 1; i < d; i++) {
      let t = A[o + i * d + j];
      for (let p = 0; p < j; p++) t -= A[o + i * d + p] * A[o + j * d + p];
      A[o + i * d + j] = t / l;
    }
  }
  return true;
}

/**
 * Whitening factors of a mixture's covariances: for each component c a d x d matrix A_c (row-major, lower triangular)
 * with A_c^T A_c = cov_c^-1, so that the Mahalanobis distance of x to the component is |A_c (x - mean_c)|^2 (A_c =
 * L_c^-1 for the Cholesky factor cov_c = L_c L_c^T; diagonal covariances give a diagonal A_c).
 */
export function whiteningFactors(covariances: Float64Array, k: number, d: number, covariance: Covariance): Float64Array {
  const A = new Float64Array(k * d * d);
  for (let c = 0; c < k; c++) {
    const o = c * d * d;
    if (covariance === 'diag') {
      for (let p = 0; p < d; p++) A[o + p * d + p] = 1 / Math.sqrt(covariances[c * d + p]);
      continue;
    }
    const L = covariances.slice(o, o + d * d);
    if (!cholesky(L, 0, d)) throw badArg('reg-covar', `component ${c}'s covariance is not positive definite (collapsed points): raise reg-covar`);
    // invert the lower-triangular L column by column (forward substitution on the unit vectors)
    for (let j = 0; j < d; j++) {
      for (let i = j; i < d; i++) {
        let t = i === j ? 1 : 0;
        for (let q = j; q < i; q++) t -= L[i * d + q] * A[o + q * d + j];
        A[o + i * d + j] = t / L[i * d + i];
      }
    }
  }
  return A;
}

const LOG2PI = Math.log(2 * Math.PI);

/** log N(x_i | mean_c, cov_c) + log w_c for all i, c into L (n x k). */
function logProb(X: Float32Array, n: number, d: number, k: number, w: Float64Array, mu: Float64Array, cov: Float64Array, cv: Covariance, L: Float64Array): void {
  const diff = new Float64Array(d), y = new Float64Array(d);
  const chol = cv === 'full' ? cov.slice() : cov;
  const logDet = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    if (cv === 'full') {
      if (!cholesky(chol, c * d * d, d)) throw badArg('reg-covar', `component ${c}'s covariance is not positive definite (collapsed points): raise reg-covar`);
      let s = 0;
      for (let p = 0; p < d; p++) s += Math.log(chol[c * d * d + p * d + p]);
      logDet[c] = 2 * s;
    } else {
      let s = 0;
      for (let p = 0; p < d; p++) s += Math.log(cov[c * d + p]);
      logDet[c] = s;
    }
  }
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      for (let p = 0; p < d; p++) diff[p] = X[i * d + p] - mu[c * d + p];
      let m = 0;
      if (cv === 'full') {
        // solve L y = diff (forward substitution); mahalanobis = |y|^2
        const o = c * d * d;
        for (let p = 0; p < d; p++) {
          let t = diff[p];
          for (let q = 0; q < p; q++) t -= chol[o + p * d + q] * y[q];
          y[p] = t / chol[o + p * d + p];
          m += y[p] * y[p];
        }
      } else {
        for (let p = 0; p < d; p++) m += (diff[p] * diff[p]) / cov[c * d + p];
      }
      L[i * k + c] = Math.log(w[c]) - 0.5 * (d * LOG2PI + logDet[c] + m);
    }
  }
}

/** Turns L (log joint) into responsibilities in place; returns the total log-likelihood. */
function eStep(L: Float64Array, n: number, k: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let c = 0; c < k; c++) if (L[i * k + c] > mx) mx = L[i * k + c];
    let s = 0;
    for (let c = 0; c < k; c++) { const v = Math.exp(L[i * k + c] - mx); L[i * k + c] = v; s += v; }
    for (let c = 0; c < k; c++) L[i * k + c] /= s;
    total += mx + Math.log(s);
  }
  return total;
}

function mStep(X: Float32Array, n: number, d: number, k: number, R: Float64Array, cv: Covariance, reg: number, w: Float64Array, mu: Float64Array, cov: Float64Array): void {
  const nk = new Float64Array(k);
  mu.fill(0); cov.fill(0);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) {
    const r = R[i * k + c];
    nk[c] += r;
    if (r === 0) continue;
    for (let p = 0; p < d; p++) mu[c * d + p] += r * X[i * d + p];
  }
  for (let c = 0; c < k; c++) {
    nk[c] += 10 * Number.EPSILON;
    for (let p = 0; p < d; p++) mu[c * d + p] /= nk[c];
    w[c] = nk[c] / n;
  }
  const diff = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) {
    const r = R[i * k + c];
    if (r < 1e-12) continue;
    for (let p = 0; p < d; p++) diff[p] = X[i * d + p] - mu[c * d + p];
    if (cv === 'full') {
      const o = c * d * d;
      for (let p = 0; p < d; p++) { const rp = r * diff[p]; for (let q = 0; q <= p; q++) cov[o + p * d + q] += rp * diff[q]; }
    } else {
      for (let p = 0; p < d; p++) cov[c * d + p] += r * diff[p] * diff[p];
    }
  }
  for (let c = 0; c < k; c++) {
    if (cv === 'full') {
      const o = c * d * d;
      for (let p = 0; p < d; p++) {
        for (let q = 0; q <= p; q++) { const v = cov[o + p * d + q] / nk[c]; cov[o + p * d + q] = v; cov[o + q * d + p] = v; }
        cov[o + p * d + p] += reg;
      }
    } else {
      for (let p = 0; p < d; p++) cov[c * d + p] = cov[c * d + p] / nk[c] + reg;
    }
  }
}

async function fitOnce(X: Float32Array, n: number, d: number, k: number, cv: Covariance, seed: number, o: GmmOptions): Promise<GmmFit> {
  const maxIter = o.maxIter ?? 100, tol = o.tol ?? 1e-3, reg = o.regCovar ?? 1e-6;
  // initial responsibilities from k-means hard labels (sklearn's init_params='kmeans')
  const km = await kmeans(X, n, d, k, { metric: 'euclidean', seed, nInit: 1, gemm: o.gemm, isCancelled: o.isCancelled });
  const R = new Float64Array(n * k);
  for (let i = 0; i < n; i++) R[i * k + km.labels[i]] = 1;
  const w = new Float64Array(k), mu = new Float64Array(k * d), cov = new Float64Array(cv === 'full' ? k * d * d : k * d);
  mStep(X, n, d, k, R, cv, reg, w, mu, cov);
  let prev = -Infinity, ll = -Infinity, it = 0, converged = false;
  for (it = 1; it <= maxIter; it++) {
    if (o.isCancelled?.()) throw cancelled('Gaussian mixture');
    logProb(X, n, d, k, w, mu, cov, cv, R);
    ll = eStep(R, n, k) / n;
    if (Math.abs(ll - prev) < tol) { converged = true; break; }
    prev = ll;
    mStep(X, n, d, k, R, cv, reg, w, mu, cov);
  }
  if (!converged) { logProb(X, n, d, k, w, mu, cov, cv, R); ll = eStep(R, n, k) / n; }
  const labels = new Int32Array(n), probabilities = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let c = 1; c < k; c++) if (R[i * k + c] > R[i * k + b]) b = c;
    labels[i] = b; probabilities[i] = R[i * k + b];
  }
  const logL = ll * n;
  const bic = -2 * logL + gmmParamCount(k, d, cv) * Math.log(n);
  return { k, labels, probabilities, weights: w, means: mu, covariances: cov, logLikelihood: logL, bic, iterations: Math.min(it, maxIter), converged };
}

export async function gmm(X: Float32Array, n: number, d: number, o: GmmOptions = {}): Promise<GmmResult> {
  checkMatrix(X, n, d);
  const cv = o.covariance ?? 'full';
  if (cv !== 'full' && cv !== 'diag') throw badArg('covariance', `expected full or diag, got ${String(cv)}`);
  const intArg = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) throw badArg(name, `expected an integer >= ${min}, got ${v}`);
  };
  intArg('k', o.k, 1); intArg('k-min', o.kMin, 1); intArg('k-max', o.kMax, 1); intArg('max-iter', o.maxIter, 1); intArg('n-init', o.nInit, 1);
  if (o.tol !== undefined && !(o.tol > 0)) throw badArg('tol', `must be > 0, got ${o.tol}`);
  if (o.regCovar !== undefined && !(o.regCovar >= 0)) throw badArg('reg-covar', `must be >= 0, got ${o.regCovar}`);
  if (o.k !== undefined && o.k > n) throw badArg('k', `${o.k} components asked for ${n} points`);
  for (let i = 0; i < n * d; i++) if (!Number.isFinite(X[i])) throw badArg('embeddings', `row ${Math.floor(i / d)} holds a non-finite value`);
  const seed = o.seed ?? 0, nInit = o.nInit ?? 1;
  const ks: number[] = [];
  if (o.k !== undefined) ks.push(o.k);
  else {
    const kMin = o.kMin ?? 2, kMax = Math.min(o.kMax ?? Math.min(30, Math.max(2, Math.floor(Math.sqrt(n / 2)))), n);
    if (kMin > kMax) throw badArg('k-min', `${kMin} is above k-max ${kMax}`);
    for (let k = kMin; k <= kMax; k++) ks.push(k);
  }
  let best: GmmFit | null = null;
  const bicByK: GmmResult['bicByK'] = [];
  let done = 0;
  for (const k of ks) {
    let bestK: GmmFit | null = null;
    for (let r = 0; r < nInit; r++) {
      const f = await fitOnce(X, n, d, k, cv, seed + r * 7919, o);
      if (!bestK || f.logLikelihood > bestK.logLikelihood) bestK = f;
      o.onProgress?.(++done, ks.length * nInit);
    }
    bicByK.push({ k, bic: bestK!.bic, logLikelihood: bestK!.logLikelihood, iterations: bestK!.iterations, converged: bestK!.converged });
    if (!best || bestK!.bic < best.bic) best = bestK;
  }
  return { ...best!, covariance: cv, bicByK, selectedBy: o.k !== undefined ? 'given' : 'bic' };
}
