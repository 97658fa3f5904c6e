/**
 * AppApi: the one contract between the UI and the core. Every method takes one JSON-like options object and returns a
 * promise. Three transports carry it unchanged: Electron IPC (preload exposes exactly these methods),
 * loopback HTTP/WebSocket (serve mode) and direct calls (CLI, tests). Errors cross as `{code, message}`.
 */
import type * as v from 'valibot';
// argument and result shapes inferred from their schemas (written once, in arg-schemas.ts and result-shapes.ts)
import type {
  backupInfoSchema, catalogItemSchema, compareReportSchema, deleteRunReportSchema, exportEmbeddingsReportSchema, exportXmpReportSchema, importEmbeddingsReportSchema,
  importLabelsReportSchema, importXmpReportSchema, itemQualityViewSchema, itemStatesReportSchema, learnReportSchema, libraryCheckSchema, mapFieldSchema,
  nearDuplicateGroupSchema, recentLibrarySchema, searchResultSchema,
} from './result-shapes.ts';
import type {
  embedOptionsSchema, importLabelsOptionsSchema, mapFieldOptionsSchema, peopleQuerySchema, photoQuerySchema, searchOptionsSchema, similarOptionsSchema,
  suggestionQuerySchema, sweepOptionsSchema,
} from './arg-schemas.ts';
import { API_RESULT_SCHEMAS, API_SCHEMAS } from './schemas.ts';
import type { MAP_FIELDS } from './schema-kit.ts';
import type { ExportEmbeddingsFileReport, ExportRunOptions, ImportEmbeddingsFileOptions, ImportRunOptions } from './types.ts';
import type { AssignReport, LibrarySettings } from './types.ts';
import type { AddFaceReport, MergeSuggestionReport, PersonRow, PersonSuggestion, SplitPreview, SuggestionReport, UnknownGroupsReport } from './types.ts';
import type { CheckReport, RemoveFolderReport, ClusterRow, EditResult, HistoryInfo, ItemKind, ItemView, MapData, MapInfo, RunInfo } from './types.ts';
import type { LibraryInfo, Page, PhotoDetail, PhotoSummary, Root, ScanIssue } from './types.ts';
import type { AppEvent, JobInfo } from './jobs.ts';

export type PhotoQuery = v.InferOutput<typeof photoQuerySchema>;

/** Options of a method that takes none. */
export type NoOptions = Record<string, never>;
/** A run, by id (the options of getRun and of every method about one run). */
export type RunRef = Args<'getRun'>;
/** A page of a list: offset and limit (common/arg-schemas.ts page). */
export type PageQuery = NonNullable<Args<'listScanIssues'>>;

/** A method's options object, inferred from its argument schema (common/schemas.ts API_SCHEMAS): written once. */
export type Args<M extends keyof typeof API_SCHEMAS> = v.InferOutput<(typeof API_SCHEMAS)[M]>;
/** What a method resolves with, inferred from its result schema (API_RESULT_SCHEMAS), for the shapes without a name. */
export type Result<M extends keyof typeof API_RESULT_SCHEMAS> = v.InferOutput<(typeof API_RESULT_SCHEMAS)[M]>;

/**
 * Every method takes ONE options object (validated at the door by every transport against common/schemas.ts) and
 * returns a promise. Methods that need nothing take an optional empty object.
 */
export interface AppApi {
  /** Library path, counts, models, runs. */
  getInfo(o?: NoOptions): Promise<LibraryInfo>;
  listRoots(o?: NoOptions): Promise<Root[]>;
  /** Adds folders (absolute paths) as roots; existing ones are returned unchanged. */
  addRoots(o: Args<'addRoots'>): Promise<Root[]>;
  removeRoot(o: Args<'removeRoot'>): Promise<void>;
  /**
   * Removes a folder with everything of it (photos, faces, their embeddings, labels and run assignments); refused
   * (CONFLICT, naming the job) while a job uses the folder.
   */
  removeFolder(o: Args<'removeFolder'>): Promise<RemoveFolderReport>;
  /** Checks the library (integrity, foreign keys, dangling or reused item ids, cluster summaries, thumbnails). */
  check(o?: Record<string, never>): Promise<CheckReport>;
  /** Starts a scan job over the given roots (all roots when omitted); resolves with the job as started. */
  scan(o?: Args<'scan'>): Promise<JobInfo<'scan'>>;
  listPhotos(query?: PhotoQuery): Promise<Page<PhotoSummary>>;
  getPhoto(o: Args<'getPhoto'>): Promise<PhotoDetail>;
  listScanIssues(o?: Args<'listScanIssues'>): Promise<Page<ScanIssue>>;
  listJobs(o?: NoOptions): Promise<JobInfo[]>;
  getJob(o: Args<'getJob'>): Promise<JobInfo>;
  /** Resolves when the job has ended (done, failed, cancelled), or with the job as it is after `timeoutMs`. */
  waitJob(o: Args<'waitJob'>): Promise<JobInfo>;
  cancelJob(o: Args<'cancelJob'>): Promise<void>;

  /** Starts an embed job: 'photo', 'face' or a model manifest path; only new or changed photos are processed. */
  embed(o: EmbedOptions): Promise<JobInfo<'embed'>>;
  /** Imports a .npy matrix + ids file (CSV or JSON lines) as the embeddings of a named model. */
  importEmbeddings(o: Args<'importEmbeddings'>): Promise<ImportEmbeddingsReport>;
  /** Writes a model's embeddings as .npy + ids CSV; an existing file is replaced only with `force`, the library's own files never. */
  exportEmbeddings(o: Args<'exportEmbeddings'>): Promise<ExportEmbeddingsReport>;

  /** Starts a clustering run on a model's embeddings; the finished job's result is the run with its metrics. */
  cluster(o: ClusterOptions): Promise<JobInfo<'cluster'>>;
  /**
   * The open library's runs, newest first. `library`: the library the caller takes to be open (its path as getInfo
   * names it); when another one is open by then, CONFLICT (an answer from the library that replaced it is never taken
   * for the old one's).
   */
  listRuns(o?: { library?: string }): Promise<RunInfo[]>;
  getRun(o: Args<'getRun'>): Promise<RunInfo>;
  /** Every cluster of a run with size, name, mean similarity and its top and tail samples (only `clusters` when given: those that exist). */
  getClusters(o: Args<'getClusters'>): Promise<ClusterRow[]>;
  /** Starts an export job of a run as it is now: folders (copies, links or face crops), CSV, JSON or an HTML report. */
  exportRun(o: ExportRunOptions): Promise<JobInfo<'export'>>;
  /** Imports ground-truth labels from a CSV/JSON file or a folder tree (folder name = label); names the newest run's groups. */
  importLabels(o: Args<'importLabels'>): Promise<ImportLabelsReport>;
  /** Writes a face run's named faces into the photos' XMP sidecars (MWG regions + keywords; originals untouched). */
  exportXmp(o: Args<'exportXmp'>): Promise<ExportXmpReport>;
  /** Reads the people in the library photos' XMP sidecars (digiKam, Lightroom, Immich...) as face labels, seeding groups. */
  importXmp(o?: ImportLabelsOptions): Promise<ImportXmpReport>;
  /** One cluster of a run with its top and tail samples (what the cluster view opens with). */
  getCluster(o: Args<'getCluster'>): Promise<ClusterRow>;
  /**
   * Every item's cluster in a run, as typed arrays (for colouring maps of 100,000 points). Its result is written out
   * here: the schema's `v.instance(Int32Array)` infers an array over an ArrayBuffer only, the store's may be shared.
   */
  getAssignments(o: Args<'getAssignments'>): Promise<{ runId: number; kind: ItemKind; ids: Int32Array; clusters: Int32Array }>;

  /** Starts a 2-D map job (UMAP, t-SNE or PCA) of a model's embeddings; frames stream as 'mapFrame' events. */
  computeMap(o: Args<'computeMap'>): Promise<JobInfo<'map'>>;
  /** Stored maps, newest first, each with its setting (one map per model and setting), optionally of one model. */
  listMaps(o?: Args<'listMaps'>): Promise<MapInfo[]>;
  /** A stored map as typed arrays: by id, by model and setting (the parameters; defaults filled in), or the newest of a model (and method). */
  getMap(o: Args<'getMap'>): Promise<MapData>;

  /** Models a user may download (on a machine with internet), with what is installed. */
  getCatalog(o?: NoOptions): Promise<CatalogItem[]>;
  /** Downloads a catalog model (resumable, checksum-verified) into the models folder, with its manifest. */
  downloadCatalogModel(o: Args<'downloadCatalogModel'>): Promise<JobInfo<'download'>>;

  // --- labeling session ---
  /** Applies one edit (rename, accept, merge, split, move, reject) to a run, logged for undo. */
  editRun(o: Args<'editRun'>): Promise<EditResult>;
  undo(o: Args<'undo'>): Promise<EditResult | null>;
  redo(o: Args<'redo'>): Promise<EditResult | null>;
  getHistory(o: Args<'getHistory'>): Promise<HistoryInfo>;
  /** How many members of a run the user decided, by how (named, moved, person, confirmed, split, not-face), and how many the run placed. */
  getItemStates(o: Args<'getItemStates'>): Promise<ItemStatesReport>;
  /** Members of a cluster (-1 = noise), most similar to the centroid first ('asc': least similar first). */
  getClusterMembers(o: Args<'getClusterMembers'>): Promise<Page<ItemView>>;
  /** Items of a kind by id, with their cluster in a run when runId is given. */
  getItems(o: Args<'getItems'>): Promise<ItemView[]>;
  /** Noise and low-similarity members of a run. */
  getReviewQueue(o: Args<'getReviewQueue'>): Promise<Page<ItemView>>;
  /**
   * Nearest neighbours (cosine) of an item among a model's embeddings, k of them (default 24, chosen by the caller); or
   * "more like these" of a selection (`items`): by the normalized mean of their vectors (`combine: 'mean'`, default) or by
   * each item's highest similarity to any of them (`'max'`, the union of their neighbourhoods), the selection left out.
   * With `runId`, each result carries its cluster in that run (so it can be moved or rejected with editRun).
   */
  similar(o: SimilarOptions): Promise<Result<'similar'>>;
  /**
   * Groups of near-duplicate items that cannot chain (complete linkage: every pair of a group at or above the threshold),
   * largest first (at most `limit`, default 500). Each group: its items (the representative, its medoid, first), the
   * true minimum pairwise similarity, the representative, and the item to keep by the stated rule (`keepRule`).
   */
  nearDuplicates(o: Args<'nearDuplicates'>): Promise<NearDuplicateGroup[]>;
  /** Parameter sweep for charts: elbow (inertia over k), silhouette over k, or DBSCAN eps with constraints. */
  sweep(o: SweepOptions): Promise<JobInfo<'sweep'>>;
  // --- interchange with other engines (Parquet / Arrow, job bundles) ---
  /** Starts a job importing a model's embeddings from a Parquet file, a folder of Parquet parts or an Arrow IPC file. */
  importEmbeddingsFile(o: ImportEmbeddingsFileOptions): Promise<JobInfo<'importEmbeddings'>>;
  /** Writes a model's embeddings as Parquet or Arrow (id, path, sha256, box, embedding). */
  exportEmbeddingsFile(o: Args<'exportEmbeddingsFile'>): Promise<ExportEmbeddingsFileReport>;
  /** Starts a job storing a run clustered elsewhere (item, cluster label, optional probability) with centroids, samples and metrics computed here. */
  importRun(o: ImportRunOptions): Promise<JobInfo<'importRun'>>;
  /** Starts a job writing a job bundle (items.parquet, model files, Dask driver) for an existing distributed engine. */
  exportJob(o: Args<'exportJob'>): Promise<JobInfo<'exportJob'>>;
  /** Agreement between two runs of the same items (ARI, AMI, NMI) and their metrics side by side; runs over different kinds are a BAD_ARGUMENT. */
  compareRuns(o: Args<'compareRuns'>): Promise<Result<'compareRuns'>>;
  /**
   * Tries the failed items again: starts a scan of the folders whose recorded failures are I/O failures (permission,
   * a file or folder gone for a while, a full thumbnail cache, a timeout); content failures stay. Embed failures of
   * that kind are retried by the next embed. (The UI's retry button calls this.)
   */
  retryFailed(o?: NoOptions): Promise<RetryReport>;
  /** Names a run (kept in its record as `name`; an empty name clears it), so runs are told apart in every picker. */
  renameRun(o: Args<'renameRun'>): Promise<RunInfo>;
  /** Deletes a run with its clusters, assignments, names and edit history (refused while a job uses it). */
  deleteRun(o: Args<'deleteRun'>): Promise<DeleteRunReport>;
  /** Where an export to `to` would write (`~` expanded) and whether that folder exists yet, so a UI can ask before one is created; a relative path or one under a file is a BAD_ARGUMENT. */
  checkExportTarget(o: Args<'checkExportTarget'>): Promise<Result<'checkExportTarget'>>;
  /** The library's backups (made before migrations, or with backupNow), newest first. */
  listBackups(o?: NoOptions): Promise<BackupInfo[]>;
  /** Backs the library up now (consistent while open), next to it as `<library>.backup-v<schema>-<time>-now`. */
  backupNow(o?: NoOptions): Promise<BackupInfo>;
  /**
   * Replaces the library's content with a backup's (an older schema is migrated first); refused while a job runs.
   * Photos of the backup that a later keep-best moved to the trash come back to their places (`fromTrash`).
   */
  restoreBackup(o: Args<'restoreBackup'>): Promise<Result<'restoreBackup'>>;

  // --- exploration ---
  /**
   * Items side by side: size, pixels, bytes, format, date, sharpness, with the item to keep by the rule and, with a
   * model, their pairwise similarities.
   */
  compareItems(o: Args<'compareItems'>): Promise<CompareReport>;
  /**
   * Resolves near-duplicate groups in a run as ONE undoable edit ('dedupe'): per group the given `keep` (or the best by
   * the rule) stays, the rest are rejected (to noise); with `trash`, the rejected photos' files go to the system trash
   * (freedesktop Trash), put back by undo while the app runs.
   */
  keepBestDuplicates(o: Args<'keepBestDuplicates'>): Promise<Result<'keepBestDuplicates'>>;
  /**
   * A field's value for every item of a stored map, as typed arrays in the map's item order (`codes` index the legend;
   * numeric fields also give `values`), with a legend of counts and colours (neighbouring groups apart, noise grey).
   */
  getMapField(o: MapFieldOptions): Promise<MapField>;
  /**
   * Items matching every given criterion (group name in a run, folder, date range, file name; substrings, case
   * insensitive) as a selection: all ids (typed array) and the first `limit` as views. `text` needs a CLIP text encoder:
   * MODEL_MISSING where none is installed.
   */
  searchItems(o: SearchOptions): Promise<SearchResult>;

  // --- library groups and assignment ---
  /**
   * Places the items of the run's model that are not in the run yet (embedded after it) into the run's groups when
   * close enough (several prototypes per group, the model's identity threshold, a margin over the second-best group);
   * the rest stay unassigned for review. One undoable edit; names and curated groups are never changed.
   */
  assign(o: Args<'assign'>): Promise<AssignReport>;
  /** The library's settings (assign after embed, watched folders). */
  getSettings(o?: NoOptions): Promise<LibrarySettings>;
  setSettings(o: Partial<LibrarySettings>): Promise<LibrarySettings>;

  // --- libraries ---
  /**
   * Switches the app instance (desktop, serve) to the library file at `path` (`~` expanded; relative refused), opened
   * as at start (lock, migrations, the backup before migrating); `create` makes a new one where no file is. The old
   * library is closed (lock released) only once the new one is open: on failure (damaged, locked by another instance,
   * not writable, not a library) the old one stays open and the error says why. Refused while a job runs. Every client
   * then gets a 'library' event naming the new file. The CLI serves one library: CONFLICT there.
   */
  openLibrary(o: Args<'openLibrary'>): Promise<LibraryInfo>;
  /** The libraries this user opened recently (kept in the app's user data folder, not in a library), newest first. */
  listRecentLibraries(o?: NoOptions): Promise<RecentLibrary[]>;
  /**
   * Whether `path` is a library that openLibrary can open (or, with `create`, a place to make one), checked before
   * asking the user: refused with the reason (a folder, another kind of file, an empty file, damaged, newer, missing
   * without `create`) and nothing opened, created or changed.
   */
  checkLibrary(o: Args<'checkLibrary'>): Promise<LibraryCheck>;

  // --- people and faces (every change one undoable edit of the run, with its 'run' event) ---
  /** The people (clusters) of a face run: search by name (substring, case-insensitive), sorted by name, size (default) or most recently changed; hidden ones only with includeHidden. */
  listPeople(o: PeopleQuery): Promise<PersonRow[]>;
  /** Hides / unhides a person and/or chooses its avatar face (null: back to the default); kept by its library group across runs. EditOp 'person'. */
  setPerson(o: Args<'setPerson'>): Promise<EditResult>;
  /**
   * The faces most likely a person's, best first: the run's noise, faces embedded after it and low-confidence members
   * of other clusters, scored by their best similarity to the person's prototypes (several per person), each at or
   * above the model's identity threshold and by a margin over the second-best person; rejected ones never again.
   */
  getSuggestions(o: SuggestionQuery): Promise<SuggestionReport>;
  /** Confirms suggested faces as the person's (one, some or all): one undoable edit ('confirm'). */
  confirmSuggestions(o: Args<'confirmSuggestions'>): Promise<EditResult>;
  /** Rejects suggested faces for a person, remembered (one undoable edit, 'reject-suggestions'); they stay where they are. */
  rejectSuggestions(o: Args<'rejectSuggestions'>): Promise<EditResult>;
  /** Pairs of people probably one identity, ranked by average-linkage similarity of their faces (at or above the identity threshold); pairs marked not the same are left out. */
  getMergeSuggestions(o: Args<'getMergeSuggestions'>): Promise<MergeSuggestionReport>;
  /** Two people are not the same: remembered (one undoable edit, 'not-same'); merge them with editRun {type:'merge'}. */
  notSamePerson(o: Args<'notSamePerson'>): Promise<EditResult>;
  /** The parts a split would make (k-means with k, HDBSCAN, or a brushed selection against the rest), changing nothing. */
  previewSplit(o: Args<'previewSplit'>): Promise<SplitPreview>;
  /** Splits a cluster into the given parts (a preview's), each optionally named: one undoable edit ('split-parts'). */
  applySplit(o: Args<'applySplit'>): Promise<EditResult>;
  /** Faces that are not faces: out of the run's people and remembered (photo hash + box), so a rescan or re-embed does not bring them back. One undoable edit ('not-face'). */
  markNotFace(o: Args<'markNotFace'>): Promise<EditResult>;
  /** A face box drawn by hand on a photo (pixels of the EXIF-rotated photo): embedded with the face model (the project's alignment) as a manual face; with runId it joins the run unassigned (one undoable 'assign' edit). */
  addFace(o: Args<'addFace'>): Promise<AddFaceReport>;
  /** The person one face most likely is (Review's suggestion): the same prototypes, threshold and margin as getSuggestions; cluster null (with the reason) when none clears them. */
  suggestPerson(o: Args<'suggestPerson'>): Promise<PersonSuggestion>;
  /** Tentative groups of the run's unknown faces (noise + embedded after it, not-a-face left out) that are one person with high probability: every pair at or above the identity threshold (complete linkage), two or more faces, best first. */
  getUnknownGroups(o: Args<'getUnknownGroups'>): Promise<UnknownGroupsReport>;
  /**
   * Learns a metric for the run's model from the user's explicit decisions in the run (confirmed and rejected
   * suggestions, moves, split parts, made people, "not the same" pairs; never members only named with their group),
   * in a worker, seeded; answers once trained. Held-out decisions give the accuracy before (raw cosine) and after.
   * The queues, assign and the map of the model then use it; kept in the library with the model.
   */
  learn(o: Args<'learn'>): Promise<LearnReport>;
}

export type LibraryCheck = v.InferOutput<typeof libraryCheckSchema>;

export type RecentLibrary = v.InferOutput<typeof recentLibrarySchema>;

export type PeopleQuery = v.InferOutput<typeof peopleQuerySchema>;

export type SuggestionQuery = v.InferOutput<typeof suggestionQuerySchema>;

export type SearchOptions = v.InferOutput<typeof searchOptionsSchema>;

export type SearchResult = v.InferOutput<typeof searchResultSchema>;

export type MapFieldName = (typeof MAP_FIELDS)[number];

export type MapFieldOptions = v.InferOutput<typeof mapFieldOptionsSchema>;

export type MapField = v.InferOutput<typeof mapFieldSchema>;

export type NearDuplicateGroup = v.InferOutput<typeof nearDuplicateGroupSchema>;

export type ItemQualityView = v.InferOutput<typeof itemQualityViewSchema>;

export type CompareReport = v.InferOutput<typeof compareReportSchema>;

export type BackupInfo = v.InferOutput<typeof backupInfoSchema>;

export type DeleteRunReport = v.InferOutput<typeof deleteRunReportSchema>;

export type LearnReport = v.InferOutput<typeof learnReportSchema>;

export type ItemStatesReport = v.InferOutput<typeof itemStatesReportSchema>;

/** The options object of a method. */
export type ApiArgs<M extends keyof AppApi> = Parameters<AppApi[M]>[0];
/** What a method resolves with. */
export type ApiResult<M extends keyof AppApi> = Awaited<ReturnType<AppApi[M]>>;

export type SimilarOptions = v.InferOutput<typeof similarOptionsSchema>;

export type SweepOptions = v.InferOutput<typeof sweepOptionsSchema>;

export type CatalogItem = v.InferOutput<typeof catalogItemSchema>;

/** the algorithm and its parameters, or a preset (`preset: 'people'`; explicit fields override the preset's), and the labels to score against */
export type ClusterOptions = v.InferOutput<typeof API_SCHEMAS.cluster>;

/** What `retryFailed` started: a scan of the folders with I/O failures (recorded failures, those retried, the folders), or nothing when there are none. */
export type RetryReport = v.InferOutput<typeof API_RESULT_SCHEMAS.retryFailed>;

export type EmbedOptions = v.InferOutput<typeof embedOptionsSchema>;

export type ImportEmbeddingsReport = v.InferOutput<typeof importEmbeddingsReportSchema>;

export type ExportEmbeddingsReport = v.InferOutput<typeof exportEmbeddingsReportSchema>;

/** exportRun: see core/export/export.ts (the finished job's result is the ExportRunReport). */
export type ImportLabelsOptions = v.InferOutput<typeof importLabelsOptionsSchema>;

export type ExportXmpReport = v.InferOutput<typeof exportXmpReportSchema>;

export type ImportXmpReport = v.InferOutput<typeof importXmpReportSchema>;

export type ImportLabelsReport = v.InferOutput<typeof importLabelsReportSchema>;

// declared in types.ts (the job-kind map, jobs.ts, uses them); importers of api.ts keep finding them here
export type {
  ExportRunOptions, ExportRunReport, ImportEmbeddingsFileOptions, ImportEmbeddingsFileReport, ExportEmbeddingsFileReport, ImportRunOptions, ImportRunReport, ExportJobReport,
} from './types.ts';

/**
 * The method names, used by transports to build proxies and to refuse anything else: the keys of the one schema map
 * (common/schemas.ts API_SCHEMAS), so a method is added there (argument and result schema) and in AppApi, nowhere else.
 */
export const API_METHODS = Object.freeze(Object.keys(API_SCHEMAS)) as readonly ApiMethod[];

export type ApiMethod = keyof AppApi;

// Compile-time: the schema maps hold exactly the AppApi methods, and each method's schemas give what its signature says.
type Missing = Exclude<ApiMethod, keyof typeof API_SCHEMAS> | Exclude<keyof typeof API_SCHEMAS, ApiMethod>;
const _allListed: Missing extends never ? true : Missing = true;
void _allListed;
const _argsMatch: { [M in ApiMethod]: v.GenericSchema<ApiArgs<M>> } = API_SCHEMAS;
const _resultsMatch: { [M in ApiMethod]: v.GenericSchema<ApiResult<M>> } = API_RESULT_SCHEMAS;
void _argsMatch; void _resultsMatch;

export function isApiMethod(name: string): name is ApiMethod {
  return (API_METHODS as readonly string[]).includes(name);
}

export type EventListener = (e: AppEvent) => void;

/** What a UI holds: the contract plus an event subscription and the URL of a thumbnail in the cache. */
export interface AppClient extends AppApi {
  onEvent(listener: EventListener): () => void;
  thumbUrl(hash: string): string;
  /** The URL of a photo's viewer-size preview (common/thumbs.ts previewRoute), by its content hash. */
  previewUrl(hash: string): string;
}
