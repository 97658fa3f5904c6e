/**
 * The job-kind map: every job kind with its typed params and result, and `JobInfo<K>`, which takes them from here, so
 * a finished job's result is typed end to end (core, transports, CLI, renderer); the events that carry jobs (AppEvent).
 * Below api.ts, above types.ts: its shapes are inferred from the job-kind map's schemas (job-schemas.ts, result-shapes.ts).
 * Pure: no Node, no Electron.
 */
import type * as v from 'valibot';
import type { ErrorPayload } from './errors.ts';
import type { AssignReport, JobProgress, JobState, LibraryInfo, RunChange, ScanResult } from './types.ts';
import type { SWEEP_KINDS } from './schema-kit.ts';
import type { JOB_SCHEMAS, clusterSpecSchema, embedSpecSchema, exportSpecSchema, mapSpecSchema, presetRecordSchema } from './job-schemas.ts';
import type { clusterReportSchema, downloadResultSchema, embedReportSchema, faceFolderNoticeSchema, sweepPointSchema, sweepResultSchema } from './result-shapes.ts';

/** What an embed job is started with: 'photo', 'face', or the path of a model manifest (JSON), and the face detector's settings. */
export type EmbedSpec = v.InferOutput<typeof embedSpecSchema>;

/**
 * What an embed job did. `assigned` (assign after embed, a library setting: what joined which group) is not in the
 * job's checked result schema (the public surface keeps it as it is): it is added here, typed by the contract's AssignReport.
 */
export type EmbedReport = v.InferOutput<typeof embedReportSchema> & { assigned?: AssignReport };

export type FaceFolderNotice = v.InferOutput<typeof faceFolderNoticeSchema>;

/**
 * What a cluster job is started with. `preset` (what a preset chose and why, stored in the run's record.preset) is not
 * in the job's checked params schema (the public surface keeps it as it is): it is added here, typed by its own schema.
 */
export type ClusterSpec = v.InferOutput<typeof clusterSpecSchema> & { preset?: PresetRecord };

export type PresetRecord = v.InferOutput<typeof presetRecordSchema>;

export type ClusterReport = v.InferOutput<typeof clusterReportSchema>;

export type ExportSpec = v.InferOutput<typeof exportSpecSchema>;

export type MapSpec = v.InferOutput<typeof mapSpecSchema>;

export type SweepPoint = v.InferOutput<typeof sweepPointSchema>;

export type SweepResult = v.InferOutput<typeof sweepResultSchema>;

export type SweepKind = (typeof SWEEP_KINDS)[number];

export type DownloadResult = v.InferOutput<typeof downloadResultSchema>;

type JobSchemas = typeof JOB_SCHEMAS;
/**
 * Every job kind: what it was started with and what it ends with, inferred from the job-kind map's schemas
 * (common/job-schemas.ts). Three fields the checked schemas do not list (so the public surface stays as it is) are
 * added by their own types: a cluster job's `preset` (ClusterSpec), an embed's `assigned` (EmbedReport), a sweep's
 * `runnerUp` and `space` (SweepResult).
 */
export type JobKinds = { [K in keyof JobSchemas]: { params: v.InferOutput<JobSchemas[K]['params']>; result: v.InferOutput<JobSchemas[K]['result']> } } & {
  cluster: { params: ClusterSpec; result: ClusterReport };
  embed: { params: EmbedSpec; result: EmbedReport };
  sweep: { result: Pick<SweepResult, 'runnerUp' | 'space'> };
};

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

/** What one watched-folder cycle did: the folders scanned, the scan, the embeddings per model, what joined which group. */
export interface WatchSummary { rootIds: number[]; scan: ScanResult | null; embedded: Record<string, number>; assigned: AssignReport[] }

/** Events pushed from the core to every connected UI. */
export type AppEvent =
  | { type: 'job'; job: JobInfo }
  | { type: 'library'; info: LibraryInfo }
  /** a run's clusters or names changed (an edit, undo, redo or an import of labels), or the run itself (renamed, deleted) */
  | { type: 'run'; runId: number; change?: RunChange }
  /** a watched-folder cycle ended (core/watch.ts): what was scanned, embedded and joined which group */
  | { type: 'watch'; summary: WatchSummary }
  /** a progressive snapshot of a map being computed (binary over every transport) */
  | { type: 'mapFrame'; jobId: number; model: string; method: string; stage: string; done: number; total: number; ids: Int32Array; xy: Float32Array };
