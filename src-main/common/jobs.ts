/**
 * The job-kind map: every job kind with its typed params and result, and `JobInfo<K>`, which takes them from here, so
 * a finished job's result is typed end to end (core, transports, CLI, renderer); the events that carry jobs (AppEvent).
 * Below api.ts, above types.ts: it imports only types.ts, schema-kit.ts (its enums) and errors.ts. Pure: no Node, no Electron.
 */
import type { ErrorPayload } from './errors.ts';
import type {
  AssignReport, ClusterParams, ExportJobReport, ExportRunOptions, ExportRunReport, ImportEmbeddingsFileOptions, ImportEmbeddingsFileReport, ImportRunOptions, ImportRunReport,
  ItemKind, JobProgress, JobState, LibraryInfo, MapInfo, MapParams, RunChange, RunInfo, ScanResult,
} from './types.ts';
import type { SWEEP_KINDS } from './schema-kit.ts';

export interface EmbedSpec {
  /** 'photo', 'face', or the path of a model manifest (JSON) */
  model: string;
  workers?: number;
  batch?: number;
  modelsDir?: string;
  /** excludeFolders: photos under these folders are not searched for faces (the library setting) */
  face?: { scoreThreshold?: number; minFaceSize?: number; minQuality?: number; excludeFolders?: string[] };
}

export interface EmbedReport {
  /** assign after embed (library setting): what joined which group */
  assigned?: import('./types.ts').AssignReport;
  model: string;
  kind: ItemKind;
  dim: number;
  version: string;
  pending: number;
  processed: number;
  failed: number;
  faces: number;
  /** face detections dropped by the quality floor (not faces, or unusable crops) */
  rejectedFaces: number;
  embeddings: number;
  failures: Array<{ path: string; reason: string }>;
  seconds: number;
  photosPerSecond: number;
  /**
   * Face models: per folder of the library, the faces detected, the detections this job dropped under the quality
   * floor, and how many of the folder's faces are near-identical to another of its faces; `flagged` (with its reason)
   * where those shares are high, so the folder may be excluded or the floor raised.
   */
  faceFolders?: FaceFolderNotice[];
}

export interface FaceFolderNotice {
  /** the folder (its path, without a trailing separator) */
  folder: string;
  /** faces of the folder stored in the library */
  faces: number;
  /** detections of this job in the folder dropped by the quality floor */
  rejected: number;
  /** stored faces of the folder whose nearest neighbour in the folder is at or above the near-identical similarity */
  nearIdentical: number;
  flagged: boolean;
  reason: string | null;
}

export interface ClusterSpec {
  model: string;
  params: ClusterParams;
  /** 'folders', 'imported', or a labels file */
  labels?: string | null;
  /** what a preset chose and why (stored in the run's record.preset) */
  preset?: PresetRecord;
}

export interface PresetRecord {
  name: import('./types.ts').ClusterPreset;
  /** the preset's own parameters for this data, before explicit ones */
  chose: ClusterParams;
  why: string[];
  /** explicit parameters that replaced the preset's values */
  overridden: string[];
  /** people: the linking similarity is computed on the data in the worker, with this impostor tail */
  tail?: { a: number; b: number; set: string };
  /** people: what that computation found (the library's thresholds; the groups of average linkage on the kNN graph) */
  link?: { similarity: number; sure: number; maybe: number; n: number; k: number; groups: number; largest: number };
}

export interface ClusterReport extends RunInfo {
  runId: number;
  top10: Array<{ cluster: number; size: number }>;
  tail10: Array<{ cluster: number; size: number }>;
}

export interface ExportSpec {
  runId: number; to: string; format: ExportRunReport['format']; link: NonNullable<ExportRunOptions['link']>;
  faces?: ExportRunOptions['faces'];
  dryRun: boolean; curatedOnly: boolean; includeNoise: boolean;
}

export interface MapSpec { model: string; params: MapParams }

export interface SweepPoint {
  /** parameter name, e.g. 'k' or 'eps' */
  param: string;
  /** parameter value */
  value: number;
  clusters: number;
  noiseShare: number;
  /** the sweep's score (inertia for the elbow, silhouette, ...); NaN when not computed */
  score: number;
  /** why this point may not be chosen */
  rejected?: string;
  /** elbow: the knee */
  knee?: boolean;
  /** a sweep against known labels: the adjusted Rand index beside the AMI in `score` */
  ari?: number;
}

export interface SweepResult {
  points: SweepPoint[];
  /** the chosen point (null when every point was rejected) */
  best: SweepPoint | null;
  /** the next best point that was not rejected (null when none) */
  runnerUp?: SweepPoint | null;
  /** where the score was computed: the raw embeddings, or their UMAP reduction (silhouette in UMAP space) */
  space?: 'raw' | 'umap';
  /**
   * what `score` is: inertia (elbow), silhouette, DBCV (density-based cluster validation, DBSCAN sweeps), or AMI
   * (adjusted mutual information against the known labels the sweep was given; each point carries its ARI too)
   */
  scoreName?: 'inertia' | 'silhouette' | 'dbcv' | 'ami';
  /** the labels an AMI sweep was scored against ('folders', 'imported' or a file), and how many items they name */
  labels?: { source: string; known: number; classes: number };
}

export type SweepKind = (typeof SWEEP_KINDS)[number];

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** bytes that were already in the .partial file and not fetched again */
  resumedFrom: number;
}

/** Every job kind: what it was started with and what it ends with. */
export interface JobKinds {
  scan: { params: { rootIds: number[] }; result: ScanResult };
  embed: { params: EmbedSpec; result: EmbedReport };
  cluster: { params: ClusterSpec; result: ClusterReport };
  export: { params: ExportSpec; result: ExportRunReport };
  map: { params: MapSpec; result: MapInfo & { seconds: number } };
  sweep: {
    params: { model: string; kind: SweepKind; values: number[]; options: { minSamples?: number; minClusters?: number; maxNoiseShare?: number; score?: 'silhouette' | 'dbcv'; labels?: string | null } };
    result: { model: string; kind: SweepKind } & SweepResult;
  };
  download: { params: { id: string }; result: DownloadResult & { manifest: string | null } };
  /** read jobs run beside the write jobs (core/jobs.ts JOB_KINDS); their rows keep a summary only */
  similar: { params: { model: string; item: { kind: 'photo' | 'face'; id: number }; k: number; selection?: number; combine?: 'mean' | 'max' }; result: { items: number } };
  neardup: { params: { model: string; threshold: number }; result: { groups: number } };
  split: { params: { runId: number; cluster: number; k?: number; algo?: string }; result: Record<string, unknown> };
  /** the compute half of a 'recluster' edit: where the undecided items go in the learned metric */
  recluster: { params: { runId: number }; result: { moved: number; regrouped: number } };
  /** interchange with other engines */
  importEmbeddings: { params: ImportEmbeddingsFileOptions; result: ImportEmbeddingsFileReport };
  importRun: { params: ImportRunOptions; result: ImportRunReport };
  exportJob: { params: { model: string; to: string; partitionRows?: number }; result: ExportJobReport };
}

export type JobKind = keyof JobKinds;
export type JobParams<K extends JobKind> = JobKinds[K]['params'];
export type JobResult<K extends JobKind> = JobKinds[K]['result'];

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

/** What `retryFailed` started: a scan of the folders with I/O failures, or nothing when there are none. */
export interface RetryReport {
  /** recorded scan failures, and those of them that are I/O failures (retried) */
  errors: number;
  retryable: number;
  /** the folders scanned again */
  rootIds: number[];
  scan: JobInfo<'scan'> | null;
}

/** Events pushed from the core to every connected UI. */
export type AppEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'library'; info: LibraryInfo }
  /** a run's clusters or names changed (an edit, undo, redo or an import of labels), or the run itself (renamed, deleted) */
  | { type: 'run'; runId: number; change?: RunChange }
  /** a watched-folder cycle ended (core/watch.ts): what was scanned, embedded and joined which group */
  | { type: 'watch'; summary: { rootIds: number[]; scan: ScanResult | null; embedded: Record<string, number>; assigned: AssignReport[] } }
  /** a progressive snapshot of a map being computed (binary over every transport) */
  | { type: 'mapFrame'; jobId: number; model: string; method: string; stage: string; done: number; total: number; ids: Int32Array; xy: Float32Array };
