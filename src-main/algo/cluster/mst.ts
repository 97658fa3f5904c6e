/**
 * Exact minimum spanning tree of the HDBSCAN mutual-reachability graph, mr(p, q) = max(core(p), core(q), |p - q|),
 * in high dimension without all-pairs memory:
 *
 * 1. One blocked pass of exact kNN (through the injected Gemm) gives every point its K nearest candidates and its core
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
import { knnExact } from '../knn.ts';

export interface MrMstOptions {
  gemm?: Gemm;
  /** candidate neighbours per point for stage 2 (default max(minSamples, 24)) */
  candidates?: number;
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

class UnionFind {
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

  const knn = await knnExact(X, n, d, K, {
    metric: 'euclidean', gemm, isCancelled: opts.isCancelled,
    onProgress: progress ? (done) => progress(done, total) : undefined,
  });
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
    const Xt = transpose(X, n, d);
    const sq = rowSqNorms(X, n, d);
    const blockRows = Math.max(16, Math.min(n, Math.floor((4 << 20) / n)));
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
      for (let b0 = 0; b0 < n; b0 += blockRows) {
        if (opts.isCancelled?.()) throw cancelled();
        const b1 = Math.min(n, b0 + blockRows);
        const S = await gemm(X.subarray(b0 * d, b1 * d), b1 - b0, Xt, n, d);
        for (let p = b0; p < b1; p++) {
          const cp = comp[p];
          const so = (p - b0) * n;
          const sp = sq[p];
          const cpc = core2[p];
          const rowBase = table ? cp * C : 0;
          if (table) {
            for (let q = 0; q < n; q++) {
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
            let bw = W[cp], bq = -1;
            for (let q = 0; q < n; q++) {
              if (comp[q] === cp) continue;
              let w = sp + sq[q] - 2 * S[so + q];
              if (w < cpc) w = cpc;
              const cc = core2[q];
              if (w < cc) w = cc;
              if (w < bw) { bw = w; bq = q; }
            }
            if (bq >= 0) { W[cp] = bw; WP[cp] = p; WQ[cp] = bq; }
          }
        }
        progress?.(doneBase + b1, total);
      }
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
