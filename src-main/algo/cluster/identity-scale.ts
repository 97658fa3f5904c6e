/**
 * Identity thresholds that scale with the library. A fixed threshold calibrated at a false-accept rate f on
 * a set of P impostor pairs lets through about f * P' impostor pairs in a library of P' pairs: the tail of the impostor
 * distribution reaches higher as the population grows. Here the threshold is set for a stated number of false merges
 * over the library's OWN pairs, from two parts:
 *
 * - the model's calibration (`calibrateImpostorTail`, on a labeled set): impostor similarities, standardized by the
 *   location and scale of ALL the set's pair similarities (median and MAD: what an unlabeled library also has, barely
 *   moved by the few genuine pairs), have an exponential upper tail: P(z > t) = exp(a - t / b), fitted by least squares
 *   on log survival over the tail (from `tailFrom`, default 1e-1, down to where 20 impostor pairs remain above);
 * - the library's own pairs (`libraryThresholds`, unlabeled): most pairs in a library are different people, so their
 *   median and MAD place the impostor distribution of THIS library (another camera, another population); the threshold
 *   at a per-pair false-accept rate f is loc + scale * b * (a - ln f).
 *
 * The sure threshold holds `falseMerges` (default 1) expected impostor pairs above it over all n(n-1)/2 pairs of the
 * library (so it tightens as n grows; never looser than SURE_FAR_MAX per pair); the uncertain ("maybe") threshold holds `maybeFalseMerges` (default n / 4: a
 * face offered as "maybe" is wrong for about one face in four at most) and is never above the sure one. `link` is the similarity the
 * `people` preset's average linkage (./people-link.ts) joins groups at: the model's `LINK_FAR`, tightened to `maybe`.
 * Large libraries are sampled (`maxPairs` random pairs, injected Rng). Pure numeric code.
 */
import { badArg } from '../../common/errors.ts';
import type { LibraryZones } from '../../common/types.ts';
import { dot, normalizeRows } from '../linalg.ts';
import type { Rng } from '../rng.ts';

export interface PairStats { pairs: number; sampled: number; loc: number; scale: number }

export interface TailModel {
  /** log-survival intercept and slope of the standardized impostor tail: P(z > t) = exp(a - t / b) */
  a: number;
  b: number;
  /** the calibration set's own location / scale (for reports) */
  loc: number;
  scale: number;
  impostor: number;
  /** fitted range of standardized values */
  zFrom: number;
  zTo: number;
}

export interface LibraryThresholds extends PairStats {
  /** per-pair false-accept rates the thresholds hold */
  farSure: number;
  farMaybe: number;
  sure: number;
  maybe: number;
  /** the average-linkage similarity of the `people` preset: max(threshold at `linkFar`, maybe) */
  link: number;
}

/**
 * Per-pair false-accept rate at which the `people` preset's average linkage joins groups, before the library's own
 * `maybe` threshold tightens it (and never above `sure`): the model's calibrated per-pair rate. Chosen on ORL half A
 * (even person folders) by the groups that mix two people, which cost precision in `assign` and hand moves in
 * labeling, where a split costs one merge: 1e-3 left one mixed group (s6 with two faces of s31 also in the
 * end-to-end protocol's run), 1e-4 none with the best AMI (0.973); reported on ORL half B, London and the mixed
 * library in BENCHMARKS.md "People decisions that follow the library's size".
 */
export const LINK_FAR = 1e-4;

/**
 * In a small library one expected false pair is a loose per-pair rate (16 faces: 1 in 120 pairs): the sure threshold
 * is never looser than the per-pair rate the face model was calibrated at (1e-4, core/models/identity.ts), the maybe
 * threshold never looser than 1e-2 (about faces-london's own n / 4 rate, 60 faces). Libraries past ~140 faces (sure)
 * and ~50 faces (maybe) are not affected: their rates are already below these.
 */
export const SURE_FAR_MAX = 1e-4;
export const MAYBE_FAR_MAX = 1e-2;

function median(a: Float32Array | Float64Array): number {
  const s = Float64Array.from(a).sort();
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Robust location (median) and scale (1.4826 MAD) of similarities. */
export function robustLocScale(s: Float32Array | Float64Array): { loc: number; scale: number } {
  if (s.length < 2) throw badArg('pairs', `need at least two pair similarities, got ${s.length}`);
  const loc = median(s);
  const dev = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) dev[i] = Math.abs(s[i] - loc);
  const scale = 1.4826 * median(dev);
  if (!(scale > 0)) throw badArg('pairs', 'pair similarities have no spread (all rows alike?)');
  return { loc, scale };
}

/**
 * Similarities of the library's pairs: all of them when n(n-1)/2 <= maxPairs, else `maxPairs` distinct-index pairs
 * drawn uniformly with `rng`. Rows are L2-normalized here.
 */
export function pairSimilarities(X: Float32Array, n: number, d: number, o: { maxPairs?: number; rng?: Rng } = {}): { sims: Float32Array; pairs: number; i: Int32Array; j: Int32Array } {
  if (!Number.isInteger(n) || n < 2 || !Number.isInteger(d) || d < 1 || X.length < n * d) throw badArg('X', `need at least 2 rows of ${d} values, got ${n} rows / ${X.length} values`);
  const maxPairs = o.maxPairs ?? 250_000;
  if (!(Number.isInteger(maxPairs) && maxPairs >= 2)) throw badArg('maxPairs', `must be an integer >= 2, got ${o.maxPairs}`);
  const Xn = normalizeRows(X, n, d);
  const pairs = n * (n - 1) / 2;
  if (pairs <= maxPairs) {
    const sims = new Float32Array(pairs), I = new Int32Array(pairs), J = new Int32Array(pairs);
    let p = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) { sims[p] = dot(Xn, i * d, Xn, j * d, d); I[p] = i; J[p] = j; p++; }
    return { sims, pairs, i: I, j: J };
  }
  if (!o.rng) throw badArg('rng', `a library of ${n} rows is sampled: pass an Rng`);
  const sims = new Float32Array(maxPairs), I = new Int32Array(maxPairs), J = new Int32Array(maxPairs);
  for (let p = 0; p < maxPairs; p++) {
    const i = o.rng.int(n); let j = o.rng.int(n - 1); if (j >= i) j++;
    sims[p] = dot(Xn, i * d, Xn, j * d, d); I[p] = Math.min(i, j); J[p] = Math.max(i, j);
  }
  return { sims, pairs, i: I, j: J };
}

/** Fits the model's standardized impostor tail on a labeled set (see the file comment). */
export function calibrateImpostorTail(X: Float32Array, n: number, d: number, labels: ArrayLike<number>, o: { maxPairs?: number; rng?: Rng; tailFrom?: number; minAbove?: number } = {}): TailModel {
  if (labels.length !== n) throw badArg('labels', `${labels.length} labels for ${n} rows`);
  const tailFrom = o.tailFrom ?? 0.1, minAbove = o.minAbove ?? 20;
  if (!(tailFrom > 0 && tailFrom < 1)) throw badArg('tailFrom', `must be in (0, 1), got ${o.tailFrom}`);
  const { sims, i, j } = pairSimilarities(X, n, d, o);
  const { loc, scale } = robustLocScale(sims);
  const imp: number[] = [];
  for (let p = 0; p < sims.length; p++) if (labels[i[p]] >= 0 && labels[j[p]] >= 0 && labels[i[p]] !== labels[j[p]]) imp.push((sims[p] - loc) / scale);
  const m = imp.length;
  if (m < minAbove / tailFrom) throw badArg('labels', `${m} impostor pairs: need at least ${Math.ceil(minAbove / tailFrom)} to fit the tail`);
  imp.sort((x, y) => y - x);
  // points (z_r, ln((r + 0.5) / m)) for the r-th largest, r from minAbove to tailFrom * m, on a log-spaced grid of ranks
  const xs: number[] = [], ys: number[] = [];
  const rTo = Math.floor(tailFrom * m);
  for (let r = minAbove; r <= rTo; r = Math.max(r + 1, Math.floor(r * 1.1))) { xs.push(imp[r]); ys.push(Math.log((r + 0.5) / m)); }
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length, my = ys.reduce((s, y) => s + y, 0) / ys.length;
  let sxy = 0, sxx = 0;
  for (let t = 0; t < xs.length; t++) { sxy += (xs[t] - mx) * (ys[t] - my); sxx += (xs[t] - mx) ** 2; }
  const slope = sxy / sxx; // ln P = a + slope * z, slope = -1 / b
  if (!(slope < 0)) throw badArg('labels', 'the impostor tail does not fall: cannot calibrate');
  return { a: my - slope * mx, b: -1 / slope, loc, scale, impostor: m, zFrom: xs[xs.length - 1], zTo: xs[0] };
}

/** The similarity at a per-pair false-accept rate `far` for a library whose pairs have this loc / scale. */
export function thresholdAt(tail: Pick<TailModel, 'a' | 'b'>, loc: number, scale: number, far: number): number {
  if (!(far > 0 && far < 1)) throw badArg('far', `must be in (0, 1), got ${far}`);
  return Math.min(0.9999, loc + scale * tail.b * (tail.a - Math.log(far)));
}

export interface ThresholdOptions {
  /** expected impostor pairs above the sure threshold over the library's pairs (default 1) */
  falseMerges?: number;
  /** expected impostor pairs above the maybe threshold (default n / 4) */
  maybeFalseMerges?: number;
  /** per-pair false-accept rate of the link threshold before `maybe` tightens it (default LINK_FAR) */
  linkFar?: number;
  /** the loosest per-pair rates sure and maybe may reach in a small library (defaults SURE_FAR_MAX, MAYBE_FAR_MAX) */
  maxFarSure?: number;
  maxFarMaybe?: number;
  /** pairs sampled above this many (default 250,000; needs `rng`) */
  maxPairs?: number;
  rng?: Rng;
  /** how many faces the calibration set's location / scale count as beside the library's (default PRIOR_FACES) */
  priorFaces?: number;
}

/** The tail a library's thresholds need: its shape, and (optional) the calibration set's own location and scale. */
export type TailLike = Pick<TailModel, 'a' | 'b'> & { loc?: number; scale?: number };

/**
 * The location and scale of a small library's pairs are unsteady (its few faces make strongly dependent pairs: 16
 * faces of faces-london give a scale of 0.082, its 60 faces 0.113): they are shrunk towards the calibration set's, which
 * counts as this many faces (n / (n + PRIOR_FACES) is the library's weight). With 50, eight London people are linked
 * exactly as all thirty are (BENCHMARKS.md "People decisions"; 20 already does); a library of thousands of faces is
 * not moved.
 */
export const PRIOR_FACES = 50;

/** Sure and uncertain thresholds for this library (see the file comment). */
export function libraryThresholds(X: Float32Array, n: number, d: number, tail: TailLike, o: ThresholdOptions = {}): LibraryThresholds {
  const falseMerges = o.falseMerges ?? 1;
  const maybeFalseMerges = o.maybeFalseMerges ?? Math.max(falseMerges, n / 4);
  if (!(falseMerges > 0)) throw badArg('falseMerges', `must be > 0, got ${o.falseMerges}`);
  if (!(maybeFalseMerges >= falseMerges)) throw badArg('maybeFalseMerges', `must be >= falseMerges (${falseMerges}), got ${o.maybeFalseMerges}`);
  const { sims, pairs } = pairSimilarities(X, n, d, o);
  const own = robustLocScale(sims);
  const n0 = tail.loc !== undefined && tail.scale !== undefined ? (o.priorFaces ?? PRIOR_FACES) : 0;
  if (!(n0 >= 0)) throw badArg('priorFaces', `must be >= 0, got ${o.priorFaces}`);
  const w = n / (n + n0);
  const loc = w * own.loc + (1 - w) * (tail.loc ?? 0), scale = w * own.scale + (1 - w) * (tail.scale ?? 0);
  const farSure = Math.min(o.maxFarSure ?? SURE_FAR_MAX, falseMerges / pairs), farMaybe = Math.min(o.maxFarMaybe ?? MAYBE_FAR_MAX, maybeFalseMerges / pairs);
  const sure = thresholdAt(tail, loc, scale, farSure);
  const maybe = Math.min(sure, thresholdAt(tail, loc, scale, farMaybe));
  const link = Math.min(sure, Math.max(maybe, thresholdAt(tail, loc, scale, o.linkFar ?? LINK_FAR)));
  return { pairs, sampled: sims.length, loc, scale, farSure, farMaybe, sure, maybe, link };
}

/** A library's zones (common/types.ts LibraryZones) from a model's tail: its thresholds, rounded for the run's record. */
export function libraryZones(X: Float32Array, n: number, d: number, tail: TailLike & { set: string }, o: ThresholdOptions = {}): LibraryZones {
  const t = libraryThresholds(X, n, d, tail, o);
  const r = (x: number, p = 1e4) => Math.round(x * p) / p;
  return {
    sure: r(t.sure), maybe: r(t.maybe), link: r(t.link), n, pairs: t.pairs, sampled: t.sampled, loc: r(t.loc, 1e6), scale: r(t.scale, 1e6),
    farSure: t.farSure, farMaybe: t.farMaybe, tail: { ...tail },
  };
}
