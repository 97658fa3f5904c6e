/**
 * Harness for clustering benchmarks: each case runs our implementation in its own child process (fit wall time
 * measured around the fit only, peak RSS of that process) and the scikit-learn peer in its own process, in the same
 * run, one after the other. Scripts define their cases and call `runClusterBench(cases, argv)`; the same script is
 * re-entered with `--worker <case name>` for our side.
 *
 * To add rows (e.g. HDBSCAN, Ward): build `ClusterCase` objects and pass `[...CASES, ...yours]` to runClusterBench from
 * your own script, or push to the exported CASES list of bench/cluster.mts before it runs.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Gemm } from '../../src-main/algo/linalg.ts';
import { adjustedMutualInfo, adjustedRandIndex } from '../../src-main/algo/metrics.ts';
import { createOrtGemm } from '../../src-main/core/gemm-ort.ts';
import { readNpyLabels, readNpyMatrix } from '../../src-main/core/npy-file.ts';
import { fmt, REPO, runFaissPeer, runPeer, timed, type PeerResult } from './peer.mts';

export interface OursContext {
  X: Float32Array;
  n: number;
  d: number;
  k: number;
  gemm: Gemm;
  threads: number;
}

export interface ClusterCase {
  /** unique row name */
  name: string;
  /** matrix tag shown in the table */
  data: string;
  /** npy paths (rows, labels) */
  x: string;
  y: string;
  k: number;
  /** method shown in the table */
  method: string;
  /** part of --quick */
  quick?: boolean;
  /** only with --full */
  full?: boolean;
  /** our fit: returns labels (noise -1) */
  ours(ctx: OursContext): Promise<Int32Array>;
  /** peers.py method and extra args (kind 'faiss': shared/peers/faiss_kmeans.py with `niter`); omit for no peer */
  peer?: { method: string; args?: string[]; kind?: 'sklearn' | 'faiss'; niter?: number };
  /** make the input if missing (e.g. generate the 61,751 x 1,792 blobs) */
  prepare?(): void;
}

export interface OursResult {
  fitS: number;
  ami: number;
  ari: number;
  nClusters: number;
  noiseShare: number;
  maxRssMb: number;
  error?: string;
}

async function workerMain(cases: ClusterCase[], name: string): Promise<void> {
  const c = cases.find((x) => x.name === name);
  if (!c) throw new Error(`no case ${name}`);
  const threads = Number(process.env.BENCH_THREADS ?? 2);
  const M = readNpyMatrix(c.x);
  const y = readNpyLabels(c.y);
  const gemm = await createOrtGemm(threads);
  const t0 = performance.now();
  const labels = await c.ours({ X: M.data, n: M.rows, d: M.cols, k: c.k, gemm, threads });
  const fitS = (performance.now() - t0) / 1000;
  const set = new Set<number>();
  let noise = 0;
  for (const l of labels) if (l < 0) noise++; else set.add(l);
  const out: OursResult = {
    fitS, ami: adjustedMutualInfo(y, labels), ari: adjustedRandIndex(y, labels), nClusters: set.size,
    noiseShare: noise / labels.length, maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`\n@@RESULT ${JSON.stringify(out)}\n`);
  await gemm.release();
}

function runOurs(script: string, c: ClusterCase): OursResult {
  const r = timed(process.execPath, ['--import', 'tsx', script, '--worker', c.name], { cwd: REPO, timeoutS: 900 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (r.rc !== 0 || !line) return { fitS: NaN, ami: NaN, ari: NaN, nClusters: NaN, noiseShare: NaN, maxRssMb: r.maxRssMb, error: `rc=${r.rc} ${r.stderr.slice(-400)}` };
  const o = JSON.parse(line.slice(9)) as OursResult;
  // RSS of the whole child as the OS saw it (includes the ORT arena)
  if (Number.isFinite(r.maxRssMb)) o.maxRssMb = r.maxRssMb;
  return o;
}

export interface Row { c: ClusterCase; ours: OursResult; peer: PeerResult | null }

export function markdown(rows: Row[], note: string): string {
  const head = '| data | method | k | peer | ours fit s | peer fit s | time ratio ours/peer | ours peak RSS MB | peer peak RSS MB | ours AMI | peer AMI | ours clusters / noise | peer clusters / noise |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map(({ c, ours, peer }) => {
    const ratio = peer && Number.isFinite(peer.fitS) && peer.fitS > 0 ? ours.fitS / peer.fitS : NaN;
    const to = peer?.timeoutS;
    const peerS = to ? `> ${to} (killed)` : fmt(peer?.fitS ?? NaN);
    const ratioS = to ? `< ${fmt(ours.fitS / to)}` : fmt(ratio);
    const peerName = c.peer?.kind === 'faiss' ? `FAISS 1.7.3 (${c.peer.niter ?? 25} it)` : c.peer ? 'scikit-learn 1.2.1' : '-';
    return `| ${c.data} | ${c.method} | ${c.k} | ${peerName} | ${fmt(ours.fitS)} | ${peerS} | ${ratioS} | ${fmt(ours.maxRssMb, 0)} | ${fmt(peer?.maxRssMb ?? NaN, 0)} | ${fmt(ours.ami, 3)} | ${fmt(peer?.ami ?? NaN, 3)} | ${fmt(ours.nClusters, 0)} / ${fmt(ours.noiseShare, 3)} | ${fmt(peer?.nClusters ?? NaN, 0)} / ${fmt(peer?.noiseShare ?? NaN, 3)} |`;
  });
  return `${head}\n${lines.join('\n')}\n\n${note}\n`;
}

/**
 * Entry point for a bench script. argv: [--quick] [--full] [--only substr] [--repeat N] [--out file.md]
 * [--peer-timeout S (default 900)] [--worker name]
 * With --repeat N each side runs N times alternately and the fastest fit of each is kept (the machine is shared).
 */
export async function runClusterBench(cases: ClusterCase[], argv: string[], opts: { title: string; out: string; script: string }): Promise<Row[]> {
  const wi = argv.indexOf('--worker');
  if (wi >= 0) { await workerMain(cases, argv[wi + 1]); return []; }
  const quick = argv.includes('--quick');
  const full = argv.includes('--full');
  const oi = argv.indexOf('--only');
  const only = oi >= 0 ? argv[oi + 1] : null;
  const ri = argv.indexOf('--repeat');
  const repeat = ri >= 0 ? Math.max(1, Number(argv[ri + 1])) : 1;
  const outi = argv.indexOf('--out');
  const out = outi >= 0 ? argv[outi + 1] : opts.out;
  const pti = argv.indexOf('--peer-timeout');
  const peerTimeout = pti >= 0 ? Number(argv[pti + 1]) : 900;
  const sel = cases.filter((c) => (quick ? c.quick : true) && (full || !c.full) && (!only || c.name.includes(only)));
  const rows: Row[] = [];
  for (const c of sel) {
    c.prepare?.();
    if (!existsSync(c.x)) { console.error(`skip ${c.name}: ${c.x} missing`); continue; }
    let best: OursResult | null = null, bestPeer: PeerResult | null = null;
    for (let r = 0; r < repeat; r++) {
      // alternate the order so neither side always runs on a warmer (or busier) machine
      const peerFirst = r % 2 === 1;
      const doPeer = (): void => {
        if (!c.peer) return;
        const p = c.peer.kind === 'faiss'
          ? runFaissPeer(c.x, c.y, c.k, c.peer.niter ?? 25, Number(process.env.BENCH_THREADS ?? 2), peerTimeout)
          : runPeer(c.x, c.y, c.k, c.peer.method, c.peer.args ?? [], peerTimeout);
        if (p.error) console.error(`peer ${c.name}: ${p.error}`);
        if (!bestPeer || !(bestPeer.fitS <= p.fitS)) bestPeer = p;
      };
      if (peerFirst) doPeer();
      const o = runOurs(opts.script, c);
      if (o.error) console.error(`ours ${c.name}: ${o.error}`);
      if (!best || !(best.fitS <= o.fitS)) best = o;
      if (!peerFirst) doPeer();
    }
    const row: Row = { c, ours: best!, peer: bestPeer };
    rows.push(row);
    const p = row.peer as PeerResult | null;
    console.log(`${c.data} ${c.method} k=${c.k}: ours ${fmt(row.ours.fitS)} s (AMI ${fmt(row.ours.ami, 3)}, ${fmt(row.ours.maxRssMb, 0)} MB)` +
      (p ? ` | ${c.peer?.kind === 'faiss' ? 'faiss' : 'sklearn'} ${fmt(p.fitS)} s (AMI ${fmt(p.ami, 3)}, ${fmt(p.maxRssMb, 0)} MB) | ratio ${fmt(row.ours.fitS / p.fitS)}` : ''));
  }
  const load = (await import('node:os')).loadavg().map((v) => v.toFixed(1)).join(' ');
  const note = `Fit wall seconds with data already loaded, best of ${repeat} alternating run(s) per side; ours: ORT MatMul Gemm with ` +
    `${process.env.BENCH_THREADS ?? 2} threads, one child process per case; sklearn 1.2.1 via shared/peers/peers.py (n_jobs = cores), ` +
    `FAISS rows via shared/peers/faiss_kmeans.py (OpenBLAS variables unset, same threads), one process per fit under /usr/bin/time -v. Peak RSS = whole process (data included). AMI vs the generating labels ` +
    `(noise -1 counted as one label, as sklearn does). Machine: ${(await import('node:os')).cpus().length} cores, load average at the end ${load} (shared machine: ratios are the signal, absolute times are noisy). ${new Date().toISOString()}`;
  const md = `## ${opts.title}\n\n${markdown(rows, note)}`;
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, md);
  console.log(`\n${md}\nwritten to ${out}`);
  return rows;
}
