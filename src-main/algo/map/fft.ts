/**
 * A mixed-radix complex FFT (Stockham autosort, radices 4, 2, 3, 5 and a generic odd radix) on split real/imaginary
 * Float64Arrays, for the FFT-accelerated t-SNE (tsne-gradient.ts): its grids are sized to 5-smooth lengths so that the
 * generic radix is never needed there. Unnormalized forward transform X[k] = sum_j x[j] exp(-2 pi i jk / n); the
 * inverse (without the 1/n) is the forward transform with the real and imaginary arrays swapped: fft(p, im, re).
 */

export interface FftPlan {
  readonly n: number;
  /** per stage: radix, sub-length m = n_stage / radix, stride s, twiddles (m * radix pairs) */
  readonly stages: ReadonlyArray<{ r: number; m: number; s: number; twr: Float64Array; twi: Float64Array }>;
  /** ping-pong buffers */
  readonly br: Float64Array;
  readonly bi: Float64Array;
}

/** Smallest 2^a 3^b 5^c >= x. */
export function smoothSize(x: number): number {
  let best = Infinity;
  for (let a = 1; a < 2 * x + 2; a *= 2) for (let b = a; b < 2 * x + 2; b *= 3) for (let c = b; c < 2 * x + 2; c *= 5) if (c >= x && c < best) best = c;
  return best;
}

function factorize(n: number): number[] {
  const f: number[] = [];
  let m = n;
  while (m % 4 === 0) { f.push(4); m /= 4; }
  for (const p of [2, 3, 5]) while (m % p === 0) { f.push(p); m /= p; }
  for (let p = 7; m > 1; p += 2) while (m % p === 0) { f.push(p); m /= p; }
  return f;
}

const plans = new Map<number, FftPlan>();

export function fftPlan(n: number): FftPlan {
  let p = plans.get(n);
  if (p) return p;
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`FFT length must be a positive integer, got ${n}`);
  const stages: Array<{ r: number; m: number; s: number; twr: Float64Array; twi: Float64Array }> = [];
  let len = n, s = 1;
  for (const r of factorize(n)) {
    const m = len / r;
    const twr = new Float64Array(m * r), twi = new Float64Array(m * r);
    for (let q = 0; q < m; q++) for (let j = 0; j < r; j++) {
      const a = (-2 * Math.PI * q * j) / len;
      twr[q * r + j] = Math.cos(a); twi[q * r + j] = Math.sin(a);
    }
    stages.push({ r, m, s, twr, twi });
    len = m; s *= r;
  }
  p = { n, stages, br: new Float64Array(n), bi: new Float64Array(n) };
  plans.set(n, p);
  return p;
}

const S3 = Math.sin((2 * Math.PI) / 3);
const C51 = Math.cos((2 * Math.PI) / 5), C52 = Math.cos((4 * Math.PI) / 5);
const S51 = Math.sin((2 * Math.PI) / 5), S52 = Math.sin((4 * Math.PI) / 5);

/** In-place forward FFT of (re, im), length plan.n, starting at offset 0 of both arrays. */
export function fft(plan: FftPlan, re: Float64Array, im: Float64Array): void {
  const n = plan.n;
  let xr = re, xi = im, yr = plan.br, yi = plan.bi;
  for (const { r, m, s, twr, twi } of plan.stages) {
    if (r === 4) {
      for (let q = 0; q < m; q++) {
        const w1r = twr[q * 4 + 1], w1i = twi[q * 4 + 1], w2r = twr[q * 4 + 2], w2i = twi[q * 4 + 2], w3r = twr[q * 4 + 3], w3i = twi[q * 4 + 3];
        for (let t = 0; t < s; t++) {
          const i0 = t + s * q, i1 = i0 + s * m, i2 = i1 + s * m, i3 = i2 + s * m;
          const a0r = xr[i0], a0i = xi[i0], a1r = xr[i1], a1i = xi[i1], a2r = xr[i2], a2i = xi[i2], a3r = xr[i3], a3i = xi[i3];
          const s02r = a0r + a2r, s02i = a0i + a2i, d02r = a0r - a2r, d02i = a0i - a2i;
          const s13r = a1r + a3r, s13i = a1i + a3i, d13r = a1r - a3r, d13i = a1i - a3i;
          const o = t + s * 4 * q;
          yr[o] = s02r + s13r; yi[o] = s02i + s13i;
          // b1 = d02 - i d13, b2 = s02 - s13, b3 = d02 + i d13
          const b1r = d02r + d13i, b1i = d02i - d13r;
          const b2r = s02r - s13r, b2i = s02i - s13i;
          const b3r = d02r - d13i, b3i = d02i + d13r;
          yr[o + s] = b1r * w1r - b1i * w1i; yi[o + s] = b1r * w1i + b1i * w1r;
          yr[o + 2 * s] = b2r * w2r - b2i * w2i; yi[o + 2 * s] = b2r * w2i + b2i * w2r;
          yr[o + 3 * s] = b3r * w3r - b3i * w3i; yi[o + 3 * s] = b3r * w3i + b3i * w3r;
        }
      }
    } else if (r === 2) {
      for (let q = 0; q < m; q++) {
        const wr = twr[q * 2 + 1], wi = twi[q * 2 + 1];
        for (let t = 0; t < s; t++) {
          const i0 = t + s * q, i1 = i0 + s * m;
          const ar = xr[i0], ai = xi[i0], br = xr[i1], bi = xi[i1];
          const o = t + s * 2 * q;
          yr[o] = ar + br; yi[o] = ai + bi;
          const dr = ar - br, di = ai - bi;
          yr[o + s] = dr * wr - di * wi; yi[o + s] = dr * wi + di * wr;
        }
      }
    } else if (r === 3) {
      for (let q = 0; q < m; q++) {
        const w1r = twr[q * 3 + 1], w1i = twi[q * 3 + 1], w2r = twr[q * 3 + 2], w2i = twi[q * 3 + 2];
        for (let t = 0; t < s; t++) {
          const i0 = t + s * q, i1 = i0 + s * m, i2 = i1 + s * m;
          const a0r = xr[i0], a0i = xi[i0], a1r = xr[i1], a1i = xi[i1], a2r = xr[i2], a2i = xi[i2];
          const sr = a1r + a2r, si = a1i + a2i, dr = a1r - a2r, di = a1i - a2i;
          const tr = a0r - 0.5 * sr, ti = a0i - 0.5 * si;
          const o = t + s * 3 * q;
          yr[o] = a0r + sr; yi[o] = a0i + si;
          // b1 = t - i S3 d, b2 = t + i S3 d
          const b1r = tr + S3 * di, b1i = ti - S3 * dr, b2r = tr - S3 * di, b2i = ti + S3 * dr;
          yr[o + s] = b1r * w1r - b1i * w1i; yi[o + s] = b1r * w1i + b1i * w1r;
          yr[o + 2 * s] = b2r * w2r - b2i * w2i; yi[o + 2 * s] = b2r * w2i + b2i * w2r;
        }
      }
    } else if (r === 5) {
      for (let q = 0; q < m; q++) {
        for (let t = 0; t < s; t++) {
          const i0 = t + s * q, i1 = i0 + s * m, i2 = i1 + s * m, i3 = i2 + s * m, i4 = i3 + s * m;
          const a0r = xr[i0], a0i = xi[i0];
          const s14r = xr[i1] + xr[i4], s14i = xi[i1] + xi[i4], d14r = xr[i1] - xr[i4], d14i = xi[i1] - xi[i4];
          const s23r = xr[i2] + xr[i3], s23i = xi[i2] + xi[i3], d23r = xr[i2] - xr[i3], d23i = xi[i2] - xi[i3];
          const t1r = a0r + C51 * s14r + C52 * s23r, t1i = a0i + C51 * s14i + C52 * s23i;
          const t2r = a0r + C52 * s14r + C51 * s23r, t2i = a0i + C52 * s14i + C51 * s23i;
          // u1 = S51 d14 + S52 d23, u2 = S52 d14 - S51 d23; b1 = t1 - i u1, b4 = t1 + i u1, b2 = t2 - i u2, b3 = t2 + i u2
          const u1r = S51 * d14r + S52 * d23r, u1i = S51 * d14i + S52 * d23i;
          const u2r = S52 * d14r - S51 * d23r, u2i = S52 * d14i - S51 * d23i;
          const o = t + s * 5 * q, tw = q * 5;
          yr[o] = a0r + s14r + s23r; yi[o] = a0i + s14i + s23i;
          let br = t1r + u1i, bi = t1i - u1r;
          yr[o + s] = br * twr[tw + 1] - bi * twi[tw + 1]; yi[o + s] = br * twi[tw + 1] + bi * twr[tw + 1];
          br = t2r + u2i; bi = t2i - u2r;
          yr[o + 2 * s] = br * twr[tw + 2] - bi * twi[tw + 2]; yi[o + 2 * s] = br * twi[tw + 2] + bi * twr[tw + 2];
          br = t2r - u2i; bi = t2i + u2r;
          yr[o + 3 * s] = br * twr[tw + 3] - bi * twi[tw + 3]; yi[o + 3 * s] = br * twi[tw + 3] + bi * twr[tw + 3];
          br = t1r - u1i; bi = t1i + u1r;
          yr[o + 4 * s] = br * twr[tw + 4] - bi * twi[tw + 4]; yi[o + 4 * s] = br * twi[tw + 4] + bi * twr[tw + 4];
        }
      }
    } else {
      // generic odd radix: an O(r^2) DFT per butterfly
      for (let q = 0; q < m; q++) {
        for (let t = 0; t < s; t++) {
          const o = t + s * r * q;
          for (let j = 0; j < r; j++) {
            let accr = 0, acci = 0;
            for (let k = 0; k < r; k++) {
              const a = (-2 * Math.PI * ((j * k) % r)) / r, cr = Math.cos(a), ci = Math.sin(a);
              const ir = t + s * (q + k * m);
              accr += xr[ir] * cr - xi[ir] * ci; acci += xr[ir] * ci + xi[ir] * cr;
            }
            const wr = twr[q * r + j], wi = twi[q * r + j];
            yr[o + j * s] = accr * wr - acci * wi; yi[o + j * s] = accr * wi + acci * wr;
          }
        }
      }
    }
    const tr = xr, ti = xi; xr = yr; xi = yi; yr = tr; yi = ti;
  }
  if (xr !== re) { re.set(xr.subarray(0, n)); im.set(xi.subarray(0, n)); }
}
