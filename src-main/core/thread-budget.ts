/**
 * One process-wide thread budget. Every thread that computes takes its place from it: each worker thread of every pool
 * (the main thread's and the pools nested in workers, e.g. UMAP's SGD helpers) and each extra intra-op thread of an ORT
 * session (a session on t intra-op threads starts t - 1 of its own; the thread that runs it is already counted).
 *
 * The budget is a few words of shared memory made by the main thread and handed to every worker it starts
 * (workerData.budget), so all threads take from one counter with atomics. Nothing waits on it here: a pool that gets
 * no place keeps its task queued until a place is given back, a session that gets no extra thread runs on the thread
 * that calls it. Each worker also keeps the count of what it holds (workerData.held), so a worker that ends without
 * giving back its sessions' threads (terminated, crashed) has them given back by the pool that started it.
 *
 * The size: CONSTELLATE_MAX_THREADS, else the cores (os.availableParallelism), at least 4, so that an embedding job on
 * every core of a small machine still leaves threads for read jobs (a sweep, a map, `similar`) beside it.
 *
 * ORT starts no thread of its own outside the budget: its telemetry (onnxruntime 1.30 on Linux) keeps a thread from
 * the first session on and every few seconds starts three more for a flush, whoever runs the sessions. The main
 * thread turns it off (ORT_DISABLE_TELEMETRY, read by ORT when its environment is made) when it makes the budget,
 * which is before it starts any worker or session; a value set by the user is kept.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, workerData } from 'node:worker_threads';
import { config } from './config.ts';

const USED = 0, LIMIT = 1, PEAK = 2, TAKEN = 3;
const WORDS = 4;

/** The size of the budget this process starts with. */
export function threadBudget(): number {
  const env = config.positive('CONSTELLATE_MAX_THREADS');
  if (env !== null && Number.isInteger(env)) return env;
  return Math.max(4, availableParallelism());
}

/** held: this thread's own held word, then its parent's, up to the main thread's pool (which holds none) */
interface Shared { budget: Int32Array; held: Int32Array[] }
let shared: Shared | null = null;

function state(): Shared {
  if (shared) return shared;
  const wd = isMainThread ? null : (workerData as { budget?: unknown; held?: unknown } | null);
  if (wd?.budget instanceof Int32Array && wd.budget.length >= WORDS) {
    shared = { budget: wd.budget, held: Array.isArray(wd.held) ? wd.held.filter((h): h is Int32Array => h instanceof Int32Array) : [] };
  } else {
    // the process's environment (a worker's process.env is its own copy, ORT reads the process's)
    if (isMainThread) config.disableOrtTelemetry();
    const budget = new Int32Array(new SharedArrayBuffer(WORDS * 4));
    budget[LIMIT] = threadBudget();
    shared = { budget, held: [] };
  }
  return shared;
}

/**
 * What to hand to a new worker (workerData): the budget, and its held words: one of its own (what it takes for its
 * sessions and pools is counted there, and in each of this thread's), then this thread's.
 */
export function workerBudget(): { budget: Int32Array; held: Int32Array[] } {
  const s = state();
  return { budget: s.budget, held: [new Int32Array(new SharedArrayBuffer(4)), ...s.held] };
}

export interface BudgetStats {
  /** the budget */
  limit: number;
  /** threads taken now */
  used: number;
  /** most taken at once */
  peak: number;
  /** places given since the process started */
  taken: number;
}

export function budgetStats(): BudgetStats {
  const b = state().budget;
  return { limit: Atomics.load(b, LIMIT), used: Atomics.load(b, USED), peak: Atomics.load(b, PEAK), taken: Atomics.load(b, TAKEN) };
}

/** Threads taken from the budget; given back once, by dispose. */
export interface ThreadLease extends Disposable {
  readonly threads: number;
}

/** A lease of nothing (a session on one thread, a refused request). */
export const NO_THREADS: ThreadLease = { threads: 0, [Symbol.dispose]() {} };

/** Takes up to `want` threads, at least `min`, without waiting: null when fewer than `min` are free. */
export function takeThreads(want: number, min = 0): ThreadLease | null {
  const holder = state().held;
  const b = state().budget;
  const w = Math.max(0, Math.floor(want));
  for (;;) {
    const used = Atomics.load(b, USED);
    const grant = Math.min(w, Atomics.load(b, LIMIT) - used);
    if (grant < min) return null;
    if (grant <= 0) return NO_THREADS;
    if (Atomics.compareExchange(b, USED, used, used + grant) !== used) continue;
    for (let p = Atomics.load(b, PEAK); p < used + grant && Atomics.compareExchange(b, PEAK, p, used + grant) !== p; p = Atomics.load(b, PEAK));
    Atomics.add(b, TAKEN, grant);
    for (const h of holder) Atomics.add(h, 0, grant);
    let live = true;
    return {
      threads: grant,
      [Symbol.dispose]() {
        if (!live) return;
        live = false;
        for (const h of holder) Atomics.sub(h, 0, grant);
        Atomics.sub(b, USED, grant);
      },
    };
  }
}

/**
 * Gives back what an ended worker still held (its sessions' threads, its own pool's workers: what it never gave back
 * itself); `held` is what workerBudget() gave it.
 */
export function releaseHeld(held: Int32Array[]): void {
  const [own, ...up] = held;
  const n = own ? Atomics.exchange(own, 0, 0) : 0;
  if (n <= 0) return;
  for (const h of up) Atomics.sub(h, 0, n);
  Atomics.sub(state().budget, USED, n);
}

/**
 * The intra-op threads for an ORT session that asks for `want`: one (the calling thread's own) plus the extra ones the
 * budget gives now; the lease gives them back when the session is released.
 */
export function sessionThreads(want: number | undefined): { intraOpNumThreads: number; lease: ThreadLease } {
  const lease = takeThreads(Math.max(1, Math.floor(want ?? 1)) - 1) ?? NO_THREADS;
  return { intraOpNumThreads: 1 + lease.threads, lease };
}
