/**
 * Mini-batch k-means over a matrix read part by part (Parquet row groups): the rows never need to be in memory at
 * once, only one part plus the centres, as with the memory-mapped file of the source study. Sampling differs from
 * `minibatchKmeans` (which draws every batch from a permutation of all rows, cheap for SQLite or an in-memory matrix,
 * too costly for a file read by row group): each epoch visits the parts in a seeded random order and cuts each part,
 * shuffled, into batches. The update rule, reassignment and early stopping are the same (sklearn's, MiniBatchKMeans).
 */
import { badArg } from '../../common/errors.ts';
import { gemmJs, rowSqNorms, transpose, type Gemm } from '../linalg.ts';
import { createRng, shuffleInPlace } from '../rng.ts';
import { assignNearest, cancelled, type ClusterMetric } from './kmeans.ts';
import { MiniBatchKMeans } from './minibatch.ts';

export interface PartSource {
  n: number;
  d: number;
  /** rows per part, in order */
  partRows: number[];
  /** the rows of one part, row-major (partRows[i] x d); a fresh array the caller may change */
  readPart(i: number): Promise<Float32Array>;
}

export interface StreamOptions {
  k: number;
  metric?: ClusterMetric;
  seed?: number;
  batchSize?: number;
  maxEpochs?: number;
  maxNoImprovement?: number;
  reassignmentRatio?: number;
  initSize?: number;
  gemm?: Gemm;
  onProgress?: (stage: string, done: number, total: number) => void;
  isCancelled?: () => boolean;
}

export interface StreamResult {
  labels: Int32Array; centroids: Float32Array; inertia: number; steps: number; epochs: number; k: number; d: number;
  /** a sample of rows (normalized for cosine) and their labels, for metrics that need the vectors */
  sample: { X: Float32Array; m: number; labels: Int32Array };
  partsRead: number;
}

function normalize(B: Float32Array, m: number, d: number, metric: ClusterMetric): Float32Array {
  const sq = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let p = 0; p < d; p++) s += B[i * d + p] * B[i * d + p];
    if (!Number.isFinite(s)) throw badArg('embeddings', `row ${i} of a part has a non-finite value`);
    if (metric === 'cosine' && s > 0) { const f = 1 / Math.sqrt(s); for (let p = 0; p < d; p++) B[i * d + p] *= f; sq[i] = 1; } else sq[i] = s;
  }
  return sq;
}

export async function minibatchKmeansStream(src: PartSource, o: StreamOptions): Promise<StreamResult> {
  const { n, d } = src;
  const k = o.k;
  if (!Number.isInteger(k) || k < 1) throw badArg('k', `must be a positive integer, got ${k}`);
  if (k > n) throw badArg('k', `${k} clusters requested but there are only ${n} points`);
  const metric = o.metric ?? 'cosine';
  const bs = Math.min(o.batchSize ?? 1024, n);
  const maxEpochs = o.maxEpochs ?? 100;
  const maxNoImprovement = o.maxNoImprovement ?? 10;
  const gemm = o.gemm ?? gemmJs;
  const rng = createRng(((o.seed ?? 0) ^ 0x5bd1e995) >>> 0);
  const model = new MiniBatchKMeans(k, d, { metric, seed: o.seed, reassignmentRatio: o.reassignmentRatio, gemm });
  const P = src.partRows.length;
  let partsRead = 0;
  const read = async (i: number) => { partsRead++; const B = await src.readPart(i); if (B.length !== src.partRows[i] * d) throw badArg('source', `part ${i}: ${B.length} values for ${src.partRows[i]} rows of ${d}`); return B; };
  // init sample: rows from parts in a random order until initSize rows (>= 3k)
  let initSize = Math.max(o.initSize ?? 3 * bs, 3 * k);
  initSize = Math.min(initSize, n);
  const order = Int32Array.from({ length: P }, (_, i) => i);
  shuffleInPlace(order, rng);
  const init = new Float32Array(initSize * d);
  let got = 0;
  for (let t = 0; t < P && got < initSize; t++) {
    const i = order[t];
    const B = await read(i);
    const m = src.partRows[i];
    normalize(B, m, d, metric);
    const rows = Int32Array.from({ length: m }, (_, r) => r);
    shuffleInPlace(rows, rng);
    // take a share of this part proportional to its size, so the sample spans several parts
    const take = Math.min(initSize - got, m, Math.max(1, Math.ceil((initSize * m) / n) * 4));
    for (let r = 0; r < take; r++) init.set(B.subarray(rows[r] * d, rows[r] * d + d), (got + r) * d);
    got += take;
  }
  if (o.isCancelled?.()) throw cancelled('mini-batch k-means');
  await model.initFrom(init.subarray(0, got * d), got);
  const stepsPerEpoch = src.partRows.reduce((s, m) => s + Math.ceil(m / bs), 0);
  const totalSteps = stepsPerEpoch * maxEpochs;
  const alpha = Math.min(1, (bs * 2) / (n + 1));
  let ewa: number | null = null, ewaMin: number | null = null, noImp = 0, step = 0, epochs = 0, stop = false;
  for (let e = 0; e < maxEpochs && !stop; e++) {
    epochs++;
    shuffleInPlace(order, rng);
    for (let t = 0; t < P && !stop; t++) {
      const i = order[t];
      const m = src.partRows[i];
      const raw = await read(i);
      normalize(raw, m, d, metric);
      const rows = Int32Array.from({ length: m }, (_, r) => r);
      shuffleInPlace(rows, rng);
      for (let s0 = 0; s0 < m; s0 += bs) {
        if (o.isCancelled?.()) throw cancelled('mini-batch k-means');
        const mb = Math.min(bs, m - s0);
        const B = new Float32Array(mb * d);
        for (let r = 0; r < mb; r++) B.set(raw.subarray(rows[s0 + r] * d, rows[s0 + r] * d + d), r * d);
        const sq = metric === 'cosine' ? new Float32Array(mb).fill(1) : rowSqNorms(B, mb, d);
        const { inertia } = await model.stepPrepared(B, mb, sq);
        step++;
        o.onProgress?.('minibatch-kmeans', step, totalSteps);
        const bi = inertia / mb;
        if (step === 1) continue;
        ewa = ewa === null ? bi : ewa * (1 - alpha) + bi * alpha;
        if (ewaMin === null || ewa < ewaMin) { noImp = 0; ewaMin = ewa; } else noImp++;
        if (maxNoImprovement > 0 && noImp >= maxNoImprovement) { stop = true; break; }
      }
    }
  }
  // labels: one sequential pass over the parts
  const labels = new Int32Array(n);
  const C = model.centroids!;
  const Ct = transpose(C, k, d), csq = rowSqNorms(C, k, d);
  let inertia = 0, off = 0;
  for (let i = 0; i < P; i++) {
    if (o.isCancelled?.()) throw cancelled('mini-batch k-means');
    const m = src.partRows[i];
    const B = await read(i);
    const sq = normalize(B, m, d, metric);
    const lab = new Int32Array(m);
    inertia += await assignNearest(B, m, d, sq, Ct, csq, k, gemm, lab, null);
    labels.set(lab, off);
    off += m;
    o.onProgress?.('labels', off, n);
  }
  const sm = Math.min(got, 5000);
  const sampleX = init.slice(0, sm * d);
  const sampleLabels = new Int32Array(sm);
  await assignNearest(sampleX, sm, d, metric === 'cosine' ? new Float32Array(sm).fill(1) : rowSqNorms(sampleX, sm, d), Ct, csq, k, gemm, sampleLabels, null);
  return { labels, centroids: C, inertia, steps: step, epochs, k, d, sample: { X: sampleX, m: sm, labels: sampleLabels }, partsRead };
}
