/**
 * DBSCAN reading a kNN graph (knn-graph.ts) instead of all pairs: the eps-neighbourhood of a point is the part of its
 * k listed neighbours within eps (and of the rows that list it), so a point is core when at least minSamples - 1 listed
 * neighbours lie within eps (itself counted, as sklearn does); choose k >= minSamples. Clusters are the connected
 * components of core points over those edges; a border point joins the lowest-numbered cluster among its core
 * neighbours, as in dbscan.ts. Exact when every eps-neighbourhood has at most k points and the graph is exact.
 *
 * The graph holds euclidean distances; with `cosine` they are between L2-normalized rows and eps is a cosine distance
 * (1 - cos = e^2 / 2). Pure numeric code.
 */
import { badArg } from '../../common/errors.ts';
import type { DbscanResult } from './dbscan.ts';

export function dbscanOnGraph(
  g: { n: number; k: number; indices: Int32Array; distances: Float32Array }, eps: number, minSamples: number, cosine: boolean,
): DbscanResult {
  const { n, k } = g;
  if (!Number.isFinite(eps) || eps <= 0) throw badArg('eps', `must be a finite number > 0, got ${eps}`);
  if (!Number.isInteger(minSamples) || minSamples < 1) throw badArg('minSamples', `must be a positive integer, got ${minSamples}`);
  if (minSamples > k + 1) throw badArg('minSamples', `${minSamples} needs a graph of at least ${minSamples - 1} neighbours, got ${k}`);
  // within eps, in the graph's units
  const lim = cosine ? Math.sqrt(2 * eps) : eps;
  const deg = new Int32Array(n);
  const within = (i: number, t: number): boolean => g.indices[i * k + t] >= 0 && g.distances[i * k + t] <= lim;
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) if (within(i, t)) deg[i]++;
  // rows that list i also count (the graph is not symmetric), once per pair: add q -> i when i does not list q
  const listed = (i: number, q: number): boolean => { for (let t = 0; t < k; t++) if (g.indices[i * k + t] === q) return true; return false; };
  const extra = new Int32Array(n);
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) if (within(i, t)) { const q = g.indices[i * k + t]; if (!listed(q, i)) extra[q]++; }
  const coreMask = new Uint8Array(n);
  for (let i = 0; i < n; i++) { deg[i] += extra[i]; if (deg[i] + 1 >= minSamples) coreMask[i] = 1; }
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => { while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; };
  for (let i = 0; i < n; i++) {
    if (!coreMask[i]) continue;
    for (let t = 0; t < k; t++) {
      if (!within(i, t)) continue;
      const q = g.indices[i * k + t];
      if (!coreMask[q]) continue;
      const a = find(i), b = find(q);
      if (a !== b) { if (a < b) parent[b] = a; else parent[a] = b; }
    }
  }
  const labels = new Int32Array(n).fill(-1);
  const rootLabel = new Int32Array(n).fill(-1);
  let nClusters = 0;
  for (let i = 0; i < n; i++) {
    if (!coreMask[i]) continue;
    const r = find(i);
    if (rootLabel[r] < 0) rootLabel[r] = nClusters++;
    labels[i] = rootLabel[r];
  }
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      if (!within(i, t)) continue;
      const q = g.indices[i * k + t];
      if (coreMask[i] && !coreMask[q]) { const l = labels[i]; if (labels[q] < 0 || l < labels[q]) labels[q] = l; }
      else if (coreMask[q] && !coreMask[i]) { const l = labels[q]; if (labels[i] < 0 || l < labels[i]) labels[i] = l; }
    }
  }
  let noiseCount = 0;
  for (let i = 0; i < n; i++) if (labels[i] < 0) noiseCount++;
  return { labels, coreMask, nClusters, noiseCount, neighbourCounts: deg };
}
