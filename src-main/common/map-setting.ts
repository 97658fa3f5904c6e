/**
 * A map's setting: the parameters that decide its layout, with the defaults filled in, so two requests that would
 * draw the same map have the same setting (and key). The library keeps one map per model and setting; getMap finds
 * a map by its setting. Pure: no Node.
 */
import type { MapParams, MapSetting } from './types.ts';

/** declared in types.ts (MapInfo holds one), so the contract's files import no cycle */
export type { MapSetting } from './types.ts';


export const UMAP_DEFAULTS = { nNeighbors: 15, minDist: 0.1 } as const;

export function mapSetting(p: Partial<MapParams> & { method: MapParams['method'] }): MapSetting {
  const base = { method: p.method, metric: p.metric ?? 'cosine', seed: p.seed ?? 0 } as MapSetting;
  if (p.method === 'umap') return { ...base, nNeighbors: p.nNeighbors ?? UMAP_DEFAULTS.nNeighbors, minDist: p.minDist ?? UMAP_DEFAULTS.minDist, nEpochs: p.nEpochs ?? null };
  if (p.method === 'tsne') return { ...base, perplexity: p.perplexity ?? null };
  return base;
}

/** The setting as one canonical string (fixed key order), e.g. `umap metric=cosine seed=0 nNeighbors=15 minDist=0.1 nEpochs=auto`. */
export function mapSettingKey(p: Partial<MapParams> & { method: MapParams['method'] }): string {
  const s = mapSetting(p);
  const parts = [s.method, `metric=${s.metric}`, `seed=${s.seed}`];
  if (s.method === 'umap') parts.push(`nNeighbors=${s.nNeighbors}`, `minDist=${s.minDist}`, `nEpochs=${s.nEpochs ?? 'auto'}`);
  if (s.method === 'tsne') parts.push(`perplexity=${s.perplexity ?? 'auto'}`);
  return parts.join(' ');
}
