/**
 * 2-D map benchmark: our UMAP and t-SNE against umap-learn 0.5.3 and scikit-learn 1.2.1 (Barnes-Hut) in the same run,
 * one process per fit (ours and the peer's), one after the other, each under /usr/bin/time -v for its peak RSS.
 *   npx tsx bench/map.mts [--quick] [--fashion] [--only NAME[,NAME]] [--no-peers] [--reps N] [--out FILE]
 * --reps N: N alternating runs per side (ours, peer, ours, peer, ...), medians reported with the load average seen.
 * --quick: the c3_5000x128 rows only; --fashion adds Fashion-MNIST (10,000 x 784) rows. Quality is computed the same way for both sides (our quality.ts reproduces
 * peers.py: trustworthiness@10 with cosine distances on a 5,000-point sample, 10-NN label agreement in the map).
 * Writes a markdown section to bench/results/map.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tsne } from '../src-main/algo/map/tsne.ts';
import { Umap } from '../src-main/algo/map/umap.ts';
import { knnLabelAgreement, trustworthiness } from '../src-main/algo/map/quality.ts';
import { createOrtGemm } from '../src-main/core/gemm-ort.ts';
import { workerCount } from '../src-main/core/workers/pool.ts';
import { createParallelSgdRunner } from '../src-main/core/workers/sgd-runner.ts';
import { createParallelTsneRunner } from '../src-main/core/workers/tsne-runner.ts';
import { readNpyLabels, readNpyMatrix } from '../src-main/core/npy-file.ts';
import { fmt, PEERS, PY, REPO, SHARED, timed } from './lib/peer.mts';

interface MapCase {
  name: string;
  tag: string;
  x: string;
  y: string;
  method: 'umap2d' | 'tsne2d';
  quick?: boolean;
  /** only with --fashion or --only */
  extra?: boolean;
  peer: boolean;
  /** run the C++ peer from shared/peers/r_maps.R (Rtsne Barnes-Hut / uwot) instead of the Python one */
  rPeer?: 'rtsne' | 'uwot';
  /** our t-SNE repulsion (default auto: Barnes-Hut below 5,000 points; from there, per iteration, the cheaper of fft and bh by a cost model of n and the map's extent) */
  tsneMethod?: 'bh' | 'fft' | 'auto';
  prepare?(): void;
}

const mat = (tag: string) => ({ tag, x: path.resolve(SHARED, `data/matrices/${tag}_X.npy`), y: path.resolve(SHARED, `data/matrices/${tag}_y.npy`) });
const gen = (prefix: string, args: string[]) => (): void => {
  if (existsSync(`${prefix}_X.npy`) && existsSync(`${prefix}_y.npy`)) return;
  mkdirSync(path.dirname(prefix), { recursive: true });
  console.error(`generating ${prefix} ...`);
  spawnSync(PY, [path.resolve(SHARED, 'peers/gen_blobs.py'), ...args, prefix, '--seed', args[0] === '61751' ? '0' : '1'], { stdio: 'inherit' });
};
const C2 = path.resolve(REPO, '.tmp/c2');
const B100K = path.resolve(REPO, '.tmp/c100k');

const CASES: MapCase[] = [
  { name: 'c3-umap', ...mat('c3_5000x128'), method: 'umap2d', quick: true, peer: true },
  { name: 'c3-tsne', ...mat('c3_5000x128'), method: 'tsne2d', quick: true, peer: true },
  { name: 'c1-umap', ...mat('c1_18969x512'), method: 'umap2d', peer: true },
  { name: 'c1-tsne', ...mat('c1_18969x512'), method: 'tsne2d', peer: true },
  { name: 'c2-umap', tag: 'c2_61751x1792', x: `${C2}_X.npy`, y: `${C2}_y.npy`, method: 'umap2d', peer: true, prepare: gen(C2, ['61751', '1792', '600']) },
  { name: 'fashion-umap', ...mat('fashion_t10k_784'), method: 'umap2d', peer: true, extra: true },
  { name: 'fashion-tsne', ...mat('fashion_t10k_784'), method: 'tsne2d', peer: true, extra: true },
  // vs the strongest peer (C++): Rtsne's Barnes-Hut t-SNE and uwot, 2 threads, through shared/peers/r_maps.R
  { name: 'fashion-tsne-rtsne', ...mat('fashion_t10k_784'), method: 'tsne2d', peer: true, rPeer: 'rtsne', extra: true },
  { name: 'fashion-tsne-bh-rtsne', ...mat('fashion_t10k_784'), method: 'tsne2d', peer: true, rPeer: 'rtsne', tsneMethod: 'bh', extra: true },
  { name: 'b100k-tsne', tag: 'blobs_100000x128 (k=200)', x: `${B100K}_X.npy`, y: `${B100K}_y.npy`, method: 'tsne2d', peer: false, extra: true, prepare: gen(B100K, ['100000', '128', '200']) },
  { name: 'fashion-umap-uwot', ...mat('fashion_t10k_784'), method: 'umap2d', peer: true, rPeer: 'uwot', extra: true },
  { name: 'b100k-umap', tag: 'blobs_100000x128 (k=200)', x: `${B100K}_X.npy`, y: `${B100K}_y.npy`, method: 'umap2d', peer: false, prepare: gen(B100K, ['100000', '128', '200']) },
];

interface SideResult { fitS: number; trust: number; agree: number; maxRssMb: number; detail?: string; error?: string }

async function worker(name: string): Promise<void> {
  const c = CASES.find((k) => k.name === name)!;
  const M = readNpyMatrix(c.x);
  const y = readNpyLabels(c.y);
  const { rows: n, cols: d } = M;
  const gemm = await createOrtGemm(2);
  const t0 = performance.now();
  let Y: Float32Array;
  let detail: string;
  if (c.method === 'umap2d') {
    // as the map task runs it: SGD epochs on all cores
    const sgdRunner = createParallelSgdRunner(workerCount());
    const u = new Umap({ nComponents: 2, nNeighbors: 15, minDist: 0.1, metric: 'cosine', seed: 0, gemm, sgdRunner });
    await u.initializeFit(M.data, n, d);
    const tInit = performance.now();
    Y = await u.run();
    sgdRunner[Symbol.dispose]();
    detail = `init (kNN + graph + spectral) ${((tInit - t0) / 1000).toFixed(1)} s, ${u.nEpochs} epochs ${((performance.now() - tInit) / 1000).toFixed(1)} s`;
  } else {
    // as the map task runs it: the gradient's phases on all cores
    const runner = createParallelTsneRunner(workerCount());
    const t = new Tsne({ perplexity: 30, seed: 0, gemm, runner, method: c.tsneMethod ?? 'auto' });
    await t.initializeFit(M.data, n, d);
    const tInit = performance.now();
    Y = await t.run();
    const st = runner.stats();
    runner[Symbol.dispose]();
    detail = `repulsion iterations ${JSON.stringify(t.methodIterations)}: init (PCA-50 + kNN + P) ${((tInit - t0) / 1000).toFixed(1)} s, ${t.nIter} iterations ${((performance.now() - tInit) / 1000).toFixed(1)} s ` +
      `(phases on ${workerCount()} threads ${st.parallelCalls}, on one ${st.serialCalls}: the runner picks the faster per phase)`;
  }
  const fitS = (performance.now() - t0) / 1000;
  const trust = await trustworthiness(M.data, n, d, Y, 2, { k: 10, metric: 'cosine', sampleSize: 5000, seed: 0, gemm });
  const agree = knnLabelAgreement(Y, n, 2, y, 10);
  console.log(JSON.stringify({ fitS, trust, agree, detail }));
  process.exit(0);
}

function runOurs(c: MapCase): SideResult {
  const self = fileURLToPath(import.meta.url);
  const r = timed(process.execPath, ['--import', 'tsx', self, '--worker', c.name], { timeoutS: 1200, cwd: REPO });
  const line = r.stdout.split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.rc !== 0 || !line) return { fitS: NaN, trust: NaN, agree: NaN, maxRssMb: r.maxRssMb, error: `rc=${r.rc} ${r.stderr.slice(-400)}` };
  const j = JSON.parse(line);
  return { fitS: j.fitS, trust: j.trust, agree: j.agree, maxRssMb: r.maxRssMb, detail: j.detail };
}

function runPeerMap(c: MapCase): SideResult {
  const r = timed(PY, [PEERS, '--x', c.x, '--labels', c.y, '--methods', c.method, '--tag', c.tag], { timeoutS: 1200 });
  const line = r.stdout.split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.rc !== 0 || !line) return { fitS: NaN, trust: NaN, agree: NaN, maxRssMb: r.maxRssMb, error: `rc=${r.rc} ${r.stderr.slice(-400)}` };
  const j = JSON.parse(line);
  return { fitS: j.fit_s, trust: j.quality?.trustworthiness10_sample ?? NaN, agree: j.quality?.knn10_label_agreement ?? NaN, maxRssMb: r.maxRssMb };
}

/** Rtsne / uwot via Rscript (raw float32 in and out), quality computed here the same way as for ours. */
async function runRPeerMap(c: MapCase, method: 'rtsne' | 'uwot'): Promise<SideResult> {
  const M = readNpyMatrix(c.x);
  const y = readNpyLabels(c.y);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rmap-'));
  try {
    const inF = path.join(dir, 'X.f32'), outF = path.join(dir, 'Y.f32');
    writeFileSync(inF, new Uint8Array(M.data.buffer, M.data.byteOffset, M.rows * M.cols * 4));
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE; delete env.OPENBLAS_L2_SIZE;
    const r = timed('Rscript', [path.resolve(SHARED, 'peers/r_maps.R'), method, inF, String(M.rows), String(M.cols), outF, '2'], { timeoutS: 1200, env });
    const line = r.stdout.split('\n').filter((l) => l.startsWith('{')).pop();
    if (r.rc !== 0 || !line) return { fitS: NaN, trust: NaN, agree: NaN, maxRssMb: r.maxRssMb, error: `rc=${r.rc} ${r.stderr.slice(-400)}` };
    const j = JSON.parse(line);
    const b = readFileSync(outF);
    const Y = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    const gemm = await createOrtGemm(2);
    const trust = await trustworthiness(M.data, M.rows, M.cols, Y, 2, { k: 10, metric: 'cosine', sampleSize: 5000, seed: 0, gemm });
    const agree = knnLabelAgreement(Y, M.rows, 2, y, 10);
    await gemm.release();
    return { fitS: j.fit_s, trust, agree, maxRssMb: r.maxRssMb };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const wi = argv.indexOf('--worker');
  if (wi >= 0) return worker(argv[wi + 1]);
  const quick = argv.includes('--quick');
  const noPeers = argv.includes('--no-peers');
  const oi = argv.indexOf('--only');
  const only = oi >= 0 ? new Set(argv[oi + 1].split(',')) : null;
  const outi = argv.indexOf('--out');
  const out = outi >= 0 ? argv[outi + 1] : path.resolve(REPO, 'bench/results/map.md');
  const withExtra = argv.includes('--fashion');
  const cases = CASES.filter((c) => (only ? only.has(c.name) : quick ? c.quick : !c.extra || withExtra));
  const ri = argv.indexOf('--reps');
  const reps = ri >= 0 ? Math.max(1, Number(argv[ri + 1])) : 1;
  const rows: string[] = [];
  const notes: string[] = [];
  const median = (v: number[]) => { const a = v.filter(Number.isFinite).sort((x, y) => x - y); return a.length ? (a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2) : NaN; };
  const mid = (rs: SideResult[]): SideResult => ({
    fitS: median(rs.map((r) => r.fitS)), trust: median(rs.map((r) => r.trust)), agree: median(rs.map((r) => r.agree)), maxRssMb: median(rs.map((r) => r.maxRssMb)),
    detail: rs.map((r) => r.detail).filter(Boolean).join('; '), error: rs.map((r) => r.error).filter(Boolean).join('; ') || undefined,
  });
  for (const c of cases) {
    c.prepare?.();
    const oursRuns: SideResult[] = [], peerRuns: SideResult[] = [], loads: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      loads.push(os.loadavg()[0]);
      console.error(`[${c.name}] ours (${rep + 1}/${reps}) ...`);
      const o = runOurs(c);
      oursRuns.push(o);
      console.error(`[${c.name}] ours: ${JSON.stringify(o)}`);
      loads.push(os.loadavg()[0]);
      if (c.peer && !noPeers) {
        console.error(`[${c.name}] peer (${rep + 1}/${reps}) ...`);
        const pr = c.rPeer ? await runRPeerMap(c, c.rPeer) : runPeerMap(c);
        peerRuns.push(pr);
        console.error(`[${c.name}] peer: ${JSON.stringify(pr)}`);
        loads.push(os.loadavg()[0]);
      }
    }
    const ours = mid(oursRuns);
    const peer: SideResult | null = peerRuns.length ? mid(peerRuns) : null;
    if (reps > 1) {
      notes.push(`- ${c.tag} ${c.method}${c.tsneMethod ? ` (${c.tsneMethod})` : ''}: ${reps} alternating runs, medians; ours fit s ${oursRuns.map((r) => fmt(r.fitS, 1)).join(', ')}` +
        (peerRuns.length ? `; peer fit s ${peerRuns.map((r) => fmt(r.fitS, 1)).join(', ')}` : '') +
        `; ours/peer per pair ${peerRuns.map((r, i) => fmt(oursRuns[i].fitS / r.fitS, 2)).join(', ')}; 1-min load average ${fmt(Math.min(...loads), 1)}-${fmt(Math.max(...loads), 1)} (median ${fmt(median(loads), 1)})`);
    }
    const peerName = c.rPeer === 'rtsne' ? ' vs Rtsne (C++ BH, 2 threads)' : c.rPeer === 'uwot' ? ' vs uwot (C++, 2 threads)' : '';
    const method = (c.method === 'umap2d' ? 'UMAP-2D (15 nn, min_dist 0.1, cosine)' : `t-SNE 2-D (ours ${c.tsneMethod ?? 'auto'}, perplexity 30, 1000 it)`) + peerName;
    const ratio = peer ? ours.fitS / peer.fitS : NaN;
    rows.push(`| ${c.tag} | ${method} | ${fmt(ours.fitS, 1)} | ${peer ? fmt(peer.fitS, 1) : '-'} | ${fmt(ratio, 2)} | ${fmt(ours.maxRssMb, 0)} | ${peer ? fmt(peer.maxRssMb, 0) : '-'} | ${fmt(ours.trust, 4)} | ${peer ? fmt(peer.trust, 4) : '-'} | ${fmt(ours.agree, 4)} | ${peer ? fmt(peer.agree, 4) : '-'} |`);
    if (ours.detail) notes.push(`- ${c.tag} ${c.method}: ${ours.detail}`);
    if (ours.error) notes.push(`- ${c.tag} ${c.method} ours failed: ${ours.error}`);
    if (peer?.error) notes.push(`- ${c.tag} ${c.method} peer failed: ${peer.error}`);
  }
  const md = [
    '## 2-D maps: UMAP and t-SNE vs umap-learn 0.5.3 / scikit-learn 1.2.1',
    '',
    `Run ${new Date().toISOString()} with \`npx tsx bench/map.mts${argv.length ? ' ' + argv.join(' ') : ''}\` on ${process.platform} (${(await import('node:os')).cpus().length} cores, shared with other jobs: compare within a row only). ` +
      'One process per fit, ours then the peer; fit s = wall seconds of the fit only (data loaded; the peer\'s umap-learn fit includes its numba compile, as peers.py reports it); ' +
      'RSS = peak resident set of the whole process (/usr/bin/time -v). Quality for both sides: trustworthiness@10 (cosine, 5,000-point sample) and 10-NN label agreement in the map. ' +
      'Ours: kNN exact by ORT MatMul blocks up to 20,000 points, rp-forest (2-means hyperplanes) + exact leaf products beyond; ORT Gemm with 2 threads; UMAP SGD epochs in the SIMD WebAssembly kernel on all cores (as the map task runs them); t-SNE gradient phases on all cores through core/workers/tsne-runner.ts (auto: Barnes-Hut below 5,000 points; from there, per iteration, the cheaper of fft and bh by a cost model of n and the extent of the map, unless the row says).',
    '',
    '| data | method | ours fit s | peer fit s | ours/peer | ours RSS MB | peer RSS MB | ours trust@10 | peer trust@10 | ours 10-NN agree | peer 10-NN agree |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...notes,
    '',
  ].join('\n');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, md);
  console.log(md);
}

await main();
