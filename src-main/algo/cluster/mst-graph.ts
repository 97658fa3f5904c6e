/**
 * Spanning tree of the HDBSCAN mutual-reachability graph on an (approximate) kNN graph, for n past what the exact
 * all-pairs passes of mst.ts can do:
 *
 * 1. Core distances from the graph (distance to the min_samples-th listed neighbour).
 * 2. Boruvka on the graph's edges weighted max(core(p), core(q), d(p, q)): the MST of the kNN graph (a forest when the
 *    graph is disconnected, e.g. one tree per well-separated cluster).
 * 3. The forest's components are joined by exact edges: each component is paired with its `joinCandidates` nearest
 *    components by centroid; for each pair, each side's `boundaryRows` rows nearest to the other's centroid (searched
 *    among all its rows, or `maxJoinRows` of them drawn uniformly for a large component) are compared exactly and the
 *    lightest mutual-reachability edge between them kept. Kruskal on those edges; repeated (with twice the partners) on
 *    what is left until one tree remains.
 *
 * Pure numeric code: no I/O; the products go through the injected Gemm.
 */
import { AppError, badArg } from '../../common/errors.ts';
import { gemmJs, rowSqNorms, transpose, type Gemm } from '../linalg.ts';
import { knnQuery } from '../knn.ts';
import { createRng } from '../rng.ts';
import { UnionFind } from './mst.ts';

export interface GraphMst {
  from: Int32Array;
  to: Int32Array;
  weight: Float64Array;
  core: Float64Array;
  stats: { graphComponents: number; joinRounds: number; joinEdges: number; joinPairs: number };
}

export interface GraphMstOptions {
  gemm?: Gemm;
  /** nearest components (by centroid) each component is joined against (default 8) */
  joinCandidates?: number;
  /** rows of a larger component searched for its boundary rows, drawn uniformly (default 1024) */
  maxJoinRows?: number;
  /** boundary rows per component and partner compared exactly (default 32) */
  boundaryRows?: number;
  seed?: number;
  isCancelled?: () => boolean;
}

const cancelled = (): AppError => new AppError('CANCELLED', 'HDBSCAN spanning tree cancelled');

/**
 * MST (approximate where the graph misses neighbours) of the mutual-reachability graph of the rows of X, from a kNN
 * graph with k >= minSamples neighbours per row (nearest first, euclidean distances).
 */
export async function graphMutualReachabilityMst(
  X: Float32Array, n: number, d: number, minSamples: number,
  g: { k: number; indices: Int32Array; distances: Float32Array }, opts: GraphMstOptions = {},
): Promise<GraphMst> {
  const K = g.k;
  if (!Number.isInteger(minSamples) || minSamples < 1 || minSamples > K) throw badArg('minSamples', `must be an integer in [1, ${K}] (the graph's k), got ${minSamples}`);
  const gemm = opts.gemm ?? gemmJs;
  const check = () => { if (opts.isCancelled?.()) throw cancelled(); };
  const core = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = g.distances[i * K + minSamples - 1];
    // a row with fewer listed neighbours than min_samples: its core distance is unknown, take its farthest listed
    core[i] = Number.isFinite(v) ? v : farthestListed(g, i);
  }
  const from = new Int32Array(n - 1), to = new Int32Array(n - 1), weight = new Float64Array(n - 1);
  let nEdges = 0;
  const uf = new UnionFind(n);
  const comp = new Int32Array(n);
  const bestW = new Float64Array(n), bestP = new Int32Array(n), bestQ = new Int32Array(n);
  // Boruvka on the graph
  for (;;) {
    check();
    for (let i = 0; i < n; i++) comp[i] = uf.find(i);
    bestW.fill(Infinity);
    for (let p = 0; p < n; p++) {
      const cp = comp[p], o = p * K, cc = core[p];
      for (let t = 0; t < K; t++) {
        const q = g.indices[o + t];
        if (q < 0 || comp[q] === cp) continue;
        let w = g.distances[o + t];
        if (w < cc) w = cc;
        if (w < core[q]) w = core[q];
        const cq = comp[q];
        if (w < bestW[cp] || (w === bestW[cp] && q < bestQ[cp])) { bestW[cp] = w; bestP[cp] = p; bestQ[cp] = q; }
        if (w < bestW[cq] || (w === bestW[cq] && p < bestQ[cq])) { bestW[cq] = w; bestP[cq] = q; bestQ[cq] = p; }
      }
    }
    let merged = 0;
    for (let c = 0; c < n; c++) {
      if (comp[c] !== c || bestW[c] === Infinity) continue;
      if (uf.union(bestP[c], bestQ[c])) {
        from[nEdges] = bestP[c]; to[nEdges] = bestQ[c]; weight[nEdges] = bestW[c]; nEdges++;
        merged++;
      }
    }
    if (merged === 0 || nEdges === n - 1) break;
  }
  const graphComponents = n - nEdges;
  // join the components with exact edges between near components
  let joinRounds = 0, joinEdges = 0, joinPairs = 0;
  const rng = createRng(opts.seed ?? 0);
  const poolSize = Math.max(16, opts.maxJoinRows ?? 1024);
  const r = Math.max(1, opts.boundaryRows ?? 32);
  while (nEdges < n - 1) {
    check();
    joinRounds++;
    const rootId = new Int32Array(n).fill(-1);
    let C = 0;
    for (let i = 0; i < n; i++) { const root = uf.find(i); if (rootId[root] < 0) rootId[root] = C++; comp[i] = rootId[root]; }
    // members per component (CSR) and centroids
    const start = new Int32Array(C + 1);
    for (let i = 0; i < n; i++) start[comp[i] + 1]++;
    for (let c = 0; c < C; c++) start[c + 1] += start[c];
    const members = new Int32Array(n);
    { const f = start.slice(0, C); for (let i = 0; i < n; i++) members[f[comp[i]]++] = i; }
    const cent = new Float32Array(C * d);
    const acc = new Float64Array(d);
    for (let c = 0; c < C; c++) {
      acc.fill(0);
      for (let t = start[c]; t < start[c + 1]; t++) { const o = members[t] * d; for (let p = 0; p < d; p++) acc[p] += X[o + p]; }
      const inv = 1 / (start[c + 1] - start[c]);
      for (let p = 0; p < d; p++) cent[c * d + p] = acc[p] * inv;
    }
    const m = Math.min(C - 1, Math.max(1, (opts.joinCandidates ?? 8) * (1 << (joinRounds - 1))));
    const near = await knnQuery(cent, C, cent, C, d, m, { metric: 'euclidean', gemm, selfQuery: true, excludeSelf: true, isCancelled: opts.isCancelled });
    // candidate pairs (a < b), and each component's partners
    const partners: number[][] = Array.from({ length: C }, () => []);
    const pairs: Array<[number, number]> = [];
    const seen = new Set<number>();
    for (let a = 0; a < C; a++) {
      for (let t = 0; t < m; t++) {
        const b = near.indices[a * m + t];
        const lo = Math.min(a, b), hi = Math.max(a, b);
        const key = lo * C + hi;
        if (seen.has(key)) continue;
        seen.add(key); pairs.push([lo, hi]); partners[lo].push(hi); partners[hi].push(lo);
      }
    }
    // per component and partner: the r rows (of the component, or of a uniform pool of poolSize rows) nearest to the
    // partner's centroid: where the lightest edge between the two is
    const boundary = new Map<number, Int32Array>();
    for (let a = 0; a < C; a++) {
      check();
      const s0 = start[a], size = start[a + 1] - s0, ps = partners[a];
      if (!ps.length) continue;
      let pool: Int32Array;
      if (size <= poolSize) pool = members.subarray(s0, s0 + size);
      else {
        pool = new Int32Array(poolSize);
        const pick = new Uint8Array(size);
        let got = 0;
        while (got < poolSize) { const t = rng.int(size); if (!pick[t]) { pick[t] = 1; pool[got++] = members[s0 + t]; } }
      }
      const pn = pool.length;
      if (pn <= r) { for (const b of ps) boundary.set(a * C + b, pool); continue; }
      const A = new Float32Array(pn * d);
      for (let t = 0; t < pn; t++) A.set(X.subarray(pool[t] * d, pool[t] * d + d), t * d);
      const Pc = new Float32Array(ps.length * d);
      ps.forEach((b, t) => Pc.set(cent.subarray(b * d, b * d + d), t * d));
      const G = await gemm(A, pn, transpose(Pc, ps.length, d), ps.length, d);
      const aSq = rowSqNorms(A, pn, d);
      const hs = new Float32Array(r), hi = new Int32Array(r);
      for (let t = 0; t < ps.length; t++) {
        hs.fill(Infinity); hi.fill(-1);
        for (let u = 0; u < pn; u++) {
          const v = aSq[u] - 2 * G[u * ps.length + t];
          if (v < hs[r - 1]) {
            let x = r - 1;
            while (x > 0 && hs[x - 1] > v) { hs[x] = hs[x - 1]; hi[x] = hi[x - 1]; x--; }
            hs[x] = v; hi[x] = pool[u];
          }
        }
        boundary.set(a * C + ps[t], hi.slice());
      }
    }
    // the lightest mutual-reachability edge between the boundary rows of each pair
    const eu: number[] = [], ev: number[] = [], ew: number[] = [];
    for (const [a, b] of pairs) {
      check();
      const ra = boundary.get(a * C + b)!, rb = boundary.get(b * C + a)!;
      const A = new Float32Array(ra.length * d), B = new Float32Array(rb.length * d);
      for (let t = 0; t < ra.length; t++) A.set(X.subarray(ra[t] * d, ra[t] * d + d), t * d);
      for (let t = 0; t < rb.length; t++) B.set(X.subarray(rb[t] * d, rb[t] * d + d), t * d);
      const S = await gemm(A, ra.length, transpose(B, rb.length, d), rb.length, d);
      const aSq = rowSqNorms(A, ra.length, d), bSq = rowSqNorms(B, rb.length, d);
      let bw = Infinity, bp = -1, bq = -1;
      for (let u = 0; u < ra.length; u++) {
        const p = ra[u], cp = core[p] * core[p];
        for (let t = 0; t < rb.length; t++) {
          const q = rb[t];
          let w = aSq[u] + bSq[t] - 2 * S[u * rb.length + t];
          if (w < cp) w = cp;
          const cq = core[q] * core[q];
          if (w < cq) w = cq;
          if (w < bw) { bw = w; bp = p; bq = q; }
        }
      }
      if (bp >= 0) { eu.push(bp); ev.push(bq); ew.push(Math.sqrt(Math.max(0, bw))); joinPairs++; }
    }
    // Kruskal on the candidate edges
    const order = Array.from(ew.keys()).sort((x, y) => ew[x] - ew[y] || eu[x] - eu[y]);
    let added = 0;
    for (const e of order) {
      if (uf.union(eu[e], ev[e])) {
        from[nEdges] = eu[e]; to[nEdges] = ev[e]; weight[nEdges] = ew[e]; nEdges++; added++; joinEdges++;
      }
    }
    if (added === 0 && m >= C - 1) throw new AppError('INTERNAL', 'mutual-reachability graph could not be joined');
  }
  return { from, to, weight, core, stats: { graphComponents, joinRounds, joinEdges, joinPairs } };
}

function farthestListed(g: { k: number; indices: Int32Array; distances: Float32Array }, i: number): number {
  let v = 0;
  for (let t = 0; t < g.k; t++) { const x = g.distances[i * g.k + t]; if (Number.isFinite(x) && x > v) v = x; }
  return v;
}
