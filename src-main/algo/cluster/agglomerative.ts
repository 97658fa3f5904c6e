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
import { LINKAGES } from '../../common/cluster-contract.ts';
import { gemmJs, normalizeRows, rowSqNorms, transpose, type Gemm } from '../linalg.ts';
import { createRng } from '../rng.ts';
import { kmeans } from './kmeans.ts';
import { knnTiled } from './mst.ts';
import type { Metric } from '../../common/types.ts';

/** The linkages (the contract's list: common/cluster-contract.ts). */
export type Linkage = (typeof LINKAGES)[number];
export type AggloMetric = Metric;

export interface AgglomerativeOptions {
  linkage?: Linkage;
  /** ward: euclidean only (default); average / complete: cosine by default */
  metric?: AggloMetric;
  /** cut into this many clusters (give this or distanceThreshold) */
  nClusters?: number;
  /** cut where merge distances reach this (sklearn semantics) */
  distanceThreshold?: number;
  /** largest n clustered exactly (default 10000: ~200 MB matrix, ~15-20 s here; see bench/hdbscan.mts) */
  maxExact?: number;
  /** micro-clusters above maxExact (default min(maxExact, 2000)) */
  microClusters?: number;
  /**
   * how micro-clusters are formed above maxExact: 'knn-ward' (default) = Ward merges restricted to a kNN graph until
   * `microClusters` remain (the first, most local merges of Ward itself); 'kmeans' = seeded k-means (random rows as
   * the initial centres, Lloyd)
   */
  microMethod?: 'knn-ward' | 'kmeans';
  /** neighbours of the kNN graph for 'knn-ward' (default 10) */
  microNeighbors?: number;
  /** k-means iterations for 'kmeans' micro-clusters (default 30) */
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
  microMethod?: 'knn-ward' | 'kmeans';
  /** point -> micro-cluster (leaf of the dendrogram) when method is 'microclusters' */
  microLabels?: Int32Array;
}

const cancelled = (): AppError => new AppError('CANCELLED', 'agglomerative clustering cancelled');

/** Largest n accepted for exact runs (condensed matrix 2.1 GB at 32,768). */
const HARD_MAX = 32768;

function validate(n: number, d: number, o: AgglomerativeOptions) {
  if (!Number.isInteger(n) || n < 1) throw badArg('n', `must be a positive integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw badArg('d', `must be a positive integer, got ${d}`);
  const linkage = o.linkage ?? 'ward';
  if (!LINKAGES.includes(linkage)) {
    throw badArg('linkage', `must be one of ${LINKAGES.join(', ')}, got ${String(linkage)}`);
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
  const maxExact = o.maxExact ?? 10000;
  if (!Number.isInteger(maxExact) || maxExact < 2 || maxExact > HARD_MAX) throw badArg('maxExact', `must be an integer in [2, ${HARD_MAX}], got ${maxExact}`);
  const micro = o.microClusters ?? Math.min(maxExact, 4000);
  const microMethod = o.microMethod ?? 'knn-ward';
  if (microMethod !== 'knn-ward' && microMethod !== 'kmeans') throw badArg('microMethod', `must be 'knn-ward' or 'kmeans', got ${String(microMethod)}`);
  const microNeighbors = o.microNeighbors ?? Math.max(1, Math.min(10, n - 1));
  if (!Number.isInteger(microNeighbors) || microNeighbors < 1 || (n > 1 && microNeighbors >= n)) {
    throw badArg('microNeighbors', `must be an integer in [1, n), got ${microNeighbors}`);
  }
  if (!Number.isInteger(micro) || micro < 2 || micro > maxExact) throw badArg('microClusters', `must be an integer in [2, maxExact], got ${micro}`);
  if (n > maxExact && linkage !== 'ward') throw badArg('linkage', `${linkage} linkage runs exactly only; n = ${n} exceeds maxExact = ${maxExact}`);
  if (hasK && n > maxExact && o.nClusters! > micro) throw badArg('nClusters', `${o.nClusters} clusters need more than the ${micro} micro-clusters`);
  return { linkage, metric, maxExact, micro, microMethod, microNeighbors };
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
  // Ward on weighted micro-clusters
  const Y = centred(X, n, d);
  const mc = p.microMethod === 'kmeans'
    ? await kmeansMicro(Y, n, d, p.micro, opts, gemm)
    : await knnWardMicro(Y, n, d, p.micro, p.microNeighbors, gemm, opts.isCancelled);
  const { assign, mm, C, w } = mc;
  const D = await condensedDistances(C, mm, d, 'sqeuclidean', gemm, opts.isCancelled);
  // size-aware initial Ward distance (squared): 2 wa wb / (wa + wb) |ca - cb|^2
  let idx = 0;
  for (let i = 0; i < mm; i++) for (let j = i + 1; j < mm; j++, idx++) D[idx] = (2 * w[i] * w[j] / (w[i] + w[j])) * D[idx];
  const dendro = nnChain(D, mm, 'ward', w, opts);
  const cut = cutDendrogram(dendro, opts.nClusters, opts.distanceThreshold);
  const microLabels = new Int32Array(n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) { const c = assign[i]; microLabels[i] = c; labels[i] = cut.labels[c]; }
  return { labels, nClusters: cut.k, dendrogram: dendro, method: 'microclusters', microClusters: mm, microMethod: p.microMethod, microLabels };
}

interface Micro { assign: Int32Array; mm: number; C: Float32Array; w: Float64Array }

async function kmeansMicro(Y: Float32Array, n: number, d: number, m: number, opts: AgglomerativeOptions, gemm: Gemm): Promise<Micro> {
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
  const remap = new Int32Array(m).fill(-1);
  let mm = 0;
  for (let c = 0; c < m; c++) if (sizes[c] > 0) remap[c] = mm++;
  const C = new Float32Array(mm * d), w = new Float64Array(mm);
  for (let c = 0; c < m; c++) if (remap[c] >= 0) { C.set(km.centroids.subarray(c * d, c * d + d), remap[c] * d); w[remap[c]] = sizes[c]; }
  const assign = Int32Array.from(km.labels, (l) => remap[l]);
  return { assign, mm, C, w };
}

/**
 * Ward merges restricted to the symmetrized kNN graph (as sklearn's connectivity-constrained ward_tree), cheapest
 * first through a heap, until m clusters remain or no connected pair is left.
 */
async function knnWardMicro(
  Y: Float32Array, n: number, d: number, m: number, k: number, gemm: Gemm, isCancelled?: () => boolean,
): Promise<Micro> {
  const knn = await knnTiled(Y, n, d, k, { gemm, isCancelled });
  const adj: Array<Set<number>> = Array.from({ length: n }, () => new Set<number>());
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) { const j = knn.indices[i * k + t]; adj[i].add(j); adj[j].add(i); }
  const sum = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) sum[i] = Y[i];
  const size = new Float64Array(n).fill(1);
  const version = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const wardSq = (a: number, b: number): number => {
    const sa = size[a], sb = size[b];
    let s = 0;
    const oa = a * d, ob = b * d;
    for (let j = 0; j < d; j++) { const x = sum[oa + j] / sa - sum[ob + j] / sb; s += x * x; }
    return (2 * sa * sb / (sa + sb)) * s;
  };
  // heap entries: key, a, b, version a, version b
  let hk = new Float64Array(1 << 16), ha = new Int32Array(1 << 16), hb = new Int32Array(1 << 16);
  let hva = new Int32Array(1 << 16), hvb = new Int32Array(1 << 16);
  let hs = 0;
  const push = (key: number, a: number, b: number): void => {
    if (hs === hk.length) {
      const grow = <T extends Float64Array | Int32Array>(x: T): T => { const y = new (x.constructor as { new(n: number): T })(x.length * 2); y.set(x); return y; };
      hk = grow(hk); ha = grow(ha); hb = grow(hb); hva = grow(hva); hvb = grow(hvb);
    }
    let c = hs++;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (hk[p] <= key) break;
      hk[c] = hk[p]; ha[c] = ha[p]; hb[c] = hb[p]; hva[c] = hva[p]; hvb[c] = hvb[p]; c = p;
    }
    hk[c] = key; ha[c] = a; hb[c] = b; hva[c] = version[a]; hvb[c] = version[b];
  };
  const popTo = (): [number, number, number, number, number] => {
    const top: [number, number, number, number, number] = [hk[0], ha[0], hb[0], hva[0], hvb[0]];
    hs--;
    const key = hk[hs], a = ha[hs], b = hb[hs], va = hva[hs], vb = hvb[hs];
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= hs) break;
      const r = l + 1;
      const mi = r < hs && hk[r] < hk[l] ? r : l;
      if (hk[mi] >= key) break;
      hk[c] = hk[mi]; ha[c] = ha[mi]; hb[c] = hb[mi]; hva[c] = hva[mi]; hvb[c] = hvb[mi]; c = mi;
    }
    hk[c] = key; ha[c] = a; hb[c] = b; hva[c] = va; hvb[c] = vb;
    return top;
  };
  for (let i = 0; i < n; i++) for (const j of adj[i]) if (j > i) push(wardSq(i, j), i, j);
  let clusters = n;
  while (clusters > m && hs > 0) {
    if ((clusters & 1023) === 0 && isCancelled?.()) throw cancelled();
    const [, a, b, va, vb] = popTo();
    if (!alive[a] || !alive[b] || va !== version[a] || vb !== version[b]) continue;
    // merge b into a
    for (let j = 0; j < d; j++) sum[a * d + j] += sum[b * d + j];
    size[a] += size[b];
    alive[b] = 0; parent[b] = a;
    version[a]++;
    for (const c of adj[b]) { if (c !== a) { adj[a].add(c); adj[c].delete(b); adj[c].add(a); } }
    adj[a].delete(b); adj[b].clear();
    for (const c of adj[a]) push(wardSq(a, c), a, c);
    clusters--;
  }
  const find = (x: number): number => { while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; };
  const remap = new Int32Array(n).fill(-1);
  let mm = 0;
  for (let i = 0; i < n; i++) if (alive[i]) remap[i] = mm++;
  const C = new Float32Array(mm * d), w = new Float64Array(mm);
  for (let i = 0; i < n; i++) {
    if (!alive[i]) continue;
    const r = remap[i];
    w[r] = size[i];
    for (let j = 0; j < d; j++) C[r * d + j] = sum[i * d + j] / size[i];
  }
  const assign = new Int32Array(n);
  for (let i = 0; i < n; i++) assign[i] = remap[find(i)];
  return { assign, mm, C, w };
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
  // active slots as a doubly linked list in index order (scans walk memory in order)
  const next = new Int32Array(n), prevL = new Int32Array(n);
  for (let i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prevL[i] = i - 1; }
  let head = 0;
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
    const pv = prevL[x], nx = next[x];
    if (pv >= 0) next[pv] = nx; else head = nx;
    if (nx >= 0) prevL[nx] = pv;
  };
  while (nm < n - 1) {
    if ((nm & 255) === 0) {
      if (opts.isCancelled?.()) throw cancelled();
      opts.onProgress?.(nm, n - 1);
    }
    if (cl === 0) chain[cl++] = head;
    let a: number, b: number, dab: number;
    for (;;) {
      a = chain[cl - 1];
      const prev = cl >= 2 ? chain[cl - 2] : -1;
      // nearest active neighbour of a; prefer prev on ties
      let best = -1, bd = Infinity;
      if (prev >= 0) { best = prev; bd = get(a, prev); }
      let k = head;
      for (; k >= 0 && k < a; k = next[k]) {
        const v = D[rowOff[k] + a];
        if (v < bd) { bd = v; best = k; }
      }
      if (k === a) k = next[k];
      const ra = rowOff[a];
      for (; k >= 0; k = next[k]) {
        const v = D[ra + k];
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
    for (let k = head; k >= 0; k = next[k]) {
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
