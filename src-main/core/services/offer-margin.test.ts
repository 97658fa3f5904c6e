/**
 * Queues that learn from what the user does with their offers: `learn` fits how often offers at each margin were
 * confirmed (outcomes kept with their edits in the library), and the run's queues stop offering where fewer than two in
 * three were right. A session that never learns keeps its queues as they are; a margin given by the caller wins;
 * a metric judged on a handful of held-out decisions is not used, however well it did on them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppApi } from '../../common/api.ts';
import { tempDir } from '../../testing/fixtures.ts';
import { nuisanceRun } from '../../testing/nuisance-photos.ts';
import { CoreService } from '../service.ts';
import { checkedApi } from '../../common/dispatch.ts';
import { offerFloor, OFFER_FLOOR_MIN_OUTCOMES, type OfferOutcome } from '../../algo/metric/offer-floor.ts';
import { offerOutcomesRepo } from '../store/learned-metrics.ts';
import { EXPLORE_OFFERS, MIN_HELD_OUT, OFFER_ACCEPT_RATE, usable } from './learn.ts';

const D = 24, G = 4, PER = 40;

describe('the queues\' margin learned from confirmed and rejected offers', () => {
  const tmp = tempDir('constellate-offer-margin-');
  const lib = join(tmp.dir, 'offers.constellate');
  let svc: CoreService;
  let api: AppApi;
  let runId = 0;
  let clusters: number[] = [];

  beforeAll(async () => {
    ({ svc, api, runId, clusters } = await nuisanceRun(tmp.dir, lib, { G, PER, D, k: 8 }));
    // every cluster named (a person names them all first): each queue offers the other clusters' members
    for (const [i, c] of clusters.entries()) await api.editRun({ runId, op: { type: 'rename', cluster: c, name: `g${i}` } });
    // and a few members of each sent to noise: undecided items every queue may offer back
    for (const c of clusters) {
      const m = (await api.getClusterMembers({ runId, cluster: c, offset: 0, limit: 100 })).items;
      if (m.length > 6) await api.editRun({ runId, op: { type: 'reject', items: m.slice(0, 4).map((v) => v.item) } });
    }
  });
  afterAll(async () => { await svc?.close(); tmp.cleanup(); });

  it('the gate: a metric better on fewer than 20 held-out decisions, or by one decision only, is not used', () => {
    expect(usable({ before: 0.5, after: 1, heldOut: 2 })).toBe(false);
    expect(usable({ before: 0.75, after: 0.8333, heldOut: 12 })).toBe(false);
    expect(usable({ before: 0.8, after: 0.85, heldOut: MIN_HELD_OUT })).toBe(false);
    expect(usable({ before: 0.8, after: 0.9, heldOut: MIN_HELD_OUT })).toBe(true);
    expect(usable({ before: null, after: 0.9, heldOut: 40 })).toBe(false);
  });

  it('once the session learns, a queue whose offers nobody judged yet offers its best few only (a session that never learned: as many as asked)', async () => {
    // the group whose queue offers the most (the offers follow the clustering, which follows the scan's order)
    const sizes = await Promise.all(clusters.map(async (c) => ({ c, n: (await api.getSuggestions({ runId, cluster: c, limit: 50, threshold: -1 })).suggestions.length })));
    const c = sizes.sort((a, b) => b.n - a.n)[0]!.c;
    const before = await api.getSuggestions({ runId, cluster: c, limit: 50, threshold: -1 });
    expect(before.suggestions.length).toBeGreaterThan(EXPLORE_OFFERS);
    const r = await api.learn({ runId });
    expect(r.offerMargin).toBeNull();
    const after = await api.getSuggestions({ runId, cluster: c, limit: 50, threshold: -1 });
    expect(after.margin).toBe(0.05);
    expect(after.suggestions.map((s) => s.item)).toEqual(before.suggestions.slice(0, EXPLORE_OFFERS).map((s) => s.item));
    // a margin given: the queue as asked
    const given = await api.getSuggestions({ runId, cluster: c, limit: 50, threshold: -1, margin: 0.05 });
    expect(given.suggestions.map((s) => s.item)).toEqual(before.suggestions.map((s) => s.item));
  });

  /** what the user did with the offers so far, at the margins they were offered at */
  const outcomes: OfferOutcome[] = [];

  it('offers mostly rejected: after learn the queue offers only above the margins rejected; a given margin still wins', async () => {
    // the user looks at wide queues (every margin) of the first named groups and rejects what they offer
    const seen: number[] = [];
    for (const c of clusters.slice(0, 4)) {
      const wide = await api.getSuggestions({ runId, cluster: c, limit: 30, margin: 0 });
      if (!wide.suggestions.length) continue;
      for (const s of wide.suggestions) if (s.margin !== null) { seen.push(s.margin); outcomes.push({ margin: s.margin, accepted: false }); }
      // through the API's rejectSuggestions, or the edit the Label view makes (Enter): both are outcomes
      const items = wide.suggestions.map((s) => s.item);
      if (c % 2) await api.rejectSuggestions({ runId, cluster: c, items });
      else await api.editRun({ runId, op: { type: 'reject-suggestions', cluster: c, items } });
    }
    expect(seen.length).toBeGreaterThanOrEqual(OFFER_FLOOR_MIN_OUTCOMES);
    // before learning: the queue's own margin
    expect((await api.getSuggestions({ runId, cluster: clusters[5], limit: 30 })).margin).toBe(0.05);
    const r = await api.learn({ runId });
    expect(r.used).toBe(false);
    expect(r.offerMargin).not.toBeNull();
    expect(r.offerMargin!).toBeGreaterThan(Math.max(...seen));
    // every queue of the run now offers from there (the report says so), nothing closer
    for (const c of clusters) {
      const q = await api.getSuggestions({ runId, cluster: c, limit: 50 });
      expect(q.margin).toBe(r.offerMargin);
      for (const s of q.suggestions) if (s.margin !== null) expect(s.margin).toBeGreaterThanOrEqual(r.offerMargin!);
    }
    // a margin given by the caller is used as given
    const given = await api.getSuggestions({ runId, cluster: clusters[5], limit: 50, margin: 0 });
    expect(given.margin).toBe(0);
    expect(given.suggestions.length).toBeGreaterThan(0);
  });

  /**
   * The margin `learn` must report after these outcomes: the model's own metric's fit (all offers here were made in
   * it); none where the training made a learned metric the queues use (the set is made so that one can be: nobody
   * judged an offer of it yet, so its queues offer their best few instead)
   */
  const fitTo = (r: { used: boolean }, list: OfferOutcome[]): number | null => {
    if (r.used) return null;
    const w = offerFloor(list, { rate: OFFER_ACCEPT_RATE });
    return w !== null && w > 0.05 ? w : null;
  };
  /** the outcomes of the last confirming edit (an undo takes them back) */
  let lastEdit: OfferOutcome[] = [];
  let fitted: number | null = null;

  it('confirmed offers count as the rejected ones do: the margin is the one fitted to all of them; decided items are not offered again', async () => {
    const got: number[] = [];
    for (const c of clusters.slice(4)) {
      const wide = await api.getSuggestions({ runId, cluster: c, limit: 40, margin: 0 });
      const items = wide.suggestions.map((s) => s.item).filter((it) => !got.includes(it));
      if (!items.length) continue;
      lastEdit = wide.suggestions.filter((s) => items.includes(s.item) && s.margin !== null).map((s) => ({ margin: s.margin!, accepted: true }));
      outcomes.push(...lastEdit);
      if (c % 2) await api.confirmSuggestions({ runId, cluster: c, items });
      else await api.editRun({ runId, op: { type: 'confirm', cluster: c, items } });
      got.push(...items);
    }
    expect(got.length).toBeGreaterThanOrEqual(OFFER_FLOOR_MIN_OUTCOMES);
    const r = await api.learn({ runId });
    expect(r.offerMargin).toBe(fitTo(r, outcomes));
    fitted = r.offerMargin;
    expect((await api.getSuggestions({ runId, cluster: clusters[0], limit: 5 })).margin).toBe(r.offerMargin ?? 0.05);
    // items confirmed are not offered to their group again at any margin
    for (const c of clusters.slice(4)) {
      const again = await api.getSuggestions({ runId, cluster: c, limit: 200, margin: 0 });
      const mine = new Set((await api.getClusterMembers({ runId, cluster: c, offset: 0, limit: 1000 })).items.map((m) => m.item));
      for (const s of again.suggestions) expect(mine.has(s.item)).toBe(false);
    }
  });

  it('the outcomes are kept with their edits in the library: a library opened again offers from the same margin; undo takes an edit\'s outcomes back', async () => {
    await svc.close();
    svc = CoreService.open(lib);
    api = checkedApi(svc);
    expect((await api.getSuggestions({ runId, cluster: clusters[0], limit: 5 })).margin).toBe(fitted ?? 0.05);
    // the last confirmation undone: its outcomes leave the fit at the next training
    expect(lastEdit.length).toBeGreaterThan(0);
    const stored = () => offerOutcomesRepo(svc.lib.db).ofRun(runId).map((o) => ({ margin: o.margin, accepted: o.accepted }));
    expect(stored()).toEqual(outcomes);
    await api.undo({ runId });
    const left = outcomes.slice(0, outcomes.length - lastEdit.length);
    expect(stored()).toEqual(left);
    const r = await api.learn({ runId });
    expect(r.offerMargin).toBe(fitTo(r, left));
    // and redo brings them back
    await api.redo({ runId });
    expect(stored()).toEqual(outcomes);
    const again = await api.learn({ runId });
    expect(again.offerMargin).toBe(fitTo(again, outcomes));
  });
});
