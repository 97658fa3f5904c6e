/** Clustering a model's embeddings in the library, or a bare matrix (no library), in a worker thread. */
import type { ClusterOutput, ClusterParams } from '../../algo/cluster/run.ts';
import { badArg } from '../../common/errors.ts';
import type { JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import { itemSources, loadMatrix } from '../embed/store.ts';
import { runTask } from '../workers/pool.ts';
import type { ClusterTaskPayload } from './cluster-task.ts';
import { labelsFromFile, labelsFromFolders, labelsFromLibrary } from './labels.ts';
import { getRun, storeRun, type RunInfo } from './runs.ts';
import { carryOver } from '../curation/edits.ts';

export type { ClusterSpec, ClusterReport } from '../../common/jobs.ts';
import type { ClusterSpec, ClusterReport, PresetRecord } from '../../common/jobs.ts';

export function summarize(out: ClusterOutput): { top10: ClusterReport['top10']; tail10: ClusterReport['tail10'] } {
  return {
    top10: out.report.after.top.map((c) => ({ cluster: c.id, size: c.size })),
    tail10: out.report.after.tail.map((c) => ({ cluster: c.id, size: c.size })),
  };
}

export async function clusterJob(lib: Library, spec: ClusterSpec, ctx: JobContext): Promise<ClusterReport> {
  if (!spec.model) throw badArg('model', 'name the embeddings to cluster (e.g. photo or face)');
  ctx.progress('load', 0, 1);
  const m = loadMatrix(lib.db, spec.model);
  let labelsTrue: Int32Array | null = null;
  if (spec.labels) {
    const t = spec.labels === 'folders' ? labelsFromFolders(lib.db, m.model.kind, m.ids)
      : spec.labels === 'imported' ? labelsFromLibrary(lib.db, m.model.kind, m.ids)
        : labelsFromFile(lib.db, m.model.kind, m.ids, spec.labels);
    labelsTrue = t.labels;
  }
  const sourceIds = spec.params.postprocess?.dedupeSources ? itemSources(lib.db, m.model.kind, m.ids).photoIds : null;
  ctx.progress('load', 1, 1);
  const payload: ClusterTaskPayload = {
    X: m.X, n: m.n, d: m.d, params: spec.params, labelsTrue, sourceIds,
    stream: spec.params.algo === 'minibatch-kmeans' ? { library: lib.path, model: spec.model, ids: m.ids } : null,
    peopleLink: spec.preset?.linkFrom !== undefined ? { from: spec.preset.linkFrom } : null,
  };
  let loss: number[] | undefined;
  const out = await runTask('cluster', payload, {
    signal: ctx.signal,
    onProgress: (s, d, t, x) => { const l = (x as { loss?: number[] } | undefined)?.loss; if (l) loss = l; ctx.progress(s, d, t, loss ? { loss } : undefined); },
  });
  ctx.checkCancelled();
  // what the preset chose and why, with the linking similarity found on the data (people)
  let params = spec.params;
  if (spec.preset) {
    const link = out.record.peopleLink as (PresetRecord['link'] & { eps: number }) | undefined;
    const preset: PresetRecord = { ...spec.preset, why: [...spec.preset.why] };
    if (link) {
      params = { ...params, eps: link.eps };
      const { eps: _e, ...l } = link;
      preset.link = l;
      preset.chose = { ...preset.chose, eps: link.eps };
      preset.why.push(`linking similarity ${link.similarity}: the least strict similarity >= ${link.from} at which the number of groups of two or more (${link.maxGroups} at most) stops growing`);
      delete out.record.peopleLink;
    }
    out.record.preset = preset;
  }
  const runId = storeRun(lib.db, { model: spec.model, kind: m.model.kind, params, out, ids: m.ids });
  // the user's names and curated groups follow their members into the new run
  const carried = carryOver(lib.db, runId);
  if (carried.from !== null) {
    const rec = JSON.parse(lib.db.prepare('SELECT record FROM runs WHERE id = ?').pluck().get(runId) as string);
    lib.db.prepare('UPDATE runs SET record = ? WHERE id = ?').run(JSON.stringify({ ...rec, carriedNames: carried }), runId);
  }
  const run = getRun(lib.db, runId);
  return { ...run, runId, ...summarize(out) };
}

/** Matrix mode: cluster the rows of X with no library at all. */
export async function clusterMatrix(X: Float32Array, n: number, d: number, params: ClusterParams, labelsTrue: Int32Array | null,
  opts: { signal?: AbortSignal; onProgress?: (stage: string, done: number, total: number) => void; peopleLink?: { from: number } | null } = {}): Promise<ClusterOutput> {
  if (labelsTrue && labelsTrue.length !== n) throw badArg('labels', `${labelsTrue.length} labels for ${n} rows`);
  return runTask('cluster', { X, n, d, params, labelsTrue, sourceIds: null, stream: null, peopleLink: opts.peopleLink ?? null } satisfies ClusterTaskPayload, opts);
}
