/**
 * A small dense-network training engine on row-major Float32Array matrices: fully connected layers (ReLU, sigmoid or
 * linear), forward and backward passes, Adam and SGD with momentum, seeded Glorot initialization. Pure: the matrix
 * products go through the injected `Gemm` (onnxruntime's MatMul in workers, the portable kernel in tests); the RNG is
 * injected; no I/O.
 *
 * Weights are stored [in x out] row-major, which is exactly the `Bt` operand of `Gemm` for the forward product
 * Z = A W (A: [B x in]).
 */
import { gemmJs, transpose, type Gemm } from '../linalg.ts';
import type { Rng } from '../rng.ts';

export type Activation = 'relu' | 'sigmoid' | 'linear';

export interface LayerSpec { in: number; out: number; act: Activation }

export interface DenseNet {
  layers: LayerSpec[];
  /** W[l]: [in x out] row-major */
  W: Float32Array[];
  b: Float32Array[];
}

/** Glorot-uniform weights (Keras' and the write-up's default), zero biases. */
export function initNet(layers: LayerSpec[], rng: Rng): DenseNet {
  for (let l = 1; l < layers.length; l++) {
    if (layers[l].in !== layers[l - 1].out) throw new Error(`layer ${l} takes ${layers[l].in} inputs, previous gives ${layers[l - 1].out}`);
  }
  const W = layers.map((s) => {
    const lim = Math.sqrt(6 / (s.in + s.out));
    const w = new Float32Array(s.in * s.out);
    for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * lim;
    return w;
  });
  return { layers: layers.map((s) => ({ ...s })), W, b: layers.map((s) => new Float32Array(s.out)) };
}

export function cloneNet(net: DenseNet): DenseNet {
  return { layers: net.layers.map((s) => ({ ...s })), W: net.W.map((w) => w.slice()), b: net.b.map((b) => b.slice()) };
}

/** The first `count` layers as a network of their own (copies). */
export function subNet(net: DenseNet, count: number): DenseNet {
  return { layers: net.layers.slice(0, count).map((s) => ({ ...s })), W: net.W.slice(0, count).map((w) => w.slice()), b: net.b.slice(0, count).map((b) => b.slice()) };
}

export function paramCount(net: DenseNet): number {
  return net.layers.reduce((s, l) => s + l.in * l.out + l.out, 0);
}

function activateInPlace(Z: Float32Array, act: Activation): void {
  if (act === 'relu') { for (let i = 0; i < Z.length; i++) if (Z[i] < 0) Z[i] = 0; }
  else if (act === 'sigmoid') { for (let i = 0; i < Z.length; i++) Z[i] = 1 / (1 + Math.exp(-Z[i])); }
}

/**
 * Forward pass of `rows` rows. Returns the activations of every layer: acts[0] = X (not copied), acts[l + 1] = output
 * of layer l (post-activation).
 */
export async function forward(net: DenseNet, X: Float32Array, rows: number, gemm: Gemm = gemmJs): Promise<Float32Array[]> {
  const acts: Float32Array[] = [X];
  let A = X;
  for (let l = 0; l < net.layers.length; l++) {
    const { in: din, out, act } = net.layers[l];
    const Z = new Float32Array(rows * out);
    Z.set((await gemm(A, rows, net.W[l], out, din)).subarray(0, rows * out));
    const b = net.b[l];
    for (let i = 0; i < rows; i++) { const o = i * out; for (let j = 0; j < out; j++) Z[o + j] += b[j]; }
    activateInPlace(Z, act);
    acts.push(Z);
    A = Z;
  }
  return acts;
}

/** Output of the network for all n rows, in chunks (no activations kept). */
export async function predict(net: DenseNet, X: Float32Array, n: number, gemm: Gemm = gemmJs, chunk = 2048): Promise<Float32Array> {
  const outDim = net.layers[net.layers.length - 1].out;
  const inDim = net.layers[0].in;
  const Y = new Float32Array(n * outDim);
  for (let s = 0; s < n; s += chunk) {
    const r = Math.min(chunk, n - s);
    const acts = await forward(net, X.subarray(s * inDim, (s + r) * inDim), r, gemm);
    Y.set(acts[acts.length - 1], s * outDim);
  }
  return Y;
}

export interface Grads { W: Float32Array[]; b: Float32Array[] }

/**
 * Backward pass. `dZlast` is the gradient of the loss with respect to the LAST layer's pre-activation (for sigmoid +
 * binary cross-entropy and linear + MSE this is the simple residual form, see `lossAndGrad`). Returns the parameter
 * gradients and, when `wantInput`, the gradient with respect to the input rows.
 */
export async function backward(
  net: DenseNet, acts: Float32Array[], rows: number, dZlast: Float32Array, gemm: Gemm = gemmJs, wantInput = false,
  /** a further loss term's gradient with respect to acts[at] (the output of layer at - 1, e.g. an autoencoder's code) */
  extra?: { at: number; dA: Float32Array },
): Promise<Grads & { dX: Float32Array | null }> {
  const L = net.layers.length;
  const gW: Float32Array[] = new Array(L);
  const gb: Float32Array[] = new Array(L);
  let dZ = dZlast;
  let dX: Float32Array | null = null;
  for (let l = L - 1; l >= 0; l--) {
    const { in: din, out } = net.layers[l];
    const A = acts[l];
    // dW = A^T dZ : Gemm(A^T [in x rows], in, dZ as Bt [rows x out], out, rows)
    const At = transpose(A, rows, din);
    gW[l] = (await gemm(At, din, dZ, out, rows)).slice(0, din * out);
    const db = new Float32Array(out);
    for (let i = 0; i < rows; i++) { const o = i * out; for (let j = 0; j < out; j++) db[j] += dZ[o + j]; }
    gb[l] = db;
    if (l > 0 || wantInput) {
      // dA = dZ W^T : Gemm(dZ [rows x out], rows, W^T as Bt [out x in], in, out)
      const Wt = transpose(net.W[l], din, out);
      const dA = (await gemm(dZ, rows, Wt, din, out)).slice(0, rows * din);
      if (l === 0) { dX = dA; break; }
      if (extra && extra.at === l) for (let i = 0; i < dA.length; i++) dA[i] += extra.dA[i];
      const act = net.layers[l - 1].act;
      if (act === 'relu') { for (let i = 0; i < dA.length; i++) if (A[i] <= 0) dA[i] = 0; }
      else if (act === 'sigmoid') { for (let i = 0; i < dA.length; i++) dA[i] *= A[i] * (1 - A[i]); }
      dZ = dA;
    }
  }
  return { W: gW, b: gb, dX };
}

export type LossKind = 'bce' | 'mse';

/**
 * Mean loss over all rows x columns (Keras' and PyTorch's reduction) and its gradient with respect to the last
 * pre-activation: binary cross-entropy on a sigmoid output gives (Y - T) / (rows * cols); MSE on a linear output
 * gives 2 (Y - T) / (rows * cols).
 */
export function lossAndGrad(kind: LossKind, Y: Float32Array, T: Float32Array, count: number): { loss: number; dZ: Float32Array } {
  const dZ = new Float32Array(count);
  const inv = 1 / count;
  let s = 0;
  if (kind === 'bce') {
    const eps = 1e-7;
    for (let i = 0; i < count; i++) {
      const y = Math.min(1 - eps, Math.max(eps, Y[i])), t = T[i];
      s -= t * Math.log(y) + (1 - t) * Math.log(1 - y);
      dZ[i] = (Y[i] - t) * inv;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const e = Y[i] - T[i];
      s += e * e;
      dZ[i] = 2 * e * inv;
    }
  }
  return { loss: s * inv, dZ };
}

export interface Optimizer { step(params: Float32Array[], grads: Float32Array[]): void }

/** Adam (Kingma & Ba 2015) with bias correction; Keras' defaults (epsilon 1e-7); lr may be a schedule read at every step. */
export function adam(sizes: number[], lr: number | (() => number) = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-7): Optimizer {
  const m = sizes.map((s) => new Float32Array(s));
  const v = sizes.map((s) => new Float32Array(s));
  let t = 0;
  return {
    step(params, grads) {
      t++;
      const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
      const a = (typeof lr === 'number' ? lr : lr()) * Math.sqrt(c2) / c1;
      const epsHat = eps * Math.sqrt(c2);
      for (let p = 0; p < params.length; p++) {
        const P = params[p], G = grads[p], M = m[p], V = v[p];
        for (let i = 0; i < P.length; i++) {
          const g = G[i];
          M[i] = beta1 * M[i] + (1 - beta1) * g;
          V[i] = beta2 * V[i] + (1 - beta2) * g * g;
          P[i] -= (a * M[i]) / (Math.sqrt(V[i]) + epsHat);
        }
      }
    },
  };
}

/** Plain SGD with (heavy-ball) momentum, as DEC's clustering phase uses. */
export function sgdMomentum(sizes: number[], lr = 0.01, momentum = 0.9): Optimizer {
  const vel = sizes.map((s) => new Float32Array(s));
  return {
    step(params, grads) {
      for (let p = 0; p < params.length; p++) {
        const P = params[p], G = grads[p], Vp = vel[p];
        for (let i = 0; i < P.length; i++) { Vp[i] = momentum * Vp[i] - lr * G[i]; P[i] += Vp[i]; }
      }
    },
  };
}

/** The parameter arrays of a network, in the order optimizers see them (W0, b0, W1, b1, ...). */
export function params(net: DenseNet): Float32Array[] {
  return net.layers.flatMap((_, l) => [net.W[l], net.b[l]]);
}
export function gradList(g: Grads): Float32Array[] {
  return g.W.flatMap((w, l) => [w, g.b[l]]);
}

/** Copy rows `idx[s..s+r)` of X [.. x d] into `out`. */
export function gatherRows(X: Float32Array, d: number, idx: Int32Array, s: number, r: number, out: Float32Array): Float32Array {
  for (let t = 0; t < r; t++) out.set(X.subarray(idx[s + t] * d, idx[s + t] * d + d), t * d);
  return out.subarray(0, r * d);
}
