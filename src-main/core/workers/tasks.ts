/**
 * The typed task registry: every task a worker can run, by name. Each takes a structured-clonable payload (typed
 * arrays shared or transferred) and returns its result plus what to transfer back. `runTask(name, payload)` in pool.ts
 * takes its payload and result types from here, so a caller cannot send the wrong payload or cast the result.
 */
import { knnExact, type KnnResult, type Metric } from '../../algo/knn.ts';
import { embedTask } from '../embed/embed-worker.ts';
import { clusterTask } from '../cluster/cluster-task.ts';
import { mapTask } from '../map/map-task.ts';
import { limitTask } from '../embed/limit.ts';
import { sgdHelperTask } from './sgd-runner.ts';
import { tsneHelperTask } from './tsne-runner.ts';
import { nearDupTask, normalizeTask, similarTask, sweepTask } from '../curation/tasks.ts';
import { warmGemm, warmStats } from './warm.ts';
import { assessTask } from '../interop/import.ts';
import { streamKmeansTask } from '../interop/stream-cluster.ts';

export interface TaskContext {
  isCancelled(): boolean;
  progress(stage: string, done: number, total: number, extra?: unknown): void;
}

export type TaskFn<P, R> = (payload: P, ctx: TaskContext) => Promise<{ result: R; transfer?: ArrayBuffer[] }>;

export interface KnnPayload { X: Float32Array; n: number; d: number; k: number; metric: Metric }

async function knnTask(p: KnnPayload, ctx: TaskContext): Promise<{ result: KnnResult; transfer: ArrayBuffer[] }> {
  const gemm = await warmGemm(1);
  const r = await knnExact(p.X, p.n, p.d, p.k, {
    metric: p.metric, gemm, isCancelled: ctx.isCancelled, onProgress: (d, t) => ctx.progress('neighbours', d, t),
  });
  return { result: r, transfer: [r.indices.buffer as ArrayBuffer, r.distances.buffer as ArrayBuffer] };
}

/** What this worker has created and reused so far (for tests of the warm pool). */
async function warmStatsTask(_p: Record<string, never>, _ctx: TaskContext) {
  return { result: { ...warmStats(), threadId: (await import('node:worker_threads')).threadId } };
}

export const TASKS = {
  knn: knnTask,
  embed: embedTask,
  cluster: clusterTask,
  map: mapTask,
  similar: similarTask,
  neardup: nearDupTask,
  normalize: normalizeTask,
  sweep: sweepTask,
  sgd: sgdHelperTask,
  tsne: tsneHelperTask,
  embedLimit: limitTask,
  warmStats: warmStatsTask,
  assess: assessTask,
  streamKmeans: streamKmeansTask,
} satisfies Record<string, TaskFn<never, unknown>>;

export type TaskName = keyof typeof TASKS;
export type TaskPayload<N extends TaskName> = Parameters<(typeof TASKS)[N]>[0];
export type TaskResult<N extends TaskName> = Awaited<ReturnType<(typeof TASKS)[N]>>['result'];
