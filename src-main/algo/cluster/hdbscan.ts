/**
 * HDBSCAN, matching the reference Python hdbscan library (scikit-learn-contrib/hdbscan 0.8.43) up to MST ties:
 * core distance = distance to the min_samples-th nearest neighbour, the point itself not counted; mutual reachability
 * max(core(p), core(q), d(p, q)); exact MST (see mst.ts); single-linkage, condensed tree, EOM or leaf selection,
 * cluster_selection_epsilon, allow_single_cluster, probabilities and GLOSH outlier scores (see hdbscan-tree.ts). Merges at
 * equal heights are serialized as the reference does (Prim order from point 0, numpy argsort; see hdbscan-prim.ts), which
 * is what makes EOM / leaf choices agree when mutual-reachability weights tie.
 *
 * Metrics: 'euclidean' on the rows as given; 'cosine' = 1 - cos between rows (hdbscan's metric='cosine'). Note that
 * euclidean on L2-normalized rows is sqrt(2 - 2cos) = sqrt(2 * (1 - cos)): the same MST and single-linkage order as
 * cosine, but different lambda values and therefore different stabilities, EOM choices and epsilon units. The face
 * and reference runs use euclidean on unit rows: pass `normalize: true` with metric 'euclidean' for that.
 *
 * Pure numeric code: no I/O; the distance blocks go through the injected Gemm.
 */
import { CLUSTER_DEFAULTS } from '../../common/cluster-contract.ts';
import { AppError, badArg } from '../../common/errors.ts';
import { dot, isUnitRows, normalizeRows, type Gemm } from '../linalg.ts';
import { mutualReachabilityMst } from './mst.ts';
import { graphMutualReachabilityMst } from './mst-graph.ts';
import { approxKnnGraph, graphRecall } from '../knn-graph.ts';
import { numpyArgsort, primOrder } from './hdbscan-prim.ts';
import { condenseTree, glosh, selectClusters, singleLinkageFromMst, type CondensedTree, type SelectionMethod } from './hdbscan-tree.ts';
import type { Metric } from '../../common/types.ts';

export type HdbscanMetric = Metric;

export interface HdbscanOptions {
  /** smallest cluster (>= 2); default 5 as in hdbscan */
  minClusterSize?: number;
  /** neighbours for the core distance, the point itself not counted; default = minClusterSize */
  minSamples?: number;
  metric?: HdbscanMetric;
  /** L2-normalize rows first (euclidean on unit rows = the reference runs' convention) */
  normalize?: boolean;
  clusterSelectionMethod?: SelectionMethod;
  /** distance below which clusters are not split (metric units); default 0 */
  clusterSelectionEpsilon?: number;
  allowSingleCluster?: boolean;
  /**
   * Post-step for noise: a noise point joins the cluster whose centroid (mean of the L2-normalized member rows,
   * renormalized) is most cosine-similar to it, when that similarity exceeds `threshold`. Attached points keep
   * probability 0 and are listed in `attached`.
   */
  attachNoise?: { threshold: number };
  /** return the condensed tree (default true) */
  returnTree?: boolean;
  gemm?: Gemm;
  /** candidate neighbours per point in the MST's first stage (default 24) */
  mstCandidates?: number;
  /**
   * Approximate path for large n: core distances and spanning tree from an approximate kNN graph (knn-graph.ts:
   * candidate search in k-means cells), Boruvka on the graph, exact edges between near components where it is
   * disconnected (mst-graph.ts); its recall against exact neighbours is measured on `recallSample` rows (0 = skip).
   * Absent: the exact path (all-pairs tiles, mst.ts).
   */
  graph?: { k?: number; cellSize?: number; probes?: number; recallSample?: number; seed?: number };
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

/** What the approximate path did (absent on the exact path). */
export interface HdbscanGraphStats {
  k: number; cells: number; probes: number; meanCandidates: number; largestCell: number; recall: number | null; recallSample: number;
  graphComponents: number; joinRounds: number; joinEdges: number; joinPairs: number; graphMs: number; recallMs: number;
}

export interface HdbscanResult {
  /** cluster per point, -1 = noise; clusters numbered by condensed-tree id order (as the reference does) */
  labels: Int32Array;
  probabilities: Float32Array;
  outlierScores: Float32Array;
  nClusters: number;
  /** per cluster, the reference's cluster_persistence_ */
  persistence: Float32Array;
  /** condensed-tree id of each cluster label */
  clusterNodes: Int32Array;
  condensedTree?: CondensedTree;
  /** indices of noise points attached by `attachNoise` */
  attached?: Int32Array;
  /** core distances (metric units) */
  coreDistances: Float32Array;
  stats: { mstMs: number; treeMs: number; candidateComponents: number; fullPasses: number; path: 'exact' | 'graph'; graph?: HdbscanGraphStats };
}

function checkOptions(n: number, d: number, o: HdbscanOptions): Required<Pick<HdbscanOptions,
  'minClusterSize' | 'minSamples' | 'metric' | 'clusterSelectionMethod' | 'clusterSelectionEpsilon' | 'allowSingleCluster'>> {
  if (!Number.isInteger(n) || n < 1) throw badArg('n', `must be a positive integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw badArg('d', `must be a positive integer, got ${d}`);
  const minClusterSize = o.minClusterSize ?? CLUSTER_DEFAULTS.minClusterSize;
  if (!Number.isInteger(minClusterSize) || minClusterSize < 2) throw badArg('minClusterSize', `must be an integer >= 2, got ${minClusterSize}`);
  const minSamples = o.minSamples ?? minClusterSize;
  if (!Number.isInteger(minSamples) || minSamples < 1) throw badArg('minSamples', `must be a positive integer, got ${minSamples}`);
  if (minSamples > n - 1) throw badArg('minSamples', `${minSamples} neighbours need more than ${n} points`);
  const metric = o.metric ?? 'euclidean';
  if (metric !== 'euclidean' && metric !== 'cosine') throw badArg('metric', `must be 'euclidean' or 'cosine', got ${String(metric)}`);
  const clusterSelectionMethod = o.clusterSelectionMethod ?? 'eom';
  if (clusterSelectionMethod !== 'eom' && clusterSelectionMethod !== 'leaf') {
    throw badArg('clusterSelectionMethod', `must be 'eom' or 'leaf', got ${String(clusterSelectionMethod)}`);
  }
  const clusterSelectionEpsilon = o.clusterSelectionEpsilon ?? 0;
  if (!Number.isFinite(clusterSelectionEpsilon) || clusterSelectionEpsilon < 0) {
    throw badArg('clusterSelectionEpsilon', `must be a finite number >= 0, got ${clusterSelectionEpsilon}`);
  }
  if (o.attachNoise) {
    const t = o.attachNoise.threshold;
    if (!Number.isFinite(t) || t < -1 || t > 1) throw badArg('attachNoise.threshold', `must be a cosine similarity in [-1, 1], got ${t}`);
  }
  if (o.mstCandidates !== undefined && (!Number.isInteger(o.mstCandidates) || o.mstCandidates < 1)) {
    throw badArg('mstCandidates', `must be a positive integer, got ${o.mstCandidates}`);
  }
  return { minClusterSize, minSamples, metric, clusterSelectionMethod, clusterSelectionEpsilon, allowSingleCluster: !!o.allowSingleCluster };
}

/** HDBSCAN of the n rows (d columns) of X. X is not modified. */
export async function hdbscan(X: Float32Array, n: number, d: number, opts: HdbscanOptions = {}): Promise<HdbscanResult> {
  const p = checkOptions(n, d, opts);
  if (X.length < n * d) throw badArg('X', `has ${X.length} values, expected ${n} x ${d}`);
  for (let i = 0; i < n * d; i++) if (!Number.isFinite(X[i])) throw badArg('X', `value at row ${Math.floor(i / d)} is not finite`);
  const t0 = Date.now();
  const cosine = p.metric === 'cosine';
  // working copy: unit rows for cosine / normalize, else centred rows (euclidean is shift-invariant; float32 products
  // of centred rows lose less to cancellation)
  let W: Float32Array;
  if (opts.graph) {
    // approximate path: no centring needed; unit rows are used in place (no copy of a large matrix)
    W = (cosine || opts.normalize) && !isUnitRows(X, n, d) ? normalizeRows(X, n, d) : X;
    const r = await graphPath(W, n, d, p.minSamples, opts);
    const t1 = Date.now();
    return finish(X, W, n, d, p, opts, cosine, r.mst.core, r.mst.from, r.mst.to, r.mst.weight, t0, t1, { candidateComponents: r.stats.graphComponents, fullPasses: 0, path: 'graph', graph: r.stats });
  }
  if (cosine || opts.normalize) W = normalizeRows(X, n, d);
  else {
    W = X.slice(0, n * d);
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += W[i * d + j];
    for (let j = 0; j < d; j++) mean[j] /= n;
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) W[i * d + j] -= mean[j];
  }
  const mst = await mutualReachabilityMst(W, n, d, p.minSamples, {
    gemm: opts.gemm, candidates: opts.mstCandidates, onProgress: opts.onProgress, isCancelled: opts.isCancelled,
  });
  const t1 = Date.now();
  // Serialize merges as the reference does: Prim from point 0 over MST + kNN edges, then numpy's argsort.
  const K = mst.stats.candidates;
  const core = mst.core;
  const m = n * K + (n - 1);
  const eu = new Int32Array(m), ev = new Int32Array(m), ew = new Float64Array(m);
  let e = 0;
  for (let i = 0; i < n; i++) {
    const ci = core[i];
    for (let t = 0; t < K; t++) {
      const q = mst.knnIndices[i * K + t];
      let w: number = mst.knnDistances[i * K + t];
      if (w < ci) w = ci;
      if (w < core[q]) w = core[q];
      eu[e] = i; ev[e] = q; ew[e++] = w;
    }
  }
  eu.set(mst.from, e); ev.set(mst.to, e); ew.set(mst.weight, e);
  return finish(X, W, n, d, p, opts, cosine, core, eu, ev, ew, t0, t1, { candidateComponents: mst.stats.candidateComponents, fullPasses: mst.stats.fullPasses, path: 'exact' });
}

/** Approximate kNN graph, its recall on a sample, and the spanning tree on it. */
async function graphPath(W: Float32Array, n: number, d: number, minSamples: number, opts: HdbscanOptions) {
  const go = opts.graph!;
  const k = Math.min(n - 1, Math.max(minSamples, go.k ?? 16));
  const tg = Date.now();
  const g = await approxKnnGraph(W, n, d, k, {
    gemm: opts.gemm, cellSize: go.cellSize, probes: go.probes, seed: go.seed, isCancelled: opts.isCancelled,
    onProgress: opts.onProgress ? (done, total) => opts.onProgress!(Math.round(done * 0.8), total) : undefined,
  });
  const graphMs = Date.now() - tg;
  const tr = Date.now();
  // default sample: 200 rows up to 100k, fewer beyond (the exact check is a product of the sample with all n rows)
  const recallSample = Math.min(n, go.recallSample ?? Math.max(50, Math.min(200, Math.round(2e7 / n))));
  const rc = recallSample > 0 ? await graphRecall(W, n, d, g, { sample: recallSample, gemm: opts.gemm, isCancelled: opts.isCancelled }) : null;
  const recallMs = Date.now() - tr;
  const mst = await graphMutualReachabilityMst(W, n, d, minSamples, g, { gemm: opts.gemm, seed: go.seed, isCancelled: opts.isCancelled });
  opts.onProgress?.(n, n);
  const stats: HdbscanGraphStats = {
    k, cells: g.stats.cells, probes: g.stats.probes, meanCandidates: Math.round(g.stats.meanCandidates), largestCell: g.stats.largestCell, recall: rc ? Math.round(rc.recall * 1e4) / 1e4 : null,
    recallSample: rc ? rc.sample : 0, ...mst.stats, graphMs, recallMs,
  };
  return { mst, stats };
}

/** Single linkage, condensed tree, selection and scores from spanning-tree (+ tie) edges. */
function finish(
  X: Float32Array, W: Float32Array, n: number, d: number, p: ReturnType<typeof checkOptions>, opts: HdbscanOptions, cosine: boolean,
  core: Float64Array, eu: Int32Array, ev: Int32Array, ew: Float64Array, t0: number, t1: number,
  mstStats: Pick<HdbscanResult['stats'], 'candidateComponents' | 'fullPasses' | 'path' | 'graph'>,
): HdbscanResult {
  const prim = primOrder(n, eu, ev, ew);
  // cosine distance 1 - cos = e^2 / 2 for the euclidean distance e between unit rows (monotone: same tree)
  const weight = prim.weight;
  if (cosine) {
    for (let i = 0; i < weight.length; i++) weight[i] = (weight[i] * weight[i]) / 2;
    for (let i = 0; i < n; i++) core[i] = (core[i] * core[i]) / 2;
  }
  const sl = singleLinkageFromMst(n, prim.from, prim.to, weight, numpyArgsort(weight));
  const tree = condenseTree(sl, p.minClusterSize);
  const sel = selectClusters(tree, {
    method: p.clusterSelectionMethod, allowSingleCluster: p.allowSingleCluster, epsilon: p.clusterSelectionEpsilon,
  });
  const outlierScores = glosh(tree);
  if (opts.isCancelled?.()) throw new AppError('CANCELLED', 'HDBSCAN cancelled');
  const labels = sel.labels;
  let attached: Int32Array | undefined;
  if (opts.attachNoise && sel.clusters.length > 0) {
    attached = attachNoiseToCentroids(cosine || opts.normalize ? W : normalizeRows(X, n, d), n, d, labels, sel.clusters.length, opts.attachNoise.threshold);
  }
  const t2 = Date.now();
  return {
    labels,
    probabilities: sel.probabilities,
    outlierScores,
    nClusters: sel.clusters.length,
    persistence: sel.persistence,
    clusterNodes: sel.clusters,
    condensedTree: opts.returnTree === false ? undefined : tree,
    attached,
    coreDistances: Float32Array.from(core),
    stats: { mstMs: t1 - t0, treeMs: t2 - t1, ...mstStats },
  };
}

/**
 * Attach noise points (label -1) to the cluster with the most cosine-similar centroid when the similarity exceeds
 * `threshold`. U holds L2-normalized rows. Centroids are computed from the clustered points before any attachment.
 * Mutates `labels`; returns the attached point indices.
 */
export function attachNoiseToCentroids(
  U: Float32Array, n: number, d: number, labels: Int32Array, nClusters: number, threshold: number,
): Int32Array {
  const cent = new Float64Array(nClusters * d);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (l < 0) continue;
    for (let j = 0; j < d; j++) cent[l * d + j] += U[i * d + j];
  }
  const C = new Float32Array(nClusters * d);
  for (let c = 0; c < nClusters; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += cent[c * d + j] * cent[c * d + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) C[c * d + j] = cent[c * d + j] * inv;
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (labels[i] >= 0) continue;
    let best = -1, bs = -Infinity;
    for (let c = 0; c < nClusters; c++) {
      const s = dot(U, i * d, C, c * d, d);
      if (s > bs) { bs = s; best = c; }
    }
    if (best >= 0 && bs > threshold) { labels[i] = best; out.push(i); }
  }
  return Int32Array.from(out);
}
