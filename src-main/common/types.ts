/** Plain data shapes shared by the core, the transports and the renderer. No Node, no Electron. */
import type { ErrorPayload } from './errors.ts';
import type { JobKind, JobParams, JobResult } from './jobs.ts';

export type ItemKind = 'photo' | 'face';

/** One item of the library wherever it travels: a photo or a face (their ids are separate: photo 7 is not face 7). */
export interface ItemRef {
  kind: ItemKind;
  id: number;
}

/** Many items of one kind, as a typed array (maps of 100,000 points stay cheap). */
export interface ItemIds {
  kind: ItemKind;
  ids: Int32Array;
}

/** What removing a folder removed. */
export interface RemoveFolderReport {
  /** the folder's path */
  removed: string;
  photos: number;
  faces: number;
}

/** One finding of the library check (`constellate check`). */
export interface CheckProblem {
  kind: string;
  message: string;
  count: number;
}

export interface CheckReport {
  ok: boolean;
  problems: CheckProblem[];
}

export interface Root {
  id: number;
  path: string;
  addedAt: number;
  lastScanAt: number | null;
  photos: number;
  errors: number;
  missing: number;
}

export interface PhotoSummary {
  id: number;
  path: string;
  relPath: string;
  rootId: number;
  folder: string;
  hash: string;
  width: number;
  height: number;
  format: string;
  takenAt: string | null;
  status: 'ok' | 'missing';
  size: number;
}

export interface PhotoDetail extends PhotoSummary {
  mtimeMs: number;
  orientation: number | null;
  faces: FaceSummary[];
}

export interface FaceSummary {
  id: number;
  photoId: number;
  /** box in pixels of the EXIF-rotated photo */
  box: [number, number, number, number];
  score: number;
  thumb: string | null;
}

export interface ScanIssue {
  path: string;
  rootId: number | null;
  reason: string;
  at: number;
}

export interface ModelInfo {
  name: string;
  kind: ItemKind;
  dim: number;
  version: string;
  source: 'builtin' | 'manifest' | 'imported';
  embeddings: number;
}

export interface LibraryInfo {
  library: string;
  schemaVersion: number;
  roots: number;
  photos: number;
  missing: number;
  errors: number;
  faces: number;
  embeddings: Record<string, number>;
  models: ModelInfo[];
  runs: number;
  /** photos each model failed on (their reasons: `constellate info --errors`); I/O failures are retried by the next embed */
  embedFailures?: Record<string, number>;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface JobProgress {
  stage: string;
  done: number;
  total: number;
  /** training loss per epoch so far (autoencoder / DEC runs) */
  loss?: number[];
}

interface JobInfoOf<K extends JobKind> {
  id: number;
  kind: K;
  state: JobState;
  params: JobParams<K>;
  progress: JobProgress;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: ErrorPayload | null;
  /** set once the job is done */
  result: JobResult<K> | null;
}

/** A job of one kind (or, by default, of any kind: narrow on `kind` to get its typed params and result). */
export type JobInfo<K extends JobKind = JobKind> = { [P in K]: JobInfoOf<P> }[K];

export interface ScanResult {
  roots: number;
  seen: number;
  added: number;
  updated: number;
  unchanged: number;
  moved: number;
  missing: number;
  errors: number;
  photos: number;
}

export interface Page<T> {
  total: number;
  offset: number;
  items: T[];
}

/** Events pushed from the core to every connected UI. */
export type AppEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'library'; info: LibraryInfo }
  /** a progressive snapshot of a map being computed (binary over every transport) */
  /** a run's clusters or names changed (an edit, undo or redo) */
  | { type: 'run'; runId: number }
  | { type: 'mapFrame'; jobId: number; model: string; method: string; stage: string; done: number; total: number; ids: Int32Array; xy: Float32Array };

export type ClusterAlgo = 'kmeans' | 'minibatch-kmeans' | 'hdbscan' | 'dbscan' | 'ward' | 'dec';

/** Parameters of a clustering run (see algo/cluster/run.ts for their meaning). */
export interface ClusterParams {
  algo: ClusterAlgo;
  metric?: 'cosine' | 'euclidean';
  seed?: number;
  k?: number;
  nInit?: number;
  batchSize?: number;
  minClusterSize?: number;
  minSamples?: number;
  eps?: number;
  selection?: 'eom' | 'leaf';
  allowSingleCluster?: boolean;
  attachNoise?: number;
  linkage?: 'ward' | 'average' | 'complete';
  distanceThreshold?: number;
  /** umap dimensions (number), or a chain such as 'ae:32', 'ae:512-256-32', 'pca:50,umap:10', 'ae:32,umap:10', 'none' */
  reduce?: number | string;
  /** autoencoder / DEC: epochs (default 5), batch size (default 256), early-stopping patience in epochs */
  epochs?: number;
  aeBatchSize?: number;
  patience?: number;
  /** DEC: stop when fewer than tol of the labels change between target updates (default 0.001) */
  tol?: number;
  updateInterval?: number;
  maxIter?: number;
  postprocess?: { dedupeSources?: boolean; minSim?: number | null; minSize?: number };
  samples?: number;
}

export interface RunInfo {
  id: number;
  model: string;
  kind: ItemKind;
  algo: string;
  params: ClusterParams;
  metrics: Record<string, unknown>;
  timings: Record<string, number>;
  record: Record<string, unknown>;
  n: number;
  clusters: number;
  noise: number;
  createdAt: number;
}

export interface Sample { item: number; sim: number }

export interface ClusterRow {
  cluster: number;
  size: number;
  meanSim: number | null;
  name: string | null;
  curated: boolean;
  top: Sample[];
  tail: Sample[];
}

export interface MapParams {
  method: 'umap' | 'tsne' | 'pca';
  seed?: number;
  metric?: 'cosine' | 'euclidean';
  nNeighbors?: number;
  minDist?: number;
  perplexity?: number;
  nEpochs?: number;
  /** t-SNE repulsion: exact (all pairs), bh (Barnes-Hut), fft (FIt-SNE interpolation), auto (default; Barnes-Hut below 5,000 points; from there, per iteration, the cheaper of fft and bh by a cost model of n and the map's extent) */
  tsneMethod?: 'exact' | 'bh' | 'fft' | 'auto';
}

export interface MapInfo {
  id: number;
  model: string;
  method: 'umap' | 'tsne' | 'pca';
  params: Record<string, unknown>;
  n: number;
  createdAt: number;
}

export interface MapData extends MapInfo {
  /** what the ids are: photos or faces (the model's kind) */
  kind: ItemKind;
  /** item ids (photo or face ids) */
  ids: Int32Array;
  /** n x 2 coordinates */
  xy: Float32Array;
}

/** One edit of a labeling session. */
export type EditOp =
  | { type: 'rename'; cluster: number; name: string }
  | { type: 'accept'; cluster: number; curated?: boolean }
  | { type: 'merge'; clusters: number[]; into?: number }
  | { type: 'split'; cluster: number; k?: number; algo?: 'kmeans' | 'hdbscan' }
  | { type: 'move'; items: number[]; to: number | 'new'; name?: string }
  | { type: 'reject'; items: number[] };

export interface HistoryInfo {
  runId: number;
  canUndo: boolean;
  canRedo: boolean;
  edits: Array<{ id: number; op: EditOp; undone: boolean; at: number }>;
}

export interface EditResult {
  editId: number;
  op: EditOp;
  /** clusters whose members or names changed */
  clusters: number[];
  history: HistoryInfo;
}

/** An item of a run with what the UI shows of it. */
export interface ItemView {
  item: number;
  kind: ItemKind;
  photoId: number;
  path: string;
  folder: string;
  /** thumbnail cache key (photo hash, or the face crop's key) */
  thumb: string | null;
  box: [number, number, number, number] | null;
  cluster: number | null;
  sim: number | null;
}
