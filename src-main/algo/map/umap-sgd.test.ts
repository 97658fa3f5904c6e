import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { allocSgd, kernelMemory, powTable, readEmbedding, sgdEpochRows, sgdViews, writeEmbedding, type SgdState } from './umap-sgd.ts';
// @ts-expect-error plain .mjs build script without types
import { KERNELS, assemble, moduleText } from '../../../resources/build-wasm.mjs';

/** A random symmetric graph with umap-like sampling schedules, and a random start. */
function makeState(n: number, dim: number, deg: number, seed: number, nEpochs = 50): { st: SgdState; start: Float32Array } {
  const rng = createRng(seed);
  const adj: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < deg; t++) {
      const j = rng.int(n);
      if (j === i) continue;
      const w = 0.05 + 0.95 * rng.next();
      adj[i].set(j, w); adj[j].set(i, w);
    }
  }
  let m = 0;
  for (const a of adj) m += a.size;
  const st = allocSgd({ n, dim, m, nEpochs, a: 1.58, b: 0.9, gamma: 1, learningRate: 1, seed: 12345 });
  const v = sgdViews(st);
  let e = 0;
  for (let i = 0; i < n; i++) {
    for (const [j, w] of [...adj[i]].sort((x, y) => x[0] - y[0])) {
      v.tail[e] = j;
      v.epochsPerSample[e] = v.epochOfNextSample[e] = 1 / w;
      v.epochsPerNegSample[e] = v.epochOfNextNegSample[e] = 1 / w / 5;
      e++;
    }
    v.indptr[i + 1] = e;
  }
  const start = new Float32Array(n * dim);
  for (let t = 0; t < start.length; t++) start[t] = rng.next() * 10;
  // a few coincident rows exercise the "push apart" branch
  start.copyWithin(dim, 0, dim);
  writeEmbedding(st, 0, start);
  return { st, start };
}

/**
 * The epoch in plain scalar JS, as documented in umap-sgd.ts, with every float32 operation of the kernel rounded the
 * same way (Math.fround after each +, -, *, /; squared distances summed in 4 lanes): the SIMD kernel must match it
 * bit for bit.
 */
function referenceEpoch(st: SgdState, epoch: number, src: Float32Array, dst: Float32Array, sched: ReturnType<typeof copySchedule>): void {
  const r = Math.fround;
  const { n, dim } = st;
  const a = r(st.a), twoAB = r(2 * st.a * st.b), twoGB = r(2 * st.gamma * st.b);
  const PT = powTable(st.b);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  const pw = (x: number) => { f[0] = x; return PT[u[0] >>> 13]; };
  const alpha = r(st.learningRate * (1 - epoch / st.nEpochs)), alpha2 = r(alpha * 2), push = r(alpha * 4);
  const seedOf = (row: number) => {
    let x = (st.seed ^ Math.imul(epoch + 0x632be5ab, 0x9e3779b1) ^ Math.imul(row + 1, 0x85ebca77)) | 0;
    x ^= x >>> 16; x = Math.imul(x, 0x7feb352d); x ^= x >>> 15; x = Math.imul(x, 0x846ca68b); x ^= x >>> 16;
    return x || 0x6d2b79f5;
  };
  const clip = (g: number) => Math.max(-4, Math.min(4, g));
  const stride = Math.ceil(dim / 4) * 4;
  const diff = (h: number[], k: number, dv: number[]) => {
    const lanes = [0, 0, 0, 0];
    for (let q = 0; q < stride; q++) {
      const x = q < dim ? r(h[q] - src[k * dim + q]) : 0;
      dv[q] = x;
      lanes[q % 4] = r(lanes[q % 4] + r(x * x));
    }
    return r(r(lanes[0] + lanes[1]) + r(lanes[2] + lanes[3]));
  };
  const move = (h: number[], dv: number[], gc: number, step: number) => {
    for (let q = 0; q < dim; q++) h[q] = r(h[q] + r(clip(r(gc * dv[q])) * step));
  };
  const dv: number[] = new Array(stride).fill(0);
  for (let i = 0; i < n; i++) {
    const h = Array.from(src.subarray(i * dim, i * dim + dim));
    let rnd = 0;
    for (let p = sched.indptr[i]; p < sched.indptr[i + 1]; p++) {
      if (sched.eons[p] > epoch) continue;
      const d2 = diff(h, sched.tail[p], dv);
      if (d2 > 0) {
        const pb = pw(d2);
        move(h, dv, r(r(r(-twoAB) * r(pb / d2)) / r(r(a * pb) + 1)), alpha2);
      }
      sched.eons[p] += sched.eps[p];
      const nNeg = Math.trunc((epoch - sched.eonns[p]) / sched.epns[p]);
      if (nNeg > 0 && rnd === 0) rnd = seedOf(i);
      for (let t = 0; t < nNeg; t++) {
        rnd ^= rnd << 13; rnd ^= rnd >>> 17; rnd ^= rnd << 5;
        const kk = ((rnd & 0x7fffffff) >>> 0) % n;
        if (kk === i) continue;
        const s2 = diff(h, kk, dv);
        if (s2 > 0) move(h, dv, r(twoGB / r(r(r(0.001) + s2) * r(r(a * pw(s2)) + 1))), alpha);
        else for (let q = 0; q < dim; q++) h[q] = r(h[q] + push);
      }
      sched.eonns[p] += nNeg * sched.epns[p];
    }
    for (let q = 0; q < dim; q++) dst[i * dim + q] = h[q];
  }
}

function copySchedule(st: SgdState) {
  const v = sgdViews(st);
  return { indptr: v.indptr.slice(), tail: v.tail.slice(), eps: v.epochsPerSample.slice(), eons: v.epochOfNextSample.slice(), epns: v.epochsPerNegSample.slice(), eonns: v.epochOfNextNegSample.slice() };
}

describe('UMAP SGD kernel (WebAssembly SIMD)', () => {
  it('the committed module is what the .wat source assembles to', async () => {
    for (const k of KERNELS) {
      const text = moduleText(k, await assemble(k.wat));
      expect(readFileSync(new URL(`../../../${k.ts}`, import.meta.url), 'utf8'), `${k.ts} is stale: run node resources/build-wasm.mjs`).toBe(text);
    }
  });

  it('matches a scalar implementation of the documented epoch bit for bit (dims 2, 3, 13, 50)', () => {
    for (const dim of [2, 3, 13, 50]) {
      const n = 300;
      const { st, start } = makeState(n, dim, 6, dim);
      const sched = copySchedule(st);
      let ref = Float32Array.from(start), next = new Float32Array(n * dim);
      let cur: 0 | 1 = 0;
      for (let e = 0; e < 12; e++) {
        sgdEpochRows(st, e, 0, n, cur, 0);
        cur = cur === 0 ? 1 : 0;
        referenceEpoch(st, e, ref, next, sched);
        [ref, next] = [next, ref];
      }
      const got = readEmbedding(st, cur);
      let moved = 0;
      for (let t = 0; t < got.length; t++) moved = Math.max(moved, Math.abs(ref[t] - start[t]));
      expect(moved, `dim ${dim}: the epochs moved the points`).toBeGreaterThan(0.1);
      expect(got, `dim ${dim}`).toEqual(ref);
      // the schedule advanced exactly as the reference's
      const v = sgdViews(st);
      expect(Array.from(v.epochOfNextSample)).toEqual(Array.from(sched.eons));
      expect(Array.from(v.epochOfNextNegSample)).toEqual(Array.from(sched.eonns));
      // padding lanes stay 0
      if (st.stride !== dim) {
        const Y = sgdViews(st).y[cur];
        for (let i = 0; i < n; i++) for (let q = dim; q < st.stride; q++) expect(Y[i * st.stride + q]).toBe(0);
      }
    }
  });

  it('refuses working memory beyond what WebAssembly can hold, naming the input', () => {
    expect(() => kernelMemory(5 * 2 ** 30)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^embeddings: too many for UMAP: it needs 5120 MB/) }));
  });

  it('any split of the rows (and scratch slot) gives the same embedding, bit for bit', () => {
    const n = 500, dim = 7;
    const a = makeState(n, dim, 8, 3).st, b = makeState(n, dim, 8, 3).st;
    let cur: 0 | 1 = 0;
    for (let e = 0; e < 20; e++) {
      sgdEpochRows(a, e, 0, n, cur, 0);
      const cuts = [0, 37 + e, 250, 251, 400 - e, n];
      for (let c = 0; c + 1 < cuts.length; c++) sgdEpochRows(b, e, cuts[cuts.length - 2 - c], cuts[cuts.length - 1 - c], cur, 1 + c);
      cur = cur === 0 ? 1 : 0;
    }
    expect(readEmbedding(b, cur)).toEqual(readEmbedding(a, cur));
  });
});
