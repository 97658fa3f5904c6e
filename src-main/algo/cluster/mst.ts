/**
 * Exact minimum spanning tree of the HDBSCAN mutual-reachability graph, mr(p, q) = max(core(p), core(q), |p - q|),
 * in high dimension without all-pairs memory:
 *
 * 1. One tiled all-pairs pass of exact kNN (each pair's product once, through the injected Gemm) gives every point its
 *    K nearest candidates and its core
 *    distance (distance to the min_samples-th neighbour, the point itself not counted, as the reference hdbscan does).
 * 2. Boruvka rounds on the candidate lists. A component's lightest listed outgoing edge is accepted only when it is
 *    provably the lightest of all its outgoing edges: every unlisted edge from p weighs at least
 *    max(core(p), dist to p's K-th candidate). Accepted edges are MST edges (cut property), so this stage is exact.
 * 3. The C components left are joined by one more blocked all-pairs pass that records the lightest edge between every
 *    pair of components (a C x C table), then Prim on that table. Contracting MST edges and taking the MST of the
 *    contracted graph gives the MST. When C is too large for the table, full-pass Boruvka rounds shrink it first.
 *
 * Pure numeric code: no I/O; the product runs through the injected `Gemm`.
 */
import { AppError, badArg } from '../../common/errors.ts';
import { gemmJs, rowSqNorms, transpose, type Gemm } from '../linalg.ts';

export interface MrMstOptions {
  gemm?: Gemm;
  /** candidate neighbours per point for stage 2 (default max(minSamples, 24)) */
  candidates?: number;
  /** rows per tile of the all-pairs passes (default 512) */
  tileSize?: number;
  /** largest component count handled by the C x C table (default 2048) */
  maxTableComponents?: number;
  onProgress?: (done: number, total: number) => void;
  isCancelled?: () => boolean;
}

export interface MrMst {
  /** n-1 edges: endpoints and mutual-reachability weights (euclidean distance units) */
  from: Int32Array;
  to: Int32Array;
  weight: Float64Array;
  /** core distance of every point */
  core: Float64Array;
  /** the candidate lists (K per point, nearest first; euclidean distances) */
  knnIndices: Int32Array;
  knnDistances: Float32Array;
  /** diagnostics: components left after the candidate stage, full passes done after kNN */
  stats: { candidateComponents: number; fullPasses: number; candidates: number };
}

/** Disjoint sets with path compression and union by rank (Kruskal here, Boruvka on the kNN graph in mst-graph.ts). */
export class UnionFind {
  readonly parent: Int32Array;
  readonly rank: Uint8Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
    this.rank = new Uint8Array(n);
  }
  find(x: number): number {
    const p = this.parent;
    let r = x;
    while (p[r] !== r) r = p[r];
    while (p[x] !== r) { const nx = p[x]; p[x] = r; x = nx; }
    return r;
  }
  union(a: number, b: number): boolean {
    let ra = this.find(a), rb = this.find(b);
    if (ra === rb) return false;
    if (this.rank[ra] < this.rank[rb]) { const t = ra; ra = rb; rb = t; }
    this.parent[rb] = ra;
    if (this.rank[ra] === this.rank[rb]) this.rank[ra]++;
    return true;
  }
}

const cancelled = (): AppError => new AppError('CANCELLED', 'HDBSCAN spanning tree cancelled');

/**
 * MST of the mutual-reachability graph of the rows of X under euclidean distance. `minSamples` counts neighbours
 * without the point itself. Rows should be centred or normalized by the caller for float32 accuracy.
 */
export async function mutualReachabilityMst(
  X: Float32Array, n: number, d: number, minSamples: number, opts: MrMstOptions = {},
): Promise<MrMst> {
  if (!Number.isInteger(n) || n < 2) throw badArg('n', `need at least 2 points, got ${n}`);
  if (!Number.isInteger(minSamples) || minSamples < 1) throw badArg('minSamples', `must be a positive integer, got ${minSamples}`);
  if (minSamples > n - 1) throw badArg('minSamples', `${minSamples} neighbours requested but only ${n - 1} other points`);
  const gemm = opts.gemm ?? gemmJs;
  const K = Math.min(n - 1, Math.max(minSamples, opts.candidates ?? 24));
  const maxTable = Math.max(2, opts.maxTableComponents ?? 2048);
  const progress = opts.onProgress;
  // progress units: kNN pass = n, each later full pass = n, candidate stage = n / 10
  let total = n + Math.ceil(n / 10) + n;
  let doneBase = 0;

  const tiles = new PairTiles(X, n, d, gemm, opts.tileSize);
  const knn = await tiles.knn(K, opts.isCancelled, progress ? (done) => progress(done, total) : undefined);
  doneBase = n;
  const core = new Float64Array(n);
  const core2 = new Float64Array(n);
  for (let i = 0; i < n; i++) { core[i] = knn.distances[i * K + minSamples - 1]; core2[i] = core[i] * core[i]; }

  const from = new Int32Array(n - 1), to = new Int32Array(n - 1), weight = new Float64Array(n - 1);
  let nEdges = 0;
  const uf = new UnionFind(n);
  const comp = new Int32Array(n);
  const bestW = new Float64Array(n), lbW = new Float64Array(n);
  const bestP = new Int32Array(n), bestQ = new Int32Array(n);

  // ---- stage 2: Boruvka on candidate lists, accepting only provably lightest edges
  const exhaustive = K >= n - 1;
  for (;;) {
    if (opts.isCancelled?.()) throw cancelled();
    for (let i = 0; i < n; i++) comp[i] = uf.find(i);
    bestW.fill(Infinity); lbW.fill(Infinity);
    for (let p = 0; p < n; p++) {
      const cp = comp[p];
      const o = p * K;
      const lb = exhaustive ? Infinity : Math.max(core[p], knn.distances[o + K - 1]);
      if (lb < lbW[cp]) lbW[cp] = lb;
      const cpc = core[p];
      for (let t = 0; t < K; t++) {
        const q = knn.indices[o + t];
        if (comp[q] === cp) continue;
        let w = knn.distances[o + t];
        if (w < cpc) w = cpc;
        if (w < core[q]) w = core[q];
        if (w < bestW[cp]) { bestW[cp] = w; bestP[cp] = p; bestQ[cp] = q; }
      }
    }
    let merged = 0;
    for (let c = 0; c < n; c++) {
      if (comp[c] !== c) continue;
      const w = bestW[c];
      if (w === Infinity || w > lbW[c]) continue;
      if (uf.union(bestP[c], bestQ[c])) {
        from[nEdges] = bestP[c]; to[nEdges] = bestQ[c]; weight[nEdges] = w; nEdges++;
        merged++;
      }
    }
    if (merged === 0 || nEdges === n - 1) break;
  }
  doneBase += Math.ceil(n / 10);
  progress?.(doneBase, total);
  const candidateComponents = n - nEdges;

  // ---- stage 3: full passes
  let fullPasses = 0;
  if (nEdges < n - 1) {
    while (nEdges < n - 1) {
      if (opts.isCancelled?.()) throw cancelled();
      // dense component ids
      const rootId = new Int32Array(n).fill(-1);
      let C = 0;
      for (let i = 0; i < n; i++) {
        const r = uf.find(i);
        if (rootId[r] < 0) rootId[r] = C++;
        comp[i] = rootId[r];
      }
      const table = C <= maxTable;
      if (fullPasses > 0) total += n;
      fullPasses++;
      // squared weights: per (component, component) pair when table, else per component
      const slots = table ? C * C : C;
      const W = new Float64Array(slots).fill(Infinity);
      const WP = new Int32Array(slots), WQ = new Int32Array(slots);
      const sq = tiles.sq;
      const base = doneBase;
      await tiles.forEachPair((S, i0, i1, j0, j1) => {
        const w_ = j1 - j0;
        for (let p = i0; p < i1; p++) {
          const cp = comp[p];
          const so = (p - i0) * w_ - j0;
          const sp = sq[p];
          const cpc = core2[p];
          const qStart = i0 === j0 ? p + 1 : j0;
          if (table) {
            const rowBase = cp * C;
            for (let q = qStart; q < j1; q++) {
              const cq = comp[q];
              if (cq === cp) continue;
              let w = sp + sq[q] - 2 * S[so + q];
              if (w < cpc) w = cpc;
              const cc = core2[q];
              if (w < cc) w = cc;
              const key = rowBase + cq;
              if (w < W[key]) { W[key] = w; WP[key] = p; WQ[key] = q; }
            }
          } else {
            for (let q = qStart; q < j1; q++) {
              const cq = comp[q];
              if (cq === cp) continue;
              let w = sp + sq[q] - 2 * S[so + q];
              if (w < cpc) w = cpc;
              const cc = core2[q];
              if (w < cc) w = cc;
              if (w < W[cp]) { W[cp] = w; WP[cp] = p; WQ[cp] = q; }
              if (w < W[cq]) { W[cq] = w; WP[cq] = q; WQ[cq] = p; }
            }
          }
        }
      }, opts.isCancelled, progress ? (done) => progress(base + done, total) : undefined);
      doneBase += n;
      if (table) {
        // Prim on the component graph, edge weight min(W[a,b], W[b,a])
        const inTree = new Uint8Array(C);
        const key = new Float64Array(C).fill(Infinity);
        const via = new Int32Array(C).fill(-1); // slot index of the best edge
        let cur = 0;
        inTree[0] = 1;
        for (let step = 1; step < C; step++) {
          for (let c = 0; c < C; c++) {
            if (inTree[c]) continue;
            const s1 = cur * C + c, s2 = c * C + cur;
            const w1 = W[s1], w2 = W[s2];
            if (w1 <= w2) { if (w1 < key[c]) { key[c] = w1; via[c] = s1; } }
            else if (w2 < key[c]) { key[c] = w2; via[c] = s2; }
          }
          let bc = -1, bk = Infinity;
          for (let c = 0; c < C; c++) if (!inTree[c] && (bc < 0 || key[c] < bk)) { bk = key[c]; bc = c; }
          const s = via[bc];
          if (s < 0) throw new AppError('INTERNAL', 'mutual-reachability graph disconnected');
          const p = WP[s], q = WQ[s];
          uf.union(p, q);
          from[nEdges] = p; to[nEdges] = q; weight[nEdges] = Math.sqrt(Math.max(0, key[bc])); nEdges++;
          inTree[bc] = 1;
          cur = bc;
        }
      } else {
        for (let c = 0; c < C; c++) {
          if (W[c] === Infinity) continue;
          if (uf.union(WP[c], WQ[c])) {
            from[nEdges] = WP[c]; to[nEdges] = WQ[c]; weight[nEdges] = Math.sqrt(Math.max(0, W[c])); nEdges++;
          }
        }
      }
    }
  }
  progress?.(total, total);
  return { from, to, weight, core, knnIndices: knn.indices, knnDistances: knn.distances, stats: { candidateComponents, fullPasses, candidates: K } };
}

/**
 * Exact k nearest neighbours (self excluded, euclidean, nearest first) by symmetric tiles: each pair's product is
 * computed once, half the work of row blocks against all rows.
 */
export async function knnTiled(
  X: Float32Array, n: number, d: number, k: number,
  opts: { gemm?: Gemm; tileSize?: number; isCancelled?: () => boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ indices: Int32Array; distances: Float32Array }> {
  if (!Number.isInteger(k) || k < 1 || k > n - 1) throw badArg('k', `must be an integer in [1, ${n - 1}], got ${k}`);
  const tiles = new PairTiles(X, n, d, opts.gemm ?? gemmJs, opts.tileSize);
  const progress = opts.onProgress;
  return tiles.knn(k, opts.isCancelled, progress ? (done) => progress(done, n) : undefined);
}

/**
 * All pairs (p <= q) of rows in square tiles: tile (i, j), j >= i, is A = rows of tile i times the transposed rows of
 * tile j, so each pair's product is computed once (half the work of full rows).
 */
class PairTiles {
  readonly sq: Float64Array;
  private readonly tiles: Float32Array[] = [];
  private readonly T: number;
  constructor(private readonly X: Float32Array, private readonly n: number, private readonly d: number,
    private readonly gemm: Gemm, tileSize?: number) {
    this.T = Math.max(16, tileSize ?? 512);
    const sqf = rowSqNorms(X, n, d);
    this.sq = Float64Array.from(sqf);
    for (let t0 = 0; t0 < n; t0 += this.T) {
      const t1 = Math.min(n, t0 + this.T);
      this.tiles.push(transpose(X.subarray(t0 * d, t1 * d), t1 - t0, d));
    }
  }

  /** Calls cb(S, i0, i1, j0, j1) for every tile pair j >= i; S is (i1-i0) x (j1-j0) row-major. Progress in rows. */
  async forEachPair(
    cb: (S: Float32Array, i0: number, i1: number, j0: number, j1: number) => void,
    isCancelled?: () => boolean, onProgress?: (doneRows: number) => void,
  ): Promise<void> {
    const { n, d, T } = this;
    const nt = this.tiles.length;
    const totalPairs = (nt * (nt + 1)) / 2;
    let donePairs = 0;
    for (let i = 0; i < nt; i++) {
      const i0 = i * T, i1 = Math.min(n, i0 + T);
      const A = this.X.subarray(i0 * d, i1 * d);
      for (let j = i; j < nt; j++) {
        if (isCancelled?.()) throw cancelled();
        const j0 = j * T, j1 = Math.min(n, j0 + T);
        const S = await this.gemm(A, i1 - i0, this.tiles[j], j1 - j0, d);
        cb(S, i0, i1, j0, j1);
        donePairs++;
      }
      onProgress?.(Math.round((donePairs / totalPairs) * n));
    }
  }

  /** Exact k nearest neighbours (self excluded), euclidean, rows sorted nearest first. */
  async knn(k: number, isCancelled?: () => boolean, onProgress?: (doneRows: number) => void): Promise<{ indices: Int32Array; distances: Float32Array }> {
    const n = this.n;
    const sq = this.sq;
    // per-point max-heaps of squared distances
    const hk = new Float64Array(n * k).fill(Infinity);
    const hi = new Int32Array(n * k).fill(-1);
    const offer = (p: number, w: number, q: number): void => {
      const o = p * k;
      if (!(w < hk[o])) return;
      // replace root, sift down
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        if (l >= k) break;
        const r = l + 1;
        const m = r < k && hk[o + r] > hk[o + l] ? r : l;
        if (hk[o + m] <= w) break;
        hk[o + c] = hk[o + m]; hi[o + c] = hi[o + m]; c = m;
      }
      hk[o + c] = w; hi[o + c] = q;
    };
    await this.forEachPair((S, i0, i1, j0, j1) => {
      const wd = j1 - j0;
      for (let p = i0; p < i1; p++) {
        const so = (p - i0) * wd - j0;
        const sp = sq[p];
        const qStart = i0 === j0 ? p + 1 : j0;
        const op = p * k;
        for (let q = qStart; q < j1; q++) {
          let w = sp + sq[q] - 2 * S[so + q];
          if (w < 0) w = 0;
          if (w < hk[op]) offer(p, w, q);
          if (w < hk[q * k]) offer(q, w, p);
        }
      }
    }, isCancelled, onProgress);
    // sort each heap ascending
    const indices = new Int32Array(n * k), distances = new Float32Array(n * k);
    const idx: number[] = new Array(k);
    for (let p = 0; p < n; p++) {
      const o = p * k;
      for (let t = 0; t < k; t++) idx[t] = t;
      idx.sort((a, b) => hk[o + a] - hk[o + b] || hi[o + a] - hi[o + b]);
      for (let t = 0; t < k; t++) { indices[o + t] = hi[o + idx[t]]; distances[o + t] = Math.sqrt(hk[o + idx[t]]); }
    }
    return { indices, distances };
  }
}
