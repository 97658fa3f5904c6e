/**
 * Suggestion queues: for one person (a cluster of a run), the faces most likely theirs, best first. The
 * candidates are the run's noise, the items of its model embedded after it, the members of clusters nobody named or
 * curated (proposals: not anyone's yet) and low-confidence members of named clusters (similarity to their centroid
 * below LOW_CONFIDENCE, not curated); faces marked "not a face" and faces
 * rejected for this person (in this run or for its library group) are never offered. Each person is given by several
 * prototypes: its stored top (central) and tail (edge) samples, as `assign` uses (core/curation/assign.ts). A candidate
 * is offered when its best similarity to the person's prototypes reaches the threshold AND beats its best similarity to
 * any other person (the nearest by centroid, then by prototypes) by the margin. The threshold is the library's own
 * (./zones.ts): from its maybe threshold a face is offered as uncertain (`zone: 'maybe'`), from its sure threshold as
 * sure; a model without zones keeps its identity threshold (every offer sure).
 *
 * The candidates' vectors, each person's centroid and prototypes, and each candidate's shortlist (the persons with the
 * nearest centroids, with its prototype score for each) are kept per run (SuggestionIndex) and brought up to date
 * after each edit by what changed: persons whose samples or size changed are read and scored again, candidates that
 * appeared are scored in full, the others keep their figures. So a call scores only one person's prototypes, and the
 * first call after a confirm costs little more than the others.
 *
 * This file reads the library and routes; the index's vectors and figures live in shared memory and every loop over
 * them (the scoring of the index, of a queue, of one face) runs in a worker (./people-tasks.ts).
 */
import { badArg } from '../../common/errors.ts';
import type { FaceSuggestion, PersonSuggestion, SuggestionReport } from '../../common/types.ts';
import type { SuggestionQuery } from '../../common/api.ts';
import { runTask, sharedFloat32 } from '../workers/pool.ts';
import type { IndexPerson } from './people-tasks.ts';
import { getRun } from '../store/runs.ts';
import { blobVec, getModel, vectorBlobReader } from '../store/embeddings.ts';
import type { Db } from '../store/db.ts';
import { canBeSure, queueThresholds } from './zones.ts';
import {
  allVectorBlobs, assignmentReader, clusterAssignments, clusterGroup, clusterName, curatedClusters, hasVectorReader, isRejectedFor, namedClusters,
  personOf, personSamplesReader, personSignatures, rejectedForPerson, runAssignments, suggestionIndexState, suggestionViewReader,
} from '../store/suggestions.ts';
import { itemsNotInRun } from '../store/unknown-groups.ts';
import { config } from '../config.ts';
import { DEFAULT_MARGIN } from './assign.ts';
import { notFaceIds } from '../store/groups.ts';
import { runConstraints } from './constraints.ts';
import { explicitMembers } from '../store/learned-metrics.ts';

/** The run's members placed explicitly by the user (confirmed, moved, split, made a person), and by cluster in item order. */
function explicitlyPlaced(db: Db, runId: number): { items: Set<number>; byCluster: Map<number, number[]> } {
  const items = new Set<number>(), byCluster = new Map<number, number[]>();
  for (const m of explicitMembers(db, runId)) { items.add(m.item); const l = byCluster.get(m.cluster) ?? []; l.push(m.item); byCluster.set(m.cluster, l); }
  return { items, byCluster };
}

/** Members below this similarity to their own centroid are candidates for other persons. */
export const LOW_CONFIDENCE = 0.5;
/** Persons scored by prototypes per candidate, nearest centroids first. */
const SHORTLIST = 8;

type Source = FaceSuggestion['source'];

type Person = IndexPerson;

export interface SuggestionIndex {
  key: string;
  runId: number;
  model: string;
  d: number;
  /** the version of the learned metric the vectors went through (0: the model's own vectors) */
  learned: number;
  persons: Map<number, Person>;
  /** candidates: ids, where they are (-2: not in the run), their normalized vectors (rows of Q) */
  ids: Int32Array;
  source: Source[];
  cluster: Int32Array;
  Q: Float32Array;
  /** per candidate, SHORTLIST entries: the person (cluster id, -1 none), its centroid similarity and prototype score */
  slC: Int32Array; slS: Float32Array; slP: Float32Array;
  buildMs: number;
  /** what the last refresh did (incremental: only the changed clusters' assignments were read) */
  refreshed: { persons: number; candidates: number; incremental: boolean };
  /** the run's assignments and the model's items not in the run, as of `key` */
  members: RunMembers;
  named: Set<number>;
  curated: Set<number>;
}

/** The run's assignments sorted by item (sim NaN: none) and the model's items not in the run (sorted). */
export interface RunMembers { ids: Int32Array; cluster: Int32Array; sim: Float64Array; fresh: number[] }

/**
 * The assignments brought up to date from what an edit changed: the members of the touched clusters before and now are
 * read again (an item leaving a touched cluster went to another touched one, to noise, or out of the run).
 */
function updateMembers(db: Db, runId: number, model: string, old: RunMembers, touched: Set<number>): RunMembers {
  const K = [...touched];
  const now = new Map<number, [number, number]>();
  for (let k0 = 0; k0 < K.length; k0 += 500) {
    const part = K.slice(k0, k0 + 500);
    for (const [it, c, sim] of clusterAssignments(db, runId, part)) now.set(it, [c, sim ?? NaN]);
  }
  const one = assignmentReader(db);
  const ids = Int32Array.from(old.ids), cluster = Int32Array.from(old.cluster), sim = Float64Array.from(old.sim);
  const pos = (it: number) => { let lo = 0, hi = ids.length - 1; while (lo <= hi) { const m = (lo + hi) >> 1; if (ids[m] === it) return m; if (ids[m] < it) lo = m + 1; else hi = m - 1; } return -1; };
  const removed = new Set<number>();
  for (let k = 0; k < ids.length; k++) {
    if (!touched.has(cluster[k]) || now.has(ids[k])) continue;
    const r = one(runId, ids[k]);
    if (r) now.set(ids[k], [r[0], r[1] ?? NaN]); else removed.add(ids[k]);
  }
  const added: number[] = [];
  for (const [it, [c, s]] of now) { const k = pos(it); if (k < 0) { added.push(it); continue; } cluster[k] = c; sim[k] = s; }
  const freshSet = new Set(old.fresh);
  for (const it of added) freshSet.delete(it);
  const hasVec = hasVectorReader(db);
  for (const it of removed) if (hasVec(model, it)) freshSet.add(it);
  const fresh = freshSet.size === old.fresh.length && !removed.size ? old.fresh : [...freshSet].sort((a, b) => a - b);
  if (!added.length && !removed.size) return { ids, cluster, sim, fresh };
  const rows: Array<[number, number, number]> = [];
  for (let k = 0; k < ids.length; k++) if (!removed.has(ids[k])) rows.push([ids[k], cluster[k], sim[k]]);
  for (const it of added) { const [c, s] = now.get(it)!; rows.push([it, c, s]); }
  rows.sort((a, b) => a[0] - b[0]);
  return { ids: Int32Array.from(rows, (r) => r[0]), cluster: Int32Array.from(rows, (r) => r[1]), sim: Float64Array.from(rows, (r) => r[2]), fresh };
}

/** The state of a run a suggestion index is valid for: its edits and its model's embeddings. */
export function indexKey(db: Db, runId: number): string {
  // (a new edit after an undo reuses the undone edit's id: the last edit's time and size tell the two apart)
  const e = suggestionIndexState(db, runId);
  return `${runId}:${e.n}:${e.last ?? 0}:${e.undone ?? 0}/${e.tail ?? ''}:${e.rev ?? 0}:${e.notFaces}`;
}

/**
 * The model's vectors already in memory (the service's cached matrix, rows by ascending item id), read instead of
 * SQLite. `learned` (the version of the model's learned metric): the rows are the vectors through that metric (d its
 * dimension), and each person's centroid is the mean of its prototypes there.
 */
export interface VectorSource { ids: Int32Array; X: Float32Array; d: number; learned?: number }

/** The default threshold of a queue in a learned metric (cosine there, where one group's members gather). */
export const LEARNED_THRESHOLD = 0.5;
/** Explicitly placed members added to a person's prototypes in a learned metric or a run of photos, the latest first. */
const EXPLICIT_PROTOS = 24;

/** A row of `src` by item id (binary search over the ascending ids); undefined when the item has no vector there. */
function sourceRow(src: VectorSource, id: number): Float32Array | undefined {
  let lo = 0, hi = src.ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1, v = src.ids[mid];
    if (v === id) return src.X.subarray(mid * src.d, (mid + 1) * src.d);
    if (v < id) lo = mid + 1; else hi = mid - 1;
  }
  return undefined;
}

/**
 * The run's suggestion index, built (prev = null) or brought up to date from the previous one: only the persons whose
 * samples, size or centroid changed and the candidates that appeared are read and scored.
 */
export async function buildIndex(db: Db, runId: number, prev: SuggestionIndex | null = null, hint: Iterable<number> | null = null, vectors: VectorSource | null = null, signal?: AbortSignal): Promise<SuggestionIndex> {
  const t0 = performance.now();
  const run = getRun(db, runId);
  const learned = vectors?.learned ?? 0;
  const d = learned ? vectors!.d : getModel(db, run.model).dim;
  const key = indexKey(db, runId);
  const old = prev && prev.runId === runId && prev.model === run.model && prev.d === d && prev.learned === learned ? prev : null;
  const vecQ = vectorBlobReader(db);
  const src = vectors && vectors.d === d ? vectors : null;
  // explicit decisions: never candidates (never moved again); in a learned metric or a photo run, prototypes too
  const explicit = explicitlyPlaced(db, runId);
  const wide = learned > 0 || run.kind !== 'face';
  /** one item's vector: from the matrix in memory when there is one, else from SQLite */
  const readVec = (it: number): Float32Array | undefined => {
    if (src) return sourceRow(src, it);
    const b = vecQ(run.model, it);
    return b ? blobVec(b, d) : undefined;
  };
  // persons: those whose samples or size changed (or that are new) are read again
  const rows = personSignatures(db, runId);
  const persons = new Map<number, Person>();
  const changed: number[] = [];
  const cenQ = personSamplesReader(db);
  // the changed persons' samples first; many (a new index): their vectors in one scan of the model's embeddings
  const todo: Array<[number, string, Buffer, number[]]> = [];
  for (const [c, sig] of rows) {
    const was = old?.persons.get(c);
    if (was && was.sig === sig) { persons.set(c, was); continue; }
    const r = cenQ(runId, c);
    const items = new Set<number>();
    for (const col of [r.top, r.tail]) { try { for (const x of JSON.parse(col ?? '[]') as Array<{ item: number }>) items.add(x.item); } catch { /* none */ } }
    if (wide) for (const it of (explicit.byCluster.get(c) ?? []).slice(-EXPLICIT_PROTOS)) items.add(it);
    todo.push([c, sig + (wide ? `:${(explicit.byCluster.get(c) ?? []).slice(-EXPLICIT_PROTOS).join(',')}` : ''), r.centroid, [...items]]);
  }
  const need = todo.reduce((a, t) => a + t[3].length, 0);
  let vecOf = readVec;
  if (need > 2000 && !src) {
    const want = new Set(todo.flatMap((t) => t[3]));
    const got = new Map<number, Float32Array>();
    for (const [it, b] of allVectorBlobs(db, run.model)) if (want.has(it)) got.set(it, blobVec(b, d));
    vecOf = (it) => got.get(it);
  }
  for (const [c, sig, cen, items] of todo) {
    const found = items.map((it) => [it, vecOf(it)] as const).filter((x): x is readonly [number, Float32Array] => !!x[1]);
    const vs = found.map((x) => x[1]);
    // raw here, made ready in the index task: in a learned metric the stored centroid (the model's space) does not
    // apply: the mean of the prototypes there
    const centroid = sharedFloat32(d);
    if (!learned) centroid.set(blobVec(cen, d));
    const protoIds = Int32Array.from(found, (x) => x[0]);
    const protos = sharedFloat32(vs.length * d);
    vs.forEach((v, i) => protos.set(v, i * d));
    persons.set(c, { sig, centroid, protos, protoIds, count: vs.length });
    changed.push(c);
  }
  const tPersons = performance.now();
  const gone = old ? [...old.persons.keys()].filter((c) => !persons.has(c)) : [];
  const stale = new Set([...changed, ...gone]);
  // candidates, ids first: noise, members of unnamed clusters, low-confidence members of named ones (none of curated ones), items not in the run
  // (curated clusters and not-a-face marks filtered here). The run's assignments are read in full for a new index; brought up to date,
  // only the members of the clusters the edits changed (the hint, plus persons whose figures or names changed) are read again.
  const curated = new Set(curatedClusters(db, runId));
  const notFaces = run.kind === 'face' ? notFaceIds(db) : new Set<number>();
  const named = new Set(namedClusters(db, runId));
  const touched = old && hint ? new Set<number>([...hint, ...stale]) : null;
  if (touched && old) {
    for (const c of named) if (!old.named.has(c)) touched.add(c);
    for (const c of old.named) if (!named.has(c)) touched.add(c);
    for (const c of curated) if (!old.curated.has(c)) touched.add(c);
    for (const c of old.curated) if (!curated.has(c)) touched.add(c);
  }
  // a new not-a-face mark or new embeddings: read everything (rare)
  const sameBase = !!old && old.key.split(':').slice(4).join(':') === key.split(':').slice(4).join(':');
  let members: RunMembers;
  let incremental = false;
  if (old && touched && sameBase && touched.size <= 256) {
    members = updateMembers(db, runId, run.model, old.members, touched);
    incremental = true;
  } else {
    const all = runAssignments(db, runId);
    members = {
      ids: Int32Array.from(all, (r) => r[0]), cluster: Int32Array.from(all, (r) => r[1]), sim: Float64Array.from(all, (r) => r[2] ?? NaN),
      fresh: itemsNotInRun(db, run.model, runId),
    };
  }
  const inRun: Array<[number, number]> = [];
  for (let k = 0; k < members.ids.length; k++) {
    const it = members.ids[k], c = members.cluster[k], sim = members.sim[k];
    if (explicit.items.has(it)) continue;
    // (a run of photos, or a learned metric: every member of a named group not placed explicitly, the margin decides)
    if (!notFaces.has(it) && !curated.has(c) && (c < 0 || !named.has(c) || wide || Number.isNaN(sim) || sim < LOW_CONFIDENCE)) inRun.push([it, c]);
  }
  const fresh = members.fresh.filter((it) => !notFaces.has(it));
  const tCands = performance.now();
  const n = inRun.length + fresh.length;
  const sab = (k: number) => new SharedArrayBuffer(k * 4);
  const ids = new Int32Array(sab(n)), cluster = new Int32Array(sab(n)), Q = sharedFloat32(n * d);
  const source: Source[] = new Array(n);
  inRun.forEach(([it, c], i) => { ids[i] = it; cluster[i] = c; source[i] = c < 0 ? 'noise' : 'member'; });
  fresh.forEach((it, k) => { const i = inRun.length + k; ids[i] = it; cluster[i] = -2; source[i] = 'new'; });
  const L = SHORTLIST;
  const slC = new Int32Array(sab(n * L)).fill(-1), slS = new Float32Array(sab(n * L)).fill(-Infinity), slP = new Float32Array(sab(n * L)).fill(-Infinity);
  const oldRow = new Map<number, number>();
  if (old) old.ids.forEach((it, i) => oldRow.set(it, i));
  const full: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = oldRow.get(ids[i]);
    if (o === undefined) {
      const v = readVec(ids[i]);
      if (v) Q.set(v, i * d);
      full.push(i);
      continue;
    }
    Q.set(old!.Q.subarray(o * d, (o + 1) * d), i * d);
    slC.set(old!.slC.subarray(o * L, (o + 1) * L), i * L);
    slS.set(old!.slS.subarray(o * L, (o + 1) * L), i * L);
    slP.set(old!.slP.subarray(o * L, (o + 1) * L), i * L);
  }
  const tCopy = performance.now();
  // the changed persons made ready, the shortlists brought up to date, in a worker (people-tasks.ts), in place
  await runTask('suggestIndex', {
    d, L, learned: learned > 0, persons: [...persons.entries()], changed, stale: [...stale], ids, n, Q, full: Int32Array.from(full), slC, slS, slP,
  }, { signal });
  const tStale = performance.now();
  if (config.debug()) console.error(`suggest index ${key} (prev ${old?.key}, hint ${hint ? [...hint].join(",") : null}, incremental ${incremental}): ${changed.length} persons, ${full.length} candidates scored again, ${Math.round(performance.now() - t0)} ms (persons ${Math.round(tPersons - t0)}, candidate ids ${Math.round(tCands - tPersons)}, copy ${Math.round(tCopy - tCands)}, stale ${Math.round(tStale - tCopy)})`);
  return {
    key, runId, model: run.model, d, learned, persons, ids, source, cluster, Q, slC, slS, slP, buildMs: performance.now() - t0,
    refreshed: { persons: changed.length, candidates: full.length, incremental }, members, named, curated,
  };
}

/** getSuggestions's options (the contract's SuggestionQuery), less the run and the person. */
export type SuggestOptions = Omit<SuggestionQuery, 'runId' | 'cluster'>;

/** The names of an index's named clusters (read once per index: a rename makes a new index). */
const indexNames = new WeakMap<SuggestionIndex, Map<number, string | null>>();
function namesOf(db: Db, idx: SuggestionIndex): Map<number, string | null> {
  let m = indexNames.get(idx);
  if (!m) { m = new Map([...idx.named].map((c) => [c, clusterName(db, idx.runId, c)])); indexNames.set(idx, m); }
  return m;
}

/** How many prototypes a candidate is compared with: every person's (the zones' sure threshold follows it). */
function prototypesOf(idx: SuggestionIndex): number {
  let n = 0;
  for (const p of idx.persons.values()) n += p.count;
  return n;
}

/** A person's suggestions from an index of the run as it is now (the caller keeps the index while indexKey holds). */
export async function suggest(db: Db, idx: SuggestionIndex, cluster: number, o: SuggestOptions = {}): Promise<SuggestionReport> {
  const t0 = performance.now();
  const runId = idx.runId;
  const run = getRun(db, runId);
  const row = personOf(db, runId, cluster);
  if (!row || cluster < 0) throw badArg('cluster', `cluster ${cluster} is not a person of run ${runId}`);
  const { threshold, thresholdFrom, sure } = idx.learned
    ? (() => {
      const t = o.threshold ?? LEARNED_THRESHOLD;
      return { threshold: t, sure: t, thresholdFrom: o.threshold !== undefined ? 'given (learned metric)' : `default ${LEARNED_THRESHOLD} in the learned metric (version ${idx.learned})` };
    })()
    : await queueThresholds(db, runId, run.model, o.threshold, prototypesOf(idx));
  const margin = o.margin ?? DEFAULT_MARGIN;
  const limit = o.limit ?? 50;
  const rejected = new Set(rejectedForPerson(db, runId, cluster, row.group_id ?? -1));
  const person = idx.persons.get(cluster);
  const apart = runConstraints(db, runId);
  // clusters named as this person is (one person split over clusters): never its competitor for the margin, and
  // their prototypes are this person's too
  const names = namesOf(db, idx);
  const sameName = (c: number): boolean => !!row.name && names.get(c) === row.name;
  const split = row.name ? [...idx.persons.entries()].filter(([c, p]) => c !== cluster && p.count > 0 && sameName(c)).map(([, p]) => p) : [];
  const t1 = performance.now();
  const hits: Array<{ i: number; s: number; second: number; secondC: number }> = [];
  // a run of photos or imported vectors: every offer uncertain (./zones.ts canBeSure)
  const uncertain = !canBeSure(run.kind);
  let skipped = 0;
  if (person && person.count > 0) {
    // every candidate against the person's prototypes (with those of its other clusters under the same name), in a
    // worker: those at or above the threshold, with the best other person of each one's shortlist
    const all = [person, ...split];
    const P = all.reduce((a, p) => a + p.count, 0);
    let protos = person.protos;
    if (all.length > 1) { protos = sharedFloat32(P * idx.d); let o = 0; for (const p of all) { protos.set(p.protos.subarray(0, p.count * idx.d), o); o += p.count * idx.d; } }
    const same = Int32Array.from([...idx.persons.keys()].filter((c) => c !== cluster && sameName(c)));
    const r = await runTask('suggestScore', {
      Q: idx.Q, n: idx.ids.length, d: idx.d, L: SHORTLIST, cluster: idx.cluster, person: cluster, same, protos, P,
      slC: idx.slC, slP: idx.slP, threshold,
    });
    for (let k = 0; k < r.i.length; k++) {
      const i = r.i[k], s = r.s[k], other = r.other[k], otherC = r.otherC[k];
      if (rejected.has(idx.ids[i]) || apart.sharesPhoto(idx.ids[i], cluster)) { skipped++; continue; }
      if (Number.isFinite(other) && s - other < margin) continue;
      hits.push({ i, s, second: other, secondC: otherC });
    }
  }
  hits.sort((a, b) => b.s - a.s || idx.ids[a.i] - idx.ids[b.i]);
  const chosen = hits.slice(0, limit);
  const view = suggestionViewReader(db, run.kind);
  const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
  const suggestions: FaceSuggestion[] = [];
  for (const h of chosen) {
    const v = view(idx.ids[h.i]);
    if (!v) continue;
    const finite = Number.isFinite(h.second);
    suggestions.push({
      item: idx.ids[h.i], path: v.path, similarity: r6(h.s), second: finite ? r6(h.second) : null, secondCluster: finite && h.secondC >= 0 ? h.secondC : null,
      margin: finite ? r6(h.s - h.second) : null, source: idx.source[h.i], cluster: idx.cluster[h.i] === -2 ? null : idx.cluster[h.i],
      photoId: v.photoId, thumb: v.thumb, box: v.x === null ? null : [v.x, v.y!, v.w!, v.h!], zone: h.s >= sure && !uncertain ? 'sure' : 'maybe',
    });
  }
  const t2 = performance.now();
  return {
    runId, cluster, name: row.name, threshold, thresholdFrom, sure, margin, candidates: idx.ids.length, rejected: skipped, suggestions,
    timings: { read: Math.round((t1 - t0) * 10) / 10, score: Math.round((t2 - t1) * 10) / 10 },
  };
}

/**
 * The best person for one face by the index's figures, as `suggest` decides: the person whose prototypes it is most
 * similar to, offered when that similarity reaches the threshold and beats every other person (its shortlist: the
 * nearest centroids) by the margin, and the face is not that person's already nor rejected for them. A face outside the
 * candidates (a confident member) is scored the same way from its vector.
 */
export async function suggestPersonFor(db: Db, idx: SuggestionIndex, item: number, o: { threshold?: number; margin?: number } = {}): Promise<PersonSuggestion> {
  const runId = idx.runId, d = idx.d, L = SHORTLIST;
  const run = getRun(db, runId);
  const threshold = idx.learned ? o.threshold ?? LEARNED_THRESHOLD : (await queueThresholds(db, runId, run.model, o.threshold, prototypesOf(idx))).threshold;
  const margin = o.margin ?? DEFAULT_MARGIN;
  // where it is now
  let lo = 0, hi = idx.members.ids.length - 1, from: number | null = null;
  while (lo <= hi) { const m = (lo + hi) >> 1; if (idx.members.ids[m] === item) { from = idx.members.cluster[m]; break; } if (idx.members.ids[m] < item) lo = m + 1; else hi = m - 1; }
  const base = { runId, item, from, threshold, margin };
  const none = (reason: string, best?: { c: number; s: number }, second?: { c: number; s: number }): PersonSuggestion => ({
    ...base, cluster: null, name: null, similarity: best ? r6(best.s) : null, second: second ? r6(second.s) : null, secondCluster: second ? second.c : null, reason,
  });
  // its vector and shortlist: from the index when it is a candidate, else computed here
  let row = -1;
  for (let i = 0; i < idx.ids.length; i++) if (idx.ids[i] === item) { row = i; break; }
  let q: Float32Array;
  let list: Array<{ c: number; s: number }> | null = null;
  if (row >= 0) {
    q = idx.Q.subarray(row * d, (row + 1) * d);
    list = [];
    for (let r = row * L; r < (row + 1) * L; r++) if (idx.slC[r] >= 0 && Number.isFinite(idx.slP[r])) list.push({ c: idx.slC[r], s: idx.slP[r] });
  } else if (idx.learned) {
    return none('not a candidate: placed by the user, curated or without an embedding');
  } else {
    const b = vectorBlobReader(db)(run.model, item);
    if (!b) throw badArg('item', `item ${item} has no ${run.model} embedding`);
    q = sharedFloat32(d);
    q.set(blobVec(b, d));
  }
  // the best person by prototypes over every person (as a person's queue scores every candidate), the others from the
  // shortlist (made from the centroids when the face is not a candidate): in a worker
  const scored = await runTask('suggestPerson', { q, raw: row < 0, d, L, item, from, persons: [...idx.persons.entries()], list });
  const best = scored.best ?? undefined;
  list = scored.list;
  if (!best) return none('no other person in the run');
  // clusters under the best person's name are that person (split): not its competitors; a face in one of them is theirs already
  const bestName = clusterName(db, runId, best.c);
  const sameAsBest = (c: number) => !!bestName && c !== best!.c && clusterName(db, runId, c) === bestName;
  if (from !== null && from >= 0 && sameAsBest(from)) return none(`already ${bestName}'s (another cluster under that name)`, best);
  const others = list.filter((e) => e.c !== best!.c && !sameAsBest(e.c)).sort((a, b) => b.s - a.s);
  const second = others[0];
  const nameOf = (c: number) => clusterName(db, runId, c) ?? `cluster ${c}`;
  if (!(best.s >= threshold)) return none(`the nearest person, ${nameOf(best.c)}, is at similarity ${best.s.toFixed(2)}, below the threshold ${threshold.toFixed(2)}`, best, second);
  if (second && best.s - second.s < margin) {
    return none(`${nameOf(best.c)} (${best.s.toFixed(2)}) and ${second.c === from ? 'its own person' : nameOf(second.c)} (${second.s.toFixed(2)}) are too close (margin ${margin})`, best, second);
  }
  const group = clusterGroup(db, runId, best.c);
  const rejected = isRejectedFor(db, item, runId, best.c, group ?? -1);
  if (rejected) return none(`rejected for ${nameOf(best.c)} before`, best, second);
  if (runConstraints(db, runId).sharesPhoto(item, best.c)) return none(`another face of its photo is ${nameOf(best.c)}`, best, second);
  return {
    ...base, cluster: best.c, name: clusterName(db, runId, best.c),
    similarity: r6(best.s), second: second ? r6(second.s) : null, secondCluster: second ? second.c : null, reason: '',
  };
}

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
