/**
 * People of a run: the clusters of a face run as persons (name, size, hidden, avatar, when last changed),
 * merge suggestions (pairs probably one identity, by average linkage) and the figures of a split preview. Reads only;
 * every change goes through core/curation/edits.ts as one undoable edit.
 */
import { AppError, badArg } from '../../common/errors.ts';
import type { PEOPLE_SORTS } from '../../common/schema-kit.ts';
import type { MergeSuggestion, MergeSuggestionReport, PersonRow, SplitPart } from '../../common/types.ts';
import { gemmJs, normalizeRowsInPlace, transpose, type Gemm } from '../../algo/linalg.ts';
import { getRun } from '../store/runs.ts';
import { blobVec, getModel, vectorBlobReader } from '../store/embeddings.ts';
import { queueThresholds } from './zones.ts';
import type { Db } from '../store/db.ts';
import { runConstraints } from './constraints.ts';
import { clustersNamed, mergeClusterRows, mergeRejects, personNames, personReaders, personRows, runMergeRejects } from '../store/people.ts';

export interface PeopleOptions { search?: string; sort?: (typeof PEOPLE_SORTS)[number]; includeHidden?: boolean }

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

export interface MergeOptions { limit?: number; threshold?: number; gemm?: Gemm }

/**
 * Pairs of a run's clusters that are probably one identity. The average-linkage similarity of two clusters (the mean
 * cosine over every pair of their members) is, for clusters whose centroid is the normalized mean of their
 * normalized members and whose mean similarity is the members' mean cosine to it, meanSim(a) x meanSim(b) x
 * cos(centroid a, centroid b): exact, from the stored figures, in one matrix product. The highest pair similarity is
 * measured on the pairs' stored samples (top and tail). Pairs marked "not the same" (in this run, or between the same
 * library groups) are left out. Offered from the library's maybe threshold, sure from its sure threshold (./zones.ts),
 * best first (so the sure ones come first).
 */
export async function mergeSuggestions(db: Db, runId: number, o: MergeOptions = {}): Promise<MergeSuggestionReport> {
  const run = getRun(db, runId);
  const d = getModel(db, run.model).dim;
  const { threshold, thresholdFrom, sure } = queueThresholds(db, runId, run.model, o.threshold);
  const rows = mergeClusterRows(db, runId);
  const g = rows.length;
  const C = new Float32Array(g * d);
  rows.forEach((r, i) => C.set(blobVec(r.centroid, d), i * d));
  normalizeRowsInPlace(C, g, d);
  const S = g > 1 ? Float32Array.from(await (o.gemm ?? gemmJs)(C, g, transpose(C, g, d), g, d)) : new Float32Array(g * g);
  const groupRejected = new Set<string>();
  for (const r of mergeRejects(db, runId)) {
    if (r.group_a !== null && r.group_b !== null) { groupRejected.add(`${r.group_a}:${r.group_b}`); groupRejected.add(`${r.group_b}:${r.group_a}`); }
  }
  const ownRejected = new Set(runMergeRejects(db, runId).map((r) => `${r.a}:${r.b}`));
  const pairs: Array<{ i: number; j: number; s: number }> = [];
  const apart = runConstraints(db, runId);
  for (let i = 0; i < g; i++) {
    const mi = rows[i].meanSim ?? 1;
    for (let j = i + 1; j < g; j++) {
      const s = mi * (rows[j].meanSim ?? 1) * S[i * g + j];
      if (s < threshold) continue;
      if (ownRejected.has(`${rows[i].cluster}:${rows[j].cluster}`)) continue;
      const ga = rows[i].group_id, gb = rows[j].group_id;
      if (ga !== null && gb !== null && groupRejected.has(`${ga}:${gb}`)) continue;
      if (apart.keepApart(rows[i].cluster, rows[j].cluster)) continue;
      pairs.push({ i, j, s });
    }
  }
  pairs.sort((a, b) => b.s - a.s || a.i - b.i || a.j - b.j);
  const top = pairs.slice(0, o.limit ?? 50);
  const vecQ = vectorBlobReader(db);
  const sampleVecs = new Map<number, Float32Array[]>();
  const samplesOf = (i: number): Float32Array[] => {
    let v = sampleVecs.get(i);
    if (!v) {
      const ids = new Set<number>();
      for (const col of [rows[i].top, rows[i].tail]) { try { for (const x of JSON.parse(col ?? '[]') as Array<{ item: number }>) ids.add(x.item); } catch { /* none */ } }
      v = [...ids].map((id) => vecQ(run.model, id)).filter((b): b is Buffer => !!b).map((b) => { const x = blobVec(b, d); normalizeRowsInPlace(x, 1, d); return x; });
      sampleVecs.set(i, v);
    }
    return v;
  };
  const avatarOf = (i: number) => {
    if (rows[i].avatar !== null) return rows[i].avatar;
    try { return (JSON.parse(rows[i].top ?? '[]') as Array<{ item: number }>)[0]?.item ?? null; } catch { return null; }
  };
  const person = (i: number) => ({ cluster: rows[i].cluster, name: rows[i].name, size: rows[i].size, avatar: avatarOf(i) });
  const suggestions: MergeSuggestion[] = top.map(({ i, j, s }) => {
    let max = -1;
    for (const x of samplesOf(i)) for (const y of samplesOf(j)) { let t = 0; for (let p = 0; p < d; p++) t += x[p] * y[p]; if (t > max) max = t; }
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
