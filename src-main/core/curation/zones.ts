/**
 * A run's identity zones (common/types.ts LibraryZones): the sure and maybe thresholds of this library, from the
 * model's impostor tail and the library's own pair similarities (algo/cluster/identity-scale.ts). Computed once per
 * run, in the clustering worker for runs made since (kept in the run's record as `identity`), or here on first use for
 * a run that has none yet (an older or imported run), then kept in its record the same way. `assign` places only
 * above `sure`; the queues offer above `sure` as sure, between `maybe` and `sure` as uncertain, nothing below `maybe`;
 * merge suggestions are ranked with the same zones. A model without a tail has no zones (null): the callers keep its
 * identity threshold, or their defaults.
 */
import { libraryZones, SURE_FAR_MAX, thresholdAt } from '../../algo/cluster/identity-scale.ts';
import { createRng } from '../../algo/rng.ts';
import type { LibraryZones, SuggestionZone } from '../../common/types.ts';
import { identityThresholdOf } from '../models/identity.ts';
import type { Db } from '../store/db.ts';
import { vectorBlobsOf } from '../store/assign.ts';
import { getModel } from '../store/embeddings.ts';
import { getRun, readRunRecord, runAssignments, updateRunRecord } from '../store/runs.ts';
import { runTask, sharedFloat32 } from '../workers/pool.ts';
import type { TaskContext } from '../workers/tasks.ts';

/** Whether a stored record's `identity` is a complete set of zones. */
function isZones(z: unknown): z is LibraryZones {
  const o = z as LibraryZones | null;
  return !!o && typeof o === 'object' && [o.sure, o.maybe, o.link, o.n].every((x) => typeof x === 'number' && Number.isFinite(x)) && o.maybe <= o.sure;
}

/**
 * The run's zones: from its record, else computed on its faces now (in a worker: libraryZonesTask) and kept in the
 * record; null without a tail.
 */
export async function runZones(db: Db, runId: number): Promise<LibraryZones | null> {
  const run = getRun(db, runId);
  const stored = (run.record as { identity?: unknown }).identity;
  if (isZones(stored)) return stored;
  const tail = identityThresholdOf(db, run.model)?.tail;
  if (!tail) return null;
  const { ids } = runAssignments(db, runId);
  const d = getModel(db, run.model).dim;
  // the run's vectors, as stored, in shared memory for the worker
  const X = sharedFloat32(ids.length * d);
  let n = 0;
  for (const [, vec] of vectorBlobsOf(db, run.model, Array.from(ids))) {
    if (vec.byteLength !== d * 4) continue;
    new Uint8Array(X.buffer, n * d * 4, d * 4).set(vec);
    n++;
  }
  if (n < 2) return null;
  const zones = await runTask('libraryZones', { X: X.subarray(0, n * d), n, d, tail });
  // kept once: a call that finished first has stored the same zones
  const rec = readRunRecord(db, runId);
  if (isZones((rec as { identity?: unknown }).identity)) return rec.identity as LibraryZones;
  rec.identity = zones;
  updateRunRecord(db, runId, rec);
  return zones;
}

export interface LibraryZonesPayload { X: Float32Array; n: number; d: number; tail: Parameters<typeof libraryZones>[3] }

/** A library's zones from its vectors (shared memory) and a model's tail (algo/cluster/identity-scale.ts), in a worker. */
export async function libraryZonesTask(p: LibraryZonesPayload, _ctx: TaskContext): Promise<{ result: LibraryZones }> {
  return { result: libraryZones(p.X, p.n, p.d, p.tail, { rng: createRng(0) }) };
}

/**
 * The false-accept rate per face that `assign` and the queues hold for the comparisons they make NOW: a face is
 * compared with every prototype of every person of the run, so its chance of one impostor prototype above a threshold
 * grows with the number of prototypes (people x samples), not with the library's pairs. The sure threshold is the
 * similarity at the per-comparison rate FACE_FAR / prototypes (Bonferroni over the prototypes compared), from the
 * run's stored location / scale and the model's tail (cheap: no pair is read again), never looser than the model's
 * calibrated per-pair rate (SURE_FAR_MAX). 0.003: about one unknown face in 330 placed, for a goal of none of ~200
 * (BENCHMARKS.md "People decisions that follow the library's size": calibrated with ORL half A's tail, reported on
 * ORL half B, London and the mixed library).
 */
export const FACE_FAR = 0.003;

/**
 * The zones for comparisons made now against `prototypes` prototypes (the run's persons' samples, as many as are
 * compared): sure at the per-face rate FACE_FAR, maybe the run's (never above sure). The library's pair-count sure
 * (`zones.sure`, one impostor pair over all the run's pairs) keeps deciding the preset; this one follows the persons
 * and samples there are when a face is placed or offered, so it tightens as people are added, not as faces arrive.
 */
export function comparisonZones(z: LibraryZones, prototypes: number, faceFar = FACE_FAR): { sure: number; maybe: number; far: number; prototypes: number } {
  const p = Number.isFinite(prototypes) && prototypes >= 1 ? Math.floor(prototypes) : 1;
  const far = Math.min(SURE_FAR_MAX, faceFar / p);
  const sure = Math.round(thresholdAt(z.tail, z.loc, z.scale, far) * 1e4) / 1e4;
  return { sure: Math.max(sure, z.maybe), maybe: Math.min(z.maybe, sure), far, prototypes: p };
}

/** Words for the comparison zones' sure threshold. */
export function comparisonFrom(c: { far: number; prototypes: number }, z: LibraryZones): string {
  return `this library's sure threshold for ${c.prototypes} prototype(s) compared per face (per-face false-accept rate ${FACE_FAR}, per comparison ${c.far.toExponential(1)}; location / scale of the run's ${z.n} faces; tail of ${z.tail.set})`;
}

/** The zone of a similarity (null: below maybe, not offered). */
export function zoneOf(z: Pick<LibraryZones, 'sure' | 'maybe'>, similarity: number): SuggestionZone | null {
  return similarity >= z.sure ? 'sure' : similarity >= z.maybe ? 'maybe' : null;
}

/** Words for a threshold taken from the zones. */
export function zonesFrom(z: LibraryZones, which: SuggestionZone): string {
  const far = which === 'sure' ? z.farSure : z.farMaybe;
  const expected = far * z.pairs;
  return `this library's ${which} threshold (${z.n} faces: per-pair false-accept rate ${far.toExponential(1)}, about ${expected < 10 ? expected.toFixed(1) : Math.round(expected)} impostor pair(s) of ${z.pairs} expected above it; tail of ${z.tail.set})`;
}

/**
 * The least similarity a queue offers and the one from which an offer is sure: the run's zones (maybe, sure; with
 * `prototypes`, the sure threshold for that many prototypes compared per face: comparisonZones); a given
 * threshold above maybe replaces it (nothing is offered below maybe; sure is never below the threshold). Without zones: the model's identity threshold (never below it),
 * or 0.5, and every offer is sure.
 */
export async function queueThresholds(db: Db, runId: number, model: string, given?: number, prototypes?: number): Promise<{ threshold: number; thresholdFrom: string; sure: number }> {
  const zones = await runZones(db, runId);
  if (zones) {
    // with the prototypes a queue compares (its persons' samples): the sure threshold for them, as assign's
    const z = prototypes === undefined ? zones : { ...zones, ...comparisonZones(zones, prototypes) };
    const threshold = Math.max(given ?? z.maybe, z.maybe);
    return { threshold, thresholdFrom: threshold !== z.maybe ? 'given' : zonesFrom(zones, 'maybe'), sure: Math.max(z.sure, threshold) };
  }
  const identity = identityThresholdOf(db, model);
  const threshold = Math.max(given ?? identity?.similarity ?? 0.5, identity?.similarity ?? -1);
  const thresholdFrom = identity && threshold === identity.similarity ? `the model's identity threshold (FAR ${identity.far}, ${identity.set})`
    : given !== undefined ? 'given' : 'default 0.5 (the model states no identity threshold)';
  return { threshold, thresholdFrom, sure: threshold };
}

/**
 * Whether a run's offers can be sure at all: only where the run has identity zones or its model an identity threshold
 * (faces). A run of photos or imported vectors has neither, and its similarities and margins say nothing calibrated:
 * measured through the labeling oracle, offers of such runs were right 0-33% of the time at margins up to 0.18
 * (photos-flowers, faces-orl through the photo model, c1 as imported vectors; BENCHMARKS.md, labeling sessions that
 * learn), so every offer of theirs is uncertain.
 */
export function canBeSure(kind: string): boolean {
  return kind === 'face';
}
