/**
 * Worker threads for the heavy loops. A task runs in a worker with its matrices in SharedArrayBuffers (shared, never
 * copied) or transferred; progress comes back as messages, cancellation goes in through a shared flag the worker's
 * loops poll (its event loop is busy, so a message would not be seen).
 */
import { config } from '../config.ts';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError, fromPayload, type ErrorPayload } from '../../common/errors.ts';

export interface TaskOptions {
  onProgress?: (stage: string, done: number, total: number, extra?: unknown) => void;
  signal?: AbortSignal;
  transfer?: ArrayBuffer[];
}

type FromWorker =
  | { type: 'progress'; stage: string; done: number; total: number; extra?: unknown }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: ErrorPayload };

function workerEntry(): { url: URL; execArgv: string[] } {
  const here = dirname(fileURLToPath(import.meta.url));
  // built app: out/main/worker.js, next to the bundle or one level up when this code sits in a shared chunk
  // (out/main/chunks/*.js); sources: worker.ts through tsx
  if (!import.meta.url.endsWith('.ts')) {
    const built = [join(here, 'worker.js'), join(here, '..', 'worker.js')].find((f) => existsSync(f));
    if (built) return { url: pathToFileURL(built), execArgv: [] };
    throw new AppError('INTERNAL', `the worker bundle (worker.js) is missing next to ${fileURLToPath(import.meta.url)}`);
  }
  const require = createRequire(import.meta.url);
  const tsx = pathToFileURL(require.resolve('tsx/esm')).href;
  return { url: pathToFileURL(join(here, 'worker.ts')), execArgv: ['--import', tsx] };
}

/** Number of workers to use for parallel work: the cores, at least 1. */
export function workerCount(): number {
  const env = config.workers();
  if (env !== null) return env;
  return Math.max(1, cpus().length);
}

/** Runs one task in a fresh worker thread and resolves with its result. */
export function runTask<T>(task: string, payload: unknown, opts: TaskOptions = {}): Promise<T> {
  let entry: ReturnType<typeof workerEntry>;
  try { entry = workerEntry(); } catch (e) { return Promise.reject(e); }
  const { url, execArgv } = entry;
  const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(url, { execArgv, workerData: { task, payload, cancelFlag }, transferList: opts.transfer as never });
  return new Promise<T>((resolvePromise, reject) => {
    let settled = false;
    const onAbort = () => { Atomics.store(cancelFlag, 0, 1); };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'progress') opts.onProgress?.(m.stage, m.done, m.total, m.extra);
      else if (m.type === 'result') finish(() => resolvePromise(m.result as T));
      else if (m.type === 'error') finish(() => reject(fromPayload(m.error)));
    });
    worker.on('error', (e) => finish(() => reject(new AppError('INTERNAL', `worker for ${task} failed: ${e.message}`))));
    worker.on('exit', (code) => finish(() => reject(new AppError('INTERNAL', `worker for ${task} exited (code ${code})`))));
  });
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
