/**
 * Parameter sweeps for charts and for picking a parameter: the k-means elbow (inertia over k with the knee found by
 * Kneedle), silhouette over k (sampled), and a constrained sweep that refuses degenerate answers (too few clusters, too
 * much noise) — used for DBSCAN's eps, but generic over any labelling function.
 */
import { AppError, badArg } from '../../common/errors.ts';
import type { Gemm } from '../linalg.ts';
import { adjustedMutualInfo, adjustedRandIndex, noiseShare, silhouette } from '../metrics.ts';
import { dbscan } from './dbscan.ts';
import { kmeans, type KMeansOptions } from './kmeans.ts';

export type { SweepPoint, SweepResult } from '../../common/jobs.ts';
import type { SweepPoint, SweepResult } from '../../common/jobs.ts';
import type { Metric } from '../../common/types.ts';

/**
 * Kneedle (Satopää et al. 2011) on a curve given by xs ascending: both axes scaled to [0, 1], the knee is the point
 * farthest above (concave) or below (convex) the chord between the end points. Direction and curvature are inferred
 * from the data (inertia over k: decreasing and convex). Returns the index, or -1 when fewer than 3 points or flat.
 */
export function kneedle(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  const m = xs.length;
  if (ys.length !== m) throw badArg('ys', `length ${ys.length} differs from xs length ${m}`);
  if (m < 3) return -1;
  const x0 = xs[0], x1 = xs[m - 1];
  let ymin = Infinity, ymax = -Infinity;
  for (let i = 0; i < m; i++) { ymin = Math.min(ymin, ys[i]); ymax = Math.max(ymax, ys[i]); }
  if (!(x1 > x0) || !(ymax > ymin)) return -1;
  const decreasing = ys[m - 1] < ys[0];
  // chord-relative difference: positive above the chord
  let best = -1, bestV = -Infinity, sumDiff = 0;
  const diffs = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const xn = (xs[i] - x0) / (x1 - x0);
    const yn = (ys[i] - ymin) / (ymax - ymin);
    const chord = decreasing ? 1 - xn : xn;
    diffs[i] = yn - chord;
    sumDiff += diffs[i];
  }
  // convex curves lie below the chord: the knee maximizes the distance below
  const sign = sumDiff < 0 ? -1 : 1;
  for (let i = 1; i < m - 1; i++) {
    const v = sign * diffs[i];
    if (v > bestV) { bestV = v; best = i; }
  }
  return bestV > 0 ? best : -1;
}

function checkKs(ks: number[], n: number): void {
  if (!Array.isArray(ks) || ks.length === 0) throw badArg('ks', 'must be a non-empty list of cluster counts');
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw badArg('ks', `every k must be a positive integer, got ${k}`);
    if (k > n) throw badArg('ks', `k=${k} exceeds the number of points ${n}`);
  }
}

export interface KSweepOptions extends Omit<KMeansOptions, 'onProgress'> {
  onProgress?: (done: number, total: number) => void;
}

/** Inertia over k (ks sorted ascending); the knee (Kneedle) is marked and returned as `best`. */
export async function elbowSweep(X: Float32Array, n: number, d: number, ks: number[], opts: KSweepOptions = {}): Promise<SweepResult> {
  checkKs(ks, n);
  const sorted = [...new Set(ks)].sort((a, b) => a - b);
  const points: SweepPoint[] = [];
  for (let t = 0; t < sorted.length; t++) {
    if (opts.isCancelled?.()) throw new AppError('CANCELLED', 'elbow sweep cancelled');
    const r = await kmeans(X, n, d, sorted[t], { ...opts, onProgress: undefined });
    points.push({ param: 'k', value: sorted[t], clusters: sorted[t], noiseShare: 0, score: r.inertia });
    opts.onProgress?.(t + 1, sorted.length);
  }
  const knee = kneedle(points.map((p) => p.value), points.map((p) => p.score));
  if (knee >= 0) points[knee].knee = true;
  return { points, best: knee >= 0 ? points[knee] : null };
}

/** k-means for each k, scored by the (sampled) silhouette; best = highest silhouette. */
export async function silhouetteSweep(
  X: Float32Array, n: number, d: number, ks: number[],
  opts: KSweepOptions & { sampleSize?: number } = {},
): Promise<SweepResult> {
  checkKs(ks, n);
  const sorted = [...new Set(ks)].sort((a, b) => a - b);
  const points: SweepPoint[] = [];
  let best: SweepPoint | null = null;
  for (let t = 0; t < sorted.length; t++) {
    if (opts.isCancelled?.()) throw new AppError('CANCELLED', 'silhouette sweep cancelled');
    const k = sorted[t];
    const r = await kmeans(X, n, d, k, { ...opts, onProgress: undefined });
    const s = await silhouette(X, n, d, r.labels, { metric: opts.metric, sampleSize: opts.sampleSize, seed: opts.seed, gemm: opts.gemm, isCancelled: opts.isCancelled });
    const p: SweepPoint = { param: 'k', value: k, clusters: k, noiseShare: 0, score: s.score };
    if (Number.isNaN(s.score)) p.rejected = 'silhouette undefined (fewer than 2 clusters or all singletons)';
    points.push(p);
    if (!p.rejected && (!best || p.score > best.score)) best = p;
    opts.onProgress?.(t + 1, sorted.length);
  }
  return { points, best, runnerUp: runnerUp(points, best) };
}

/** The best point after `best` among those not rejected. */
export function runnerUp(points: SweepPoint[], best: SweepPoint | null): SweepPoint | null {
  let r: SweepPoint | null = null;
  for (const p of points) if (p !== best && !p.rejected && Number.isFinite(p.score) && (!r || p.score > r.score)) r = p;
  return best ? r : null;
}

export interface ConstraintOptions {
  /** reject answers with fewer clusters (default 2) */
  minClusters?: number;
  /** reject answers with more clusters (default Infinity) */
  maxClusters?: number;
  /** reject answers with a larger noise share (default 0.5) */
  maxNoiseShare?: number;
  /** reject answers whose largest cluster holds more than this share of the points (default 1 = off) */
  maxLargestShare?: number;
  /**
   * count points in clusters of one as noise for `maxNoiseShare` (default false): DBSCAN with min samples 1 calls
   * every isolated point a cluster, which would otherwise pass the noise guard as "no noise"
   */
  singletonsAsNoise?: boolean;
}

/**
 * Generic constrained sweep: `run(value)` gives labels (noise -1), `score(labels)` a number (higher is better).
 * Points breaking a constraint carry `rejected` and are never chosen; best = highest score among the rest.
 */
export async function constrainedSweep(
  param: string, values: number[],
  run: (value: number) => Promise<Int32Array> | Int32Array,
  score: (labels: Int32Array, value: number) => Promise<number> | number,
  opts: ConstraintOptions & { onProgress?: (done: number, total: number) => void; isCancelled?: () => boolean } = {},
): Promise<SweepResult> {
  if (!Array.isArray(values) || values.length === 0) throw badArg('values', 'must be a non-empty list');
  const minClusters = opts.minClusters ?? 2;
  const maxClusters = opts.maxClusters ?? Infinity;
  const maxNoise = opts.maxNoiseShare ?? 0.5;
  const maxLargest = opts.maxLargestShare ?? 1;
  if (!(minClusters >= 0)) throw badArg('minClusters', `must be >= 0, got ${minClusters}`);
  if (!(maxNoise >= 0 && maxNoise <= 1)) throw badArg('maxNoiseShare', `must be in [0, 1], got ${maxNoise}`);
  const points: SweepPoint[] = [];
  let best: SweepPoint | null = null;
  for (let t = 0; t < values.length; t++) {
    if (opts.isCancelled?.()) throw new AppError('CANCELLED', `${param} sweep cancelled`);
    const v = values[t];
    const labels = await run(v);
    const sizes = new Map<number, number>();
    for (const l of labels) if (l >= 0) sizes.set(l, (sizes.get(l) ?? 0) + 1);
    const clusters = sizes.size;
    const ns = noiseShare(labels);
    let largest = 0, ones = 0;
    for (const s of sizes.values()) { largest = Math.max(largest, s); if (s === 1) ones++; }
    // the share the noise guard sees (the point reports the labels' own noise share)
    const guardNs = opts.singletonsAsNoise && labels.length ? ns + ones / labels.length : ns;
    const p: SweepPoint = { param, value: v, clusters, noiseShare: ns, score: NaN };
    if (clusters < minClusters) p.rejected = `${clusters} clusters < minClusters ${minClusters}`;
    else if (clusters > maxClusters) p.rejected = `${clusters} clusters > maxClusters ${maxClusters}`;
    else if (guardNs > maxNoise) p.rejected = `noise share ${guardNs.toFixed(3)}${guardNs !== ns ? ' (with clusters of one)' : ''} > maxNoiseShare ${maxNoise}`;
    else if (labels.length && largest / labels.length > maxLargest) p.rejected = `largest cluster holds ${(largest / labels.length).toFixed(3)} > maxLargestShare ${maxLargest}`;
    p.score = await score(labels, v);
    if (!p.rejected && Number.isNaN(p.score)) p.rejected = 'score undefined';
    points.push(p);
    if (!p.rejected && (!best || p.score > best.score)) best = p;
    opts.onProgress?.(t + 1, values.length);
  }
  return { points, best, runnerUp: runnerUp(points, best) };
}

export interface EpsSweepOptions extends ConstraintOptions {
  metric?: Metric;
  gemm?: Gemm;
  /** silhouette sample (default 10,000) and seed */
  sampleSize?: number;
  seed?: number;
  /** custom score instead of the silhouette of the non-noise points, e.g. AMI against known labels */
  score?: (labels: Int32Array, eps: number) => Promise<number> | number;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

/** DBSCAN over eps values with constraints; default score = silhouette of the non-noise points. */
export async function dbscanEpsSweep(X: Float32Array, n: number, d: number, epsValues: number[], minSamples: number, opts: EpsSweepOptions = {}): Promise<SweepResult> {
  for (const e of epsValues ?? []) if (!(e > 0) || !Number.isFinite(e)) throw badArg('epsValues', `every eps must be a finite number > 0, got ${e}`);
  const score = opts.score ?? (async (labels: Int32Array) =>
    (await silhouette(X, n, d, labels, { metric: opts.metric, sampleSize: opts.sampleSize, seed: opts.seed, gemm: opts.gemm })).score);
  return constrainedSweep('eps', epsValues, async (eps) => (await dbscan(X, n, d, eps, minSamples, { metric: opts.metric, gemm: opts.gemm, isCancelled: opts.isCancelled })).labels, score, opts);
}

/**
 * Agreement with known labels: the AMI and ARI of a labelling against `labelsTrue` over the items whose true label is
 * known (negative = unknown, left out); noise points count as clusters of one (they earn no "same group" credit).
 */
export function labelAgreement(labelsTrue: Int32Array): (labels: Int32Array) => { ami: number; ari: number } {
  const keep: number[] = [];
  const classes = new Set<number>();
  for (let i = 0; i < labelsTrue.length; i++) if (labelsTrue[i] >= 0) { keep.push(i); classes.add(labelsTrue[i]); }
  if (classes.size < 2) throw badArg('labels', `the labels name ${classes.size} class${classes.size === 1 ? '' : 'es'} among these items; a sweep against labels needs at least 2`);
  const t = Int32Array.from(keep, (i) => labelsTrue[i]);
  return (labels) => {
    if (labels.length !== labelsTrue.length) throw badArg('labels', `${labelsTrue.length} labels for ${labels.length} rows`);
    const p = Int32Array.from(keep, (i) => labels[i]);
    return { ami: adjustedMutualInfo(t, p, { noise: 'singletons' }), ari: adjustedRandIndex(t, p, { noise: 'singletons' }) };
  };
}

/**
 * Ranking a sweep by agreement with known labels: `score` (for constrainedSweep or dbscanEpsSweep) gives a labelling's
 * AMI against `labelsTrue` and keeps its ARI, which `annotate` then writes onto the sweep's points.
 */
export function labelledScore(labelsTrue: Int32Array): { score: (labels: Int32Array, value: number) => number; annotate: (r: SweepResult) => SweepResult } {
  const agree = labelAgreement(labelsTrue);
  const ari = new Map<number, number>();
  return {
    score: (labels, value) => { const a = agree(labels); ari.set(value, a.ari); return a.ami; },
    annotate: (r) => { for (const p of r.points) p.ari = ari.get(p.value); return r; },
  };
}
