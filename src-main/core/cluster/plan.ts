/**
 * The one planner of a clustering run: the parameters as asked (a preset and/or explicit ones) and the data (items,
 * dimension, kind, the model's identity threshold) become the run's parameters, with the preset's record (what it
 * chose, why, what was overridden, and for people whether the linking similarity is computed on the data). The
 * service (library runs) and the CLI's matrix mode both plan here, so a preset means the same on either path.
 */
import { applyPreset, resolvePreset } from '../../algo/cluster/presets.ts';
import type { ClusterParams, ClusterRequest, IdentityThreshold, ItemKind } from '../../common/types.ts';
import type { PresetRecord } from '../../common/jobs.ts';
import { DEFAULT_TAIL } from '../models/identity.ts';

export interface PlanData {
  n: number;
  d: number;
  kind: ItemKind;
  /** the model's identity threshold (null: none, e.g. a matrix of unknown origin: the built-in face tail stands in) */
  identity: IdentityThreshold | null;
}

export interface ClusterPlan {
  params: ClusterParams;
  /** the preset's record (absent without a preset) */
  preset?: PresetRecord;
}

export function planCluster(req: ClusterRequest, data: PlanData): ClusterPlan {
  if (!req.preset) return { params: req as ClusterParams };
  // the preset picks the algorithm and parameters from the model and the data; explicit ones override it
  const choice = resolvePreset(req.preset, { n: data.n, d: data.d, kind: data.kind, identity: data.identity }, DEFAULT_TAIL);
  const applied = applyPreset(choice, req);
  const params = applied.params;
  // people links at the data's own similarity unless a threshold was given, or another algorithm or linkage asked
  const linked = choice.tail !== undefined && req.distanceThreshold === undefined && params.algo === choice.params.algo && (params.linkage ?? 'ward') === 'average';
  return { params, preset: { name: req.preset, chose: choice.params, why: choice.why, overridden: applied.overridden, ...(linked ? { tail: choice.tail } : {}) } };
}
