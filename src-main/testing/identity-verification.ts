/**
 * Identity thresholds and the linking similarity of the `people` preset.
 *
 * - `verificationThresholds`: every pair of labeled, L2-normalized rows is a verification trial (same label = genuine,
 *   else impostor). The threshold at a false-accept rate f is the similarity above which at most a share f of the
 *   impostor pairs lie; the true-accept rate (TAR) is the share of genuine pairs above it.
 * - `evaluateThreshold`: FAR and TAR of a given threshold on another labeled set (the held-out report).
 * - `plateauLinkSimilarity`: single-link groups (components of the graph of pairs above s) for s on a grid starting at
 *   a model's identity threshold; the chosen s is the least strict one at which the number of groups of two or more
 *   items reaches `share` of its maximum over the grid: a lower s chains different people together (fewer groups), a
 *   higher s breaks people apart into singletons (the count of groups of >= 2 stops growing, then falls).
 * Pure: typed arrays in, numbers out; the products go through the injected Gemm.
 */
import { badArg } from '../common/errors.ts';
import { knnExact } from '../algo/knn.ts';
import { gemmJs, normalizeRows, transpose, type Gemm } from '../algo/linalg.ts';

export interface ThresholdPoint { far: number; similarity: number; tar: number }

export interface VerificationReport {
  items: number;
  genuine: number;
  impostor: number;
  maxImpostor: number;
  points: ThresholdPoint[];
}

/** Genuine and impostor similarities of all pairs (rows normalized here). */
export async function verificationPairs(X: Float32Array, n: number, d: number, labels: ArrayLike<number>, gemm: Gemm = gemmJs): Promise<{ genuine: Float32Array; impostor: Float32Array }> {
  if (labels.length !== n) throw badArg('labels', `${labels.length} labels for ${n} rows`);
  const Xn = normalizeRows(X, n, d);
  const Xt = transpose(Xn, n, d);
  const gen: number[] = [];
  const imp = new Float32Array(n * (n - 1) / 2);
  let ni = 0;
  const block = Math.max(1, Math.floor((4 << 20) / Math.max(1, n)));
  for (let b0 = 0; b0 < n; b0 += block) {
    const m = Math.min(block, n - b0);
    const S = await gemm(Xn.subarray(b0 * d, (b0 + m) * d), m, Xt, n, d);
    for (let r = 0; r < m; r++) {
      const i = b0 + r;
      if (labels[i] < 0) continue;
      for (let j = i + 1; j < n; j++) {
        if (labels[j] < 0) continue;
        const s = S[r * n + j];
        if (labels[i] === labels[j]) gen.push(s); else imp[ni++] = s;
      }
    }
  }
  return { genuine: Float32Array.from(gen), impostor: imp.slice(0, ni) };
}

/** Thresholds at the given false-accept rates, with the true-accept rate at each. */
export async function verificationThresholds(X: Float32Array, n: number, d: number, labels: ArrayLike<number>, fars: number[], gemm?: Gemm): Promise<VerificationReport> {
  const { genuine, impostor } = await verificationPairs(X, n, d, labels, gemm);
  if (genuine.length === 0 || impostor.length === 0) throw badArg('labels', 'need at least two items of one label and two labels');
  const imp = impostor.slice().sort().reverse();
  const points = fars.map((far) => {
    if (!(far > 0 && far < 1)) throw badArg('far', `must be in (0, 1), got ${far}`);
    // at most floor(far * impostors) impostor pairs lie strictly above the threshold
    const k = Math.min(imp.length - 1, Math.floor(far * imp.length));
    const similarity = imp[k];
    let acc = 0;
    for (const s of genuine) if (s > similarity) acc++;
    return { far, similarity: round(similarity), tar: round(acc / genuine.length) };
  });
  return { items: n, genuine: genuine.length, impostor: impostor.length, maxImpostor: round(imp[0]), points };
}

/** False- and true-accept rates of `threshold` on a labeled set. */
export async function evaluateThreshold(X: Float32Array, n: number, d: number, labels: ArrayLike<number>, threshold: number, gemm?: Gemm): Promise<{ threshold: number; far: number; tar: number; genuine: number; impostor: number; falseAccepts: number }> {
  const { genuine, impostor } = await verificationPairs(X, n, d, labels, gemm);
  let fa = 0, ta = 0;
  for (const s of impostor) if (s > threshold) fa++;
  for (const s of genuine) if (s > threshold) ta++;
  return { threshold, far: impostor.length ? fa / impostor.length : 0, tar: genuine.length ? round(ta / genuine.length) : 0, genuine: genuine.length, impostor: impostor.length, falseAccepts: fa };
}

function round(x: number): number { return Math.round(x * 1e6) / 1e6; }

export interface PlateauOptions {
  /** grid: from (the identity threshold), step, steps (defaults 0.0125, 16: the grid spans 0.2) */
  step?: number;
  steps?: number;
  /** the share of the maximum count of groups of >= 2 that the chosen s reaches (default 0.97) */
  share?: number;
  /** neighbours per item in the graph (default 15) */
  k?: number;
  gemm?: Gemm;
  isCancelled?: () => boolean;
}

export interface PlateauResult {
  similarity: number;
  grid: Array<{ similarity: number; groups: number; singletons: number }>;
  maxGroups: number;
}

/** The linking similarity of the `people` preset (see the file comment). */
export async function plateauLinkSimilarity(X: Float32Array, n: number, d: number, from: number, o: PlateauOptions = {}): Promise<PlateauResult> {
  const step = o.step ?? 0.0125, steps = o.steps ?? 16, share = o.share ?? 0.97;
  const grid = Array.from({ length: steps + 1 }, (_, i) => round(from + i * step)).filter((s) => s < 1);
  if (n < 3 || grid.length === 0) return { similarity: from, grid: [], maxGroups: 0 };
  const k = Math.min(o.k ?? 15, n - 1);
  const Xn = normalizeRows(X, n, d);
  const nn = await knnExact(Xn, n, d, k, { metric: 'cosine', gemm: o.gemm, isCancelled: o.isCancelled });
  // edges above the lowest grid value, strongest first
  const edges: Array<[number, number, number]> = [];
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = nn.indices[i * k + t];
      const s = 1 - nn.distances[i * k + t];
      if (j > i && s > grid[0]) edges.push([s, i, j]);
      else if (j < i && s > grid[0]) {
        // keep each pair once: i's list may hold j while j's does not hold i
        let back = false;
        for (let u = 0; u < k; u++) if (nn.indices[j * k + u] === i) { back = true; break; }
        if (!back) edges.push([s, j, i]);
      }
    }
  }
  edges.sort((a, b) => b[0] - a[0]);
  const parent = new Int32Array(n).map((_, i) => i);
  const size = new Int32Array(n).fill(1);
  const find = (x: number): number => { while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; };
  let groups = 0, singletons = n;
  const out: PlateauResult['grid'] = [];
  let e = 0;
  // walk the grid from strict to loose, adding the edges above each value
  for (let g = grid.length - 1; g >= 0; g--) {
    const s = grid[g];
    for (; e < edges.length && edges[e][0] > s; e++) {
      const a = find(edges[e][1]), b = find(edges[e][2]);
      if (a === b) continue;
      const big = size[a] >= 2, bigB = size[b] >= 2;
      if (!big) singletons--; if (!bigB) singletons--;
      groups += 1 - (big ? 1 : 0) - (bigB ? 1 : 0);
      const [r, c] = size[a] >= size[b] ? [a, b] : [b, a];
      parent[c] = r; size[r] += size[c];
    }
    out.unshift({ similarity: s, groups, singletons });
  }
  const maxGroups = Math.max(...out.map((p) => p.groups));
  const pick = out.find((p) => p.groups >= share * maxGroups) ?? out[0];
  return { similarity: pick.similarity, grid: out, maxGroups };
}
