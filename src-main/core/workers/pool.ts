/**
 * Worker threads for the heavy loops, in a warm, bounded pool. A task runs in a worker with its matrices in
 * SharedArrayBuffers (shared, never copied) or transferred; progress comes back as messages, cancellation goes in
 * through a shared flag the worker's loops poll (its event loop is busy, so a message would not be seen).
 *
 * Workers are started on demand up to `maxThreads` and then kept: a worker that finishes a task takes the next one
 * from the queue, keeping what it loaded (ORT sessions, see warm.ts). Calls beyond the bound wait in a FIFO queue, so a
 * burst of calls costs queue entries, not threads. An idle worker does not keep the process alive and ends after
 * `idleMs` without work. Tasks are typed by the registry in tasks.ts: `runTask('similar', payload)` checks the
 * payload and types the result.
 *
 * Every worker takes its place from the process-wide thread budget (../thread-budget.ts) before it starts and gives it back when
 * it ends, with what its own sessions and pools still held: when the budget has no place, tasks wait in the queue
 * (a pool with no worker of its own tries again every few milliseconds) and the pool never exceeds it. Closing a pool
 * is disposing it (`await pool[Symbol.asyncDispose]()`).
 */
import { config } from '../config.ts';
import { takeThreads, threadBudget, releaseHeld, workerBudget, type ThreadLease } from '../thread-budget.ts';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, Worker } from 'node:worker_threads';
import { AppError, fromPayload, type ErrorPayload } from '../../common/errors.ts';

/**
 * The tasks a worker runs, by name, with their payload and result types: filled in by core/tasks/registry.ts through
 * declaration merging (`declare module`), so the pool, which every feature imports, never imports the registry, which
 * imports every feature.
 */
export interface TaskRegistry {}
type Tasks = TaskRegistry extends { tasks: infer T } ? T : Record<never, never>;
export type TaskName = keyof Tasks & string;
export type TaskPayload<N extends TaskName> = Tasks[N] extends (p: infer P, ...rest: never[]) => unknown ? P : never;
export type TaskResult<N extends TaskName> = Tasks[N] extends (...a: never[]) => Promise<{ result: infer R }> ? R : never;

export interface TaskOptions {
  onProgress?: (stage: string, done: number, total: number, extra?: unknown) => void;
  signal?: AbortSignal;
  transfer?: ArrayBuffer[];
}

/** Messages from a pooled worker; `id` names the task they belong to. */
export type FromWorker =
  | { type: 'progress'; id: number; stage: string; done: number; total: number; extra?: unknown }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: ErrorPayload };

/** A task sent to a pooled worker. */
export interface ToWorker { type: 'run'; id: number; task: string; payload: unknown; cancelFlag: Int32Array }

function workerEntry(): { url: URL; execArgv: string[] } {
  const here = dirname(fileURLToPath(import.meta.url));
  // built app: out/main/worker.js, next to the bundle or one level up when this code sits in a shared chunk
  // (out/main/chunks/*.js); sources: core/tasks/worker.ts through tsx
  if (!import.meta.url.endsWith('.ts')) {
    const built = [join(here, 'worker.js'), join(here, '..', 'worker.js')].find((f) => existsSync(f));
    if (built) return { url: pathToFileURL(built), execArgv: [] };
    throw new AppError('INTERNAL', `the worker bundle (worker.js) is missing next to ${fileURLToPath(import.meta.url)}`);
  }
  const require = createRequire(import.meta.url);
  const tsx = pathToFileURL(require.resolve('tsx/esm')).href;
  return { url: pathToFileURL(join(here, '../tasks/worker.ts')), execArgv: ['--import', tsx] };
}

/** Number of workers to use for parallel work: the cores, at least 1. */
export function workerCount(): number {
  const env = config.workers();
  if (env !== null) return env;
  return Math.max(1, cpus().length);
}

/**
 * The most worker threads one pool runs at once: the process-wide thread budget (../thread-budget.ts: CONSTELLATE_MAX_THREADS,
 * else the cores, at least 4), which every pool shares with the others and with ORT's intra-op threads.
 */
export function maxThreads(): number {
  return threadBudget();
}

interface Pending {
  id: number;
  task: string;
  payload: unknown;
  opts: TaskOptions;
  cancelFlag: Int32Array;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  current: Pending | null;
  idleTimer: NodeJS.Timeout | null;
  /** its place in the thread budget, and what it holds there itself (given back when it ends) */
  lease: ThreadLease;
  held: Int32Array[];
}

export interface PoolStats {
  maxThreads: number;
  /** workers started since the pool was made */
  created: number;
  /** most workers alive at once */
  peak: number;
  alive: number;
  busy: number;
  queued: number;
  /** tasks finished (any outcome) */
  finished: number;
}

/** How often a pool that got no place in the thread budget tries again while tasks wait. */
const BUDGET_RETRY_MS = 5;

export class WorkerPool implements AsyncDisposable {
  private slots = new Set<Slot>();
  private retry: NodeJS.Timeout | null = null;
  private queue: Pending[] = [];
  private nextId = 1;
  private counts = { created: 0, peak: 0, finished: 0 };
  readonly maxThreads: number;
  readonly idleMs: number;

  constructor(opts: { maxThreads?: number; idleMs?: number } = {}) {
    this.maxThreads = Math.max(1, Math.floor(opts.maxThreads ?? maxThreads()));
    // a pool nested in a worker (helpers of one task) gives its places back soon
    this.idleMs = opts.idleMs ?? (config.positive('CONSTELLATE_WORKER_IDLE_MS') ?? (isMainThread ? 30_000 : 1_000));
  }

  run<N extends TaskName>(task: N, payload: TaskPayload<N>, opts: TaskOptions = {}): Promise<TaskResult<N>> {
    return new Promise<TaskResult<N>>((resolve, reject) => {
      const p: Pending = {
        id: this.nextId++, task, payload, opts, cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
        resolve: resolve as (v: unknown) => void, reject,
      };
      if (opts.signal) {
        p.onAbort = () => {
          Atomics.store(p.cancelFlag, 0, 1);
          const q = this.queue.indexOf(p);
          if (q >= 0) { // not started yet: it never will
            this.queue.splice(q, 1);
            this.settle(p, () => p.reject(new AppError('CANCELLED', `${task} was cancelled before it started`)));
          }
        };
        if (opts.signal.aborted) { p.onAbort(); return void p.reject(new AppError('CANCELLED', `${task} was cancelled before it started`)); }
        opts.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.queue.push(p);
      this.pump();
    });
  }

  stats(): PoolStats {
    let busy = 0;
    for (const s of this.slots) if (s.current) busy++;
    return { maxThreads: this.maxThreads, ...this.counts, alive: this.slots.size, busy, queued: this.queue.length };
  }

  /** Ends every worker (running tasks fail with INTERNAL, queued ones are dropped with CANCELLED). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The same as disposing the pool. */
  async close(): Promise<void> {
    if (this.retry) { clearTimeout(this.retry); this.retry = null; }
    for (const p of this.queue.splice(0)) this.settle(p, () => p.reject(new AppError('CANCELLED', `${p.task}: the worker pool was closed`)));
    await Promise.all([...this.slots].map((s) => this.drop(s, new AppError('INTERNAL', 'the worker pool was closed'))));
  }

  private settle(p: Pending, fn: () => void): void {
    if (p.onAbort) p.opts.signal?.removeEventListener('abort', p.onAbort);
    this.counts.finished++;
    fn();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot: Slot | undefined;
      for (const s of this.slots) if (!s.current) { slot = s; break; }
      if (!slot) {
        if (this.slots.size >= this.maxThreads) return;
        const lease = takeThreads(1, 1);
        if (!lease) { this.waitForBudget(); return; }
        try { slot = this.spawn(lease); } catch (e) {
          lease[Symbol.dispose]();
          const p = this.queue.shift()!;
          this.settle(p, () => p.reject(e));
          continue;
        }
      }
      this.assign(slot, this.queue.shift()!);
    }
  }

  /** No place in the budget: try again soon while tasks wait and this pool has no worker to free up. */
  private waitForBudget(): void {
    if (this.retry || this.slots.size > 0) return; // a worker of its own ending or finishing pumps again
    this.retry = setTimeout(() => { this.retry = null; this.pump(); }, BUDGET_RETRY_MS);
  }

  private spawn(lease: ThreadLease): Slot {
    const { url, execArgv } = workerEntry();
    const wb = workerBudget();
    const worker = new Worker(url, { execArgv, workerData: { pooled: true, ...wb } });
    const slot: Slot = { worker, current: null, idleTimer: null, lease, held: wb.held };
    this.slots.add(slot);
    this.counts.created++;
    this.counts.peak = Math.max(this.counts.peak, this.slots.size);
    worker.on('message', (m: FromWorker) => {
      const p = slot.current;
      if (!p || m.id !== p.id) return;
      if (m.type === 'progress') { p.opts.onProgress?.(m.stage, m.done, m.total, m.extra); return; }
      slot.current = null;
      this.settle(p, () => (m.type === 'result' ? p.resolve(m.result) : p.reject(fromPayload(m.error))));
      this.idle(slot);
      this.pump();
    });
    worker.on('error', (e) => void this.drop(slot, new AppError('INTERNAL', `worker for ${slot.current?.task ?? 'a task'} failed: ${e.message}`)));
    worker.on('exit', (code) => void this.drop(slot, new AppError('INTERNAL', `worker for ${slot.current?.task ?? 'a task'} exited (code ${code})`)));
    return slot;
  }

  private assign(slot: Slot, p: Pending): void {
    if (slot.idleTimer) { clearTimeout(slot.idleTimer); slot.idleTimer = null; }
    slot.current = p;
    slot.worker.ref();
    const msg: ToWorker = { type: 'run', id: p.id, task: p.task, payload: p.payload, cancelFlag: p.cancelFlag };
    try {
      slot.worker.postMessage(msg, (p.opts.transfer ?? []) as never);
    } catch (e) {
      slot.current = null;
      this.settle(p, () => p.reject(new AppError('INTERNAL', `cannot send ${p.task} to a worker: ${(e as Error).message}`)));
      this.idle(slot);
    }
  }

  private idle(slot: Slot): void {
    slot.worker.unref(); // an idle worker does not keep the process alive
    slot.idleTimer = setTimeout(() => void this.drop(slot, null), this.idleMs);
    slot.idleTimer.unref();
  }

  private async drop(slot: Slot, err: AppError | null): Promise<void> {
    if (!this.slots.delete(slot)) return;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    const p = slot.current;
    slot.current = null;
    if (p && err) this.settle(p, () => p.reject(err));
    await slot.worker.terminate().catch(() => {});
    // its place, and what its sessions and pools never gave back (their threads ended with it)
    releaseHeld(slot.held);
    slot.lease[Symbol.dispose]();
    this.pump();
  }
}

let shared: WorkerPool | null = null;

/** This thread's pool (each worker thread that starts tasks of its own, e.g. UMAP's SGD helpers, has its own). */
export function defaultPool(): WorkerPool {
  shared ??= new WorkerPool();
  return shared;
}

/** Runs one task on this thread's pool and resolves with its result. */
export function runTask<N extends TaskName>(task: N, payload: TaskPayload<N>, opts: TaskOptions = {}): Promise<TaskResult<N>> {
  return defaultPool().run(task, payload, opts);
}

/** A Float32Array in shared memory, so workers see it without a copy. */
export function sharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * 4));
}

export function toShared(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = sharedFloat32(a.length);
  s.set(a);
  return s;
}
