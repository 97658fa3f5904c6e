import { describe, expect, it } from 'vitest';
import { alignFace112, applyAffine, ARCFACE_TEMPLATE_112, invertAffine, landmarks68To5, umeyama, warpAffineBilinear } from './face-align.ts';
import { createRng } from './rng.ts';

describe('umeyama', () => {
  it('recovers a known similarity transform exactly', () => {
    const theta = 0.37, s = 1.7, tx = 12.5, ty = -3.25;
    const src = Float64Array.of(10, 20, 40, 22, 30, 35, 15, 50, 42, 49);
    const dst = new Float64Array(10);
    for (let i = 0; i < 5; i++) {
      const x = src[2 * i]!, y = src[2 * i + 1]!;
      dst[2 * i] = s * (Math.cos(theta) * x - Math.sin(theta) * y) + tx;
      dst[2 * i + 1] = s * (Math.sin(theta) * x + Math.cos(theta) * y) + ty;
    }
    const m = umeyama(src, dst);
    expect(m[0]).toBeCloseTo(s * Math.cos(theta), 10);
    expect(m[1]).toBeCloseTo(-s * Math.sin(theta), 10);
    expect(m[2]).toBeCloseTo(tx, 9);
    expect(m[3]).toBeCloseTo(s * Math.sin(theta), 10);
    expect(m[5]).toBeCloseTo(ty, 9);
  });

  it('is the least-squares optimum under noise (no perturbation does better)', () => {
    const r = createRng(7);
    const rng = () => r.next();
    const src = Float64Array.from({ length: 10 }, () => rng() * 100);
    const dst = Float64Array.from(src, (v, i) => (i % 2 ? 0.5 * v + 3 : 0.5 * v - 2) + (rng() - 0.5) * 4);
    const m = umeyama(src, dst);
    const err = (mm: Float64Array) => {
      let e = 0;
      for (let i = 0; i < 5; i++) {
        const [x, y] = applyAffine(mm, src[2 * i]!, src[2 * i + 1]!);
        e += (x - dst[2 * i]!) ** 2 + (y - dst[2 * i + 1]!) ** 2;
      }
      return e;
    };
    const best = err(m);
    for (let k = 0; k < 50; k++) {
      // perturb within the similarity family: a=e, b=-d
      const da = (rng() - 0.5) * 0.02, db = (rng() - 0.5) * 0.02, dx = rng() - 0.5, dy = rng() - 0.5;
      const p = Float64Array.of(m[0]! + da, m[1]! - db, m[2]! + dx, m[3]! + db, m[4]! + da, m[5]! + dy);
      expect(err(p)).toBeGreaterThanOrEqual(best - 1e-9);
    }
  });

  it('rejects degenerate input', () => {
    expect(() => umeyama([1, 1, 1, 1], [0, 0, 1, 1])).toThrow(/degenerate/);
    expect(() => umeyama([1, 1], [0, 0])).toThrow();
  });
});

describe('landmarks68To5', () => {
  it('uses the eye, nose and mouth indices', () => {
    const pts = new Float64Array(136);
    for (let i = 0; i < 68; i++) {
      pts[2 * i] = i;
      pts[2 * i + 1] = 1000 + i;
    }
    const f = landmarks68To5(pts);
    expect(Array.from(f)).toEqual([39, 1039, 45, 1045, 30, 1030, 54, 1054, 59, 1059]);
  });
});

describe('warpAffineBilinear', () => {
  const w = 9, h = 7;
  const img = new Uint8Array(w * h * 3);
  for (let i = 0; i < img.length; i++) img[i] = (i * 37) % 256;

  it('identity and integer translation copy pixels', () => {
    const id = warpAffineBilinear(img, w, h, 3, Float64Array.of(1, 0, 0, 0, 1, 0), w, h);
    expect(Array.from(id)).toEqual(Array.from(img));
    const t = warpAffineBilinear(img, w, h, 3, Float64Array.of(1, 0, -2, 0, 1, -1), w - 2, h - 1);
    for (let y = 0; y < h - 1; y++) for (let x = 0; x < w - 2; x++) for (let c = 0; c < 3; c++) {
      expect(t[(y * (w - 2) + x) * 3 + c]).toBe(img[((y + 1) * w + x + 2) * 3 + c]);
    }
  });

  it('interpolates half-pixel shifts and zero-fills outside', () => {
    const out = warpAffineBilinear(img, w, h, 3, Float64Array.of(1, 0, -0.5, 0, 1, 0), w, h);
    const exp = Math.round((img[0]! + img[3]!) / 2);
    expect(out[0]).toBe(exp);
    const far = warpAffineBilinear(img, w, h, 3, Float64Array.of(1, 0, 100, 0, 1, 100), 4, 4);
    expect(far.every((v) => v === 0)).toBe(true);
  });

  it('invertAffine inverts', () => {
    const m = Float64Array.of(1.2, -0.3, 5, 0.3, 1.2, -7);
    const inv = invertAffine(m);
    const [x, y] = applyAffine(inv, ...applyAffine(m, 3, 4));
    expect(x).toBeCloseTo(3, 12);
    expect(y).toBeCloseTo(4, 12);
  });
});

describe('alignFace112', () => {
  it('maps the 5 points onto the ArcFace template', () => {
    const five = Float64Array.of(100, 120, 160, 118, 131, 150, 105, 185, 155, 184);
    const img = new Uint8Array(300 * 300 * 3).fill(128);
    const { image, matrix } = alignFace112(img, 300, 300, five);
    expect(image.length).toBe(112 * 112 * 3);
    ARCFACE_TEMPLATE_112.forEach(([tx, ty], i) => {
      const [x, y] = applyAffine(matrix, five[2 * i]!, five[2 * i + 1]!);
      expect(Math.hypot(x - tx, y - ty)).toBeLessThan(4);
    });
  });
});
