/**
 * Runs the t-SNE gradient's phases (algo/map/tsne-gradient.ts) on several threads, the way sgd-runner.ts runs UMAP's
 * epochs: the calling thread (a map worker) and `threads - 1` helper workers share the state's SharedArrayBuffers and
 * take chunks of a phase from a shared counter until none are left; the caller waits for the last chunk before the
 * next phase. The chunk boundaries are a function of the sizes only and each chunk writes only its own rows and its own
 * partial sum, which the caller adds in chunk order: the embedding is the same for any number of threads.
 *
 * On a machine shared with other jobs a phase can take longer on two threads than on one: the caller waits at every
 * phase's end for a helper that the scheduler has set aside. So each phase keeps a running mean of its time both ways
 * and runs the faster way, trying the other one every EXPLORE_EVERY calls. Which way a phase runs never changes the
 * result, only the time.
 */
import { helperLoop } from './helper-loop.ts';
import { AppError } from '../../common/errors.ts';
import { serialTsneRunner, tsneChunk, type TsneRunner, type TsneState } from '../../algo/map/tsne-gradient.ts';
import { runTask } from './pool.ts';
import type { TaskContext } from './tasks.ts';

// control words (Int32Array on a SharedArrayBuffer)
const GEN = 0, PHASE = 1, STOP = 3, NEXT = 4, DONE = 5, FAILED = 6, NCHUNK = 7, READY = 8;
const CHUNK_BITS = 12;
const MAX_CHUNKS = 1 << CHUNK_BITS;
const EXPLORE_EVERY = 32;

export interface TsneHelperPayload {
  st: TsneState;
  ctrl: Int32Array;
}

function claim(ctrl: Int32Array, gen: number, nChunks: number): number {
  for (;;) {
    const cur = Atomics.load(ctrl, NEXT);
    if (cur >>> CHUNK_BITS !== (gen & 0x7ffff) || (cur & (MAX_CHUNKS - 1)) >= nChunks) return -1;
    if (Atomics.compareExchange(ctrl, NEXT, cur, cur + 1) === cur) return cur & (MAX_CHUNKS - 1);
  }
}

function runChunks(st: TsneState, ctrl: Int32Array, gen: number): number {
  const nChunks = Atomics.load(ctrl, NCHUNK), phase = Atomics.load(ctrl, PHASE);
  let ran = 0;
  for (let c = claim(ctrl, gen, nChunks); c >= 0; c = claim(ctrl, gen, nChunks)) {
    tsneChunk(st, phase, c, nChunks);
    ran++;
    if (Atomics.add(ctrl, DONE, 1) + 1 === nChunks) Atomics.notify(ctrl, DONE);
  }
  return ran;
}

/** Worker task: wait for phases and take chunks until told to stop. */
export async function tsneHelperTask(p: TsneHelperPayload, ctx: TaskContext): Promise<{ result: null }> {
  const { st, ctrl } = p;
  helperLoop(ctrl, () => ctx.isCancelled(), (gen) => runChunks(st, ctrl, gen));
  return { result: null };
}

/** Disposing the runner stops its helpers. */
export interface ParallelTsneRunner extends TsneRunner, Disposable {
  /** chunks run so far, and how many of them by the helpers */
  stats(): { chunks: number; helperChunks: number; serialCalls: number; parallelCalls: number };
}

/**
 * A TsneRunner on `threads` threads (the caller plus helpers); on one thread, the serial runner. Disposing it stops
 * the helpers; a state that is not the current one (a new fit, or grids that grew) stops the old helpers and starts new
 * ones. `startWaitMs` makes a (re)start wait up to that long for the helpers (tests); by default the caller starts at
 * once and helpers join when they are up. `adaptive: false` always uses all threads (tests).
 */
export function createParallelTsneRunner(threads: number, opts: { startWaitMs?: number; adaptive?: boolean } = {}): ParallelTsneRunner {
  const helpers = Math.min(Math.max(0, Math.floor(threads) - 1), 63);
  let chunks = 0, own = 0;
  if (helpers === 0) {
    return {
      run(st, phase, count) { serialTsneRunner.run(st, phase, count); chunks += count; own += count; },
      [Symbol.dispose]() {},
      stats: () => ({ chunks, helperChunks: 0, serialCalls: 0, parallelCalls: 0 }),
    };
  }
  let current: TsneState | null = null;
  let ctrl: Int32Array | null = null;
  let gen = 0;
  let serialCalls = 0, parallelCalls = 0;
  // per phase: running mean ms on all threads and on the caller alone, calls so far
  const timing = new Map<number, { par: number; ser: number; calls: number }>();
  const adaptive = opts.adaptive ?? true;
  // helpers still queued (no place in the thread budget yet) are dropped when the runner stops
  let helperTasks: AbortController | null = null;
  const stop = () => {
    helperTasks?.abort();
    helperTasks = null;
    if (ctrl) { Atomics.store(ctrl, STOP, 1); Atomics.notify(ctrl, GEN); }
    ctrl = null; current = null;
  };
  const start = (st: TsneState) => {
    stop();
    ctrl = new Int32Array(new SharedArrayBuffer(16 * 4));
    current = st;
    gen = 0;
    helperTasks = new AbortController();
    for (let h = 0; h < helpers; h++) runTask('tsne', { st, ctrl } satisfies TsneHelperPayload, { signal: helperTasks.signal }).catch(() => {});
    const until = Date.now() + (opts.startWaitMs ?? 0);
    for (let r = Atomics.load(ctrl, READY); r < helpers && Date.now() < until; r = Atomics.load(ctrl, READY)) {
      Atomics.wait(ctrl, READY, r, Math.max(1, until - Date.now()));
    }
  };
  return {
    run(st, phase, count) {
      if (count > MAX_CHUNKS) throw new RangeError(`at most ${MAX_CHUNKS} chunks, got ${count}`);
      if (st !== current || !ctrl) start(st);
      let tm = timing.get(phase);
      if (!tm) { tm = { par: NaN, ser: NaN, calls: 0 }; timing.set(phase, tm); }
      tm.calls++;
      let parallel = true;
      if (adaptive) {
        if (Number.isNaN(tm.par)) parallel = true;
        else if (Number.isNaN(tm.ser)) parallel = false;
        else parallel = (tm.par <= tm.ser) !== (tm.calls % EXPLORE_EVERY === 0);
      }
      const t0 = performance.now();
      if (parallel) { runParallel(st, phase, count); parallelCalls++; }
      else { serialTsneRunner.run(st, phase, count); chunks += count; own += count; serialCalls++; }
      const ms = performance.now() - t0;
      if (parallel) tm.par = Number.isNaN(tm.par) ? ms : 0.7 * tm.par + 0.3 * ms;
      else tm.ser = Number.isNaN(tm.ser) ? ms : 0.7 * tm.ser + 0.3 * ms;
    },
    [Symbol.dispose]: stop,
    stats: () => ({ chunks, helperChunks: chunks - own, serialCalls, parallelCalls }),
  };
  function runParallel(st: TsneState, phase: number, count: number): void {
    {
      const c = ctrl!;
      // closed first: a helper still on the last generation (it read GEN, not yet NCHUNK and PHASE) could otherwise
      // read this phase's larger chunk count, find the last generation's counter below it and run a chunk of this phase
      // before it opens (then again when it does), counted in the wrong generation; no phase has generation 0
      Atomics.store(c, NEXT, 0);
      gen = (gen + 1) & 0x7ffff || 1;
      Atomics.store(c, PHASE, phase);
      Atomics.store(c, NCHUNK, count);
      Atomics.store(c, DONE, 0);
      Atomics.store(c, NEXT, gen << CHUNK_BITS);
      Atomics.store(c, GEN, gen);
      Atomics.notify(c, GEN);
      own += runChunks(st, c, gen);
      chunks += count;
      let last = -1, since = Date.now();
      for (;;) {
        const done = Atomics.load(c, DONE);
        if (done >= count) break;
        if (Atomics.load(c, FAILED) === 1) { stop(); throw new AppError('INTERNAL', 'a t-SNE helper thread failed'); }
        if (done !== last) { last = done; since = Date.now(); }
        else if (Date.now() - since > 120_000) { stop(); throw new AppError('INTERNAL', 't-SNE helper threads stopped responding'); }
        Atomics.wait(c, DONE, done, 100);
      }
    }
  }
}
