/**
 * Post-processing of a clustering, as in the 61,751-object study: per-cluster centroid (mean of the L2-normalized
 * members, normalized), size, mean cosine similarity to the centroid, top/tail samples; then clean-up filters that move
 * members to noise (-1): one item per source photo per cluster, a similarity floor, a minimum cluster size; and a
 * before/after report. Pure functions on typed arrays; cluster ids are kept (use `relabelDense` to compact them).
 */
import { badArg } from '../../common/errors.ts';

export interface SampleSim { index: number; sim: number }

export interface ClusterSummary {
  id: number;
  size: number;
  meanSim: number;
  minSim: number;
  /** the N members most similar to the centroid, most similar first */
  top: SampleSim[];
  /** the N members least similar to the centroid, least similar first */
  tail: SampleSim[];
}

export interface ClusterStats {
  /** cluster ids, aligned with `centroids` rows, `sizes`, `meanSims`, `clusters` (ascending id) */
  ids: Int32Array;
  sizes: Int32Array;
  meanSims: Float32Array;
  /** L x d normalized centroids */
  centroids: Float32Array;
  /** per point cosine to its cluster's centroid; NaN for noise */
  sims: Float32Array;
  clusters: ClusterSummary[];
}

function checkLabels(labels: ArrayLike<number>, n: number, param = 'labels'): void {
  if (labels.length !== n) throw badArg(param, `length ${labels.length} differs from n=${n}`);
}

/** Per-cluster statistics on cosine geometry. `samples` = N top and N tail members (default 10). */
export function clusterStats(X: Float32Array, n: number, d: number, labels: ArrayLike<number>, opts: { samples?: number } = {}): ClusterStats {
  checkLabels(labels, n);
  if (X.length < n * d) throw badArg('X', `must hold n*d=${n * d} values, got ${X.length}`);
  const N = opts.samples ?? 10;
  if (!Number.isInteger(N) || N < 0) throw badArg('samples', `must be an integer >= 0, got ${N}`);
  const idOf = new Map<number, number>();
  const idList: number[] = [];
  for (let i = 0; i < n; i++) { const l = labels[i]; if (l >= 0 && !idOf.has(l)) { idOf.set(l, 0); idList.push(l); } }
  idList.sort((a, b) => a - b);
  idList.forEach((l, c) => idOf.set(l, c));
  const L = idList.length;
  const inv = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * d;
    for (let p = 0; p < d; p++) s += X[o + p] * X[o + p];
    inv[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  const acc = new Float64Array(L * d);
  const sizes = new Int32Array(L);
  const cl = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0) continue;
    const c = idOf.get(labels[i])!;
    cl[i] = c; sizes[c]++;
    const o = i * d, co = c * d, f = inv[i];
    for (let p = 0; p < d; p++) acc[co + p] += X[o + p] * f;
  }
  const centroids = new Float32Array(L * d);
  for (let c = 0; c < L; c++) {
    let s = 0;
    const co = c * d;
    for (let p = 0; p < d; p++) s += acc[co + p] * acc[co + p];
    const f = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let p = 0; p < d; p++) centroids[co + p] = acc[co + p] * f;
  }
  const sims = new Float32Array(n).fill(NaN);
  const sumSim = new Float64Array(L);
  const members: number[][] = Array.from({ length: L }, () => []);
  for (let i = 0; i < n; i++) {
    const c = cl[i];
    if (c < 0) continue;
    let s = 0;
    const o = i * d, co = c * d;
    for (let p = 0; p < d; p++) s += X[o + p] * centroids[co + p];
    sims[i] = s * inv[i];
    sumSim[c] += sims[i];
    members[c].push(i);
  }
  const meanSims = new Float32Array(L);
  const clusters: ClusterSummary[] = [];
  for (let c = 0; c < L; c++) {
    meanSims[c] = sizes[c] ? sumSim[c] / sizes[c] : 0;
    const m = members[c].sort((a, b) => sims[b] - sims[a] || a - b);
    const top = m.slice(0, N).map((index) => ({ index, sim: sims[index] }));
    const tail = m.slice(Math.max(0, m.length - N)).reverse().map((index) => ({ index, sim: sims[index] }));
    clusters.push({ id: idList[c], size: sizes[c], meanSim: meanSims[c], minSim: m.length ? sims[m[m.length - 1]] : NaN, top, tail });
  }
  return { ids: Int32Array.from(idList), sizes, meanSims, centroids, sims, clusters };
}

/**
 * Keep one item per source photo per cluster: among the members of a cluster that share a source id, the one most
 * similar to the centroid stays, the others become noise. `sims` = per point cosine to its centroid (clusterStats).
 */
export function dropDuplicateSources(labels: Int32Array, sourceIds: ArrayLike<number>, sims: Float32Array): { labels: Int32Array; dropped: number } {
  const n = labels.length;
  checkLabels(sourceIds, n, 'sourceIds');
  checkLabels(sims, n, 'sims');
  const out = labels.slice();
  const keep = new Map<string, number>();
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0) continue;
    const key = `${labels[i]}:${sourceIds[i]}`;
    const j = keep.get(key);
    if (j === undefined) { keep.set(key, i); continue; }
    // keep the closer one (ties: lower index)
    const si = Number.isNaN(sims[i]) ? -Infinity : sims[i];
    const sj = Number.isNaN(sims[j]) ? -Infinity : sims[j];
    if (si > sj) { out[j] = -1; keep.set(key, i); } else out[i] = -1;
    dropped++;
  }
  return { labels: out, dropped };
}

/** Members whose cosine to their centroid is below `threshold` (default 0.7) become noise. */
export function filterBySimilarity(labels: Int32Array, sims: Float32Array, threshold = 0.7): { labels: Int32Array; dropped: number } {
  checkLabels(sims, labels.length, 'sims');
  if (!(threshold >= -1 && threshold <= 1)) throw badArg('threshold', `must be a cosine in [-1, 1], got ${threshold}`);
  const out = labels.slice();
  let dropped = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] >= 0 && !(sims[i] >= threshold)) { out[i] = -1; dropped++; }
  }
  return { labels: out, dropped };
}

/** Clusters with fewer than `min` members become noise. */
export function filterMinSize(labels: Int32Array, min: number): { labels: Int32Array; dropped: number; clustersRemoved: number } {
  if (!Number.isInteger(min) || min < 1) throw badArg('min', `must be a positive integer, got ${min}`);
  const size = new Map<number, number>();
  for (const l of labels) if (l >= 0) size.set(l, (size.get(l) ?? 0) + 1);
  let clustersRemoved = 0;
  for (const s of size.values()) if (s < min) clustersRemoved++;
  const out = labels.slice();
  let dropped = 0;
  for (let i = 0; i < out.length; i++) if (out[i] >= 0 && size.get(out[i])! < min) { out[i] = -1; dropped++; }
  return { labels: out, dropped, clustersRemoved };
}

/** Renumber clusters 0..L-1 by decreasing size (ties: lower old id first); noise stays -1. */
export function relabelDense(labels: Int32Array): Int32Array {
  const size = new Map<number, number>();
  for (const l of labels) if (l >= 0) size.set(l, (size.get(l) ?? 0) + 1);
  const order = [...size.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const map = new Map<number, number>(order.map(([l], i) => [l, i]));
  return labels.map((l) => (l >= 0 ? map.get(l)! : -1));
}

export interface SizeSide {
  clusters: number;
  clustered: number;
  noise: number;
  /** largest `top` clusters: id and size */
  top: Array<{ id: number; size: number }>;
  /** smallest `top` clusters, smallest first */
  tail: Array<{ id: number; size: number }>;
}

function sizeSide(labels: ArrayLike<number>, top: number): SizeSide {
  const size = new Map<number, number>();
  let noise = 0;
  for (let i = 0; i < labels.length; i++) { const l = labels[i]; if (l < 0) noise++; else size.set(l, (size.get(l) ?? 0) + 1); }
  const e = [...size.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([id, s]) => ({ id, size: s }));
  return { clusters: e.length, clustered: labels.length - noise, noise, top: e.slice(0, top), tail: e.slice(Math.max(0, e.length - top)).reverse() };
}

export interface PostprocessReport {
  before: SizeSide;
  after: SizeSide;
  steps: Array<{ step: string; dropped: number }>;
}

/** Top-N and tail-N clusters by size before and after (default 10). */
export function sizeReport(before: ArrayLike<number>, after: ArrayLike<number>, top = 10, steps: PostprocessReport['steps'] = []): PostprocessReport {
  return { before: sizeSide(before, top), after: sizeSide(after, top), steps };
}

export interface PostprocessOptions {
  /** source photo per item; enables dropDuplicateSources */
  sourceIds?: ArrayLike<number>;
  /** cosine floor (default 0.7; null = off) */
  similarity?: number | null;
  /** minimum cluster size after the other filters (default 1 = off) */
  minSize?: number;
  /** top/tail samples per cluster (default 10) */
  samples?: number;
  /** clusters listed in the report (default 10) */
  reportTop?: number;
}

/**
 * The study's pipeline: stats -> one item per source per cluster -> similarity floor -> minimum size -> stats again.
 * Returns the final labels (original ids, noise -1), the final per-cluster stats and the before/after report.
 */
export function postprocess(X: Float32Array, n: number, d: number, labels: Int32Array, opts: PostprocessOptions = {}): { labels: Int32Array; stats: ClusterStats; report: PostprocessReport } {
  checkLabels(labels, n);
  const samples = opts.samples ?? 10;
  const steps: PostprocessReport['steps'] = [];
  let cur: Int32Array = labels.slice();
  let st = clusterStats(X, n, d, cur, { samples: 0 });
  if (opts.sourceIds) {
    const r = dropDuplicateSources(cur, opts.sourceIds, st.sims);
    cur = r.labels; steps.push({ step: 'dropDuplicateSources', dropped: r.dropped });
  }
  const sim = opts.similarity === undefined ? 0.7 : opts.similarity;
  if (sim !== null) {
    const r = filterBySimilarity(cur, st.sims, sim);
    cur = r.labels; steps.push({ step: `filterBySimilarity(${sim})`, dropped: r.dropped });
  }
  const minSize = opts.minSize ?? 1;
  if (minSize > 1) {
    const r = filterMinSize(cur, minSize);
    cur = r.labels; steps.push({ step: `filterMinSize(${minSize})`, dropped: r.dropped });
  }
  st = clusterStats(X, n, d, cur, { samples });
  return { labels: cur, stats: st, report: sizeReport(labels, cur, opts.reportTop ?? 10, steps) };
}
