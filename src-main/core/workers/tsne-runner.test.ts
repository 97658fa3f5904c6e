import { describe, expect, it } from 'vitest';
import { Tsne } from '../../algo/map/tsne.ts';
import { loadC3 } from '../../testing/map-data.ts';
import { createOrtGemm } from '../gemm-ort.ts';
import { createParallelTsneRunner, type ParallelTsneRunner } from './tsne-runner.ts';

const { X, d } = loadC3();

describe('parallel t-SNE gradient runner', () => {
  it('gives the same embedding as one thread with 2 and 3 threads, for Barnes-Hut, FFT and exact repulsion', async () => {
    const gemm = await createOrtGemm(1);
    const m = 1200, mX = X.subarray(0, m * d);
    const fit = async (method: 'bh' | 'fft' | 'exact', runner?: ParallelTsneRunner) => {
      const t = new Tsne({ seed: 3, nIter: 40, exaggerationIters: 20, method, gemm, runner });
      await t.initializeFit(mX, m, d);
      return t.run();
    };
    try {
      for (const method of ['bh', 'fft', 'exact'] as const) {
        const serial = await fit(method);
        expect(serial.every(Number.isFinite)).toBe(true);
        for (const threads of [2, 3]) {
          const runner = createParallelTsneRunner(threads, { startWaitMs: 60_000, adaptive: false });
          try {
            expect(await fit(method, runner)).toEqual(serial);
            const { chunks, helperChunks } = runner.stats();
            console.log(`${method}, ${threads} threads: helpers ran ${helperChunks} of ${chunks} chunks`);
            expect(helperChunks).toBeGreaterThan(0);
          } finally {
            runner[Symbol.dispose]();
          }
        }
      }
      // the adaptive runner (the map task's): whatever it picks per phase, the same embedding
      const runner = createParallelTsneRunner(2);
      try {
        expect(await fit('fft', runner)).toEqual(await fit('fft'));
        const s = runner.stats();
        expect(s.serialCalls + s.parallelCalls).toBeGreaterThan(0);
      } finally {
        runner[Symbol.dispose]();
      }
    } finally {
      await gemm.release();
    }
  }, 300_000);
});
