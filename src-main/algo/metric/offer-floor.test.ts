import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.ts';
import { offerFloor, type OfferOutcome } from './offer-floor.ts';

describe('offerFloor', () => {
  it('no floor from too few outcomes; non-finite margins are not counted', () => {
    expect(offerFloor([])).toBeNull();
    const few = Array.from({ length: 7 }, (_, i) => ({ margin: i / 10, accepted: false }));
    expect(offerFloor(few)).toBeNull();
    expect(offerFloor([...few, { margin: Number.NaN, accepted: false }, { margin: Infinity, accepted: true }])).toBeNull();
    expect(offerFloor([...few, { margin: 0.9, accepted: false }])).not.toBeNull();
  });

  it('the smallest margin from which the fitted acceptance rate reaches one half', () => {
    // offers below 0.1 mostly rejected, from 0.1 mostly confirmed
    const o: OfferOutcome[] = [];
    for (let i = 0; i < 20; i++) o.push({ margin: 0.01 + i * 0.004, accepted: i % 5 === 0 });
    for (let i = 0; i < 20; i++) o.push({ margin: 0.1 + i * 0.01, accepted: i % 5 !== 0 });
    const f = offerFloor(o)!;
    expect(f).toBeGreaterThanOrEqual(0.08);
    expect(f).toBeLessThanOrEqual(0.11);
    // every margin accepted, or the lowest ones mostly: nothing to hold back
    expect(offerFloor(o.map((x) => ({ ...x, accepted: true })))).toBeNull();
    expect(offerFloor(o.map((x) => ({ ...x, accepted: x.margin < 0.05 || x.accepted })))).toBeNull();
  });

  it('all rejected: above every margin seen, so nothing like them is offered again', () => {
    const o = Array.from({ length: 12 }, (_, i) => ({ margin: 0.05 + i * 0.01, accepted: false }));
    expect(offerFloor(o)!).toBeGreaterThan(0.16);
  });

  it('the fit is monotone: a lucky accept at a low margin among rejections does not open the floor there', () => {
    const rng = createRng(4);
    const o: OfferOutcome[] = Array.from({ length: 40 }, () => { const m = rng.next() * 0.3; return { margin: m, accepted: rng.next() < (m > 0.2 ? 0.9 : 0.15) }; });
    o.push({ margin: 0.001, accepted: true });
    const f = offerFloor(o)!;
    expect(f).toBeGreaterThan(0.1);
    expect(f).toBeLessThanOrEqual(0.25);
    // the order of the outcomes does not matter
    expect(offerFloor([...o].reverse())).toBe(f);
  });
});
