/**
 * Agglomerative clustering: Ward (euclidean), average and complete linkage (cosine = 1 - cos, or euclidean), by the
 * nearest-neighbour-chain algorithm with Lance-Williams updates on a condensed Float32Array distance matrix
 * (n(n-1)/2 values, O(n^2) memory). Heights follow scipy / scikit-learn: for Ward the merge distance of clusters A, B is
 * sqrt(2 |A||B| / (|A|+|B|)) * |c_A - c_B| (= the euclidean distance for two single points), so `distanceThreshold`
 * means what it means in sklearn's AgglomerativeClustering (n_clusters = #merges with distance >= threshold, + 1).
 *
 * Above `maxExact` points Ward runs on k-means micro-clusters (centroids weighted by their sizes: the initial Ward
 * distance of two micro-clusters is the size-aware formula above), and each point takes its micro-cluster's label.
 *
 * Pure numeric code; the distance blocks go through the injected Gemm; k-means from ./kmeans.ts.
 */
import { AppError, badArg } from '../../common/errors.ts';
import { gemmJs, normalizeRows, rowSqNorms, transpose, type Gemm } from '../linalg.ts';
import { createRng } from '../rng.ts';
import { kmeans } from './kmeans.ts';

export type Linkage = 'ward' | 'average' | 'complete';
export type AggloMetric = 'euclidean' | 'cosine';

export interface AgglomerativeOptions {
  linkage?: Linkage;
  /** ward: euclidean only (default); average / complete: cosine by default */
  metric?: AggloMetric;
  /** cut into this many clusters (give this or distanceThreshold) */
  nClusters?: number;
  /** cut where merge distances reach this (sklearn semantics) */
  distanceThreshold?: number;
  /** largest n clustered exactly (default 12000; see bench/hdbscan.mts for the time/memory behind it) */
  maxExact?: number;
  /** micro-clusters above maxExact (default min(maxExact, 2000)) */
  microClusters?: number;
  /** k-means iterations for the micro-clusters (default 30) */
  microIter?: number;
  seed?: number;
  gemm?: Gemm;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

/** scipy-format dendrogram over the leaves (points, or micro-clusters): row i merges left and right into n_leaves + i. */
export interface Dendrogram {
  nLeaves: number;
  left: Int32Array;
  right: Int32Array;
  distance: Float64Array;
  size: Int32Array;
}

export interface AgglomerativeResult {
  labels: Int32Array;
  nClusters: number;
  dendrogram: Dendrogram;
  method: 'exact' | 'microclusters';
  microClusters?: number;
  /** point -> micro-cluster (leaf of the dendrogram) when method is 'microclusters' */
  microLabels?: Int32Array;
}

const cancelled = (): AppError => new AppError('CANCELLED', 'agglomerative clustering cancelled');

/** Largest n whose condensed matrix fits a typed array here. */
const HARD_MAX = 46000;

function validate(n: number, d: number, o: AgglomerativeOptions) {
  if (!Number.isInteger(n) || n < 1) throw badArg('n', `must be a positive integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw badArg('d', `must be a positive integer, got ${d}`);
  const linkage = o.linkage ?? 'ward';
  if (linkage !== 'ward' && linkage !== 'average' && linkage !== 'complete') {
    throw badArg('linkage', `must be 'ward', 'average' or 'complete', got ${String(linkage)}`);
  }
  const metric = o.metric ?? (linkage === 'ward' ? 'euclidean' : 'cosine');
  if (metric !== 'euclidean' && metric !== 'cosine') throw badArg('metric', `must be 'euclidean' or 'cosine', got ${String(metric)}`);
  if (linkage === 'ward' && metric !== 'euclidean') throw badArg('metric', `ward linkage needs euclidean distances, got ${metric}`);
  const hasK = o.nClusters !== undefined, hasT = o.distanceThreshold !== undefined;
  if (hasK === hasT) throw badArg('nClusters', 'give exactly one of nClusters and distanceThreshold');
  if (hasK && (!Number.isInteger(o.nClusters) || o.nClusters! < 1 || o.nClusters! > n)) {
    throw badArg('nClusters', `must be an integer in [1, ${n}], got ${o.nClusters}`);
  }
  if (hasT && !(Number.isFinite(o.distanceThreshold) && o.distanceThreshold! >= 0)) {
    throw badArg('distanceThreshold', `must be a finite number >= 0, got ${o.distanceThreshold}`);
  }
  const maxExact = o.maxExact ?? 12000;
  if (!Number.isInteger(maxExact) || maxExact < 2 || maxExact > HARD_MAX) throw badArg('maxExact', `must be an integer in [2, ${HARD_MAX}], got ${maxExact}`);
  const micro = o.microClusters ?? Math.min(maxExact, 2000);
  if (!Number.isInteger(micro) || micro < 2 || micro > maxExact) throw badArg('microClusters', `must be an integer in [2, maxExact], got ${micro}`);
  if (n > maxExact && linkage !== 'ward') throw badArg('linkage', `${linkage} linkage runs exactly only; n = ${n} exceeds maxExact = ${maxExact}`);
  if (hasK && n > maxExact && o.nClusters! > micro) throw badArg('nClusters', `${o.nClusters} clusters need more than the ${micro} micro-clusters`);
  return { linkage, metric, maxExact, micro };
}

/** Agglomerative clustering of the n rows of X. X is not modified. */
export async function agglomerative(X: Float32Array, n: number, d: number, opts: AgglomerativeOptions): Promise<AgglomerativeResult> {
  const p = validate(n, d, opts);
  if (X.length < n * d) throw badArg('X', `has ${X.length} values, expected ${n} x ${d}`);
  for (let i = 0; i < n * d; i++) if (!Number.isFinite(X[i])) throw badArg('X', `value at row ${Math.floor(i / d)} is not finite`);
  const gemm = opts.gemm ?? gemmJs;
  if (n === 1) {
    return { labels: new Int32Array(1), nClusters: 1, dendrogram: emptyDendrogram(1), method: 'exact' };
  }
  if (n <= p.maxExact) {
    const Y = p.metric === 'cosine' ? normalizeRows(X, n, d) : centred(X, n, d);
    const D = await condensedDistances(Y, n, d, p.linkage === 'ward' ? 'sqeuclidean' : p.metric, gemm, opts.isCancelled);
    const dendro = nnChain(D, n, p.linkage, null, opts);
    const labels = cutDendrogram(dendro, opts.nClusters, opts.distanceThreshold);
    return { labels: labels.labels, nClusters: labels.k, dendrogram: dendro, method: 'exact' };
  }
  // Ward on weighted k-means micro-clusters
  const m = p.micro;
  const Y = centred(X, n, d);
  const rng = createRng(opts.seed ?? 0);
  const pick = new Int32Array(n);
  for (let i = 0; i < n; i++) pick[i] = i;
  for (let i = 0; i < m; i++) { const j = i + rng.int(n - i); const t = pick[i]; pick[i] = pick[j]; pick[j] = t; }
  const init = new Float32Array(m * d);
  for (let i = 0; i < m; i++) init.set(Y.subarray(pick[i] * d, pick[i] * d + d), i * d);
  const km = await kmeans(Y, n, d, m, {
    metric: 'euclidean', init, maxIter: opts.microIter ?? 30, seed: opts.seed ?? 0, gemm, algorithm: 'lloyd',
    isCancelled: opts.isCancelled,
  });
  const sizes = new Float64Array(m);
  for (let i = 0; i < n; i++) sizes[km.labels[i]]++;
  // drop empty micro-clusters (k-means relocates them, but be safe)
  const keep: number[] = [];
  for (let c = 0; c < m; c++) if (sizes[c] > 0) keep.push(c);
  const mm = keep.length;
  const remap = new Int32Array(m).fill(-1);
  keep.forEach((c, i) => { remap[c] = i; });
  const C = new Float32Array(mm * d);
  const w = new Float64Array(mm);
  keep.forEach((c, i) => { C.set(km.centroids.subarray(c * d, c * d + d), i * d); w[i] = sizes[c]; });
  const D = await condensedDistances(C, mm, d, 'sqeuclidean', gemm, opts.isCancelled);
  // size-aware initial Ward distance (squared): 2 wa wb / (wa + wb) |ca - cb|^2
  let idx = 0;
  for (let i = 0; i < mm; i++) for (let j = i + 1; j < mm; j++, idx++) D[idx] = (2 * w[i] * w[j] / (w[i] + w[j])) * D[idx];
  const dendro = nnChain(D, mm, 'ward', w, opts);
  const cut = cutDendrogram(dendro, opts.nClusters, opts.distanceThreshold);
  const microLabels = new Int32Array(n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) { const mc = remap[km.labels[i]]; microLabels[i] = mc; labels[i] = cut.labels[mc]; }
  return { labels, nClusters: cut.k, dendrogram: dendro, method: 'microclusters', microClusters: mm, microLabels };
}

function emptyDendrogram(nLeaves: number): Dendrogram {
  return { nLeaves, left: new Int32Array(0), right: new Int32Array(0), distance: new Float64Array(0), size: new Int32Array(0) };
}

function centred(X: Float32Array, n: number, d: number): Float32Array {
  const Y = X.slice(0, n * d);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += Y[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) Y[i * d + j] -= mean[j];
  return Y;
}

/** Index of pair (i, j), i < j, in the condensed matrix. */
function cidx(n: number, i: number, j: number): number {
  return n * i - (i * (i + 1)) / 2 + (j - i - 1);
}

/** Condensed pairwise distances: squared euclidean, euclidean, or cosine (1 - dot of unit rows). */
export async function condensedDistances(
  Y: Float32Array, n: number, d: number, kind: 'sqeuclidean' | AggloMetric, gemm: Gemm, isCancelled?: () => boolean,
): Promise<Float32Array> {
  const D = new Float32Array((n * (n - 1)) / 2);
  const Yt = transpose(Y, n, d);
  const sq = rowSqNorms(Y, n, d);
  const block = Math.max(8, Math.min(n, Math.floor((4 << 20) / n)));
  for (let b0 = 0; b0 < n; b0 += block) {
    if (isCancelled?.()) throw cancelled();
    const b1 = Math.min(n, b0 + block);
    const S = await gemm(Y.subarray(b0 * d, b1 * d), b1 - b0, Yt, n, d);
    for (let i = b0; i < b1; i++) {
      const so = (i - b0) * n;
      let o = cidx(n, i, i + 1);
      const si = sq[i];
      if (kind === 'cosine') for (let j = i + 1; j < n; j++) D[o++] = Math.max(0, 1 - S[so + j]);
      else if (kind === 'sqeuclidean') for (let j = i + 1; j < n; j++) D[o++] = Math.max(0, si + sq[j] - 2 * S[so + j]);
      else for (let j = i + 1; j < n; j++) D[o++] = Math.sqrt(Math.max(0, si + sq[j] - 2 * S[so + j]));
    }
  }
  return D;
}

/**
 * Nearest-neighbour chain on a condensed matrix (overwritten). For ward D holds squared Ward distances and `weights`
 * optional leaf sizes. Returns the dendrogram sorted by height (stable), with heights as scipy reports them.
 */
export function nnChain(
  D: Float32Array, n: number, linkage: Linkage, weights: Float64Array | null,
  opts: { onProgress?: (done: number, total: number) => void; isCancelled?: () => boolean } = {},
): Dendrogram {
  const size = new Float64Array(n);
  for (let i = 0; i < n; i++) size[i] = weights ? weights[i] : 1;
  const count = new Int32Array(n).fill(1); // points per cluster (for the dendrogram's size column)
  // active slots as a dense list for fast scans
  const active = new Int32Array(n);
  const pos = new Int32Array(n);
  for (let i = 0; i < n; i++) { active[i] = i; pos[i] = i; }
  let nActive = n;
  const rowOff = new Float64Array(n); // cidx(n, i, 0) - like offsets: index(i, j) = rowOff[i] + j for j > i
  for (let i = 0; i < n; i++) rowOff[i] = n * i - (i * (i + 1)) / 2 - i - 1;
  const get = (i: number, j: number): number => (i < j ? D[rowOff[i] + j] : D[rowOff[j] + i]);
  const set = (i: number, j: number, v: number): void => { if (i < j) D[rowOff[i] + j] = v; else D[rowOff[j] + i] = v; };
  const mA = new Int32Array(n - 1), mB = new Int32Array(n - 1), mH = new Float64Array(n - 1);
  const mSizeA = new Int32Array(n - 1), mSizeB = new Int32Array(n - 1);
  let nm = 0;
  const chain = new Int32Array(n);
  let cl = 0;
  const removeActive = (x: number): void => {
    const p = pos[x], last = active[--nActive];
    active[p] = last; pos[last] = p;
  };
  while (nm < n - 1) {
    if ((nm & 255) === 0) {
      if (opts.isCancelled?.()) throw cancelled();
      opts.onProgress?.(nm, n - 1);
    }
    if (cl === 0) chain[cl++] = active[0];
    let a: number, b: number, dab: number;
    for (;;) {
      a = chain[cl - 1];
      const prev = cl >= 2 ? chain[cl - 2] : -1;
      // nearest active neighbour of a; prefer prev on ties
      let best = -1, bd = Infinity;
      if (prev >= 0) { best = prev; bd = get(a, prev); }
      for (let t = 0; t < nActive; t++) {
        const k = active[t];
        if (k === a) continue;
        const v = k > a ? D[rowOff[a] + k] : D[rowOff[k] + a];
        if (v < bd) { bd = v; best = k; }
      }
      if (best === prev) { b = prev; dab = bd; cl -= 2; break; }
      chain[cl++] = best;
    }
    // merge a and b into slot min(a, b)
    const x = Math.min(a, b), y = Math.max(a, b);
    const sx = size[x], sy = size[y];
    mA[nm] = x; mB[nm] = y; mSizeA[nm] = count[x]; mSizeB[nm] = count[y];
    mH[nm] = linkage === 'ward' ? Math.sqrt(Math.max(0, dab)) : dab;
    nm++;
    removeActive(y);
    for (let t = 0; t < nActive; t++) {
      const k = active[t];
      if (k === x) continue;
      const dxk = get(x, k), dyk = get(y, k);
      let v: number;
      if (linkage === 'ward') {
        const sk = size[k];
        v = ((sx + sk) * dxk + (sy + sk) * dyk - sk * dab) / (sx + sy + sk);
      } else if (linkage === 'average') v = (sx * dxk + sy * dyk) / (sx + sy);
      else v = dxk > dyk ? dxk : dyk;
      set(x, k, v);
    }
    size[x] = sx + sy;
    count[x] += count[y];
  }
  // sort merges by height (stable) and relabel with union-find, as scipy does
  const order = Array.from({ length: n - 1 }, (_, i) => i);
  order.sort((i, j) => mH[i] - mH[j] || i - j);
  const parent = new Int32Array(2 * n - 1);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (v: number): number => { while (parent[v] !== v) { parent[v] = parent[parent[v]]; v = parent[v]; } return v; };
  const left = new Int32Array(n - 1), right = new Int32Array(n - 1), distance = new Float64Array(n - 1), sz = new Int32Array(n - 1);
  const nodeSize = new Int32Array(2 * n - 1);
  for (let i = 0; i < n; i++) nodeSize[i] = weights ? Math.round(weights[i]) : 1;
  for (let r = 0; r < n - 1; r++) {
    const e = order[r];
    const ra = find(mA[e]), rb = find(mB[e]);
    const node = n + r;
    left[r] = Math.min(ra, rb); right[r] = Math.max(ra, rb); distance[r] = mH[e];
    nodeSize[node] = nodeSize[ra] + nodeSize[rb];
    sz[r] = nodeSize[node];
    parent[ra] = node; parent[rb] = node;
  }
  opts.onProgress?.(n - 1, n - 1);
  return { nLeaves: n, left, right, distance, size: sz };
}

/**
 * Flat labels from a dendrogram: k clusters (apply the first nLeaves - k merges), or, for a threshold,
 * k = #merges with distance >= threshold + 1 (sklearn). Labels are numbered by first appearance.
 */
export function cutDendrogram(dn: Dendrogram, nClusters?: number, distanceThreshold?: number): { labels: Int32Array; k: number } {
  const n = dn.nLeaves;
  let k: number;
  if (nClusters !== undefined) k = nClusters;
  else {
    let c = 0;
    for (let i = 0; i < dn.distance.length; i++) if (dn.distance[i] >= distanceThreshold!) c++;
    k = c + 1;
  }
  const parent = new Int32Array(2 * n - 1);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (v: number): number => { while (parent[v] !== v) { parent[v] = parent[parent[v]]; v = parent[v]; } return v; };
  for (let r = 0; r < n - k; r++) { parent[dn.left[r]] = n + r; parent[dn.right[r]] = n + r; }
  const labels = new Int32Array(n);
  const map = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let l = map.get(root);
    if (l === undefined) { l = map.size; map.set(root, l); }
    labels[i] = l;
  }
  return { labels, k };
}
