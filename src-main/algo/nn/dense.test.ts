import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { backward, forward, initNet, lossAndGrad, type DenseNet, type LossKind } from './dense.ts';
import { AE_DEFAULTS, autoencoderLayers, encode, encoderOf, kmeansTermGrad, plannedEpochs, trainAutoencoder } from './autoencoder.ts';
import { dec } from '../cluster/dec.ts';
import { klGrad, softAssign, targetDistribution } from '../cluster/dec.ts';
import { gmm, whiteningFactors } from '../cluster/gmm.ts';
import { kmeans } from '../cluster/kmeans.ts';

async function lossOf(net: DenseNet, X: Float32Array, T: Float32Array, rows: number, kind: LossKind): Promise<number> {
  const acts = await forward(net, X, rows, undefined);
  return lossAndGrad(kind, acts[acts.length - 1], T, T.length).loss;
}

describe('dense network backward pass', () => {
  for (const kind of ['bce', 'mse'] as const) {
    it(`matches central finite differences (${kind}, relu hidden layers)`, async () => {
      const rng = createRng(3);
      const d = 7, rows = 5;
      const net = initNet(autoencoderLayers(d, [6, 3], kind), rng);
      // keep every ReLU pre-activation away from its kink so the finite difference is smooth
      for (const b of net.b) for (let i = 0; i < b.length; i++) b[i] = 0.05 + 0.1 * rng.next();
      const X = new Float32Array(rows * d).map(() => rng.next());
      const T = kind === 'bce' ? X : new Float32Array(rows * d).map(() => rng.normal());
      const acts = await forward(net, X, rows);
      const { dZ } = lossAndGrad(kind, acts[acts.length - 1], T, rows * d);
      const g = await backward(net, acts, rows, dZ, undefined, true);
      // float64 shadow evaluation is not available: use float32 with a step large enough for its precision
      const h = 1e-2;
      let worst = 0, checked = 0;
      for (let l = 0; l < net.layers.length; l++) {
        for (const [P, G] of [[net.W[l], g.W[l]], [net.b[l], g.b[l]]] as const) {
          for (let i = 0; i < P.length; i += 3) {
            const v = P[i];
            P[i] = v + h; const lp = await lossOf(net, X, T, rows, kind);
            P[i] = v - h; const lm = await lossOf(net, X, T, rows, kind);
            P[i] = v;
            const num = (lp - lm) / (2 * h);
            const err = Math.abs(num - G[i]) / Math.max(1e-3, Math.abs(num) + Math.abs(G[i]));
            worst = Math.max(worst, err); checked++;
          }
        }
      }
      expect(checked).toBeGreaterThan(30);
      expect(worst).toBeLessThan(0.02);
      // and with respect to the input
      for (let i = 0; i < X.length; i += 4) {
        const v = X[i];
        const Xp = X.slice(); Xp[i] = v + h; const Xm = X.slice(); Xm[i] = v - h;
        // the target stays fixed (T is a copy for bce)
        const Tf = T === X ? X.slice() : T;
        const num = ((await lossOf(net, Xp, Tf, rows, kind)) - (await lossOf(net, Xm, Tf, rows, kind))) / (2 * h);
        expect(Math.abs(num - g.dX![i])).toBeLessThan(0.02 * Math.max(1e-3, Math.abs(num) + Math.abs(g.dX![i])) + 1e-5);
      }
    });
  }

  for (const kernel of ['euclidean', 'mahalanobis', 'mixture-t'] as const) {
    const shaped = kernel !== 'euclidean';
    it(`DEC KL gradient matches finite differences for codes and centres (${kernel} kernel)`, () => {
      const rng = createRng(5);
      const r = 6, dim = 3, k = 3;
      const Z = new Float32Array(r * dim).map(() => rng.normal());
      const mu = new Float32Array(k * dim).map(() => rng.normal());
      // per-centre whitening factors of random SPD covariances (B B^T + 0.3 I)
      let A: Float64Array | null = null;
      if (shaped) {
        const cov = new Float64Array(k * dim * dim);
        for (let c = 0; c < k; c++) {
          const B = Array.from({ length: dim * dim }, () => rng.normal());
          for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) {
            let t = i === j ? 0.3 : 0;
            for (let m = 0; m < dim; m++) t += B[i * dim + m] * B[j * dim + m];
            cov[c * dim * dim + i * dim + j] = t;
          }
        }
        A = whiteningFactors(cov, k, dim, 'full');
      }
      const mix = kernel === 'mixture-t' ? { exponent: (1 + dim) / 2, logc: Float64Array.from([0.1, -0.4, 0.3]) } : null;
      const P = targetDistribution(softAssign(Z, r, dim, mu, k, A, mix).q, r, k); // fixed target
      const g = klGrad(Z, r, dim, mu, k, P, A, mix);
      const h = 1e-3;
      let moved = 0;
      for (const [X, G] of [[Z, g.dZ], [mu, g.dMu]] as const) {
        for (let i = 0; i < X.length; i++) {
          const v = X[i];
          X[i] = v + h; const lp = klGrad(Z, r, dim, mu, k, P, A, mix).loss;
          X[i] = v - h; const lm = klGrad(Z, r, dim, mu, k, P, A, mix).loss;
          X[i] = v;
          const num = (lp - lm) / (2 * h);
          if (Math.abs(num) > 1e-3) moved++;
          expect(Math.abs(num - G[i])).toBeLessThan(0.03 * (Math.abs(num) + Math.abs(G[i])) + 2e-4);
        }
      }
      expect(moved).toBeGreaterThan(5);
      // the shaped kernel is a different kernel: the soft assignments differ from the euclidean ones
      // each shaped kernel is a different kernel: its soft assignments differ from the simpler one's
      if (A) expect(Array.from(softAssign(Z, r, dim, mu, k, A, mix).q)).not.toEqual(Array.from(mix ? softAssign(Z, r, dim, mu, k, A).q : softAssign(Z, r, dim, mu, k).q));
    });
  }
});

describe('k-means-friendly codes', () => {
  for (const cos of [false, true]) {
    it(`the term's gradient matches finite differences of weight x inertia / total variance (${cos ? 'cosine' : 'euclidean'})`, () => {
      const rng = createRng(9);
      const r = 12, dim = 4, k = 3, weight = 0.7;
      const Z = new Float32Array(r * dim).map(() => rng.normal());
      const C = new Float32Array(k * dim).map(() => rng.normal() * 0.5);
      const g = kmeansTermGrad(Z, r, dim, C, k, cos, weight);
      expect(g.ratio).toBeGreaterThan(0);
      const h = 1e-3;
      let moved = 0;
      for (let i = 0; i < Z.length; i++) {
        const v = Z[i];
        Z[i] = v + h; const lp = weight * kmeansTermGrad(Z, r, dim, C, k, cos, weight).ratio;
        Z[i] = v - h; const lm = weight * kmeansTermGrad(Z, r, dim, C, k, cos, weight).ratio;
        Z[i] = v;
        const num = (lp - lm) / (2 * h);
        if (Math.abs(num) > 1e-3) moved++;
        expect(Math.abs(num - g.dZ[i])).toBeLessThan(0.03 * (Math.abs(num) + Math.abs(g.dZ[i])) + 2e-4);
      }
      expect(moved).toBeGreaterThan(r);
      // scale-free: shrinking the codes does not lower the ratio
      const ratio = (f: number) => kmeansTermGrad(Z.map((v) => v * f), r, dim, C.map((v) => v * (cos ? 1 : f)), k, cos, weight).ratio;
      expect(ratio(0.1)).toBeCloseTo(ratio(1), 4);
    });
  }

  it('makes the codes more k-means friendly than the plain autoencoder on the same seed, and records what it did', async () => {
    const rng = createRng(4);
    const n = 600, d = 16;
    // four elongated blobs: one strong nuisance direction shared by all, class centres apart on others
    const X = new Float32Array(n * d);
    const centres = [0, 1, 2, 3].map(() => Array.from({ length: d }, () => rng.normal()));
    const nuisance = Array.from({ length: d }, () => rng.normal());
    for (let i = 0; i < n; i++) { const t = 2.5 * rng.normal(); for (let p = 0; p < d; p++) X[i * d + p] = centres[i % 4][p] + t * nuisance[p] + 0.3 * rng.normal(); }
    const o = { hidden: [32, 4], loss: 'mse' as const, codeActivation: 'linear' as const, batchSize: 32, minUpdates: 400, seed: 1 };
    const plain = await trainAutoencoder(X, n, d, o);
    const kf = await trainAutoencoder(X, n, d, { ...o, kmeansFriendly: { k: 4, weight: 0.5, from: 0.3 } });
    expect(plain.kmeansFriendly).toBeNull();
    expect(kf.kmeansFriendly).toMatchObject({ k: 4, weight: 0.5, metric: 'cosine' });
    expect(kf.kmeansFriendly!.fromUpdate).toBe(Math.floor(0.3 * kf.epochsPlanned * Math.ceil((n - 60) / 32)));
    expect(kf.kmeansFriendly!.ratio.length).toBeGreaterThan(1);
    // the inertia ratio of cosine k-means on the codes falls
    const ratioOf = async (r: typeof plain) => {
      const Z = await encode(encoderOf(r), X, n);
      const km = await kmeans(Z, n, 4, 4, { metric: 'cosine', seed: 0, nInit: 5 });
      const U = Z.slice();
      for (let i = 0; i < n; i++) { let s = 0; for (let p = 0; p < 4; p++) s += U[i * 4 + p] ** 2; s = Math.sqrt(s); for (let p = 0; p < 4; p++) U[i * 4 + p] /= s; }
      const mean = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) for (let p = 0; p < 4; p++) mean[p] += U[i * 4 + p] / n;
      let T = 0;
      for (let i = 0; i < n; i++) for (let p = 0; p < 4; p++) T += (U[i * 4 + p] - mean[p]) ** 2;
      return km.inertia / T;
    };
    expect(await ratioOf(kf)).toBeLessThan(0.8 * (await ratioOf(plain)));
    await expect(trainAutoencoder(X, n, d, { ...o, kmeansFriendly: { k: 1 } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^k/) });
    await expect(trainAutoencoder(X, n, d, { ...o, kmeansFriendly: { k: 4, from: 1 } })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^kmeans-from/) });
  });
});

describe('autoencoder training', () => {
  const rng = createRng(11);
  const n = 600, d = 20;
  // three blobs in [0, 1]
  const X = new Float32Array(n * d);
  const centres = [0, 1, 2].map(() => Array.from({ length: d }, () => rng.next()));
  for (let i = 0; i < n; i++) for (let p = 0; p < d; p++) X[i * d + p] = Math.min(1, Math.max(0, centres[i % 3][p] + 0.05 * rng.normal()));

  it('is deterministic for a seed and differs across seeds; the loss falls', async () => {
    const a = await trainAutoencoder(X, n, d, { hidden: [8], epochs: 4, batchSize: 64, seed: 1 });
    const b = await trainAutoencoder(X, n, d, { hidden: [8], epochs: 4, batchSize: 64, seed: 1 });
    const c = await trainAutoencoder(X, n, d, { hidden: [8], epochs: 4, batchSize: 64, seed: 2 });
    expect(a.loss).toBe('bce');
    expect(a.lossCurve).toEqual(b.lossCurve);
    expect(Array.from(a.net.W[0])).toEqual(Array.from(b.net.W[0]));
    expect(a.lossCurve).not.toEqual(c.lossCurve);
    expect(a.lossCurve.length).toBe(4);
    expect(a.lossCurve[3]).toBeLessThan(a.lossCurve[0]);
    const codes = await encode(encoderOf(a), X, n);
    expect(codes.length).toBe(n * 8);
  });

  it('denoising: inputs dropped at the given share in training, seeded; the target stays the clean row', async () => {
    const o = { hidden: [8], epochs: 3, batchSize: 64, seed: 1 };
    const plain = await trainAutoencoder(X, n, d, o);
    const a = await trainAutoencoder(X, n, d, { ...o, noise: 0.3 });
    const b = await trainAutoencoder(X, n, d, { ...o, noise: 0.3 });
    expect(a.lossCurve).toEqual(b.lossCurve);
    expect(a.lossCurve).not.toEqual(plain.lossCurve);
    // reconstructing clean rows from corrupted ones is harder than from themselves
    expect(a.lossCurve[2]).toBeGreaterThan(plain.lossCurve[2]);
    await expect(trainAutoencoder(X, n, d, { ...o, noise: 1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^noise/) });
  });

  it('uses MSE with a linear output when the data are not in [0, 1]', async () => {
    const Y = X.map((v) => v * 4 - 2);
    const r = await trainAutoencoder(Y, n, d, { hidden: [8], epochs: 1, seed: 0 });
    expect(r.loss).toBe('mse');
    expect(r.net.layers[r.net.layers.length - 1].act).toBe('linear');
  });

  it('stops when cancelled, between batches', async () => {
    let batches = 0;
    await expect(trainAutoencoder(X, n, d, { hidden: [8], epochs: 50, batchSize: 32, isCancelled: () => batches >= 3, onProgress: () => { batches++; } }))
      .rejects.toMatchObject({ code: 'CANCELLED' });
    expect(batches).toBe(3);
  });

  it('stops early when the loss stops improving', async () => {
    const r = await trainAutoencoder(X, n, d, { hidden: [8], epochs: 200, batchSize: 600, lr: 1e-6, patience: 2, minDelta: 0.01, seed: 0 });
    expect(r.stoppedEarly).toBe(true);
    expect(r.epochs).toBeLessThan(10);
  });

  it('rejects bad sizes with a clear parameter error', async () => {
    await expect(trainAutoencoder(X, n, d, { hidden: [0] })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(trainAutoencoder(X, n, d, { epochs: 0 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT' });
    await expect(trainAutoencoder(X, n, d, { hidden: [8], minUpdates: 0 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^min-updates/) });
    await expect(trainAutoencoder(X, n, d, { hidden: [8], validation: 0.9 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^validation/) });
    await expect(trainAutoencoder(X, n, d, { hidden: [8], lr: 0 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^lr/) });
    await expect(trainAutoencoder(X, n, d, { hidden: [8], patience: 1.5 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^patience/) });
  });

  it('by default plans epochs from a minimum of updates, holds out 10 % for early stopping and decays the lr', async () => {
    // 540 training rows, batch 64 -> 9 steps an epoch: 500 updates -> 56 epochs (within [10, 200])
    expect(plannedEpochs(540, 64)).toBe(Math.ceil(AE_DEFAULTS.minUpdates / 9));
    expect(plannedEpochs(540, 64, { minUpdates: 20 })).toBe(AE_DEFAULTS.minEpochs);
    expect(plannedEpochs(54000, 256, {})).toBe(AE_DEFAULTS.minEpochs);
    expect(plannedEpochs(100, 256, { minUpdates: 100000 })).toBe(AE_DEFAULTS.maxEpochs);
    expect(plannedEpochs(540, 64, { epochs: 3 })).toBe(3);
    const r = await trainAutoencoder(X, n, d, { hidden: [8], batchSize: 64, minUpdates: 60, seed: 0 });
    expect(r.validationRows).toBe(60);
    expect(r.schedule).toBe('cosine');
    expect(r.epochsPlanned).toBe(AE_DEFAULTS.minEpochs);
    expect(r.valLossCurve).toHaveLength(r.epochs);
    expect(r.updates).toBe(r.epochs * 9);
    expect(r.valLossCurve[r.epochs - 1]).toBeLessThan(r.valLossCurve[0]);
    // the explicit regimen: all rows, constant lr, no held-out loss
    const f = await trainAutoencoder(X, n, d, { hidden: [8], batchSize: 64, epochs: 2, seed: 0 });
    expect(f).toMatchObject({ validationRows: 0, schedule: 'constant', epochs: 2, updates: 20 });
    expect(f.valLossCurve).toEqual([]);
  });

  it('stops early on the held-out loss and keeps the weights of its best epoch', async () => {
    // a tiny training share and a large lr overfit fast: the held-out loss turns up while the training loss falls
    const small = X.subarray(0, 240 * d);
    const seen: Array<{ e: number; w: Float32Array }> = [];
    const r = await trainAutoencoder(small, 240, d, { hidden: [64, 32], batchSize: 8, lr: 0.05, validation: 0.5, patience: 2, minDelta: 0, maxEpochs: 60, minUpdates: 1e5, seed: 3,
      onEpoch: (e, _l, _v, net) => { seen.push({ e, w: net.W[0].slice() }); } });
    expect(r.stoppedEarly).toBe(true);
    expect(r.epochs).toBeLessThan(60);
    const bestVal = Math.min(...r.valLossCurve);
    expect(r.valLossCurve[r.bestEpoch - 1]).toBe(bestVal);
    expect(r.bestEpoch).toBeLessThan(r.epochs);
    expect(Array.from(r.net.W[0])).toEqual(Array.from(seen[r.bestEpoch - 1].w));
  });

  it('DEC ends by a stopping rule long before its step cap and reports the steps it took', async () => {
    const r = await dec(X, n, d, 3, { ae: { hidden: [8], epochs: 5, batchSize: 64 }, batchSize: 64, updateInterval: 10, maxIter: 20000, seed: 0 });
    expect(['tol', 'plateau']).toContain(r.stopReason);
    expect(r.iterations).toBeLessThan(2000);
    expect(r.iterations % 10).toBe(0);
    expect(r.changed.length).toBe(r.iterations / 10 + 1);
    if (r.stopReason === 'tol') expect(r.changed[r.changed.length - 1]).toBeLessThan(0.001);
    const capped = await dec(X, n, d, 3, { pretrained: r.ae, batchSize: 64, updateInterval: 10, maxIter: 15, tol: 0, patience: 100, seed: 0 });
    expect(capped).toMatchObject({ stopReason: 'max-iter', iterations: 15, converged: false });
    await expect(dec(X, n, d, 3, { pretrained: r.ae, updateInterval: 0 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^update-interval/) });
  });

  it('DEC starts from a Gaussian mixture on the codes by default, from k-means on request; a bad start names the parameter', async () => {
    const ae = await trainAutoencoder(X, n, d, { hidden: [8], epochs: 3, batchSize: 64, seed: 0 });
    const codes = await encode(encoderOf(ae), X, n);
    const g = await dec(X, n, d, 3, { pretrained: ae, batchSize: 64, updateInterval: 10, maxIter: 10, seed: 0 });
    expect(g.init).toBe('gmm');
    expect(Array.from(g.initLabels)).toEqual(Array.from((await gmm(codes, n, 8, { k: 3, seed: 0 })).labels));
    const k = await dec(X, n, d, 3, { pretrained: ae, init: 'kmeans', batchSize: 64, updateInterval: 10, maxIter: 10, seed: 0 });
    expect(k.init).toBe('kmeans');
    // after a mixture start each centre keeps its component's shape (Mahalanobis kernel; the mixture's t kernel on
    // request); after k-means, the paper's kernel
    expect(g.kernel).toBe('mahalanobis');
    expect(k.kernel).toBe('euclidean');
    const ge = await dec(X, n, d, 3, { pretrained: ae, kernel: 'euclidean', batchSize: 64, updateInterval: 10, maxIter: 10, seed: 0 });
    expect(ge.kernel).toBe('euclidean');
    expect(ge.changed[0]).toBeGreaterThanOrEqual(g.changed[0]);
    const gm = await dec(X, n, d, 3, { pretrained: ae, kernel: 'mixture-t', batchSize: 64, updateInterval: 10, maxIter: 10, seed: 0 });
    expect(gm.kernel).toBe('mixture-t');
    expect(gm.changed[0]).toBeLessThanOrEqual(ge.changed[0]);
    await expect(dec(X, n, d, 3, { pretrained: ae, init: 'kmeans', kernel: 'mixture-t' })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^kernel/) });
    expect(Array.from(k.initLabels)).toEqual(Array.from((await kmeans(codes, n, 8, 3, { metric: 'euclidean', seed: 0, nInit: 20 })).labels));
    await expect(dec(X, n, d, 3, { pretrained: ae, init: 'spectral' as never })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^init/) });
  });
});
