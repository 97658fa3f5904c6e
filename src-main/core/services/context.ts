/**
 * What the domain services share: the library, its jobs, the event listeners, the matrix cache, read jobs and the
 * run-change event. Each service (library, embeddings, runs, explore, curation, people, interchange) extends
 * DomainService and holds its own state beside this; core/service.ts assembles them into the one AppApi.
 *
 * The services trust their arguments' shapes: every transport (IPC, HTTP/WebSocket, the CLI and direct calls through
 * `checkedApi`) validates them at the door (common/dispatch.ts) first. They check only what the door cannot know:
 * whether a thing exists, and conflicts with the library's state.
 */
import { LRUCache } from 'lru-cache';
import type { RecentLibrary } from '../../common/api.ts';
import { AppError, fromPayload, type ErrorPayload } from '../../common/errors.ts';
import type { JobParams, JobResult } from '../../common/jobs.ts';
import type { EditResult, ItemKind, LibraryInfo, RunChange } from '../../common/types.ts';
import type { AppEvent } from '../../common/jobs.ts';
import { getRun, runClusters } from '../store/runs.ts';
import { loadMatrix } from '../store/embeddings.ts';
import { JobManager, jobWrites, readSnapshot, type JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import { modelRevision } from '../store/embeddings.ts';
import { runTask } from '../workers/pool.ts';

export type CoreListener = (e: AppEvent) => void;

/** The app instance that serves a library and can switch it (core/library-host.ts; none in the CLI). */
export interface LibrarySwitcher {
  open(path: string, create: boolean): Promise<LibraryInfo>;
  recent(): RecentLibrary[];
}

/** A model's matrix as the service caches it (plus lazily: item id -> row, and the row-normalized copy). */
export interface CachedMatrix {
  ids: Int32Array; X: Float32Array; n: number; d: number; kind: ItemKind;
  /** the model's revision (bumped by every write of its embeddings) the matrix was read at */
  revision: number;
  rowOf?: Map<number, number>;
  xn?: Promise<Float32Array>;
}

/**
 * Loaded matrices (lru-cache, bounded by entries and bytes); each valid while its model's revision (bumped by every
 * write) holds. A matrix larger than the byte bound still stays, alone (its size counts as the whole bound).
 */
export class MatrixCache {
  static ENTRIES = 4;
  static BYTES = 1 << 30;
  private matrices: LRUCache<string, CachedMatrix>;
  /** reads under way in a worker, by model and revision (concurrent callers share one) */
  private loading = new Map<string, Promise<CachedMatrix>>();

  constructor(private readonly lib: Library, max = MatrixCache.ENTRIES, maxSize = MatrixCache.BYTES) {
    this.matrices = MatrixCache.lru(max, maxSize);
  }

  private static lru(max: number, maxSize: number): LRUCache<string, CachedMatrix> {
    return new LRUCache<string, CachedMatrix>({ max, maxSize, sizeCalculation: (m) => Math.max(1, Math.min(m.X.byteLength, maxSize)) });
  }

  /** Bounds the cache again (tests; the cache starts empty). */
  limit({ entries = MatrixCache.ENTRIES, bytes = MatrixCache.BYTES }: { entries?: number; bytes?: number }): void {
    this.matrices = MatrixCache.lru(entries, bytes);
  }

  clear(): void { this.matrices.clear(); }

  /** A model's matrix, cached while the model's revision is unchanged (bounded: a few models, at most 1 GiB); read in one snapshot. */
  matrix(model: string): CachedMatrix {
    return readSnapshot(this.lib.db, () => {
      const revision = modelRevision(this.lib.db, model);
      const c = this.matrices.get(model); // a hit becomes the most recently used
      if (c && revision !== undefined && c.revision === revision) return c;
      this.matrices.delete(model);
      const m = loadMatrix(this.lib.db, model);
      const entry: CachedMatrix = { ids: m.ids, X: m.X, n: m.n, d: m.d, revision: revision ?? -1, kind: m.model.kind };
      this.matrices.set(model, entry);
      return entry;
    });
  }

  /**
   * The same matrix, read in a worker (workers/matrix-task.ts) when the cache does not hold it at the model's current
   * revision: for the requests that can wait for it (the main thread only routes). Concurrent calls share one read; a
   * library a worker cannot open (in memory, read-only) is read here as matrix() does, and so is one whose read failed
   * for another reason than a missing model or embeddings.
   */
  async load(model: string): Promise<CachedMatrix> {
    const revision = modelRevision(this.lib.db, model);
    const c = this.matrices.get(model);
    if (c && revision !== undefined && c.revision === revision) return c;
    if (revision === undefined || this.lib.db.memory || this.lib.db.readonly) return this.matrix(model);
    const key = `${model}@${revision}`;
    let p = this.loading.get(key);
    if (!p) {
      p = runTask('matrix', { path: this.lib.path, model }).then((m) => {
        const entry: CachedMatrix = { ids: m.ids, X: m.X, n: m.n, d: m.d, kind: m.kind, revision: m.revision };
        const cur = this.matrices.peek(model);
        if (!cur || cur.revision <= entry.revision) this.matrices.set(model, entry);
        return entry;
      }, (e: unknown) => {
        if (e instanceof AppError && e.code === 'NOT_FOUND') throw e;
        return this.matrix(model);
      }).finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  /** Whether the model's matrix is in the cache at its current revision (nothing is loaded). */
  isCached(model: string): boolean {
    const c = this.matrices.peek(model);
    return !!c && c.revision === modelRevision(this.lib.db, model);
  }

  /** The matrix with L2-normalized rows (shared memory), made once per cached matrix in a worker. */
  normalized(m: CachedMatrix): Promise<Float32Array> {
    if (!m.xn) {
      const out = new Float32Array(new SharedArrayBuffer(m.n * m.d * 4));
      const xn = runTask('normalize', { X: m.X, out, n: m.n, d: m.d }).then(() => out);
      m.xn = xn;
      xn.catch(() => { if (m.xn === xn) m.xn = undefined; });
    }
    return m.xn;
  }

  /** Models whose matrix is cached now, least recently used first (tests). */
  keys(): string[] {
    return [...this.matrices.rkeys()];
  }
}

/** The state every domain service shares (one per open library). */
/** An edit of a run as its listeners hear it: what was done (edit, undo, redo), its id in the history and its op. */
export interface RunEdit { action: RunChange['action']; editId: number; op: EditResult['op'] }

export class ServiceContext {
  readonly jobs: JobManager;
  readonly listeners = new Set<CoreListener>();
  readonly matrices: MatrixCache;
  /** the app instance that serves this library and can switch it (desktop, serve; null in the CLI) */
  host: LibrarySwitcher | null = null;
  /** set when the library is closing: nothing new is started in the background */
  closing = false;
  /** told of every change of a run's clusters (null: unknown, the whole run) before its event goes out, with the edit made (null: unknown) */
  private runEdited = new Set<(runId: number, clusters: number[] | null, edit: RunEdit | null) => void>();

  constructor(readonly lib: Library) {
    this.jobs = new JobManager(lib.db);
    this.matrices = new MatrixCache(lib);
    this.jobs.onChange((job) => {
      this.emit({ type: 'job', job });
      // a read job that ended changed nothing in the library
      if (job.state !== 'running' && job.state !== 'queued' && jobWrites(job.kind)) this.emit({ type: 'library', info: lib.info() });
    });
  }

  emit(e: AppEvent): void {
    for (const l of this.listeners) {
      try { l(e); } catch { /* listeners never break the core */ }
    }
  }

  onRunEdited(f: (runId: number, clusters: number[] | null, edit: RunEdit | null) => void): void { this.runEdited.add(f); }

  /** A run changed (an edit, undo, redo; r null: unknown): its event, with the changed clusters when a UI listens. */
  changed(runId: number, action: RunChange['action'], r: EditResult | null): void {
    for (const f of this.runEdited) f(runId, r ? r.clusters : null, r ? { action, editId: r.editId, op: r.op } : null);
    if (!r) { this.emit({ type: 'run', runId }); return; }
    const change: RunChange = { action, editId: r.editId, description: r.description ?? r.op.type, clusters: r.clusters };
    // the changed clusters as they are now and the run's counts ride along, so a view patches its list without asking
    // (a small change: a large one, such as an import, is reloaded by the views)
    if (this.listeners.size && r.clusters.length <= 200) {
      change.rows = runClusters(this.lib.db, runId, r.clusters.filter((c) => c >= 0));
      const run = getRun(this.lib.db, runId);
      change.counts = { clusters: run.clusters, noise: run.noise, n: run.n };
    }
    this.emit({ type: 'run', runId, change });
  }

  /**
   * Runs `fn` as a read job (listed, cancellable with cancelJob, run beside write jobs) and resolves with its value;
   * the job row keeps only `summary(value)`. A read-only library has no jobs table to write: there it is a plain call.
   */
  async readJob<T, K extends 'similar' | 'neardup' | 'split' | 'recluster'>(kind: K, params: JobParams<K>, fn: (ctx: JobContext) => Promise<T>, summary: (v: T) => unknown): Promise<T> {
    if (this.lib.db.readonly) {
      const signal = new AbortController().signal;
      return fn({ jobId: 0, signal, progress() {}, checkCancelled() {}, isCancelled: () => false });
    }
    let out: { v: T } | null = null;
    const job = this.jobs.start(kind, params, async (ctx) => {
      const v = await fn(ctx);
      out = { v };
      return summary(v) as JobResult<K>;
    });
    const end = await this.jobs.wait(job.id);
    if (end.state === 'done' && out) return (out as { v: T }).v;
    throw end.error ? fromPayload(end.error as ErrorPayload) : new AppError('CANCELLED', `job ${job.id} (${kind}) was cancelled`);
  }
}

/** A domain service: a part of the AppApi over the shared context (its own state in its own fields). */
export class DomainService {
  constructor(protected readonly ctx: ServiceContext) {}
  protected get lib(): Library { return this.ctx.lib; }
  protected get jobs(): JobManager { return this.ctx.jobs; }
  protected get listeners(): ReadonlySet<CoreListener> { return this.ctx.listeners; }
  protected emit(e: AppEvent): void { this.ctx.emit(e); }
  protected matrix(model: string): CachedMatrix { return this.ctx.matrices.matrix(model); }
  /** The same, read in a worker when it is not cached (MatrixCache.load): for async requests. */
  protected loadMatrix(model: string): Promise<CachedMatrix> { return this.ctx.matrices.load(model); }
  protected normalized(m: CachedMatrix): Promise<Float32Array> { return this.ctx.matrices.normalized(m); }
  protected readJob<T, K extends 'similar' | 'neardup' | 'split' | 'recluster'>(kind: K, params: JobParams<K>, fn: (ctx: JobContext) => Promise<T>, summary: (v: T) => unknown): Promise<T> {
    return this.ctx.readJob(kind, params, fn, summary);
  }
  protected changed(runId: number, action: RunChange['action'], r: EditResult | null): void { this.ctx.changed(runId, action, r); }
}
