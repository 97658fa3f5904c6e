/** The door checks the deep-clustering fields (issue 32: epochs, patience, tol, ... used to pass unchecked). */
import { describe, expect, it } from 'vitest';
import { checkArgs } from './schemas.ts';

const ask = (params: Record<string, unknown>) => checkArgs('cluster', { model: 'photo', params });

describe('cluster parameters at the door: autoencoder, DEC and GMM fields', () => {
  it('accepts the new forms: bare ae in chains, gmm without k, the training fields in range', () => {
    for (const p of [
      { algo: 'kmeans', k: 10, reduce: 'ae' },
      { algo: 'ward', k: 10, reduce: 'ae,umap:10' },
      { algo: 'gmm', reduce: 'ae,umap:10' },
      { algo: 'gmm', k: 10, covariance: 'diag' },
      { algo: 'dec', k: 10, epochs: 20, patience: 3, minUpdates: 800, aeBatchSize: 128, tol: 0.001, updateInterval: 140, maxIter: 2000 },
    ]) expect(ask(p), JSON.stringify(p)).toMatchObject({ ok: true });
  });

  it('refuses each bad training field, naming it', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ epochs: 0 }, 'epochs'], [{ epochs: 2.5 }, 'epochs'], [{ patience: -1 }, 'patience'], [{ minUpdates: 0 }, 'minUpdates'],
      [{ aeBatchSize: 0 }, 'aeBatchSize'], [{ tol: 1 }, 'tol'], [{ tol: -0.1 }, 'tol'], [{ updateInterval: 0 }, 'updateInterval'],
      [{ maxIter: 'many' }, 'maxIter'], [{ covariance: 'tied' }, 'covariance'], [{ reduce: 'ae,tsne:2' }, 'reduce'], [{ reduce: 'umap' }, 'reduce'],
    ];
    for (const [extra, param] of cases) {
      const r = ask({ algo: 'dec', k: 10, ...extra });
      expect(r.ok, JSON.stringify(extra)).toBe(false);
      expect((r as { param: string }).param, JSON.stringify(extra)).toMatch(new RegExp(param));
    }
    expect(ask({ algo: 'som', k: 3 }).ok).toBe(false);
  });
});
