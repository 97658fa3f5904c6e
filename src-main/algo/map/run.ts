/** One 2-D map of a matrix: UMAP, t-SNE or PCA, with progressive snapshots. Pure: the caller runs it in a worker. */
import { badArg } from '../../common/errors.ts';
import { MAP_METHODS } from '../../common/schema-kit.ts';
import type { MapParams } from '../../common/types.ts';
import { normalizeRows, type Gemm } from '../linalg.ts';
import { pca } from './pca.ts';
import { knnLabelAgreement, trustworthiness } from './quality.ts';
import { fitTsne, type TsneRunner } from './tsne.ts';
import { fitUmap, type SgdRunner } from './umap.ts';

// the methods are the contract's (common/schema-kit.ts)
export { MAP_METHODS };
export type MapMethod = (typeof MAP_METHODS)[number];

export type { MapParams };

export interface MapOutput {
  xy: Float32Array;
  seconds: number;
  quality: { trustworthiness: number; knnAgreement: number | null } | null;
}

export async function computeMap(X: Float32Array, n: number, d: number, p: MapParams, o: {
  gemm?: Gemm; isCancelled?: () => boolean; sgdRunner?: SgdRunner; tsneRunner?: TsneRunner; onProgress?: (stage: string, done: number, total: number, snapshot?: Float32Array) => void;
  quality?: { labels?: ArrayLike<number> | null } | null;
} = {}): Promise<MapOutput> {
  if (!MAP_METHODS.includes(p.method)) throw badArg('method', `expected ${MAP_METHODS.join(', ')}, got ${JSON.stringify(p.method)}`);
  if (n < 3) throw badArg('embeddings', `need at least 3 items for a map, got ${n}`);
  const t0 = performance.now();
  const metric = p.metric ?? 'cosine';
  let xy: Float32Array;
  const snap = (stage: string) => (e: number, total: number, emb: Float32Array) => o.onProgress?.(stage, e, total, emb);
  if (p.method === 'umap') {
    xy = await fitUmap(X, n, d, {
      nComponents: 2, nNeighbors: Math.min(p.nNeighbors ?? 15, n - 1), minDist: p.minDist ?? 0.1, nEpochs: p.nEpochs, metric,
      seed: p.seed ?? 0, gemm: o.gemm, isCancelled: o.isCancelled, onProgress: snap('umap'), sgdRunner: o.sgdRunner,
    });
  } else if (p.method === 'tsne') {
    const perplexity = p.perplexity ?? Math.min(30, Math.max(2, Math.floor((n - 1) / 3)));
    xy = await fitTsne(X, n, d, {
      perplexity, metric, seed: p.seed ?? 0, gemm: o.gemm, isCancelled: o.isCancelled, onProgress: snap('tsne'), method: p.tsneMethod, runner: o.tsneRunner,
    });
  } else {
    o.onProgress?.('pca', 0, 1);
    let Z = X;
    if (metric === 'cosine') Z = normalizeRows(X, n, d);
    xy = (await pca(Z, n, d, 2, { seed: p.seed ?? 0, gemm: o.gemm, isCancelled: o.isCancelled })).projected;
    o.onProgress?.('pca', 1, 1, xy);
  }
  let quality: MapOutput['quality'] = null;
  const qk = Math.min(10, Math.floor(n / 2) - 1);
  if (o.quality && qk >= 1) {
    o.onProgress?.('quality', 0, 1);
    const tw = await trustworthiness(X, n, d, xy, 2, { k: qk, metric, gemm: o.gemm, seed: p.seed ?? 0 });
    const labels = o.quality.labels;
    quality = { trustworthiness: tw, knnAgreement: labels ? knnLabelAgreement(xy, n, 2, labels, Math.min(10, n - 1)) : null };
  }
  return { xy, seconds: (performance.now() - t0) / 1000, quality };
}
