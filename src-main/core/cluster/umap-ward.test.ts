import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runClustering } from '../../algo/cluster/run.ts';
import { loadC3, PEER_RUNS } from '../../testing/map-data.ts';
import { createOrtGemm } from '../gemm-ort.ts';
import { createParallelSgdRunner } from '../workers/sgd-runner.ts';

describe('UMAP-50 + Ward (the product path) vs the reference umap-learn + sklearn pipeline', () => {
  it('reaches the reference AMI within 0.02 on c3, with the SGD on two threads, and records the reduction', async () => {
    const { X, y, n, d } = loadC3();
    const peers = readFileSync(PEER_RUNS, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
      .filter((r) => r.tag === 'c3_5000x128' && r.method === 'umap50_ward');
    expect(peers.length).toBeGreaterThan(0);
    const refAmi = Math.max(...peers.map((r) => r.quality.AMI as number));
    const gemm = await createOrtGemm(2);
    const sgdRunner = createParallelSgdRunner(2);
    try {
      const out = await runClustering({ X, n, d, labelsTrue: y }, { algo: 'ward', k: 50, seed: 0 }, { gemm, sgdRunner });
      console.log(JSON.stringify({ ami: out.metrics.ami, refAmi, reduceS: out.timings.reduce / 1000, helperChunks: sgdRunner.stats() }));
      expect(out.metrics.clusters).toBe(50);
      expect(out.metrics.ami).toBeGreaterThanOrEqual(refAmi - 0.02);
      expect(out.record.reduce).toMatchObject({ method: 'umap', dims: 50, nNeighbors: 30, minDist: 0 });
    } finally {
      sgdRunner[Symbol.dispose]();
      await gemm.release();
    }
  }, 300_000);
});
