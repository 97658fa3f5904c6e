/**
 * The clustering task, run in a worker thread: the matrix arrives in shared memory, the distance blocks go through
 * onnxruntime's MatMul with all cores, and mini-batch k-means in a library streams its batches from SQLite.
 */
import type { PresetRecord } from '../../common/jobs.ts';
import type { LibraryZones } from '../../common/types.ts';
import { assessLabels, densityPath, runClustering, type ClusterOutput, type ClusterParams } from '../../algo/cluster/run.ts';
import { graphAverageLink } from '../../algo/cluster/people-link.ts';
import { libraryZones } from '../../algo/cluster/identity-scale.ts';
import type { PeopleTail } from '../../algo/cluster/presets.ts';
import { createRng } from '../../algo/rng.ts';
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
  /**
   * the library's identity zones (sure / maybe / link) computed on X with this impostor tail; `people`: the run is the
   * people preset's average linkage on the kNN graph at the zones' linking similarity (sets params.distanceThreshold)
   */
  zones?: { tail: PeopleTail; people: boolean; faces?: { X: Float32Array; n: number } } | null;
}

/** Neighbours per face in the people preset's graph. */
export const PEOPLE_K = 10;

/** What the people preset found on the data. */
export type PeopleLink = NonNullable<PresetRecord['link']> & { distanceThreshold: number };

/** A clustering, with the library's zones and what the people preset found beside it (not inside the run's record). */
export type ClusterTaskResult = ClusterOutput & { zones: LibraryZones | null; peopleLink: PeopleLink | null };

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
    // the zones on every face of the library when given (a run after curation clusters only the undecided ones)
    const zf = p.zones?.faces ?? { X: p.X, n: p.n };
    const zones = p.zones && zf.n >= 2 ? libraryZones(zf.X, zf.n, p.d, p.zones.tail, { rng: createRng(p.params.seed ?? 0) }) : null;
    const input = { X: p.X, n: p.n, d: p.d, labelsTrue: p.labelsTrue, sourceIds: p.sourceIds, source };
    const opts = { gemm, nnGemm, smallGemm, sgdRunner, isCancelled: ctx.isCancelled, onProgress: (s: string, d: number, t: number, x?: unknown) => ctx.progress(s, d, t, x) };
    let out: ClusterOutput;
    let link: PeopleLink | null = null;
    if (zones && p.zones?.people) {
      // the people preset: average linkage on the kNN graph at the library's own linking similarity
      ctx.progress('link', 0, 1);
      const t0 = performance.now();
      const r = await graphAverageLink(p.X, p.n, p.d, { similarity: zones.link, k: PEOPLE_K, gemm, isCancelled: ctx.isCancelled });
      const fit = performance.now() - t0;
      ctx.progress('link', 1, 1);
      const distanceThreshold = Math.round((1 - zones.link) * 1e4) / 1e4;
      const params = { ...p.params, distanceThreshold };
      const a = await assessLabels(input, r.labels, params, opts);
      link = { similarity: zones.link, sure: zones.sure, maybe: zones.maybe, n: p.n, k: Math.min(PEOPLE_K, p.n - 1), groups: r.groups, largest: r.largest, distanceThreshold };
      out = {
        labels: a.labels, rawLabels: r.labels, probabilities: null, outlierScores: null, stats: a.stats, metrics: a.metrics, report: a.report,
        timings: { ...a.timings, fit, total: performance.now() - t0 },
        record: { algo: 'ward', metric: 'cosine', linkage: 'average', distanceThreshold, method: `average linkage on the ${link.k}-NN graph (groups joined best-first while the mean cross similarity >= ${zones.link})` },
        encoder: null, loss: null,
      };
    } else {
      out = await runClustering(input, p.params, opts);
    }
    if (zones) out.record.identity = zones;
    // how the reduction's SGD was shared out (the embedding does not depend on it)
    if (out.record.reduce) Object.assign(out.record.reduce as object, { sgd: { threads: workerCount(), ...sgdRunner.stats() } });
    const transfer = [out.labels, out.rawLabels, out.stats.sims, out.stats.centroids, out.probabilities, out.outlierScores]
      .filter((a): a is Int32Array | Float32Array => !!a && !(a.buffer instanceof SharedArrayBuffer))
      .map((a) => a.buffer as ArrayBuffer);
    const result: ClusterTaskResult = { ...out, zones, peopleLink: link };
    return { result, transfer: [...new Set(transfer)] };
  } finally {
    sgdRunner[Symbol.dispose]();
    source?.close();
    await gemm.release();
    await nnGemm?.release();
  }
}
