/**
 * One clustering run, start to end, on a matrix: optional UMAP reduction, the chosen algorithm, optional
 * post-processing (one item per source photo, similarity floor, minimum size), per-cluster statistics with top and tail
 * samples, and metrics (external ones when true labels are given). Pure: the caller hands in the Gemm and runs this in a
 * worker.
 */
import { badArg } from '../../common/errors.ts';
import { CLUSTER_ALGOS, CLUSTER_DEFAULTS, DEFAULT_HIDDEN, checkClusterRequest, type ClusterParams } from '../../common/cluster-contract.ts';
import type { Gemm } from '../linalg.ts';
import { daviesBouldin, externalScores, silhouette, sizeDistribution } from '../metrics.ts';
import type { SgdRunner } from '../map/umap.ts';
import type { DenseNet } from '../nn/dense.ts';
import { DEC_DEFAULTS, dec } from './dec.ts';
import { gmm } from './gmm.ts';
import { aeRecord, formatReduce, parseReduce, recipeOptions, runReduce, type AeStep, type ReduceStep } from './reduce.ts';
import { agglomerative } from './agglomerative.ts';
import { dbscan } from './dbscan.ts';
import { dbscanOnGraph } from './dbscan-graph.ts';
import { approxKnnGraph, graphRecall } from '../knn-graph.ts';
import { isUnitRows, normalizeRows } from '../linalg.ts';
import { hdbscan } from './hdbscan.ts';
import { kmeans } from './kmeans.ts';
import { matrixSource, minibatchKmeans, type RowSource } from './minibatch.ts';
import { clusterStats, postprocess, sizeReport, type ClusterStats, type PostprocessReport } from './postprocess.ts';
import type { Metric } from '../../common/types.ts';

/**
 * Density clustering (HDBSCAN, DBSCAN) switches from the exact all-pairs path to the approximate kNN graph above this
 * many rows unless `exact` says otherwise. Measured in BENCHMARKS.md ("Past 100,000 items"): at this size the graph is
 * already faster and agrees with the exact path.
 */
export const GRAPH_MIN_ROWS = 30000;

/** Which density path a run of n rows takes. */
export function densityPath(p: Pick<ClusterParams, 'exact'>, n: number): 'exact' | 'graph' {
  if (p.exact === true) return 'exact';
  if (p.exact === false) return n >= 3 ? 'graph' : 'exact';
  return n >= GRAPH_MIN_ROWS ? 'graph' : 'exact';
}

/** The algorithms (the contract's list: common/cluster-contract.ts). */
export const ALGOS = CLUSTER_ALGOS;
export type Algo = ClusterParams['algo'];
export type Linkage = NonNullable<ClusterParams['linkage']>;

export type { ClusterParams };

export interface ClusterInput {
  X: Float32Array;
  n: number;
  d: number;
  /** streaming source for mini-batch k-means (defaults to X) */
  source?: RowSource;
  labelsTrue?: ArrayLike<number> | null;
  /** source photo per row, for dedupeSources */
  sourceIds?: ArrayLike<number> | null;
}

export interface ClusterMetrics {
  clusters: number;
  noise: number;
  noiseShare: number;
  sizes: { min: number; median: number; max: number; mean: number; singletons: number };
  silhouette: number | null;
  silhouetteSample: number;
  daviesBouldin: number | null;
  ami?: number; ari?: number; nmi?: number; homogeneity?: number; completeness?: number; vMeasure?: number;
  pairwiseF?: number; bcubedF?: number;
}

export interface ClusterOutput {
  labels: Int32Array;
  /** labels straight from the algorithm, before post-processing */
  rawLabels: Int32Array;
  probabilities: Float32Array | null;
  outlierScores: Float32Array | null;
  stats: ClusterStats;
  metrics: ClusterMetrics;
  /** milliseconds per stage */
  timings: Record<string, number>;
  /** what actually ran: methods chosen for size, iterations, ... */
  record: Record<string, unknown>;
  report: PostprocessReport;
  /** the trained encoder (PCA / autoencoder head of the reduction chain, or DEC's refined encoder), kept with the run */
  encoder?: DenseNet | null;
  /** autoencoder training loss per epoch (null without an autoencoder) */
  loss?: number[] | null;
}

export interface RunOptions {
  gemm?: Gemm;
  /** products of the autoencoder / DEC training (small matrices: one thread is fastest); defaults to gemm */
  nnGemm?: Gemm;
  /**
   * one-thread products for fits whose every product is small (mini-batch k-means with a small k x d): threads that
   * wake for each small product cost more than they share out, most of all on a busy machine; defaults to gemm
   */
  smallGemm?: Gemm;
  /** runs the UMAP reduction's SGD epochs (default: this thread); the result does not depend on it */
  sgdRunner?: SgdRunner;
  onProgress?: (stage: string, done: number, total: number, extra?: unknown) => void;
  isCancelled?: () => boolean;
}

/**
 * The parameters of a run on n items, checked (also at submit time, so a bad run is refused before it is queued):
 * every rule of the contract (common/cluster-contract.ts, the one place each parameter's check is written), what the
 * planned algorithm needs, and what depends on the data.
 */
export function checkParams(p: ClusterParams, n: number): void {
  checkClusterRequest(p, 'field', true);
  if (p.k !== undefined && p.k > n) throw badArg('k', `${p.k} clusters asked for ${n} points`);
  const steps = parseReduce(p.reduce);
  if (p.algo === 'dec' && steps && steps.some((s, i) => s.method === 'umap' || (s.method === 'ae' && i !== steps.length - 1))) {
    throw badArg('reduce', `dec trains its own encoder: give at most pca steps then one ae:... step last, got ${formatReduce(steps)}`);
  }
  if (p.algo === 'gmm' && p.k === undefined && n < 4) throw badArg('k', `gmm picks k by BIC on at least 4 items, got ${n}`);
}

/**
 * Multiply-adds of one product (rows x centres x dims) up to which mini-batch k-means multiplies on one thread
 * (Fashion-MNIST 1,024 x 10 x 784 = 8M: one thread; 1,024 x 237 x 512 = 124M: all of them).
 */
const SMALL_PRODUCT = 1 << 25;

export async function runClustering(input: ClusterInput, p: ClusterParams, o: RunOptions = {}): Promise<ClusterOutput> {
  const { X, n, d } = input;
  if (n < 2) throw badArg('embeddings', `need at least 2 items to cluster, got ${n}`);
  checkParams(p, n);
  const metric = p.metric ?? CLUSTER_DEFAULTS.metric;
  const seed = p.seed ?? CLUSTER_DEFAULTS.seed;
  const timings: Record<string, number> = {};
  const record: Record<string, unknown> = { algo: p.algo, metric };
  const progress = (stage: string) => (done: number, total: number) => o.onProgress?.(stage, done, total);
  const base = { gemm: o.gemm, isCancelled: o.isCancelled };
  const t0 = performance.now();

  // optional reduction chain (ward defaults to umap:50, as in Lowe et al. 2024); dec's own autoencoder is the last ae step
  let steps: ReduceStep[] = parseReduce(p.reduce) ?? (p.algo === 'ward' && (p.linkage ?? 'ward') === 'ward' ? [{ method: 'umap', dims: 50 }] : []);
  let decStep: AeStep = { method: 'ae', hidden: [...DEFAULT_HIDDEN], recipe: 'literature' };
  if (p.algo === 'dec' && steps.length > 0 && steps[steps.length - 1].method === 'ae') {
    decStep = steps[steps.length - 1] as AeStep;
    steps = steps.slice(0, -1);
  }
  const decHidden = decStep.hidden;
  const aeTraining = { epochs: p.epochs, batchSize: p.aeBatchSize, patience: p.patience, minUpdates: p.minUpdates };
  let W = X, wd = d, wmetric: Metric = metric;
  let encoder: DenseNet | null = null, loss: number[] | null = null;
  if (steps.length > 0) {
    const tr = performance.now();
    const r = await runReduce(X, n, d, steps, {
      metric, seed, gemm: o.gemm, nnGemm: o.nnGemm, sgdRunner: o.sgdRunner, isCancelled: o.isCancelled, onProgress: o.onProgress,
      ae: aeTraining, kmeansK: p.algo === 'kmeans' ? p.k : undefined,
    });
    Object.assign(timings, r.timings);
    timings.reduce = performance.now() - tr;
    W = r.W; wd = r.d; wmetric = r.metric;
    encoder = r.encoder; loss = r.loss;
    record.reduce = steps.length === 1 && steps[0].method === 'umap'
      ? r.steps[0]
      : { method: 'chain', spec: formatReduce(steps), steps: r.steps, dims: wd, encoder: r.encoderCovers };
  }

  const tf = performance.now();
  const aeLoss: number[] = [];
  let raw: Int32Array;
  let probabilities: Float32Array | null = null;
  let outlierScores: Float32Array | null = null;
  switch (p.algo) {
    case 'kmeans': {
      // on a learned code (a few dimensions) restarts are cheap and the start matters: best of 10 by default
      const onCodes = steps.length > 0 && steps[steps.length - 1].method === 'ae';
      const nInit = p.nInit ?? (onCodes ? 10 : 1);
      const r = await kmeans(W, n, wd, p.k!, { metric: wmetric, seed, nInit, ...base, onProgress: progress('kmeans') });
      raw = r.labels;
      Object.assign(record, { inertia: r.inertia, iterations: r.iterations, ...(onCodes ? { nInit, codeMetric: wmetric } : {}) });
      break;
    }
    case 'minibatch-kmeans': {
      const src = steps.length > 0 || !input.source ? matrixSource(W, n, wd) : input.source;
      const batchSize = p.batchSize ?? CLUSTER_DEFAULTS.batchSize;
      const small = Math.min(batchSize, n) * p.k! * wd <= SMALL_PRODUCT;
      const r = await minibatchKmeans(src, {
        k: p.k!, metric: wmetric, seed, batchSize, nInit: p.nInit, ...base, gemm: (small ? o.smallGemm : undefined) ?? o.gemm,
        onProgress: progress('minibatch-kmeans'),
      });
      raw = r.labels;
      Object.assign(record, { inertia: r.inertia, steps: r.steps, epochs: r.epochs, streamed: src !== undefined && src === input.source });
      break;
    }
    case 'dbscan': {
      const path = densityPath(p, n);
      const minSamples = p.minSamples ?? CLUSTER_DEFAULTS.minSamples;
      let graph: Record<string, unknown> | undefined;
      if (path === 'graph') {
        // eps-neighbourhoods read from the approximate kNN graph (euclidean on unit rows for cosine)
        const cos = wmetric === 'cosine';
        const U = cos && !isUnitRows(W, n, wd) ? normalizeRows(W, n, wd) : W;
        const k = Math.min(n - 1, Math.max(minSamples, 16));
        const tg = performance.now();
        const g = await approxKnnGraph(U, n, wd, k, { gemm: o.gemm, seed, isCancelled: o.isCancelled, onProgress: progress('knn-graph') });
        const graphMs = performance.now() - tg;
        const rc = await graphRecall(U, n, wd, g, { sample: Math.max(50, Math.min(200, Math.round(2e7 / n))), gemm: o.gemm, isCancelled: o.isCancelled });
        raw = dbscanOnGraph(g, p.eps!, minSamples, cos).labels;
        graph = { k, ...g.stats, meanCandidates: Math.round(g.stats.meanCandidates), recall: Math.round(rc.recall * 1e4) / 1e4, recallSample: rc.sample, graphMs: Math.round(graphMs),
          recallOf: `${k}-NN on ${rc.sample} sampled rows vs exact`, note: `eps-neighbourhoods limited to the ${k} listed neighbours` };
      } else {
        raw = (await dbscan(W, n, wd, p.eps!, minSamples, { metric: wmetric, ...base, onProgress: progress('dbscan') })).labels;
      }
      Object.assign(record, { eps: p.eps, minSamples, epsUnits: wmetric === 'cosine' ? '1 - cos' : 'euclidean', path, ...(graph ? { graph } : {}) });
      break;
    }
    case 'hdbscan': {
      // cosine = euclidean on L2-normalized rows (the reference hdbscan's convention; same order as cosine)
      const path = densityPath(p, n);
      const r = await hdbscan(W, n, wd, {
        graph: path === 'graph' ? { seed } : undefined,
        minClusterSize: p.minClusterSize ?? CLUSTER_DEFAULTS.minClusterSize, minSamples: p.minSamples, metric: 'euclidean', normalize: wmetric === 'cosine',
        clusterSelectionMethod: p.selection ?? CLUSTER_DEFAULTS.selection, clusterSelectionEpsilon: p.eps ?? 0, allowSingleCluster: p.allowSingleCluster,
        attachNoise: p.attachNoise !== undefined ? { threshold: p.attachNoise } : undefined, returnTree: false,
        ...base, onProgress: progress('hdbscan'),
      });
      raw = r.labels; probabilities = r.probabilities; outlierScores = r.outlierScores;
      Object.assign(record, {
        minClusterSize: p.minClusterSize ?? CLUSTER_DEFAULTS.minClusterSize, minSamples: p.minSamples ?? p.minClusterSize ?? CLUSTER_DEFAULTS.minClusterSize, selection: p.selection ?? CLUSTER_DEFAULTS.selection,
        selectionEpsilon: p.eps ?? 0, epsUnits: wmetric === 'cosine' ? 'euclidean on L2-normalized rows' : 'euclidean',
        attached: r.attached?.length ?? 0, mst: r.stats, path,
        ...(r.stats.graph ? { graph: { ...r.stats.graph, recallOf: `${r.stats.graph.k}-NN on ${r.stats.graph.recallSample} sampled rows vs exact` } } : {}),
      });
      break;
    }
    case 'dec': {
      const r = await dec(W, n, wd, p.k!, {
        ae: { ...aeTraining, ...recipeOptions(decStep), hidden: decHidden,
          onEpoch: (e, l, _vl, _net, planned) => { aeLoss.push(l); o.onProgress?.('autoencoder-epoch', e, planned, { epoch: e, loss: aeLoss.slice() }); } },
        tol: p.tol, updateInterval: p.updateInterval, maxIter: p.maxIter, batchSize: p.aeBatchSize, seed, nInit: p.nInit, init: DEC_DEFAULTS.init,
        // the literature net's linear codes: the mixture's t kernel (weights and volumes); ReLU codes (ae:32) have exactly-zero
        // coordinates whose collapsed variances make volumes meaningless, so they keep the shape-only kernel
        kernel: decStep.recipe === 'literature' ? 'mixture-t' : undefined,
        gemm: o.nnGemm ?? o.gemm, isCancelled: o.isCancelled, onProgress: (s, dn, t) => o.onProgress?.(s === 'pretrain' ? 'autoencoder' : s, dn, t),
      });
      raw = r.labels;
      const ae = r.ae;
      // the encoder for new items: the chain's PCA head (if any) then DEC's refined encoder
      encoder = encoder ? { layers: [...encoder.layers, ...r.encoder.layers], W: [...encoder.W, ...r.encoder.W], b: [...encoder.b, ...r.encoder.b] } : (steps.length === 0 ? r.encoder : null);
      loss = ae.lossCurve;
      const nmiInit = input.labelsTrue && input.labelsTrue.length === n ? externalScores(input.labelsTrue, r.initLabels).nmi : undefined;
      const pre = aeRecord(wd, decHidden, ae, seed);
      Object.assign(record, {
        dec: {
          ...pre, recipe: decStep.recipe ?? 'tutorial', pretrain: `${pre.architecture}, ${ae.epochs} epochs, ${ae.updates} updates`,
          pretrainEpochs: ae.epochs,
          tol: p.tol ?? DEC_DEFAULTS.tol, updateInterval: p.updateInterval ?? DEC_DEFAULTS.updateInterval, maxIter: r.maxIter,
          iterations: r.iterations, steps: r.iterations, converged: r.converged, stopReason: r.stopReason, targetUpdates: r.kl.length,
          kl: r.kl, changed: r.changed, optimizer: 'sgd momentum 0.9, lr 0.01', init: r.init, kernel: r.kernel, ...(r.init === 'kmeans' ? { kmeansNInit: p.nInit ?? 20 } : {}),
          ...(nmiInit !== undefined ? { initNmi: nmiInit } : {}),
          timings: { pretrain: Math.round(r.timings.pretrain), kmeans: Math.round(r.timings.kmeans), refine: Math.round(r.timings.refine) },
        },
      });
      timings.pretrain = r.timings.pretrain;
      break;
    }
    case 'gmm': {
      const r = await gmm(W, n, wd, { k: p.k, covariance: p.covariance, seed, nInit: p.nInit, ...base, onProgress: progress('gmm') });
      raw = r.labels; probabilities = r.probabilities;
      Object.assign(record, {
        gmm: {
          k: r.k, selectedBy: r.selectedBy, covariance: r.covariance, logLikelihood: r.logLikelihood, bic: r.bic, iterations: r.iterations,
          converged: r.converged, bicByK: r.bicByK, space: steps.length > 0 ? formatReduce(steps) : 'input rows as given (euclidean)',
        },
      });
      break;
    }
    case 'ward': {
      const r = await agglomerative(W, n, wd, {
        linkage: p.linkage ?? 'ward', nClusters: p.k, distanceThreshold: p.distanceThreshold,
        metric: (p.linkage ?? 'ward') === 'ward' ? 'euclidean' : wmetric, seed, ...base, onProgress: progress('agglomerative'),
      });
      raw = r.labels;
      Object.assign(record, { linkage: p.linkage ?? 'ward', method: r.method, microClusters: r.microClusters ?? null });
      break;
    }
  }
  timings.fit = performance.now() - tf;

  const assessed = await assessLabels(input, raw, p, o);
  Object.assign(timings, assessed.timings);
  const { labels, stats, metrics, report } = assessed;
  timings.total = performance.now() - t0;
  o.onProgress?.('metrics', 1, 1);
  return { labels, rawLabels: raw, probabilities, outlierScores, stats, metrics, timings, record, report, encoder, loss };
}

/**
 * Statistics (centroids, top and tail samples), post-processing and metrics of given labels on the original
 * embeddings' cosine geometry: the second half of every run, and all of a run clustered elsewhere (import-run).
 */
export async function assessLabels(input: ClusterInput, raw: Int32Array, p: Pick<ClusterParams, 'metric' | 'seed' | 'samples' | 'postprocess'>, o: RunOptions = {}):
  Promise<{ labels: Int32Array; stats: ClusterStats; metrics: ClusterMetrics; report: PostprocessReport; timings: Record<string, number> }> {
  const { X, n, d } = input;
  const metric = p.metric ?? CLUSTER_DEFAULTS.metric;
  const seed = p.seed ?? CLUSTER_DEFAULTS.seed;
  const timings: Record<string, number> = {};
  // statistics, top/tail samples and post-processing always on the original embeddings' cosine geometry
  const tp = performance.now();
  let labels = raw;
  let stats: ClusterStats;
  let report: PostprocessReport;
  const pp = p.postprocess;
  if (pp && (pp.dedupeSources || pp.minSim != null || (pp.minSize ?? 1) > 1)) {
    const r = postprocess(X, n, d, raw, {
      sourceIds: pp.dedupeSources && input.sourceIds ? input.sourceIds : undefined,
      similarity: pp.minSim ?? null, minSize: pp.minSize ?? 1, samples: p.samples ?? CLUSTER_DEFAULTS.samples,
    });
    labels = r.labels; stats = r.stats; report = r.report;
  } else {
    stats = clusterStats(X, n, d, raw, { samples: p.samples ?? CLUSTER_DEFAULTS.samples });
    report = sizeReport(raw, raw);
  }
  timings.postprocess = performance.now() - tp;

  const tm = performance.now();
  o.onProgress?.('metrics', 0, 1);
  const sd = sizeDistribution(labels);
  let sil: number | null = null, silN = 0, db: number | null = null;
  if (sd.count >= 2) {
    const s = await silhouette(X, n, d, labels, { metric, sampleSize: 10000, seed, gemm: o.gemm, isCancelled: o.isCancelled });
    sil = Number.isFinite(s.score) ? s.score : null; silN = s.n;
    const dbv = daviesBouldin(X, n, d, labels, { metric });
    db = Number.isFinite(dbv) ? dbv : null;
  }
  const metrics: ClusterMetrics = {
    clusters: sd.count, noise: sd.noise, noiseShare: sd.noiseShare,
    sizes: { min: sd.min, median: sd.median, max: sd.max, mean: sd.mean, singletons: sd.singletons },
    silhouette: sil, silhouetteSample: silN, daviesBouldin: db,
  };
  if (input.labelsTrue) {
    if (input.labelsTrue.length !== n) throw badArg('labels', `${input.labelsTrue.length} labels for ${n} items`);
    // items without a true label (negative) are left out of the external metrics
    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (input.labelsTrue[i] >= 0) keep.push(i);
    const t = keep.length === n ? input.labelsTrue : keep.map((i) => input.labelsTrue![i]);
    const pr = keep.length === n ? labels : keep.map((i) => labels[i]);
    const e = externalScores(t, pr);
    (metrics as ClusterMetrics & { labeled?: number }).labeled = keep.length;
    Object.assign(metrics, {
      ami: e.ami, ari: e.ari, nmi: e.nmi, homogeneity: e.homogeneity, completeness: e.completeness, vMeasure: e.vMeasure,
      pairwiseF: e.pairwise.f, bcubedF: e.bcubed.f,
    });
  }
  timings.metrics = performance.now() - tm;
  return { labels, stats, metrics, report, timings };
}
