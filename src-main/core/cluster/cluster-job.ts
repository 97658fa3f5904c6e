/** Clustering a model's embeddings in the library, or a bare matrix (no library), in a worker thread. */
import type { ClusterOutput, ClusterParams } from '../../algo/cluster/run.ts';
import { badArg } from '../../common/errors.ts';
import type { JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import { itemSources, loadMatrix } from '../store/embeddings.ts';
import { runTask } from '../workers/pool.ts';
import type { ClusterTaskPayload, ClusterTaskResult } from './cluster-task.ts';
import { trueLabels } from './labels.ts';
import { getRun, heldGroupWriter, readRunRecord, recountRun, runAssignments, updateRunRecord, type RunInfo } from '../store/runs.ts';
import { storeRun } from './runs.ts';
import { carryOver, refreshClusters } from '../curation/edits.ts';
import { heldGroups, importedNames, linkGroups, notFaceIds, syncRunGroups, type HeldGroup } from '../curation/groups.ts';
import { itemStatesRepo, libraryDecisions } from '../store/item-states.ts';
import { externalScores } from '../../algo/metrics.ts';
import { identityThresholdOf } from '../models/identity.ts';

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
  const all = loadMatrix(lib.db, spec.model);
  let allLabels: Int32Array | null = null;
  if (spec.labels) {
    allLabels = trueLabels(lib.db, all.model.kind, all.ids, spec.labels).labels;
  }
  // the user's decisions are constraints: the people they decided (curated groups whole, and the decided members of
  // every other group) stay together under their names, hidden and avatars with them; only the rest is clustered
  const kind = all.model.kind;
  const decisions = libraryDecisions(lib.db, kind);
  let held: HeldGroup[] = spec.params.holdGroups === false ? [] : heldGroups(lib.db, kind, spec.model, new Set(decisions.keys()));
  // names imported before any run (label files, XMP sidecars) become people of this run
  const seeded = new Set<number>();
  if (spec.params.holdGroups !== false) {
    for (const [name, items] of importedNames(lib.db, kind, spec.model, new Set(decisions.keys()))) {
      const same = held.find((g) => g.name === name);
      if (same) same.items.push(...items); else held.push({ id: null, name, curated: false, items });
      for (const i of items) seeded.add(i);
    }
  }
  // faces the user marked "not a face" are left out of the run (they stay out of people, assignment and suggestions)
  const notFaces = kind === 'face' ? notFaceIds(lib.db) : new Set<number>();
  held = held.map((g) => ({ ...g, items: g.items.filter((i) => !notFaces.has(i)) })).filter((g) => g.items.length);
  const heldItems = new Set(held.flatMap((g) => g.items));
  const gone = all.ids.reduce((c, i) => c + (notFaces.has(i) ? 1 : 0), 0);
  // fewer than two faces left to cluster: the held ones are clustered too (the worker needs rows), then put back
  // with their people
  const reclaim = all.n - gone - heldItems.size < 2;
  const drop = new Set([...(reclaim ? [] : heldItems), ...notFaces]);
  const m = drop.size ? subset(all, drop) : { ...all, rows: null as Int32Array | null };
  const labelsTrue = allLabels && m.rows ? Int32Array.from(m.rows, (r) => allLabels![r]) : allLabels;
  // two faces of one photo are never one person, whatever the algorithm: after clustering, the one nearest the
  // cluster's centre stays and the others become noise (only photos with two or more faces change anything)
  const photos = spec.params.postprocess?.dedupeSources || kind === 'face' ? itemSources(lib.db, m.model.kind, m.ids).photoIds : null;
  const cannotLink = kind === 'face' && !!photos && new Set(photos).size < photos.length;
  const sourceIds = spec.params.postprocess?.dedupeSources || cannotLink ? photos : null;
  const taskParams: ClusterParams = cannotLink ? { ...spec.params, postprocess: { ...spec.params.postprocess, dedupeSources: true } } : spec.params;
  ctx.progress('load', 1, 1);
  const payload: ClusterTaskPayload = {
    X: m.X, n: m.n, d: m.d, params: taskParams, labelsTrue, sourceIds,
    stream: spec.params.algo === 'minibatch-kmeans' && !m.rows ? { library: lib.path, model: spec.model, ids: m.ids } : null,
    zones: zonesFor(lib, spec, heldItems.size ? (gone ? subset(all, notFaces) : all) : null),
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
    const link = out.peopleLink;
    const preset: PresetRecord = { ...spec.preset, why: [...spec.preset.why] };
    if (link) {
      const { distanceThreshold, ...l } = link;
      params = { ...params, distanceThreshold };
      preset.link = l;
      preset.chose = { ...preset.chose, distanceThreshold };
      preset.why.push(peopleWhy(link));
    }
    out.record.preset = preset;
  }
  const runId = lib.db.transaction(() => {
    const runId = storeRun(lib.db, { model: spec.model, kind: m.model.kind, params, out, ids: m.ids });
    const heldRecord = held.length ? holdGroups(lib.db, runId, held, reclaim) : [];
    // the decisions come with their faces into this run (undo in this run starts from them)
    const states = itemStatesRepo(lib.db);
    for (const it of heldItems) {
      const d = decisions.get(it) ?? (seeded.has(it) ? { how: 'named' as const, at: Date.now() } : undefined);
      if (d) states.set(runId, it, d.how, d.at);
    }
    // the library's named groups find their clusters in the new run; then names of the previous run by overlap
    const linked = linkGroups(lib.db, runId, new Set(held.flatMap((g) => (g.id === null ? [] : [g.id]))));
    const carried = carryOver(lib.db, runId);
    syncRunGroups(lib.db, runId);
    const rec = readRunRecord(lib.db, runId);
    if (carried.from !== null) rec.carriedNames = carried;
    rec.groups = { held: heldRecord, linked };
    let metricsUpd: Record<string, unknown> | undefined;
    if (heldRecord.length && allLabels) {
      // the metrics against true labels cover every item, held ones included
      const asg = runAssignments(lib.db, runId);
      const rows = Array.from(asg.ids, (id, t): [number, number] => [id, asg.clusters[t]]);
      const at = new Map(Array.from(all.ids, (id, i) => [id, i]));
      const keep = rows.filter(([id]) => allLabels![at.get(id)!] >= 0);
      const e = externalScores(keep.map(([id]) => allLabels![at.get(id)!]), keep.map(([, c]) => c));
      const metrics = { ...getRun(lib.db, runId).metrics } as Record<string, number>;
      Object.assign(metrics, { ami: e.ami, ari: e.ari, nmi: e.nmi, homogeneity: e.homogeneity, completeness: e.completeness, vMeasure: e.vMeasure, labeled: keep.length, clusteredAmi: metrics.ami });
      metricsUpd = metrics;
    }
    updateRunRecord(lib.db, runId, rec, metricsUpd);
    return runId;
  }).immediate();
  const run = getRun(lib.db, runId);
  return { ...run, runId, ...summarize(out) };
}

/** The identity zones a run computes in its worker: with the people preset's tail, or the face model's own (any algorithm). */
function zonesFor(lib: Library, spec: ClusterSpec, faces: { X: Float32Array; n: number } | null): ClusterTaskPayload['zones'] {
  // on every face of the library (held groups too) when some are not clustered
  const on = faces ? { faces: { X: faces.X, n: faces.n } } : {};
  if (spec.preset?.tail) return { tail: spec.preset.tail, people: true, ...on };
  const tail = identityThresholdOf(lib.db, spec.model)?.tail;
  return tail ? { tail, people: false, ...on } : null;
}

/** What the people preset found on the data, in words (the run's record). */
export function peopleWhy(l: NonNullable<ClusterTaskResult['peopleLink']>): string {
  return `this library of ${l.n} faces: linking similarity ${l.similarity}, sure ${l.sure}, maybe ${l.maybe}; ${l.groups} people of two or more faces, the largest ${l.largest} (${(100 * l.largest / Math.max(1, l.n)).toFixed(1)}%)`;
}

/** The rows of a loaded matrix whose items are not in `drop` (shared memory, for the worker). */
function subset(m: ReturnType<typeof loadMatrix>, drop: Set<number>): ReturnType<typeof loadMatrix> & { rows: Int32Array } {
  const rows = Int32Array.from(Array.from(m.ids.keys()).filter((i) => !drop.has(m.ids[i])));
  const X = new Float32Array(new SharedArrayBuffer(rows.length * m.d * 4));
  rows.forEach((r, t) => X.set(m.X.subarray(r * m.d, (r + 1) * m.d), t * m.d));
  return { model: m.model, ids: Int32Array.from(rows, (r) => m.ids[r]), X, n: rows.length, d: m.d, rows };
}

/** Adds each held group to a new run as one cluster under its name (curated as the group is), after the clustered ones. */
function holdGroups(db: Library['db'], runId: number, held: HeldGroup[], clustered: boolean): Array<{ group: number | null; name: string | null; cluster: number; size: number }> {
  const w = heldGroupWriter(db);
  // held items the run clustered leave the clusters it put them in
  const left = clustered ? [...new Set(runAssignments(db, runId).clusters)] : [];
  let next = w.nextCluster(runId);
  const out: Array<{ group: number | null; name: string | null; cluster: number; size: number }> = [];
  for (const g of held) {
    const c = next++;
    // a group imported names make has no row yet: syncing the run's groups creates it
    w.addCluster(runId, c, g.name, g.id, g.curated);
    for (const it of g.items) w.assign(runId, it, c);
    out.push({ group: g.id, name: g.name, cluster: c, size: g.items.length });
  }
  refreshClusters(db, runId, [...left, ...out.map((h) => h.cluster)]);
  recountRun(db, runId);
  return out;
}

/** Matrix mode: cluster the rows of X with no library at all. */
export async function clusterMatrix(X: Float32Array, n: number, d: number, params: ClusterParams, labelsTrue: Int32Array | null,
  opts: { signal?: AbortSignal; onProgress?: (stage: string, done: number, total: number) => void; zones?: ClusterTaskPayload['zones'] } = {}): Promise<ClusterTaskResult> {
  if (labelsTrue && labelsTrue.length !== n) throw badArg('labels', `${labelsTrue.length} labels for ${n} rows`);
  return runTask('cluster', { X, n, d, params, labelsTrue, sourceIds: null, stream: null, zones: opts.zones ?? null } satisfies ClusterTaskPayload, opts);
}
