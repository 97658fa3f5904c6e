/**
 * The clustering task, run in a worker thread: the matrix arrives in shared memory, the distance blocks go through
 * onnxruntime's MatMul with all cores, and mini-batch k-means in a library streams its batches from SQLite.
 */
import { plateauLinkSimilarity } from '../../algo/cluster/identity.ts';
import type { PresetRecord } from '../../common/jobs.ts';
import { densityPath, runClustering, type ClusterOutput, type ClusterParams } from '../../algo/cluster/run.ts';
import type { RowSource } from '../../algo/cluster/minibatch.ts';
import { lazyWarmGemm, warmGemm } from '../workers/warm.ts';
import { embeddingRowsReader, openWorkerDb } from '../store/embeddings.ts';
import { workerCount } from '../workers/pool.ts';
import { createParallelSgdRunner } from '../workers/sgd-runner.ts';
import type { TaskContext } from '../workers/tasks.ts';

export interface ClusterTaskPayload {
  X: Float32Array;
  n: number;
  d: number;
  params: ClusterParams;
  labelsTrue?: Int32Array | null;
  sourceIds?: Int32Array | null;
  /** stream mini-batches from this library's embeddings instead of X */
  stream?: { library: string; model: string; ids: Int32Array } | null;
  /** the people preset: compute the linking similarity on the data from this floor (sets params.eps) */
  peopleLink?: { from: number } | null;
}

/** The linking similarity the people preset found on the data (and the eps it set). */
export type PeopleLink = NonNullable<PresetRecord['link']> & { eps: number };

/** A clustering, with what the people preset found beside it (not inside the run's record). */
export type ClusterTaskResult = ClusterOutput & { peopleLink: PeopleLink | null };

/** Rows of a model's embeddings read from the library by position in `ids`. */
function sqliteSource(s: NonNullable<ClusterTaskPayload['stream']>, d: number): RowSource & { close(): void } {
  const db = openWorkerDb(s.library);
  const rowsOf = embeddingRowsReader(db);
  return {
    n: s.ids.length, d,
    readRows(indices: Int32Array): Float32Array {
      const want = new Map<number, number>();
      const items: number[] = new Array(indices.length);
      for (let t = 0; t < indices.length; t++) { items[t] = s.ids[indices[t]]; want.set(items[t], t); }
      const out = new Float32Array(indices.length * d);
      const bytes = new Uint8Array(out.buffer);
      for (const r of rowsOf(s.model, items)) {
        const t = want.get(r.item_id);
        if (t !== undefined) bytes.set(r.vec, t * d * 4);
      }
      return out;
    },
    close: () => db.close(),
  };
}

export async function clusterTask(p: ClusterTaskPayload, ctx: TaskContext): Promise<{ result: ClusterTaskResult; transfer: ArrayBuffer[] }> {
  // the kNN-graph path alternates many small products with JavaScript loops: ORT threads that spin would take the core
  // the loops need (measured, same process and load: the graph of 50k x 512 in 8.6-11.5 s spinning, 4.4-6.9 s not)
  const graph = (p.params.algo === 'hdbscan' || p.params.algo === 'dbscan') && densityPath(p.params, p.n) === 'graph';
  // sessions are made on their first product (when the worker has none yet), so their creation is timed inside the
  // step that needs them (a cold process's fit includes it)
  const gemm = lazyWarmGemm(workerCount(), graph ? { spin: false } : {});
  const smallGemm = lazyWarmGemm(1);
  const source = p.stream && p.params.algo === 'minibatch-kmeans' ? sqliteSource(p.stream, p.d) : undefined;
  const sgdRunner = createParallelSgdRunner(workerCount());
  const trains = p.params.algo === 'dec' || /\b(ae|pca)\b/.test(String(p.params.reduce ?? ''));
  const nnGemm = trains ? await warmGemm(1) : undefined;
  try {
    let params = p.params;
    let link: PeopleLink | null = null;
    if (p.peopleLink) {
      ctx.progress('link', 0, 1);
      const r = await plateauLinkSimilarity(p.X, p.n, p.d, p.peopleLink.from, { gemm, isCancelled: ctx.isCancelled });
      params = { ...params, eps: Math.round((1 - r.similarity) * 1e4) / 1e4 };
      link = { similarity: r.similarity, from: p.peopleLink.from, maxGroups: r.maxGroups, grid: r.grid, eps: params.eps! };
      ctx.progress('link', 1, 1);
    }
    const out = await runClustering(
      { X: p.X, n: p.n, d: p.d, labelsTrue: p.labelsTrue, sourceIds: p.sourceIds, source },
      params,
      { gemm, nnGemm, smallGemm, sgdRunner, isCancelled: ctx.isCancelled, onProgress: (s, d, t, x) => ctx.progress(s, d, t, x) },
    );
    // how the reduction's SGD was shared out (the embedding does not depend on it)
    if (out.record.reduce) Object.assign(out.record.reduce as object, { sgd: { threads: workerCount(), ...sgdRunner.stats() } });
    const transfer = [out.labels, out.rawLabels, out.stats.sims, out.stats.centroids, out.probabilities, out.outlierScores]
      .filter((a): a is Int32Array | Float32Array => !!a && !(a.buffer instanceof SharedArrayBuffer))
      .map((a) => a.buffer as ArrayBuffer);
    const result: ClusterTaskResult = { ...out, peopleLink: link };
    return { result, transfer: [...new Set(transfer)] };
  } finally {
    sgdRunner.close();
    source?.close();
    await gemm.release();
    await nnGemm?.release();
  }
}
