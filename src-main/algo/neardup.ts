/**
 * Near-duplicate groups that cannot chain. Candidate pairs (a row's nearest neighbours above the threshold) are taken
 * in decreasing similarity, and two groups are joined only when EVERY pair across them is at or above the threshold
 * (complete linkage, agglomerated greedily along the candidate pairs). So a group's stated minimum is the true minimum
 * of all its pairwise similarities and is never below the threshold, whatever the threshold: a chain a~b~c with a and c
 * apart cannot become one group, as single linkage (union-find over the pairs) would make it.
 * Pure: rows L2-normalized by the caller, similarities are dot products accumulated in float64.
 */
import { AppError } from '../common/errors.ts';

export interface NearDupGroup {
  /** rows of the group, the representative first, then by decreasing similarity to it */
  rows: number[];
  /** the true minimum similarity over every pair of the group (>= threshold) */
  minSim: number;
  /** the row with the highest mean similarity to the others (the group's medoid) */
  representative: number;
}

export interface NearDupCandidates {
  /** n*k neighbour rows */
  indices: Int32Array;
  /** n*k cosine similarities matching `indices` */
  sims: Float32Array | Float64Array;
  k: number;
}

export function rowDot(X: Float32Array, d: number, a: number, b: number): number {
  let s = 0;
  const oa = a * d, ob = b * d;
  for (let t = 0; t < d; t++) s += X[oa + t] * X[ob + t];
  return s;
}

/** Complete-linkage near-duplicate groups (of two or more rows), largest first. */
export function nearDuplicateGroups(Xn: Float32Array, n: number, d: number, cand: NearDupCandidates, threshold: number,
  opts: { isCancelled?: () => boolean; maxGroup?: number } = {}): NearDupGroup[] {
  const { k } = cand;
  // a bound on a group's size (and so on the cost of a merge check); a low threshold then gives several groups of at
  // most maxGroup members, each still without a pair below the threshold
  const maxGroup = opts.maxGroup ?? 1000;
  // candidate pairs i < j at or above the threshold, each once
  const pi: number[] = [], pj: number[] = [], ps: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) {
    const j = cand.indices[i * k + t];
    if (j < 0 || j === i) continue;
    const a = Math.min(i, j), b = Math.max(i, j);
    const key = a * n + b;
    if (seen.has(key)) continue;
    // the exact similarity (the kNN's came through a float32 product)
    const s = rowDot(Xn, d, a, b);
    if (s < threshold) continue;
    seen.add(key);
    pi.push(a); pj.push(b); ps.push(s);
  }
  const order = Array.from(ps.keys()).sort((x, y) => ps[y] - ps[x] || pi[x] - pi[y] || pj[x] - pj[y]);
  const groupOf = Int32Array.from({ length: n }, (_, i) => i);
  const members = new Map<number, number[]>();
  const minOf = new Map<number, number>();
  const membersOf = (g: number) => members.get(g) ?? [g];
  // cross pairs already found below the threshold: never tried again while both groups stand
  const refused = new Set<string>();
  let step = 0;
  for (const e of order) {
    if ((++step & 1023) === 0 && opts.isCancelled?.()) throw new AppError('CANCELLED', 'near-duplicates: cancelled');
    const ga = groupOf[pi[e]], gb = groupOf[pj[e]];
    if (ga === gb) continue;
    const key = ga < gb ? `${ga}:${gb}` : `${gb}:${ga}`;
    if (refused.has(key)) continue;
    const A = membersOf(ga), B = membersOf(gb);
    if (A.length + B.length > maxGroup) { refused.add(key); continue; }
    let cross = Infinity;
    for (const a of A) {
      for (const b of B) {
        const s = rowDot(Xn, d, a, b);
        if (s < cross) cross = s;
        if (cross < threshold) break;
      }
      if (cross < threshold) break;
    }
    if (cross < threshold) { refused.add(key); continue; }
    const [keep, gone] = A.length >= B.length ? [ga, gb] : [gb, ga];
    const merged = [...membersOf(keep), ...membersOf(gone)];
    for (const r of membersOf(gone)) groupOf[r] = keep;
    members.set(keep, merged);
    members.delete(gone);
    minOf.set(keep, Math.min(minOf.get(ga) ?? Infinity, minOf.get(gb) ?? Infinity, cross));
    minOf.delete(gone);
  }
  const out: NearDupGroup[] = [];
  for (const [g, rows] of members) {
    if (rows.length < 2) continue;
    // every pairwise similarity once: the medoid and the true minimum
    const m = rows.length;
    const mean = new Float64Array(m);
    let min = Infinity;
    const S = new Float64Array(m * m);
    for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) {
      const s = rowDot(Xn, d, rows[a], rows[b]);
      S[a * m + b] = S[b * m + a] = s;
      mean[a] += s; mean[b] += s;
      if (s < min) min = s;
    }
    let rep = 0;
    for (let a = 1; a < m; a++) if (mean[a] > mean[rep] || (mean[a] === mean[rep] && rows[a] < rows[rep])) rep = a;
    const idx = Array.from(rows.keys()).filter((a) => a !== rep).sort((a, b) => S[rep * m + b] - S[rep * m + a] || rows[a] - rows[b]);
    out.push({ rows: [rows[rep], ...idx.map((a) => rows[a])], minSim: min, representative: rows[rep] });
    void g;
  }
  return out.sort((a, b) => b.rows.length - a.rows.length || b.minSim - a.minSim || a.representative - b.representative);
}

/**
 * Single linkage (what near-duplicates did before): connected components of the pairs above the threshold, with the
 * true minimum pairwise similarity of each component. Kept for the benchmark's before/after figures.
 */
export function singleLinkageGroups(Xn: Float32Array, n: number, d: number, cand: NearDupCandidates, threshold: number): Array<{ rows: number[]; minSim: number }> {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => { while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; };
  for (let i = 0; i < n; i++) for (let t = 0; t < cand.k; t++) {
    const j = cand.indices[i * cand.k + t];
    if (j < 0 || j === i || rowDot(Xn, d, i, j) < threshold) continue;
    const a = find(i), b = find(j);
    if (a !== b) parent[a] = b;
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) { const g = find(i); if (!groups.has(g)) groups.set(g, []); groups.get(g)!.push(i); }
  return [...groups.values()].filter((g) => g.length > 1).map((rows) => {
    let min = Infinity;
    for (let a = 0; a < rows.length; a++) for (let b = a + 1; b < rows.length; b++) min = Math.min(min, rowDot(Xn, d, rows[a], rows[b]));
    return { rows, minSim: min };
  }).sort((a, b) => b.rows.length - a.rows.length);
}
