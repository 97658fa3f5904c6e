/**
 * Assigning new items to existing groups. Each group is given by its centroid and several prototypes
 * (members at its centre and at its edge). An item is scored against the groups whose centroids are nearest (a
 * shortlist, so the cost grows with the new items times the groups, never with the members), by its best similarity
 * to each group's prototypes (or its k-th best: `agree`); it joins the best group when that similarity reaches the threshold (the model's identity
 * threshold, or the group's own floor) AND beats the second-best group by the margin. Otherwise it stays unassigned.
 * Rows are L2-normalized by the caller. Pure: typed arrays in, typed arrays out.
 */
import { badArg } from '../../common/errors.ts';
import { dot, gemmJs, transpose, type Gemm } from '../linalg.ts';

export interface AssignGroups {
  /** number of groups */
  g: number;
  /** g x d normalized centroids */
  centroids: Float32Array;
  /** prototypes of all groups, row-major normalized, and the group of each prototype row */
  prototypes: Float32Array;
  protoGroup: Int32Array;
  /** optional per-group floor: a group accepts an item only at or above it (models without an identity threshold) */
  floors?: Float32Array;
}

export interface AssignOptions {
  /** similarity an item must reach to a group's nearest prototype (default: -1, i.e. the floors decide) */
  threshold?: number;
  /** how much the best group must beat the second best (default 0.05) */
  margin?: number;
  /** groups scored per item by their prototypes, nearest centroids first (default 8) */
  shortlist?: number;
  /**
   * how many of a group's prototypes must agree: a group's score is its k-th most similar prototype (its best one
   * when it has fewer; default 1 = the nearest prototype). With k = 2 an item joins a group only when two of its
   * members (when it has two) reach the threshold: a chance impostor match against one member, whose rate grows
   * with the number of prototypes compared, no longer suffices.
   */
  agree?: number;
  gemm?: Gemm;
}

export interface AssignResult {
  /** group index per item, -1 = unassigned */
  group: Int32Array;
  best: Float32Array;
  second: Float32Array;
  /** why an item stayed unassigned: 1 below the threshold, 2 within the margin of another group */
  reason: Uint8Array;
}

export async function assignToGroups(Q: Float32Array, q: number, d: number, G: AssignGroups, o: AssignOptions = {}): Promise<AssignResult> {
  if (Q.length < q * d) throw badArg('items', `expected ${q} x ${d} values, got ${Q.length}`);
  const threshold = o.threshold ?? -1, margin = o.margin ?? 0.05;
  const agree = Math.max(1, Math.floor(o.agree ?? 1));
  if (agree > 8) throw badArg('agree', `must be at most 8, got ${o.agree}`);
  const kth = new Float32Array(agree);
  const group = new Int32Array(q).fill(-1), best = new Float32Array(q).fill(NaN), second = new Float32Array(q).fill(NaN), reason = new Uint8Array(q);
  if (G.g === 0 || q === 0) { reason.fill(1); return { group, best, second, reason }; }
  const gemm = o.gemm ?? gemmJs;
  const S = Float32Array.from(await gemm(Q, q, transpose(G.centroids, G.g, d), G.g, d));
  // prototype rows of each group
  const protoStart = new Int32Array(G.g + 1);
  for (let r = 0; r < G.protoGroup.length; r++) protoStart[G.protoGroup[r] + 1]++;
  for (let g = 0; g < G.g; g++) protoStart[g + 1] += protoStart[g];
  const order = new Int32Array(G.protoGroup.length);
  const fill = protoStart.slice(0, G.g);
  for (let r = 0; r < G.protoGroup.length; r++) order[fill[G.protoGroup[r]]++] = r;
  const Pm = G.prototypes;
  const L = Math.min(o.shortlist ?? 8, G.g);
  const top = new Int32Array(L), topS = new Float32Array(L);
  for (let i = 0; i < q; i++) {
    // shortlist: the L groups with the most similar centroids
    let filled = 0;
    for (let g = 0; g < G.g; g++) {
      const s = S[i * G.g + g];
      if (filled < L) { top[filled] = g; topS[filled] = s; filled++; if (filled === L) sortDesc(top, topS, L); continue; }
      if (s <= topS[L - 1]) continue;
      let p = L - 1;
      while (p > 0 && topS[p - 1] < s) { top[p] = top[p - 1]; topS[p] = topS[p - 1]; p--; }
      top[p] = g; topS[p] = s;
    }
    if (filled < L) sortDesc(top, topS, filled);
    let b = -1, bs = -Infinity, ss = -Infinity;
    for (let t = 0; t < filled; t++) {
      const g = top[t];
      // the k best prototype similarities of the group, descending (k = agree)
      kth.fill(-Infinity);
      const cnt = protoStart[g + 1] - protoStart[g];
      for (let u = protoStart[g]; u < protoStart[g + 1]; u++) {
        const sim = dot(Q, i * d, Pm, order[u] * d, d);
        if (sim <= kth[agree - 1]) continue;
        let p = agree - 1;
        while (p > 0 && kth[p - 1] < sim) { kth[p] = kth[p - 1]; p--; }
        kth[p] = sim;
      }
      const m = cnt === 0 ? -Infinity : kth[Math.min(agree, cnt) - 1];
      if (m > bs) { ss = bs; bs = m; b = g; } else if (m > ss) ss = m;
    }
    best[i] = bs; second[i] = ss;
    const floor = Math.max(threshold, G.floors ? G.floors[b] : -1);
    if (b < 0 || !(bs >= floor)) reason[i] = 1;
    else if (Number.isFinite(ss) && bs - ss < margin) reason[i] = 2;
    else group[i] = b;
  }
  return { group, best, second, reason };
}

function sortDesc(idx: Int32Array, s: Float32Array, n: number): void {
  for (let a = 1; a < n; a++) {
    const vi = idx[a], vs = s[a];
    let p = a;
    while (p > 0 && s[p - 1] < vs) { idx[p] = idx[p - 1]; s[p] = s[p - 1]; p--; }
    idx[p] = vi; s[p] = vs;
  }
}
