import { describe, expect, it } from 'vitest';
import { createRng, type Rng } from '../rng.ts';
import { calibrateImpostorTail, libraryThresholds, pairSimilarities, robustLocScale, thresholdAt } from './identity-scale.ts';
import { verificationThresholds } from '../../testing/identity-verification.ts';

/** `people` identities in d dims: unit centres, each face = centre + N(0, sigma^2) noise. */
function population(rng: Rng, people: number, per: number, d: number, sigma: number): { X: Float32Array; labels: Int32Array; n: number } {
  const n = people * per;
  const X = new Float32Array(n * d), labels = new Int32Array(n);
  for (let p = 0; p < people; p++) {
    const c = Array.from({ length: d }, () => rng.normal());
    const nc = Math.hypot(...c);
    for (let f = 0; f < per; f++) {
      const i = p * per + f; labels[i] = p;
      for (let t = 0; t < d; t++) X[i * d + t] = c[t] / nc + sigma * rng.normal();
    }
  }
  return { X, labels, n };
}

/** impostor pairs above each threshold, and the share of genuine pairs above it, counted over every pair */
function outcome(pop: { X: Float32Array; labels: Int32Array; n: number }, d: number, t: number): { falseMerges: number; tar: number } {
  const { sims, i, j } = pairSimilarities(pop.X, pop.n, d, { maxPairs: Number.MAX_SAFE_INTEGER });
  let fm = 0, ta = 0, gen = 0;
  for (let q = 0; q < sims.length; q++) {
    const same = pop.labels[i[q]] === pop.labels[j[q]];
    if (same) gen++;
    if (sims[q] > t) { if (same) ta++; else fm++; }
  }
  return { falseMerges: fm, tar: ta / gen };
}

describe('identity thresholds that scale with the library', () => {
  const d = 48;
  // the model's calibration: 40 people x 10 faces (the shape of faces-orl); reports on other, larger populations
  const cal = population(createRng(11), 40, 10, d, 0.05);
  const tail = calibrateImpostorTail(cal.X, cal.n, d, cal.labels);

  it('holds the stated false merges on a larger held-out population where the fixed threshold does not', async () => {
    const big = population(createRng(12), 400, 4, d, 0.05); // 1,600 faces, 1.28M pairs (sampled for the estimate)
    const fixed = (await verificationThresholds(cal.X, cal.n, d, cal.labels, [1e-4])).points[0].similarity;
    const th = libraryThresholds(big.X, big.n, d, tail, { rng: createRng(1) }); // one expected false pair
    expect(th.sampled).toBeLessThan(th.pairs);
    // the fixed threshold lets impostor pairs through in proportion to the library's pairs
    expect(outcome(big, d, fixed).falseMerges).toBeGreaterThan(20);
    // the library's sure threshold is tighter and lets (almost) none through, yet keeps most genuine pairs
    expect(th.sure).toBeGreaterThan(fixed);
    const sure = outcome(big, d, th.sure);
    expect(sure.falseMerges).toBeLessThanOrEqual(2);
    expect(sure.tar).toBeGreaterThan(0.9);
    // the maybe zone: looser, its impostors within a few times the stated count (n / 4)
    expect(th.maybe).toBeLessThan(th.sure);
    const maybe = outcome(big, d, th.maybe);
    expect(maybe.falseMerges).toBeLessThanOrEqual(3 * th.farMaybe * th.pairs);
    expect(maybe.tar).toBeGreaterThan(sure.tar);
    expect(th.link).toBeGreaterThanOrEqual(th.maybe);
    expect(th.link).toBeLessThanOrEqual(th.sure);
  });

  it('tightens as the number of faces grows', () => {
    const rng = createRng(13);
    const sizes = [100, 400, 1600];
    const sure = sizes.map((people) => {
      const pop = population(rng, people, 2, d, 0.08);
      return libraryThresholds(pop.X, pop.n, d, tail, { rng: createRng(2) }).sure;
    });
    expect(sure[1]).toBeGreaterThan(sure[0]);
    expect(sure[2]).toBeGreaterThan(sure[1]);
  });

  it('follows the library: a population whose pairs sit higher gets a higher threshold at the same size', () => {
    const a = population(createRng(14), 100, 3, d, 0.08);
    // the same faces plus a shared component (another camera / lighting): every pair more similar
    const b = { ...a, X: Float32Array.from(a.X, (x, k) => x + (k % d === 0 ? 0.5 : 0)) };
    const ta = libraryThresholds(a.X, a.n, d, tail), tb = libraryThresholds(b.X, b.n, d, tail);
    expect(tb.loc).toBeGreaterThan(ta.loc + 0.05);
    expect(tb.sure).toBeGreaterThan(ta.sure);
  });

  it('is deterministic for a seed when it samples', () => {
    const pop = population(createRng(15), 300, 3, d, 0.08);
    const a = libraryThresholds(pop.X, pop.n, d, tail, { rng: createRng(5), maxPairs: 20_000 });
    const b = libraryThresholds(pop.X, pop.n, d, tail, { rng: createRng(5), maxPairs: 20_000 });
    expect(a).toEqual(b);
    expect(a.sampled).toBe(20_000);
  });

  it('rejects bad input by name', () => {
    const pop = population(createRng(16), 5, 4, d, 0.08);
    expect(() => calibrateImpostorTail(pop.X, pop.n, d, pop.labels.subarray(1))).toThrow(/labels/);
    expect(() => calibrateImpostorTail(pop.X, pop.n, d, pop.labels)).toThrow(/impostor pairs/); // too few to fit a tail
    expect(() => calibrateImpostorTail(cal.X, cal.n, d, cal.labels, { tailFrom: 2 })).toThrow(/tailFrom/);
    expect(() => thresholdAt(tail, 0, 0.1, 0)).toThrow(/far/);
    expect(() => libraryThresholds(pop.X, 1, d, tail)).toThrow(/X/);
    expect(() => libraryThresholds(pop.X, pop.n, d, tail, { falseMerges: -1 })).toThrow(/falseMerges/);
    expect(() => libraryThresholds(pop.X, pop.n, d, tail, { falseMerges: 1, maybeFalseMerges: 0.5 })).toThrow(/maybeFalseMerges/);
    expect(() => libraryThresholds(pop.X, pop.n, d, tail, { maxPairs: 10 })).toThrow(/rng/);
    const same = new Float32Array(10 * d).fill(1);
    expect(() => libraryThresholds(same, 10, d, tail)).toThrow(/no spread/);
    expect(() => robustLocScale(new Float32Array(1))).toThrow(/pair/);
  });
});
