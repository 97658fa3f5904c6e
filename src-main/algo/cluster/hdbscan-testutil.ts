/** Small helpers shared by the clustering tests (pure). */

/** Adjusted Rand index between two labelings (every label value, -1 included, is its own class). */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new Error('adjustedRandIndex: length mismatch');
  const pair = new Map<number, number>(), ra = new Map<number, number>(), rb = new Map<number, number>();
  const ids = new Map<number, number>();
  const id = (v: number): number => { let x = ids.get(v); if (x === undefined) { x = ids.size; ids.set(v, x); } return x; };
  for (let i = 0; i < n; i++) {
    const x = id(a[i]), y = id(b[i]);
    const k = x * 1048576 + y;
    pair.set(k, (pair.get(k) ?? 0) + 1);
    ra.set(x, (ra.get(x) ?? 0) + 1);
    rb.set(y, (rb.get(y) ?? 0) + 1);
  }
  const c2 = (v: number): number => (v * (v - 1)) / 2;
  let s = 0, sa = 0, sb = 0;
  for (const v of pair.values()) s += c2(v);
  for (const v of ra.values()) sa += c2(v);
  for (const v of rb.values()) sb += c2(v);
  const expected = (sa * sb) / c2(n);
  const max = (sa + sb) / 2;
  return max === expected ? 1 : (s - expected) / (max - expected);
}

/** Adjusted mutual information (arithmetic normalization, as sklearn's default). */
export function adjustedMutualInfo(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const ia = new Map<number, number>(), ib = new Map<number, number>();
  const A = Int32Array.from(a as ArrayLike<number>, (v) => { let x = ia.get(v); if (x === undefined) { x = ia.size; ia.set(v, x); } return x; });
  const B = Int32Array.from(b as ArrayLike<number>, (v) => { let x = ib.get(v); if (x === undefined) { x = ib.size; ib.set(v, x); } return x; });
  const R = ia.size, C = ib.size;
  const ca = new Float64Array(R), cb = new Float64Array(C);
  const nij = new Map<number, number>();
  for (let i = 0; i < n; i++) { ca[A[i]]++; cb[B[i]]++; const k = A[i] * C + B[i]; nij.set(k, (nij.get(k) ?? 0) + 1); }
  let mi = 0;
  for (const [k, v] of nij) { const i = Math.floor(k / C), j = k % C; mi += (v / n) * Math.log((n * v) / (ca[i] * cb[j])); }
  const h = (c: Float64Array): number => { let s = 0; for (const v of c) if (v > 0) s -= (v / n) * Math.log(v / n); return s; };
  const ha = h(ca), hb = h(cb);
  // expected mutual information (Vinh et al.), via log-gamma
  const lg = logGammaTable(n + 1);
  let emi = 0;
  for (let i = 0; i < R; i++) {
    const ai = ca[i];
    for (let j = 0; j < C; j++) {
      const bj = cb[j];
      const lo = Math.max(1, ai + bj - n), hi = Math.min(ai, bj);
      for (let v = lo; v <= hi; v++) {
        const term = (v / n) * Math.log((n * v) / (ai * bj));
        const lp = lg[ai] + lg[bj] + lg[n - ai] + lg[n - bj] - lg[n] - lg[v] - lg[ai - v] - lg[bj - v] - lg[n - ai - bj + v];
        emi += term * Math.exp(lp);
      }
    }
  }
  const denom = (ha + hb) / 2 - emi;
  return denom === 0 ? 1 : (mi - emi) / denom;
}

function logGammaTable(m: number): Float64Array {
  // lg[k] = log(k!)
  const t = new Float64Array(m + 1);
  for (let k = 2; k <= m; k++) t[k] = t[k - 1] + Math.log(k);
  return t;
}
