/**
 * Principal component analysis on a row-major Float32Array matrix. Exact (covariance + Jacobi eigen-decomposition) for
 * small d, randomized (Halko, Martinsson & Tropp 2011, with power iterations) for large d. The big products go through
 * an injected `Gemm`; X itself is never copied in the randomized path (centering is applied algebraically).
 */
import { AppError, badArg } from '../../common/errors.ts';
import { gemmJs, type Gemm } from '../linalg.ts';
import { createRng } from '../rng.ts';

export interface PcaOptions {
  seed?: number;
  gemm?: Gemm;
  /** 'auto' (default): exact when d <= exactMaxD, else randomized */
  solver?: 'auto' | 'exact' | 'randomized';
  exactMaxD?: number;
  /** randomized: power iterations (default 4) and oversampling (default 10) */
  powerIterations?: number;
  oversample?: number;
  isCancelled?: () => boolean;
}

export interface PcaResult {
  /** n x nComponents scores (X - mean) * components^T */
  projected: Float32Array;
  /** nComponents x d, rows are unit principal axes, by decreasing variance */
  components: Float32Array;
  /** nComponents variances along the axes (denominator n - 1) */
  explainedVariance: Float32Array;
  /** d column means */
  mean: Float32Array;
}

/**
 * Symmetric eigen-decomposition by cyclic Jacobi rotations. A (m x m, row-major, Float64) is destroyed. Returns the
 * eigenvalues in decreasing order and the eigenvectors as the COLUMNS of V (m x m row-major) in the same order.
 */
export function jacobiEigen(A: Float64Array, m: number, maxSweeps = 60): { values: Float64Array; vectors: Float64Array } {
  const V = new Float64Array(m * m);
  for (let i = 0; i < m; i++) V[i * m + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0, diag = 0;
    for (let i = 0; i < m; i++) {
      diag += A[i * m + i] * A[i * m + i];
      for (let j = i + 1; j < m; j++) off += A[i * m + j] * A[i * m + j];
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < m - 1; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = A[p * m + q];
        if (Math.abs(apq) < 1e-300) continue;
        const app = A[p * m + p], aqq = A[q * m + q];
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = A[k * m + p], akq = A[k * m + q];
          A[k * m + p] = c * akp - s * akq;
          A[k * m + q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = A[p * m + k], aqk = A[q * m + k];
          A[p * m + k] = c * apk - s * aqk;
          A[q * m + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = V[k * m + p], vkq = V[k * m + q];
          V[k * m + p] = c * vkp - s * vkq;
          V[k * m + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => A[b * m + b] - A[a * m + a]);
  const values = new Float64Array(m);
  const vectors = new Float64Array(m * m);
  for (let c = 0; c < m; c++) {
    const src = order[c];
    values[c] = A[src * m + src];
    for (let r = 0; r < m; r++) vectors[r * m + c] = V[r * m + src];
  }
  return { values, vectors };
}

/** Orthonormalize the l columns of Q (n x l row-major, Float64) in place by modified Gram-Schmidt (twice). */
export function orthonormalizeColumns(Q: Float64Array, n: number, l: number): void {
  // on a column-major copy: each column contiguous (the row-major walk strided by l and took 4 s for 19k x 138); the
  // same operations in the same order, so the same result to the bit
  const C = new Float64Array(n * l);
  for (let r = 0; r < n; r++) for (let c = 0; c < l; c++) C[c * n + r] = Q[r * l + c];
  for (let pass = 0; pass < 2; pass++) {
    for (let c = 0; c < l; c++) {
      const oc = c * n;
      for (let p = 0; p < c; p++) {
        const op = p * n;
        let s = 0;
        for (let r = 0; r < n; r++) s += C[oc + r] * C[op + r];
        for (let r = 0; r < n; r++) C[oc + r] -= s * C[op + r];
      }
      let nn = 0;
      for (let r = 0; r < n; r++) nn += C[oc + r] * C[oc + r];
      const inv = nn > 1e-300 ? 1 / Math.sqrt(nn) : 0;
      for (let r = 0; r < n; r++) C[oc + r] *= inv;
    }
  }
  for (let r = 0; r < n; r++) for (let c = 0; c < l; c++) Q[r * l + c] = C[c * n + r];
}

function columnMeans(X: Float32Array, n: number, d: number): Float64Array {
  const acc = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let p = 0; p < d; p++) acc[p] += X[o + p];
  }
  for (let p = 0; p < d; p++) acc[p] /= n;
  return acc;
}

/** Deterministic sign: the entry of largest magnitude of every component is positive. */
function fixSigns(C: Float32Array, k: number, d: number): Int8Array {
  const flips = new Int8Array(k);
  for (let c = 0; c < k; c++) {
    let best = 0, bi = 0;
    for (let p = 0; p < d; p++) { const v = Math.abs(C[c * d + p]); if (v > best) { best = v; bi = p; } }
    flips[c] = C[c * d + bi] < 0 ? -1 : 1;
    if (flips[c] < 0) for (let p = 0; p < d; p++) C[c * d + p] = -C[c * d + p];
  }
  return flips;
}

/** Scores (X - mean) * C^T for all rows, through the Gemm in row blocks. */
async function project(X: Float32Array, n: number, d: number, C: Float32Array, k: number, mean: Float64Array, gemm: Gemm): Promise<Float32Array> {
  // Bt must be d x k: the transposed components
  const Ct = new Float32Array(d * k);
  for (let c = 0; c < k; c++) for (let p = 0; p < d; p++) Ct[p * k + c] = C[c * d + p];
  const shift = new Float64Array(k);
  for (let c = 0; c < k; c++) { let s = 0; for (let p = 0; p < d; p++) s += mean[p] * C[c * d + p]; shift[c] = s; }
  const out = new Float32Array(n * k);
  const block = Math.max(1, Math.floor((16 << 20) / Math.max(1, d)));
  for (let b0 = 0; b0 < n; b0 += block) {
    const b1 = Math.min(n, b0 + block);
    const P = await gemm(X.subarray(b0 * d, b1 * d), b1 - b0, Ct, k, d);
    for (let r = 0; r < b1 - b0; r++) for (let c = 0; c < k; c++) out[(b0 + r) * k + c] = P[r * k + c] - shift[c];
  }
  return out;
}

/** PCA of X (n x d) to nComponents dimensions. */
export async function pca(X: Float32Array, n: number, d: number, nComponents: number, opts: PcaOptions = {}): Promise<PcaResult> {
  if (!Number.isInteger(n) || n < 2) throw badArg('n', `need at least 2 rows, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw badArg('d', `must be a positive integer, got ${d}`);
  if (X.length < n * d) throw badArg('X', `has ${X.length} values, expected n*d = ${n * d}`);
  if (!Number.isInteger(nComponents) || nComponents < 1) throw badArg('nComponents', `must be a positive integer, got ${nComponents}`);
  if (nComponents > Math.min(n, d)) throw badArg('nComponents', `${nComponents} exceeds min(n, d) = ${Math.min(n, d)}`);
  const gemm = opts.gemm ?? gemmJs;
  const solver = opts.solver ?? 'auto';
  const exact = solver === 'exact' || (solver === 'auto' && d <= (opts.exactMaxD ?? 128));
  const mean = columnMeans(X, n, d);
  const k = nComponents;
  const components = new Float32Array(k * d);
  const explainedVariance = new Float32Array(k);
  const cancelled = () => { if (opts.isCancelled?.()) throw new AppError('CANCELLED', 'PCA cancelled'); };

  if (exact) {
    // covariance through the Gemm on the centered, transposed data in column blocks of rows
    const cov = new Float64Array(d * d);
    const block = Math.max(1, Math.floor((16 << 20) / Math.max(1, d)));
    for (let b0 = 0; b0 < n; b0 += block) {
      cancelled();
      const b1 = Math.min(n, b0 + block), rows = b1 - b0;
      const Xc = new Float32Array(rows * d);
      for (let r = 0; r < rows; r++) for (let p = 0; p < d; p++) Xc[r * d + p] = X[(b0 + r) * d + p] - mean[p];
      const XcT = new Float32Array(d * rows);
      for (let r = 0; r < rows; r++) for (let p = 0; p < d; p++) XcT[p * rows + r] = Xc[r * d + p];
      const G = await gemm(XcT, d, Xc, d, rows);
      for (let t = 0; t < d * d; t++) cov[t] += G[t];
    }
    for (let t = 0; t < d * d; t++) cov[t] /= n - 1;
    const { values, vectors } = jacobiEigen(cov, d);
    for (let c = 0; c < k; c++) {
      explainedVariance[c] = Math.max(0, values[c]);
      for (let p = 0; p < d; p++) components[c * d + p] = vectors[p * d + c];
    }
  } else {
    const rng = createRng(opts.seed ?? 0);
    const l = Math.min(k + (opts.oversample ?? 10), Math.min(n, d));
    const q = opts.powerIterations ?? 4;
    // Omega: d x l gaussian (row-major == the Bt layout the Gemm wants)
    const Omega = new Float32Array(d * l);
    for (let t = 0; t < d * l; t++) Omega[t] = rng.normal();
    const Q = new Float64Array(n * l);
    const Qt32 = new Float32Array(l * n);
    // Y = Xc * Omega  (n x l)
    const mulXc = async (Bt: Float32Array): Promise<void> => {
      const shift = new Float64Array(l);
      for (let p = 0; p < d; p++) for (let c = 0; c < l; c++) shift[c] += mean[p] * Bt[p * l + c];
      const block = Math.max(1, Math.floor((16 << 20) / Math.max(1, d)));
      for (let b0 = 0; b0 < n; b0 += block) {
        const b1 = Math.min(n, b0 + block);
        const P = await gemm(X.subarray(b0 * d, b1 * d), b1 - b0, Bt, l, d);
        for (let r = 0; r < b1 - b0; r++) for (let c = 0; c < l; c++) Q[(b0 + r) * l + c] = P[r * l + c] - shift[c];
      }
    };
    // Z = Q^T Xc (l x d): Gemm(A = Q^T [l x n], Bt = X [n x d])
    const mulQtXc = async (): Promise<Float64Array> => {
      const qsum = new Float64Array(l);
      for (let r = 0; r < n; r++) for (let c = 0; c < l; c++) { const v = Q[r * l + c]; Qt32[c * n + r] = v; qsum[c] += v; }
      const Z = await gemm(Qt32, l, X, d, n);
      const out = new Float64Array(l * d);
      for (let c = 0; c < l; c++) for (let p = 0; p < d; p++) out[c * d + p] = Z[c * d + p] - qsum[c] * mean[p];
      return out;
    };
    await mulXc(Omega);
    orthonormalizeColumns(Q, n, l);
    for (let it = 0; it < q; it++) {
      cancelled();
      const Z = await mulQtXc(); // l x d; its transpose d x l is the next Bt
      // a fresh buffer every time: a Gemm may cache its Bt operand by identity
      const Bt32 = new Float32Array(d * l);
      for (let c = 0; c < l; c++) for (let p = 0; p < d; p++) Bt32[p * l + c] = Z[c * d + p];
      // orthonormalize the d x l block too (stabilizes the power iteration)
      const Zt = new Float64Array(d * l);
      for (let t = 0; t < d * l; t++) Zt[t] = Bt32[t];
      orthonormalizeColumns(Zt, d, l);
      for (let t = 0; t < d * l; t++) Bt32[t] = Zt[t];
      await mulXc(Bt32);
      orthonormalizeColumns(Q, n, l);
    }
    cancelled();
    const B = await mulQtXc(); // l x d, Xc ~= Q B
    // B B^T = U S^2 U^T; right singular vectors V = B^T U / S
    const BBt = new Float64Array(l * l);
    for (let i = 0; i < l; i++) for (let j = i; j < l; j++) {
      let s = 0;
      for (let p = 0; p < d; p++) s += B[i * d + p] * B[j * d + p];
      BBt[i * l + j] = s; BBt[j * l + i] = s;
    }
    const { values, vectors } = jacobiEigen(BBt, l);
    for (let c = 0; c < k; c++) {
      const s2 = Math.max(values[c], 0);
      const s = Math.sqrt(s2);
      explainedVariance[c] = s2 / (n - 1);
      const inv = s > 0 ? 1 / s : 0;
      for (let p = 0; p < d; p++) {
        let acc = 0;
        for (let i = 0; i < l; i++) acc += B[i * d + p] * vectors[i * l + c];
        components[c * d + p] = acc * inv;
      }
    }
  }
  fixSigns(components, k, d);
  cancelled();
  const projected = await project(X, n, d, components, k, mean, gemm);
  return { projected, components, explainedVariance, mean: Float32Array.from(mean) };
}
