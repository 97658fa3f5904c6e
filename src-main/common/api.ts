/**
 * AppApi: the one contract between the UI and the core. Every method takes one JSON-like options object and returns a
 * promise. Three transports carry it unchanged: Electron IPC (preload exposes exactly these methods),
 * loopback HTTP/WebSocket (serve mode) and direct calls (CLI, tests). Errors cross as `{code, message}`.
 */
import type { CheckReport, RemoveFolderReport, ClusterParams, ClusterRow, EditOp, EditResult, HistoryInfo, ItemKind, ItemRef, ItemView, MapData, MapInfo, MapParams, RunInfo } from './types.ts';
import type {
  AppEvent, JobInfo, LibraryInfo, Page, PhotoDetail, PhotoSummary, Root, ScanIssue,
} from './types.ts';

export interface PhotoQuery {
  offset?: number;
  limit?: number;
  rootId?: number;
  status?: 'ok' | 'missing';
}

/** Options of a method that takes none. */
export type NoOptions = Record<string, never>;
export interface RunRef { runId: number }
export interface PageQuery { offset?: number; limit?: number }

/**
 * Every method takes ONE options object (validated at the door by every transport against common/schemas.ts) and
 * returns a promise. Methods that need nothing take an optional empty object.
 */
export interface AppApi {
  /** Library path, counts, models, runs. */
  getInfo(o?: NoOptions): Promise<LibraryInfo>;
  listRoots(o?: NoOptions): Promise<Root[]>;
  /** Adds folders (absolute paths) as roots; existing ones are returned unchanged. */
  addRoots(o: { paths: string[] }): Promise<Root[]>;
  removeRoot(o: { rootId: number }): Promise<void>;
  /**
   * Removes a folder with everything of it (photos, faces, their embeddings, labels and run assignments); refused
   * (CONFLICT, naming the job) while a job uses the folder.
   */
  removeFolder(o: { rootId: number }): Promise<RemoveFolderReport>;
  /** Checks the library (integrity, foreign keys, dangling or reused item ids, cluster summaries, thumbnails). */
  check(o?: Record<string, never>): Promise<CheckReport>;
  /** Starts a scan job over the given roots (all roots when omitted); resolves with the job as started. */
  scan(o?: { rootIds?: number[] }): Promise<JobInfo<'scan'>>;
  listPhotos(query?: PhotoQuery): Promise<Page<PhotoSummary>>;
  getPhoto(o: { id: number }): Promise<PhotoDetail>;
  listScanIssues(o?: PageQuery): Promise<Page<ScanIssue>>;
  listJobs(o?: NoOptions): Promise<JobInfo[]>;
  getJob(o: { id: number }): Promise<JobInfo>;
  /** Resolves when the job has ended (done, failed, cancelled), or with the job as it is after `timeoutMs`. */
  waitJob(o: { id: number; timeoutMs?: number }): Promise<JobInfo>;
  cancelJob(o: { id: number }): Promise<void>;

  /** Starts an embed job: 'photo', 'face' or a model manifest path; only new or changed photos are processed. */
  embed(o: EmbedOptions): Promise<JobInfo<'embed'>>;
  /** Imports a .npy matrix + ids file (CSV or JSON lines) as the embeddings of a named model. */
  importEmbeddings(o: { npy: string; ids: string; model: string }): Promise<ImportEmbeddingsReport>;
  /** Writes a model's embeddings as .npy + ids CSV; an existing file is replaced only with `force`, the library's own files never. */
  exportEmbeddings(o: { model: string; out: string; ids?: string; force?: boolean }): Promise<ExportEmbeddingsReport>;

  /** Starts a clustering run on a model's embeddings; the finished job's result is the run with its metrics. */
  cluster(o: ClusterOptions): Promise<JobInfo<'cluster'>>;
  listRuns(o?: NoOptions): Promise<RunInfo[]>;
  getRun(o: RunRef): Promise<RunInfo>;
  /** Every cluster of a run with size, name, mean similarity and its top and tail samples. */
  getClusters(o: RunRef): Promise<ClusterRow[]>;
  /** Starts an export job of a run as it is now: folders (copies, links or face crops), CSV, JSON or an HTML report. */
  exportRun(o: ExportRunOptions): Promise<JobInfo<'export'>>;
  /** Imports ground-truth labels from a CSV/JSON file or a folder tree (folder name = label); names the newest run's groups. */
  importLabels(o: { source: string } & ImportLabelsOptions): Promise<ImportLabelsReport>;
  /** One cluster of a run with its top and tail samples (what the cluster view opens with). */
  getCluster(o: RunRef & { cluster: number }): Promise<ClusterRow>;
  /** Every item's cluster in a run, as typed arrays (for colouring maps of 100,000 points). */
  getAssignments(o: RunRef): Promise<{ runId: number; kind: ItemKind; ids: Int32Array; clusters: Int32Array }>;

  /** Starts a 2-D map job (UMAP, t-SNE or PCA) of a model's embeddings; frames stream as 'mapFrame' events. */
  computeMap(o: { model: string; params: MapParams }): Promise<JobInfo<'map'>>;
  listMaps(o?: NoOptions): Promise<MapInfo[]>;
  /** A stored map as typed arrays: by id, or the newest of a model (and method). */
  getMap(o: { id?: number; model?: string; method?: MapParams['method'] }): Promise<MapData>;

  /** Models a user may download (on a machine with internet), with what is installed. */
  getCatalog(o?: NoOptions): Promise<CatalogItem[]>;
  /** Downloads a catalog model (resumable, checksum-verified) into the models folder, with its manifest. */
  downloadCatalogModel(o: { id: string }): Promise<JobInfo<'download'>>;

  // --- labeling session ---
  /** Applies one edit (rename, accept, merge, split, move, reject) to a run, logged for undo. */
  editRun(o: RunRef & { op: EditOp }): Promise<EditResult>;
  undo(o: RunRef): Promise<EditResult | null>;
  redo(o: RunRef): Promise<EditResult | null>;
  getHistory(o: RunRef): Promise<HistoryInfo>;
  /** Members of a cluster (-1 = noise), most similar to the centroid first ('asc': least similar first). */
  getClusterMembers(o: RunRef & PageQuery & { cluster: number; order?: 'desc' | 'asc' }): Promise<Page<ItemView>>;
  /** Items of a kind by id, with their cluster in a run when runId is given. */
  getItems(o: { kind: ItemKind; ids: number[]; runId?: number }): Promise<ItemView[]>;
  /** Noise and low-similarity members of a run. */
  getReviewQueue(o: RunRef & PageQuery & { maxSim?: number }): Promise<Page<ItemView>>;
  /** Nearest neighbours of an item among a model's embeddings (cosine). */
  similar(o: { model: string; item: ItemRef; k?: number }): Promise<Array<ItemView & { similarity: number }>>;
  /** Groups of near-duplicate items (cosine above threshold). */
  nearDuplicates(o: { model: string; threshold?: number }): Promise<Array<{ items: ItemView[]; minSim: number }>>;
  /** Parameter sweep for charts: elbow (inertia over k), silhouette over k, or DBSCAN eps with constraints. */
  sweep(o: SweepOptions): Promise<JobInfo<'sweep'>>;
  // --- interchange with other engines (Parquet / Arrow, job bundles; issue 22) ---
  /** Starts a job importing a model's embeddings from a Parquet file, a folder of Parquet parts or an Arrow IPC file. */
  importEmbeddingsFile(o: ImportEmbeddingsFileOptions): Promise<JobInfo<'importEmbeddings'>>;
  /** Writes a model's embeddings as Parquet or Arrow (id, path, sha256, box, embedding). */
  exportEmbeddingsFile(o: { model: string; out: string; format: 'parquet' | 'arrow'; force?: boolean }): Promise<ExportEmbeddingsFileReport>;
  /** Starts a job storing a run clustered elsewhere (item, cluster label, optional probability) with centroids, samples and metrics computed here. */
  importRun(o: ImportRunOptions): Promise<JobInfo<'importRun'>>;
  /** Starts a job writing a job bundle (items.parquet, model files, Dask driver) for an existing distributed engine. */
  exportJob(o: { model: string; to: string; partitionRows?: number }): Promise<JobInfo<'exportJob'>>;
  /** Agreement between two runs of the same items (ARI, AMI, NMI) and their metrics side by side; runs over different kinds are a BAD_ARGUMENT. */
  compareRuns(o: { a: number; b: number }): Promise<{ a: RunInfo; b: RunInfo; common: number; ari: number; ami: number; nmi: number }>;
}

/** The options object of a method. */
export type ApiArgs<M extends keyof AppApi> = Parameters<AppApi[M]>[0];
/** What a method resolves with. */
export type ApiResult<M extends keyof AppApi> = Awaited<ReturnType<AppApi[M]>>;

export interface SweepOptions {
  model: string;
  kind: 'elbow' | 'silhouette' | 'dbscan';
  values: number[];
  minSamples?: number;
  minClusters?: number;
  maxNoiseShare?: number;
}

export interface CatalogItem {
  id: string; title: string; kind: string; url: string; size: number | null; sha256: string | null; license: string;
  unverified: string[]; installed: boolean; manifestPath: string | null; notes?: string;
}

export interface ClusterOptions {
  model: string;
  params: ClusterParams;
  labels?: string | null;
}

export interface EmbedOptions {
  model: string;
  batch?: number;
  workers?: number;
  minFaceSize?: number;
  scoreThreshold?: number;
}

export interface ImportEmbeddingsReport {
  model: string; kind: 'photo' | 'face'; rows: number; dim: number; imported: number; unmatched: number; unmatchedPaths: string[]; facesCreated: number;
}

export interface ExportEmbeddingsReport {
  model: string; kind: 'photo' | 'face'; rows: number; dim: number; out: string; ids: string;
}

/** exportRun: see core/export/export.ts (the finished job's result is the ExportRunReport). */
export interface ExportRunOptions {
  runId: number;
  to: string;
  format: 'folders' | 'csv' | 'json' | 'html' | 'parquet';
  /** folders only (default copy); ignored by other formats */
  link?: 'copy' | 'hardlink' | 'symlink';
  dryRun?: boolean;
  curatedOnly?: boolean;
  includeNoise?: boolean;
}

export interface ExportRunReport {
  runId: number; kind: 'photo' | 'face'; model: string; format: ExportRunOptions['format']; to: string; link: ExportRunOptions['link'] | null;
  items: number; groups: number; files: number; skipped: number; collisions: number; dryRun: boolean; out: string | null; exportId: number | null;
  distance: string;
  folders?: Array<{ cluster: number; name: string | null; folder: string; size: number }>;
  plan?: Array<{ cluster: number; from: string | null; to: string; action: 'copy' | 'hardlink' | 'symlink' | 'crop' | 'write' }>;
  planTruncated?: boolean;
  skippedItems?: Array<{ item: number; path: string | null; reason: string }>;
  warnings: string[];
}

export interface ImportLabelsOptions {
  /** name (and mark curated when unanimous) the newest run's groups after the labels (default true) */
  seed?: boolean;
}

export interface ImportLabelsReport {
  source: string; mode: 'csv' | 'json' | 'folders' | 'parquet'; rows: number; matched: number; photos: number; faces: number; inherited: number;
  unmatched: number; unmatchedPaths: string[]; ignored: number; conflicts: number; labels: number;
  seeded: Array<{ runId: number; kind: 'photo' | 'face'; named: number; curated: number }>;
}

export interface ImportEmbeddingsFileOptions { file: string; model: string; idColumn?: string; vectorColumn?: string }
export interface ImportEmbeddingsFileReport {
  model: string; kind: 'photo' | 'face'; rows: number; dim: number; imported: number; unmatched: number; unmatchedPaths: string[]; facesCreated: number;
  format: 'parquet' | 'arrow'; files: number; source: string;
}
export interface ExportEmbeddingsFileReport { model: string; kind: 'photo' | 'face'; rows: number; dim: number; out: string; ids: string; format: 'parquet' | 'arrow' }
export interface ImportRunOptions { file: string; model: string; idColumn?: string; clusterColumn?: string }
export interface ImportRunReport {
  runId: number; model: string; kind: 'photo' | 'face'; items: number; clusters: number; noise: number; unmatched: number; unmatchedIds: string[];
  rows: number; source: string; named: number; carried: number;
}
export interface ExportJobReport { dir: string; items: number; partitions: number; model: string; kind: 'photo' | 'face'; files: string[]; driver: string; command: string[] }

/** The method names, used by transports to build proxies and to refuse anything else. */
export const API_METHODS = [
  'getInfo', 'listRoots', 'addRoots', 'removeRoot', 'scan', 'listPhotos', 'getPhoto', 'listScanIssues',
  'listJobs', 'getJob', 'waitJob', 'cancelJob', 'embed', 'importEmbeddings', 'exportEmbeddings', 'cluster', 'listRuns', 'getRun',
  'getClusters', 'getCluster', 'exportRun', 'importLabels', 'getAssignments', 'getCatalog', 'downloadCatalogModel', 'computeMap', 'listMaps', 'getMap', 'editRun', 'undo', 'redo', 'getHistory', 'getClusterMembers', 'getItems',
  'getReviewQueue', 'similar', 'nearDuplicates', 'sweep', 'compareRuns', 'removeFolder', 'check',
  'importEmbeddingsFile', 'exportEmbeddingsFile', 'importRun', 'exportJob',
] as const satisfies ReadonlyArray<keyof AppApi>;

export type ApiMethod = (typeof API_METHODS)[number];

// Every AppApi method must be listed above (compile-time check).
type Missing = Exclude<keyof AppApi, ApiMethod>;
const _allListed: Missing extends never ? true : Missing = true;
void _allListed;

export function isApiMethod(name: string): name is ApiMethod {
  return (API_METHODS as readonly string[]).includes(name);
}

export type EventListener = (e: AppEvent) => void;

/** What a UI holds: the contract plus an event subscription and the URL of a thumbnail in the cache. */
export interface AppClient extends AppApi {
  onEvent(listener: EventListener): () => void;
  thumbUrl(hash: string): string;
}
