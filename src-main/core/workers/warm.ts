/**
 * What a warm worker keeps between tasks: ORT sessions (MatMul for the distance blocks, embedding models), keyed so a
 * changed model file is never served from the cache. Each worker thread has its own cache (this module's state is per
 * thread); the main thread may use it too. `warmStats()` counts what was created, so tests can check reuse.
 */
import { statSync } from 'node:fs';
import { LRUCache } from 'lru-cache';
import { createOrtGemm, type OrtGemm } from '../gemm-ort.ts';
import type { Gemm } from '../../algo/linalg.ts';

const stats = { gemmSessions: 0, gemmReused: 0, modelSessions: 0, modelReused: 0, tasks: 0 };

export function warmStats(): typeof stats {
  return { ...stats };
}

/** Counts one task run on this thread (called by the worker entry). */
export function countTask(): void {
  stats.tasks++;
}

const gemms = new Map<number, Promise<OrtGemm>>();

/** Called after each task: kept sessions let go of the task's matrices. */
export function endTask(): void {
  for (const g of gemms.values()) g.then((x) => x.forget(), () => {});
}

/** A kept Gemm: disposing it (`await using`) is a no-op, the session lives as long as the worker. */
export type WarmGemm = Gemm & AsyncDisposable & { release(): Promise<void> };
const keep = async (): Promise<void> => {};

/**
 * A MatMul Gemm on `threads` intra-op threads, created once per thread count and kept. Disposing it does nothing (the
 * session lives as long as the worker), so task code holds it with `await using` as it would a session of its own.
 */
export async function warmGemm(threads: number, opts: { spin?: boolean } = {}): Promise<WarmGemm> {
  // sessions that do not spin are kept apart (negative keys)
  const key = opts.spin === false ? -threads : threads;
  let g = gemms.get(key);
  if (g) stats.gemmReused++;
  else {
    stats.gemmSessions++;
    g = createOrtGemm(threads, opts);
    gemms.set(key, g);
    g.catch(() => gemms.delete(key));
  }
  const inner = await g;
  const out = ((A: Float32Array, m: number, Bt: Float32Array, n: number, d: number) => inner(A, m, Bt, n, d)) as WarmGemm;
  out[Symbol.asyncDispose] = keep;
  out.release = keep;
  return out;
}

/**
 * warmGemm created on its first product, not before: a task that never multiplies on it pays no session, and one
 * that does pays the creation (when the thread has none yet) inside the timed step that first needs it.
 */
export function lazyWarmGemm(threads: number, opts: { spin?: boolean } = {}): WarmGemm {
  let g: Promise<Gemm> | null = null;
  const out = (async (A: Float32Array, m: number, Bt: Float32Array, n: number, d: number) => {
    g ??= warmGemm(threads, opts);
    return (await g)(A, m, Bt, n, d);
  }) as WarmGemm;
  out[Symbol.asyncDispose] = keep;
  out.release = keep;
  return out;
}

/** Identity of model files on disk: path, size and modification time of each (plus any extra key, e.g. a checksum). */
export function fileKey(files: string[], extra = ''): string {
  return files.map((f) => {
    try { const st = statSync(f); return `${f}:${st.size}:${st.mtimeMs}`; } catch { return `${f}:missing`; }
  }).join('|') + (extra ? `#${extra}` : '');
}

interface Releasable { release(): Promise<void> }
export const MAX_MODELS = 3;
/** Loaded models (lru-cache): the least recently used is released when a fourth is loaded. */
const models = new LRUCache<string, Promise<Releasable>>({
  max: MAX_MODELS,
  dispose: (old, _key, reason) => {
    // evicted or replaced (a failed load deleted is not released: there is nothing to release)
    if (reason === 'evict' || reason === 'set') old.then((m) => m.release(), () => {}).catch(() => {});
  },
});

/** The model cache itself (tests: its bound and what it holds, most recently used first). */
export function warmModelCache(): { max: number; keys: string[]; cache: LRUCache<string, Promise<Releasable>> } {
  return { max: models.max, keys: [...models.keys()], cache: models };
}

/**
 * A loaded model (its ORT sessions) kept under `key` (see fileKey: the files' identity and checksum, plus options
 * that change the sessions). At most MAX_MODELS are kept; the oldest is released when another one is loaded. The
 * caller must not release what it gets.
 */
export async function warmModel<T extends Releasable>(key: string, load: () => Promise<T>): Promise<T> {
  const hit = models.get(key); // a hit becomes the most recently used
  if (hit) {
    stats.modelReused++;
    return hit as Promise<T>;
  }
  stats.modelSessions++;
  const p = load();
  models.set(key, p);
  p.catch(() => { if (models.peek(key) === p) models.delete(key); });
  return p;
}
