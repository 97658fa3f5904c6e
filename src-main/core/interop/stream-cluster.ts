/**
 * `cluster --embeddings X.parquet|DIR --algo minibatch-kmeans`: mini-batch k-means streaming the rows from Parquet
 * row groups (algo/cluster/minibatch-stream.ts) in a worker, so a matrix larger than memory clusters on one machine.
 */
import { CLUSTER_DEFAULTS } from '../../common/cluster-contract.ts';
import { minibatchKmeansStream } from '../../algo/cluster/minibatch-stream.ts';
import { silhouette, sizeDistribution } from '../../algo/metrics.ts';
import type { ClusterParams } from '../../common/types.ts';
import { warmGemm } from '../workers/warm.ts';
import { workerCount } from '../workers/pool.ts';
import type { TaskContext } from '../workers/tasks.ts';
import { openColumnar, readBatches, vectorColumn } from './columnar.ts';

export interface StreamKmeansPayload { path: string; vectorColumn: string; params: ClusterParams }
export interface StreamKmeansResult {
  labels: Int32Array; n: number; d: number; inertia: number; steps: number; epochs: number; parts: number; partsRead: number;
  metrics: { clusters: number; noise: number; noiseShare: number; sizes: { min: number; median: number; max: number; mean: number; singletons: number }; silhouette: number | null; silhouetteSample: number };
  top10: Array<{ cluster: number; size: number }>; tail10: Array<{ cluster: number; size: number }>;
}

export async function streamKmeansTask(p: StreamKmeansPayload, ctx: TaskContext): Promise<{ result: StreamKmeansResult; transfer: ArrayBuffer[] }> {
  const src = openColumnar(p.path);
  vectorColumn(src, p.vectorColumn);
  let d = 0;
  for await (const b of readBatches(src, { vectors: [p.vectorColumn] }, { parts: [0] })) d = b.vectors[p.vectorColumn].d;
  await using gemm = await warmGemm(workerCount());
  const r = await minibatchKmeansStream({
    n: src.rows, d, partRows: src.parts.map((x) => x.rows),
    readPart: async (i) => { for await (const b of readBatches(src, { vectors: [p.vectorColumn] }, { parts: [i] })) return b.vectors[p.vectorColumn].X; throw new Error('no part'); },
  }, {
    k: p.params.k!, metric: p.params.metric, seed: p.params.seed, batchSize: p.params.batchSize,
    maxEpochs: p.params.maxEpochs ?? CLUSTER_DEFAULTS.maxEpochs, gemm, isCancelled: ctx.isCancelled, onProgress: (s, dn, t) => ctx.progress(s, dn, t),
  });
  const sd = sizeDistribution(r.labels);
  let sil: number | null = null, silN = 0;
  if (sd.count >= 2 && r.sample.m > 2) {
    const s = await silhouette(r.sample.X, r.sample.m, d, r.sample.labels, { metric: p.params.metric ?? 'cosine', sampleSize: r.sample.m, seed: p.params.seed ?? 0, gemm });
    sil = Number.isFinite(s.score) ? s.score : null; silN = s.n;
  }
  const sizes = new Map<number, number>();
  for (const l of r.labels) sizes.set(l, (sizes.get(l) ?? 0) + 1);
  const bySize = [...sizes].map(([cluster, size]) => ({ cluster, size })).sort((a, b) => b.size - a.size || a.cluster - b.cluster);
  return {
    result: {
      labels: r.labels, n: src.rows, d, inertia: r.inertia, steps: r.steps, epochs: r.epochs, parts: src.parts.length, partsRead: r.partsRead,
      metrics: { clusters: sd.count, noise: sd.noise, noiseShare: sd.noiseShare, sizes: { min: sd.min, median: sd.median, max: sd.max, mean: sd.mean, singletons: sd.singletons }, silhouette: sil, silhouetteSample: silN },
      top10: bySize.slice(0, 10), tail10: bySize.slice(-10).reverse(),
    },
    transfer: [r.labels.buffer as ArrayBuffer],
  };
}
