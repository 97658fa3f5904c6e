/** The one planner (core/cluster/plan.ts): a preset and the data become a run's parameters, with the preset's record. */
import { describe, expect, it } from 'vitest';
import { FACE_IDENTITY } from '../models/identity.ts';
import { planCluster } from './plan.ts';

const faces = { n: 400, d: 512, kind: 'face' as const, identity: FACE_IDENTITY };

describe('planCluster', () => {
  it('without a preset, the parameters are the run\'s as asked', () => {
    const p = { algo: 'kmeans' as const, k: 3, seed: 2 };
    expect(planCluster(p, faces)).toEqual({ params: p });
  });

  it('people links at the data\'s similarity (with the model\'s tail) unless a threshold, another algorithm or linkage is asked', () => {
    const auto = planCluster({ preset: 'people' }, faces);
    expect(auto.params).toMatchObject({ algo: 'ward', linkage: 'average', metric: 'cosine', preset: 'people' });
    expect(auto.preset?.tail).toBeDefined();
    expect(auto.preset).toMatchObject({ name: 'people', overridden: [] });
    // a threshold given, even the preset's own placeholder value: used as given (the CLI's copy once linked here)
    const own = auto.params.distanceThreshold!;
    for (const t of [own, 0.3]) {
      const given = planCluster({ preset: 'people', distanceThreshold: t }, faces);
      expect(given.params.distanceThreshold).toBe(t);
      expect(given.preset?.tail).toBeUndefined();
    }
    expect(planCluster({ preset: 'people', linkage: 'ward' }, faces).preset?.tail).toBeUndefined();
    const other = planCluster({ preset: 'people', algo: 'kmeans', k: 4 }, faces);
    expect(other.params).toEqual({ algo: 'kmeans', k: 4, preset: 'people' });
    expect(other.preset).toMatchObject({ overridden: ['algo'] });
    expect(other.preset?.tail).toBeUndefined();
  });

  it('the data decides: themes grows its minimum group with the collection; explicit values override and are named', () => {
    const small = planCluster({ preset: 'themes' }, { n: 400, d: 512, kind: 'photo', identity: null });
    const large = planCluster({ preset: 'themes' }, { n: 40_000, d: 512, kind: 'photo', identity: null });
    expect(small.params.minClusterSize).toBe(10);
    expect(large.params.minClusterSize).toBe(100);
    const over = planCluster({ preset: 'themes', minClusterSize: 7 }, { n: 400, d: 512, kind: 'photo', identity: null });
    expect(over.params.minClusterSize).toBe(7);
    expect(over.preset?.overridden).toEqual(['minClusterSize']);
    expect(over.preset?.chose.minClusterSize).toBe(10);
  });
});
