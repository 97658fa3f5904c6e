/**
 * Presets by purpose: a preset picks the algorithm and its parameters from the model (its identity threshold) and the
 * data (number of items, dimension), and says why: each preset's choice is written in the contract
 * (common/cluster-contract.ts CLUSTER_PRESET_INFO), so adding a preset is one entry there. Explicit parameters override
 * the preset's values (`applyPreset`); an explicit algorithm other than the preset's keeps only the explicit parameters.
 * Pure: no I/O.
 */
import { badArg } from '../../common/errors.ts';
import type { ItemKind } from '../../common/types.ts';
import { CLUSTER_PRESETS, CLUSTER_PRESET_INFO, type ClusterParams, type ClusterPreset, type PeopleTail } from '../../common/cluster-contract.ts';

export { PEOPLE_DEFAULT_FLOOR, type PeopleTail } from '../../common/cluster-contract.ts';

/** The presets (the contract's list: common/cluster-contract.ts). */
export const PRESETS = CLUSTER_PRESETS;

export interface PresetContext {
  n: number;
  d: number;
  kind: ItemKind;
  /** the model's identity threshold (cosine similarity at which two faces are the same person), when it has one */
  identity?: { similarity: number; far: number; set: string; tail?: PeopleTail } | null;
}

export interface PresetChoice {
  preset: ClusterPreset;
  params: ClusterParams;
  why: string[];
  /** people: the linking similarity is computed on the data with this impostor tail (unless a distance threshold was given) */
  tail?: PeopleTail;
}

/**
 * The preset's parameters for this data. `fallbackTail` (people) is the impostor tail used when the model states
 * none; `tail` in the choice tells the caller to compute the linking similarity on the data with it.
 */
export function resolvePreset(preset: ClusterPreset, c: PresetContext, fallbackTail?: PeopleTail): PresetChoice {
  if (!(PRESETS as readonly string[]).includes(preset)) throw badArg('preset', `expected one of ${PRESETS.join(', ')}, got ${JSON.stringify(preset)}`);
  const tail = c.identity?.tail ?? fallbackTail;
  return { preset, ...CLUSTER_PRESET_INFO[preset].choose({ n: c.n, d: c.d, kind: c.kind, identity: c.identity ?? null, ...(tail ? { tail } : {}) }) };
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

