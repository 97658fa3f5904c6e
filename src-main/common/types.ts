/** Plain data shapes shared by the core, the transports and the renderer. No Node, no Electron. */
import type * as v from 'valibot';
// argument and result shapes inferred from their schemas (written once, in arg-schemas.ts and result-shapes.ts)
import type {
  addFaceReportSchema, assignReportSchema, checkProblemSchema, checkReportSchema, clusterRowSchema, editResultSchema,
  exportEmbeddingsFileReportSchema, exportJobReportSchema, exportRunReportSchema, faceSuggestionSchema, faceSummarySchema, historySchema,
  identityThresholdSchema, importEmbeddingsFileReportSchema, importRunReportSchema, itemViewSchema, jobProgressSchema, libraryInfoSchema,
  librarySettingsSchema, libraryZonesSchema, mapDataSchema, mapInfoSchema, mapSettingSchema, mergeSuggestionReportSchema, mergeSuggestionSchema,
  modelInfoSchema, personRowSchema, personSuggestionSchema, photoDetailSchema, photoSummarySchema, removeFolderReportSchema, rootSchema,
  runInfoSchema, sampleSchema, scanIssueSchema, scanResultSchema, splitPartSchema, splitPreviewSchema, suggestionReportSchema,
  unknownGroupsReportSchema, vanishedFolderSchema,
} from './result-shapes.ts';
import type { editOpSchema, exportRunOptionsSchema, importEmbeddingsFileOptionsSchema, importRunOptionsSchema, itemRefSchema, mapParamsSchema } from './arg-schemas.ts';
import type { ITEM_KINDS, JOB_STATES, MAP_METHODS, METRICS, SUGGESTION_ZONES } from './schema-kit.ts';

export type ItemKind = (typeof ITEM_KINDS)[number];
// the clustering contract (algorithms, presets, parameters) is written once, in common/cluster-contract.ts
export type { ClusterAlgo, ClusterParams, ClusterPreset, ClusterRequest } from './cluster-contract.ts';

/** One item of the library wherever it travels: a photo or a face (their ids are separate: photo 7 is not face 7). */
export type ItemRef = v.InferOutput<typeof itemRefSchema>;

/** Many items of one kind, as a typed array (maps of 100,000 points stay cheap). */
export interface ItemIds {
  kind: ItemKind;
  ids: Int32Array;
}

export type RemoveFolderReport = v.InferOutput<typeof removeFolderReportSchema>;

export type CheckProblem = v.InferOutput<typeof checkProblemSchema>;

export type CheckReport = v.InferOutput<typeof checkReportSchema>;

export type Root = v.InferOutput<typeof rootSchema>;

export type PhotoSummary = v.InferOutput<typeof photoSummarySchema>;

export type PhotoDetail = v.InferOutput<typeof photoDetailSchema>;

export type FaceSummary = v.InferOutput<typeof faceSummarySchema>;

export type ScanIssue = v.InferOutput<typeof scanIssueSchema>;

/**
 * A model as the library knows it. `identityThreshold` (the calibrated same-identity similarity of face models; manifest
 * models may state one) is not in the checked result schema (the public surface keeps it as it is): added here, typed by its schema.
 */
export type ModelInfo = v.InferOutput<typeof modelInfoSchema> & { identityThreshold?: IdentityThreshold | null };

/** The library: its path, counts, models (with their identity thresholds: see ModelInfo) and runs. */
export type LibraryInfo = Omit<v.InferOutput<typeof libraryInfoSchema>, 'models'> & { models: ModelInfo[] };

export type JobState = (typeof JOB_STATES)[number];

export type JobProgress = v.InferOutput<typeof jobProgressSchema>;

export type ScanResult = v.InferOutput<typeof scanResultSchema>;

export type VanishedFolder = v.InferOutput<typeof vanishedFolderSchema>;

/** A page of a list (result-shapes.ts pageOf is its schema; a generic type cannot be inferred from a schema function). */
export interface Page<T> {
  total: number;
  offset: number;
  items: T[];
}

/**
 * A model's identity threshold: the cosine similarity at which two items are the same person (or object), measured on
 * labeled verification pairs at a stated false-accept rate (core/models/identity.ts).
 */
export type IdentityThreshold = v.InferOutput<typeof identityThresholdSchema>;

/**
 * Identity thresholds of one library (a run's faces), from the model's impostor tail and the library's own pair
 * similarities, computed once per run and kept in its record: `sure` holds about one expected false pair over all the
 * library's pairs (assign places only above it; queues offer above it as sure), `maybe` about n / 4 (queues offer
 * between maybe and sure as uncertain; nothing below maybe), `link` the similarity the people preset links at.
 */
/**
 * The default face quality floor of a face embed (feature norm; measured in core/models/face.ts), shown where the
 * floor is set.
 */
export const FACE_MIN_QUALITY_DEFAULT = 2.2;

export type LibraryZones = v.InferOutput<typeof libraryZonesSchema>;

/** Where a suggestion stands: above the library's sure threshold, or between its maybe and sure thresholds. */
export type SuggestionZone = (typeof SUGGESTION_ZONES)[number];

export type RunInfo = v.InferOutput<typeof runInfoSchema>;

export type Sample = v.InferOutput<typeof sampleSchema>;

export type ClusterRow = v.InferOutput<typeof clusterRowSchema>;

export type MapMethod = (typeof MAP_METHODS)[number];
export type Metric = (typeof METRICS)[number];

export type MapParams = v.InferOutput<typeof mapParamsSchema>;

/** A map's setting: its parameters with the defaults filled in (common/map-setting.ts mapSetting, mapSettingKey). */
export type MapSetting = v.InferOutput<typeof mapSettingSchema>;

export type MapInfo = v.InferOutput<typeof mapInfoSchema>;

export type MapData = v.InferOutput<typeof mapDataSchema>;

/** One edit of a labeling session (each variant documented in its schema, arg-schemas.ts editOpSchema). */
export type EditOp = v.InferOutput<typeof editOpSchema>;

/** What changed in a run, as the core's 'run' event tells every client (the renderer's store reloads from it). */
export interface RunChange {
  action: 'edit' | 'undo' | 'redo' | 'import' | 'rename-run' | 'delete-run';
  /** the edit applied, undone or redone (absent for run renames/deletes) */
  editId?: number;
  /** what it did, in words ("rename 'cluster 6' → 'Anna'") */
  description: string;
  /** clusters whose members or names changed */
  clusters: number[];
  /** those of them that still exist, as they are now (edits, undo, redo of up to 200 clusters): views patch from these */
  rows?: ClusterRow[];
  /** the run's counts after the change (clusters, noise, items) */
  counts?: { clusters: number; noise: number; n: number };
}

type HistoryShape = v.InferOutput<typeof historySchema>;
/**
 * A run's edit log. Each edit's `description` (the edit in words) is not in the checked result schema (the public
 * surface keeps it as it is): added here.
 */
export type HistoryInfo = Omit<HistoryShape, 'edits'> & { edits: Array<HistoryShape['edits'][number] & { description?: string }> };

export type EditResult = Omit<v.InferOutput<typeof editResultSchema>, 'history'> & { history: HistoryInfo };

/** What `assign` did (CLI `constellate assign --run ID --json` prints these keys). */
export type AssignReport = v.InferOutput<typeof assignReportSchema>;

/** Library settings. */
export type LibrarySettings = v.InferOutput<typeof librarySettingsSchema>;

/** An item of a run with what the UI shows of it. */
export type ItemView = v.InferOutput<typeof itemViewSchema>;

// --- people and faces ---

/** One person of a face run (a cluster, named or not), as the People view and `constellate people` list them. */
export type PersonRow = v.InferOutput<typeof personRowSchema>;

/** A face suggested for a person (best first). */
export type FaceSuggestion = v.InferOutput<typeof faceSuggestionSchema>;

export type SuggestionReport = v.InferOutput<typeof suggestionReportSchema>;

/** Two people (clusters) that are probably one identity. */
export type MergeSuggestion = v.InferOutput<typeof mergeSuggestionSchema>;

export type MergeSuggestionReport = v.InferOutput<typeof mergeSuggestionReportSchema>;

/** One part of a split preview. */
export type SplitPart = v.InferOutput<typeof splitPartSchema>;

export type SplitPreview = v.InferOutput<typeof splitPreviewSchema>;

/** What `addFace` made: a face drawn by hand, embedded and joined to the run (unassigned) when one was given. */
export type AddFaceReport = v.InferOutput<typeof addFaceReportSchema>;

/** The best person for one face (`suggestPerson`), by the same prototypes, threshold and margin as `getSuggestions`. */
export type PersonSuggestion = v.InferOutput<typeof personSuggestionSchema>;

/** Tentative groups of a run's unknown faces (`getUnknownGroups`): complete linkage at the identity threshold. */
export type UnknownGroupsReport = v.InferOutput<typeof unknownGroupsReportSchema>;

// The params and results of the export, importEmbeddings, importRun and exportJob jobs (api.ts re-exports them).
export type ExportRunOptions = v.InferOutput<typeof exportRunOptionsSchema>;

export type ExportRunReport = v.InferOutput<typeof exportRunReportSchema>;

export type ImportEmbeddingsFileOptions = v.InferOutput<typeof importEmbeddingsFileOptionsSchema>;
export type ImportEmbeddingsFileReport = v.InferOutput<typeof importEmbeddingsFileReportSchema>;
export type ExportEmbeddingsFileReport = v.InferOutput<typeof exportEmbeddingsFileReportSchema>;
export type ImportRunOptions = v.InferOutput<typeof importRunOptionsSchema>;
export type ImportRunReport = v.InferOutput<typeof importRunReportSchema>;
export type ExportJobReport = v.InferOutput<typeof exportJobReportSchema>;
