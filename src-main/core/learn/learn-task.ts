/**
 * The worker side of learning a metric: the PCA start (or the stored one, while the model's embeddings are unchanged),
 * a model trained on most decisions to measure held-out accuracy before (the raw cosine) and after, then the model
 * trained on every decision, and the model's whole matrix through it (the vectors the queues, assign and the map use).
 */
import { AppError } from '../../common/errors.ts';
import { normalizeRows } from '../../algo/linalg.ts';
import { basisOf, holdOut, identityMap, mapScores, nearestMeanAccuracy, projectRows, scoresByGemm, trainMap, type MetricExample, type MetricModel } from '../../algo/metric/projection.ts';
import { warmGemm } from '../workers/warm.ts';
import type { TaskContext } from '../workers/tasks.ts';

export interface LearnPayload {
  /** the model's matrix (n x d, shared) */
  X: Float32Array; n: number; d: number;
  /** the decisions: row, group, sign (1 member, -1 not a member) */
  rows: Int32Array; groups: Int32Array; signs: Int8Array;
  /** the stored PCA start, when the model's embeddings are those it was made from */
  start: { mean: Float32Array; basis: Float32Array; p: number; k: number } | null;
  /** the PCA scores of every row under that start (n x p, shared), kept from an earlier training; null: computed here */
  scores?: Float32Array | null;
  seed: number;
  heldOutShare: number;
}

export interface LearnResult {
  mean: Float32Array; basis: Float32Array; W: Float32Array; p: number; k: number;
  pairs: number; heldOut: number; before: number | null; after: number | null;
  /** n x k unit rows */
  Z: Float32Array;
  /** the PCA scores of every row (n x p) when computed here (a new start, or none given), to be kept for the next training */
  scores: Float32Array | null;
  /** epochs the final training ran (early stopping) */
  epochs: number;
}

export async function learnTask(p: LearnPayload, ctx: TaskContext): Promise<{ result: LearnResult; transfer: ArrayBuffer[] }> {
  const isCancelled = () => ctx.isCancelled();
  const check = () => { if (isCancelled()) throw new AppError('CANCELLED', 'learning cancelled'); };
  const examples: MetricExample[] = [];
  for (let i = 0; i < p.rows.length; i++) examples.push({ row: p.rows[i], cls: p.groups[i], sign: p.signs[i] > 0 ? 1 : -1 });
  ctx.progress('basis', 0, 1);
  let start: MetricModel;
  let scores = p.start && p.scores && p.scores.length === p.n * p.start.p ? p.scores : null;
  const fresh = !scores;
  if (p.start) {
    start = { d: p.d, p: p.start.p, k: p.start.k, mean: p.start.mean, basis: p.start.basis, W: identityMap(p.start.p, p.start.k) };
  } else {
    start = await basisOf(p.X, p.n, p.d, { seed: p.seed, gemm: await warmGemm(1), isCancelled });
  }
  check();
  // every row's PCA scores once per start (a float32 product), then each training maps n x p by p x k only
  scores ??= await scoresByGemm(start, p.X, p.n, await warmGemm(1), isCancelled);
  check();
  ctx.progress('basis', 1, 1);
  const { train, test } = holdOut(examples, p.heldOutShare, p.seed);
  let before: number | null = null, after: number | null = null;
  if (test.length) {
    ctx.progress('held out', 0, 1);
    const m = trainMap(start, p.X, p.n, train, { seed: p.seed, isCancelled, scores });
    // accuracy over the rows the decisions name only (the rest of the matrix is not needed for it)
    const used = [...new Set(examples.map((e) => e.row))].sort((a, b) => a - b);
    const at = new Map(used.map((r, i) => [r, i]));
    const sub = new Float32Array(used.length * p.d);
    used.forEach((r, i) => sub.set(p.X.subarray(r * p.d, (r + 1) * p.d), i * p.d));
    const re = (l: MetricExample[]) => l.map((e) => ({ ...e, row: at.get(e.row)! }));
    const b = nearestMeanAccuracy(normalizeRows(sub, used.length, p.d), p.d, re(train), re(test));
    const subScores = new Float32Array(used.length * m.p);
    used.forEach((r, i) => subScores.set(scores!.subarray(r * m.p, (r + 1) * m.p), i * m.p));
    const a = nearestMeanAccuracy(mapScores(m, subScores, used.length), m.k, re(train), re(test));
    before = Number.isNaN(b) ? null : b;
    after = Number.isNaN(a) ? null : a;
    ctx.progress('held out', 1, 1);
  }
  check();
  let epochs = 0;
  const final = trainMap(start, p.X, p.n, examples, { seed: p.seed, isCancelled, scores, onProgress: (dn, t) => { epochs = dn; ctx.progress('train', dn, t); } });
  check();
  const Z = mapScores(final, scores, p.n);
  const result: LearnResult = {
    mean: final.mean, basis: final.basis, W: final.W, p: final.p, k: final.k, pairs: examples.length, heldOut: test.length, before, after, Z,
    scores: fresh ? scores : null, epochs,
  };
  return { result, transfer: fresh && !(scores.buffer instanceof SharedArrayBuffer) ? [Z.buffer as ArrayBuffer, scores.buffer as ArrayBuffer] : [Z.buffer as ArrayBuffer] };
}

export interface ProjectPayload { X: Float32Array; n: number; d: number; mean: Float32Array; basis: Float32Array; W: Float32Array; p: number; k: number }

/** The model's matrix through a stored metric (a library opened again). */
export async function projectTask(p: ProjectPayload, _ctx: TaskContext): Promise<{ result: Float32Array; transfer: ArrayBuffer[] }> {
  const Z = projectRows({ d: p.d, p: p.p, k: p.k, mean: p.mean, basis: p.basis, W: p.W }, p.X, p.n);
  return { result: Z, transfer: [Z.buffer as ArrayBuffer] };
}
