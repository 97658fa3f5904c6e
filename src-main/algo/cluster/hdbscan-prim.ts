/**
 * Reproduces the order in which the reference hdbscan (prims_kdtree / mst_linkage_core_vector) emits its spanning-tree
 * edges, so that merges at equal heights are serialized the same way: the condensed tree, and hence EOM/leaf choices,
 * depend on that serialization whenever mutual-reachability weights tie (they often do: many edges weigh exactly a
 * core distance).
 *
 * The reference runs dense Prim from point 0, at each step adding the lowest-index point among those at the least
 * distance from the tree, and records (previously added point, new point, distance); then it sorts the records with
 * numpy's default argsort (introsort, not stable). Dense Prim is O(n^2 d); here it runs on a sparse graph that holds
 * an MST plus every kNN edge: every edge whose weight is set by a core distance (d(p,q) <= max core) joins a point to
 * one of its min_samples nearest, so the sparse graph has every edge that can tie, and each Prim step finds the same
 * least distance (cut property) and the same lowest-index point, up to floating-point differences.
 */

export interface PrimEdges {
  /** point added just before `to` (the reference's `current_node`) */
  from: Int32Array;
  to: Int32Array;
  weight: Float64Array;
}

/**
 * Prim from point 0 over an undirected weighted graph given as an edge list (duplicates allowed).
 * Ties: least weight, then lowest point index, as the reference's dense scan.
 */
export function primOrder(n: number, eu: Int32Array, ev: Int32Array, ew: Float64Array): PrimEdges {
  const m = eu.length;
  // CSR adjacency
  const deg = new Int32Array(n + 1);
  for (let i = 0; i < m; i++) { deg[eu[i] + 1]++; deg[ev[i] + 1]++; }
  for (let i = 0; i < n; i++) deg[i + 1] += deg[i];
  const adj = new Int32Array(2 * m), adjW = new Float64Array(2 * m);
  const fill = deg.slice(0, n);
  for (let i = 0; i < m; i++) {
    const a = eu[i], b = ev[i];
    adj[fill[a]] = b; adjW[fill[a]++] = ew[i];
    adj[fill[b]] = a; adjW[fill[b]++] = ew[i];
  }
  const key = new Float64Array(n).fill(Infinity);
  const inTree = new Uint8Array(n);
  // binary heap of (key, index) with lazy deletion
  let hk = new Float64Array(1024), hi = new Int32Array(1024);
  let size = 0;
  const less = (ka: number, ia: number, kb: number, ib: number): boolean => ka < kb || (ka === kb && ia < ib);
  const push = (k: number, i: number): void => {
    if (size === hk.length) {
      const nk = new Float64Array(size * 2); nk.set(hk); hk = nk;
      const ni = new Int32Array(size * 2); ni.set(hi); hi = ni;
    }
    let c = size++;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!less(k, i, hk[p], hi[p])) break;
      hk[c] = hk[p]; hi[c] = hi[p]; c = p;
    }
    hk[c] = k; hi[c] = i;
  };
  const pop = (): void => {
    const k = hk[--size], i = hi[size];
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= size) break;
      const r = l + 1;
      const m2 = r < size && less(hk[r], hi[r], hk[l], hi[l]) ? r : l;
      if (!less(hk[m2], hi[m2], k, i)) break;
      hk[c] = hk[m2]; hi[c] = hi[m2]; c = m2;
    }
    hk[c] = k; hi[c] = i;
  };
  const from = new Int32Array(n - 1), to = new Int32Array(n - 1), weight = new Float64Array(n - 1);
  let cur = 0;
  for (let step = 0; step < n - 1; step++) {
    inTree[cur] = 1;
    for (let e = deg[cur]; e < deg[cur + 1]; e++) {
      const j = adj[e];
      if (inTree[j]) continue;
      const w = adjW[e];
      if (w < key[j]) { key[j] = w; push(w, j); }
    }
    let next = -1;
    while (size > 0) {
      const k = hk[0], i = hi[0];
      pop();
      if (!inTree[i] && k === key[i]) { next = i; break; }
    }
    if (next < 0) throw new Error('primOrder: graph is disconnected');
    from[step] = cur; to[step] = next; weight[step] = key[next];
    cur = next;
  }
  return { from, to, weight };
}

/**
 * numpy's default argsort (kind='quicksort': introsort with median-of-3 pivots, insertion sort below 17 elements (pr - pl <= 15),
 * heapsort past 2*floor(log2 n) levels), reproduced so that ties come out in the same order as the reference's.
 */
export function numpyArgsort(v: Float64Array): Int32Array {
  const num = v.length;
  const t = new Int32Array(num);
  for (let i = 0; i < num; i++) t[i] = i;
  if (num < 2) return t;
  const SMALL = 15;
  const stack: number[] = [];
  const depthStack: number[] = [];
  let pl = 0, pr = num - 1;
  let cdepth = (31 - Math.clz32(num)) * 2;
  const swap = (a: number, b: number): void => { const x = t[a]; t[a] = t[b]; t[b] = x; };
  for (;;) {
    if (cdepth < 0) {
      heapsortRange(v, t, pl, pr - pl + 1);
    } else {
      while (pr - pl > SMALL) {
        const pm = pl + ((pr - pl) >> 1);
        if (v[t[pm]] < v[t[pl]]) swap(pm, pl);
        if (v[t[pr]] < v[t[pm]]) swap(pr, pm);
        if (v[t[pm]] < v[t[pl]]) swap(pm, pl);
        const vp = v[t[pm]];
        let pi = pl, pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do { ++pi; } while (v[t[pi]] < vp);
          do { --pj; } while (vp < v[t[pj]]);
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        if (pi - pl < pr - pi) { stack.push(pi + 1, pr); pr = pi - 1; }
        else { stack.push(pl, pi - 1); pl = pi + 1; }
        depthStack.push(--cdepth);
      }
      // insertion sort
      for (let pi = pl + 1; pi <= pr; ++pi) {
        const vi = t[pi];
        const vp = v[vi];
        let pj = pi, pk = pi - 1;
        while (pj > pl && vp < v[t[pk]]) { t[pj--] = t[pk--]; }
        t[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    cdepth = depthStack.pop()!;
  }
  return t;
}

/** numpy's aheapsort on t[off .. off+n-1]. */
function heapsortRange(v: Float64Array, t: Int32Array, off: number, n: number): void {
  // 1-based view: a[k] = t[off + k - 1]
  const A = (k: number): number => t[off + k - 1];
  const S = (k: number, x: number): void => { t[off + k - 1] = x; };
  for (let l = n >> 1; l > 0; --l) {
    const tmp = A(l);
    let i = l, j = l << 1;
    while (j <= n) {
      if (j < n && v[A(j)] < v[A(j + 1)]) j += 1;
      if (v[tmp] < v[A(j)]) { S(i, A(j)); i = j; j += j; } else break;
    }
    S(i, tmp);
  }
  for (; n > 1;) {
    const tmp = A(n);
    S(n, A(1));
    n -= 1;
    let i = 1, j = 2;
    while (j <= n) {
      if (j < n && v[A(j)] < v[A(j + 1)]) j++;
      if (v[tmp] < v[A(j)]) { S(i, A(j)); i = j; j += j; } else break;
    }
    S(i, tmp);
  }
}
