/**
 * Within-group nearest neighbours of unit vectors: for each group (a folder's faces), how many of its rows have their
 * most similar other row of the same group at or above a cosine threshold. Rows are L2-normalized; a group larger than
 * `maxPerGroup` is judged on its first `maxPerGroup` rows (the caller orders them), so the cost stays bounded.
 */
import { AppError } from '../common/errors.ts';

export interface GroupLikeness {
  /** rows of each group whose nearest neighbour in the group is at or above the threshold */
  above: Int32Array;
  /** rows of each group that were looked at */
  used: Int32Array;
}

export function groupNearestAbove(
  X: Float32Array, d: number, groupOf: Int32Array, nGroups: number, threshold: number,
  opts: { maxPerGroup?: number; isCancelled?: () => boolean } = {},
): GroupLikeness {
  const n = groupOf.length;
  if (X.length !== n * d) throw new RangeError(`expected ${n} x ${d} values, got ${X.length}`);
  const cap = opts.maxPerGroup ?? 2000;
  const members: number[][] = Array.from({ length: nGroups }, () => []);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i]!;
    if (g < 0 || g >= nGroups) throw new RangeError(`row ${i}: group ${g} outside 0..${nGroups - 1}`);
    if (members[g]!.length < cap) members[g]!.push(i);
  }
  const above = new Int32Array(nGroups);
  const used = new Int32Array(nGroups);
  for (let g = 0; g < nGroups; g++) {
    const m = members[g]!;
    used[g] = m.length;
    for (let a = 0; a < m.length; a++) {
      if (opts.isCancelled?.()) throw new AppError('CANCELLED', 'folder likeness cancelled');
      const ia = m[a]! * d;
      let best = -Infinity;
      for (let b = 0; b < m.length && best < threshold; b++) {
        if (b === a) continue;
        const ib = m[b]! * d;
        let s = 0;
        for (let k = 0; k < d; k++) s += X[ia + k]! * X[ib + k]!;
        if (s > best) best = s;
      }
      if (best >= threshold) above[g]++;
    }
  }
  return { above, used };
}
