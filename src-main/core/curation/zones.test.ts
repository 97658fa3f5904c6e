/**
 * The zones for the comparisons made now (comparisonZones): pure figures from a run's stored zones, no library.
 */
import { describe, expect, it } from 'vitest';
import { SURE_FAR_MAX, thresholdAt } from '../../algo/cluster/identity-scale.ts';
import type { LibraryZones } from '../../common/types.ts';
import { comparisonFrom, comparisonZones, FACE_FAR, zoneOf } from './zones.ts';

const tail = { a: 1.7366, b: 0.3525, loc: 0.0631, scale: 0.1123, set: 'faces-orl' };
/** a run's zones as the worker stores them (100 faces) */
const zones: LibraryZones = { sure: 0.47, maybe: 0.33, link: 0.47, n: 100, pairs: 4950, sampled: 4950, loc: 0.06, scale: 0.11, farSure: 1e-4, farMaybe: 5e-3, tail };

describe('zones for the comparisons made now', () => {
  it('tighten as the prototypes compared per face grow (people added), from the stored location and scale', () => {
    const few = comparisonZones(zones, 10), some = comparisonZones(zones, 200), many = comparisonZones(zones, 16_000);
    expect(few.sure).toBeLessThan(some.sure);
    expect(some.sure).toBeLessThan(many.sure);
    // the per-comparison rate is the per-face rate over the prototypes (Bonferroni), never looser than the model's rate
    expect(some.far).toBeCloseTo(FACE_FAR / 200, 12);
    expect(some.sure).toBeCloseTo(thresholdAt(tail, zones.loc, zones.scale, FACE_FAR / 200), 4);
    expect(few.far).toBe(SURE_FAR_MAX);
    expect(few.sure).toBeCloseTo(thresholdAt(tail, zones.loc, zones.scale, SURE_FAR_MAX), 4);
    // 2,000 people x 8 samples: still a threshold a face of the same person reaches (not the pair count's ~0.99)
    expect(many.sure).toBeLessThan(0.8);
    expect(comparisonFrom(some, zones)).toMatch(/200 prototype\(s\) compared per face/);
  });

  it('keep the run\'s maybe threshold, never above sure, and sure never below maybe', () => {
    const c = comparisonZones(zones, 50);
    expect(c.maybe).toBe(zones.maybe);
    expect(c.sure).toBeGreaterThanOrEqual(c.maybe);
    // a run whose maybe is above the comparison sure (a tiny scale): sure is lifted to maybe
    const flat = comparisonZones({ ...zones, scale: 0.001, maybe: 0.5 }, 50);
    expect(flat.sure).toBe(0.5);
    expect(flat.maybe).toBeLessThanOrEqual(flat.sure);
    expect([zoneOf(c, c.sure), zoneOf(c, c.maybe), zoneOf(c, c.maybe - 1e-6)]).toEqual(['sure', 'maybe', null]);
  });

  it('a count that is not a positive number counts as one prototype', () => {
    expect(comparisonZones(zones, 0)).toEqual(comparisonZones(zones, 1));
    expect(comparisonZones(zones, Number.NaN).prototypes).toBe(1);
  });
});
