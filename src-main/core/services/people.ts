/**
 * People of a face run: the person list, suggestions (with the per-run suggestion index it keeps up to date after
 * every edit), merge suggestions, splits, "not a face" and faces drawn by hand.
 */
import type { RunRef } from '../../common/api.ts';
import { AppError, badArg } from '../../common/errors.ts';
import type { EditOp, EditResult } from '../../common/types.ts';
import { readSnapshot } from '../jobs.ts';
import { getRun } from '../store/runs.ts';
import { applyEdit } from '../curation/edits.ts';
import { blobVec, getModel } from '../store/embeddings.ts';
import { runTask } from '../workers/pool.ts';
import type { ApiArgs, PeopleQuery, SuggestionQuery } from '../../common/api.ts';
import type { AddFaceReport, MergeSuggestionReport, PersonRow, PersonSuggestion, SplitPreview, SuggestionReport, UnknownGroupsReport } from '../../common/types.ts';
import { listPeople, mergeSuggestions } from '../curation/people.ts';
import { unknownGroups } from '../curation/unknown-groups.ts';
import { buildIndex, indexKey, suggest, suggestPersonFor, type SuggestionIndex } from '../curation/suggest.ts';
import { addManualFace } from '../curation/add-face.ts';
import { planRecluster, type ReclusterOptions, type ReclusterPlan } from '../curation/recluster.ts';
import { applyAssign } from '../curation/edits.ts';
import { clusterItemIds, runModel } from '../store/runs.ts';
import { vectorsOf } from '../store/embeddings.ts';
import { DomainService, type CachedMatrix, type ServiceContext } from './context.ts';
import type { LearnService } from './learn.ts';

export class PeopleService extends DomainService {
  constructor(ctx: ServiceContext, private readonly learned: LearnService) {
    super(ctx);
    ctx.onRunEdited((runId, clusters) => this.suggestChanged(runId, clusters));
  }

  /** Waits for the suggestion indexes being built (the library closes). */
  async settle(): Promise<void> {
    await Promise.all([...this.suggestIdx.values()].map((p) => p.catch(() => undefined)));
  }

  async listPeople(o: PeopleQuery): Promise<PersonRow[]> {
    const rows = listPeople(this.lib.db, o?.runId, { search: o.search, sort: o.sort, includeHidden: o.includeHidden });
    // a UI is attached (it listens to events): the queues open fast (a one-shot CLI call builds nothing it won't use)
    if (this.listeners.size && !this.suggestIdx.has(o.runId)) setImmediate(() => this.warmSuggestions(o.runId));
    return rows;
  }

  /** One edit through edits.ts, with the run's change event (every people action). */
  private edit(runId: number, op: EditOp): EditResult {
    const r = applyEdit(this.lib.db, runId, op);
    this.changed(runId, 'edit', r);
    return r;
  }

  async setPerson({ runId, cluster, hidden, avatar }: RunRef & { cluster: number; hidden?: boolean; avatar?: number | null }): Promise<EditResult> {
    if (hidden === undefined && avatar === undefined) throw badArg('hidden', 'give hidden and/or avatar');
    const op: EditOp = { type: 'person', cluster: cluster };
    if (hidden !== undefined) op.hidden = hidden;
    if (avatar !== undefined) op.avatar = avatar;
    return this.edit(runId, op);
  }

  /** Suggestion indexes of runs (one per run, valid while the run's edits and its model's embeddings are unchanged). */
  private suggestIdx = new Map<number, Promise<SuggestionIndex>>();

  /** The suggestion index of a run as it is now (built once per state of the run). */
  async suggestionIndex(runId: number): Promise<SuggestionIndex> {
    const cur = this.suggestIdx.get(runId);
    const prev = cur ? await cur.catch(() => null) : null;
    const key = indexKey(this.lib.db, runId);
    const gen = this.suggestGen.get(runId) ?? 0;
    const model0 = prev?.model ?? runModel(this.lib.db, runId);
    const version = model0 === null ? 0 : this.learned.metricVersion(model0);
    if (prev && prev.key === key && this.suggestBuiltGen.get(runId) === gen && prev.learned === version) return prev;
    const again = this.suggestIdx.get(runId);
    if (again !== cur && again) return this.suggestionIndex(runId); // another call started the refresh meanwhile
    // brought up to date from the previous state: only what the edits changed is read and scored again (the clusters
    // the edits since named; null: unknown, everything is read)
    const hint = this.suggestHint.has(runId) ? this.suggestHint.get(runId)! : null;
    this.suggestHint.set(runId, new Set());
    this.suggestBuiltGen.set(runId, this.suggestGen.get(runId) ?? 0);
    // the model's vectors from the matrix cache: a new index reads every candidate and prototype (one load of the
    // matrix costs what that scan costs, and later calls share it); a refresh of a few persons only when it is cached
    const model = prev?.model ?? runModel(this.lib.db, runId);
    let cached: CachedMatrix | null = null;
    // a learned metric for the model: the vectors through it (an index made in another metric starts over)
    const learned = version && model !== null ? await this.learned.metricVectors(model) : null;
    if (this.suggestIdx.get(runId) !== cur) return this.suggestionIndex(runId);
    try { if (!learned && model !== null && (!prev || this.ctx.matrices.isCached(model))) cached = this.matrix(model); } catch { /* no embeddings: read as before */ }
    const src = learned ? { ids: learned.ids, X: learned.X, d: learned.d, learned: learned.version } : cached;
    const p = buildIndex(this.lib.db, runId, prev && prev.learned === (learned?.version ?? 0) ? prev : null, hint, src);
    this.suggestIdx.set(runId, p);
    if (this.suggestIdx.size > 4) this.suggestIdx.delete(this.suggestIdx.keys().next().value as number);
    p.catch(() => { if (this.suggestIdx.get(runId) === p) this.suggestIdx.delete(runId); });
    return p;
  }

  /** Clusters changed by edits since each run's index was last brought up to date (absent: unknown, read in full). */
  private suggestHint = new Map<number, Set<number>>();

  /** Edits seen per run, and as of which the run's latest index was started (an index is current only for both). */
  private suggestGen = new Map<number, number>();

  private suggestBuiltGen = new Map<number, number>();

  /** After an edit: note what changed and bring a run's index up to date at once, so the next call finds it ready. */
  private suggestChanged(runId: number, clusters: number[] | null): void {
    this.suggestGen.set(runId, (this.suggestGen.get(runId) ?? 0) + 1);
    if (!this.suggestIdx.has(runId)) { this.suggestHint.delete(runId); return; }
    const h = this.suggestHint.get(runId);
    if (!clusters) this.suggestHint.delete(runId);
    else if (h) for (const c of clusters) h.add(c);
    setImmediate(() => this.warmSuggestions(runId));
  }

  /** Build (or bring up to date) a run's suggestion index ahead of need; errors wait for the call that needs it. */
  private warmSuggestions(runId: number): void {
    if (this.ctx.closing) return;
    try { getRun(this.lib.db, runId); } catch { return; }
    this.suggestionIndex(runId).catch(() => undefined);
  }

  /** Where a 'recluster' edit moves the run's undecided items: from its suggestion index in the learned metric (refused without one). */
  async reclusterPlan(runId: number, o: ReclusterOptions, signal?: AbortSignal): Promise<ReclusterPlan> {
    const model = getRun(this.lib.db, runId).model;
    const refuse = () => new AppError('CONFLICT', `run ${runId} has no learned metric in use for ${model}: learn first (constellate learn --run ${runId}); re-clustering needs a metric that beat the model's own on held-out decisions`);
    if (!this.learned.metricVersion(model)) throw refuse();
    const idx = await this.suggestionIndex(runId);
    if (signal?.aborted) throw new AppError('CANCELLED', 're-clustering cancelled');
    const rows = await this.learned.metricVectors(model);
    if (!rows || !idx.learned || rows.version !== idx.learned) throw refuse();
    return planRecluster(this.lib.db, idx, rows, o, signal);
  }

  async getSuggestions(o: SuggestionQuery): Promise<SuggestionReport> {
    const runId = o.runId;
    getRun(this.lib.db, runId);
    const idx = await this.suggestionIndex(runId);
    // the margin learned from what the user did with this run's offers (and a few offers only where none was judged
    // yet in a learned metric), unless a margin is given
    const tune = o.margin === undefined ? this.learned.offerTuning(runId, idx.learned > 0) : {};
    const limit = tune.cap !== undefined ? Math.min(o.limit ?? 50, tune.cap) : o.limit;
    const report = await suggest(this.lib.db, idx, o.cluster, { limit, threshold: o.threshold, margin: o.margin ?? tune.margin });
    this.learned.noteOffers(runId, o.cluster, idx.learned > 0, report.suggestions);
    return report;
  }

  async suggestPerson(o: RunRef & { item: number; threshold?: number; margin?: number }): Promise<PersonSuggestion> {
    const runId = o.runId;
    getRun(this.lib.db, runId);
    const idx = await this.suggestionIndex(runId);
    return suggestPersonFor(this.lib.db, idx, o.item, { threshold: o.threshold, margin: o.margin });
  }

  async getUnknownGroups({ runId, threshold, limit }: RunRef & { threshold?: number; limit?: number }): Promise<UnknownGroupsReport> {
    return unknownGroups(this.lib.db, runId, { threshold, limit });
  }

  async confirmSuggestions({ runId, cluster, items }: RunRef & { cluster: number; items: number[] }): Promise<EditResult> {
    return this.edit(runId, { type: 'confirm', cluster: cluster, items });
  }

  async rejectSuggestions({ runId, cluster, items }: RunRef & { cluster: number; items: number[] }): Promise<EditResult> {
    return this.edit(runId, { type: 'reject-suggestions', cluster: cluster, items });
  }

  async getMergeSuggestions({ runId, limit, threshold }: RunRef & { limit?: number; threshold?: number }): Promise<MergeSuggestionReport> {
    if (this.listeners.size && !this.suggestIdx.has(runId)) setImmediate(() => this.warmSuggestions(runId));
    return mergeSuggestions(this.lib.db, runId, { limit, threshold });
  }

  async notSamePerson({ runId, clusters }: RunRef & { clusters: [number, number] }): Promise<EditResult> {
    return this.edit(runId, { type: 'not-same', clusters: clusters });
  }

  async previewSplit({ runId, cluster, k, algo, items: brushed }: ApiArgs<'previewSplit'>): Promise<SplitPreview> {
    const { items, X, d } = readSnapshot(this.lib.db, () => {
      const run = getRun(this.lib.db, runId);
      const items = clusterItemIds(this.lib.db, runId, cluster);
      if (items.length < 2) throw new AppError('CONFLICT', `cluster ${cluster} has ${items.length} member(s): nothing to split`);
      const d = getModel(this.lib.db, run.model).dim;
      return { items, X: vectorsOf(this.lib.db, run.model, items, d, { shared: true }), d };
    });
    // the parts' figures, in a worker (curation/split-task.ts)
    const toParts = async (groups: number[][]) => (await runTask('splitParts', { X, n: items.length, d, items: Int32Array.from(items), groups })).parts;
    if (brushed) {
      const sel = new Set(brushed);
      const pos = new Map(items.map((it, i) => [it, i]));
      for (const it of sel) if (!pos.has(it)) throw badArg('items', `item ${it} is not in cluster ${cluster} of run ${runId}`);
      const inSel = items.map((_, i) => i).filter((i) => sel.has(items[i])), rest = items.map((_, i) => i).filter((i) => !sel.has(items[i]));
      if (rest.length === 0) throw badArg('items', 'the selection is the whole cluster: nothing to split off');
      return { runId, cluster, algo: 'selection', parts: await toParts([inSel, rest]) };
    }
    const kk = k ?? 2;
    if (!Number.isInteger(kk) || kk < 2 || kk > items.length) throw badArg('k', `split into 2..${items.length} parts, got ${kk}`);
    const params = algo === 'hdbscan'
      ? { algo: 'hdbscan' as const, minClusterSize: Math.max(2, Math.min(5, Math.floor(items.length / 4))) }
      : { algo: 'kmeans' as const, k: kk, nInit: 3 };
    const labels = await this.readJob('split', { runId, cluster, k: kk, algo: params.algo }, async (ctx) => {
      const out = await runTask('cluster', { X, n: items.length, d, params, labelsTrue: null, sourceIds: null, stream: null }, { signal: ctx.signal, onProgress: (st, dn, t) => ctx.progress(st, dn, t) });
      return out.labels;
    }, (l) => ({ members: l.length }));
    const byLabel = new Map<number, number[]>();
    const left: number[] = [];
    labels.forEach((l, i) => { if (l < 0) left.push(i); else { const g = byLabel.get(l) ?? []; g.push(i); byLabel.set(l, g); } });
    const groups = [...byLabel.values()].sort((a, b) => b.length - a.length || a[0] - b[0]);
    return { runId, cluster, algo: params.algo, parts: await toParts([...groups, left]) };
  }

  async applySplit({ runId, cluster, parts }: RunRef & { cluster: number; parts: Array<{ items: number[]; name?: string }> }): Promise<EditResult> {
    return this.edit(runId, { type: 'split-parts', cluster: cluster, parts: parts.map((p) => (p.name === undefined ? { items: p.items } : { items: p.items, name: p.name })) });
  }

  async markNotFace({ runId, items }: RunRef & { items: number[] }): Promise<EditResult> {
    return this.edit(runId, { type: 'not-face', items });
  }

  async addFace({ photoId, box, runId }: { photoId: number; box: [number, number, number, number]; runId?: number }): Promise<AddFaceReport> {
    if (runId !== undefined) {
      const run = getRun(this.lib.db, runId);
      if (run.kind !== 'face') throw badArg('runId', `run ${runId} is not a face run`);
    }
    const face = await addManualFace(this.lib, photoId, box);
    let editId: number | null = null;
    if (runId !== undefined) {
      const r = applyAssign(this.lib.db, runId, [face.id], [-1]);
      editId = r.editId;
      this.emit({ type: 'run', runId, change: { action: 'edit', editId: r.editId, description: `add a face drawn by hand on photo ${photoId} (unassigned)`, clusters: [-1] } });
    }
    this.emit({ type: 'library', info: this.lib.info() });
    return { face, model: 'face', runId: runId ?? null, editId };
  }
}
