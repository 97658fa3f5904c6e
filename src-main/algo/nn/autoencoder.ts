/**
 * A dense autoencoder, the deep-clustering write-up's recipe by default: input -> hidden... -> code (ReLU) -> mirrored
 * hidden (ReLU) -> output (sigmoid, binary cross-entropy) when every input value lies in [0, 1]; otherwise a linear
 * output with mean squared error (recorded as `loss: 'mse'`). Adam (lr 1e-3), 5 epochs, batch 256, seeded Glorot
 * initialization and per-epoch shuffling, optional early stopping, cancellation between batches, progress per batch and
 * the loss per epoch. Pure (injected Gemm and seed; no I/O).
 */
import { badArg } from '../../common/errors.ts';
import { cancelled } from '../cluster/kmeans.ts';
import { gemmJs, type Gemm } from '../linalg.ts';
import { createRng, shuffleInPlace } from '../rng.ts';
import { adam, backward, forward, gatherRows, gradList, initNet, lossAndGrad, params, predict, subNet, type DenseNet, type LayerSpec, type LossKind } from './dense.ts';

export interface AutoencoderOptions {
  /** hidden sizes of the encoder, the last one is the code size (default [32]) */
  hidden?: number[];
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** 'auto' (default): bce when all of X is in [0, 1], else mse */
  loss?: LossKind | 'auto';
  /** early stopping: stop when the epoch loss has not improved by more than minDelta (relative) for `patience` epochs */
  patience?: number;
  minDelta?: number;
  gemm?: Gemm;
  isCancelled?: () => boolean;
  onProgress?: (done: number, total: number) => void;
  /** called after every epoch with its mean training loss */
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface Autoencoder {
  net: DenseNet;
  /** the first `encoderLayers` layers of `net` are the encoder */
  encoderLayers: number;
  loss: LossKind;
}

export interface AutoencoderResult extends Autoencoder {
  /** mean training loss of each epoch run */
  lossCurve: number[];
  epochs: number;
  stoppedEarly: boolean;
  /** milliseconds per epoch */
  epochMs: number[];
}

export function inUnitInterval(X: Float32Array, len: number): boolean {
  for (let i = 0; i < len; i++) { const v = X[i]; if (!(v >= 0 && v <= 1)) return false; }
  return true;
}

/** Layer specs of the autoencoder d -> hidden... -> code -> ...hidden reversed -> d. */
export function autoencoderLayers(d: number, hidden: number[], loss: LossKind): LayerSpec[] {
  const sizes = [d, ...hidden];
  const enc: LayerSpec[] = [];
  for (let l = 0; l < hidden.length; l++) enc.push({ in: sizes[l], out: sizes[l + 1], act: 'relu' });
  const dec: LayerSpec[] = [];
  for (let l = hidden.length; l > 0; l--) dec.push({ in: sizes[l], out: sizes[l - 1], act: l === 1 ? (loss === 'bce' ? 'sigmoid' : 'linear') : 'relu' });
  return [...enc, ...dec];
}

export async function trainAutoencoder(X: Float32Array, n: number, d: number, o: AutoencoderOptions = {}): Promise<AutoencoderResult> {
  const hidden = o.hidden ?? [32];
  if (hidden.length === 0 || hidden.some((h) => !Number.isInteger(h) || h < 1)) throw badArg('reduce', `autoencoder sizes must be positive integers, got ${hidden.join('-')}`);
  const epochs = o.epochs ?? 5, batch = Math.min(o.batchSize ?? 256, n);
  if (!Number.isInteger(epochs) || epochs < 1) throw badArg('epochs', `expected an integer >= 1, got ${epochs}`);
  if (!Number.isInteger(batch) || batch < 1) throw badArg('batch-size', `expected an integer >= 1, got ${o.batchSize}`);
  const loss: LossKind = o.loss && o.loss !== 'auto' ? o.loss : inUnitInterval(X, n * d) ? 'bce' : 'mse';
  const gemm = o.gemm ?? gemmJs;
  const rng = createRng(o.seed ?? 0);
  const net = initNet(autoencoderLayers(d, hidden, loss), rng);
  const ps = params(net);
  const opt = adam(ps.map((p) => p.length), o.lr ?? 1e-3);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const buf = new Float32Array(batch * d);
  const steps = Math.ceil(n / batch);
  const lossCurve: number[] = [], epochMs: number[] = [];
  let best = Infinity, since = 0, stoppedEarly = false;
  for (let e = 0; e < epochs; e++) {
    const te = performance.now();
    shuffleInPlace(perm, rng);
    let sum = 0;
    for (let s = 0, step = 0; s < n; s += batch, step++) {
      if (o.isCancelled?.()) throw cancelled('autoencoder training');
      const r = Math.min(batch, n - s);
      const Xb = gatherRows(X, d, perm, s, r, buf);
      const acts = await forward(net, Xb, r, gemm);
      const { loss: l, dZ } = lossAndGrad(loss, acts[acts.length - 1], Xb, r * d);
      const g = await backward(net, acts, r, dZ, gemm);
      opt.step(ps, gradList(g));
      sum += l * r;
      o.onProgress?.(e * steps + step + 1, epochs * steps);
    }
    const el = sum / n;
    lossCurve.push(el);
    epochMs.push(performance.now() - te);
    o.onEpoch?.(e + 1, el);
    if (o.patience !== undefined) {
      if (el < best * (1 - (o.minDelta ?? 1e-4))) { best = el; since = 0; }
      else if (++since >= o.patience) { stoppedEarly = e + 1 < epochs; break; }
    }
  }
  return { net, encoderLayers: hidden.length, loss, lossCurve, epochs: lossCurve.length, stoppedEarly, epochMs };
}

/** The encoder (first layers) of an autoencoder, as a network of its own. */
export function encoderOf(ae: Autoencoder): DenseNet {
  return subNet(ae.net, ae.encoderLayers);
}

/** Codes of all n rows through an encoder network. */
export function encode(encoder: DenseNet, X: Float32Array, n: number, gemm: Gemm = gemmJs): Promise<Float32Array> {
  if (encoder.layers[0].in * n > X.length) throw badArg('embeddings', `encoder takes ${encoder.layers[0].in} dimensions`);
  return predict(encoder, X, n, gemm);
}
