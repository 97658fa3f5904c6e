/**
 * How far above the best other group a queue's offer must be, learned from what the user did with the offers so far:
 * each offer's margin (its score for the group less its best other group's) and whether it was confirmed or rejected.
 * The acceptance rate is fitted as a non-decreasing function of the margin (isotonic regression, pool adjacent
 * violators); the floor is the smallest margin whose fitted rate reaches `rate` (a wrong offer costs the user a
 * reject, a right one saves a move: below one half an offer costs more than it saves). Where no margin reaches it,
 * the floor is just above every margin seen. No floor (null) where the offers at the lowest margins seen already
 * reach the rate (nothing to hold back) or from too few outcomes: the queue keeps its own margin.
 */

export interface OfferOutcome { margin: number; accepted: boolean }

export const OFFER_FLOOR_MIN_OUTCOMES = 8;

export function offerFloor(outcomes: readonly OfferOutcome[], o: { rate?: number; minOutcomes?: number } = {}): number | null {
  const rate = o.rate ?? 0.5;
  const xs = outcomes.filter((x) => Number.isFinite(x.margin));
  if (xs.length < (o.minOutcomes ?? OFFER_FLOOR_MIN_OUTCOMES)) return null;
  xs.sort((a, b) => a.margin - b.margin);
  // pool adjacent violators over the outcomes in margin order: blocks of (sum accepted, count, lowest margin)
  const blocks: Array<{ sum: number; n: number; lo: number }> = [];
  for (const x of xs) {
    blocks.push({ sum: x.accepted ? 1 : 0, n: 1, lo: x.margin });
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1]!, a = blocks[blocks.length - 2]!;
      if (a.sum / a.n <= b.sum / b.n) break;
      blocks.pop();
      a.sum += b.sum; a.n += b.n;
    }
  }
  if (blocks[0]!.sum / blocks[0]!.n >= rate) return null;
  for (const b of blocks) if (b.sum / b.n >= rate) return b.lo;
  return xs[xs.length - 1]!.margin + 1e-6;
}
