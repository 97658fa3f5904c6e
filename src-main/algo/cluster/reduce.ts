/**
 * Reductions before a clustering, chained left to right: `umap:N`, `pca:N` and `ae:H1-H2-...-CODE` (a dense
 * autoencoder, algo/nn; bare `ae` is the literature's 500-500-2000-10, `ae:32` the tutorial's net), e.g. `ae,umap:10`
 * (the N2D recipe) or `pca:50,umap:10`. The linear and learned steps at the
 * head of the chain make one encoder network (PCA is a linear layer, the autoencoder's encoder its ReLU layers), which
 * travels with the run so that new items are encoded the same way. Pure: injected Gemm and SGD runner, seeded.
 */
import { formatReduce, type AeStep, type ReduceStep } from '../../common/cluster-contract.ts';
import type { Gemm } from '../linalg.ts';
import { Umap, type SgdRunner } from '../map/umap.ts';
import { pca } from '../map/pca.ts';
import type { DenseNet } from '../nn/dense.ts';
import { encode, encoderOf, trainAutoencoder, type AutoencoderOptions, type AutoencoderResult } from '../nn/autoencoder.ts';
import type { Metric } from '../../common/types.ts';

/**
 * An autoencoder step: `recipe: 'literature'` (bare `ae`) is DEC's and N2D's d-500-500-2000-10 with a linear code layer,
 * a linear output and mean squared error; explicit sizes (`ae:32`) keep the tutorial's recipe (ReLU code, sigmoid
 * output with binary cross-entropy on [0, 1] data, else linear + MSE).
 */
// (AeStep, ReduceStep and the chain's grammar are the `reduce` parameter's, written once in the contract)
export { formatReduce, parseReduce, type AeStep, type ReduceStep } from '../../common/cluster-contract.ts';

/** The training options a recipe fixes. */
export function recipeOptions(s: AeStep): Pick<AutoencoderOptions, 'loss' | 'codeActivation'> {
  return s.recipe === 'literature' ? { loss: 'mse', codeActivation: 'linear' } : {};
}

/**
 * The chain's UMAP after the literature's autoencoder (bare `ae`; `ae:H` keeps the tutorial's chain) reads N2D's 20 neighbours, not the 30 it takes on rows as stored: on the codes
 * of MNIST half A (calibration, BENCHMARKS.md "the autoencoder -> UMAP chain") UMAP 10 with 20 neighbours + Ward beat 30
 * on both seeds (0.759 / 0.785 against 0.756 / 0.763).
 */
export const CHAIN_UMAP_NEIGHBORS = 20;
/**
 * An autoencoder whose codes a UMAP reads next keeps Adam's learning rate constant over its planned updates instead of
 * the cosine decay (early stopping on the held-out loss stays): on MNIST half A its codes kept purer neighbourhoods
 * (15-NN label agreement 0.868 / 0.862 -> 0.883 / 0.878, seeds 0 / 1) and UMAP 10 + Ward on them gained on both seeds
 * (BENCHMARKS.md "the autoencoder -> UMAP chain"); the same 504 updates, so the same time. The autoencoder before
 * k-means or DEC keeps the cosine decay.
 */
export const CHAIN_AE_SCHEDULE = 'constant' as const;
/**
 * The same autoencoder trains on mini-batches of 64 rows for at least 1,200 updates (unless the run gives
 * `aeBatchSize` / `minUpdates`): more, smaller steps over fewer rows in all (77k against 129k), about the same CPU time.
 * On MNIST half A (calibration) UMAP 10 + Ward on its codes went 0.759 / 0.785 -> 0.822 / 0.759 (seeds 0 / 1, mean 0.791 against 0.772); 64 rows
 * for 1,600 updates 0.815 / 0.806 and for 2,000 updates 0.812 / 0.825 at 1.5-1.7x the time (too close to 180 s on 10,000 rows), 128 rows for 1,000 updates 0.794 / 0.772 (BENCHMARKS.md
 * "the autoencoder -> UMAP chain").
 */
export const CHAIN_AE_BATCH = 64;
export const CHAIN_AE_MIN_UPDATES = 1200;

export interface ReduceOptions {
  metric: Metric;
  seed: number;
  gemm?: Gemm;
  /** the autoencoder's products (default gemm) */
  nnGemm?: Gemm;
  sgdRunner?: SgdRunner;
  isCancelled?: () => boolean;
  onProgress?: (stage: string, done: number, total: number, extra?: unknown) => void;
  /** autoencoder training (algo/nn/autoencoder.ts AE_DEFAULTS): exact epochs, batch size, early-stopping patience, ... */
  ae?: Pick<AutoencoderOptions, 'epochs' | 'batchSize' | 'patience' | 'minUpdates' | 'maxEpochs' | 'lr' | 'validation'>;
  /**
   * k-means follows the chain with this k: an autoencoder step that ends the chain trains its codes for it (the
   * k-means-friendly term of algo/nn/autoencoder.ts, in the run's metric); the tutorial's `ae:H` nets stay plain
   */
  kmeansK?: number;
}

export interface ReduceResult {
  W: Float32Array;
  d: number;
  metric: Metric;
  /** one record per step (method, dims, and for ae: architecture, loss, epochs, loss curve, ms per epoch) */
  steps: Array<Record<string, unknown>>;
  /** the network applying the chain's PCA / autoencoder head (null when the chain starts with UMAP or is empty) */
  encoder: DenseNet | null;
  /** which steps the encoder covers, as a reduce spec */
  encoderCovers: string | null;
  /** the autoencoder's loss per epoch (the last ae step) */
  loss: number[] | null;
  timings: Record<string, number>;
}

/** PCA as a linear dense layer: y = (x - mean) C^T = x W + b with W = C^T [d x k], b = -mean W. */
function pcaLayer(components: Float32Array, mean: Float32Array, k: number, d: number): DenseNet {
  const W = new Float32Array(d * k);
  for (let c = 0; c < k; c++) for (let p = 0; p < d; p++) W[p * k + c] = components[c * d + p];
  const b = new Float32Array(k);
  for (let c = 0; c < k; c++) { let s = 0; for (let p = 0; p < d; p++) s += mean[p] * W[p * k + c]; b[c] = -s; }
  return { layers: [{ in: d, out: k, act: 'linear' }], W: [W], b: [b] };
}

function appendNet(a: DenseNet | null, b: DenseNet): DenseNet {
  if (!a) return b;
  return { layers: [...a.layers, ...b.layers], W: [...a.W, ...b.W], b: [...a.b, ...b.b] };
}

export async function runReduce(X: Float32Array, n: number, d: number, steps: ReduceStep[], o: ReduceOptions): Promise<ReduceResult> {
  let W = X, wd = d, metric = o.metric;
  const records: Array<Record<string, unknown>> = [];
  const timings: Record<string, number> = {};
  let encoder: DenseNet | null = null, encoderOpen = true;
  const covers: ReduceStep[] = [];
  let loss: number[] | null = null;
  for (let si = 0; si < steps.length; si++) {
    const s = steps[si];
    const t = performance.now();
    if (s.method === 'umap') {
      const dims = Math.min(s.dims, Math.max(2, n - 2));
      const prev = si > 0 ? steps[si - 1] : null;
      const afterAe = prev?.method === 'ae' && prev.recipe === 'literature';
      const nn = Math.min(afterAe ? CHAIN_UMAP_NEIGHBORS : 30, n - 1);
      const u = new Umap({
        nComponents: dims, nNeighbors: nn, minDist: 0, metric, seed: o.seed, gemm: o.gemm, isCancelled: o.isCancelled,
        sgdRunner: o.sgdRunner, onProgress: (e, total) => o.onProgress?.('reduce', e, total),
      });
      await u.initializeFit(W, n, wd);
      timings[steps.length === 1 ? 'reduceInit' : `reduceInit_${si}_umap`] = performance.now() - t;
      W = await u.run();
      records.push({ method: 'umap', dims, nNeighbors: nn, minDist: 0, metric });
      wd = dims; metric = 'euclidean';
      encoderOpen = false;
    } else if (s.method === 'pca') {
      const k = Math.min(s.dims, wd, n);
      const r = await pca(W, n, wd, k, { seed: o.seed, gemm: o.gemm, isCancelled: o.isCancelled });
      if (encoderOpen) { encoder = appendNet(encoder, pcaLayer(r.components, r.mean, k, wd)); covers.push(s); }
      let total = 0, kept = 0;
      for (let c = 0; c < r.explainedVariance.length; c++) kept += r.explainedVariance[c];
      // total variance for the explained share
      const mean = r.mean;
      for (let i = 0; i < n; i++) for (let p = 0; p < wd; p++) { const v = W[i * wd + p] - mean[p]; total += v * v; }
      total /= Math.max(1, n - 1);
      records.push({ method: 'pca', dims: k, explainedVarianceRatio: total > 0 ? kept / total : null, input: 'rows as stored (centred)' });
      W = r.projected; wd = k; metric = 'euclidean';
    } else {
      const lossSoFar: number[] = [];
      const forKmeans = o.kmeansK !== undefined && si === steps.length - 1 && s.recipe === 'literature';
      const forUmap = steps[si + 1]?.method === 'umap' && s.recipe === 'literature';
      const r = await trainAutoencoder(W, n, wd, {
        ...o.ae, ...recipeOptions(s), hidden: s.hidden, seed: o.seed, gemm: o.nnGemm ?? o.gemm,
        ...(forKmeans ? { kmeansFriendly: { k: o.kmeansK!, metric: o.metric } } : {}),
        ...(forUmap ? { schedule: CHAIN_AE_SCHEDULE, batchSize: o.ae?.batchSize ?? CHAIN_AE_BATCH, minUpdates: o.ae?.minUpdates ?? CHAIN_AE_MIN_UPDATES } : {}),
        isCancelled: o.isCancelled, onProgress: (dn, tt) => o.onProgress?.('autoencoder', dn, tt),
        onEpoch: (e, l, _vl, _net, planned) => { lossSoFar.push(l); o.onProgress?.('autoencoder-epoch', e, planned, { epoch: e, loss: lossSoFar.slice() }); },
      });
      const enc = encoderOf(r);
      W = await encode(enc, W, n, o.nnGemm ?? o.gemm);
      records.push({ method: 'ae', recipe: s.recipe ?? 'tutorial', ...aeRecord(wd, s.hidden, r, o.seed) });
      loss = r.lossCurve;
      if (encoderOpen) { encoder = appendNet(encoder, enc); covers.push(s); }
      // codes are compared by the run's metric (cosine by default: on MNIST-like digits k-means on the angle between
      // codes beat euclidean k-means on the same codes in every calibration run, see BENCHMARKS.md)
      wd = s.hidden[s.hidden.length - 1]; metric = o.metric;
    }
    if (steps.length > 1) timings[`reduce_${si}_${s.method}`] = performance.now() - t;
  }
  return { W, d: wd, metric, steps: records, encoder, encoderCovers: covers.length ? formatReduce(covers) : null, loss, timings };
}

/** What an autoencoder training ran, for a run's record (also DEC's pretraining). */
export function aeRecord(d: number, hidden: number[], r: AutoencoderResult, seed: number): Record<string, unknown> {
  const trainMs = r.epochMs.reduce((a, b) => a + b, 0);
  return {
    architecture: [d, ...hidden, ...hidden.slice(0, -1).reverse(), d].join('-'), hidden,
    code: hidden[hidden.length - 1], activation: 'relu', codeActivation: r.net.layers[hidden.length - 1].act, output: r.loss === 'bce' ? 'sigmoid' : 'linear', seed,
    loss: r.loss, lossNote: r.loss === 'bce' ? 'binary cross-entropy (input in [0, 1])' : r.net.layers[hidden.length - 1].act === 'linear' ? 'mean squared error (the DEC / N2D recipe)' : 'mean squared error: the input is not in [0, 1], so the sigmoid/BCE recipe does not apply',
    optimizer: 'adam', lr: r.lr, schedule: r.schedule, epochs: r.epochs, epochsPlanned: r.epochsPlanned, bestEpoch: r.bestEpoch, updates: r.updates,
    batchSize: r.batchSize, validationRows: r.validationRows, stoppedEarly: r.stoppedEarly, ...(r.noise > 0 ? { noise: r.noise, denoising: 'input dropout, clean target' } : {}),
    lossCurve: r.lossCurve, valLossCurve: r.valLossCurve, epochMs: r.epochMs.map((v) => Math.round(v)),
    epochsPerSecond: trainMs > 0 ? Math.round((r.epochs / (trainMs / 1000)) * 1000) / 1000 : null,
    ...(r.kmeansFriendly ? { kmeansFriendly: { ...r.kmeansFriendly, ratio: r.kmeansFriendly.ratio.map((v) => Math.round(v * 1e4) / 1e4) } } : {}),
  };
}
