/**
 * Worker tasks of the people views: the numeric halves of unknown groups (./unknown-groups.ts), merge suggestions
 * (./people.ts), assign (./assign.ts) and the suggestion index and queues (./suggest.ts). The main thread reads the
 * library and routes; the vectors come here in shared memory (SharedArrayBuffer views, never copied) and every loop
 * over them runs here. The loops are the ones those files ran before, moved as they were.
 */
import { assignToGroups, type AssignResult } from '../../algo/cluster/assign.ts';
import { dot, normalizeRowsInPlace, transpose } from '../../algo/linalg.ts';
import { nearDuplicateGroups } from '../../algo/neardup.ts';
import { AppError } from '../../common/errors.ts';
import { warmGemm } from '../workers/warm.ts';
import type { TaskContext } from '../workers/tasks.ts';

const cancelled = (ctx: TaskContext, what: string) => { if (ctx.isCancelled()) throw new AppError('CANCELLED', `${what}: cancelled`); };

// --- unknown groups ---

export interface UnknownGroupsPayload { X: Float32Array; n: number; d: number; threshold: number; k: number; maxGroup: number }

/** The rows of X (normalized here, in place) in groups at or above the threshold: complete linkage over each row's nearest rows. */
export async function unknownGroupsTask(p: UnknownGroupsPayload, ctx: TaskContext): Promise<{ result: { groups: Array<{ rows: number[]; minSim: number }> } }> {
  const { X, n, d, threshold } = p;
  normalizeRowsInPlace(X, n, d);
  // each face's nearest unknown faces at or above the threshold (blocks of one matrix product)
  const k = Math.min(p.k, Math.max(1, n - 1));
  const indices = new Int32Array(n * k).fill(-1), sims = new Float32Array(n * k).fill(-Infinity);
  if (n >= 2) {
    const gemm = await warmGemm(2);
    const Xt = transpose(X, n, d);
    const block = Math.max(16, Math.min(1024, Math.floor(4_000_000 / n)));
    for (let b0 = 0; b0 < n; b0 += block) {
      cancelled(ctx, 'unknown groups');
      const m = Math.min(block, n - b0);
      const S = await gemm(X.subarray(b0 * d, (b0 + m) * d), m, Xt, n, d);
      for (let r = 0; r < m; r++) {
        const i = b0 + r, o2 = i * k;
        for (let j = 0; j < n; j++) {
          const s = S[r * n + j];
          if (j === i || !(s >= threshold - 1e-4) || !(s > sims[o2 + k - 1])) continue;
          let q = k - 1;
          while (q > 0 && sims[o2 + q - 1] < s) { sims[o2 + q] = sims[o2 + q - 1]; indices[o2 + q] = indices[o2 + q - 1]; q--; }
          sims[o2 + q] = s; indices[o2 + q] = j;
        }
      }
    }
  }
  const groups = n >= 2 ? nearDuplicateGroups(X, n, d, { indices, sims, k }, threshold, { maxGroup: p.maxGroup, isCancelled: ctx.isCancelled }) : [];
  return { result: { groups: groups.map((g) => ({ rows: g.rows, minSim: g.minSim })) } };
}

// --- merge suggestions ---

export interface MergePairsPayload { C: Float32Array; g: number; d: number; meanSim: Float64Array; threshold: number }

/**
 * The pairs (i < j) of clusters whose average-linkage similarity meanSim(i) x meanSim(j) x cos(centroid i, centroid j)
 * reaches the threshold (C: the centroids, normalized here in place), in row order.
 */
export async function mergePairsTask(p: MergePairsPayload, ctx: TaskContext): Promise<{ result: { i: Int32Array; j: Int32Array; s: Float64Array }; transfer: ArrayBuffer[] }> {
  const { C, g, d, meanSim, threshold } = p;
  normalizeRowsInPlace(C, g, d);
  const S = g > 1 ? Float32Array.from(await (await warmGemm(2))(C, g, transpose(C, g, d), g, d)) : new Float32Array(g * g);
  cancelled(ctx, 'merge suggestions');
  const I: number[] = [], J: number[] = [], V: number[] = [];
  for (let i = 0; i < g; i++) {
    const mi = meanSim[i];
    for (let j = i + 1; j < g; j++) {
      const s = mi * meanSim[j] * S[i * g + j];
      if (s < threshold) continue;
      I.push(i); J.push(j); V.push(s);
    }
  }
  const out = { i: Int32Array.from(I), j: Int32Array.from(J), s: Float64Array.from(V) };
  return { result: out, transfer: [out.i.buffer, out.j.buffer, out.s.buffer] };
}

export interface MergeMaxPayload {
  /** the samples of the clusters involved, rows of d (normalized here, in place); cluster k's rows start at off[k] */
  X: Float32Array; off: Int32Array; d: number;
  /** pairs of clusters (indices into off) */
  a: Int32Array; b: Int32Array;
}

/** The highest similarity between a sample of a and a sample of b, per pair (-1 when either has none). */
export async function mergeMaxTask(p: MergeMaxPayload, _ctx: TaskContext): Promise<{ result: Float64Array; transfer: ArrayBuffer[] }> {
  const { X, off, d } = p;
  const rows = off[off.length - 1];
  normalizeRowsInPlace(X, rows, d);
  const out = new Float64Array(p.a.length);
  for (let k = 0; k < p.a.length; k++) {
    let max = -1;
    for (let x = off[p.a[k]]; x < off[p.a[k] + 1]; x++) for (let y = off[p.b[k]]; y < off[p.b[k] + 1]; y++) {
      let t = 0; for (let q = 0; q < d; q++) t += X[x * d + q] * X[y * d + q]; if (t > max) max = t;
    }
    out[k] = max;
  }
  return { result: out, transfer: [out.buffer] };
}

// --- assign ---

export interface AssignPayload {
  /** the new items' rows (normalized here, in place) */
  Q: Float32Array; n: number; d: number;
  /**
   * the groups scored: each cluster's centroid row and its group (clusters under one name are one group); null
   * rowCentroids: each group's centre is the mean of its prototypes (in a learned metric)
   */
  g: number; rowCentroids: Float32Array | null; groupOfRow: Int32Array;
  /** the prototypes' rows (those found: `found`), their groups, and the groups' floors (null: the threshold decides) */
  prototypes: Float32Array; found: Uint8Array; protoGroup: Int32Array; floors: Float32Array | null;
  threshold: number; margin: number; agree: number;
}

/** assign's answer, and for each placed item its most similar prototype of its group (an index among those found; -1 when unplaced) */
export type AssignTaskResult = AssignResult & { nearestProto: Int32Array };

/** algo/cluster/assign.ts on the new items, the centroids (a group's clusters summed) and prototypes normalized here. */
export async function assignTask(p: AssignPayload, _ctx: TaskContext): Promise<{ result: AssignTaskResult; transfer: ArrayBuffer[] }> {
  const { d, g } = p;
  const rows = p.groupOfRow.length;
  const centroids = new Float32Array(g * d);
  if (p.rowCentroids) {
    normalizeRowsInPlace(p.rowCentroids, rows, d);
    for (let gi = 0; gi < rows; gi++) {
      const o = p.groupOfRow[gi] * d;
      for (let t = 0; t < d; t++) centroids[o + t] += p.rowCentroids[gi * d + t];
    }
  }
  const keep: number[] = [];
  for (let i = 0; i < p.found.length; i++) if (p.found[i]) keep.push(i);
  let P2 = p.prototypes;
  if (keep.length !== p.found.length) {
    P2 = new Float32Array(keep.length * d);
    keep.forEach((i, r) => P2.set(p.prototypes.subarray(i * d, (i + 1) * d), r * d));
  }
  const protoGroup = Int32Array.from(keep, (i) => p.protoGroup[i]);
  normalizeRowsInPlace(P2, keep.length, d);
  if (!p.rowCentroids) protoGroup.forEach((k, i) => { for (let t = 0; t < d; t++) centroids[k * d + t] += P2[i * d + t]; });
  normalizeRowsInPlace(centroids, g, d);
  normalizeRowsInPlace(p.Q, p.n, d);
  const r = await assignToGroups(p.Q, p.n, d, { g, centroids, prototypes: P2, protoGroup, floors: p.floors ?? undefined },
    { threshold: p.threshold, margin: p.margin, agree: p.agree, gemm: p.n * g > 1e5 ? await warmGemm(2) : undefined });
  const nearestProto = new Int32Array(p.n).fill(-1);
  for (let i = 0; i < p.n; i++) {
    const k = r.group[i];
    if (k < 0) continue;
    let bs = -Infinity;
    for (let q = 0; q < protoGroup.length; q++) {
      if (protoGroup[q] !== k) continue;
      const s = dot(p.Q, i * d, P2, q * d, d);
      if (s > bs) { bs = s; nearestProto[i] = q; }
    }
  }
  const result: AssignTaskResult = { ...r, nearestProto };
  return { result, transfer: [r.group.buffer, r.best.buffer, r.second.buffer, r.reason.buffer, nearestProto.buffer] as ArrayBuffer[] };
}

// --- suggestion index and queues ---

/** A person of a suggestion index: every array in shared memory, so the index's tasks read it without a copy. */
export interface IndexPerson { sig: string; centroid: Float32Array; protos: Float32Array; protoIds: Int32Array; count: number }

const dotRow = (A: Float32Array, i: number, B: Float32Array, j: number, d: number): number => dot(A, i * d, B, j * d, d);

/** The best similarity of candidate row i to a person's prototypes, the candidate itself left out (a member is among its own cluster's samples). */
export function protoScore(Q: Float32Array, i: number, d: number, p: IndexPerson, self: number): number {
  let m = -Infinity;
  for (let r = 0; r < p.count; r++) { if (p.protoIds[r] === self) continue; const s = dotRow(Q, i, p.protos, r, d); if (s > m) m = s; }
  return m;
}

export interface SuggestIndexPayload {
  d: number; L: number; learned: boolean;
  /** every person of the index by cluster; `changed` (read again: raw centroid and prototypes) are made ready here */
  persons: Array<[number, IndexPerson]>;
  changed: number[]; stale: number[];
  /** the candidates: ids, rows (the `full` ones raw: normalized and scored in full here; the others as before) and shortlists */
  ids: Int32Array; n: number; Q: Float32Array; full: Int32Array;
  slC: Int32Array; slS: Float32Array; slP: Float32Array;
}

/**
 * A suggestion index's figures brought up to date in place: the changed persons' centroids and prototypes (in a
 * learned metric the centroid is the mean of the prototypes), the shortlists of the candidates seen before against
 * the changed persons, and the new candidates' shortlists against every person.
 */
export async function suggestIndexTask(p: SuggestIndexPayload, ctx: TaskContext): Promise<{ result: null }> {
  const { d, L, ids, n, Q, slC, slS, slP } = p;
  const persons = new Map(p.persons);
  for (const c of p.changed) {
    const pr = persons.get(c)!;
    const centroid = pr.centroid;
    if (p.learned) {
      centroid.fill(0);
      for (let v = 0; v < pr.count; v++) { const u = Float32Array.from(pr.protos.subarray(v * d, (v + 1) * d)); normalizeRowsInPlace(u, 1, d); for (let t = 0; t < d; t++) centroid[t] += u[t]; }
    }
    normalizeRowsInPlace(centroid, 1, d);
    normalizeRowsInPlace(pr.protos, pr.count, d);
  }
  const full = Array.from(p.full);
  for (const i of full) normalizeRowsInPlace(Q.subarray(i * d, (i + 1) * d), 1, d);
  const stale = new Set(p.stale);
  cancelled(ctx, 'suggestion index');
  // an entry enters by its centroid similarity; its prototype score is computed once the shortlist is final (NaN: to do)
  const insert = (i: number, c: number, s: number) => {
    const o = i * L;
    if (!(s > slS[o + L - 1])) return;
    let q = L - 1;
    while (q > 0 && slS[o + q - 1] < s) { slC[o + q] = slC[o + q - 1]; slS[o + q] = slS[o + q - 1]; slP[o + q] = slP[o + q - 1]; q--; }
    slC[o + q] = c; slS[o + q] = s; slP[o + q] = NaN;
  };
  const score = (i: number) => {
    for (let r = i * L; r < (i + 1) * L; r++) {
      if (slC[r] < 0 || !Number.isNaN(slP[r])) continue;
      const pr = persons.get(slC[r])!;
      slP[r] = protoScore(Q, i, d, pr, ids[i]);
    }
  };
  const drop = (i: number) => {
    // entries of persons that changed or went: out of the shortlist (changed ones are scored again below)
    const o = i * L;
    let w = 0;
    for (let r = 0; r < L; r++) {
      const c = slC[o + r];
      if (c < 0 || stale.has(c)) continue;
      slC[o + w] = c; slS[o + w] = slS[o + r]; slP[o + w] = slP[o + r]; w++;
    }
    for (; w < L; w++) { slC[o + w] = -1; slS[o + w] = -Infinity; slP[o + w] = -Infinity; }
  };
  // candidates seen before: the changed persons only
  if (stale.size) {
    const ch = p.changed.map((c) => [c, persons.get(c)!] as const);
    const seen = new Set(full);
    for (let i = 0; i < n; i++) {
      if (seen.has(i)) continue;
      drop(i);
      for (const [c, pr] of ch) insert(i, c, dotRow(Q, i, pr.centroid, 0, d));
      score(i);
    }
  }
  cancelled(ctx, 'suggestion index');
  // new candidates: every person, the centroid similarities by blocks of a matrix product
  if (full.length && persons.size) {
    const gemm = await warmGemm(2);
    const list = [...persons.entries()];
    const g = list.length;
    const C = new Float32Array(g * d);
    list.forEach(([, pr], j) => C.set(pr.centroid, j * d));
    const Ct = transpose(C, g, d);
    const block = 1024;
    for (let b0 = 0; b0 < full.length; b0 += block) {
      cancelled(ctx, 'suggestion index');
      const rowsB = full.slice(b0, b0 + block);
      const A = new Float32Array(rowsB.length * d);
      rowsB.forEach((i, r) => A.set(Q.subarray(i * d, (i + 1) * d), r * d));
      const S = await gemm(A, rowsB.length, Ct, g, d);
      rowsB.forEach((i, r) => { for (let j = 0; j < g; j++) insert(i, list[j][0], S[r * g + j]); });
      // the shortlisted persons' prototypes only (SHORTLIST x ~a dozen rows per candidate), not every person's: a
      // product over all prototypes cost ~25x the dot products it kept
      for (const i of rowsB) score(i);
    }
  }
  return { result: null };
}

export interface SuggestScorePayload {
  Q: Float32Array; n: number; d: number; L: number;
  /** where each candidate is (its cluster), and the person's cluster and prototypes */
  cluster: Int32Array; person: number; protos: Float32Array; P: number;
  /** the other clusters under the person's name (one person split): not candidates, not competitors */
  same: Int32Array;
  slC: Int32Array; slP: Float32Array; threshold: number;
}

/**
 * A person's queue before the library's checks: every candidate against the person's prototypes in one matrix product;
 * those (not the person's own) at or above the threshold, with the best other person of their shortlist.
 */
export async function suggestScoreTask(p: SuggestScorePayload, _ctx: TaskContext): Promise<{ result: { i: Int32Array; s: Float32Array; other: Float32Array; otherC: Int32Array }; transfer: ArrayBuffer[] }> {
  const { Q, n, d, L, P, cluster, slC, slP, threshold } = p;
  const S = n ? await (await warmGemm(2))(Q, n, transpose(p.protos, P, d), P, d) : new Float32Array(0);
  const I: number[] = [], V: number[] = [], O: number[] = [], OC: number[] = [];
  const same = new Set(p.same);
  for (let i = 0; i < n; i++) {
    if (cluster[i] === p.person) continue;
    let s = -Infinity;
    for (let r = i * P; r < (i + 1) * P; r++) if (S[r] > s) s = S[r];
    if (!(s >= threshold)) continue;
    if (cluster[i] >= 0 && same.has(cluster[i])) continue;
    // the best other person among the candidate's shortlist (a cluster under the same name is this person, split)
    let other = -Infinity, otherC = -1;
    for (let r = i * L; r < (i + 1) * L; r++) if (slC[r] >= 0 && slC[r] !== p.person && !same.has(slC[r]) && slP[r] > other) { other = slP[r]; otherC = slC[r]; }
    I.push(i); V.push(s); O.push(other); OC.push(otherC);
  }
  const out = { i: Int32Array.from(I), s: Float32Array.from(V), other: Float32Array.from(O), otherC: Int32Array.from(OC) };
  return { result: out, transfer: [out.i.buffer, out.s.buffer, out.other.buffer, out.otherC.buffer] as ArrayBuffer[] };
}

export interface SuggestPersonPayload {
  /** the face's row (normalized here when `raw`) and the index's persons */
  q: Float32Array; raw: boolean; d: number; L: number; item: number; from: number | null;
  persons: Array<[number, IndexPerson]>;
  /** its shortlist from the index (cluster, prototype score), or null: made here from the centroids */
  list: Array<{ c: number; s: number }> | null;
}

/** One face against every person by prototypes (the best), with its shortlist of others; see suggest.ts suggestPersonFor. */
export async function suggestPersonTask(p: SuggestPersonPayload, _ctx: TaskContext): Promise<{ result: { best: { c: number; s: number } | null; list: Array<{ c: number; s: number }> } }> {
  const { q, d, L, item } = p;
  if (p.raw) normalizeRowsInPlace(q, 1, d);
  let list = p.list;
  if (!list) {
    list = [];
    const byCentroid = p.persons.map(([c, pr]) => ({ c, p: pr, s: dotRow(q, 0, pr.centroid, 0, d) })).sort((a, b) => b.s - a.s).slice(0, L);
    for (const e of byCentroid) { const s = protoScore(q, 0, d, e.p, item); if (Number.isFinite(s)) list.push({ c: e.c, s }); }
  }
  // the best person by prototypes over every person (as a person's queue scores every candidate)
  let best: { c: number; s: number } | null = null;
  for (const [c, pr] of p.persons) {
    if (c === p.from || pr.count === 0) continue;
    const s = protoScore(q, 0, d, pr, item);
    if (!best || s > best.s || (s === best.s && c < best.c)) best = { c, s };
  }
  return { result: { best, list } };
}
