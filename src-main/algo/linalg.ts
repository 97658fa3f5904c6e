/**
 * Dense linear-algebra kernels on row-major Float32Array matrices. Pure: no I/O. The hot product (A x B^T) goes through
 * a pluggable `Gemm` so that core/ can hand in onnxruntime's MatMul (MLAS, vectorized) while tests and the renderer
 * can use the portable JavaScript kernel below.
 */

/**
 * C[m x n] = A[m x d] * B[n x d]^T, where B is given transposed as Bt[d x n] (row-major). Returns C (row-major).
 * Implementations may return a view into a reused buffer that is only valid until the next call.
 */
export type Gemm = (A: Float32Array, m: number, Bt: Float32Array, n: number, d: number) => Promise<Float32Array> | Float32Array;

/** Portable kernel: i-k-j loop order over Bt rows, so the inner loop is a contiguous axpy the JIT vectorizes well. */
export const gemmJs: Gemm = (A, m, Bt, n, d) => {
  const C = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    const ai = i * d;
    for (let p = 0; p < d; p++) {
      const a = A[ai + p];
      if (a === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) C[ci + j] += a * Bt[bp + j];
    }
  }
  return C;
};

/** Transpose a row-major [rows x cols] matrix into a new [cols x rows] one. */
export function transpose(X: Float32Array, rows: number, cols: number): Float32Array {
  const T = new Float32Array(rows * cols);
  const B = 64;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) {
        const ri = i * cols;
        for (let j = j0; j < j1; j++) T[j * rows + i] = X[ri + j];
      }
    }
  }
  return T;
}

export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let p = 0;
  for (; p + 3 < d; p += 4) {
    s0 += a[ao + p] * b[bo + p];
    s1 += a[ao + p + 1] * b[bo + p + 1];
    s2 += a[ao + p + 2] * b[bo + p + 2];
    s3 += a[ao + p + 3] * b[bo + p + 3];
  }
  for (; p < d; p++) s0 += a[ao + p] * b[bo + p];
  return s0 + s1 + s2 + s3;
}

export function sqDist(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s0 = 0, s1 = 0;
  let p = 0;
  for (; p + 1 < d; p += 2) {
    const x = a[ao + p] - b[bo + p];
    const y = a[ao + p + 1] - b[bo + p + 1];
    s0 += x * x; s1 += y * y;
  }
  for (; p < d; p++) { const x = a[ao + p] - b[bo + p]; s0 += x * x; }
  return s0 + s1;
}

/** Squared L2 norm of every row. */
export function rowSqNorms(X: Float32Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dot(X, i * d, X, i * d, d);
  return out;
}

/** L2-normalize every row in place (zero rows stay zero). */
export function normalizeRowsInPlace(X: Float32Array, n: number, d: number): Float32Array {
  for (let i = 0; i < n; i++) {
    const o = i * d;
    const s = Math.sqrt(dot(X, o, X, o, d));
    if (s > 0) { const inv = 1 / s; for (let p = 0; p < d; p++) X[o + p] *= inv; }
  }
  return X;
}

/** Are all rows unit length (to float32 rounding)? Then normalizing would only copy. */
export function isUnitRows(X: Float32Array, n: number, d: number): boolean {
  for (let i = 0; i < n; i++) if (Math.abs(dot(X, i * d, X, i * d, d) - 1) > 1e-4) return false;
  return true;
}

/** A normalized copy. */
export function normalizeRows(X: Float32Array, n: number, d: number): Float32Array {
  return normalizeRowsInPlace(X.slice(0, n * d), n, d);
}

/** Mean of the rows listed in `idx` (or all rows) into a new vector of length d. */
export function meanRows(X: Float32Array, d: number, idx: ArrayLike<number>): Float32Array {
  const m = new Float32Array(d);
  const acc = new Float64Array(d);
  for (let t = 0; t < idx.length; t++) {
    const o = idx[t] * d;
    for (let p = 0; p < d; p++) acc[p] += X[o + p];
  }
  const inv = idx.length > 0 ? 1 / idx.length : 0;
  for (let p = 0; p < d; p++) m[p] = acc[p] * inv;
  return m;
}
