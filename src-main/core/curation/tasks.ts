/** Worker tasks of the workbench: nearest neighbours of one item, near-duplicate groups, parameter sweeps, splits. */
import type { SweepKind } from '../../common/jobs.ts';
import { dbcv } from '../../algo/cluster/dbcv.ts';
import { constrainedSweep, dbscanEpsSweep, elbowSweep, labelledScore, silhouetteSweep, type SweepResult } from '../../algo/cluster/sweep.ts';
import { runReduce } from '../../algo/cluster/reduce.ts';
import { kmeans } from '../../algo/cluster/kmeans.ts';
import { silhouette } from '../../algo/metrics.ts';
import { knnExact } from '../../algo/knn.ts';
import { normalizeRows, normalizeRowsInPlace } from '../../algo/linalg.ts';
import { similarRows, similarToRows, similarToVector } from '../../algo/topk.ts';
import { nearDuplicateGroups, type NearDupGroup } from '../../algo/neardup.ts';
import { AppError } from '../../common/errors.ts';
import { workerCount } from '../workers/pool.ts';
import { warmGemm } from '../workers/warm.ts';
import type { TaskContext } from '../workers/tasks.ts';
import type { SCORE_SPACES, SIMILAR_COMBINES, SWEEP_SCORES } from '../../common/schema-kit.ts';

export interface SimilarPayload {
  X: Float32Array; n: number; d: number; row: number; k: number;
  /** the rows of X are L2-normalized already (the service keeps a normalized copy), so none is made here */
  normalized?: boolean;
  /** "more like these": several rows (then `row` is ignored), combined by the normalized mean or the max similarity */
  rows?: number[];
  combine?: (typeof SIMILAR_COMBINES)[number];
  /** a vector from outside the matrix (a text's embedding, L2-normalized): ranked against it instead (`row` ignored) */
  query?: Float32Array;
  /** with `query`: only these rows are ranked (a search's other filters) */
  among?: Int32Array;
}

export async function similarTask(p: SimilarPayload, ctx: TaskContext): Promise<{ result: { indices: Int32Array; sims: Float32Array } }> {
  // one matrix-vector product: one intra-op thread is enough, and concurrent calls in other workers then do not
  // fight over the cores with spinning ORT threads
  const gemm = await warmGemm(1);
  const Xn = p.normalized ? p.X : normalizeRows(p.X, p.n, p.d);
  if (ctx.isCancelled()) throw new AppError('CANCELLED', 'similar items: cancelled');
  const r = p.query ? await similarToVector(Xn, p.n, p.d, p.query, p.k, gemm, p.among)
    : p.rows && p.rows.length > 0
    ? await similarToRows(Xn, p.n, p.d, p.rows, p.k, p.combine ?? 'mean', gemm)
    : await similarRows(Xn, p.n, p.d, p.row, Math.min(p.k, p.n - 1), gemm);
  return { result: r };
}

export interface NormalizePayload { X: Float32Array; out: Float32Array; n: number; d: number }

/** Writes the L2-normalized rows of X into `out` (shared memory), off the main thread. */
export async function normalizeTask(p: NormalizePayload, _ctx: TaskContext): Promise<{ result: null }> {
  p.out.set(p.X.subarray(0, p.n * p.d));
  normalizeRowsInPlace(p.out, p.n, p.d);
  return { result: null };
}

export interface NearDupPayload { X: Float32Array; n: number; d: number; threshold: number; k?: number; normalized?: boolean }

/**
 * Near-duplicate groups that cannot chain (algo/neardup.ts: complete linkage over the kNN pairs above the threshold),
 * largest first, each with its true minimum pairwise similarity and its representative (medoid).
 */
export async function nearDupTask(p: NearDupPayload, ctx: TaskContext): Promise<{ result: { groups: NearDupGroup[] } }> {
  await using gemm = await warmGemm(workerCount());
  const Xn = p.normalized ? p.X : normalizeRows(p.X, p.n, p.d);
  const k = Math.min(p.k ?? 20, p.n - 1);
  if (k < 1) return { result: { groups: [] } };
  const r = await knnExact(Xn, p.n, p.d, k, { metric: 'cosine', gemm, isCancelled: ctx.isCancelled, onProgress: (d, t) => ctx.progress('neighbours', d, t) });
  const sims = new Float32Array(r.distances.length);
  for (let i = 0; i < sims.length; i++) sims[i] = 1 - r.distances[i];
  ctx.progress('groups', 0, 1);
  const groups = nearDuplicateGroups(Xn, p.n, p.d, { indices: r.indices, sims, k }, p.threshold, { isCancelled: ctx.isCancelled });
  ctx.progress('groups', 1, 1);
  return { result: { groups } };
}

export interface SweepPayload { X: Float32Array; n: number; d: number; kind: SweepKind; values: number[]; minSamples?: number; seed?: number; minClusters?: number; maxNoiseShare?: number; space?: (typeof SCORE_SPACES)[number]; score?: (typeof SWEEP_SCORES)[number]; labelsTrue?: Int32Array | null }

/**
 * Sweeps. With `space: 'umap'` the silhouette is computed in a 10-dimensional UMAP reduction of the embeddings (as
 * Lowe et al. 2024 found, it tracks agreement with true labels where the raw-space silhouette prefers a few big
 * clusters); the clustering itself runs on the embeddings as the run would. The guards (minimum clusters, maximum
 * noise share) apply either way, and the runner-up comes with the best. A DBSCAN sweep is ranked by DBCV (density-based
 * cluster validation, algo/cluster/dbcv.ts) in the same space unless `score: 'silhouette'`: the silhouette rewards
 * compact convex groups, DBCV density-separated ones and charges noise (BENCHMARKS.md: its pick reached the
 * best AMI of the whole grid on both face sets where the silhouette's did not). Given the true labels (`labelsTrue`,
 * -1 where unknown), every kind is ranked by the AMI against them instead (k-means per k, DBSCAN per eps; the ARI
 * beside it), on the embeddings, under the same guards: known labels are the truth the other scores only estimate.
 */
export async function sweepTask(p: SweepPayload, ctx: TaskContext): Promise<{ result: SweepResult }> {
  await using gemm = await warmGemm(workerCount());
  const useDbcv = p.kind === 'dbscan' && (p.score ?? 'dbcv') === 'dbcv';
  const common = { gemm, seed: p.seed ?? 0, isCancelled: ctx.isCancelled, onProgress: (d: number, t: number) => ctx.progress(`sweep ${p.kind}`, d, t) };
  if (p.labelsTrue) {
    const agree = labelledScore(p.labelsTrue);
    const onProgress = (d: number, t: number) => ctx.progress(`sweep ${p.kind} (AMI)`, d, t);
    const guards = { minClusters: p.minClusters ?? 2, maxNoiseShare: p.maxNoiseShare, onProgress, isCancelled: ctx.isCancelled };
    const r = agree.annotate(p.kind === 'dbscan'
      ? await dbscanEpsSweep(p.X, p.n, p.d, p.values, p.minSamples ?? 5, { ...common, ...guards, singletonsAsNoise: true, score: agree.score })
      : await constrainedSweep('k', [...new Set(p.values)].sort((a, b) => a - b), async (k) => (await kmeans(p.X, p.n, p.d, k, { gemm, seed: p.seed ?? 0 })).labels, agree.score, guards));
    return { result: { ...r, space: 'raw', scoreName: 'ami' } };
  }
  if (p.space === 'umap' && p.kind !== 'elbow' && p.n > 12) {
    ctx.progress('umap', 0, 1);
    const red = await runReduce(p.X, p.n, p.d, [{ method: 'umap', dims: 10 }], { metric: 'cosine', seed: p.seed ?? 0, gemm, isCancelled: ctx.isCancelled });
    ctx.progress('umap', 1, 1);
    const sil = async (labels: Int32Array) => (await silhouette(red.W, p.n, red.d, labels, { metric: red.metric, sampleSize: 10000, seed: p.seed ?? 0 })).score;
    const score = useDbcv ? (labels: Int32Array) => dbcv(red.W, p.n, red.d, labels, { metric: 'euclidean', seed: p.seed ?? 0 }).score : sil;
    const r = p.kind === 'silhouette'
      ? await constrainedSweep('k', [...new Set(p.values)].sort((a, b) => a - b), async (k) => (await kmeans(p.X, p.n, p.d, k, { gemm, seed: p.seed ?? 0 })).labels, score,
        { minClusters: p.minClusters ?? 2, maxNoiseShare: p.maxNoiseShare, onProgress: common.onProgress, isCancelled: ctx.isCancelled })
      : await dbscanEpsSweep(p.X, p.n, p.d, p.values, p.minSamples ?? 5, { ...common, minClusters: p.minClusters, maxNoiseShare: p.maxNoiseShare, singletonsAsNoise: true, score });
    return { result: { ...r, space: 'umap', scoreName: useDbcv ? 'dbcv' : 'silhouette' } };
  }
  const r = p.kind === 'elbow' ? await elbowSweep(p.X, p.n, p.d, p.values, common)
    : p.kind === 'silhouette' ? await silhouetteSweep(p.X, p.n, p.d, p.values, common)
      : await dbscanEpsSweep(p.X, p.n, p.d, p.values, p.minSamples ?? 5, { ...common, minClusters: p.minClusters, maxNoiseShare: p.maxNoiseShare, singletonsAsNoise: true,
        score: useDbcv ? (labels: Int32Array) => dbcv(p.X, p.n, p.d, labels, { metric: 'cosine', seed: p.seed ?? 0 }).score : undefined });
  return { result: { ...r, space: 'raw', scoreName: p.kind === 'elbow' ? 'inertia' : useDbcv ? 'dbcv' : 'silhouette' } };
}
