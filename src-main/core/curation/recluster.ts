/**
 * Re-clustering the undecided items of a run in its model's learned metric (the compute half of the 'recluster' edit,
 * read-only: the edit engine applies the plan, ./edit/ops/recluster.ts). Only items nobody decided move (no item
 * state: not named with their group, confirmed, moved, split or made a person), and only those in the noise or in a
 * group nobody named or curated:
 * - each goes to the named group its queue would offer it to: its best prototype score there (from the run's
 *   suggestion index, made in the learned metric) reaches the threshold and beats every other group's by the margin,
 *   and it was never rejected for that group;
 * - the members of unnamed groups left are regrouped by k-means in the learned metric (in a worker), as many groups
 *   as they were in, each part keeping the id of the unnamed group it overlaps most.
 */
import { AppError } from '../../common/errors.ts';
import type { Db } from '../store/db.ts';
import { itemStatesRepo } from '../store/item-states.ts';
import { clusterGroup, clusterName, rejectedForPerson } from '../store/suggestions.ts';
import { runTask, sharedFloat32 } from '../workers/pool.ts';
import { DEFAULT_MARGIN } from './assign.ts';
import { runConstraints } from './constraints.ts';
import { LEARNED_THRESHOLD, type SuggestionIndex } from './suggest.ts';
import type { ReclusterPlan } from './edit/ops/op.ts';

export type { ReclusterPlan };

/** A model's vectors through its learned metric, rows by ascending item id (unit rows). */
interface MetricRows { ids: Int32Array; X: Float32Array; d: number; version: number }

export interface ReclusterOptions { threshold?: number; margin?: number; seed?: number }

/** The plan of a re-clustering from the run's suggestion index made in the learned metric (`rows`: the same metric). */
export async function planRecluster(db: Db, idx: SuggestionIndex, rows: MetricRows, o: ReclusterOptions = {}, signal?: AbortSignal): Promise<ReclusterPlan> {
  const runId = idx.runId;
  if (!idx.learned || rows.version !== idx.learned) {
    throw new AppError('CONFLICT', `run ${runId}'s queues use no learned metric: re-clustering needs one (learn, once decisions made it better than the model's own)`);
  }
  const cancelled = () => { if (signal?.aborted) throw new AppError('CANCELLED', 're-clustering cancelled'); };
  const threshold = o.threshold ?? LEARNED_THRESHOLD;
  const margin = o.margin ?? DEFAULT_MARGIN;
  const decided = new Set(itemStatesRepo(db).all(runId).map((r) => r.item));
  const names = new Map([...idx.named].map((c) => [c, clusterName(db, runId, c)]));
  const sameName = (a: number, b: number) => !!names.get(a) && names.get(a) === names.get(b);
  const rejected = new Map<number, Set<number>>();
  const rejectedFor = (c: number) => {
    let s = rejected.get(c);
    if (!s) { s = new Set(rejectedForPerson(db, runId, c, clusterGroup(db, runId, c) ?? -1)); rejected.set(c, s); }
    return s;
  };
  const apart = runConstraints(db, runId);
  const L = idx.slC.length / Math.max(1, idx.ids.length);
  const moves: ReclusterPlan['moves'] = [];
  /** undecided members of unnamed groups not moved: item, its group */
  const rest: Array<[number, number]> = [];
  for (let i = 0; i < idx.ids.length; i++) {
    const it = idx.ids[i], from = idx.cluster[i];
    // in the run (-2: embedded after it), undecided, in the noise or an unnamed group that is not curated
    if (from === -2 || decided.has(it) || (from >= 0 && (idx.named.has(from) || idx.curated.has(from)))) continue;
    let best = -1, bs = -Infinity;
    for (let r = i * L; r < (i + 1) * L; r++) {
      const c = idx.slC[r], s = idx.slP[r];
      if (c >= 0 && idx.named.has(c) && Number.isFinite(s) && s > bs) { best = c; bs = s; }
    }
    let other = -Infinity;
    if (best >= 0) {
      for (let r = i * L; r < (i + 1) * L; r++) {
        const c = idx.slC[r], s = idx.slP[r];
        if (c >= 0 && c !== best && !sameName(c, best) && Number.isFinite(s) && s > other) other = s;
      }
    }
    if (best >= 0 && bs >= threshold && bs - other >= margin && !rejectedFor(best).has(it) && !apart.sharesPhoto(it, best)) moves.push([it, from, best]);
    else if (from >= 0) rest.push([it, from]);
  }
  cancelled();
  const regrouped = await regroup(rest, rows, o.seed ?? 1, signal);
  cancelled();
  return { version: idx.learned, moves, regrouped };
}

/** The members of unnamed groups left, by k-means in the learned metric: as many parts as groups, each keeping the id of the group it overlaps most. */
export async function regroup(rest: Array<[number, number]>, rows: MetricRows, seed: number, signal?: AbortSignal): Promise<ReclusterPlan['regrouped']> {
  const rowOf = (id: number) => {
    let lo = 0, hi = rows.ids.length - 1;
    while (lo <= hi) { const m = (lo + hi) >> 1; if (rows.ids[m] === id) return m; if (rows.ids[m] < id) lo = m + 1; else hi = m - 1; }
    return -1;
  };
  const have = rest.map(([it, c]) => [it, c, rowOf(it)] as const).filter((x) => x[2] >= 0);
  const groups = [...new Set(have.map((x) => x[1]))].sort((a, b) => a - b);
  const k = groups.length;
  if (k < 2 || have.length <= k) return [];
  const d = rows.d;
  const X = sharedFloat32(have.length * d);
  have.forEach(([, , r], i) => X.set(rows.X.subarray(r * d, (r + 1) * d), i * d));
  const out = await runTask('cluster', { X, n: have.length, d, params: { algo: 'kmeans', k, nInit: 3, seed }, labelsTrue: null, sourceIds: null, stream: null }, { signal });
  const labels = out.labels;
  // each part takes the id of the group it shares most members with (greedily, largest overlaps first)
  const overlap = new Map<string, number>();
  have.forEach(([, c], i) => { const key = `${labels[i]}:${c}`; overlap.set(key, (overlap.get(key) ?? 0) + 1); });
  const pairs = [...overlap.entries()].map(([key, n]) => { const [l, c] = key.split(':').map(Number); return { l, c, n }; })
    .sort((a, b) => b.n - a.n || a.l - b.l || a.c - b.c);
  const idOf = new Map<number, number>(), taken = new Set<number>();
  for (const p of pairs) if (!idOf.has(p.l) && !taken.has(p.c)) { idOf.set(p.l, p.c); taken.add(p.c); }
  const free = groups.filter((c) => !taken.has(c));
  for (const l of [...new Set(Array.from(labels))].sort((a, b) => a - b)) if (l >= 0 && !idOf.has(l)) idOf.set(l, free.shift()!);
  const moved: ReclusterPlan['regrouped'] = [];
  have.forEach(([it, c], i) => { const to = labels[i] < 0 ? c : idOf.get(labels[i])!; if (to !== c) moved.push([it, c, to]); });
  return moved;
}
