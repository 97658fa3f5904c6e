/**
 * Presets by purpose: a preset picks the algorithm and its parameters from the model (its identity
 * threshold) and the data (number of items, dimension), and says why. Explicit parameters override the preset's values
 * (`applyPreset`); an explicit algorithm other than the preset's keeps only the explicit parameters.
 *
 * - people: faces, few or many photos per person. Average linkage on the kNN graph (algo/cluster/people-link.ts): two
 *   groups join only when the MEAN similarity of their cross pairs reaches the linking similarity, so a run of
 *   look-alike detections (drawn faces, an eye, a cheek) cannot chain into one huge person as single link does; a face
 *   seen once stays a person of one photo (noise). The linking similarity is the library's own (computed on the data
 *   in the worker from the model's impostor tail and the library's pair similarities, algo/cluster/identity-scale.ts),
 *   with the library's sure / maybe thresholds beside it. Exactly: `ward` with average linkage cut at a distance
 *   threshold, limited to the kNN graph.
 * - themes: whole photos, a few large groups. UMAP to 10 dimensions, then HDBSCAN (excess of mass) with a minimum
 *   group size that grows with the collection; noise joins its nearest theme when similar enough.
 * - objects: many small groups (object crops). HDBSCAN leaf selection (many fine clusters) with a small minimum
 *   size, on a UMAP reduction for large or high-dimensional sets; left-overs join a group at cosine >= 0.6.
 * - duplicates: near-identical items: single link at cosine similarity 0.95; lone items are left out (noise).
 * Pure: no I/O.
 */
import { badArg } from '../../common/errors.ts';
import type { ItemKind } from '../../common/types.ts';
import { CLUSTER_PRESETS, type ClusterParams, type ClusterPreset } from '../../common/cluster-contract.ts';

/** The presets (the contract's list: common/cluster-contract.ts). */
export const PRESETS = CLUSTER_PRESETS;

export interface PresetContext {
  n: number;
  d: number;
  kind: ItemKind;
  /** the model's identity threshold (cosine similarity at which two faces are the same person), when it has one */
  identity?: { similarity: number; far: number; set: string; tail?: PeopleTail } | null;
}

/** A model's standardized impostor tail (see algo/cluster/identity-scale.ts). */
export interface PeopleTail { a: number; b: number; set: string; loc?: number; scale?: number }

export interface PresetChoice {
  preset: ClusterPreset;
  params: ClusterParams;
  why: string[];
  /** people: the linking similarity is computed on the data with this impostor tail (unless a distance threshold was given) */
  tail?: PeopleTail;
}

/** The placeholder linking similarity of the people preset until the worker computes the library's own. */
export const PEOPLE_DEFAULT_FLOOR = 0.4;

const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));

/**
 * The preset's parameters for this data. `fallbackTail` (people) is the impostor tail used when the model states
 * none; `tail` in the choice tells the caller to compute the linking similarity on the data with it.
 */
export function resolvePreset(preset: ClusterPreset, c: PresetContext, fallbackTail?: PeopleTail): PresetChoice {
  if (!(PRESETS as readonly string[]).includes(preset)) throw badArg('preset', `expected one of ${PRESETS.join(', ')}, got ${JSON.stringify(preset)}`);
  const why: string[] = [];
  switch (preset) {
    case 'people': {
      const tail = c.identity?.tail ?? fallbackTail;
      if (c.identity) why.push(`the model's identity threshold is cosine ${c.identity.similarity} (false-accept rate ${c.identity.far}, calibrated on ${c.identity.set})`);
      if (c.kind !== 'face') why.push('these are whole photos, not faces: people works best on the face model');
      why.push('average linkage on the 10-NN graph: two groups of faces join only when the mean similarity of all their cross pairs reaches the linking similarity, so look-alike detections do not chain into one person; a face seen once stays a person of one photo');
      if (tail) why.push(`the linking similarity and the sure / maybe thresholds are the library's own: from the impostor tail of ${tail.set} and this library's pair similarities, tightening as the library grows`);
      else why.push(`no impostor tail: linking similarity ${PEOPLE_DEFAULT_FLOOR}`);
      return { preset, params: { algo: 'ward', linkage: 'average', metric: 'cosine', distanceThreshold: round(1 - PEOPLE_DEFAULT_FLOOR) }, why, ...(tail ? { tail } : {}) };
    }
    case 'themes': {
      const mcs = clamp(Math.round(Math.sqrt(c.n) / 2), 5, 200);
      why.push(`whole photos in a few large groups: UMAP to 10 dimensions then HDBSCAN (excess of mass), min group size ${mcs} (half the square root of ${c.n} items, 5..200)`);
      why.push('photos left over join their nearest theme at cosine >= 0.5 to its centre');
      return { preset, params: { algo: 'hdbscan', metric: 'cosine', reduce: 'umap:10', minClusterSize: mcs, minSamples: Math.min(5, mcs), selection: 'eom', attachNoise: 0.5 }, why };
    }
    case 'objects': {
      const mcs = clamp(Math.round(Math.log2(Math.max(2, c.n)) / 2), 3, 10);
      const reduce = c.n > 2000 || c.d > 256 ? 'umap:10' : undefined;
      why.push(`many small groups: HDBSCAN leaf selection (the finest stable clusters), min group size ${mcs} (grows with log2 of ${c.n} items, 3..10)`);
      why.push(reduce ? `UMAP to 10 dimensions first (${c.n} items of ${c.d} dimensions)` : `no reduction (${c.n} items of ${c.d} dimensions)`);
      why.push('items left over join their nearest group at cosine >= 0.6 to its centre (stricter than themes: small groups are easily mixed)');
      return { preset, params: { algo: 'hdbscan', metric: 'cosine', minClusterSize: mcs, minSamples: mcs, selection: 'leaf', attachNoise: 0.6, ...(reduce ? { reduce } : {}) }, why };
    }
    case 'duplicates': {
      why.push('near-identical items: single link at cosine similarity 0.95 (DBSCAN eps 0.05, min samples 2); items with no near copy are left out');
      return { preset, params: { algo: 'dbscan', metric: 'cosine', eps: 0.05, minSamples: 2 }, why };
    }
  }
}

/**
 * The preset's choice with the explicit parameters over it. An explicit algorithm other than the preset's keeps only
 * the explicit parameters (the preset's values belong to its algorithm).
 */
export function applyPreset(choice: PresetChoice, explicit: Partial<ClusterParams>): { params: ClusterParams; overridden: string[] } {
  const given = Object.fromEntries(Object.entries(explicit).filter(([k, v]) => v !== undefined && k !== 'preset')) as Partial<ClusterParams>;
  const overridden = Object.keys(given).filter((k) => k in choice.params && (choice.params as unknown as Record<string, unknown>)[k] !== (given as Record<string, unknown>)[k]);
  if (given.algo && given.algo !== choice.params.algo) return { params: { ...given, preset: choice.preset } as ClusterParams, overridden: ['algo'] };
  return { params: { ...choice.params, ...given, preset: choice.preset }, overridden };
}

function round(x: number): number { return Math.round(x * 1e4) / 1e4; }
