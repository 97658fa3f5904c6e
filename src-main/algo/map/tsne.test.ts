import { describe, expect, it } from 'vitest';
import { createOrtGemm } from '../../core/gemm-ort.ts';
import { readNpyLabels, readNpyMatrix } from '../../core/npy-file.ts';
import { MATRICES } from '../../testing/map-data.ts';
import { calibratePerplexity, chooseTsneMethod, fitTsne, Tsne, TSNE_AUTO_MIN_N, tsneRepulsionCost } from './tsne.ts';
import { knnLabelAgreement, trustworthiness } from './quality.ts';
import { loadC3, peerQuality } from '../../testing/map-data.ts';

const { X, y, n, d } = loadC3();
const gemmP = createOrtGemm(1);

describe('t-SNE pieces', () => {
  it('calibrates each row to the requested perplexity', () => {
    const m = 50, k = 31;
    const D = new Float32Array(m * k);
    for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) D[i * k + j] = (j + 1) * (0.5 + i / m);
    const P = calibratePerplexity(D, m, k, 10);
    for (let i = 0; i < m; i++) {
      let s = 0, h = 0;
      for (let j = 0; j < k; j++) { const p = P[i * k + j]; s += p; if (p > 0) h -= p * Math.log(p); }
      expect(s).toBeCloseTo(1, 5);
      expect(Math.exp(h)).toBeCloseTo(10, 2);
    }
  });
});

describe('t-SNE 2-D on c3_5000x128', () => {
  it('matches sklearn Barnes-Hut trustworthiness@10 and 10-NN label agreement (within 0.02)', async () => {
    const gemm = await gemmP;
    const peer = peerQuality('c3_5000x128', 'tsne2d');
    const snaps: number[] = [];
    // 600 iterations (250 exaggerated) keep the test short; the benchmark runs the full 1000
    const Y = await fitTsne(X, n, d, { gemm, seed: 3, nIter: 600, progressEvery: 200, onProgress: (it, total, emb) => { snaps.push(it); expect(total).toBe(600); expect(emb.length).toBe(2 * n); } });
    expect(snaps).toEqual([200, 400, 600]);
    expect(Y.every(Number.isFinite)).toBe(true);
    const trust = await trustworthiness(X, n, d, Y, 2, { gemm });
    const agree = knnLabelAgreement(Y, n, 2, y, 10);
    console.log(`tsne c3: trust ${trust.toFixed(4)} (peer ${peer.trust.toFixed(4)}), agree ${agree.toFixed(4)} (peer ${peer.agree.toFixed(4)})`);
    expect(trust).toBeGreaterThan(peer.trust - 0.02);
    expect(agree).toBeGreaterThan(peer.agree - 0.02);
  });
});

describe('t-SNE determinism and errors', () => {
  const m = 800, mX = X.subarray(0, m * d);
  it('same seed gives the identical embedding', async () => {
    const gemm = await gemmP;
    const a = await fitTsne(mX, m, d, { seed: 9, nIter: 60, gemm });
    const b = await fitTsne(mX, m, d, { seed: 9, nIter: 60, gemm });
    expect(b).toEqual(a);
    const t = new Tsne({ seed: 9, nIter: 60, gemm });
    expect(await t.initializeFit(mX, m, d)).toBe(60);
    let it = 0;
    while ((it = t.step()) < 60);
    expect(t.getEmbedding()).toEqual(a);
  });

  it('rejects bad parameters naming them, and cancels', async () => {
    await expect(fitTsne(mX, 50, d, { perplexity: 50 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringContaining('perplexity') });
    expect(() => new Tsne({ nComponents: 0 })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringContaining('nComponents') }));
    expect(() => new Tsne({ perplexity: 0 })).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringContaining('perplexity') }));
    // a small set with the default perplexity works (k clamped to n - 1, as sklearn)
    const small = await fitTsne(mX, 40, d, { nIter: 50 });
    expect(small.every(Number.isFinite)).toBe(true);
    let calls = 0;
    await expect(fitTsne(mX, m, d, { nIter: 100, isCancelled: () => ++calls > 10 })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('t-SNE repulsion schedule (auto)', () => {
  it('is Barnes-Hut for small inputs, FFT while the points are packed, Barnes-Hut once a large grid costs more', () => {
    expect(chooseTsneMethod('auto', TSNE_AUTO_MIN_N - 1, 0, true, null)).toBe('bh');
    expect(chooseTsneMethod('fft', 100, 500, false, null)).toBe('fft');
    expect(chooseTsneMethod('auto', 10000, 1e-3, true, null)).toBe('fft');
    expect(chooseTsneMethod('auto', 10000, 120, false, 'fft')).toBe('bh');
    // hysteresis: near the crossover the current method stays
    const c = tsneRepulsionCost(10000, 60, true);
    expect(c.fft).toBeGreaterThan(0.8 * c.bh);
    expect(c.bh).toBeGreaterThan(0.8 * c.fft);
    expect(chooseTsneMethod('auto', 10000, 60, true, 'fft')).toBe('fft');
    expect(chooseTsneMethod('auto', 10000, 60, true, 'bh')).toBe('bh');
  });
});

describe('t-SNE quality on Fashion-MNIST pixels (8,000 of fashion_t10k_784)', () => {
  const M = readNpyMatrix(`${MATRICES}fashion_t10k_784_X.npy`);
  const labels = readNpyLabels(`${MATRICES}fashion_t10k_784_y.npy`);
  const m = 8000, fX = M.data.subarray(0, m * M.cols), fy = labels.subarray(0, m);
  it('auto (FFT early, Barnes-Hut late) and FFT throughout keep the trustworthiness and label agreement of Barnes-Hut throughout', async () => {
    const gemm = await gemmP;
    const q: Record<string, { trust: number; agree: number }> = {};
    for (const method of ['bh', 'auto', 'fft'] as const) {
      const t = new Tsne({ gemm, seed: 1, nIter: 500, method });
      await t.initializeFit(fX, m, M.cols);
      const Y = await t.run();
      if (method === 'auto') { expect(t.methodIterations.fft).toBeGreaterThan(0); expect(t.methodIterations.bh).toBeGreaterThan(0); }
      q[method] = { trust: await trustworthiness(fX, m, M.cols, Y, 2, { gemm, metric: 'euclidean' }), agree: knnLabelAgreement(Y, m, 2, fy, 10) };
    }
    console.log(`fashion 8000: ${JSON.stringify(q)}`);
    for (const method of ['auto', 'fft']) {
      expect(q[method].trust).toBeGreaterThan(q.bh.trust - 0.005);
      expect(q[method].agree).toBeGreaterThan(q.bh.agree - 0.02);
    }
    expect(q.bh.trust).toBeGreaterThan(0.95);
  }, 600_000);
});
