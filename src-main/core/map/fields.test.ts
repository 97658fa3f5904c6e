/**
 * The legend of a binned field reads differently bin by bin: dates taken within one day are labelled to the minute or
 * second (not eight bins all "2026-12-07 – 2026-12-07"), a span of years to the day, numbers to the width's decimals.
 */
import { describe, expect, it } from 'vitest';
import { binLabel } from './fields.ts';

describe('binLabel', () => {
  it('dates: to the day, the minute or the second, by the bin width; one value alone', () => {
    const day = Date.parse('2026-12-07T00:00:00Z');
    expect(binLabel(true, day, day + 30 * 86_400_000, 30 * 86_400_000)).toBe('2026-12-07 – 2027-01-06');
    expect(binLabel(true, day + 9 * 3_600_000, day + 10 * 3_600_000, 3_600_000)).toBe('2026-12-07 09:00 – 10:00');
    expect(binLabel(true, day + 1000, day + 4000, 3000)).toBe('2026-12-07 00:00:01 – 00:00:04');
    expect(binLabel(true, day + 23 * 3_600_000, day + 25 * 3_600_000, 2 * 3_600_000)).toBe('2026-12-07 23:00 – 2026-12-08 01:00');
    expect(binLabel(true, day, day, 0)).toBe('2026-12-07 00:00:00');
    // eight neighbouring bins over ten seconds: all different
    const labels = Array.from({ length: 8 }, (_, b) => binLabel(true, day + b * 1250, day + (b + 1) * 1250, 1250));
    expect(new Set(labels).size).toBe(8);
  });

  it('numbers: as many decimals as the width needs', () => {
    expect(binLabel(false, 0.5, 0.625, 0.125)).toBe('0.50 – 0.63');
    expect(binLabel(false, 0.91, 0.9125, 0.0025)).toBe('0.9100 – 0.9125');
    expect(binLabel(false, 10, 20, 10)).toBe('10 – 20');
    expect(binLabel(false, 0.7, 0.7, 0)).toBe('0.700');
  });
});
