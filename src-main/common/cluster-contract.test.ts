/**
 * The clustering contract: one definition per parameter gives the API's check, the CLI's flags, help and check (the
 * same rules, named as each caller writes the parameter) and the defaults.
 */
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import {
  CLUSTER_DEFAULTS, CLUSTER_PARAMS, POSTPROCESS_PARAMS, checkClusterRequest, clusterCliFlags, clusterParamsFromFlags, clusterParamsSchema, parseReduce,
} from './cluster-contract.ts';
import { checkArgs } from './schemas.ts';

const flags = clusterCliFlags();

describe('cluster contract', () => {
  it('every parameter has a CLI flag of the right type, with its default in the help', () => {
    const fields = [...Object.keys(CLUSTER_PARAMS).filter((f) => f !== 'postprocess'), ...Object.keys(POSTPROCESS_PARAMS)];
    expect(Object.keys(flags)).toHaveLength(fields.length);
    expect(flags['min-cluster-size']).toEqual({ type: 'number', help: expect.stringMatching(/\(default 5\)$/) });
    expect(flags['no-hold'].type).toBe('flag');
    expect(flags.exact.type).toBe('flag');
    expect(flags.algo.type).toBe('string');
    expect(flags.reduce.type).toBe('string');
    expect(flags['ae-batch-size'].help).toMatch(/default 256/);
    expect(flags.preset.help).toMatch(/^people \| themes \| objects \| duplicates\b.*: the algorithm and parameters chosen/);
    expect(CLUSTER_DEFAULTS.minClusterSize).toBe(5);
  });

  it('flags become the API\'s parameters (a negated flag, a post-processing with its defaults)', () => {
    const given: Record<string, unknown> = { algo: 'hdbscan', 'min-cluster-size': 8, 'no-hold': true, exact: true, 'min-size': 3 };
    const p = clusterParamsFromFlags((f) => given[f]);
    expect(p).toEqual({ algo: 'hdbscan', minClusterSize: 8, holdGroups: false, exact: true, postprocess: { dedupeSources: false, minSim: null, minSize: 3 } });
    expect(checkArgs('cluster', { model: 'face', params: p }).ok).toBe(true);
    expect(clusterParamsFromFlags(() => undefined)).toEqual({});
  });

  it('one check, named as the caller wrote it: the flag on the CLI, the field in the API', () => {
    const cases: Array<[unknown, string, string]> = [
      [{ algo: 'hdbscan', minClusterSize: 1 }, '--min-cluster-size: expected an integer >= 2, got 1', 'minClusterSize: expected an integer >= 2, got 1'],
      [{ algo: 'magic' }, '--algo: expected one of', 'algo: expected one of'],
      [{ algo: 'gmm', covariance: 'tied' }, '--covariance: expected full or diag, got tied', 'covariance: expected one of full, diag, got "tied"'],
      [{ algo: 'ward', k: 2, linkage: 'single' }, '--linkage: expected ward, average or complete, got single', 'linkage: expected one of ward, average, complete'],
      [{ preset: 'faces' }, '--preset: expected one of people, themes, objects, duplicates', 'preset: expected one of people, themes'],
      [{}, '--algo: is required: kmeans, minibatch-kmeans, hdbscan, dbscan, ward, dec or gmm (or --preset people|themes|objects|duplicates', 'algo: is required (or give a preset'],
      [{ algo: 'kmeans' }, '--k: is required for k-means', 'k: is required for k-means'],
      [{ algo: 'ward', k: 3, distanceThreshold: 0.4 }, '--distance-threshold: give either --k or --distance-threshold', 'distanceThreshold: give either k or distanceThreshold'],
      [{ algo: 'kmeans', k: 2, postprocess: { minSim: 3 } }, '--min-sim: expected a number in [-1, 1]', 'postprocess.minSim: expected a number in [-1, 1]'],
      [{ algo: 'kmeans', k: 2, reduce: 'umap:x' }, '--reduce: expected umap:N, pca:N', 'reduce: expected umap:N, pca:N'],
      [{ algo: 'kmeans', k: 2, reduce: 'umap:1' }, '--reduce: umap dimensions must be 2..100', 'reduce: umap dimensions must be 2..100'],
    ];
    for (const [p, cli, api] of cases) {
      expect(() => checkClusterRequest(p, 'flag'), cli).toThrow(cli);
      expect(() => checkClusterRequest(p, 'field'), api).toThrow(api);
    }
    // the API's door (dispatch) checks the same schema and names `params.*`
    const r = checkArgs('cluster', { model: 'face', params: { algo: 'hdbscan', minClusterSize: 1 } });
    expect(r.ok ? '' : r.message).toMatch(/^params\.minClusterSize: expected an integer >= 2, got 1/);
  });

  it('a preset needs nothing as asked; once planned, the algorithm\'s needs hold whatever the preset', () => {
    expect(v.is(clusterParamsSchema, { preset: 'people', algo: 'kmeans' })).toBe(true);
    expect(checkClusterRequest({ preset: 'people', algo: 'kmeans' }, 'field')).toEqual({ preset: 'people', algo: 'kmeans' });
    expect(() => checkClusterRequest({ preset: 'people', algo: 'kmeans' }, 'field', true)).toThrow(/^k: is required/);
    expect(() => checkClusterRequest({ preset: 'duplicates', algo: 'dbscan' }, 'flag', true)).toThrow(/^--eps: is required/);
  });

  it('the reductions grammar', () => {
    expect(parseReduce('ae:32,umap:10')).toEqual([{ method: 'ae', hidden: [32] }, { method: 'umap', dims: 10 }]);
    expect(parseReduce('ae')).toEqual([{ method: 'ae', hidden: [500, 500, 2000, 10], recipe: 'literature' }]);
    expect(parseReduce(0)).toEqual([]);
    expect(() => parseReduce('tsne:2')).toThrow(/^reduce: expected/);
  });
});
