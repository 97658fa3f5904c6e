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
