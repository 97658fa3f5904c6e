/**
 * Linking faces into people without chaining. Single link joins two groups as soon as ONE pair is similar,
 * so a run of look-alike detections (drawn faces, an eye, a cheek) becomes one huge "person". Here a pair of groups is
 * joined only when the AVERAGE similarity of all their cross pairs reaches the threshold:
 *
 * - `graphAverageLink`: average linkage restricted to the kNN graph. Candidate joins are the kNN edges above the
 *   threshold; groups keep the sum of their L2-normalized rows, so the mean cross similarity of groups A and B is
 *   exactly dot(sumA, sumB) / (|A| |B|) in O(d), whatever their sizes. Joins are made best-first (a max-heap of group
 *   pairs keyed by that mean, re-keyed lazily as groups grow), which is average linkage cut at the threshold, except
 *   that two groups no kNN edge connects are never joined. O(n k log(n k) + joins * d) after the kNN graph.
 * - `exactLink`: plain average / complete linkage over all pairs (./agglomerative.ts, O(n^2) memory), for comparison.
 *
 * Groups of one face are noise (-1), as the `people` preset reports them. Pure: typed arrays in, labels out; the kNN
 * products go through the injected Gemm.
 */
import { badArg } from '../../common/errors.ts';
import { knnExact } from '../knn.ts';
import { normalizeRows, type Gemm } from '../linalg.ts';
import { agglomerative } from './agglomerative.ts';
import { libraryThresholds, type LibraryThresholds, type TailLike, type ThresholdOptions } from './identity-scale.ts';

export interface LinkOptions {
  /** cosine similarity the mean cross similarity of two groups must reach to join them */
  similarity: number;
  /** neighbours per face in the graph (default 10) */
  k?: number;
  gemm?: Gemm;
  isCancelled?: () => boolean;
}

export interface LinkResult {
  /** group per row, -1 for faces left alone; groups numbered by decreasing size */
  labels: Int32Array;
  groups: number;
  /** size of the largest group */
  largest: number;
}

function checkArgs(X: Float32Array, n: number, d: number, similarity: number): void {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(d) || d < 1 || X.length < n * d) throw badArg('X', `expected ${n} x ${d} values, got ${X.length}`);
  if (!(similarity > -1 && similarity < 1)) throw badArg('similarity', `must be in (-1, 1), got ${similarity}`);
}

/** Relabels roots so that groups of >= 2 are 0.. by decreasing size (ties by first row) and singletons are -1. */
export function relabelBySize(root: ArrayLike<number>, n: number): LinkResult {
  const count = new Map<number, number>();
  for (let i = 0; i < n; i++) count.set(root[i], (count.get(root[i]) ?? 0) + 1);
  const first = new Map<number, number>();
  for (let i = 0; i < n; i++) if (!first.has(root[i])) first.set(root[i], i);
  const big = [...count.entries()].filter(([, c]) => c >= 2).sort((a, b) => b[1] - a[1] || first.get(a[0])! - first.get(b[0])!);
  const id = new Map(big.map(([r], i) => [r, i]));
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = id.get(root[i]) ?? -1;
  return { labels, groups: big.length, largest: big.length ? big[0][1] : 0 };
}

/** A binary max-heap of [key, a, b] triples. */
class MaxHeap {
  private key: number[] = []; private a: number[] = []; private b: number[] = [];
  get size(): number { return this.key.length; }
  push(k: number, a: number, b: number): void {
    this.key.push(k); this.a.push(a); this.b.push(b);
    let i = this.key.length - 1;
    while (i > 0) { const p = (i - 1) >> 1; if (this.key[p] >= this.key[i]) break; this.swap(i, p); i = p; }
  }
  pop(): [number, number, number] {
    const top: [number, number, number] = [this.key[0], this.a[0], this.b[0]];
    const last = this.key.length - 1;
    this.swap(0, last); this.key.pop(); this.a.pop(); this.b.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1; let m = i;
      if (l < this.key.length && this.key[l] > this.key[m]) m = l;
      if (r < this.key.length && this.key[r] > this.key[m]) m = r;
      if (m === i) break;
      this.swap(i, m); i = m;
    }
    return top;
  }
  private swap(i: number, j: number): void {
    [this.key[i], this.key[j]] = [this.key[j], this.key[i]]; [this.a[i], this.a[j]] = [this.a[j], this.a[i]]; [this.b[i], this.b[j]] = [this.b[j], this.b[i]];
  }
}

/** Average linkage on the kNN graph, cut at `similarity` (see the file comment). */
export async function graphAverageLink(X: Float32Array, n: number, d: number, o: LinkOptions): Promise<LinkResult> {
  checkArgs(X, n, d, o.similarity);
  if (n < 2) return relabelBySize(new Int32Array(n).map((_, i) => i), n);
  const k = Math.min(o.k ?? 10, n - 1);
  if (!(Number.isInteger(k) && k >= 1)) throw badArg('k', `must be a positive integer, got ${o.k}`);
  const Xn = normalizeRows(X, n, d);
  const nn = await knnExact(Xn, n, d, k, { metric: 'cosine', gemm: o.gemm, isCancelled: o.isCancelled });
  // group state: union-find over rows; each root holds its size and the sum of its rows
  const parent = new Int32Array(n).map((_, i) => i);
  const size = new Int32Array(n).fill(1);
  const sum = Float64Array.from(Xn);
  const find = (x: number): number => { while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; };
  const mean = (a: number, b: number): number => {
    let s = 0; const ao = a * d, bo = b * d;
    for (let t = 0; t < d; t++) s += sum[ao + t] * sum[bo + t];
    return s / (size[a] * size[b]);
  };
  const heap = new MaxHeap();
  // graph adjacency between roots is the kNN edges above the threshold, kept as row pairs
  const edges: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = nn.indices[i * k + t];
      if (j < 0 || j === i) continue;
      const s = 1 - nn.distances[i * k + t];
      if (s >= o.similarity) { edges.push([i, j]); heap.push(s, i, j); }
    }
  }
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (const [i, j] of edges) { adj[i].push(j); adj[j].push(i); }
  let steps = 0;
  while (heap.size) {
    if ((++steps & 4095) === 0 && o.isCancelled?.()) throw badArg('cancelled', 'linking cancelled');
    const [key, a0, b0] = heap.pop();
    const a = find(a0), b = find(b0);
    if (a === b) continue;
    const m = mean(a, b);
    // stale entry (a group grew since it was keyed): re-key it with the current mean
    if (Math.abs(m - key) > 1e-9) { if (m >= o.similarity) heap.push(m, a, b); continue; }
    if (m < o.similarity) continue;
    const [r, c] = size[a] >= size[b] ? [a, b] : [b, a];
    parent[c] = r; size[r] += size[c];
    for (let t = 0; t < d; t++) sum[r * d + t] += sum[c * d + t];
    adj[r].push(...adj[c]); adj[c] = [];
    // re-key the new group against its graph neighbours' groups
    const seen = new Set<number>();
    const kept: number[] = [];
    for (const x of adj[r]) {
      const g = find(x);
      if (g === r || seen.has(g)) continue;
      seen.add(g); kept.push(x);
      const s = mean(r, g);
      if (s >= o.similarity) heap.push(s, r, g);
    }
    adj[r] = kept;
  }
  const root = new Int32Array(n);
  for (let i = 0; i < n; i++) root[i] = find(i);
  return relabelBySize(root, n);
}

/** Average or complete linkage over all pairs (cosine), cut at `similarity`; for comparison (O(n^2) memory). */
export async function exactLink(X: Float32Array, n: number, d: number, o: LinkOptions & { linkage: 'average' | 'complete' }): Promise<LinkResult> {
  checkArgs(X, n, d, o.similarity);
  if (n < 2) return relabelBySize(new Int32Array(n).map((_, i) => i), n);
  const r = await agglomerative(X, n, d, { linkage: o.linkage, metric: 'cosine', distanceThreshold: 1 - o.similarity, gemm: o.gemm, isCancelled: o.isCancelled, maxExact: Math.max(n, 10000) });
  return relabelBySize(r.labels, n);
}

/**
 * The `people` preset's grouping in one call: the library's thresholds from the model's calibrated impostor tail
 * (./identity-scale.ts), then average linkage on the kNN graph at its `link` similarity. The thresholds come back for
 * `assign` (sure) and the queues (sure / maybe).
 */
export async function peopleGroups(X: Float32Array, n: number, d: number, tail: TailLike, o: Omit<LinkOptions, 'similarity'> & ThresholdOptions = {}): Promise<LinkResult & { thresholds: LibraryThresholds }> {
  const thresholds = libraryThresholds(X, n, d, tail, o);
  const r = await graphAverageLink(X, n, d, { similarity: thresholds.link, k: o.k, gemm: o.gemm, isCancelled: o.isCancelled });
  return { ...r, thresholds };
}
