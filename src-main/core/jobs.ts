/**
 * Jobs: every long operation runs as a job with `{stage, done, total}` progress, cancellation, and a row in the
 * library's `jobs` table. A job left 'running' by a killed process is marked 'interrupted' at the next open; running
 * the same operation again resumes it, because every job commits its work in small idempotent steps.
 */
import { AppError, toPayload } from '../common/errors.ts';
import type { JobKind, JobParams, JobResult } from '../common/jobs.ts';
import type { ErrorPayload } from '../common/errors.ts';
import type { JobInfo, JobProgress, JobState } from '../common/types.ts';
import type { Db } from './store/db.ts';

export interface JobContext {
  readonly jobId: number;
  readonly signal: AbortSignal;
  progress(stage: string, done: number, total: number): void;
  /** throws AppError('CANCELLED') once the job was cancelled */
  checkCancelled(): void;
  isCancelled(): boolean;
}

type Listener = (job: JobInfo) => void;

interface Running {
  info: JobInfo;
  controller: AbortController;
  promise: Promise<JobInfo>;
  lastWrite: number;
}

export class JobManager {
  private running = new Map<number, Running>();
  private listeners = new Set<Listener>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private db: Db) {
    // whatever a killed process left running is now interrupted (a read-only open, beside a live writer, leaves them)
    if (!db.readonly) db.prepare(`UPDATE jobs SET state = 'interrupted', finished_at = ? WHERE state IN ('running', 'queued')`).run(Date.now());
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
   * Starts a job. Jobs that write to the library run one after another (`exclusive`, the default); the returned
   * JobInfo is the queued job, and `wait(id)` resolves when it ends.
   */
  start<K extends JobKind>(kind: K, params: JobParams<K>, fn: (ctx: JobContext) => Promise<JobResult<K>>): JobInfo<K> {
    const now = Date.now();
    const id = Number(this.db.prepare(`INSERT INTO jobs (kind, state, params, created_at) VALUES (?, 'queued', ?, ?)`)
      .run(kind, JSON.stringify(params ?? {}), now).lastInsertRowid);
    const controller = new AbortController();
    const info = {
      id, kind, state: 'queued', params, progress: { stage: 'queued', done: 0, total: 0 },
      createdAt: now, startedAt: null, finishedAt: null, error: null, result: null,
    } as JobInfo<K> as JobInfo;
    const entry: Running = { info, controller, promise: Promise.resolve(info), lastWrite: 0 };
    this.running.set(id, entry);
    const ctx: JobContext = {
      jobId: id,
      signal: controller.signal,
      progress: (stage, done, total) => this.progress(entry, { stage, done, total }),
      checkCancelled: () => { if (controller.signal.aborted) throw new AppError('CANCELLED', `job ${id} (${kind}) was cancelled`); },
      isCancelled: () => controller.signal.aborted,
    };
    const run = async (): Promise<JobInfo> => {
      if (controller.signal.aborted) return this.finish(entry, 'cancelled', null, null);
      info.state = 'running';
      info.startedAt = Date.now();
      this.db.prepare(`UPDATE jobs SET state = 'running', started_at = ? WHERE id = ?`).run(info.startedAt, id);
      this.emit(info);
      try {
        const result = await fn(ctx);
        return this.finish(entry, controller.signal.aborted ? 'cancelled' : 'done', result, null);
      } catch (e) {
        const p = toPayload(e);
        return this.finish(entry, p.code === 'CANCELLED' ? 'cancelled' : 'failed', null, p);
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    entry.promise = p;
    this.emit(info);
    return structuredClone(info) as JobInfo<K>;
  }

  private progress(entry: Running, pr: JobProgress): void {
    entry.info.progress = pr;
    const now = Date.now();
    // persist at most every 250 ms (and always at the end), notify listeners at most every 50 ms
    if (now - entry.lastWrite > 250 || pr.done === pr.total) {
      entry.lastWrite = now;
      this.db.prepare(`UPDATE jobs SET stage = ?, done = ?, total = ? WHERE id = ?`).run(pr.stage, pr.done, pr.total, entry.info.id);
    }
    this.emit(entry.info);
  }

  private finish(entry: Running, state: JobState, result: unknown, error: ErrorPayload | null): JobInfo {
    const info = entry.info;
    info.state = state;
    info.finishedAt = Date.now();
    info.result = (result ?? null) as JobInfo['result'];
    info.error = error;
    this.db.prepare(`UPDATE jobs SET state = ?, finished_at = ?, result = ?, error = ?, stage = ?, done = ?, total = ? WHERE id = ?`)
      .run(state, info.finishedAt, JSON.stringify(info.result), error ? JSON.stringify(error) : null,
        info.progress.stage, info.progress.done, info.progress.total, info.id);
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

  get(id: number): JobInfo {
    const r = this.running.get(id);
    if (r) return structuredClone(r.info);
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!row) throw new AppError('NOT_FOUND', `job ${id} does not exist`);
    return rowToJob(row);
  }

  list(limit = 50): JobInfo[] {
    const rows = this.db.prepare('SELECT * FROM jobs ORDER BY id DESC LIMIT ?').all(limit) as JobRow[];
    return rows.map((row) => (this.running.has(row.id) ? structuredClone(this.running.get(row.id)!.info) : rowToJob(row)));
  }
}

interface JobRow {
  id: number; kind: JobKind; state: JobState; params: string; stage: string; done: number; total: number;
  error: string | null; result: string | null; created_at: number; started_at: number | null; finished_at: number | null;
}

function rowToJob(r: JobRow): JobInfo {
  return {
    id: r.id, kind: r.kind, state: r.state, params: JSON.parse(r.params),
    progress: { stage: r.stage, done: r.done, total: r.total },
    createdAt: r.created_at, startedAt: r.started_at, finishedAt: r.finished_at,
    error: r.error ? JSON.parse(r.error) : null, result: r.result ? JSON.parse(r.result) : null,
  } as JobInfo;
}
