/**
 * AppApi: the one contract between the UI and the core. Every method takes JSON-like arguments (typed arrays allowed)
 * and returns a promise. Three transports carry it unchanged: Electron IPC (preload exposes exactly these methods),
 * loopback HTTP/WebSocket (serve mode) and direct calls (CLI, tests). Errors cross as `{code, message}`.
 */
import type { CheckReport, ItemRef, RemoveFolderReport, ClusterParams, ClusterRow, EditOp, EditResult, HistoryInfo, ItemKind, ItemView, MapData, MapInfo, MapParams, RunInfo } from './types.ts';
import type {
  AppEvent, JobInfo, LibraryInfo, Page, PhotoDetail, PhotoSummary, Root, ScanIssue,
} from './types.ts';

export interface PhotoQuery {
  offset?: number;
  limit?: number;
  rootId?: number;
  status?: 'ok' | 'missing';
}

export interface AppApi {
  /** Library path, counts, models, runs. */
  getInfo(): Promise<LibraryInfo>;
  listRoots(): Promise<Root[]>;
  /** Adds folders (absolute paths) as roots; existing ones are returned unchanged. */
  addRoots(paths: string[]): Promise<Root[]>;
  removeRoot(rootId: number): Promise<void>;
  /**
   * Removes a folder with everything of it (photos, faces, their embeddings, labels and run assignments); refused
   * (CONFLICT, naming the job) while a job uses the folder.
   */
  removeFolder(options: { rootId: number }): Promise<RemoveFolderReport>;
  /** Checks the library (integrity, foreign keys, dangling or reused item ids, cluster summaries, thumbnails). */
  check(options?: Record<string, never>): Promise<CheckReport>;
  /** Starts a scan job over the given roots (all roots when omitted); resolves with the job as started. */
  scan(rootIds?: number[]): Promise<JobInfo>;
  listPhotos(query?: PhotoQuery): Promise<Page<PhotoSummary>>;
  getPhoto(id: number): Promise<PhotoDetail>;
  listScanIssues(offset?: number, limit?: number): Promise<Page<ScanIssue>>;
  listJobs(): Promise<JobInfo[]>;
  getJob(id: number): Promise<JobInfo>;
  cancelJob(id: number): Promise<void>;

  /** Starts an embed job: 'photo', 'face' or a model manifest path; only new or changed photos are processed. */
  embed(options: EmbedOptions): Promise<JobInfo>;
  /** Imports a .npy matrix + ids file (CSV or JSON lines) as the embeddings of a named model. */
  importEmbeddings(npyPath: string, idsPath: string, model: string): Promise<ImportEmbeddingsReport>;
  /** Writes a model's embeddings as .npy + ids CSV; an existing file is replaced only with `force`, the library's own files never. */
  exportEmbeddings(model: string, outPath: string, idsPath?: string, options?: { force?: boolean }): Promise<ExportEmbeddingsReport>;

  /** Starts a clustering run on a model's embeddings; the finished job's result is the run with its metrics. */
  cluster(options: ClusterOptions): Promise<JobInfo>;
  listRuns(): Promise<RunInfo[]>;
  getRun(runId: number): Promise<RunInfo>;
  /** Every cluster of a run with size, name, mean similarity and its top and tail samples. */
  getClusters(runId: number): Promise<ClusterRow[]>;
  /** Starts an export job of a run as it is now: folders (copies, links or face crops), CSV, JSON or an HTML report. */
  exportRun(options: ExportRunOptions): Promise<JobInfo>;
  /** Imports ground-truth labels from a CSV/JSON file or a folder tree (folder name = label); names the newest run's groups. */
  importLabels(source: string, options?: ImportLabelsOptions): Promise<ImportLabelsReport>;
  /** One cluster of a run with its top and tail samples (what the cluster view opens with). */
  getCluster(runId: number, cluster: number): Promise<ClusterRow>;
  /** Every item's cluster in a run, as typed arrays (for colouring maps of 100,000 points). */
  getAssignments(runId: number): Promise<{ runId: number; kind: ItemKind; ids: Int32Array; clusters: Int32Array }>;

  /** Starts a 2-D map job (UMAP, t-SNE or PCA) of a model's embeddings; frames stream as 'mapFrame' events. */
  computeMap(model: string, params: MapParams): Promise<JobInfo>;
  listMaps(): Promise<MapInfo[]>;
  /** A stored map as typed arrays: by id, or the newest of a model (and method). */
  getMap(query: { id?: number; model?: string; method?: string }): Promise<MapData>;

  /** Models a user may download (on a machine with internet), with what is installed. */
  getCatalog(): Promise<CatalogItem[]>;
  /** Downloads a catalog model (resumable, checksum-verified) into the models folder, with its manifest. */
  downloadCatalogModel(id: string): Promise<JobInfo>;

  // --- labeling session ---
  /** Applies one edit (rename, accept, merge, split, move, reject) to a run, logged for undo. */
  editRun(runId: number, op: EditOp): Promise<EditResult>;
  undo(runId: number): Promise<EditResult | null>;
  redo(runId: number): Promise<EditResult | null>;
  getHistory(runId: number): Promise<HistoryInfo>;
  /** Members of a cluster (-1 = noise), most similar to the centroid first ('asc': least similar first). */
  getClusterMembers(runId: number, cluster: number, offset?: number, limit?: number, order?: 'desc' | 'asc'): Promise<Page<ItemView>>;
  /** Items of a kind by id, with their cluster in a run when runId is given. */
  getItems(kind: ItemKind, ids: number[], runId?: number): Promise<ItemView[]>;
  /** Noise and low-similarity members of a run. */
  getReviewQueue(runId: number, offset?: number, limit?: number, maxSim?: number): Promise<Page<ItemView>>;
  /** Nearest neighbours of an item among a model's embeddings (cosine). */
  similar(model: string, item: ItemRef, k?: number): Promise<Array<ItemView & { similarity: number }>>;
  /** Groups of near-duplicate items (cosine above threshold). */
  nearDuplicates(model: string, threshold?: number): Promise<Array<{ items: ItemView[]; minSim: number }>>;
  /** Parameter sweep for charts: elbow (inertia over k), silhouette over k, or DBSCAN eps with constraints. */
  sweep(model: string, kind: 'elbow' | 'silhouette' | 'dbscan', values: number[], options?: { minSamples?: number; minClusters?: number; maxNoiseShare?: number }): Promise<JobInfo>;
  /** Agreement between two runs of the same items (ARI, AMI, NMI) and their metrics side by side; runs over different kinds are a BAD_ARGUMENT. */
  compareRuns(a: number, b: number): Promise<{ a: RunInfo; b: RunInfo; common: number; ari: number; ami: number; nmi: number }>;
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
  format: 'folders' | 'csv' | 'json' | 'html';
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
  source: string; mode: 'csv' | 'json' | 'folders'; rows: number; matched: number; photos: number; faces: number; inherited: number;
  unmatched: number; unmatchedPaths: string[]; ignored: number; conflicts: number; labels: number;
  seeded: Array<{ runId: number; kind: 'photo' | 'face'; named: number; curated: number }>;
}

/** The method names, used by transports to build proxies and to refuse anything else. */
export const API_METHODS = [
  'getInfo', 'listRoots', 'addRoots', 'removeRoot', 'scan', 'listPhotos', 'getPhoto', 'listScanIssues',
  'listJobs', 'getJob', 'cancelJob', 'embed', 'importEmbeddings', 'exportEmbeddings', 'cluster', 'listRuns', 'getRun',
  'getClusters', 'getCluster', 'exportRun', 'importLabels', 'getAssignments', 'getCatalog', 'downloadCatalogModel', 'computeMap', 'listMaps', 'getMap', 'editRun', 'undo', 'redo', 'getHistory', 'getClusterMembers', 'getItems',
  'getReviewQueue', 'similar', 'nearDuplicates', 'sweep', 'compareRuns', 'removeFolder', 'check',
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
