/**
 * People of a run: the clusters of a face run as persons (name, size, hidden, avatar, when last changed),
 * merge suggestions (pairs probably one identity, by average linkage) and the figures of a split preview. Reads only;
 * every change goes through core/curation/edits.ts as one undoable edit.
 */
import { AppError, badArg } from '../../common/errors.ts';
import type { ApiArgs, PeopleQuery } from '../../common/api.ts';
import type { MergeSuggestion, MergeSuggestionReport, PersonRow, SplitPart } from '../../common/types.ts';
import { normalizeRowsInPlace } from '../../algo/linalg.ts';
import { runTask, sharedFloat32 } from '../workers/pool.ts';
import { getRun } from '../store/runs.ts';
import { blobVec, getModel, vectorBlobReader } from '../store/embeddings.ts';
import { queueThresholds } from './zones.ts';
import type { Db } from '../store/db.ts';
import { runConstraints } from './constraints.ts';
import { clustersNamed, mergeClusterRows, mergeRejects, personNames, personReaders, personRows, runMergeRejects } from '../store/people.ts';

/** listPeople's options (the contract's PeopleQuery), less the run. */
export type PeopleOptions = Omit<PeopleQuery, 'runId'>;

/** The people of a run: every cluster (not the noise), hidden ones only when asked. */
export function listPeople(db: Db, runId: number, o: PeopleOptions = {}): PersonRow[] {
  getRun(db, runId);
  const rows = personRows(db, runId);
  const read = personReaders(db);
  const kind = getRun(db, runId).kind;
  const q = o.search?.trim().toLowerCase() ?? '';
  const out: PersonRow[] = [];
  for (const r of rows) {
    const hidden = (r.group_id !== null && r.gHidden !== null ? r.gHidden : r.hidden) === 1;
    if (hidden && !o.includeHidden) continue;
    const label = (r.name ?? `cluster ${r.cluster}`).toLowerCase();
    if (q && !label.includes(q)) continue;
    const chosen = [r.group_id !== null ? r.gAvatar : null, r.avatar].find((a) => a !== null && a !== undefined && read.isMember(runId, a, r.cluster));
    let avatar: number | null = chosen ?? null;
    if (avatar === null) {
      try { avatar = (JSON.parse(r.top ?? '[]') as Array<{ item: number }>)[0]?.item ?? null; } catch { avatar = null; }
    }
    const thumb = avatar === null ? null : (kind === 'face' ? read.faceThumb(avatar) : read.photoThumb(avatar)) ?? null;
    out.push({
      cluster: r.cluster, name: r.name, size: r.size, hidden, curated: r.curated === 1, avatar, avatarChosen: chosen !== undefined && chosen !== null,
      changedAt: r.changedAt, thumb, meanSim: r.meanSim,
    });
  }
  const sort = o.sort ?? 'size';
  const bySize = (a: PersonRow, b: PersonRow) => b.size - a.size || a.cluster - b.cluster;
  if (sort === 'size') out.sort(bySize);
  else if (sort === 'name') out.sort((a, b) => (a.name === null) !== (b.name === null) ? (a.name === null ? 1 : -1)
    : a.name !== null && b.name !== null ? a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.cluster - b.cluster : bySize(a, b));
  else out.sort((a, b) => (b.changedAt ?? -1) - (a.changedAt ?? -1) || bySize(a, b));
  return out;
}

/** The cluster of a run a person's name means: refused when no person or several have it (naming their clusters). */
export function personByName(db: Db, runId: number, name: string): number {
  const rows = clustersNamed(db, runId, name.trim());
  if (rows.length === 0) {
    const names = personNames(db, runId, 11);
    throw new AppError('NOT_FOUND', `no person named '${name}' in run ${runId} (people: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}${names.length ? '' : 'none named'})`);
  }
  if (rows.length > 1) throw badArg('person', `'${name}' is ambiguous in run ${runId}: clusters ${rows.join(', ')} have that name; give --cluster`);
  return rows[0];
}

/** getMergeSuggestions's options (the contract's), less the run. */
export type MergeOptions = Omit<ApiArgs<'getMergeSuggestions'>, 'runId'>;

/**
 * Pairs of a run's clusters that are probably one identity. The average-linkage similarity of two clusters (the mean
 * cosine over every pair of their members) is, for clusters whose centroid is the normalized mean of their
 * normalized members and whose mean similarity is the members' mean cosine to it, meanSim(a) x meanSim(b) x
 * cos(centroid a, centroid b): exact, from the stored figures, in one matrix product. The highest pair similarity is
 * measured on the pairs' stored samples (top and tail). Pairs marked "not the same" (in this run, or between the same
 * library groups) are left out. Offered from the library's maybe threshold, sure from its sure threshold (./zones.ts),
 * best first (so the sure ones come first). The products and the loops over the vectors run in a worker (./people-tasks.ts).
 */
export async function mergeSuggestions(db: Db, runId: number, o: MergeOptions = {}): Promise<MergeSuggestionReport> {
  const run = getRun(db, runId);
  const d = getModel(db, run.model).dim;
  const { threshold, thresholdFrom, sure } = await queueThresholds(db, runId, run.model, o.threshold);
  const rows = mergeClusterRows(db, runId);
  const g = rows.length;
  const C = sharedFloat32(g * d);
  rows.forEach((r, i) => C.set(blobVec(r.centroid, d), i * d));
  // the pairs at or above the threshold, in a worker
  const above = await runTask('mergePairs', { C, g, d, meanSim: Float64Array.from(rows, (r) => r.meanSim ?? 1), threshold });
  const groupRejected = new Set<string>();
  for (const r of mergeRejects(db, runId)) {
    if (r.group_a !== null && r.group_b !== null) { groupRejected.add(`${r.group_a}:${r.group_b}`); groupRejected.add(`${r.group_b}:${r.group_a}`); }
  }
  const ownRejected = new Set(runMergeRejects(db, runId).map((r) => `${r.a}:${r.b}`));
  const pairs: Array<{ i: number; j: number; s: number }> = [];
  const apart = runConstraints(db, runId);
  for (let k = 0; k < above.i.length; k++) {
    const i = above.i[k], j = above.j[k], s = above.s[k];
    if (ownRejected.has(`${rows[i].cluster}:${rows[j].cluster}`)) continue;
    const ga = rows[i].group_id, gb = rows[j].group_id;
    if (ga !== null && gb !== null && groupRejected.has(`${ga}:${gb}`)) continue;
    if (apart.keepApart(rows[i].cluster, rows[j].cluster)) continue;
    pairs.push({ i, j, s });
  }
  pairs.sort((a, b) => b.s - a.s || a.i - b.i || a.j - b.j);
  const top = pairs.slice(0, o.limit ?? 50);
  // the highest pair similarity of each pair shown, on their stored samples (read here, compared in a worker)
  const vecQ = vectorBlobReader(db);
  const slot = new Map<number, number>();
  const sampleBlobs: Buffer[][] = [];
  for (const { i, j } of top) for (const c of [i, j]) {
    if (slot.has(c)) continue;
    const ids = new Set<number>();
    for (const col of [rows[c].top, rows[c].tail]) { try { for (const x of JSON.parse(col ?? '[]') as Array<{ item: number }>) ids.add(x.item); } catch { /* none */ } }
    slot.set(c, sampleBlobs.length);
    sampleBlobs.push([...ids].map((id) => vecQ(run.model, id)).filter((b): b is Buffer => !!b));
  }
  const off = new Int32Array(sampleBlobs.length + 1);
  sampleBlobs.forEach((bs, k) => { off[k + 1] = off[k] + bs.length; });
  const X = sharedFloat32(off[sampleBlobs.length] * d);
  sampleBlobs.forEach((bs, k) => bs.forEach((b, r) => X.set(blobVec(b, d), (off[k] + r) * d)));
  const maxes = top.length ? await runTask('mergeMax', { X, off, d, a: Int32Array.from(top, (t) => slot.get(t.i)!), b: Int32Array.from(top, (t) => slot.get(t.j)!) }) : new Float64Array(0);
  const avatarOf = (i: number) => {
    if (rows[i].avatar !== null) return rows[i].avatar;
    try { return (JSON.parse(rows[i].top ?? '[]') as Array<{ item: number }>)[0]?.item ?? null; } catch { return null; }
  };
  const person = (i: number) => ({ cluster: rows[i].cluster, name: rows[i].name, size: rows[i].size, avatar: avatarOf(i) });
  const suggestions: MergeSuggestion[] = top.map(({ i, j, s }, k) => {
    const max = maxes[k];
    return { a: person(i), b: person(j), similarity: Math.round(s * 1e6) / 1e6, max: Math.round(Math.max(max, s) * 1e6) / 1e6, zone: s >= sure ? 'sure' as const : 'maybe' as const };
  });
  return { runId, threshold, thresholdFrom, sure, suggestions };
}

/** A split part's figures: size, mean similarity to its centre and the members nearest it (X: the part's rows, normalized). */
export function partOf(items: number[], X: Float32Array, d: number, samples = 8): SplitPart {
  const n = items.length;
  const c = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let p = 0; p < d; p++) c[p] += X[i * d + p];
  normalizeRowsInPlace(c, 1, d);
  const sims = items.map((_, i) => { let s = 0; for (let p = 0; p < d; p++) s += X[i * d + p] * c[p]; return s; });
  const order = items.map((_, i) => i).sort((a, b) => sims[b] - sims[a] || items[a] - items[b]);
  const meanSim = n ? sims.reduce((a, b) => a + b, 0) / n : null;
  return { items: [...items], size: n, samples: order.slice(0, samples).map((i) => items[i]), meanSim: meanSim === null ? null : Math.round(meanSim * 1e6) / 1e6 };
}
