/**
 * Clustering quality metrics. External (need ground truth): AMI, ARI, NMI, homogeneity, completeness, V-measure,
 * pairwise and BCubed precision/recall/F. Internal: silhouette (via Gemm, sampled), Davies-Bouldin. Descriptive:
 * size distribution and noise share.
 *
 * Noise (label -1, or any negative label) handling:
 *  - external metrics: by default (`noise: 'label'`) every negative label is ONE ordinary label, exactly as
 *    scikit-learn does when handed DBSCAN output (the peers' numbers are computed that way). With
 *    `noise: 'singletons'` each noise point of the PREDICTED labelling becomes its own singleton cluster instead
 *    (stricter for DBSCAN-like output: noise earns no "same cluster" credit). True labels are never remapped.
 *  - silhouette and Davies-Bouldin leave noise points out (as the peers do); fewer than 2 clusters => NaN.
 *  - sizeDistribution counts noise separately (`noise`, `noiseShare`), never as a cluster.
 * Formulas follow scikit-learn 1.2 (natural logs, arithmetic normalization for AMI/NMI).
 */
import { badArg, AppError } from '../common/errors.ts';
import { gemmJs, isUnitRows, normalizeRows, rowSqNorms, transpose, type Gemm } from './linalg.ts';
import { createRng, shuffleInPlace } from './rng.ts';
import type { Metric } from '../common/types.ts';

export type NoiseMode = 'label' | 'singletons';
export interface ExternalOptions { noise?: NoiseMode }

/** Contingency table in sparse form: rows = true classes, cols = predicted clusters. */
export interface Contingency {
  n: number;
  /** class sizes (rows) */
  a: Float64Array;
  /** cluster sizes (cols) */
  b: Float64Array;
  /** nonzero cells: row, col, count */
  cellRow: Int32Array;
  cellCol: Int32Array;
  cellCount: Float64Array;
}

function checkPair(t: ArrayLike<number>, p: ArrayLike<number>): void {
  if (t.length !== p.length) throw badArg('labelsPred', `length ${p.length} differs from labelsTrue length ${t.length}`);
}

/** Dense relabelling 0..L-1 in order of first appearance; `singletonNoise` gives each negative label its own id. */
function relabel(l: ArrayLike<number>, singletonNoise: boolean): { ids: Int32Array; count: number } {
  const ids = new Int32Array(l.length);
  const map = new Map<number, number>();
  let count = 0;
  for (let i = 0; i < l.length; i++) {
    const v = l[i];
    if (!Number.isFinite(v)) throw badArg('labels', `label at ${i} is not a finite number`);
    if (singletonNoise && v < 0) { ids[i] = count++; continue; }
    let id = map.get(v);
    if (id === undefined) { id = count++; map.set(v, id); }
    ids[i] = id;
  }
  return { ids, count };
}

export function contingency(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, opts: ExternalOptions = {}): Contingency {
  checkPair(labelsTrue, labelsPred);
  const n = labelsTrue.length;
  const t = relabel(labelsTrue, false);
  const p = relabel(labelsPred, opts.noise === 'singletons');
  const a = new Float64Array(t.count);
  const b = new Float64Array(p.count);
  const cells = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const r = t.ids[i], c = p.ids[i];
    a[r]++; b[c]++;
    const key = r * p.count + c;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  const m = cells.size;
  const cellRow = new Int32Array(m), cellCol = new Int32Array(m), cellCount = new Float64Array(m);
  let q = 0;
  for (const [key, v] of cells) {
    cellRow[q] = Math.floor(key / p.count); cellCol[q] = key % p.count; cellCount[q] = v; q++;
  }
  return { n, a, b, cellRow, cellCol, cellCount };
}

function entropyOf(sizes: Float64Array, n: number): number {
  if (n === 0) return 1;
  let h = 0;
  for (let i = 0; i < sizes.length; i++) {
    const s = sizes[i];
    if (s > 0) h -= (s / n) * Math.log(s / n);
  }
  return h;
}

function mutualInfo(c: Contingency): number {
  const { n, a, b } = c;
  let mi = 0;
  for (let q = 0; q < c.cellCount.length; q++) {
    const nij = c.cellCount[q];
    mi += (nij / n) * Math.log((n * nij) / (a[c.cellRow[q]] * b[c.cellCol[q]]));
  }
  return Math.max(0, mi);
}

/** log(k!) for k = 0..n */
function logFactorials(n: number): Float64Array {
  const t = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) t[k] = t[k - 1] + Math.log(k);
  return t;
}

/**
 * Expected mutual information under the hypergeometric model (Vinh et al. 2010), as sklearn's
 * `expected_mutual_information`. The inner sum over n_ij runs over a unimodal pmf; it stops once past the mode and the
 * pmf falls below 1e-18 (the rest is then < 1e-16 of the sum), which makes 600 x 600 tables fast.
 */
export function expectedMutualInfo(c: Contingency): number {
  const { n: N, a, b } = c;
  const R = a.length, C = b.length;
  if (R === 1 || C === 1) return 0;
  const lf = logFactorials(N);
  const logN = Math.log(N);
  let emi = 0;
  for (let i = 0; i < R; i++) {
    const ai = a[i];
    const la = Math.log(ai);
    const gA = lf[ai] + lf[N - ai];
    for (let j = 0; j < C; j++) {
      const bj = b[j];
      const start = Math.max(1, ai - N + bj);
      const end = Math.min(ai, bj);
      const base = gA + lf[bj] + lf[N - bj] - lf[N];
      const lab = la + Math.log(bj);
      const mode = Math.floor(((ai + 1) * (bj + 1)) / (N + 2));
      for (let nij = start; nij <= end; nij++) {
        const p = Math.exp(base - lf[nij] - lf[ai - nij] - lf[bj - nij] - lf[N - ai - bj + nij]);
        emi += (nij / N) * (logN + Math.log(nij) - lab) * p;
        if (nij > mode && p < 1e-18) break;
      }
    }
  }
  return emi;
}

const EPS64 = 2.220446049250313e-16;

/** Adjusted mutual information, arithmetic normalization (sklearn's default). */
export function adjustedMutualInfo(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, opts: ExternalOptions = {}): number {
  const c = contingency(labelsTrue, labelsPred, opts);
  const R = c.a.length, C = c.b.length;
  if ((R === 1 && C === 1) || (R === 0 && C === 0)) return 1;
  const mi = mutualInfo(c);
  const emi = expectedMutualInfo(c);
  const ht = entropyOf(c.a, c.n), hp = entropyOf(c.b, c.n);
  let den = (ht + hp) / 2 - emi;
  den = den < 0 ? Math.min(den, -EPS64) : Math.max(den, EPS64);
  return (mi - emi) / den;
}

/** Normalized mutual information, arithmetic normalization. */
export function normalizedMutualInfo(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, opts: ExternalOptions = {}): number {
  const c = contingency(labelsTrue, labelsPred, opts);
  const R = c.a.length, C = c.b.length;
  if ((R === 1 && C === 1) || (R === 0 && C === 0)) return 1;
  const mi = mutualInfo(c);
  if (mi === 0) return 0;
  return mi / ((entropyOf(c.a, c.n) + entropyOf(c.b, c.n)) / 2);
}

/** Adjusted Rand index (sklearn 1.2's pair-confusion form). */
export function adjustedRandIndex(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, opts: ExternalOptions = {}): number {
  const c = contingency(labelsTrue, labelsPred, opts);
  const n = c.n;
  let sumSq = 0, sa = 0, sb = 0;
  for (const v of c.cellCount) sumSq += v * v;
  for (const v of c.a) sa += v * v;
  for (const v of c.b) sb += v * v;
  const tp = sumSq - n;
  const fp = sb - sumSq;
  const fn = sa - sumSq;
  const tn = n * n - fp - fn - sumSq;
  if (fn === 0 && fp === 0) return 1;
  return (2 * (tp * tn - fn * fp)) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

export interface HCV { homogeneity: number; completeness: number; vMeasure: number }

export function homogeneityCompletenessV(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, opts: ExternalOptions & { beta?: number } = {}): HCV {
  const beta = opts.beta ?? 1;
  if (labelsTrue.length === 0) return { homogeneity: 1, completeness: 1, vMeasure: 1 };
  const c = contingency(labelsTrue, labelsPred, opts);
  const hc = entropyOf(c.a, c.n), hk = entropyOf(c.b, c.n);
  const mi = mutualInfo(c);
  const homogeneity = hc ? mi / hc : 1;
  const completeness = hk ? mi / hk : 1;
  const vMeasure = homogeneity + completeness === 0 ? 0 : ((1 + beta) * homogeneity * completeness) / (beta * homogeneity + completeness);
  return { homogeneity, completeness, vMeasure };
}

export interface PRF { precision: number; recall: number; f: number }

const f1 = (p: number, r: number): number => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

/**
 * Pairwise precision/recall/F: over all unordered pairs of points, precision = share of pairs put together by the
 * prediction that share a true class; recall = share of same-class pairs put together. No pairs => 1.
 */
export function pairwisePRF(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, opts: ExternalOptions = {}): PRF {
  const c = contingency(labelsTrue, labelsPred, opts);
  let tp = 0, pp = 0, tt = 0;
  for (const v of c.cellCount) tp += (v * (v - 1)) / 2;
  for (const v of c.b) pp += (v * (v - 1)) / 2;
  for (const v of c.a) tt += (v * (v - 1)) / 2;
  const precision = pp > 0 ? tp / pp : 1;
  const recall = tt > 0 ? tp / tt : 1;
  return { precision, recall, f: f1(precision, recall) };
}

/** BCubed precision/recall/F (Bagga & Baldwin): per-item averages of |cluster ∩ class| / |cluster| and / |class|. */
export function bcubedPRF(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, opts: ExternalOptions = {}): PRF {
  const c = contingency(labelsTrue, labelsPred, opts);
  if (c.n === 0) return { precision: 1, recall: 1, f: 1 };
  let p = 0, r = 0;
  for (let q = 0; q < c.cellCount.length; q++) {
    const v = c.cellCount[q];
    p += (v * v) / c.b[c.cellCol[q]];
    r += (v * v) / c.a[c.cellRow[q]];
  }
  const precision = p / c.n, recall = r / c.n;
  return { precision, recall, f: f1(precision, recall) };
}

export interface ExternalScores extends HCV {
  ami: number; ari: number; nmi: number;
  pairwise: PRF; bcubed: PRF;
}

/** All external scores at once. */
export function externalScores(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, opts: ExternalOptions = {}): ExternalScores {
  return {
    ami: adjustedMutualInfo(labelsTrue, labelsPred, opts),
    ari: adjustedRandIndex(labelsTrue, labelsPred, opts),
    nmi: normalizedMutualInfo(labelsTrue, labelsPred, opts),
    ...homogeneityCompletenessV(labelsTrue, labelsPred, opts),
    pairwise: pairwisePRF(labelsTrue, labelsPred, opts),
    bcubed: bcubedPRF(labelsTrue, labelsPred, opts),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// internal metrics

export interface SilhouetteOptions {
  metric?: Metric;
  /** evaluate on a seeded random sample of this many (non-noise) points when there are more (default 10,000) */
  sampleSize?: number;
  seed?: number;
  gemm?: Gemm;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

export interface SilhouetteResult {
  /** mean silhouette over the evaluated points; NaN when fewer than 2 clusters or every point is its own cluster */
  score: number;
  /** points evaluated (after leaving noise out and sampling) */
  n: number;
  /** per evaluated point silhouette values, aligned with `indices` */
  values: Float32Array;
  indices: Int32Array;
}

/**
 * Mean silhouette coefficient (noise left out). Distances by blocked Gemm: cosine distance 1 - cos on normalized rows,
 * or euclidean. Above `sampleSize` points a seeded sample is scored (like sklearn's `sample_size`).
 */
export async function silhouette(X: Float32Array, n: number, d: number, labels: Int32Array | ArrayLike<number>, opts: SilhouetteOptions = {}): Promise<SilhouetteResult> {
  if (labels.length !== n) throw badArg('labels', `length ${labels.length} differs from n=${n}`);
  if (X.length < n * d) throw badArg('X', `has ${X.length} values, expected n*d=${n * d}`);
  const metric = opts.metric ?? 'cosine';
  const sampleSize = opts.sampleSize ?? 10000;
  if (!(sampleSize >= 2)) throw badArg('sampleSize', `must be >= 2, got ${sampleSize}`);
  const gemm = opts.gemm ?? gemmJs;
  let idx: Int32Array;
  {
    const keep: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i] >= 0) keep.push(i);
    idx = Int32Array.from(keep);
    if (idx.length > sampleSize) {
      shuffleInPlace(idx, createRng(opts.seed ?? 0));
      idx = idx.slice(0, sampleSize).sort();
    }
  }
  const m = idx.length;
  const rel = relabel(Array.from(idx, (i) => labels[i]), false);
  const L = rel.count;
  const lab = rel.ids;
  const empty = { score: NaN, n: m, values: new Float32Array(m), indices: idx };
  if (L < 2 || L >= m) return empty;
  const S = new Float32Array(m * d);
  for (let t = 0; t < m; t++) S.set(X.subarray(idx[t] * d, idx[t] * d + d), t * d);
  const Sx = metric === 'cosine' ? normalizeRows(S, m, d) : S;
  const sq = metric === 'euclidean' ? rowSqNorms(Sx, m, d) : null;
  const St = transpose(Sx, m, d);
  const counts = new Float64Array(L);
  for (let t = 0; t < m; t++) counts[lab[t]]++;
  const values = new Float32Array(m);
  const sums = new Float64Array(L);
  const block = Math.max(1, Math.min(m, Math.floor((4 << 20) / m)));
  let total = 0;
  for (let b0 = 0; b0 < m; b0 += block) {
    if (opts.isCancelled?.()) throw new AppError('CANCELLED', 'silhouette cancelled');
    const b1 = Math.min(m, b0 + block);
    const G = await gemm(Sx.subarray(b0 * d, b1 * d), b1 - b0, St, m, d);
    for (let r = 0; r < b1 - b0; r++) {
      const i = b0 + r;
      sums.fill(0);
      const o = r * m;
      if (sq) {
        const si = sq[i];
        for (let j = 0; j < m; j++) {
          const v = si + sq[j] - 2 * G[o + j];
          sums[lab[j]] += v > 0 ? Math.sqrt(v) : 0;
        }
        // remove self (numerically ~0)
        const v = 2 * si - 2 * G[o + i];
        sums[lab[i]] -= v > 0 ? Math.sqrt(v) : 0;
      } else {
        for (let j = 0; j < m; j++) sums[lab[j]] += 1 - G[o + j];
        sums[lab[i]] -= 1 - G[o + i];
      }
      const li = lab[i];
      if (counts[li] <= 1) { values[i] = 0; continue; }
      const a = Math.max(0, sums[li] / (counts[li] - 1));
      let bmin = Infinity;
      for (let c = 0; c < L; c++) if (c !== li) { const v = sums[c] / counts[c]; if (v < bmin) bmin = v; }
      bmin = Math.max(0, bmin);
      const den = Math.max(a, bmin);
      const s = den > 0 ? (bmin - a) / den : 0;
      values[i] = s;
      total += s;
    }
    opts.onProgress?.(b1, m);
  }
  return { score: total / m, n: m, values, indices: idx };
}

/**
 * Davies-Bouldin index (lower is better), euclidean on the rows as given, or on L2-normalized rows for
 * `metric: 'cosine'` (the default, matching the rest of the cluster code). Noise left out; < 2 clusters => NaN.
 */
export function daviesBouldin(X: Float32Array, n: number, d: number, labels: ArrayLike<number>, opts: { metric?: Metric } = {}): number {
  if (labels.length !== n) throw badArg('labels', `length ${labels.length} differs from n=${n}`);
  const metric = opts.metric ?? 'cosine';
  // unit rows (the usual embedding file) are used as they are: no copy of a large matrix
  const Y = metric === 'cosine' && !isUnitRows(X, n, d) ? normalizeRows(X, n, d) : X;
  const map = new Map<number, number>();
  for (let i = 0; i < n; i++) if (labels[i] >= 0 && !map.has(labels[i])) map.set(labels[i], map.size);
  const L = map.size;
  if (L < 2) return NaN;
  const cnt = new Float64Array(L);
  const cen = new Float64Array(L * d);
  const lab = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0) continue;
    const c = map.get(labels[i])!;
    lab[i] = c; cnt[c]++;
    const o = i * d, co = c * d;
    for (let p = 0; p < d; p++) cen[co + p] += Y[o + p];
  }
  for (let c = 0; c < L; c++) for (let p = 0; p < d; p++) cen[c * d + p] /= cnt[c];
  const intra = new Float64Array(L);
  for (let i = 0; i < n; i++) {
    const c = lab[i];
    if (c < 0) continue;
    let s = 0;
    const o = i * d, co = c * d;
    for (let p = 0; p < d; p++) { const v = Y[o + p] - cen[co + p]; s += v * v; }
    intra[c] += Math.sqrt(s);
  }
  for (let c = 0; c < L; c++) intra[c] /= cnt[c];
  let allIntraZero = true;
  for (const v of intra) if (Math.abs(v) > 1e-15) allIntraZero = false;
  if (allIntraZero) return 0;
  let total = 0;
  let allCenZero = true;
  for (let a = 0; a < L; a++) {
    let best = -Infinity;
    for (let b = 0; b < L; b++) {
      if (a === b) continue;
      let s = 0;
      for (let p = 0; p < d; p++) { const v = cen[a * d + p] - cen[b * d + p]; s += v * v; }
      const dist = Math.sqrt(s);
      if (dist > 1e-15) allCenZero = false;
      const r = dist === 0 ? 0 : (intra[a] + intra[b]) / dist;
      if (r > best) best = r;
    }
    total += best;
  }
  if (allCenZero) return 0;
  return total / L;
}

export interface SizeDistribution {
  /** cluster sizes, largest first (noise not included) */
  sizes: Int32Array;
  /** distinct cluster ids, aligned with `sizes` */
  clusterIds: Int32Array;
  count: number;
  min: number;
  median: number;
  max: number;
  mean: number;
  /** points with a negative label */
  noise: number;
  noiseShare: number;
  singletons: number;
}

export function sizeDistribution(labels: ArrayLike<number>): SizeDistribution {
  const map = new Map<number, number>();
  let noise = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < 0) { noise++; continue; }
    map.set(l, (map.get(l) ?? 0) + 1);
  }
  const entries = [...map.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
  const sizes = Int32Array.from(entries, (e) => e[1]);
  const clusterIds = Int32Array.from(entries, (e) => e[0]);
  const count = sizes.length;
  const asc = Array.from(sizes).reverse();
  const median = count === 0 ? 0 : count % 2 ? asc[(count - 1) / 2] : (asc[count / 2 - 1] + asc[count / 2]) / 2;
  let singletons = 0;
  for (const s of sizes) if (s === 1) singletons++;
  return {
    sizes, clusterIds, count,
    min: count ? sizes[count - 1] : 0, median, max: count ? sizes[0] : 0,
    mean: count ? (labels.length - noise) / count : 0,
    noise, noiseShare: labels.length ? noise / labels.length : 0, singletons,
  };
}

/** Share of points labelled noise (negative). */
export function noiseShare(labels: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] < 0) c++;
  return labels.length ? c / labels.length : 0;
}
