/**
 * Sweep scores that track label agreement (issue 18): for each set, a DBSCAN eps grid and an HDBSCAN grid are run as
 * the app's sweep runs them (clustering on the embeddings, cosine; scores in a 10-d UMAP reduction), and each
 * setting is scored by silhouette (UMAP space) and by DBCV (algo/cluster/dbcv.ts; UMAP space) under the sweep guards
 * (at least 2 clusters, noise share at most 0.5, points in clusters of one counted as noise). Reported per set: the best AMI of the whole grid and the AMI of the
 * setting each score recommends (with its runner-up).
 *   npx tsx bench/sweep-score.mts [--orl LIB] [--london LIB] [--flowers LIB] [--sets orl,london,flowers,c3,c1,fashion]
 *     [--sample 5000] [--out bench/results/sweep-score.json]
 * Without a library the face sets are scanned and embedded (face model), flowers with the photo model. The matrices
 * larger than --sample rows are scored on a seeded stratified-free uniform sample of that many rows (stated).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { dbcv } from '../src-main/algo/cluster/dbcv.ts';
import { dbscan } from '../src-main/algo/cluster/dbscan.ts';
import { hdbscan } from '../src-main/algo/cluster/hdbscan.ts';
import { runReduce } from '../src-main/algo/cluster/reduce.ts';
import { adjustedMutualInfo, noiseShare, silhouette } from '../src-main/algo/metrics.ts';
import { createRng } from '../src-main/algo/rng.ts';
import { labelsFromFolders } from '../src-main/core/cluster/labels.ts';
import { loadMatrix } from '../src-main/core/store/embeddings.ts';
import { readNpyLabels, readNpyMatrix } from '../src-main/core/npy-file.ts';
import { CoreService } from '../src-main/core/service.ts';
import { sharedPath } from '../src-main/testing/fixtures.ts';

const opt = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const out = opt('out') ?? 'bench/results/sweep-score.json';
const SAMPLE = Number(opt('sample') ?? 5000);
const sets = (opt('sets') ?? 'orl,london,flowers,c3,c1,fashion').split(',');
const tmp = mkdtempSync(join(tmpdir(), 'bench-sweep-'));

async function library(dir: string, model: 'face' | 'photo', given?: string): Promise<{ X: Float32Array; n: number; d: number; y: Int32Array }> {
  const svc = CoreService.open(given ?? join(tmp, `${model}-${Math.random().toString(36).slice(2)}.constellate`));
  if (!given) {
    await svc.addRoots({ paths: [sharedPath('data', dir)] });
    await svc.waitJob({ id: (await svc.scan()).id });
    const e = await svc.waitJob({ id: (await svc.embed({ model, workers: 2 })).id });
    if (e.state !== 'done') throw new Error(`embed ${dir}: ${e.state}`);
  }
  const m = loadMatrix(svc.lib.db, model);
  const y = labelsFromFolders(svc.lib.db, model, m.ids).labels;
  await svc.close();
  return { X: m.X, n: m.n, d: m.d, y };
}

function matrix(name: string): { X: Float32Array; n: number; d: number; y: Int32Array; sampled?: number } {
  const M = readNpyMatrix(sharedPath('data/matrices', `${name}_X.npy`));
  const y = readNpyLabels(sharedPath('data/matrices', `${name}_y.npy`));
  const [n, d] = [M.rows, M.cols];
  if (n <= SAMPLE) return { X: M.data, n, d, y };
  const rng = createRng(11);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < SAMPLE; i++) { const j = i + rng.int(n - i); const t = idx[i]; idx[i] = idx[j]; idx[j] = t; }
  const pick = idx.slice(0, SAMPLE).sort();
  const X = new Float32Array(SAMPLE * d);
  pick.forEach((r, i) => X.set(M.data.subarray(r * d, (r + 1) * d), i * d));
  return { X, n: SAMPLE, d, y: Int32Array.from(pick, (r) => y[r]), sampled: n };
}

interface Point { algo: string; params: Record<string, unknown>; clusters: number; noise: number; ami: number; silhouette: number; dbcv: number; rejected?: string }

async function sweep(name: string, S: { X: Float32Array; n: number; d: number; y: Int32Array; sampled?: number }) {
  const t0 = Date.now();
  const red = await runReduce(S.X, S.n, S.d, [{ method: 'umap', dims: 10 }], { metric: 'cosine', seed: 0 });
  const points: Point[] = [];
  const score = async (algo: string, params: Record<string, unknown>, labels: Int32Array) => {
    const count = new Map<number, number>(); for (const l of labels) if (l >= 0) count.set(l, (count.get(l) ?? 0) + 1);
    const sizes = new Set(count.keys());
    // the guard counts points in clusters of one as noise (as the app's DBSCAN sweep does: singletonsAsNoise)
    let ones = 0; for (const c of count.values()) if (c === 1) ones++;
    const ns = noiseShare(labels) + ones / labels.length;
    const p: Point = { algo, params, clusters: sizes.size, noise: Math.round(ns * 1000) / 1000, ami: adjustedMutualInfo(S.y, labels),
      silhouette: (await silhouette(red.W, S.n, red.d, labels, { metric: red.metric, sampleSize: 10000, seed: 0 })).score,
      dbcv: dbcv(red.W, S.n, red.d, labels, { metric: 'euclidean', sampleSize: 4000, seed: 0 }).score };
    if (p.clusters < 2) p.rejected = 'fewer than 2 clusters';
    else if (ns > 0.5) p.rejected = 'noise share (with clusters of one) > 0.5';
    points.push(p);
  };
  const epsGrid = Array.from({ length: 17 }, (_, i) => Math.round((0.1 + 0.05 * i) * 1000) / 1000);
  for (const ms of [1, 2, 5]) for (const eps of epsGrid) await score('dbscan', { eps, minSamples: ms }, (await dbscan(S.X, S.n, S.d, eps, ms, { metric: 'cosine' })).labels);
  for (const mcs of [2, 3, 5, 8, 12, 20, 40]) for (const sel of ['eom', 'leaf'] as const) for (const msm of [1, mcs]) {
    if (msm === 1 && mcs === 1) continue;
    await score('hdbscan', { minClusterSize: mcs, minSamples: msm, selection: sel }, (await hdbscan(S.X, S.n, S.d, { minClusterSize: mcs, minSamples: msm, clusterSelectionMethod: sel, metric: 'cosine' })).labels);
  }
  const ok = points.filter((p) => !p.rejected);
  const pick = (f: (p: Point) => number, among: Point[]) => { const s = among.filter((p) => Number.isFinite(f(p))).sort((a, b) => f(b) - f(a)); return { best: s[0] ?? null, runnerUp: s[1] ?? null }; };
  const bestAmi = points.reduce((a, b) => (b.ami > a.ami ? b : a));
  const r = {
    set: name, n: S.n, d: S.d, sampledFrom: S.sampled ?? null, settings: points.length, rejected: points.length - ok.length, seconds: Math.round((Date.now() - t0) / 1000),
    bestAmi: { ami: bestAmi.ami, algo: bestAmi.algo, params: bestAmi.params },
    silhouette: pick((p) => p.silhouette, ok), dbcv: pick((p) => p.dbcv, ok),
    // per family: the density methods scored by DBCV as the app's sweep would
    dbscanDbcv: pick((p) => p.dbcv, ok.filter((p) => p.algo === 'dbscan')), hdbscanDbcv: pick((p) => p.dbcv, ok.filter((p) => p.algo === 'hdbscan')),
    dbscanSilhouette: pick((p) => p.silhouette, ok.filter((p) => p.algo === 'dbscan')), hdbscanSilhouette: pick((p) => p.silhouette, ok.filter((p) => p.algo === 'hdbscan')),
    bestAmiDbscan: Math.max(...points.filter((p) => p.algo === 'dbscan').map((p) => p.ami)), bestAmiHdbscan: Math.max(...points.filter((p) => p.algo === 'hdbscan').map((p) => p.ami)),
  };
  const brief = (x: { best: Point | null; runnerUp: Point | null }) => x.best ? `${x.best.ami.toFixed(3)} (${x.best.algo} ${JSON.stringify(x.best.params)}, ${x.best.clusters} cl, noise ${x.best.noise}); runner-up ${x.runnerUp?.ami.toFixed(3)}` : 'none';
  console.log(`${name} n=${S.n}: best AMI ${bestAmi.ami.toFixed(3)} (${bestAmi.algo} ${JSON.stringify(bestAmi.params)}) | silhouette -> ${brief(r.silhouette)} | DBCV -> ${brief(r.dbcv)} | DBSCAN by DBCV ${brief(r.dbscanDbcv)} | HDBSCAN by DBCV ${brief(r.hdbscanDbcv)} | ${r.seconds} s`);
  return { ...r, points };
}

const results: unknown[] = [];
const load = [loadavg().map((x) => Math.round(x * 100) / 100)];
for (const s of sets) {
  const S = s === 'orl' ? await library('faces-orl', 'face', opt('orl')) : s === 'london' ? await library('faces-london', 'face', opt('london'))
    : s === 'flowers' ? await library('photos-flowers', 'photo', opt('flowers'))
      : matrix(s === 'c3' ? 'c3_5000x128' : s === 'c1' ? 'c1_18969x512' : 'fashion_t10k_784');
  results.push(await sweep(s, S));
  load.push(loadavg().map((x) => Math.round(x * 100) / 100));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ load, results }, null, 2));
}
process.exit(0);
