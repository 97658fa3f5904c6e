import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../testing/fixtures.ts';
import { budgetStats, takeThreads } from './thread-budget.ts';
import { createOrtGemm } from './gemm-ort.ts';

// read when the budget is first used (below, after the imports): a budget of 3 and tasks that ask for 4 threads each
// (ORT intra-op threads and UMAP SGD helpers: CONSTELLATE_WORKERS)
process.env.CONSTELLATE_MAX_THREADS = '3';
process.env.CONSTELLATE_WORKERS = '4';

// Node's I/O pool (libuv, a fixed 4, started on first use) is not a compute thread
const threads = () => readdirSync('/proc/self/task').filter((t) => { try { return !readFileSync(`/proc/self/task/${t}/comm`, 'utf8').startsWith('libuv'); } catch { return false; } }).length;
const linux = (() => { try { return threads() > 0; } catch { return false; } })();

describe('the process-wide thread budget', () => {
  it.skipIf(!linux)('ORT sessions take their extra intra-op threads from it and give them back on release; none left, a session runs on its caller', async () => {
    // ORT starts no thread of its own: its telemetry thread (made with the first session, then three more every few
    // seconds) is off in a process that made the budget
    const base = threads();
    const warm = await createOrtGemm(1);
    expect(threads() - base).toBe(0);
    await warm.release();
    expect(budgetStats()).toMatchObject({ limit: 3, used: 0 });
    const made: Array<Awaited<ReturnType<typeof createOrtGemm>>> = [];
    try {
      made.push(await createOrtGemm(2)); // 1 + 1 extra
      expect(budgetStats().used).toBe(1);
      expect(threads() - base).toBe(1);
      made.push(await createOrtGemm(4)); // asks for 3 extra, 2 are left
      expect(budgetStats().used).toBe(3);
      expect(threads() - base).toBe(3);
      made.push(await createOrtGemm(3)); // none left: the calling thread only
      expect(budgetStats().used).toBe(3);
      expect(threads() - base).toBe(3);
      const r = await made[2](Float32Array.of(1, 2), 1, Float32Array.of(3, 4), 1, 2);
      expect(r[0]).toBe(11);
    } finally {
      for (const g of made) await g.release();
    }
    expect(budgetStats().used).toBe(0);
    expect(threads()).toBe(base);
    // disposed at the end of its block (`await using`), a session gives its threads back, also when the block throws
    await expect((async () => {
      await using g = await createOrtGemm(3);
      expect(budgetStats().used).toBe(2);
      expect(threads() - base).toBe(2);
      await g(Float32Array.of(1), 1, Float32Array.of(2), 1, 1);
      throw new Error('left early');
    })()).rejects.toThrow('left early');
    expect(budgetStats().used).toBe(0);
    expect(threads()).toBe(base);
    // a lease given back twice counts once
    const l = takeThreads(2)!;
    l[Symbol.dispose](); l[Symbol.dispose]();
    expect(budgetStats().used).toBe(0);
  });

  it.skipIf(!linux)('a pool and the pools nested in its workers never run more threads than the budget together, and give every place back', () => {
    // in a process of its own (src-main/testing/thread-budget-child.ts: this runner's process starts threads of its
    // own): three UMAP maps at once, each worker asking for an ORT session on 4 threads and 3 SGD helper workers of
    // its own, then a burst of kNN tasks beside them
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src-main/testing/thread-budget-child.ts')], {
      cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, CONSTELLATE_MAX_THREADS: '3', CONSTELLATE_WORKERS: '4' },
    });
    expect(r.status, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { finite: boolean; knn: boolean; poolPeak: number; peakThreads: number; peakUsed: number; after: { limit: number; used: number; peak: number } };
    expect(o.finite).toBe(true);
    expect(o.knn).toBe(true);
    expect(o.after.limit).toBe(3);
    expect(o.poolPeak).toBeLessThanOrEqual(3);
    expect(o.peakUsed).toBeGreaterThan(0);
    expect(o.after.peak).toBeLessThanOrEqual(3);
    // threads seen beyond those before the pool: the budget's, and none of ORT's own
    expect(o.peakThreads).toBeGreaterThan(0);
    expect(o.peakThreads).toBeLessThanOrEqual(3);
    // the workers ended: their places, their sessions' threads and their own pools' workers are given back
    expect(o.after.used).toBe(0);
  }, 300_000);
});
