/**
 * Face alignment: 68→5 landmark reduction, 2-D similarity fit (Umeyama) and bilinear affine warp.
 * Pure numeric code on typed arrays.
 */

/** ArcFace 112×112 reference points: left eye, right eye, nose, left mouth corner, right mouth corner. */
export const ARCFACE_TEMPLATE_112: ReadonlyArray<readonly [number, number]> = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** 2×3 affine matrix, row-major: [a, b, c, d, e, f] maps (x,y) → (a x + b y + c, d x + e y + f). */
export type Affine = Float64Array;

/**
 * 5 points (x0,y0,...,x4,y4) from 68 iBUG landmarks given as (x,y) pairs:
 * eye centres = mean of 37,38,40,41 and 43,44,46,47; nose tip 30; mouth corners mean(48,60), mean(54,64).
 */
export function landmarks68To5(pts: ArrayLike<number>): Float64Array {
  if (pts.length < 136) throw new RangeError(`landmarks68To5: need 136 values, got ${pts.length}`);
  const x = (i: number) => pts[2 * i]!;
  const y = (i: number) => pts[2 * i + 1]!;
  const mean = (idx: number[], f: (i: number) => number) => idx.reduce((s, i) => s + f(i), 0) / idx.length;
  const le = [37, 38, 40, 41];
  const re = [43, 44, 46, 47];
  return Float64Array.of(
    mean(le, x), mean(le, y),
    mean(re, x), mean(re, y),
    x(30), y(30),
    (x(48) + x(60)) / 2, (y(48) + y(60)) / 2,
    (x(54) + x(64)) / 2, (y(54) + y(64)) / 2,
  );
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation; no reflection) mapping
 * src points onto dst points — Umeyama (1991) for 2-D: with centred points, the optimum is
 * R·c = U·S·Vᵀ·trace(DS)/σ², computed here by SVD of the 2×2 cross-covariance.
 * src/dst: flat (x,y) pairs of equal length. Returns the 2×3 matrix.
 */
export function umeyama(src: ArrayLike<number>, dst: ArrayLike<number>): Affine {
  const n = src.length / 2;
  if (n < 2 || src.length !== dst.length || !Number.isInteger(n)) throw new RangeError('umeyama: need ≥2 matching (x,y) pairs');
  let msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[2 * i]!; msy += src[2 * i + 1]!;
    mdx += dst[2 * i]!; mdy += dst[2 * i + 1]!;
  }
  msx /= n; msy /= n; mdx /= n; mdy /= n;
  // cross-covariance Σ = (1/n) Σ d sᵀ and source variance
  let s00 = 0, s01 = 0, s10 = 0, s11 = 0, varS = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[2 * i]! - msx, sy = src[2 * i + 1]! - msy;
    const dx = dst[2 * i]! - mdx, dy = dst[2 * i + 1]! - mdy;
    s00 += dx * sx; s01 += dx * sy; s10 += dy * sx; s11 += dy * sy;
    varS += sx * sx + sy * sy;
  }
  s00 /= n; s01 /= n; s10 /= n; s11 /= n; varS /= n;
  if (varS <= 0) throw new RangeError('umeyama: degenerate source points');
  // For 2×2, the rotation maximizing trace(Rᵀ Σ) with det R = +1 has angle atan2(s10 - s01, s00 + s11),
  // and trace(D S) = (s00 + s11) cosθ + (s10 - s01) sinθ = hypot(s00 + s11, s10 - s01).
  const p = s00 + s11;
  const q = s10 - s01;
  const h = Math.hypot(p, q);
  const cos = h > 0 ? p / h : 1;
  const sin = h > 0 ? q / h : 0;
  const scale = h / varS;
  const a = scale * cos, b = -scale * sin, d = scale * sin, e = scale * cos;
  return Float64Array.of(a, b, mdx - (a * msx + b * msy), d, e, mdy - (d * msx + e * msy));
}

export function applyAffine(m: Affine, x: number, y: number): [number, number] {
  return [m[0]! * x + m[1]! * y + m[2]!, m[3]! * x + m[4]! * y + m[5]!];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m as unknown as [number, number, number, number, number, number];
  const det = a * e - b * d;
  if (det === 0) throw new RangeError('invertAffine: singular matrix');
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return Float64Array.of(ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f));
}

/**
 * Warp an interleaved uint8 image with `m` (source → destination pixel coordinates, OpenCV
 * convention: integer coordinates are pixel centres) into a dw×dh image, bilinear, constant 0 border.
 */
export function warpAffineBilinear(
  src: Uint8Array,
  sw: number,
  sh: number,
  channels: number,
  m: Affine,
  dw: number,
  dh: number,
): Uint8Array {
  const inv = invertAffine(m);
  const out = new Uint8Array(dw * dh * channels);
  const px = (x: number, y: number, c: number) => (x < 0 || y < 0 || x >= sw || y >= sh ? 0 : src[(y * sw + x) * channels + c]!);
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const sx = inv[0]! * x + inv[1]! * y + inv[2]!;
      const sy = inv[3]! * x + inv[4]! * y + inv[5]!;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      if (x0 < -1 || y0 < -1 || x0 >= sw || y0 >= sh) continue;
      const o = (y * dw + x) * channels;
      for (let c = 0; c < channels; c++) {
        const v =
          (1 - fy) * ((1 - fx) * px(x0, y0, c) + fx * px(x0 + 1, y0, c)) +
          fy * ((1 - fx) * px(x0, y0 + 1, c) + fx * px(x0 + 1, y0 + 1, c));
        out[o + c] = Math.min(255, Math.max(0, Math.round(v)));
      }
    }
  }
  return out;
}

/** Align a face to the ArcFace 112×112 template from 5 points (flat x,y). Returns RGB bytes and the matrix. */
export function alignFace112(rgb: Uint8Array, width: number, height: number, five: ArrayLike<number>): { image: Uint8Array; matrix: Affine } {
  const dst = new Float64Array(10);
  ARCFACE_TEMPLATE_112.forEach(([x, y], i) => {
    dst[2 * i] = x;
    dst[2 * i + 1] = y;
  });
  const matrix = umeyama(five, dst);
  return { image: warpAffineBilinear(rgb, width, height, 3, matrix, 112, 112), matrix };
}
