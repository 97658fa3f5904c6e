/**
 * Helpers shared by the benchmarks: run a command under /usr/bin/time -v (wall time + peak RSS of that process),
 * run the scikit-learn peer (/work/shared/peers/peers.py) for one method, run one of our cases in a child process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = process.env.CONSTELLATE_SHARED ? path.resolve(process.env.CONSTELLATE_SHARED) : path.resolve(REPO, '../shared');
export const PY = '/usr/bin/python3';
export const PEERS = path.resolve(SHARED, 'peers/peers.py');

export interface Timed {
  rc: number;
  stdout: string;
  stderr: string;
  wallS: number;
  /** peak RSS of the process in MB (from /usr/bin/time -v), NaN if unknown */
  maxRssMb: number;
}

/** Run a command under /usr/bin/time -v; returns its output, wall seconds and peak RSS. */
export function timed(cmd: string, args: string[], opts: { timeoutS?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Timed {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const tf = path.join(dir, 'time.txt');
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', '-o', tf, cmd, ...args], {
    encoding: 'utf8', maxBuffer: 1 << 28, timeout: (opts.timeoutS ?? 900) * 1000, env: opts.env ?? process.env, cwd: opts.cwd,
  });
  const wallS = (performance.now() - t0) / 1000;
  let maxRssMb = NaN;
  try {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(tf, 'utf8'));
    if (m) maxRssMb = Number(m[1]) / 1024;
  } catch { /* no time file */ }
  rmSync(dir, { recursive: true, force: true });
  return { rc: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', wallS, maxRssMb };
}

export interface PeerResult {
  fitS: number;
  ami: number;
  ari: number;
  nClusters: number;
  noiseShare: number;
  maxRssMb: number;
  extra: Record<string, unknown>;
  error?: string;
  /** set when the peer was killed at this many seconds */
  timeoutS?: number;
}

/** One scikit-learn fit via peers.py (one process). `extraArgs` e.g. ['--eps', '0.5', '--min-samples', '5']. */
export function runPeer(x: string, y: string, k: number, method: string, extraArgs: string[] = [], timeoutS = 900): PeerResult {
  const r = timed(PY, [PEERS, '--x', x, '--labels', y, '--k', String(k), '--methods', method, '--sil-sample', '3000', ...extraArgs], { timeoutS });
  const line = r.stdout.split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.rc === -1) {
    return { fitS: NaN, ami: NaN, ari: NaN, nClusters: NaN, noiseShare: NaN, maxRssMb: r.maxRssMb, extra: {}, error: `timeout after ${timeoutS} s`, timeoutS };
  }
  if (r.rc !== 0 || !line) {
    return { fitS: NaN, ami: NaN, ari: NaN, nClusters: NaN, noiseShare: NaN, maxRssMb: r.maxRssMb, extra: {}, error: `rc=${r.rc} ${r.stderr.slice(-300)}` };
  }
  const j = JSON.parse(line);
  return {
    fitS: j.fit_s, ami: j.quality?.AMI ?? NaN, ari: j.quality?.ARI ?? NaN, nClusters: j.extra?.n_clusters_found ?? NaN,
    noiseShare: j.extra?.noise_frac ?? 0, maxRssMb: r.maxRssMb, extra: j.extra ?? {},
  };
}

/** FAISS 1.7.3 k-means via shared/peers/faiss_kmeans.py (rows L2-normalized, `niter` fixed iterations), one process,
 * with the OpenBLAS variables that slow it here unset for its command only. */
export function runFaissPeer(x: string, y: string, k: number, niter = 25, threads = 2, timeoutS = 900): PeerResult {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE; delete env.OPENBLAS_L2_SIZE;
  const r = timed(PY, [path.resolve(SHARED, 'peers/faiss_kmeans.py'), x, String(k), y, '--niter', String(niter), '--threads', String(threads)], { timeoutS, env });
  const line = r.stdout.split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.rc !== 0 || !line) {
    return { fitS: NaN, ami: NaN, ari: NaN, nClusters: NaN, noiseShare: NaN, maxRssMb: r.maxRssMb, extra: {}, error: `rc=${r.rc} ${r.stderr.slice(-300)}`, ...(r.rc === -1 ? { timeoutS } : {}) };
  }
  const j = JSON.parse(line);
  return { fitS: j.fit_s, ami: j.ami ?? NaN, ari: j.ari ?? NaN, nClusters: k, noiseShare: 0, maxRssMb: r.maxRssMb, extra: { niter: j.niter, faiss: j.faiss } };
}

/** eps the peers recorded for a matrix tag and quantile (reference/peers/peers-runs.jsonl), or NaN. */
export function peerEps(tag: string, q: number): number {
  const lines = readFileSync(path.resolve(SHARED, 'reference/peers/peers-runs.jsonl'), 'utf8').split('\n');
  for (const l of lines) {
    if (!l.startsWith('{')) continue;
    const r = JSON.parse(l);
    if (r.tag === tag && r.method === 'dbscan' && r.extra?.eps_q === q) return r.extra.eps;
  }
  return NaN;
}

export function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}
