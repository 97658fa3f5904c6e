import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { allocTsneState, tsneRepulsion, type TsneGradientMethod } from './tsne-gradient.ts';

/** Five blobs of 2-D points spread over about 40 x 20 units (the extent of a converged t-SNE map of a few thousand). */
function layout(n: number, spread = 1): Float32Array {
  const rng = createRng(5);
  const Y = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const c = i % 5;
    Y[2 * i] = (c * 8 + (rng.next() - 0.5) * 6) * spread;
    Y[2 * i + 1] = ((c % 2) * 10 + rng.normal() * 2) * spread;
  }
  return Y;
}

const noP = (n: number) => ({ indptr: new Int32Array(n + 1), indices: new Int32Array(0), values: new Float32Array(0) });

function compare(n: number, spread: number): Record<'bh' | 'fft', { rep: number; z: number }> {
  const Y = layout(n, spread);
  const res = {} as Record<TsneGradientMethod, { rep: Float64Array; sumQ: number }>;
  for (const m of ['exact', 'bh', 'fft'] as const) res[m] = tsneRepulsion(allocTsneState(n, m, noP(n), Y));
  const out = {} as Record<'bh' | 'fft', { rep: number; z: number }>;
  for (const m of ['bh', 'fft'] as const) {
    let num = 0, den = 0;
    for (let t = 0; t < 2 * n; t++) { num += (res[m].rep[t] - res.exact.rep[t]) ** 2; den += res.exact.rep[t] ** 2; }
    out[m] = { rep: Math.sqrt(num / den), z: Math.abs(res[m].sumQ - res.exact.sumQ) / res.exact.sumQ };
  }
  return out;
}

describe('t-SNE repulsion: FFT interpolation and Barnes-Hut against all pairs', () => {
  it('agree with the exact forces and normalization on a spread layout', () => {
    const e = compare(1500, 1);
    console.log(`spread layout: BH rel err ${e.bh.rep.toExponential(2)} (Z ${e.bh.z.toExponential(2)}), FFT ${e.fft.rep.toExponential(2)} (Z ${e.fft.z.toExponential(2)})`);
    expect(e.fft.rep).toBeLessThan(0.02);
    expect(e.fft.z).toBeLessThan(2e-3);
    expect(e.bh.rep).toBeLessThan(0.05);
    expect(e.fft.rep).toBeLessThan(2 * e.bh.rep);
  });

  it('agree on a tiny layout (early exaggeration: the whole map within one unit) and a wide sparse one', () => {
    const tiny = compare(800, 1e-3);
    expect(tiny.fft.rep).toBeLessThan(1e-6);
    expect(tiny.fft.z).toBeLessThan(1e-6);
    // 800 points over ~160 x 80 units: about one box (1 unit) between neighbours, where 3-node interpolation of the
    // squared Cauchy kernel is at its least accurate (FIt-SNE's default boxes); dense maps average this out
    const wide = compare(800, 4);
    console.log(`wide sparse layout: BH rel err ${wide.bh.rep.toExponential(2)} (Z ${wide.bh.z.toExponential(2)}), FFT ${wide.fft.rep.toExponential(2)} (Z ${wide.fft.z.toExponential(2)})`);
    expect(wide.fft.rep).toBeLessThan(0.06);
    expect(wide.fft.z).toBeLessThan(0.03);
  });
});
