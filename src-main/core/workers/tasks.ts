/**
 * The tasks a worker can run. Each takes a structured-clonable payload (typed arrays shared or transferred) and returns
 * its result plus what to transfer back. Features register their tasks here.
 */
import { knnExact, type Metric } from '../../algo/knn.ts';
import { createOrtGemm } from '../gemm-ort.ts';
import { embedTask, type EmbedTaskPayload } from '../embed/embed-worker.ts';
import { clusterTask, type ClusterTaskPayload } from '../cluster/cluster-task.ts';
import { mapTask, type MapTaskPayload } from '../map/map-task.ts';
import { limitTask, type LimitPayload } from '../embed/limit.ts';
import { sgdHelperTask, type SgdHelperPayload } from './sgd-runner.ts';
import { nearDupTask, similarTask, sweepTask, type NearDupPayload, type SimilarPayload, type SweepPayload } from '../curation/tasks.ts';

export interface TaskContext {
  isCancelled(): boolean;
  progress(stage: string, done: number, total: number, extra?: unknown): void;
}

export type TaskFn = (payload: never, ctx: TaskContext) => Promise<{ result: unknown; transfer?: ArrayBuffer[] }>;

export const TASKS: Record<string, TaskFn> = {
  async knn(p: { X: Float32Array; n: number; d: number; k: number; metric: Metric }, ctx: TaskContext) {
    const gemm = await createOrtGemm(1);
    try {
      const r = await knnExact(p.X, p.n, p.d, p.k, {
        metric: p.metric, gemm, isCancelled: ctx.isCancelled, onProgress: (d, t) => ctx.progress('neighbours', d, t),
      });
      return { result: r, transfer: [r.indices.buffer as ArrayBuffer, r.distances.buffer as ArrayBuffer] };
    } finally {
      await gemm.release();
    }
  },
};

TASKS.embed = (async (p: EmbedTaskPayload, ctx: TaskContext) => embedTask(p, ctx)) as TaskFn;
TASKS.cluster = (async (p: ClusterTaskPayload, ctx: TaskContext) => clusterTask(p, ctx)) as TaskFn;
TASKS.map = (async (p: MapTaskPayload, ctx: TaskContext) => mapTask(p, ctx)) as TaskFn;
TASKS.similar = (async (p: SimilarPayload, ctx: TaskContext) => similarTask(p, ctx)) as TaskFn;
TASKS.neardup = (async (p: NearDupPayload, ctx: TaskContext) => nearDupTask(p, ctx)) as TaskFn;
TASKS.sweep = (async (p: SweepPayload, ctx: TaskContext) => sweepTask(p, ctx)) as TaskFn;
TASKS.sgd = (async (p: SgdHelperPayload, ctx: TaskContext) => sgdHelperTask(p, ctx)) as TaskFn;
TASKS.embedLimit = (async (p: LimitPayload, ctx: TaskContext) => limitTask(p, ctx)) as TaskFn;
