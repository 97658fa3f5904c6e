/** The map task, run in a worker: progressive snapshots go back to the parent at most every 400 ms. */
import { computeMap, type MapOutput, type MapParams } from '../../algo/map/run.ts';
import { warmGemm } from '../workers/warm.ts';
import { workerCount } from '../workers/pool.ts';
import { createParallelSgdRunner } from '../workers/sgd-runner.ts';
import { createParallelTsneRunner } from '../workers/tsne-runner.ts';
import type { TaskContext } from '../workers/tasks.ts';

export interface MapTaskPayload {
  X: Float32Array;
  n: number;
  d: number;
  params: MapParams;
  labels?: Int32Array | null;
  quality?: boolean;
}

export async function mapTask(p: MapTaskPayload, ctx: TaskContext): Promise<{ result: MapOutput; transfer: ArrayBuffer[] }> {
  await using gemm = await warmGemm(workerCount());
  let lastSnap = 0;
  using sgdRunner = createParallelSgdRunner(workerCount());
  using tsneRunner = createParallelTsneRunner(p.params.method === 'tsne' ? workerCount() : 1);
  const out = await computeMap(p.X, p.n, p.d, p.params, {
    gemm, sgdRunner, tsneRunner, isCancelled: ctx.isCancelled,
    quality: p.quality || p.labels ? { labels: p.labels } : null,
    onProgress: (stage, done, total, snapshot) => {
      const now = Date.now();
      if (snapshot && now - lastSnap > 400) {
        lastSnap = now;
        ctx.progress(stage, done, total, snapshot.slice());
      } else ctx.progress(stage, done, total);
    },
  });
  return { result: out, transfer: [out.xy.buffer as ArrayBuffer] };
}
