/**
 * HDBSCAN and agglomerative (Ward) benchmark.
 *   npx tsx bench/hdbscan.mts [--quick] [--only PREFIX[,PREFIX]] [--no-umap] [--threads N] [--out FILE]
 * HDBSCAN on c3_5000x128, c1_18969x512 and fashion_t10k(_l2), each parameter set of the reference Python hdbscan
 * (/work/shared/reference/hdbscan): fit time, peak RSS, ARI vs the reference labels, noise-set differences,
 * probability / GLOSH differences, clusters, noise share. Ward: exact (NN-chain, condensed f32 matrix) at growing n on
 * c1 rows, exact vs micro-clusters (kNN-constrained Ward, k-means) on all of c1, and UMAP-50 + Ward on c3 against the
 * peer's umap50_ward. One child process per case (its peak RSS from /usr/bin/time -v).
 * --quick: c3 only. Writes a markdown section to bench/results/hdbscan.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hdbscan } from '../src-main/algo/cluster/hdbscan.ts';
import { agglomerative } from '../src-main/algo/cluster/agglomerative.ts';
import { adjustedMutualInfo, adjustedRandIndex } from '../src-main/algo/metrics.ts';
import { fitUmap } from '../src-main/algo/map/umap.ts';
import { createOrtGemm } from '../src-main/core/gemm-ort.ts';
import { readNpyLabels, readNpyMatrix } from '../src-main/core/npy-file.ts';
import { fmt, REPO, SHARED, timed } from './lib/peer.mts';

const REF = path.resolve(SHARED, 'reference/hdbscan');
const MAT = path.resolve(SHARED, 'data/matrices');
const matrixFile = (tag: string) => (tag.startsWith('fashion') ? 'fashion_t10k_784' : tag);

interface Case { name: string; kind: 'hdbscan' | 'ward' | 'umap-ward'; quick?: boolean; arg: Record<string, unknown> }

const CASES: Case[] = [];
for (const m of ['c3_5000x128', 'c1_18969x512', 'fashion_t10k', 'fashion_t10k_l2']) {
  for (const s of ['a', 'b', 'c', 'd']) CASES.push({ name: `hdbscan-${m}-${s}`, kind: 'hdbscan', quick: m.startsWith('c3'), arg: { tag: `${m}_${s}`, matrix: m } });
}
CASES.push({ name: 'ward-c3-exact', kind: 'ward', quick: true, arg: { matrix: 'c3_5000x128', n: 5000, k: 50, maxExact: 32768 } });
for (const n of [5000, 10000, 15000]) CASES.push({ name: `ward-c1-exact-${n}`, kind: 'ward', arg: { matrix: 'c1_18969x512', n, k: 237, maxExact: 32768 } });
CASES.push({ name: 'ward-c1-exact', kind: 'ward', arg: { matrix: 'c1_18969x512', n: 18969, k: 237, maxExact: 32768 } });
CASES.push({ name: 'ward-c1-micro-knn', kind: 'ward', arg: { matrix: 'c1_18969x512', n: 18969, k: 237 } });
CASES.push({ name: 'ward-c1-micro-kmeans', kind: 'ward', arg: { matrix: 'c1_18969x512', n: 18969, k: 237, microMethod: 'kmeans' } });
CASES.push({ name: 'umap50-ward-c3', kind: 'umap-ward', arg: { matrix: 'c3_5000x128', k: 50 } });

async function worker(name: string, threads: number): Promise<void> {
  const c = CASES.find((x) => x.name === name)!;
  const a = c.arg as Record<string, never>;
  const gemm = await createOrtGemm(threads);
  if (c.kind === 'hdbscan') {
    const tag = a.tag as string;
    const meta = JSON.parse(readFileSync(path.join(REF, `${tag}.json`), 'utf8'));
    const P = meta.params;
    const M = readNpyMatrix(path.join(MAT, `${matrixFile(a.matrix)}_X.npy`));
    const y = readNpyLabels(path.join(MAT, `${matrixFile(a.matrix)}_y.npy`));
    const ref = readNpyLabels(path.join(REF, `${tag}_labels.npy`));
    const rp = readNpyMatrix(path.join(REF, `${tag}_probabilities.npy`)).data;
    const ro = readNpyMatrix(path.join(REF, `${tag}_outlier_scores.npy`)).data;
    const t0 = performance.now();
    const r = await hdbscan(M.data, M.rows, M.cols, {
      minClusterSize: P.min_cluster_size, minSamples: P.min_samples ?? undefined,
      clusterSelectionMethod: P.cluster_selection_method ?? 'eom', clusterSelectionEpsilon: P.cluster_selection_epsilon ?? 0,
      metric: 'euclidean', normalize: (a.matrix as string).endsWith('_l2'), gemm,
    });
    const fitS = (performance.now() - t0) / 1000;
    let noise = 0, noiseDiff = 0, maxP = 0, sumP = 0, maxO = 0, sumO = 0;
    for (let i = 0; i < M.rows; i++) {
      if (r.labels[i] < 0) noise++;
      if ((r.labels[i] < 0) !== (ref[i] < 0)) noiseDiff++;
      const dp = Math.abs(r.probabilities[i] - rp[i]); maxP = Math.max(maxP, dp); sumP += dp;
      const dq = Math.abs(r.outlierScores[i] - ro[i]); maxO = Math.max(maxO, dq); sumO += dq;
    }
    console.log(JSON.stringify({
      fitS, mstS: r.stats.mstMs / 1000, nClusters: r.nClusters, refClusters: meta.n_clusters, noiseShare: noise / M.rows,
      refNoise: meta.noise / M.rows, ariRef: adjustedRandIndex(ref, r.labels, { noise: 'label' }), noiseDiff, maxP, meanP: sumP / M.rows,
      maxO, meanO: sumO / M.rows, ami: adjustedMutualInfo(y, r.labels), refAmi: meta.AMI, refFitS: meta.fit_s,
      candidateComponents: r.stats.candidateComponents,
    }));
  } else {
    const M = readNpyMatrix(path.join(MAT, `${a.matrix}_X.npy`));
    const yAll = readNpyLabels(path.join(MAT, `${a.matrix}_y.npy`));
    let X: Float32Array, n: number, d: number;
    const t0 = performance.now();
    let umapS = 0;
    if (c.kind === 'umap-ward') {
      n = M.rows; d = 50;
      X = await fitUmap(M.data, M.rows, M.cols, { nComponents: 50, metric: 'cosine', seed: 0, gemm });
      umapS = (performance.now() - t0) / 1000;
    } else {
      n = a.n as number; d = M.cols; X = M.data.subarray(0, n * d);
    }
    const t1 = performance.now();
    const r = await agglomerative(X, n, d, {
      nClusters: a.k as number, gemm, maxExact: (a.maxExact as number | undefined) ?? undefined,
      microMethod: (a.microMethod as 'kmeans' | undefined) ?? undefined, seed: 0,
    });
    const wardS = (performance.now() - t1) / 1000;
    const y = yAll.subarray(0, n);
    console.log(JSON.stringify({
      fitS: (performance.now() - t0) / 1000, umapS, wardS, n, method: r.method, microMethod: r.microMethod, microClusters: r.microClusters,
      nClusters: r.nClusters, ami: adjustedMutualInfo(y, r.labels), ari: adjustedRandIndex(y, r.labels),
      labels: n === M.rows ? Array.from(r.labels) : undefined,
    }));
  }
  await gemm.release();
  process.exit(0);
}

function run(c: Case, threads: number): Record<string, any> {
  const self = fileURLToPath(import.meta.url);
  const r = timed(process.execPath, ['--import', 'tsx', self, '--worker', c.name, '--threads', String(threads)], { timeoutS: 1500, cwd: REPO });
  const line = r.stdout.split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.rc !== 0 || !line) return { error: `rc=${r.rc} ${r.stderr.slice(-400)}`, maxRssMb: r.maxRssMb, wallS: r.wallS };
  return { ...JSON.parse(line), maxRssMb: r.maxRssMb, wallS: r.wallS };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const ti = argv.indexOf('--threads');
  const threads = ti >= 0 ? Number(argv[ti + 1]) : 2;
  const wi = argv.indexOf('--worker');
  if (wi >= 0) return worker(argv[wi + 1], threads);
  const quick = argv.includes('--quick');
  const noUmap = argv.includes('--no-umap');
  const oi = argv.indexOf('--only');
  const only = oi >= 0 ? argv[oi + 1].split(',') : null;
  const outi = argv.indexOf('--out');
  const out = outi >= 0 ? argv[outi + 1] : path.resolve(REPO, 'bench/results/hdbscan.md');
  const cases = CASES.filter((c) => (only ? only.some((p) => c.name.startsWith(p)) : quick ? c.quick : true))
    .filter((c) => !(noUmap && c.kind === 'umap-ward'));
  const hRows: string[] = [], wRows: string[] = [], notes: string[] = [];
  const peers = readFileSync(path.resolve(SHARED, 'reference/peers/peers-runs.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const wardLabels: Record<string, number[]> = {};
  for (const c of cases) {
    console.error(`[${c.name}] ...`);
    const r = run(c, threads);
    console.error(`[${c.name}] ${JSON.stringify({ ...r, labels: undefined })}`);
    if (r.error) { notes.push(`- ${c.name} failed: ${r.error}`); continue; }
    if (c.kind === 'hdbscan') {
      hRows.push(`| ${c.arg.tag} | ${fmt(r.fitS, 1)} | ${fmt(r.refFitS, 1)} | ${fmt(r.maxRssMb, 0)} | ${fmt(r.ariRef, 4)} | ${r.nClusters} / ${r.refClusters} | ` +
        `${fmt(100 * r.noiseShare, 1)}% / ${fmt(100 * r.refNoise, 1)}% | ${r.noiseDiff} | ${fmt(r.maxP, 4)} / ${r.meanP.toExponential(1)} | ` +
        `${fmt(r.maxO, 4)} / ${r.meanO.toExponential(1)} | ${fmt(r.ami, 3)} / ${fmt(r.refAmi, 3)} |`);
    } else {
      if (r.labels) wardLabels[c.name] = r.labels;
      const peer = peers.find((p) => p.tag === c.arg.matrix && p.method === 'umap50_ward');
      const method = c.kind === 'umap-ward' ? `UMAP-50 (cosine, 15 nn) ${fmt(r.umapS, 1)} s + Ward` : r.method === 'exact' ? 'Ward exact' : `Ward on ${r.microClusters} ${r.microMethod} micro-clusters`;
      wRows.push(`| ${c.arg.matrix} | ${r.n} | ${method} | ${fmt(r.wardS, 1)} | ${fmt(r.fitS, 1)} | ${fmt(r.maxRssMb, 0)} | ${r.nClusters} | ${fmt(r.ami, 4)} | ${fmt(r.ari, 4)} | ` +
        `${peer ? `${fmt(peer.quality.AMI, 4)} (${fmt(peer.fit_s, 1)} s)` : '-'} |`);
    }
  }
  const ex = wardLabels['ward-c1-exact'];
  for (const m of ['ward-c1-micro-knn', 'ward-c1-micro-kmeans']) {
    if (ex && wardLabels[m]) notes.push(`- ${m}: ARI vs exact Ward on c1 ${fmt(adjustedRandIndex(ex, wardLabels[m]), 4)}`);
  }
  const md = [
    '## HDBSCAN and Ward (agglomerative)',
    '',
    `Run ${new Date().toISOString()} with \`npx tsx bench/hdbscan.mts${argv.length ? ' ' + argv.join(' ') : ''}\` on ${process.platform} ` +
      `(${os.cpus().length} cores shared with other jobs; load average at the end ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}). ` +
      `One process per case; fit s = wall seconds of the fit (matrix loaded); RSS = peak resident set of the process (/usr/bin/time -v). ORT Gemm with ${threads} thread(s).`,
    '',
    '### HDBSCAN vs the reference Python hdbscan 0.8.43 (prims_kdtree, float64)',
    '',
    'Ours: exact mutual-reachability MST (tiled all-pairs kNN pass through ORT MatMul, Boruvka on the kNN candidates with a provable ' +
      'lower bound, one tiled all-pairs pass for the lightest edges between the remaining components, Prim on that table), then the ' +
      'reference\'s merge serialization (Prim order from point 0 over MST + kNN edges, numpy 1.24 introsort argsort) and its condensed ' +
      'tree / EOM / leaf / epsilon / probabilities / GLOSH. Euclidean on the rows as stored (fashion_t10k_l2: rows L2-normalized).',
    '',
    '| run | ours fit s | ref fit s | ours RSS MB | ARI vs ref | clusters ours / ref | noise ours / ref | noise-set diff | prob diff max / mean | GLOSH diff max / mean | AMI vs truth ours / ref |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...hRows,
    '',
    '### Ward (and UMAP-50 + Ward)',
    '',
    'Exact = NN-chain with Lance-Williams updates on a condensed Float32Array (n(n-1)/2 x 4 bytes: 5,000 -> 50 MB, 10,000 -> 200 MB, ' +
      '15,000 -> 450 MB, 18,969 -> 720 MB). Above maxExact (default 10,000) Ward runs on 4,000 micro-clusters: kNN-constrained Ward ' +
      '(10-NN graph, cheapest merges first) by default, or seeded k-means; the micro-clusters are then merged by exact weighted Ward.',
    '',
    '| data | n | method | ward s | total s | RSS MB | clusters | AMI | ARI | peer umap50_ward AMI (fit s) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...wRows,
    '',
    ...(notes.length ? ['Notes:', ...notes, ''] : []),
  ].join('\n');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, md);
  console.log(md);
}

await main();
