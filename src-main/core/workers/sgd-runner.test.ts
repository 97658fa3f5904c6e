import { describe, expect, it } from 'vitest';
import { Umap } from '../../algo/map/umap.ts';
import { loadC3 } from '../../testing/map-data.ts';
import { createOrtGemm } from '../gemm-ort.ts';
import { createParallelSgdRunner } from './sgd-runner.ts';

const { X, d } = loadC3();

describe('parallel UMAP SGD runner', () => {
  it('gives the same embedding as one thread, with 2 and 3 threads, and serves a second fit', async () => {
    const gemm = await createOrtGemm(1);
    const m = 1500, mX = X.subarray(0, m * d);
    const fit = async (runner?: ReturnType<typeof createParallelSgdRunner>, seed = 3) => {
      const u = new Umap({ nComponents: 10, nNeighbors: 15, minDist: 0, seed, nEpochs: 120, gemm, sgdRunner: runner });
      await u.initializeFit(mX, m, d);
      return u.run();
    };
    try {
      const serial = await fit();
      for (const threads of [2, 3]) {
        const runner = createParallelSgdRunner(threads, { startWaitMs: 60_000 });
        try {
          expect(await fit(runner)).toEqual(serial);
          const { chunks, helperChunks } = runner.stats();
          console.log(`${threads} threads: helpers ran ${helperChunks} of ${chunks} chunks`);
          expect(helperChunks).toBeGreaterThan(0);
          expect(helperChunks).toBeLessThan(chunks);
          // the same runner, a new state (another seed): helpers restart on it
          expect(await fit(runner, 4)).toEqual(await fit(undefined, 4));
        } finally {
          runner[Symbol.dispose]();
        }
      }
    } finally {
      await gemm.release();
    }
  }, 120_000);
});
