/**
 * Embeddings: computing and importing them, and the reads over a model's whole matrix (similar items, near
 * duplicates, comparisons, parameter sweeps) from the revision-keyed matrix cache.
 */
import type { EmbedOptions, ExportEmbeddingsReport, ImportEmbeddingsReport, SweepOptions, CompareReport, NearDuplicateGroup, SimilarOptions } from '../../common/api.ts';
import { AppError, badArg } from '../../common/errors.ts';
import type { ItemKind, ItemView } from '../../common/types.ts';
import type { JobInfo } from '../../common/jobs.ts';
import { readSnapshot } from '../jobs.ts';
import { embedJob } from '../embed/embed-job.ts';
import { exportEmbeddings, importEmbeddings } from '../embed/io.ts';
import { getRun } from '../store/runs.ts';
import { trueLabels } from '../cluster/labels.ts';
import { readSettings } from '../store/settings.ts';
import { itemViews } from '../curation/items.ts';
import { runTask } from '../workers/pool.ts';
import { bestOf, itemQualities, KEEP_RULE } from '../curation/neardup.ts';
import { rowDot } from '../../algo/neardup.ts';
import type { AssignReport } from '../../common/types.ts';
import { assignmentsOf } from '../store/runs.ts';
import { DomainService, type ServiceContext } from './context.ts';

export class EmbeddingsService extends DomainService {
  constructor(ctx: ServiceContext, private readonly assigner: { autoAssign(model: string): Promise<AssignReport | null> }) { super(ctx); }

  async embed(o: EmbedOptions): Promise<JobInfo<'embed'>> {
    // the library's face settings : its quality floor (an option given here wins) and folders without faces
    const st = readSettings(this.lib.db);
    const minQuality = o.minFaceQuality ?? st.faceMinQuality ?? undefined;
    const face = { minFaceSize: o.minFaceSize, scoreThreshold: o.scoreThreshold, minQuality, ...(st.faceExcludedFolders.length ? { excludeFolders: st.faceExcludedFolders } : {}) };
    const spec = { model: o.model, batch: o.batch, workers: o.workers, face };
    return this.jobs.start('embed', spec, async (ctx) => {
      const r = await embedJob(this.lib, spec, ctx);
      // assign after embed (a library setting): the new items join the newest run of the model
      const assigned = r.processed > 0 ? await this.assigner.autoAssign(r.model) : null;
      return assigned ? { ...r, assigned } : r;
    });
  }

  async importEmbeddings({ npy: npyPath, ids: idsPath, model }: { npy: string; ids: string; model: string }): Promise<ImportEmbeddingsReport> {
    const r = importEmbeddings(this.lib, npyPath, idsPath, model);
    this.emit({ type: 'library', info: this.lib.info() });
    return r;
  }

  async exportEmbeddings({ model, out: outPath, ids: idsPath, force }: { model: string; out: string; ids?: string; force?: boolean }): Promise<ExportEmbeddingsReport> {
    return exportEmbeddings(this.lib, model, outPath, idsPath ?? undefined, { force: force === true });
  }

  async similar({ model, item, items, k = 24, combine = 'mean', runId }: SimilarOptions): Promise<Array<ItemView & { similarity: number }>> {
    const refs = items ?? (item ? [item] : []);
    const m = await this.loadMatrix(model);
    m.rowOf ??= new Map(Array.from(m.ids, (x, i) => [x, i]));
    const rows = refs.map((it, i) => {
      const name = items ? `items.${i}` : 'item';
      const id = it.id;
      if (it.kind !== m.kind) throw badArg(name, `${it.kind} ${id} is not a ${m.kind}: model ${model} embeds ${m.kind}s`);
      const row = m.rowOf!.get(id) ?? -1;
      if (row < 0) throw new AppError('NOT_FOUND', `${it.kind} ${id} has no ${model} embedding`);
      return row;
    });
    if (runId !== undefined) getRun(this.lib.db, runId);
    const many = items !== undefined;
    const kk = Math.min(k, m.n - new Set(rows).size);
    if (kk < 1) return [];
    const params = many ? { model, item: refs[0], k: kk, selection: refs.length, combine } : { model, item: refs[0], k: kk };
    return this.readJob('similar', params, async (ctx) => {
      const X = await this.normalized(m);
      const r = await runTask('similar', { X, n: m.n, d: m.d, row: rows[0], k: kk, normalized: true, ...(many ? { rows, combine } : {}) }, { signal: ctx.signal });
      ctx.checkCancelled();
      const views = itemViews(this.lib.db, m.kind, Array.from(r.indices, (i) => m.ids[i]));
      const sim = new Map(Array.from(r.indices, (i, t) => [m.ids[i], r.sims[t]]));
      // with a run: each result's cluster there (null for an item the run does not have)
      const inRun = runId === undefined ? null : assignmentsOf(this.lib.db, runId, views.map((v) => v.item));
      return views.map((v) => ({ ...v, ...(inRun ? { cluster: inRun.get(v.item)?.c ?? null, sim: inRun.get(v.item)?.s ?? null } : {}), similarity: sim.get(v.item)! }));
    }, (v) => ({ items: v.length }));
  }

  async nearDuplicates({ model, threshold = 0.95, limit = 500 }: { model: string; threshold?: number; limit?: number }): Promise<NearDuplicateGroup[]> {
    const m = await this.loadMatrix(model);
    return this.readJob('neardup', { model, threshold }, async (ctx) => {
      const X = await this.normalized(m);
      const r = await runTask('neardup', { X, n: m.n, d: m.d, threshold, normalized: true }, { signal: ctx.signal, onProgress: (s, d, t) => ctx.progress(s, d, t) });
      ctx.checkCancelled();
      const groups = r.groups.slice(0, limit);
      const views = readSnapshot(this.lib.db, () => groups.map((g) => itemViews(this.lib.db, m.kind, g.rows.map((i) => m.ids[i]))));
      const out: NearDuplicateGroup[] = [];
      for (let gi = 0; gi < groups.length; gi++) {
        if ((gi & 15) === 0) ctx.checkCancelled();
        const items = views[gi];
        if (items.length < 2) continue; // removed meanwhile
        const best = bestOf(await itemQualities(this.lib, m.kind, items.map((v) => v.item)));
        out.push({ items, minSim: groups[gi].minSim, representative: m.ids[groups[gi].representative], keep: best.item, keepRule: KEEP_RULE });
      }
      return out;
    }, (v) => ({ groups: v.length }));
  }

  async compareItems({ kind, ids, model }: { kind: ItemKind; ids: number[]; model?: string }): Promise<CompareReport> {
    const items = await itemQualities(this.lib, kind, ids);
    let sims: number[][] | null = null;
    if (model !== undefined) {
      const m = await this.loadMatrix(model);
      if (m.kind !== kind) throw badArg('model', `model ${model} embeds ${m.kind}s, not ${kind}s`);
      m.rowOf ??= new Map(Array.from(m.ids, (x, i) => [x, i]));
      const X = await this.normalized(m);
      const rows = ids.map((id) => {
        const r = m.rowOf!.get(id);
        if (r === undefined) throw new AppError('NOT_FOUND', `${kind} ${id} has no ${model} embedding`);
        return r;
      });
      sims = rows.map((a) => rows.map((b) => Math.round(rowDot(X, m.d, a, b) * 1e6) / 1e6));
    }
    return { items, best: bestOf(items).item, rule: KEEP_RULE, sims };
  }

  async sweep({ model, kind, values, space = 'umap', labels, ...options }: SweepOptions): Promise<JobInfo<'sweep'>> {
    const m = await this.loadMatrix(model);
    // known labels rank the sweep by agreement with them (read before the job starts: a bad labels file is refused at once)
    const t = labels ? trueLabels(this.lib.db, m.kind, m.ids, labels) : null;
    if (t && t.names.length < 2) throw badArg('labels', `${labels} names ${t.names.length} class${t.names.length === 1 ? '' : 'es'} among the ${m.n} ${m.kind}s of ${model}; ranking a sweep by labels needs at least 2`);
    const used = t ? { source: labels!, known: t.known, classes: t.names.length } : undefined;
    return this.jobs.start('sweep', { model, kind, values, options: labels ? { ...options, labels } : options }, async (ctx) => {
      const r = await runTask('sweep', { X: m.X, n: m.n, d: m.d, kind, values, space, ...options, labelsTrue: t?.labels ?? null }, { signal: ctx.signal, onProgress: (s, d, t) => ctx.progress(s, d, t) });
      return used ? { model, kind, ...r, labels: used } : { model, kind, ...r };
    });
  }
}
