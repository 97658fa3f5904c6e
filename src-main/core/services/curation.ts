/**
 * Curation of a run: edits with undo/redo and history, keeping the best of near duplicates (files to the trash and
 * back), and assigning new items to a run's groups.
 */
import type { ItemStatesReport, RunRef } from '../../common/api.ts';
import { AppError, badArg } from '../../common/errors.ts';
import type { EditOp, EditResult, HistoryInfo } from '../../common/types.ts';
import { readSnapshot } from '../jobs.ts';
import type { AssignReport } from '../../common/types.ts';
import { getRun } from '../store/runs.ts';
import { applyEdit, history, redo, runItemStates, undo } from '../curation/edits.ts';
import { assignRun, type LearnedMap } from '../curation/assign.ts';
import type { ReclusterOptions, ReclusterPlan } from '../curation/recluster.ts';
import { readSettings } from '../store/settings.ts';
import { blobVec, getModel } from '../store/embeddings.ts';
import { runTask } from '../workers/pool.ts';
import { bestOf, itemQualities, KEEP_RULE } from '../curation/neardup.ts';
import { moveToTrash, restoreFromTrash, type Trashed } from '../curation/trash.ts';
import { checkTrashable } from '../curation/trash-guard.ts';
import { clusterItemIds, newestRunOf, runAssignments, runHasItem } from '../store/runs.ts';
import { vectorsOf } from '../store/embeddings.ts';
import { photoPath } from '../store/photos.ts';
import { DomainService, type ServiceContext } from './context.ts';

export class CurationService extends DomainService {
  /**
   * `metric`: the model's learned metric, when one is used (assign compares through it); `reclusterPlan`: where a
   * 'recluster' edit moves the undecided items (made from the run's queues in the learned metric; refused without one)
   */
  constructor(
    ctx: ServiceContext,
    private readonly metric: (model: string) => LearnedMap | null = () => null,
    private readonly reclusterPlan: (runId: number, o: ReclusterOptions, signal: AbortSignal) => Promise<ReclusterPlan> = async () => { throw new AppError('CONFLICT', 'no learned metric here: re-clustering needs one'); },
  ) { super(ctx); }

  async editRun({ runId, op }: RunRef & { op: EditOp }): Promise<EditResult> {
    let split: { items: number[]; labels: Int32Array } | undefined;
    if (op.type === 'split') {
      // the members and their vectors from one snapshot (never half of another edit)
      const { items, X, d } = readSnapshot(this.lib.db, () => {
        const run = getRun(this.lib.db, runId);
        const items = clusterItemIds(this.lib.db, runId, op.cluster);
        if (items.length < 2) throw new AppError('CONFLICT', `cluster ${op.cluster} has ${items.length} member(s): nothing to split`);
        const d = getModel(this.lib.db, run.model).dim;
        return { items, X: vectorsOf(this.lib.db, run.model, items, d, { shared: true, strict: true }), d };
      });
      const k = op.k ?? 2;
      if (!Number.isInteger(k) || k < 2 || k > items.length) throw badArg('k', `split into 2..${items.length} parts, got ${k}`);
      const params = op.algo === 'hdbscan'
        ? { algo: 'hdbscan' as const, minClusterSize: Math.max(2, Math.min(5, Math.floor(items.length / 4))) }
        : { algo: 'kmeans' as const, k, nInit: 3 };
      // a cancellable read job (cancelJob): the sub-clustering runs in a pooled worker
      const labels = await this.readJob('split', { runId, cluster: op.cluster, k, algo: params.algo }, async (ctx) => {
        const out = await runTask('cluster', { X, n: items.length, d, params, labelsTrue: null, sourceIds: null, stream: null }, { signal: ctx.signal, onProgress: (s, dn, t) => ctx.progress(s, dn, t) });
        return out.labels;
      }, (l) => ({ members: l.length }));
      split = { items, labels };
    }
    let recluster: ReclusterPlan | undefined;
    if (op.type === 'recluster') {
      getRun(this.lib.db, runId);
      // a cancellable read job (cancelJob): the plan from the queues in the learned metric, the regrouping in a worker
      recluster = await this.readJob('recluster', { runId }, (ctx) => this.reclusterPlan(runId, { threshold: op.threshold, margin: op.margin }, ctx.signal),
        (p) => ({ moved: p.moves.length, regrouped: p.regrouped.length }));
    }
    let r = applyEdit(this.lib.db, runId, op, split, recluster);
    if (recluster) r = { ...r, recluster: { moved: recluster.moves.length, regrouped: recluster.regrouped.length } };
    this.changed(runId, 'edit', r);
    return r;
  }

  async undo({ runId }: RunRef): Promise<EditResult | null> {
    let r = undo(this.lib.db, runId);
    // a dedupe that moved files to the trash in this session: they come back with it
    const moved = r && r.op.type === 'dedupe' ? this.trashed.get(r.editId) : undefined;
    if (r && moved) {
      const restored: string[] = [], problems: string[] = [];
      for (const t of moved) {
        try { restoreFromTrash(t); restored.push(t.original); } catch (e) { problems.push((e as Error).message); }
      }
      this.trashed.delete(r.editId);
      r = { ...r, files: { trashed: [], restored, problems } };
    }
    this.changed(runId, 'undo', r);
    return r;
  }

  async redo({ runId }: RunRef): Promise<EditResult | null> {
    let r = redo(this.lib.db, runId);
    if (r && r.op.type === 'dedupe' && r.op.trash) {
      const trashed: string[] = [], problems: string[] = [], moved: Trashed[] = [];
      for (const g of r.op.groups) for (const id of g.reject) {
        try { const t = this.trashPhotos([id])[0]; moved.push(t); trashed.push(t.original); } catch (e) { problems.push((e as Error).message); }
      }
      this.trashed.set(r.editId, moved);
      r = { ...r, files: { trashed, restored: [], problems } };
    }
    this.changed(runId, 'redo', r);
    return r;
  }

  async getHistory({ runId }: RunRef): Promise<HistoryInfo> {
    getRun(this.lib.db, runId);
    return history(this.lib.db, runId);
  }

  async getItemStates({ runId }: RunRef): Promise<ItemStatesReport> {
    // the states and the members from one snapshot (never half of an edit)
    return readSnapshot(this.lib.db, () => {
      const { decided } = runItemStates(this.lib.db, runId); // NOT_FOUND for a run that does not exist
      const byHow: Record<string, number> = {};
      for (const { how } of decided.values()) byHow[how] = (byHow[how] ?? 0) + 1;
      const members = runAssignments(this.lib.db, runId).ids.length;
      return { runId, decided: decided.size, placed: members - decided.size, byHow };
    });
  }

  async keepBestDuplicates({ runId, groups, trash = false }: RunRef & { groups: Array<{ items: number[]; keep?: number }>; trash?: boolean }): Promise<EditResult & { kept: number[]; rejected: number[]; rule: string }> {
    const run = getRun(this.lib.db, runId);
    if (trash && run.kind !== 'photo') throw badArg('trash', `run ${runId} groups faces: only whole photos go to the trash (reject the faces without trash)`);
    const plan: Array<{ keep: number; reject: number[] }> = [];
    for (const [gi, g] of groups.entries()) {
      const ids = [...new Set(g.items)];
      if (ids.length < 2) throw badArg(`groups.${gi}.items`, 'a group has at least two different items');
      if (g.keep !== undefined && !ids.includes(g.keep)) throw badArg(`groups.${gi}.keep`, `item ${g.keep} is not in the group`);
      const keep = g.keep ?? bestOf(await itemQualities(this.lib, run.kind, ids)).item;
      plan.push({ keep, reject: ids.filter((x) => x !== keep) });
    }
    const op: EditOp = { type: 'dedupe', groups: plan, ...(trash ? { trash: true } : {}) };
    const rejected = plan.flatMap((g) => g.reject);
    let moved: Trashed[] = [];
    if (trash) {
      // every item checked against the run first (nothing goes to the trash for an edit that will be refused)
      readSnapshot(this.lib.db, () => { for (const it of [...plan.map((g) => g.keep), ...rejected]) {
        if (!runHasItem(this.lib.db, runId, it)) throw new AppError('NOT_FOUND', `item ${it} is not in run ${runId}`);
      } });
      moved = this.trashPhotos(rejected);
    }
    let r: EditResult;
    try {
      r = applyEdit(this.lib.db, runId, op);
    } catch (e) {
      for (const t of moved.reverse()) try { restoreFromTrash(t); } catch { /* reported by the error below */ }
      throw e;
    }
    if (trash) {
      this.trashed.set(r.editId, moved);
      r = { ...r, files: { trashed: moved.map((t) => t.original), restored: [], problems: [] } };
    }
    this.changed(runId, 'edit', r);
    return { ...r, kept: plan.map((g) => g.keep), rejected, rule: KEEP_RULE };
  }

  /** Files the 'dedupe' edits of this session moved to the trash, by edit id (undo puts them back while the app runs). */
  private trashed = new Map<number, Trashed[]>();

  /** Moves the photos' files to the trash, all or none (a failure puts back the ones already moved). */
  private trashPhotos(photoIds: number[]): Trashed[] {
    // only the files scanned, inside the library's folders (identity: size + content hash; curation/trash-guard.ts)
    const paths = checkTrashable(this.lib.db, photoIds);
    const moved: Trashed[] = [];
    try {
      for (const p of paths) moved.push(moveToTrash(p));
    } catch (e) {
      for (const t of moved.reverse()) try { restoreFromTrash(t); } catch { /* left in the trash, restorable from the desktop */ }
      throw e;
    }
    return moved;
  }

  async assign({ runId, threshold, margin }: RunRef & { threshold?: number; margin?: number }): Promise<AssignReport> {
    const r = await assignRun(this.lib.db, runId, { threshold, margin, metric: this.metric(getRun(this.lib.db, runId).model) });
    if (r.editId !== null) {
      this.emit({ type: 'run', runId, change: {
        action: 'edit', editId: r.editId, description: `assign ${r.assigned} new item${r.assigned === 1 ? '' : 's'} to ${r.groups} group${r.groups === 1 ? '' : 's'}`,
        clusters: r.joined.map((j) => j.cluster) } });
    }
    return r;
  }

  /** After an embed with assign-after-embed on: the new items join the newest run of the model (an undoable edit). */
  async autoAssign(model: string): Promise<AssignReport | null> {
    if (!readSettings(this.lib.db).autoAssign) return null;
    const runId = newestRunOf(this.lib.db, model);
    if (runId === undefined) return null;
    return this.assign({ runId });
  }
}
