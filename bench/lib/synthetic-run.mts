/**
 * A library holding one synthetic photo run for the benches: N items of G groups (item i in group i % G), each item's
 * 512-d (or d) vector from `item(g)`, stored as photos with embeddings of model 'bench', and a run whose clusters are
 * the groups (postprocessed like a real run). The caller keeps the library open.
 */
import { postprocess } from '../../src-main/algo/cluster/postprocess.ts';
import { storeRun } from '../../src-main/core/cluster/runs.ts';
import { Library } from '../../src-main/core/library.ts';

export interface SyntheticRun { lib: Library; X: Float32Array; truth: Int32Array; ids: Int32Array; runId: number }

export function syntheticRun(file: string, N: number, G: number, d: number, item: (g: number) => Float32Array): SyntheticRun {
  const lib = Library.open(file);
  const now = Date.now() - 60_000;
  const X = new Float32Array(N * d);
  const truth = new Int32Array(N), ids = new Int32Array(N);
  lib.db.transaction(() => {
    const root = Number(lib.db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?)').run('/bench/photos', now).lastInsertRowid);
    const ph = lib.db.prepare(`INSERT INTO photos (root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format, added_at, updated_at)
      VALUES (?, ?, ?, ?, 1000, ?, ?, 64, 64, 'jpeg', ?, ?)`);
    lib.db.prepare(`INSERT INTO models (name, kind, dim, version, source) VALUES ('bench', 'photo', ?, '1', 'imported')`).run(d);
    const em = lib.db.prepare(`INSERT INTO embeddings (model, item_id, version, vec) VALUES ('bench', ?, '1', ?)`);
    for (let i = 0; i < N; i++) {
      const g = i % G;
      const v = item(g);
      X.set(v, i * d); truth[i] = g;
      ids[i] = Number(ph.run(root, `/bench/photos/g${g}/${i}.jpg`, `g${g}/${i}.jpg`, `g${g}`, now, `h${i}`, now, now).lastInsertRowid);
      em.run(ids[i], Buffer.from(v.buffer, v.byteOffset, d * 4));
    }
  })();
  const pp = postprocess(X, N, d, truth);
  const runId = storeRun(lib.db, {
    model: 'bench', kind: 'photo', params: { algo: 'dbscan', eps: 0.5 }, ids,
    out: { labels: pp.labels, rawLabels: truth, probabilities: null, outlierScores: null, stats: pp.stats, report: pp.report, metrics: { clusters: G, noise: 0, noiseShare: 0 }, timings: {}, record: { synthetic: true }, encoder: null, loss: null } as never,
  });
  return { lib, X, truth, ids, runId };
}
