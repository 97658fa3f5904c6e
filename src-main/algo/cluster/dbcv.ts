/**
 * Density-Based Clustering Validation (DBCV; Moulavi, Jaskowiak, Campello, Zimek & Sander, SDM 2014): a relative
 * validity index for density-based clusterings with noise, in [-1, 1], higher is better.
 * - all-points core distance of x in cluster C (n_C points, D dimensions): (sum_{y in C, y != x} d(x, y)^-D / (n_C - 1))^(-1/D)
 *   (computed in log space: with D = 512 the powers overflow float64);
 * - mutual reachability d_mr(x, y) = max(core(x), core(y), d(x, y)); a minimum spanning tree of each cluster under it;
 * - density sparseness DSC(C): the largest MST edge between internal nodes (degree >= 2);
 * - density separation DSPC(C, C'): the smallest d_mr between internal nodes of C and of C';
 * - V(C) = (min_C' DSPC(C, C') - DSC(C)) / max(min_C' DSPC, DSC); DBCV = sum_C |C| / N * V(C), N counting noise,
 *   so a labelling that calls much noise scores lower.
 * Conventions where the paper leaves a case open: a cluster of one point is noise (a group of one is no group); a
 * cluster whose tree has no internal node (two points) uses all its nodes and edges; a single cluster has no
 * separation and scores 0. Large inputs are scored on a seeded uniform sample (`sampleSize`, noise included).
 * Pure: typed arrays in, a number out; O(m^2 D) for m sampled points.
 */
import { badArg } from '../../common/errors.ts';
import { createRng } from '../rng.ts';
import type { Metric } from '../../common/types.ts';

export interface DbcvOptions {
  metric?: Metric;
  /** score a uniform sample of this many points when n is larger (default 4,000; 0 = all) */
  sampleSize?: number;
  seed?: number;
  /** the dimension D in the core distance (default d, as in the paper) */
  dimension?: number;
}

export interface DbcvResult {
  score: number;
  /** V(C) per cluster label (clusters of one point and noise are absent) */
  perCluster: Map<number, number>;
  /** points scored (after sampling) */
  scored: number;
}

export function dbcv(X: Float32Array, n: number, d: number, labels: ArrayLike<number>, o: DbcvOptions = {}): DbcvResult {
  if (X.length < n * d) throw badArg('X', `has ${X.length} values, expected ${n} x ${d}`);
  if (labels.length !== n) throw badArg('labels', `has ${labels.length} entries, expected ${n}`);
  const metric = o.metric ?? 'euclidean';
  const D = o.dimension ?? d;
  if (!(D > 0)) throw badArg('dimension', `must be > 0, got ${D}`);
  // the points scored
  const cap = o.sampleSize ?? 4000;
  let idx: Int32Array;
  if (cap > 0 && n > cap) {
    const rng = createRng(o.seed ?? 0);
    const all = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < cap; i++) { const j = i + Math.floor(rng.next() * (n - i)); const t = all[i]; all[i] = all[j]; all[j] = t; }
    idx = all.slice(0, cap).sort();
  } else idx = Int32Array.from({ length: n }, (_, i) => i);
  const m = idx.length;
  // rows (unit rows for cosine)
  const W = new Float32Array(m * d);
  for (let a = 0; a < m; a++) {
    const o0 = idx[a] * d;
    let s = 0;
    for (let j = 0; j < d; j++) { const v = X[o0 + j]; W[a * d + j] = v; s += v * v; }
    if (metric === 'cosine') { const r = s > 0 ? 1 / Math.sqrt(s) : 0; for (let j = 0; j < d; j++) W[a * d + j] *= r; }
  }
  const dist = (a: number, b: number): number => {
    let s = 0;
    const ao = a * d, bo = b * d;
    if (metric === 'cosine') { for (let j = 0; j < d; j++) s += W[ao + j] * W[bo + j]; return Math.max(0, 1 - s); }
    for (let j = 0; j < d; j++) { const t = W[ao + j] - W[bo + j]; s += t * t; }
    return Math.sqrt(s);
  };
  // clusters of the sample (two points or more)
  const members = new Map<number, number[]>();
  for (let a = 0; a < m; a++) { const l = labels[idx[a]]; if (l >= 0) { const x = members.get(l); if (x) x.push(a); else members.set(l, [a]); } }
  for (const [l, xs] of members) if (xs.length < 2) members.delete(l);
  const perCluster = new Map<number, number>();
  if (members.size < 2) {
    for (const l of members.keys()) perCluster.set(l, 0);
    return { score: 0, perCluster, scored: m };
  }
  // all-points core distances, log space: log core = -(1/D) (logsumexp_j(-D log d_j) - log(n_C - 1))
  const core = new Float64Array(m);
  for (const xs of members.values()) {
    const k = xs.length;
    const logs = new Float64Array(k - 1);
    for (const a of xs) {
      let t = 0, mx = -Infinity, zero = false;
      for (const b of xs) {
        if (b === a) continue;
        const dd = dist(a, b);
        if (dd <= 0) { zero = true; break; }
        const v = -D * Math.log(dd);
        logs[t++] = v;
        if (v > mx) mx = v;
      }
      if (zero) { core[a] = 0; continue; }
      let s = 0;
      for (let u = 0; u < t; u++) s += Math.exp(logs[u] - mx);
      core[a] = Math.exp(-(mx + Math.log(s) - Math.log(k - 1)) / D);
    }
  }
  const mreach = (a: number, b: number) => Math.max(core[a], core[b], dist(a, b));
  // per cluster: the MST under mutual reachability (Prim, dense), its internal nodes and sparseness
  const internal = new Map<number, number[]>();
  const sparseness = new Map<number, number>();
  for (const [l, xs] of members) {
    const k = xs.length;
    const inTree = new Uint8Array(k), best = new Float64Array(k).fill(Infinity), from = new Int32Array(k).fill(-1), deg = new Int32Array(k);
    const edges: Array<[number, number, number]> = [];
    best[0] = 0;
    for (let it = 0; it < k; it++) {
      let u = -1, bu = Infinity;
      for (let v = 0; v < k; v++) if (!inTree[v] && best[v] < bu) { bu = best[v]; u = v; }
      if (u < 0) break;
      inTree[u] = 1;
      if (from[u] >= 0) { edges.push([from[u], u, bu]); deg[from[u]]++; deg[u]++; }
      for (let v = 0; v < k; v++) {
        if (inTree[v]) continue;
        const w = mreach(xs[u], xs[v]);
        if (w < best[v]) { best[v] = w; from[v] = u; }
      }
    }
    let nodes = xs.filter((_, i) => deg[i] >= 2);
    let dsc = -Infinity;
    for (const [a, b, w] of edges) if (deg[a] >= 2 && deg[b] >= 2 && w > dsc) dsc = w;
    if (nodes.length === 0) nodes = xs.slice();
    if (!Number.isFinite(dsc)) for (const [, , w] of edges) if (w > dsc) dsc = w;
    internal.set(l, nodes);
    sparseness.set(l, Math.max(0, dsc));
  }
  // separation: the smallest mutual reachability between internal nodes of two clusters
  const ls = [...members.keys()];
  const sep = new Map<number, number>(ls.map((l) => [l, Infinity]));
  for (let p = 0; p < ls.length; p++) {
    const A = internal.get(ls[p])!;
    for (let q = p + 1; q < ls.length; q++) {
      const B = internal.get(ls[q])!;
      let mn = Infinity;
      for (const a of A) for (const b of B) { const w = mreach(a, b); if (w < mn) mn = w; }
      if (mn < sep.get(ls[p])!) sep.set(ls[p], mn);
      if (mn < sep.get(ls[q])!) sep.set(ls[q], mn);
    }
  }
  let score = 0;
  for (const l of ls) {
    const s = sep.get(l)!, c = sparseness.get(l)!;
    const den = Math.max(s, c);
    const v = den > 0 ? (s - c) / den : 0;
    perCluster.set(l, v);
    score += (members.get(l)!.length / m) * v;
  }
  return { score, perCluster, scored: m };
}
