/**
 * Jobs: every long operation runs as a job with `{stage, done, total}` progress, cancellation, and a row in the
 * library's `jobs` table. A job left 'running' by a killed process is marked 'interrupted' at the next open; running
 * the same operation again resumes it, because every job commits its work in small idempotent steps.
 *
 * Scheduling: each job kind declares whether it writes (JOB_KINDS). Write jobs run one at a time, in the order they
 * were started. Read jobs (maps, sweeps, similar items, near-duplicates, comparisons, the compute half of a split)
 * start at once, beside a running write job: they copy what they need at their start inside one SQLite read
 * transaction (`readSnapshot`), so they never see half of an edit or of a folder removal, and they add their result at
 * the end in one transaction of their own (a map row, a split's edit) or not at all. Their threads come from the
 * bounded worker pool (workers/pool.ts), which queues what does not fit.
 */
import { AppError, toPayload } from '../common/errors.ts';
import type { JobKind, JobParams, JobResult } from '../common/jobs.ts';
import type { ErrorPayload } from '../common/errors.ts';
import type { JobProgress, JobState } from '../common/types.ts';
import type { JobInfo } from '../common/jobs.ts';
import type { Db } from './store/db.ts';
import { getJobRow, insertQueuedJob, listJobRows, markJobRunning, newestFaceNoticeJobRow, markUnfinishedJobsInterrupted, writeJobEnd, writeJobEndState, writeJobProgress, type JobRow } from './store/jobs-repo.ts';
import { ioError, isFsIoError, isSqliteIoError } from './io-errors.ts';

export interface JobContext {
  readonly jobId: number;
  readonly signal: AbortSignal;
  /** extra.loss: a training loss per epoch so far (autoencoder / DEC), shown live by the UI */
  progress(stage: string, done: number, total: number, extra?: { loss?: number[] }): void;
  /** throws AppError('CANCELLED') once the job was cancelled */
  checkCancelled(): void;
  isCancelled(): boolean;
}

type Listener = (job: JobInfo) => void;

/**
 * Whether a job kind writes to the library while it runs (one at a time) or reads a snapshot (runs beside them): one
 * entry per kind of the contract's job-kind map (common/job-schemas.ts), checked at compile time.
 */
export const JOB_KINDS: Record<JobKind, { writes: boolean }> = {
  scan: { writes: true },
  embed: { writes: true },
  cluster: { writes: true },
  export: { writes: true },
  map: { writes: false },
  sweep: { writes: false },
  similar: { writes: false },
  neardup: { writes: false },
  split: { writes: false },
  recluster: { writes: false },
  download: { writes: false },
  importEmbeddings: { writes: true },
  importRun: { writes: true },
  exportJob: { writes: true },
};

/** Kinds not listed are treated as writers (the safe side). */
export function jobWrites(kind: string): boolean {
  return (JOB_KINDS as Partial<Record<string, { writes: boolean }>>)[kind]?.writes ?? true;
}

/**
 * Runs `fn` inside one read transaction of `db`: every statement in it sees the same committed state of the library
 * (WAL snapshot), whatever other connections commit meanwhile. `fn` must be synchronous (copy what the job needs).
 */
export function readSnapshot<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).deferred();
}

interface Running {
  info: JobInfo;
  controller: AbortController;
  promise: Promise<JobInfo>;
  lastWrite: number;
  /** a write of the job's own row failed (disk full, read-only): the job stops with this error */
  writeError: AppError | null;
}

export class JobManager {
  private running = new Map<number, Running>();
  private listeners = new Set<Listener>();
  /** the queue of write jobs: each starts when the previous one ended */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private db: Db) {
    // whatever a killed process left running is now interrupted (a read-only open, beside a live writer, leaves them)
    // (on a full or read-only disk the rows stay as they are until an open that can write)
    if (!db.readonly) {
      try { markUnfinishedJobsInterrupted(db, Date.now()); } catch (e) {
        if (!isSqliteIoError(e)) throw e;
      }
    }
  }

  onChange(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(info: JobInfo): void {
    for (const l of this.listeners) {
      try { l(structuredClone(info)); } catch { /* a broken listener must not break the job */ }
    }
  }

  /**
   * Starts a job. Jobs that write to the library (JOB_KINDS, or `opts.writes`) run one after another; read jobs start
   * at once. The returned JobInfo is the queued job, and `wait(id)` resolves when it ends.
   */
  start<K extends JobKind>(kind: K, params: JobParams<K>, fn: (ctx: JobContext) => Promise<JobResult<K>>, opts: { writes?: boolean } = {}): JobInfo<K> {
    const writes = opts.writes ?? jobWrites(kind);
    const now = Date.now();
    const id = insertQueuedJob(this.db, kind, JSON.stringify(params ?? {}), now);
    const controller = new AbortController();
    const info = {
      id, kind, state: 'queued', params, progress: { stage: 'queued', done: 0, total: 0 },
      createdAt: now, startedAt: null, finishedAt: null, error: null, result: null,
    } as JobInfo<K> as JobInfo;
    const entry: Running = { info, controller, promise: Promise.resolve(info), lastWrite: 0, writeError: null };
    this.running.set(id, entry);
    const ctx: JobContext = {
      jobId: id,
      signal: controller.signal,
      progress: (stage, done, total, extra) => this.progress(entry, { stage, done, total, ...(extra?.loss ? { loss: extra.loss } : {}) }),
      checkCancelled: () => {
        if (entry.writeError) throw entry.writeError;
        if (controller.signal.aborted) throw new AppError('CANCELLED', `job ${id} (${kind}) was cancelled`);
      },
      isCancelled: () => controller.signal.aborted,
    };
    const run = async (): Promise<JobInfo> => {
      if (controller.signal.aborted) return this.finish(entry, 'cancelled', null, null);
      info.state = 'running';
      info.startedAt = Date.now();
      try {
        markJobRunning(this.db, id, info.startedAt);
        this.emit(info);
        const result = await fn(ctx);
        if (entry.writeError) throw entry.writeError;
        return this.finish(entry, controller.signal.aborted ? 'cancelled' : 'done', result, null);
      } catch (e) {
        // a disk that is full or read-only is an I/O failure naming the library, not an internal error; when the
        // job's own progress write failed first, that is the cause
        // a file system error naming its own file (an export target on a full disk, a bad path) names that file, not
        // the library
        const own = isFsIoError(e) && typeof (e as { path?: unknown }).path === 'string' ? ioError(String((e as { path: string }).path), e, 'cannot write') : null;
        const err = entry.writeError ?? own ?? (isSqliteIoError(e) || isFsIoError(e) ? ioError(this.db.name, e, 'cannot write the library') : e);
        const p = toPayload(err);
        return this.finish(entry, p.code === 'CANCELLED' && !entry.writeError ? 'cancelled' : 'failed', null, p);
      }
    };
    let p: Promise<JobInfo>;
    if (writes) {
      p = this.chain.then(run, run);
      this.chain = p.catch(() => undefined);
    } else {
      p = Promise.resolve().then(run);
    }
    entry.promise = p;
    this.emit(info);
    return structuredClone(info) as JobInfo<K>;
  }

  private progress(entry: Running, pr: JobProgress): void {
    entry.info.progress = pr;
    const now = Date.now();
    // persist at most every 250 ms (and always at the end), notify listeners at most every 50 ms
    // never throws: progress is reported from worker messages and timers, where an exception would kill the process
    if (!entry.writeError && (now - entry.lastWrite > 250 || pr.done === pr.total)) {
      entry.lastWrite = now;
      try {
        writeJobProgress(this.db, entry.info.id, pr.stage, pr.done, pr.total);
      } catch (e) {
        // disk full / read-only / I/O error: the job stops at its next checkpoint with this error
        entry.writeError = ioError(this.db.name, e, 'cannot write the library');
        entry.controller.abort();
      }
    }
    this.emit(entry.info);
  }

  private finish(entry: Running, state: JobState, result: unknown, error: ErrorPayload | null): JobInfo {
    const info = entry.info;
    info.state = state;
    info.finishedAt = Date.now();
    info.result = (result ?? null) as JobInfo['result'];
    info.error = error;
    const write = () => writeJobEnd(this.db, info.id, {
      state, finishedAt: info.finishedAt, resultJson: JSON.stringify(info.result), errorJson: error ? JSON.stringify(error) : null,
      stage: info.progress.stage, done: info.progress.done, total: info.progress.total,
    });
    try {
      write();
    } catch (e) {
      // the disk is full: a large result may not fit; the state must (else the row stays 'running' until the next open)
      const why = ioError(this.db.name, e, 'cannot write the library');
      if (info.state === 'done') { info.state = 'failed'; info.result = null; info.error = toPayload(why); }
      try {
        writeJobEndState(this.db, info.id, info.state, info.finishedAt, JSON.stringify(info.error ?? toPayload(why)));
      } catch { /* nothing more can be written now; the next open marks the row 'interrupted' */ }
    }
    this.running.delete(info.id);
    this.emit(info);
    return structuredClone(info);
  }

  async wait(id: number): Promise<JobInfo> {
    const r = this.running.get(id);
    if (r) return r.promise;
    return this.get(id);
  }

  cancel(id: number): void {
    const r = this.running.get(id);
    if (!r) {
      this.get(id); // throws NOT_FOUND for unknown ids
      return;
    }
    r.controller.abort();
  }

  /** Cancels every job and waits for them to stop. */
  async cancelAll(): Promise<void> {
    const all = [...this.running.values()];
    for (const r of all) r.controller.abort();
    await Promise.allSettled(all.map((r) => r.promise));
  }

  /** The jobs queued or running now, oldest first. */
  active(): JobInfo[] {
    return [...this.running.values()].map((r) => structuredClone(r.info)).sort((a, b) => a.id - b.id);
  }

  get(id: number): JobInfo {
    const r = this.running.get(id);
    if (r) return structuredClone(r.info);
    const row = getJobRow(this.db, id);
    if (!row) throw new AppError('NOT_FOUND', `job ${id} does not exist`);
    return rowToJob(row);
  }

  /**
   * The newest `limit` jobs, newest first; and after them, when older, the newest face embed that searched photos
   * (its folder notice is the library's until the next one: a UI opened later still shows it, whatever came since).
   */
  list(limit = 50): JobInfo[] {
    const rows = listJobRows(this.db, limit);
    const notice = newestFaceNoticeJobRow(this.db);
    if (notice && !rows.some((r) => r.id === notice.id)) rows.push(notice);
    return rows.map((row) => (this.running.has(row.id) ? structuredClone(this.running.get(row.id)!.info) : rowToJob(row)));
  }
}

function rowToJob(r: JobRow): JobInfo {
  return {
    id: r.id, kind: r.kind, state: r.state, params: JSON.parse(r.params),
    progress: { stage: r.stage, done: r.done, total: r.total },
    createdAt: r.created_at, startedAt: r.started_at, finishedAt: r.finished_at,
    error: r.error ? JSON.parse(r.error) : null, result: r.result ? JSON.parse(r.result) : null,
  } as JobInfo;
}
