import { describe, expect, it } from 'vitest';
import { fft, fftPlan, smoothSize } from './fft.ts';

function dft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const n = re.length, R = new Float64Array(n), I = new Float64Array(n);
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) {
    const a = (-2 * Math.PI * ((j * k) % n)) / n;
    R[k] += re[j] * Math.cos(a) - im[j] * Math.sin(a); I[k] += re[j] * Math.sin(a) + im[j] * Math.cos(a);
  }
  return [R, I];
}

describe('mixed-radix FFT', () => {
  it('matches the direct DFT for radices 4, 2, 3, 5 and a generic one, and inverts with swapped parts', () => {
    for (const n of [1, 2, 3, 4, 5, 6, 8, 9, 12, 25, 30, 7, 14, 60, 90, 540]) {
      const re = new Float64Array(n), im = new Float64Array(n);
      for (let i = 0; i < n; i++) { re[i] = Math.sin(i * 1.3) + (i % 3); im[i] = Math.cos(i * 0.7) - 0.2; }
      const [R, I] = dft(re, im);
      const a = re.slice(), b = im.slice();
      fft(fftPlan(n), a, b);
      let err = 0, scale = 0;
      for (let k = 0; k < n; k++) { err = Math.max(err, Math.abs(a[k] - R[k]), Math.abs(b[k] - I[k])); scale = Math.max(scale, Math.abs(R[k]), Math.abs(I[k])); }
      expect(err).toBeLessThan(1e-12 * Math.max(1, scale));
      fft(fftPlan(n), b, a); // inverse, unnormalized
      for (let j = 0; j < n; j++) { expect(a[j] / n).toBeCloseTo(re[j], 12); expect(b[j] / n).toBeCloseTo(im[j], 12); }
    }
  });

  it('picks 5-smooth sizes', () => {
    expect(smoothSize(1)).toBe(1);
    expect(smoothSize(50)).toBe(50);
    expect(smoothSize(85)).toBe(90);
    expect(smoothSize(91)).toBe(96);
    expect(smoothSize(7)).toBe(8);
    expect(() => fftPlan(0)).toThrow(RangeError);
  });
});
