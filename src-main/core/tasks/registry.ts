/**
 * The typed task registry: every task a worker can run, by name. Each takes a structured-clonable payload (typed
 * arrays shared or transferred) and returns its result plus what to transfer back. `runTask(name, payload)` in
 * workers/pool.ts takes its payload and result types from here (TaskRegistry below), so a caller cannot send the wrong
 * payload or cast the result. This room sits above the features (cluster, curation, embed, interop, map) and the
 * pool: nothing but the worker entry (worker.ts) imports it.
 */
import { knnExact, type KnnResult, type Metric } from '../../algo/knn.ts';
import { embedTask } from '../embed/embed-worker.ts';
import { clusterTask } from '../cluster/cluster-task.ts';
import { mapTask } from '../map/map-task.ts';
import { limitTask } from '../embed/limit.ts';
import { sgdHelperTask } from '../workers/sgd-runner.ts';
import { tsneHelperTask } from '../workers/tsne-runner.ts';
import { nearDupTask, normalizeTask, similarTask, sweepTask } from '../curation/tasks.ts';
import { warmGemm, warmStats } from '../workers/warm.ts';
import { assessTask } from '../interop/import.ts';
import { streamKmeansTask } from '../interop/stream-cluster.ts';
import { learnTask, projectTask } from '../learn/learn-task.ts';
import { faceFoldersTask } from '../embed/face-folders-task.ts';
import { textEmbedTask } from '../curation/text-tasks.ts';
import { splitPartsTask } from '../curation/split-task.ts';
import { libraryZonesTask } from '../curation/zones.ts';
import { matrixTask } from '../workers/matrix-task.ts';
import { assignTask, mergeMaxTask, mergePairsTask, suggestIndexTask, suggestPersonTask, suggestScoreTask, unknownGroupsTask } from '../curation/people-tasks.ts';
import type { TaskContext, TaskFn } from '../workers/tasks.ts';

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
  learn: learnTask,
  projectMetric: projectTask,
  faceFolders: faceFoldersTask,
  textEmbed: textEmbedTask,
  unknownGroups: unknownGroupsTask,
  mergePairs: mergePairsTask,
  mergeMax: mergeMaxTask,
  assign: assignTask,
  suggestIndex: suggestIndexTask,
  suggestScore: suggestScoreTask,
  suggestPerson: suggestPersonTask,
  splitParts: splitPartsTask,
  libraryZones: libraryZonesTask,
  matrix: matrixTask,
} satisfies Record<string, TaskFn<never, unknown>>;


declare module '../workers/pool.ts' {
  /** the registry's task types, seen by runTask (pool.ts declares the interface, empty) */
  interface TaskRegistry { tasks: typeof TASKS }
}
