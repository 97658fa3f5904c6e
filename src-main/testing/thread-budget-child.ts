/**
 * A process for thread-budget.test.ts: three UMAP maps at once on a pool under a budget of CONSTELLATE_MAX_THREADS,
 * each worker asking for an ORT session on CONSTELLATE_WORKERS threads and as many SGD helper workers of its own, then
 * a burst of kNN tasks; prints what it saw (threads beyond those before, sampled every 2 ms; the budget's figures).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { WorkerPool, sharedFloat32 } from '../core/workers/pool.ts';
import { budgetStats } from '../core/thread-budget.ts';
import { createRng } from '../algo/rng.ts';
// Node's I/O pool (libuv, a fixed 4, started on first use) is not a compute thread
const threads = () => readdirSync('/proc/self/task').filter((t) => { try { return !readFileSync(`/proc/self/task/${t}/comm`, 'utf8').startsWith('libuv'); } catch { return false; } }).length;
const blobs = (n: number, d: number, seed: number) => { const X = sharedFloat32(n * d), rng = createRng(seed); for (let i = 0; i < X.length; i++) X[i] = rng.normal() + ((i / d | 0) % 4) * 3; return X; };
// a worker started and ended first (the loader's hooks are up); ORT's environment thread (one per process, on the
// first session anywhere) comes later, on top of the base
const warm = new WorkerPool({ maxThreads: 1 });
await warm.run('warmStats', {});
await warm[Symbol.asyncDispose]();
const base = threads();
let peakThreads = 0, peakUsed = 0, atPeak = '';
const probe = setInterval(() => {
  const t = threads() - base;
  if (t > peakThreads) { peakThreads = t; atPeak = JSON.stringify(budgetStats()); }
  peakUsed = Math.max(peakUsed, budgetStats().used);
}, 2);
const pool = new WorkerPool({ maxThreads: 8 });
const n = 400, d = 8;
const maps = await Promise.all([0, 1, 2].map((s) => pool.run('map', { X: blobs(n, d, s), n, d, params: { method: 'umap', seed: s, nEpochs: 40 } })));
const finite = maps.every((m) => m.xy.length === n * 2 && m.xy.every((v) => Number.isFinite(v)));
const X = blobs(300, 16, 9);
const knn = await Promise.all(Array.from({ length: 12 }, () => pool.run('knn', { X, n: 300, d: 16, k: 3, metric: 'cosine' })));
const poolPeak = pool.stats().peak;
clearInterval(probe);
await pool[Symbol.asyncDispose]();
console.log(JSON.stringify({ base, finite, knn: knn.every((r) => r.indices.length === 900), poolPeak, peakThreads, atPeak, peakUsed, after: budgetStats() }));
