/**
 * HDBSCAN hierarchy handling, following the reference Python hdbscan library (scikit-learn-contrib/hdbscan 0.8.x,
 * `_hdbscan_linkage.label`, `_hdbscan_tree.condense_tree / compute_stability / get_clusters / outlier_scores`):
 * single-linkage tree from an MST, condensed tree for a min_cluster_size, excess-of-mass or leaf selection with
 * cluster_selection_epsilon and allow_single_cluster, membership probabilities and GLOSH outlier scores.
 * Pure code on typed arrays.
 */
import type { HDBSCAN_SELECTIONS } from '../../common/cluster-contract.ts';

/** scipy-style single-linkage hierarchy: row i merges left[i] and right[i] (ids >= n are earlier rows + n). */
export interface SingleLinkage {
  n: number;
  left: Int32Array;
  right: Int32Array;
  distance: Float64Array;
  size: Int32Array;
}

/**
 * Condensed tree as compact arrays. Point ids are 0..n-1, cluster ids are n (root), n+1, ... in breadth-first order
 * (children have larger ids than parents). lambda = 1 / distance.
 */
export interface CondensedTree {
  n: number;
  parent: Int32Array;
  child: Int32Array;
  lambda: Float64Array;
  childSize: Int32Array;
  /** number of cluster nodes (root included): cluster ids n .. n + nClusterNodes - 1 */
  nClusterNodes: number;
}

/**
 * Build the single-linkage tree from n-1 spanning edges processed in `order` (default: by weight, stable), merging the
 * components of from[e] (left) and to[e] (right) as the reference's `label` does.
 */
export function singleLinkageFromMst(
  n: number, from: Int32Array, to: Int32Array, weight: Float64Array, order?: Int32Array,
): SingleLinkage {
  const m = n - 1;
  if (!order) {
    order = new Int32Array(m);
    for (let i = 0; i < m; i++) order[i] = i;
    order.sort((a, b) => weight[a] - weight[b] || a - b);
  }
  const parent = new Int32Array(2 * n - 1);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const size = new Int32Array(2 * n - 1);
  size.fill(1, 0, n);
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== r) r = parent[r];
    while (parent[x] !== r) { const nx = parent[x]; parent[x] = r; x = nx; }
    return r;
  };
  const left = new Int32Array(m), right = new Int32Array(m), distance = new Float64Array(m), sz = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const e = order[i];
    const a = find(from[e]), b = find(to[e]);
    const node = n + i;
    left[i] = a; right[i] = b; distance[i] = weight[e];
    size[node] = size[a] + size[b];
    sz[i] = size[node];
    parent[a] = node; parent[b] = node;
  }
  return { n, left, right, distance, size: sz };
}

/** Condense the single-linkage tree: splits with a side smaller than minClusterSize shed points instead. */
export function condenseTree(h: SingleLinkage, minClusterSize: number): CondensedTree {
  const n = h.n;
  const nNodes = 2 * n - 1;
  const root = nNodes - 1;
  const relabel = new Int32Array(nNodes);
  const ignore = new Uint8Array(nNodes);
  const cap = 2 * n + 2;
  const parent = new Int32Array(cap), child = new Int32Array(cap), lambda = new Float64Array(cap), childSize = new Int32Array(cap);
  let rows = 0;
  const count = (x: number): number => (x >= n ? h.size[x - n] : 1);
  // breadth-first order of the whole hierarchy
  const queue = new Int32Array(nNodes);
  const sub = new Int32Array(nNodes);
  let qh = 0, qt = 0;
  queue[qt++] = root;
  while (qh < qt) {
    const x = queue[qh++];
    if (x >= n) { queue[qt++] = h.left[x - n]; queue[qt++] = h.right[x - n]; }
  }
  relabel[root] = n;
  let nextLabel = n + 1;
  const shed = (from: number, lab: number, lam: number): void => {
    // breadth-first over the subtree at `from`: emit its points, ignore all its nodes
    let sh = 0, st = 0;
    sub[st++] = from;
    while (sh < st) {
      const x = sub[sh++];
      ignore[x] = 1;
      if (x < n) { parent[rows] = lab; child[rows] = x; lambda[rows] = lam; childSize[rows] = 1; rows++; }
      else { sub[st++] = h.left[x - n]; sub[st++] = h.right[x - n]; }
    }
  };
  for (let t = 0; t < nNodes; t++) {
    const node = queue[t];
    if (ignore[node] || node < n) continue;
    const r = node - n;
    const l = h.left[r], rt = h.right[r];
    const dist = h.distance[r];
    const lam = dist > 0 ? 1 / dist : Infinity;
    const lc = count(l), rc = count(rt);
    const lab = relabel[node];
    if (lc >= minClusterSize && rc >= minClusterSize) {
      relabel[l] = nextLabel++;
      parent[rows] = lab; child[rows] = relabel[l]; lambda[rows] = lam; childSize[rows] = lc; rows++;
      relabel[rt] = nextLabel++;
      parent[rows] = lab; child[rows] = relabel[rt]; lambda[rows] = lam; childSize[rows] = rc; rows++;
    } else if (lc < minClusterSize && rc < minClusterSize) {
      shed(l, lab, lam);
      shed(rt, lab, lam);
    } else if (lc < minClusterSize) {
      relabel[rt] = lab;
      shed(l, lab, lam);
    } else {
      relabel[l] = lab;
      shed(rt, lab, lam);
    }
  }
  return {
    n,
    parent: parent.slice(0, rows), child: child.slice(0, rows), lambda: lambda.slice(0, rows), childSize: childSize.slice(0, rows),
    nClusterNodes: nextLabel - n,
  };
}

/** Stability of every cluster node (index = id - n): sum over its rows of (lambda - birth) * size. */
export function computeStability(t: CondensedTree): Float64Array {
  const { n, nClusterNodes: K } = t;
  const birth = new Float64Array(K); // root: 0
  for (let i = 0; i < t.child.length; i++) if (t.child[i] >= n) birth[t.child[i] - n] = t.lambda[i];
  const stab = new Float64Array(K);
  for (let i = 0; i < t.parent.length; i++) {
    const c = t.parent[i] - n;
    stab[c] += (t.lambda[i] - birth[c]) * t.childSize[i];
  }
  return stab;
}

export type SelectionMethod = (typeof HDBSCAN_SELECTIONS)[number];

export interface SelectOptions {
  method: SelectionMethod;
  allowSingleCluster: boolean;
  /** distance units of the tree (lambda = 1 / distance); 0 = off */
  epsilon: number;
}

export interface Selection {
  /** selected cluster node ids (ascending); label i is clusters[i] */
  clusters: Int32Array;
  labels: Int32Array;
  probabilities: Float32Array;
  /** stability score per selected cluster, as the reference's cluster_persistence_ */
  persistence: Float32Array;
}

/** Pick flat clusters from the condensed tree and label the points, as hdbscan.get_clusters does. */
export function selectClusters(t: CondensedTree, opts: SelectOptions): Selection {
  const { n, nClusterNodes: K } = t;
  const rows = t.parent.length;
  // cluster tree structure
  const clParent = new Int32Array(K).fill(-1);
  const clBirth = new Float64Array(K);
  const firstChild = new Int32Array(K).fill(-1), nextSib = new Int32Array(K).fill(-1);
  const lastChild = new Int32Array(K).fill(-1);
  for (let i = 0; i < rows; i++) {
    const c = t.child[i];
    if (c < n) continue;
    const ci = c - n, pi = t.parent[i] - n;
    clParent[ci] = pi; clBirth[ci] = t.lambda[i];
    if (firstChild[pi] < 0) firstChild[pi] = ci; else nextSib[lastChild[pi]] = ci;
    lastChild[pi] = ci;
  }
  const stability = computeStability(t);
  const stab = stability.slice();
  const isCluster = new Uint8Array(K);
  const hasClusterTree = K > 1;

  const clearSubtree = (root: number, keepRoot: boolean): void => {
    const stack = [root];
    while (stack.length) {
      const x = stack.pop()!;
      if (x !== root || !keepRoot) isCluster[x] = 0;
      for (let c = firstChild[x]; c >= 0; c = nextSib[c]) stack.push(c);
    }
  };
  const descendants = (root: number): number[] => {
    const out: number[] = [];
    const stack = [root];
    while (stack.length) {
      const x = stack.pop()!;
      out.push(x);
      for (let c = firstChild[x]; c >= 0; c = nextSib[c]) stack.push(c);
    }
    return out;
  };
  // epsilon search (reference epsilon_search / traverse_upwards); nodes as indices (id - n)
  const epsilonSearch = (candidates: number[]): Set<number> => {
    const eps = opts.epsilon;
    const selected = new Set<number>();
    const processed = new Set<number>();
    for (const leaf of candidates) {
      const leafEps = 1 / clBirth[leaf];
      if (leafEps < eps) {
        if (!processed.has(leaf)) {
          // traverse upwards
          let node = leaf, pick = -1;
          for (;;) {
            const p = clParent[node];
            if (p === 0) { pick = opts.allowSingleCluster ? 0 : node; break; }
            if (1 / clBirth[p] > eps) { pick = p; break; }
            node = p;
          }
          selected.add(pick);
          for (const s of descendants(pick)) if (s !== pick) processed.add(s);
        }
      } else selected.add(leaf);
    }
    return selected;
  };

  if (opts.method === 'eom') {
    const lowest = opts.allowSingleCluster ? 0 : 1;
    for (let c = lowest; c < K; c++) isCluster[c] = 1;
    for (let node = K - 1; node >= lowest; node--) {
      let sub = 0;
      for (let c = firstChild[node]; c >= 0; c = nextSib[c]) sub += stab[c];
      sub = Math.fround(sub); // the reference accumulates in a C float
      if (sub > stab[node]) { isCluster[node] = 0; stab[node] = sub; }
      else clearSubtree(node, true);
    }
    if (opts.epsilon !== 0 && hasClusterTree) {
      const eom: number[] = [];
      for (let c = 0; c < K; c++) if (isCluster[c]) eom.push(c);
      let sel: Set<number>;
      if (eom.length === 1 && eom[0] === 0) sel = opts.allowSingleCluster ? new Set(eom) : new Set();
      else sel = epsilonSearch(eom);
      isCluster.fill(0);
      for (const c of sel) isCluster[c] = 1;
    }
  } else {
    const leaves: number[] = [];
    for (let c = 1; c < K; c++) if (firstChild[c] < 0) leaves.push(c);
    isCluster.fill(0);
    if (leaves.length === 0) isCluster[0] = 1;
    else if (opts.epsilon !== 0) for (const c of epsilonSearch(leaves)) isCluster[c] = 1;
    else for (const c of leaves) isCluster[c] = 1;
  }

  const clusterList: number[] = [];
  for (let c = 0; c < K; c++) if (isCluster[c]) clusterList.push(c);
  const labelOf = new Int32Array(K).fill(-1);
  clusterList.forEach((c, i) => { labelOf[c] = i; });
  // nearest selected ancestor-or-self of every cluster node (parents precede children in id order)
  const sel = new Int32Array(K).fill(-1);
  for (let c = 0; c < K; c++) {
    if (isCluster[c]) sel[c] = c;
    else if (c > 0) sel[c] = sel[clParent[c]];
  }
  // root's own maximum lambda (single-cluster rule)
  let rootMaxLambda = -Infinity;
  for (let i = 0; i < rows; i++) if (t.parent[i] === n && t.lambda[i] > rootMaxLambda) rootMaxLambda = t.lambda[i];
  const single = clusterList.length === 1 && opts.allowSingleCluster;
  const labels = new Int32Array(n).fill(-1);
  const pointLambda = new Float64Array(n);
  for (let i = 0; i < rows; i++) {
    const pt = t.child[i];
    if (pt >= n) continue;
    pointLambda[pt] = t.lambda[i];
    const s = sel[t.parent[i] - n];
    if (s < 0) continue;
    if (s === 0) {
      // the root is selected: only in the single-cluster case, and only for points that stay long enough
      if (!single) continue;
      const lam = t.lambda[i];
      const keep = opts.epsilon !== 0 ? lam >= 1 / opts.epsilon : lam >= rootMaxLambda;
      if (keep) labels[pt] = labelOf[0];
    } else labels[pt] = labelOf[s];
  }
  // probabilities: lambda clipped at the selected cluster's own largest lambda (max over its direct rows)
  const deaths = new Float64Array(K);
  for (let i = 0; i < rows; i++) { const c = t.parent[i] - n; if (t.lambda[i] > deaths[c]) deaths[c] = t.lambda[i]; }
  const probabilities = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const l = labels[p];
    if (l < 0) continue;
    const maxL = deaths[clusterList[l]];
    const lam = pointLambda[p];
    probabilities[p] = maxL === 0 || !Number.isFinite(lam) ? 1 : Math.min(lam, maxL) / maxL;
  }
  // persistence (reference get_stability_scores)
  let maxLambda = 0;
  for (let i = 0; i < rows; i++) if (t.lambda[i] > maxLambda) maxLambda = t.lambda[i];
  const sizes = new Int32Array(clusterList.length);
  for (let p = 0; p < n; p++) if (labels[p] >= 0) sizes[labels[p]]++;
  const persistence = new Float32Array(clusterList.length);
  for (let i = 0; i < clusterList.length; i++) {
    persistence[i] = !Number.isFinite(maxLambda) || maxLambda === 0 || sizes[i] === 0
      ? 1 : stab[clusterList[i]] / (sizes[i] * maxLambda);
  }
  return { clusters: Int32Array.from(clusterList, (c) => c + n), labels, probabilities, persistence };
}

/**
 * GLOSH outlier scores: 1 - lambda(point) / lambda_max, lambda_max being the largest lambda anywhere in the subtree
 * of the cluster the point falls out of (0 where lambda_max is 0 or the point's lambda is infinite).
 */
export function glosh(t: CondensedTree): Float32Array {
  const { n, nClusterNodes: K } = t;
  const rows = t.parent.length;
  const deaths = new Float64Array(K);
  for (let i = 0; i < rows; i++) { const c = t.parent[i] - n; if (t.lambda[i] > deaths[c]) deaths[c] = t.lambda[i]; }
  // propagate subtree maxima upwards: children have larger ids than parents
  const clParent = new Int32Array(K).fill(-1);
  for (let i = 0; i < rows; i++) if (t.child[i] >= n) clParent[t.child[i] - n] = t.parent[i] - n;
  for (let c = K - 1; c > 0; c--) { const p = clParent[c]; if (deaths[c] > deaths[p]) deaths[p] = deaths[c]; }
  const out = new Float32Array(n);
  for (let i = 0; i < rows; i++) {
    const pt = t.child[i];
    if (pt >= n) continue;
    const lmax = deaths[t.parent[i] - n];
    const lam = t.lambda[i];
    out[pt] = lmax === 0 || !Number.isFinite(lam) ? 0 : (lmax - lam) / lmax;
  }
  return out;
}
