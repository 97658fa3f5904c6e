/**
 * Labeling sessions that learn: `learn {runId}` trains a metric for the run's model from the user's explicit decisions
 * in a worker (core/learn/), stores it with the model in the library, and keeps the model's matrix through it for the
 * queues (the people service asks `metricVectors`). While a UI listens, it retrains in the background as decisions
 * accumulate (a quiet moment after edits, cancelled by the next edit or a close; library setting
 * `learnInBackground`), never blocking a call.
 */
import type { LearnReport, RunRef } from '../../common/api.ts';
import { AppError } from '../../common/errors.ts';
import { getRun } from '../store/runs.ts';
import { modelRevision } from '../store/embeddings.ts';
import { explicitDecisionCount, learnedMetricsRepo, offerOutcomesRepo } from '../store/learned-metrics.ts';
import { readSettings } from '../store/settings.ts';
import { config } from '../config.ts';
import { vecBlob, blobVec, getModel } from '../store/embeddings.ts';
import type { LearnedMap } from '../curation/assign.ts';
import { LEARNED_THRESHOLD } from '../curation/suggest.ts';
import { decisionsOf } from '../learn/decisions.ts';
import { offerFloor, OFFER_FLOOR_MIN_OUTCOMES, type OfferOutcome } from '../../algo/metric/offer-floor.ts';
import { DEFAULT_QUEUE_MARGIN } from '../../common/arg-schemas.ts';
import { runTask, toShared } from '../workers/pool.ts';
import { DomainService, type ServiceContext } from './context.ts';

/** A model's vectors through its learned metric (rows by ascending item id, unit rows), as the suggestion index reads them. */
export interface MetricVectors { ids: Int32Array; X: Float32Array; d: number; version: number; revision: number }

/** New explicit decisions since the last training that make a background retraining worth it. */
const RETRAIN_AFTER = 10;
/** Quiet time after the last edit before a background retraining starts. */
const QUIET_MS = 1500;
const SEED = 1;
/** Offers per queue until enough of those in its metric were judged to learn a margin (MNIST digits, 10 groups: the first round in a learned metric offered 126, 29 right). */
export const EXPLORE_OFFERS = 5;
/**
 * The share of a queue's offers that must be right where it offers: a right offer saves a move and a wrong one costs a
 * reject, and each batch costs a confirm and a reject besides, so one half is not enough (calibrated on MNIST half A,
 * 2,000 digits, and flowers: 0.5 -> 0.235 and 0.52 decisions per item, 0.6 -> 0.2035 and 0.52, 2/3 -> 0.2025 and 0.52).
 */
export const OFFER_ACCEPT_RATE = 2 / 3;

/**
 * Held-out decisions a metric must be judged on before the queues use it, and how many more of them it must get right
 * than the model's own cosine: on a handful (2 held out: 0.5 -> 1) a chance win passed, and the queues of a photo run
 * then offered 3 wrong items for each right one (flowers: 0.81 decisions per photo against 0.55 without learning).
 */
export const MIN_HELD_OUT = 20;
export const MIN_HELD_OUT_GAIN = 2;

/** Whether a metric is better than the model's own cosine on the decisions it held out, by more than chance would give. */
export function usable(m: { before: number | null; after: number | null; heldOut: number }): boolean {
  return m.before !== null && m.after !== null && m.heldOut >= MIN_HELD_OUT && (m.after - m.before) * m.heldOut >= MIN_HELD_OUT_GAIN - 1e-9;
}

export class LearnService extends DomainService {
  /** per model: its matrix through the stored metric */
  private vectors = new Map<string, Promise<MetricVectors | null>>();
  /** per run: the training in progress (at most one) */
  private training = new Map<number, { done: Promise<LearnReport>; abort: AbortController }>();
  /** per run: the decision count the last training saw */
  private trainedAt = new Map<number, number>();
  private timers = new Map<number, ReturnType<typeof setTimeout>>();
  /**
   * per run: the latest offers of each group's queue (item -> its margin, and whether a learned metric made it; what
   * the user does with them is stored with the edit, `offer_outcomes`) and the margins learned from the outcomes: one
   * for offers in the model's own metric, one for offers in a learned metric (margins of the two are not on one scale;
   * the learned ones of successive trainings are)
   */
  private offers = new Map<number, Map<number, Map<number, { margin: number; learned: boolean }>>>();
  private floors = new Map<number, { model: number | null; learned: number | null; modelOutcomes: number; learnedOutcomes: number }>();
  /** per model: every item's PCA scores under its stored start (made once per start, shared with the worker) */
  private scores = new Map<string, { revision: number; d: number; p: number; Y: Float32Array }>();

  /** `ready`: what must be done before learn answers (the run's suggestion index made again in the new metric, so a queue answers at once) */
  constructor(ctx: ServiceContext, private readonly ready: (runId: number) => Promise<unknown> = async () => undefined) {
    super(ctx);
    ctx.onRunEdited((runId, _clusters, e) => {
      // offers confirmed or rejected (the Label view's Enter, the API's confirm/rejectSuggestions): outcomes at their margins
      if (e?.action === 'edit' && (e.op.type === 'confirm' || e.op.type === 'reject-suggestions')) this.noteOutcome(runId, e.editId, e.op.cluster, e.op.items, e.op.type === 'confirm');
      this.edited(runId);
    });
  }

  async learn({ runId }: RunRef): Promise<LearnReport> {
    getRun(this.lib.db, runId);
    if (this.lib.db.readonly) throw new AppError('CONFLICT', 'the library is open read-only: a learned metric cannot be stored');
    const cur = this.training.get(runId);
    if (cur) { cur.abort.abort(); await cur.done.catch(() => undefined); }
    return this.train(runId);
  }

  /** Stops background work (the library closes). */
  async settle(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const t of this.training.values()) t.abort.abort();
    await Promise.all([...this.training.values()].map((t) => t.done.catch(() => undefined)));
  }

  /** The model's vectors through its learned metric, or null when none is stored (or it was made from other embeddings). */
  metricVectors(model: string): Promise<MetricVectors | null> {
    const stamp = learnedMetricsRepo(this.lib.db).stamp(model);
    const revision = modelRevision(this.lib.db, model) ?? -1;
    if (!stamp || stamp.modelRevision !== revision) return Promise.resolve(null);
    const cur = this.vectors.get(model);
    if (cur) {
      const p = cur.then((v) => (v && v.version === stamp.version && v.revision === revision ? v : this.loadVectors(model)));
      return p;
    }
    return this.loadVectors(model);
  }

  /**
   * The version of a model's metric the queues use (0: none, the model's own vectors), cheap: what a suggestion index
   * is keyed by. A metric is used only once it beat the model's own cosine on held-out decisions.
   */
  metricVersion(model: string): number {
    const stamp = learnedMetricsRepo(this.lib.db).stamp(model);
    return stamp && stamp.modelRevision === (modelRevision(this.lib.db, model) ?? -1) && usable(stamp) ? stamp.version : 0;
  }

  /** A queue's offers as the user sees them (their margins, to learn from what is confirmed and rejected of them). */
  noteOffers(runId: number, cluster: number, learned: boolean, offered: ReadonlyArray<{ item: number; margin: number | null }>): void {
    let byCluster = this.offers.get(runId);
    if (!byCluster) { byCluster = new Map(); this.offers.set(runId, byCluster); }
    byCluster.set(cluster, new Map(offered.filter((s) => s.margin !== null).map((s) => [s.item, { margin: s.margin!, learned }] as const)));
  }

  /** Offers of a group's latest queue confirmed (accepted) or rejected by an edit: each one an outcome at its margin, kept with the edit (undo takes it back). */
  private noteOutcome(runId: number, editId: number, cluster: number, items: readonly number[], accepted: boolean): void {
    const last = this.offers.get(runId)?.get(cluster);
    if (!last || this.lib.db.readonly) return;
    const rows: Array<OfferOutcome & { learned: boolean }> = [];
    for (const it of new Set(items)) {
      const o = last.get(it);
      if (o === undefined) continue;
      rows.push({ margin: o.margin, accepted, learned: o.learned });
      last.delete(it);
    }
    if (!rows.length || editId <= 0) return;
    try { offerOutcomesRepo(this.lib.db).add(editId, rows); } catch (e) { if (config.debug()) console.error('offer outcomes:', e); }
  }

  /** The margins learned from a run's stored outcomes (edits not undone), kept until the next training. */
  private fitFloors(runId: number) {
    const log = offerOutcomesRepo(this.lib.db).ofRun(runId);
    const inLearned = log.filter((o) => o.learned), inModel = log.filter((o) => !o.learned);
    const f = {
      model: offerFloor(inModel, { rate: OFFER_ACCEPT_RATE }), learned: offerFloor(inLearned, { rate: OFFER_ACCEPT_RATE }),
      modelOutcomes: inModel.length, learnedOutcomes: inLearned.length,
    };
    this.floors.set(runId, f);
    return f;
  }

  /**
   * How a run's queues offer once learning has run for it (empty: as they would anyway): while fewer than 8 of the
   * offers made in the metric the queue uses (the model's own, or a learned one: their margins are not on one scale)
   * were judged, at most EXPLORE_OFFERS per queue, the best first, to learn from; then from the margin where two in
   * three were right (never below the queues' own: it only holds back offers the user would mostly reject).
   */
  offerTuning(runId: number, learned: boolean): { margin?: number; cap?: number } {
    // a library opened again: learning ran for the run when its model's metric was trained on it
    let f = this.floors.get(runId);
    if (!f) {
      const run = getRun(this.lib.db, runId);
      if (learnedMetricsRepo(this.lib.db).stamp(run.model)?.runId !== runId) return {};
      f = this.fitFloors(runId);
    }
    if ((learned ? f.learnedOutcomes : f.modelOutcomes) < OFFER_FLOOR_MIN_OUTCOMES) return { cap: EXPLORE_OFFERS };
    const m = learned ? f.learned : f.model;
    return m !== null && m > DEFAULT_QUEUE_MARGIN ? { margin: m } : {};
  }

  /** The model's vectors through its learned metric for a map, when the queues use that metric (null: the model's own). */
  async mapRows(model: string): Promise<MetricVectors | null> {
    return this.metricVersion(model) ? this.metricVectors(model) : null;
  }

  /**
   * The model's stored metric as assign uses it, when it beat the model's cosine on held-out decisions: a map of any
   * vector of the model (new items embedded since included), applied in a worker.
   */
  assignMetric(model: string): LearnedMap | null {
    const row = learnedMetricsRepo(this.lib.db).get(model);
    if (!row || !usable(row) || row.d !== getModel(this.lib.db, model).dim) return null;
    const map = { mean: blobVec(row.mean, row.d, 'metric mean'), basis: blobVec(row.basis, row.p * row.d, 'metric axes'), W: blobVec(row.w, row.p * row.k, 'metric map') };
    return {
      version: row.version, k: row.k, threshold: LEARNED_THRESHOLD,
      project: (X, n) => runTask('projectMetric', { X, n, d: row.d, p: row.p, k: row.k, ...map }),
    };
  }

  private loadVectors(model: string): Promise<MetricVectors | null> {
    const p = (async (): Promise<MetricVectors | null> => {
      const row = learnedMetricsRepo(this.lib.db).get(model);
      if (!row) return null;
      const m = await this.loadMatrix(model);
      if (m.revision !== row.modelRevision || m.d !== row.d) return null;
      const Z = await runTask('projectMetric', {
        X: m.X, n: m.n, d: m.d, p: row.p, k: row.k,
        mean: blobVec(row.mean, row.d, 'metric mean'), basis: blobVec(row.basis, row.p * row.d, 'metric axes'), W: blobVec(row.w, row.p * row.k, 'metric map'),
      });
      return { ids: m.ids, X: Z, d: row.k, version: row.version, revision: row.modelRevision };
    })();
    this.vectors.set(model, p);
    p.catch(() => { if (this.vectors.get(model) === p) this.vectors.delete(model); });
    return p;
  }

  private train(runId: number): Promise<LearnReport> {
    const abort = new AbortController();
    const done = (async (): Promise<LearnReport> => {
      const t0 = performance.now();
      const db = this.lib.db;
      const run = getRun(db, runId);
      const m = await this.loadMatrix(run.model);
      const rowOf = m.rowOf ??= new Map(Array.from(m.ids, (id, i) => [id, i] as const));
      const dec = decisionsOf(db, runId, (it) => rowOf.get(it));
      const count = explicitDecisionCount(db, runId);
      const repo = learnedMetricsRepo(db);
      const stored = repo.get(run.model);
      const start = stored && stored.modelRevision === m.revision && stored.d === m.d
        ? { mean: blobVec(stored.mean, stored.d, 'metric mean'), basis: blobVec(stored.basis, stored.p * stored.d, 'metric axes'), p: stored.p, k: stored.k }
        : null;
      const kept = this.scores.get(run.model);
      const scores = start && kept && kept.revision === m.revision && kept.d === m.d && kept.p === start.p ? kept.Y : null;
      const r = await runTask('learn', {
        X: toShared(m.X), n: m.n, d: m.d, rows: dec.rows, groups: dec.groups, signs: dec.signs, start, scores, seed: SEED, heldOutShare: 0.2,
      }, { signal: abort.signal });
      if (r.scores) this.scores.set(run.model, { revision: m.revision, d: m.d, p: r.p, Y: toShared(r.scores) });
      if (abort.signal.aborted) throw new AppError('CANCELLED', 'learning cancelled');
      if (modelRevision(db, run.model) !== m.revision) throw new AppError('CONFLICT', `the ${run.model} embeddings changed while learning: learn again`);
      const version = repo.put({
        model: run.model, runId, d: m.d, p: r.p, k: r.k, mean: vecBlob(r.mean), basis: vecBlob(r.basis), w: vecBlob(r.W),
        pairs: r.pairs, heldOut: r.heldOut, before: r.before, after: r.after, modelRevision: m.revision, createdAt: Date.now(),
      });
      const vec: MetricVectors = { ids: m.ids, X: r.Z, d: r.k, version, revision: m.revision };
      // the margins the run's queues offer from, from what was confirmed and rejected of their offers so far
      this.fitFloors(runId);
      this.vectors.set(run.model, Promise.resolve(vec));
      this.trainedAt.set(runId, count);
      // the run's suggestion index made in the metric the queues now use (the learned one, or the model's when it was not better), so the next queue answers at once
      await this.ready(runId).catch(() => undefined);
      const r4 = (x: number | null) => (x === null ? null : Math.round(x * 1e4) / 1e4);
      const report: LearnReport = {
        runId, model: run.model, pairs: r.pairs, heldOut: r.heldOut, before: r4(r.before), after: r4(r.after), version, dims: r.k,
        seconds: Math.round((performance.now() - t0) / 10) / 100, used: usable(r), offerMargin: this.offerTuning(runId, usable(r)).margin ?? null,
      };
      this.emit({ type: 'run', runId });
      return report;
    })();
    const entry = { done, abort };
    this.training.set(runId, entry);
    const clear = () => { if (this.training.get(runId) === entry) this.training.delete(runId); };
    done.then(clear, clear);
    return done;
  }

  /** After an edit while a UI listens: retrain once the decisions grew enough and the user paused (the running one is cancelled). */
  private edited(runId: number): void {
    if (!this.listeners.size || this.ctx.closing || this.lib.db.readonly) return;
    const cur = this.training.get(runId);
    if (cur) cur.abort.abort();
    const t = this.timers.get(runId);
    if (t) clearTimeout(t);
    const timer = setTimeout(() => {
      this.timers.delete(runId);
      if (this.ctx.closing) return;
      try {
        const count = explicitDecisionCount(this.lib.db, runId);
        if (!readSettings(this.lib.db).learnInBackground || count - (this.trainedAt.get(runId) ?? 0) < RETRAIN_AFTER) return;
        this.train(runId).catch((e) => { if (config.debug()) console.error('background learning:', e); });
      } catch (e) { if (config.debug()) console.error('background learning:', e); }
    }, QUIET_MS);
    timer.unref?.();
    this.timers.set(runId, timer);
  }
}
