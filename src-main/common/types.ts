/** Plain data shapes shared by the core, the transports and the renderer. No Node, no Electron. */
import type * as v from 'valibot';
import type { ErrorPayload } from './errors.ts';
// argument and result shapes inferred from their schemas (written once, in arg-schemas.ts and result-shapes.ts)
import type { checkProblemSchema, checkReportSchema, removeFolderReportSchema } from './result-shapes.ts';
import type { exportRunOptionsSchema, importEmbeddingsFileOptionsSchema, importRunOptionsSchema, itemRefSchema, mapParamsSchema } from './arg-schemas.ts';
import type { EXPORT_ACTIONS, EXPORT_FORMATS, FACE_EXPORTS, ITEM_KINDS, JOB_STATES, LINK_MODES, MAP_METHODS, METRICS, SUGGESTION_ZONES, TSNE_METHODS, COLUMNAR_FORMATS } from './schema-kit.ts';

export type ItemKind = (typeof ITEM_KINDS)[number];
// the clustering contract (algorithms, presets, parameters) is written once, in common/cluster-contract.ts
import type { ClusterParams } from './cluster-contract.ts';
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
  /** the calibrated same-identity similarity (face models; manifest models may state one) */
  identityThreshold?: IdentityThreshold | null;
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
  /** of `errors`, the I/O failures (permission, vanished file or folder, full thumbnail cache, timeout) that a scan retries (`retryFailed`) */
  retryableErrors?: number;
}

export type JobState = (typeof JOB_STATES)[number];

export interface JobProgress {
  stage: string;
  done: number;
  total: number;
  /** training loss per epoch so far (autoencoder / DEC runs) */
  loss?: number[];
}

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
  /**
   * folders that could not be opened at all (gone, unmounted, no permission): each with its reason and the photos the
   * library still holds from it, left as they were (not counted missing nor unreadable: reconnect it, or remove it)
   */
  vanished?: VanishedFolder[];
}

export interface VanishedFolder { rootId: number; path: string; reason: string; photos: number }

export interface Page<T> {
  total: number;
  offset: number;
  items: T[];
}

/**
 * A model's identity threshold: the cosine similarity at which two items are the same person (or object), measured on
 * labeled verification pairs at a stated false-accept rate (core/models/identity.ts).
 */
export interface IdentityThreshold {
  similarity: number;
  far: number;
  /** the labeled set it was calibrated on */
  set: string;
  /** what it gives on the other labeled set (never measured on its own calibration data) */
  heldOut?: { set: string; far: number; tar: number };
  /**
   * the model's impostor tail, standardized by the median / MAD of all pair similarities of a library: P(z > t) =
   * exp(a - t / b); with it, each library's own sure / maybe thresholds are derived from its pairs (see LibraryZones)
   */
  tail?: { a: number; b: number; set: string; loc?: number; scale?: number };
}

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

export interface LibraryZones {
  sure: number;
  maybe: number;
  link: number;
  /** faces the figures were computed on, their pairs and how many were sampled */
  n: number;
  pairs: number;
  sampled: number;
  /** median and robust scale of the library's pair similarities */
  loc: number;
  scale: number;
  /** per-pair false-accept rates held at sure and maybe */
  farSure: number;
  farMaybe: number;
  /** the tail used (with the calibration set's location / scale that small libraries are shrunk towards) */
  tail: { a: number; b: number; set: string; loc?: number; scale?: number };
}

/** Where a suggestion stands: above the library's sure threshold, or between its maybe and sure thresholds. */
export type SuggestionZone = (typeof SUGGESTION_ZONES)[number];

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

export type MapMethod = (typeof MAP_METHODS)[number];
export type Metric = (typeof METRICS)[number];

export type MapParams = v.InferOutput<typeof mapParamsSchema>;

/** A map's setting: its parameters with the defaults filled in (common/map-setting.ts mapSetting, mapSettingKey). */
export interface MapSetting {
  method: MapMethod;
  metric: Metric;
  seed: number;
  /** UMAP */
  nNeighbors?: number;
  minDist?: number;
  /** UMAP epochs; null = chosen from n (umap-learn's rule) */
  nEpochs?: number | null;
  /** t-SNE; null = min(30, (n - 1) / 3) */
  perplexity?: number | null;
}

export interface MapInfo {
  id: number;
  model: string;
  method: MapMethod;
  params: Record<string, unknown>;
  /** the layout's parameters with defaults filled in (common/map-setting.ts): one stored map per model and setting */
  setting: MapSetting;
  /** the setting as one canonical string */
  settingKey: string;
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
  | { type: 'reject'; items: number[] }
  /** several clusters named and/or marked curated at once (import labels, bulk accept): one undoable edit */
  | { type: 'names'; clusters: Array<{ cluster: number; name?: string | null; curated?: boolean }>; source?: string }
  /** near-duplicates resolved: per group, one item kept and the rest rejected (to noise), in one undoable edit */
  | { type: 'dedupe'; groups: Array<{ keep: number; reject: number[] }>; trash?: boolean }
  /** new items placed by `assign` (to: each item's cluster, -1 = left unassigned for review); not an editRun op */
  | { type: 'assign'; items: number[]; to: number[] }
  // --- people and faces ---
  /** a person's (cluster's) hidden flag and/or avatar face (null: the default, its most central face) */
  | { type: 'person'; cluster: number; hidden?: boolean; avatar?: number | null }
  /** suggested faces confirmed as the person's: members of the run move in, faces embedded after the run join it */
  | { type: 'confirm'; cluster: number; items: number[] }
  /** suggested faces rejected for a person: remembered, never suggested to them again (members are not moved) */
  | { type: 'reject-suggestions'; cluster: number; items: number[] }
  /** two people are not the same: remembered, never offered as a merge suggestion again */
  | { type: 'not-same'; clusters: [number, number] }
  /** a cluster split into given parts (a previewSplit's, or a brushed selection), each optionally named */
  | { type: 'split-parts'; cluster: number; parts: Array<{ items: number[]; name?: string }> }
  /** faces that are not faces: out of the run's people (to noise) and remembered by photo and box, so a rescan does not bring them back */
  | { type: 'not-face'; items: number[] }
  /** members whose decisions are forgotten: placed by the run again, where they are (nothing moves) */
  | { type: 'forget-decisions'; items: number[] }
  /**
   * the undecided items re-clustered in the model's learned metric (refused without one): noise and members of unnamed
   * groups go to the named group a queue would offer them to (threshold, margin: the queue's), the rest of the unnamed
   * groups are regrouped there; no item the user decided moves
   */
  | { type: 'recluster'; threshold?: number; margin?: number };

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

export interface HistoryInfo {
  runId: number;
  canUndo: boolean;
  canRedo: boolean;
  edits: Array<{ id: number; op: EditOp; undone: boolean; at: number; description?: string }>;
}

export interface EditResult {
  editId: number;
  op: EditOp;
  /** clusters whose members or names changed */
  clusters: number[];
  history: HistoryInfo;
  /** the edit in words ("rename 'cluster 6' → 'Anna'") */
  description?: string;
  runId?: number;
  /** files the edit moved to the system trash or restored from it (dedupe with trash), and what could not be done */
  files?: { trashed: string[]; restored: string[]; problems: string[] };
  /** a 'recluster' edit: items it moved to named groups, and among the unnamed groups */
  recluster?: { moved: number; regrouped: number };
}

/** What `assign` did (CLI `constellate assign --run ID --json` prints these keys). */
export interface AssignReport {
  runId: number;
  /** new items placed into a group */
  assigned: number;
  /** new items left unassigned for review */
  unassigned: number;
  /** how many groups received items */
  groups: number;
  /** the undoable edit (null when there was nothing new) */
  editId: number | null;
  threshold: number | null;
  thresholdFrom: string;
  margin: number;
  /** per receiving group: its cluster, name and how many joined */
  joined: Array<{ cluster: number; name: string | null; added: number }>;
  /** why items stayed unassigned */
  reasons: { belowThreshold: number; ambiguous: number; nearestUnnamed: number };
  /** 'groups': only named or curated clusters receive items (the run has some); 'clusters': every cluster does */
  targets: 'groups' | 'clusters';
  /** milliseconds: reading new vectors and prototypes, scoring, the edit (with group sync) */
  timings?: { read: number; score: number; edit: number };
}

/** Library settings. */
export interface LibrarySettings {
  /** after an embed, assign the new items to the newest run of that model */
  autoAssign: boolean;
  /** watch the library's folders: new or changed photos are scanned, embedded (these models) and assigned */
  watch: boolean;
  watchModels: string[];
  /** the face quality floor of this library's embeds (null: the default, FACE_MIN_QUALITY) */
  faceMinQuality: number | null;
  /** folders (absolute paths) whose photos are not searched for faces */
  faceExcludedFolders: string[];
  /** while a UI is open, relearn a run's metric in the background as its explicit decisions accumulate */
  learnInBackground: boolean;
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

// --- people and faces ---

/** One person of a face run (a cluster, named or not), as the People view and `constellate people` list them. */
export interface PersonRow {
  cluster: number;
  name: string | null;
  size: number;
  hidden: boolean;
  curated: boolean;
  /** the face shown for the person: the chosen avatar, else its most central face (null: none) */
  avatar: number | null;
  /** the chosen avatar (null: none chosen) */
  avatarChosen: boolean;
  /** when an edit last changed the person (ms since 1970; null: not since the run) */
  changedAt: number | null;
  /** the photo and thumbnail of the avatar face */
  thumb: string | null;
  meanSim: number | null;
}

/** A face suggested for a person (best first). */
export interface FaceSuggestion {
  /** the face id */
  item: number;
  /** the photo's path */
  path: string;
  /** best similarity to the person's prototypes */
  similarity: number;
  /** best similarity to any other person (null: none) and the margin over it */
  second: number | null;
  secondCluster: number | null;
  margin: number | null;
  /** where the face is now: 'noise' (unknown in the run), 'new' (embedded after the run), 'member' (a low-confidence member of another cluster) */
  source: 'noise' | 'new' | 'member';
  /** its cluster in the run (-1 noise, null: not in the run) */
  cluster: number | null;
  photoId: number;
  thumb: string | null;
  box: [number, number, number, number] | null;
  /** 'sure': at or above the library's sure threshold; 'maybe': between its maybe and sure thresholds (uncertain) */
  zone: SuggestionZone;
}

export interface SuggestionReport {
  runId: number;
  cluster: number;
  name: string | null;
  /** the similarity a suggestion reaches at least (the model's identity threshold, or given) and where it came from */
  threshold: number;
  thresholdFrom: string;
  /** the similarity from which a suggestion is sure (>= threshold); below it, down to threshold, it is 'maybe' */
  sure: number;
  margin: number;
  /** candidates scored (noise, new, low-confidence members), and those left out as rejected before */
  candidates: number;
  rejected: number;
  suggestions: FaceSuggestion[];
  timings: { read: number; score: number };
}

/** Two people (clusters) that are probably one identity. */
export interface MergeSuggestion {
  a: { cluster: number; name: string | null; size: number; avatar: number | null };
  b: { cluster: number; name: string | null; size: number; avatar: number | null };
  /** average-linkage similarity (mean over every pair of their faces, up to 64 faces each) */
  similarity: number;
  /** the highest pair similarity */
  max: number;
  /** 'sure': the two people's faces are as alike as the library's sure threshold; 'maybe': only its maybe threshold */
  zone: SuggestionZone;
}

export interface MergeSuggestionReport {
  runId: number;
  threshold: number;
  thresholdFrom: string;
  /** the similarity from which a merge is sure (>= threshold) */
  sure: number;
  suggestions: MergeSuggestion[];
}

/** One part of a split preview. */
export interface SplitPart {
  items: number[];
  size: number;
  /** up to 8 faces nearest the part's centre */
  samples: number[];
  /** the part's mean similarity to its centre */
  meanSim: number | null;
}

export interface SplitPreview {
  runId: number;
  cluster: number;
  algo: 'kmeans' | 'hdbscan' | 'selection';
  /** the parts, largest first (HDBSCAN: members it left out form a last part) */
  parts: SplitPart[];
}

/** What `addFace` made: a face drawn by hand, embedded and joined to the run (unassigned) when one was given. */
export interface AddFaceReport {
  face: FaceSummary & { manual: boolean };
  model: string;
  /** the run it joined as unassigned (null: none given) */
  runId: number | null;
  editId: number | null;
}

/** The best person for one face (`suggestPerson`), by the same prototypes, threshold and margin as `getSuggestions`. */
export interface PersonSuggestion {
  runId: number;
  item: number;
  /** where the face is now: -1 noise, null not in the run, else its cluster */
  from: number | null;
  /** the suggested person, null when none clears the threshold and the margin (or the best is where it is already) */
  cluster: number | null;
  name: string | null;
  similarity: number | null;
  second: number | null;
  secondCluster: number | null;
  threshold: number;
  margin: number;
  /** why there is no suggestion ('' when there is one) */
  reason: string;
}

/** Tentative groups of a run's unknown faces (`getUnknownGroups`): complete linkage at the identity threshold. */
export interface UnknownGroupsReport {
  runId: number;
  threshold: number;
  thresholdFrom: string;
  /** unassigned faces looked at (noise + embedded after the run, not-a-face left out) */
  candidates: number;
  /** groups found (the report holds the first `limit`) */
  total: number;
  /** best first: the highest least pairwise similarity, then the larger */
  groups: Array<{ items: number[]; size: number; minSim: number; faces: ItemView[] }>;
}

// The params and results of the export, importEmbeddings, importRun and exportJob jobs (api.ts re-exports them).
export type ExportRunOptions = v.InferOutput<typeof exportRunOptionsSchema>;

export interface ExportRunReport {
  runId: number; kind: 'photo' | 'face'; model: string; format: ExportRunOptions['format']; to: string; link: ExportRunOptions['link'] | null;
  /** a face run's folders: crops, or the original photos (each once per group); absent for photo runs and other formats */
  faces?: (typeof FACE_EXPORTS)[number];
  items: number; groups: number; files: number; skipped: number; collisions: number; dryRun: boolean; out: string | null; exportId: number | null;
  distance: string;
  folders?: Array<{ cluster: number; name: string | null; folder: string; size: number }>;
  plan?: Array<{ cluster: number; from: string | null; to: string; action: (typeof EXPORT_ACTIONS)[number] }>;
  planTruncated?: boolean;
  skippedItems?: Array<{ item: number; path: string | null; reason: string }>;
  warnings: string[];
}

export type ImportEmbeddingsFileOptions = v.InferOutput<typeof importEmbeddingsFileOptionsSchema>;
export interface ImportEmbeddingsFileReport {
  model: string; kind: 'photo' | 'face'; rows: number; dim: number; imported: number; unmatched: number; unmatchedPaths: string[]; facesCreated: number;
  format: (typeof COLUMNAR_FORMATS)[number]; files: number; source: string;
}
export interface ExportEmbeddingsFileReport { model: string; kind: ItemKind; rows: number; dim: number; out: string; ids: string; format: (typeof COLUMNAR_FORMATS)[number] }
export type ImportRunOptions = v.InferOutput<typeof importRunOptionsSchema>;
export interface ImportRunReport {
  runId: number; model: string; kind: 'photo' | 'face'; items: number; clusters: number; noise: number; unmatched: number; unmatchedIds: string[];
  rows: number; source: string; named: number; carried: number;
}
export interface ExportJobReport { dir: string; items: number; partitions: number; model: string; kind: 'photo' | 'face'; files: string[]; driver: string; command: string[] }
