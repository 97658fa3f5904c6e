/**
 * Clustering benchmark: our k-means, mini-batch k-means, DBSCAN and UMAP-50 + Ward against scikit-learn 1.2.1 (and
 * umap-learn 0.5.3 for the reduction) in the same run.
 *   npx tsx bench/cluster.mts [--quick] [--full] [--only NAME] [--repeat N] [--out FILE] [--peer-timeout S]
 * UMAP-50 + Ward runs our product path (runClustering: UMAP 50-d, 30 neighbours, min_dist 0, cosine; SGD epochs on all
 * cores; Ward on the result) against peers.py's umap50_ward (umap-learn with n_jobs = cores, then sklearn Ward).
 * --quick: the c3 rows only; --full: adds full k-means on 61,751 x 1,792 (k = 600; minutes per side).
 * Writes a markdown section to bench/results/cluster.md. Other cluster engineers: import { CASES } and add rows via
 * bench/lib/cluster-bench.mts (see its header).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dbscan } from '../src-main/algo/cluster/dbscan.ts';
import { kmeans } from '../src-main/algo/cluster/kmeans.ts';
import { matrixSource, minibatchKmeans } from '../src-main/algo/cluster/minibatch.ts';
import { runClustering } from '../src-main/algo/cluster/run.ts';
import { workerCount } from '../src-main/core/workers/pool.ts';
import { createParallelSgdRunner } from '../src-main/core/workers/sgd-runner.ts';
import { runClusterBench, type ClusterCase } from './lib/cluster-bench.mts';
import { PY, peerEps, REPO, SHARED } from './lib/peer.mts';

const mat = (tag: string) => ({ x: path.resolve(SHARED, `data/matrices/${tag}_X.npy`), y: path.resolve(SHARED, `data/matrices/${tag}_y.npy`) });
const C2 = path.resolve(REPO, '.tmp/c2');
const c2 = { x: `${C2}_X.npy`, y: `${C2}_y.npy` };
const prepareC2 = (): void => {
  if (existsSync(c2.x) && existsSync(c2.y)) return;
  mkdirSync(path.dirname(C2), { recursive: true });
  console.error('generating the 61,751 x 1,792 blobs (k = 600, seed 0) ...');
  spawnSync(PY, [path.resolve(SHARED, 'peers/gen_blobs.py'), '61751', '1792', '600', C2, '--seed', '0'], { stdio: 'inherit' });
};

const km = (seed = 0): ClusterCase['ours'] => async ({ X, n, d, k, gemm }) => (await kmeans(X, n, d, k, { seed, gemm })).labels;
const mb = (seed = 0): ClusterCase['ours'] => async ({ X, n, d, k, gemm }) => (await minibatchKmeans(matrixSource(X, n, d), { k, seed, gemm })).labels;
const db = (eps: number, minSamples = 5): ClusterCase['ours'] => async ({ X, n, d, gemm }) => (await dbscan(X, n, d, eps, minSamples, { gemm })).labels;

const umapWard = (): ClusterCase['ours'] => async ({ X, n, d, k, gemm }) => {
  const sgdRunner = createParallelSgdRunner(workerCount());
  try {
    const out = await runClustering({ X, n, d }, { algo: 'ward', k, seed: 0 }, { gemm, sgdRunner });
    const t = out.timings;
    console.error(`umap50+ward: reduce init ${(t.reduceInit / 1000).toFixed(1)} s, SGD ${((t.reduce - t.reduceInit) / 1000).toFixed(1)} s, ward ${(t.fit / 1000).toFixed(1)} s (${String(out.record.method)})`);
    return out.labels;
  } finally {
    sgdRunner[Symbol.dispose]();
  }
};

const epsC3 = peerEps('c3_5000x128', 0.5);
const epsC1 = peerEps('c1_18969x512', 0.5);
const epsF = peerEps('fashion_t10k_784', 0.5);

export const CASES: ClusterCase[] = [
  { name: 'c3-kmeans', data: 'c3_5000x128', ...mat('c3_5000x128'), k: 50, method: 'k-means', quick: true, ours: km(), peer: { method: 'kmeans' } },
  { name: 'c3-minibatch', data: 'c3_5000x128', ...mat('c3_5000x128'), k: 50, method: 'mini-batch k-means', quick: true, ours: mb(), peer: { method: 'minibatch' } },
  { name: 'c3-dbscan', data: 'c3_5000x128', ...mat('c3_5000x128'), k: 50, method: `DBSCAN eps=${epsC3.toFixed(4)} (q=0.5) ms=5`, quick: true, ours: db(epsC3), peer: { method: 'dbscan', args: ['--eps', String(epsC3), '--min-samples', '5'] } },
  // small-input rows (issue 16): 10,000 x 784 Fashion-MNIST pixels, k = 10
  { name: 'fashion-kmeans', data: 'fashion_t10k_784', ...mat('fashion_t10k_784'), k: 10, method: 'k-means', quick: true, ours: km(), peer: { method: 'kmeans' } },
  { name: 'fashion-minibatch', data: 'fashion_t10k_784', ...mat('fashion_t10k_784'), k: 10, method: 'mini-batch k-means', quick: true, ours: mb(), peer: { method: 'minibatch' } },
  { name: 'fashion-dbscan', data: 'fashion_t10k_784', ...mat('fashion_t10k_784'), k: 10, method: `DBSCAN eps=${epsF.toFixed(4)} (q=0.5) ms=5`, quick: true, ours: db(epsF), peer: { method: 'dbscan', args: ['--eps', String(epsF), '--min-samples', '5'] } },
  { name: 'c1-kmeans', data: 'c1_18969x512', ...mat('c1_18969x512'), k: 237, method: 'k-means', ours: km(), peer: { method: 'kmeans' } },
  { name: 'c1-minibatch', data: 'c1_18969x512', ...mat('c1_18969x512'), k: 237, method: 'mini-batch k-means', ours: mb(), peer: { method: 'minibatch' } },
  { name: 'c1-dbscan', data: 'c1_18969x512', ...mat('c1_18969x512'), k: 237, method: `DBSCAN eps=${epsC1.toFixed(4)} (q=0.5) ms=5`, ours: db(epsC1), peer: { method: 'dbscan', args: ['--eps', String(epsC1), '--min-samples', '5'] } },
  { name: 'c3-umap50-ward', data: 'c3_5000x128', ...mat('c3_5000x128'), k: 50, method: 'UMAP-50 + Ward', quick: true, ours: umapWard(), peer: { method: 'umap50_ward' } },
  { name: 'fashion-umap50-ward', data: 'fashion_t10k_784', ...mat('fashion_t10k_784'), k: 10, method: 'UMAP-50 + Ward', ours: umapWard(), peer: { method: 'umap50_ward' } },
  { name: 'c1-umap50-ward', data: 'c1_18969x512', ...mat('c1_18969x512'), k: 237, method: 'UMAP-50 + Ward (knn-ward micro-clusters above 10,000)', ours: umapWard(), peer: { method: 'umap50_ward' } },
  // vs the strongest peer: FAISS k-means (25 iterations, its default; rows L2-normalized as ours with cosine)
  { name: 'c1-kmeans-faiss', data: 'c1_18969x512', ...mat('c1_18969x512'), k: 237, method: 'k-means (cosine)', ours: km(), peer: { method: 'faiss', kind: 'faiss', niter: 25 } },
  { name: 'c2-kmeans-faiss', data: 'c2_61751x1792', ...c2, k: 600, method: 'k-means (cosine)', full: true, ours: km(), peer: { method: 'faiss', kind: 'faiss', niter: 25 }, prepare: prepareC2 },
  { name: 'c2-minibatch', data: 'c2_61751x1792', ...c2, k: 600, method: 'mini-batch k-means', ours: mb(), peer: { method: 'minibatch' }, prepare: prepareC2 },
  { name: 'c2-kmeans', data: 'c2_61751x1792', ...c2, k: 600, method: 'k-means', full: true, ours: km(), peer: { method: 'kmeans' }, prepare: prepareC2 },
];

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  await runClusterBench(CASES, process.argv.slice(2), {
    title: 'Clustering: ours vs scikit-learn 1.2.1 (same run)',
    out: path.resolve(REPO, 'bench/results/cluster.md'),
    script: self,
  });
}
