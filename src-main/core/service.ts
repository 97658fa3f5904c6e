/**
 * CoreService: the AppApi on one open Library, assembled from the domain services in core/services/ (library,
 * embeddings, runs, explore, curation, people, interchange), each providing its part and holding its own state.
 * Every transport (IPC, HTTP/WebSocket, the CLI and direct calls through `checkedApi`) validates the arguments' shapes
 * at the door (common/dispatch.ts) before calling it; the services check only existence and conflicts.
 */
import type { AppApi } from '../common/api.ts';
import type { AssignReport } from '../common/types.ts';
import { Library } from './library.ts';
import { assembleApi } from './services/assemble.ts';
import { MatrixCache, ServiceContext, type CachedMatrix, type CoreListener, type LibrarySwitcher } from './services/context.ts';
import { CurationService } from './services/curation.ts';
import { EmbeddingsService } from './services/embeddings.ts';
import { ExploreService } from './services/explore.ts';
import { InterchangeService } from './services/interchange.ts';
import { LibraryService } from './services/library.ts';
import { PeopleService } from './services/people.ts';
import { RunsService } from './services/runs.ts';
import { LearnService } from './services/learn.ts';
import type { SuggestionIndex } from './curation/suggest.ts';
import type { FolderWatcher } from './watch.ts';

export type { CoreListener, CachedMatrix, LibrarySwitcher };

export interface CoreService extends AppApi {}

export class CoreService {
  static MATRIX_CACHE_ENTRIES = MatrixCache.ENTRIES;
  static MATRIX_CACHE_BYTES = MatrixCache.BYTES;

  readonly lib: Library;
  private readonly ctx: ServiceContext;
  private readonly library: LibraryService;
  private readonly curation: CurationService;
  private readonly people: PeopleService;
  private readonly learned: LearnService;

  constructor(lib: Library) {
    this.lib = lib;
    const ctx = this.ctx = new ServiceContext(lib);
    this.library = new LibraryService(ctx);
    this.curation = new CurationService(ctx, (model) => this.learned.assignMetric(model), (runId, o, signal) => this.people.reclusterPlan(runId, o, signal));
    this.learned = new LearnService(ctx, (runId) => this.people.suggestionIndex(runId));
    this.people = new PeopleService(ctx, this.learned);
    const api = assembleApi([
      this.library,
      new EmbeddingsService(ctx, this.curation),
      new RunsService(ctx),
      new ExploreService(ctx, (model) => this.learned.mapRows(model)),
      this.curation,
      this.people,
      new InterchangeService(ctx),
      this.learned,
    ]);
    Object.assign(this, api);
  }

  static open(path: string, opts: { readonly?: boolean } = {}): CoreService {
    return new CoreService(Library.open(path, opts));
  }

  get jobs(): ServiceContext['jobs'] { return this.ctx.jobs; }

  onEvent(l: CoreListener): () => void {
    this.ctx.listeners.add(l);
    return () => this.ctx.listeners.delete(l);
  }

  async close(): Promise<void> {
    this.ctx.closing = true;
    await this.learned.settle();
    await this.people.settle();
    await this.library.stopWatching();
    await this.ctx.jobs.cancelAll();
    this.lib.close();
  }

  /** the app instance that serves this library and can switch it (desktop, serve; null in the CLI) */
  get host(): LibrarySwitcher | null { return this.ctx.host; }
  set host(h: LibrarySwitcher | null) { this.ctx.host = h; }

  /** whether changed folders are watched (kept across a library switch) */
  get watching(): boolean { return this.library.watching; }

  /**
   * Watches the library's folders while the `watch` setting is on (the desktop app and serve mode call this; CLI
   * commands do not): changed folders are scanned, embedded and assigned; each cycle ends with a 'watch' event.
   */
  watchFolders(quietMs = 1500): FolderWatcher {
    return this.library.watchFolders(this, quietMs);
  }

  /** After an embed with assign-after-embed on: the new items join the newest run of the model (an undoable edit). */
  autoAssign(model: string): Promise<AssignReport | null> {
    return this.curation.autoAssign(model);
  }

  /** The suggestion index of a run as it is now (built once per state of the run). */
  suggestionIndex(runId: number): Promise<SuggestionIndex> {
    return this.people.suggestionIndex(runId);
  }

  /** A model's matrix, cached while the model's revision is unchanged (bounded: a few models, at most 1 GiB). */
  matrix(model: string): CachedMatrix {
    return this.ctx.matrices.matrix(model);
  }

  /** Models whose matrix is cached now, least recently used first (tests). */
  cachedMatrices(): string[] {
    return this.ctx.matrices.keys();
  }

  /** Bounds the matrix cache again (tests; the cache starts empty). */
  limitMatrixCache(o: { entries?: number; bytes?: number }): void {
    this.ctx.matrices.limit(o);
  }
}
