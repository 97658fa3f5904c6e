/**
 * Runs UMAP's SGD epochs on several threads. The calling thread (a cluster or map worker) and `threads - 1` helper
 * workers share the epoch's WebAssembly memory and take chunks of rows from a shared counter until none are left; the
 * caller waits for the last chunk before the next epoch. Because a row's update reads only the previous epoch's
 * buffer and its own values (see algo/map/umap-sgd.ts), the embedding is the same for any number of threads and any
 * order the chunks are taken in. A helper that is slow to start only means the others take more chunks.
 */
import { helperLoop } from './helper-loop.ts';
import { AppError } from '../../common/errors.ts';
import { MAX_SGD_SLOTS, serialSgdRunner, sgdEpochRows, type SgdRunner, type SgdState } from '../../algo/map/umap-sgd.ts';
import { runTask } from './pool.ts';
import type { TaskContext } from './tasks.ts';

// control words (Int32Array on a SharedArrayBuffer)
const GEN = 0, EPOCH = 1, SRC = 2, STOP = 3, NEXT = 4, DONE = 5, FAILED = 6, NCHUNK = 7, READY = 8, BOUNDS = 16;
const CHUNK_BITS = 12;
const MAX_CHUNKS = 1 << CHUNK_BITS;

export interface SgdHelperPayload {
  st: SgdState;
  ctrl: Int32Array;
  slot: number;
}

/** Claims the next chunk of generation `gen`, or -1 when it has none left (or a newer generation started). */
function claim(ctrl: Int32Array, gen: number, nChunks: number): number {
  for (;;) {
    const cur = Atomics.load(ctrl, NEXT);
    if (cur >>> CHUNK_BITS !== (gen & 0x7ffff) || (cur & (MAX_CHUNKS - 1)) >= nChunks) return -1;
    if (Atomics.compareExchange(ctrl, NEXT, cur, cur + 1) === cur) return cur & (MAX_CHUNKS - 1);
  }
}

/** Takes and runs chunks of generation `gen` until none are left; returns how many it ran. */
function runChunks(st: SgdState, ctrl: Int32Array, gen: number, slot: number): number {
  const nChunks = Atomics.load(ctrl, NCHUNK);
  const epoch = Atomics.load(ctrl, EPOCH), src = Atomics.load(ctrl, SRC) as 0 | 1;
  let ran = 0;
  for (let c = claim(ctrl, gen, nChunks); c >= 0; c = claim(ctrl, gen, nChunks)) {
    sgdEpochRows(st, epoch, ctrl[BOUNDS + c], ctrl[BOUNDS + c + 1], src, slot);
    ran++;
    if (Atomics.add(ctrl, DONE, 1) + 1 === nChunks) Atomics.notify(ctrl, DONE);
  }
  return ran;
}

/** Worker task: wait for epochs and take chunks until told to stop. */
export async function sgdHelperTask(p: SgdHelperPayload, ctx: TaskContext): Promise<{ result: null }> {
  const { st, ctrl, slot } = p;
  helperLoop(ctrl, () => ctx.isCancelled(), (gen) => runChunks(st, ctrl, gen, slot));
  return { result: null };
}

/** Row boundaries of `count` chunks with about the same number of edges (+ rows) each. */
function chunkBounds(st: SgdState, count: number): Int32Array {
  const indptr = new Int32Array(st.memory.buffer, st.off.indptr, st.n + 1);
  const total = st.m + st.n;
  const b = new Int32Array(count + 1);
  let c = 1;
  for (let i = 0; i < st.n && c < count; i++) {
    if (indptr[i + 1] + i + 1 >= (total * c) / count) b[c++] = i + 1;
  }
  for (; c <= count; c++) b[c] = st.n;
  return b;
}

/** Disposing the runner stops its helpers. */
export interface ParallelSgdRunner extends SgdRunner, Disposable {
  /** chunks run so far, and how many of them by the helpers */
  stats(): { chunks: number; helperChunks: number };
}

/**
 * An SgdRunner on `threads` threads (the caller plus helpers); on one thread, the serial runner. Disposing it stops
 * the helpers; a runner given another state stops the old helpers and starts new ones. By default the caller starts
 * working at once and helpers join when they are up; `startWaitMs` makes a (re)start wait up to that long for them.
 */
export function createParallelSgdRunner(threads: number, opts: { startWaitMs?: number } = {}): ParallelSgdRunner {
  const helpers = Math.min(Math.max(0, Math.floor(threads) - 1), MAX_SGD_SLOTS - 1);
  let chunks = 0, own = 0;
  if (helpers === 0) {
    return {
      epoch(st, epoch, src) { serialSgdRunner.epoch(st, epoch, src); chunks++; own++; },
      [Symbol.dispose]() {},
      stats: () => ({ chunks, helperChunks: 0 }),
    };
  }
  let current: SgdState | null = null;
  let ctrl: Int32Array | null = null;
  let gen = 0;
  // helpers still queued (no place in the thread budget yet) are dropped when the runner stops
  let helperTasks: AbortController | null = null;
  const stop = () => {
    helperTasks?.abort();
    helperTasks = null;
    if (ctrl) { Atomics.store(ctrl, STOP, 1); Atomics.notify(ctrl, GEN); }
    ctrl = null; current = null;
  };
  const start = (st: SgdState) => {
    stop();
    const nChunks = Math.min(MAX_CHUNKS, Math.max(1, Math.min(st.n, 16 * (helpers + 1))));
    ctrl = new Int32Array(new SharedArrayBuffer((BOUNDS + MAX_CHUNKS + 1) * 4));
    ctrl.set(chunkBounds(st, nChunks), BOUNDS);
    Atomics.store(ctrl, NCHUNK, nChunks);
    current = st;
    gen = 0;
    helperTasks = new AbortController();
    for (let h = 0; h < helpers; h++) {
      // a failed helper sets FAILED itself; one that cannot start at all only leaves its chunks to the others
      runTask('sgd', { st, ctrl, slot: h + 1 } satisfies SgdHelperPayload, { signal: helperTasks.signal }).catch(() => {});
    }
    const until = Date.now() + (opts.startWaitMs ?? 0);
    for (let r = Atomics.load(ctrl, READY); r < helpers && Date.now() < until; r = Atomics.load(ctrl, READY)) {
      Atomics.wait(ctrl, READY, r, Math.max(1, until - Date.now()));
    }
  };
  return {
    epoch(st, epoch, src) {
      if (st !== current || !ctrl) start(st);
      const c = ctrl!;
      const nChunks = Atomics.load(c, NCHUNK);
      gen = (gen + 1) & 0x7ffff || 1;
      Atomics.store(c, EPOCH, epoch);
      Atomics.store(c, SRC, src);
      Atomics.store(c, DONE, 0);
      Atomics.store(c, NEXT, gen << CHUNK_BITS);
      Atomics.store(c, GEN, gen);
      Atomics.notify(c, GEN);
      own += runChunks(st, c, gen, 0);
      chunks += nChunks;
      let last = -1, since = Date.now();
      for (;;) {
        const done = Atomics.load(c, DONE);
        if (done >= nChunks) break;
        if (Atomics.load(c, FAILED) === 1) { stop(); throw new AppError('INTERNAL', 'a UMAP SGD helper thread failed'); }
        if (done !== last) { last = done; since = Date.now(); }
        else if (Date.now() - since > 120_000) { stop(); throw new AppError('INTERNAL', 'UMAP SGD helper threads stopped responding'); }
        Atomics.wait(c, DONE, done, 100);
      }
    },
    [Symbol.dispose]: stop,
    stats: () => ({ chunks, helperChunks: chunks - own }),
  };
}
