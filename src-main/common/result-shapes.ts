/**
 * Result schemas whose TypeScript types are inferred from them (api.ts, types.ts): each shape written once, here.
 * common/schemas.ts uses them in API_RESULT_SCHEMAS. Pure: no Node, no Electron.
 */
import * as v from 'valibot';
import {
  COLUMNAR_FORMATS, EXPORT_ACTIONS, EXPORT_FORMATS, FACE_EXPORTS, JOB_STATES, LABEL_MODES, LINK_MODES, MAP_FIELDS, MAP_METHODS, METRICS, SUGGESTION_ZONES, SWEEP_KINDS,
  ASSIGN_TARGETS, MODEL_SOURCES, PHOTO_STATUSES, SCORE_SPACES, SPLIT_PREVIEW_ALGOS, SUGGESTION_SOURCES, SWEEP_SCORE_NAMES,
  id, itemKindSchema, num, opt, picklist, range, text,
} from './schema-kit.ts';
import { editOpSchema } from './arg-schemas.ts';
import type { ClusterParams } from './cluster-contract.ts';

export const anyNum = () => v.number();
export const nint = () => v.pipe(v.number(), v.integer());
export const str = () => v.string();
export const nul = <T extends v.GenericSchema>(s: T) => v.nullable(s);
export const rec = () => v.record(v.string(), v.unknown());
const box = () => v.tuple([anyNum(), anyNum(), anyNum(), anyNum()]);
/** A page of a list: `Page<T>` (types.ts) is its type, generic over the item. */
export const pageOf = <T extends v.GenericSchema>(item: T) => v.object({ total: nint(), offset: nint(), items: v.array(item) });

/** What removing a folder removed: the folder's path, its photos and faces. */
export const removeFolderReportSchema = v.object({ removed: str(), photos: nint(), faces: nint() });
/** One finding of the library check (`constellate check`). */
export const checkProblemSchema = v.object({ kind: str(), message: str(), count: nint() });
export const checkReportSchema = v.object({ ok: v.boolean(), problems: v.array(checkProblemSchema) });
export const backupInfoSchema = v.object({ path: str(), version: nint(), at: nint(), size: nint(), preMigration: v.boolean() });
export const deleteRunReportSchema = v.object({ runId: id(), clusters: nint(), named: nint(), items: nint(), edits: nint() });
/** checkLibrary: the library file at `path` (absolute), whether it is there yet, whether it is the one open now, its schema version (0: a new one). */
export const libraryCheckSchema = v.object({ path: str(), exists: v.boolean(), current: v.boolean(), version: nint() });
/** A library in the recent list: its path, file name (for menus), when it was last opened (ms), whether it is still there, whether it is open now. */
export const recentLibrarySchema = v.object({ path: str(), name: str(), openedAt: nint(), exists: v.boolean(), current: v.boolean() });
/** A run's item states, counted: members the user decided (by how) and members placed by the run (decided + placed = the run's members). */
export const itemStatesReportSchema = v.object({ runId: id(), decided: nint(), placed: nint(), byHow: v.record(v.string(), nint()) });
/**
 * What `learn` trained: the model it is for, the decisions used (pairs), held out, held-out accuracy before/after
 * (null: none held out), the metric's version for the model (one more per training) and output dimension, and whether
 * the queues use it (only a metric better than the model's own cosine on at least 20 held-out decisions, by at least
 * two of them), and the margin the run's queues now offer from (null: their own; learned from the offers the user
 * confirmed and rejected: where fewer than half were right, the queues stop offering so close to another group).
 */
export const learnReportSchema = v.object({
  runId: id(), model: text(), pairs: nint(), heldOut: nint(), before: nul(range(0, 1)), after: nul(range(0, 1)), version: id(), dims: id(), seconds: anyNum(), used: v.boolean(),
  offerMargin: nul(anyNum()),
});
/**
 * What exportXmp wrote: photos with at least one named face, face regions written, sidecars created, updated and
 * unchanged (already said the same: not rewritten), and the failures.
 */
export const exportXmpReportSchema = v.object({
  runId: id(), photos: nint(), regions: nint(), created: nint(), updated: nint(), unchanged: nint(), failed: nint(),
  failures: v.array(v.object({ path: str(), reason: str() })),
});

// ---- the entities and reports every method and job resolves with ----

export const jobStateSchema = picklist(JOB_STATES);
export const jobProgressSchema = v.object({ stage: str(), done: anyNum(), total: anyNum(), loss: opt(v.array(anyNum())) });

/**
 * A model's identity threshold: the cosine similarity at which two items are the same person (or object), measured on
 * labeled verification pairs at a stated false-accept rate (core/models/identity.ts).
 */
export const identityThresholdSchema = v.object({
  similarity: anyNum(), far: anyNum(),
  /** the labeled set it was calibrated on */
  set: str(),
  /** what it gives on the other labeled set (never measured on its own calibration data) */
  heldOut: opt(v.object({ set: str(), far: anyNum(), tar: anyNum() })),
  /**
   * the model's impostor tail, standardized by the median / MAD of all pair similarities of a library: P(z > t) =
   * exp(a - t / b); with it, each library's own sure / maybe thresholds are derived from its pairs (see LibraryZones)
   */
  tail: opt(v.object({ a: anyNum(), b: anyNum(), set: str(), loc: opt(anyNum()), scale: opt(anyNum()) })),
});
/**
 * Identity thresholds of one library (a run's faces), from the model's impostor tail and the library's own pair
 * similarities, computed once per run and kept in its record: `sure` holds about one expected false pair over all the
 * library's pairs (assign places only above it; queues offer above it as sure), `maybe` about n / 4 (queues offer
 * between maybe and sure as uncertain; nothing below maybe), `link` the similarity the people preset links at.
 */
export const libraryZonesSchema = v.object({
  sure: anyNum(), maybe: anyNum(), link: anyNum(),
  /** faces the figures were computed on, their pairs and how many were sampled; median and robust scale of the pair similarities */
  n: nint(), pairs: nint(), sampled: nint(), loc: anyNum(), scale: anyNum(),
  /** per-pair false-accept rates held at sure and maybe */
  farSure: anyNum(), farMaybe: anyNum(),
  /** the tail used (with the calibration set's location / scale that small libraries are shrunk towards) */
  tail: v.object({ a: anyNum(), b: anyNum(), set: str(), loc: opt(anyNum()), scale: opt(anyNum()) }),
});
export const modelInfoSchema = v.object({
  name: str(), kind: itemKindSchema, dim: nint(), version: str(), source: v.picklist(MODEL_SOURCES), embeddings: nint(),
});
export const libraryInfoSchema = v.object({
  library: str(), schemaVersion: nint(), roots: nint(), photos: nint(), missing: nint(), errors: nint(), faces: nint(),
  embeddings: v.record(v.string(), nint()), models: v.array(modelInfoSchema), runs: nint(), embedFailures: opt(v.record(v.string(), nint())),
  retryableErrors: opt(nint()),
});
export const rootSchema = v.object({
  id: id(), path: str(), addedAt: anyNum(), lastScanAt: nul(anyNum()), photos: nint(), errors: nint(), missing: nint(),
});
export const photoSummaryEntries = {
  id: id(), path: str(), relPath: str(), rootId: id(), folder: str(), hash: str(), width: nint(), height: nint(), format: str(),
  takenAt: nul(str()), status: v.picklist(PHOTO_STATUSES), size: anyNum(),
};
export const photoSummarySchema = v.object(photoSummaryEntries);
export const faceSummarySchema = v.object({ id: id(), photoId: id(), box: box(), score: anyNum(), thumb: nul(str()) });
export const photoDetailSchema = v.object({
  ...photoSummaryEntries, mtimeMs: anyNum(), orientation: nul(anyNum()), faces: v.array(faceSummarySchema),
});
export const scanIssueSchema = v.object({ path: str(), rootId: nul(nint()), reason: str(), at: anyNum() });
export const runInfoEntries = {
  id: id(), model: str(), kind: itemKindSchema, algo: str(), params: v.looseObject({ algo: str() }) as unknown as v.GenericSchema<ClusterParams>,
  metrics: rec(), timings: v.record(v.string(), anyNum()), record: rec(), n: nint(), clusters: nint(), noise: nint(), createdAt: anyNum(),
};
export const runInfoSchema = v.object(runInfoEntries);
export const sampleSchema = v.object({ item: nint(), sim: anyNum() });
export const clusterRowSchema = v.object({
  cluster: nint(), size: nint(), meanSim: nul(anyNum()), name: nul(str()), curated: v.boolean(), top: v.array(sampleSchema), tail: v.array(sampleSchema),
});
/** A map's setting: its parameters with the defaults filled in (common/map-setting.ts mapSetting, mapSettingKey). */
export const mapSettingSchema = v.object({
  method: v.picklist(MAP_METHODS), metric: v.picklist(METRICS), seed: anyNum(),
  /** UMAP; its epochs (null = chosen from n, umap-learn's rule); t-SNE's perplexity (null = min(30, (n - 1) / 3)) */
  nNeighbors: opt(anyNum()), minDist: opt(anyNum()), nEpochs: opt(nul(anyNum())), perplexity: opt(nul(anyNum())),
});
export const mapInfoEntries = {
  id: id(), model: str(), method: v.picklist(MAP_METHODS), params: rec(), n: nint(), createdAt: anyNum(),
  /** the layout's parameters with defaults filled in (common/map-setting.ts): one stored map per model and setting */
  setting: mapSettingSchema,
  settingKey: str(),
};
export const mapInfoSchema = v.object(mapInfoEntries);
export const mapDataSchema = v.object({ ...mapInfoEntries, kind: itemKindSchema, ids: v.instance(Int32Array), xy: v.instance(Float32Array) });
export const itemViewEntries = {
  item: nint(), kind: itemKindSchema, photoId: nint(), path: str(), folder: str(), thumb: nul(str()), box: nul(box()),
  cluster: nul(nint()), sim: nul(anyNum()),
};
export const itemViewSchema = v.object(itemViewEntries);
export const historySchema = v.object({
  runId: id(), canUndo: v.boolean(), canRedo: v.boolean(), edits: v.array(v.object({ id: id(), op: editOpSchema, undone: v.boolean(), at: anyNum() })),
});
export const editResultSchema = v.object({
  editId: nint(), op: editOpSchema, clusters: v.array(nint()), history: historySchema, description: opt(str()), runId: opt(id()),
  files: opt(v.object({ trashed: v.array(str()), restored: v.array(str()), problems: v.array(str()) })),
  /** a 'recluster' edit: items it moved to named groups, and among the unnamed groups */
  recluster: opt(v.object({ moved: nint(), regrouped: nint() })),
});
export const catalogItemSchema = v.object({
  id: str(), title: str(), kind: str(), url: str(), size: nul(anyNum()), sha256: nul(str()), license: str(), unverified: v.array(str()),
  installed: v.boolean(), manifestPath: nul(str()), notes: opt(str()),
});
export const exportRunReportSchema = v.object({
  runId: id(), kind: itemKindSchema, model: str(), format: picklist(EXPORT_FORMATS), to: str(),
  link: nul(picklist(LINK_MODES)), faces: opt(picklist(FACE_EXPORTS)), items: nint(), groups: nint(), files: nint(), skipped: nint(), collisions: nint(),
  dryRun: v.boolean(), out: nul(str()), exportId: nul(nint()), distance: str(),
  folders: opt(v.array(v.object({ cluster: nint(), name: nul(str()), folder: str(), size: nint() }))),
  plan: opt(v.array(v.object({ cluster: nint(), from: nul(str()), to: str(), action: picklist(EXPORT_ACTIONS) }))),
  planTruncated: opt(v.boolean()),
  skippedItems: opt(v.array(v.object({ item: nint(), path: nul(str()), reason: str() }))),
  warnings: v.array(str()),
});
export const vanishedFolderSchema = v.object({ rootId: id(), path: str(), reason: str(), photos: nint() });
export const scanResultSchema = v.object({
  roots: nint(), seen: nint(), added: nint(), updated: nint(), unchanged: nint(), moved: nint(), missing: nint(), errors: nint(), photos: nint(),
  /**
   * folders that could not be opened at all (gone, unmounted, no permission): each with its reason and the photos the
   * library still holds from it, left as they were (not counted missing nor unreadable: reconnect it, or remove it)
   */
  vanished: opt(v.array(vanishedFolderSchema)),
});
/**
 * A folder's faces after an embed: faces stored, detections of this job dropped by the quality floor, stored faces whose
 * nearest neighbour in the folder is at or above the near-identical similarity; flagged with its reason.
 */
export const faceFolderNoticeSchema = v.object({ folder: str(), faces: nint(), rejected: nint(), nearIdentical: nint(), flagged: v.boolean(), reason: nul(str()) });
export const embedReportSchema = v.object({
  model: str(), kind: itemKindSchema, dim: nint(), version: str(), pending: nint(), processed: nint(), failed: nint(), faces: nint(),
  rejectedFaces: nint(), embeddings: nint(), failures: v.array(v.object({ path: str(), reason: str() })), seconds: anyNum(), photosPerSecond: anyNum(),
  /**
   * Face models: per folder of the library, the faces detected, the detections this job dropped under the quality
   * floor, and how many of the folder's faces are near-identical to another of its faces; `flagged` (with its reason)
   * where those shares are high, so the folder may be excluded or the floor raised.
   */
  faceFolders: opt(v.array(faceFolderNoticeSchema)),
});
export const importEmbeddingsFileReportSchema = v.object({
  model: str(), kind: itemKindSchema, rows: nint(), dim: nint(), imported: nint(), unmatched: nint(), unmatchedPaths: v.array(str()), facesCreated: nint(),
  format: picklist(COLUMNAR_FORMATS), files: nint(), source: str(),
});
export const librarySettingsSchema = v.object({
  autoAssign: v.boolean(), watch: v.boolean(), watchModels: v.array(str()), faceMinQuality: nul(anyNum()), faceExcludedFolders: v.array(str()), learnInBackground: v.boolean(),
});
export const personLiteSchema = v.object({ cluster: nint(), name: nul(str()), size: nint(), avatar: nul(nint()) });
export const importLabelsReportSchema = v.object({
  source: str(), mode: picklist(LABEL_MODES), rows: nint(), matched: nint(), photos: nint(), faces: nint(), inherited: nint(),
  unmatched: nint(), unmatchedPaths: v.array(str()), ignored: nint(), conflicts: nint(), labels: nint(),
  seeded: v.array(v.object({ runId: id(), kind: itemKindSchema, named: nint(), curated: nint() })),
  runId: opt(nul(id())), editId: opt(nul(nint())),
});
export const sizeRow = v.object({ cluster: nint(), size: nint() });
export const clusterReportSchema = v.object({ ...runInfoEntries, runId: id(), top10: v.array(sizeRow), tail10: v.array(sizeRow) });
export const sweepPointSchema = v.object({
  /**
   * param / value: the parameter (e.g. 'k' or 'eps') and its value; score: the sweep's score (inertia for the elbow,
   * silhouette, ...; NaN when not computed); rejected: why this point may not be chosen; knee: the elbow's knee; ari: a
   * sweep against known labels: the adjusted Rand index beside the AMI in `score`
   */
  param: str(), value: anyNum(), clusters: nint(), noiseShare: anyNum(), score: anyNum(), rejected: opt(str()), knee: opt(v.boolean()), ari: opt(anyNum()),
});
export const sweepKindSchema = picklist(SWEEP_KINDS);
/** What a sweep found (algo/cluster/sweep.ts); the sweep job's result is this with its model and kind. */
export const sweepResultSchema = v.object({
  points: v.array(sweepPointSchema),
  /** the chosen point (null when every point was rejected); the next best point that was not rejected (null when none) */
  best: nul(sweepPointSchema), runnerUp: opt(nul(sweepPointSchema)),
  /** where the score was computed: the raw embeddings, or their UMAP reduction (silhouette in UMAP space) */
  space: opt(picklist(SCORE_SPACES)),
  /**
   * what `score` is: inertia (elbow), silhouette, DBCV (density-based cluster validation, DBSCAN sweeps), or AMI
   * (adjusted mutual information against the known labels the sweep was given; each point carries its ARI too)
   */
  scoreName: opt(picklist(SWEEP_SCORE_NAMES)),
  /** the labels an AMI sweep was scored against ('folders', 'imported' or a file), and how many items they name */
  labels: opt(v.object({ source: str(), known: nint(), classes: nint() })),
});
/** A model downloaded: where, its size and checksum, and the bytes already in the .partial file and not fetched again. */
export const downloadResultEntries = { path: str(), size: nint(), sha256: str(), resumedFrom: nint() };
export const downloadResultSchema = v.object(downloadResultEntries);

// ---- the reports of the methods (and jobs) that resolve with a named shape ----

/** What importEmbeddings (.npy + ids) stored. */
export const importEmbeddingsReportSchema = v.object({
  model: str(), kind: itemKindSchema, rows: nint(), dim: nint(), imported: nint(), unmatched: nint(), unmatchedPaths: v.array(str()), facesCreated: nint(),
});
export const exportEmbeddingsReportSchema = v.object({ model: str(), kind: itemKindSchema, rows: nint(), dim: nint(), out: str(), ids: str() });
export const importXmpReportSchema = v.object({
  /** sidecars read; named face regions in them; regions matched to a face detected here (those become labels) */
  sidecars: nint(), regions: nint(), matched: nint(), unmatched: nint(),
  /** unreadable or malformed sidecars */
  failures: v.array(v.object({ path: str(), reason: str() })),
  /** the labels import of the matched regions (null when none matched) */
  labels: nul(importLabelsReportSchema),
});
export const nearDuplicateGroupSchema = v.object({
  items: v.array(itemViewSchema),
  /** the true minimum similarity over every pair of the group */
  minSim: anyNum(),
  /** the group's medoid (highest mean similarity to the others) */
  representative: nint(),
  /** the item to keep by `keepRule` */
  keep: nint(), keepRule: str(),
});
export const itemQualityViewSchema = v.object({
  item: nint(), kind: itemKindSchema, photoId: nint(), path: str(), folder: str(), thumb: nul(str()), width: nint(), height: nint(),
  pixels: nint(), bytes: nint(), format: str(), takenAt: nul(str()), sharpness: nul(anyNum()),
});
export const compareReportSchema = v.object({
  items: v.array(itemQualityViewSchema),
  /** the item to keep by `rule` */
  best: nint(), rule: str(),
  /** pairwise cosine similarities in the order of `items` (with a model), else null */
  sims: nul(v.array(v.array(anyNum()))),
});
/** A field's value for every item of a stored map (typed arrays: they cross every transport as binary, never as JSON lists). */
export const mapFieldSchema = v.object({
  mapId: id(), field: picklist(MAP_FIELDS), kind: itemKindSchema, n: nint(),
  /** the map's item ids (the same order as its xy); per item: the code of its legend entry; the numeric value (score, date in ms since 1970), NaN for none, null for categorical fields */
  ids: v.instance(Int32Array), codes: v.instance(Int32Array), values: nul(v.instance(Float32Array)),
  legend: v.array(v.object({
    code: v.number(), label: str(), value: nul(str()), count: nint(), colour: str(),
    /** noise / no value (grey) */
    noise: v.boolean(),
    /** categorical: the entry's centroid on the map (where its name goes); numeric: the bin's range */
    centroid: opt(v.tuple([anyNum(), anyNum()])), min: opt(anyNum()), max: opt(anyNum()),
  })),
});
export const searchResultSchema = v.object({
  kind: itemKindSchema, total: nint(), ids: v.instance(Int32Array), items: v.array(itemViewSchema),
  /** text search: the cosine similarity of each of `ids` to the text (best first), and the model that ranked them */
  scores: opt(v.instance(Float32Array)), model: opt(str()),
});
export const exportEmbeddingsFileReportSchema = v.object({ model: str(), kind: itemKindSchema, rows: nint(), dim: nint(), out: str(), ids: str(), format: picklist(COLUMNAR_FORMATS) });
/** What `assign` did (CLI `constellate assign --run ID --json` prints these keys). */
export const assignReportSchema = v.object({
  /** new items placed into a group / left unassigned for review; how many groups received items; the undoable edit (null when there was nothing new) */
  runId: id(), assigned: nint(), unassigned: nint(), groups: nint(), editId: nul(nint()), threshold: nul(anyNum()), thresholdFrom: str(),
  /** per receiving group: its cluster, name and how many joined */
  margin: anyNum(), joined: v.array(v.object({ cluster: nint(), name: nul(str()), added: nint() })),
  /** why items stayed unassigned; 'groups': only named or curated clusters receive items (the run has some), 'clusters': every cluster does */
  reasons: v.object({ belowThreshold: nint(), ambiguous: nint(), nearestUnnamed: nint() }), targets: picklist(ASSIGN_TARGETS),
  /** milliseconds: reading new vectors and prototypes, scoring, the edit (with group sync) */
  timings: opt(v.object({ read: anyNum(), score: anyNum(), edit: anyNum() })),
});
/** One person of a face run (a cluster, named or not), as the People view and `constellate people` list them. */
export const personRowSchema = v.object({
  /** avatar: the face shown for the person (the chosen one, else its most central face; null: none); avatarChosen: one was chosen */
  cluster: nint(), name: nul(str()), size: nint(), hidden: v.boolean(), curated: v.boolean(), avatar: nul(nint()), avatarChosen: v.boolean(),
  /** when an edit last changed the person (ms since 1970; null: not since the run); the thumbnail of the avatar face */
  changedAt: nul(anyNum()), thumb: nul(str()), meanSim: nul(anyNum()),
});
/** A face suggested for a person (best first). */
export const faceSuggestionSchema = v.object({
  /**
   * item: the face; similarity: its best similarity to the person's prototypes; second / secondCluster / margin: the best
   * similarity to any other person (null: none) and the margin over it
   */
  item: id(), path: str(), similarity: anyNum(), second: nul(anyNum()), secondCluster: nul(nint()), margin: nul(anyNum()),
  /**
   * source: where the face is now ('noise': unknown in the run, 'new': embedded after the run, 'member': a low-confidence
   * member of another cluster); cluster: its cluster in the run (-1 noise, null: not in the run); zone: 'sure' at or above
   * the library's sure threshold, 'maybe' between its maybe and sure thresholds
   */
  source: picklist(SUGGESTION_SOURCES), cluster: nul(nint()), photoId: id(), thumb: nul(str()), box: nul(box()), zone: picklist(SUGGESTION_ZONES),
});
export const suggestionReportSchema = v.object({
  /**
   * threshold: the similarity a suggestion reaches at least (the model's identity threshold, or given) and where it came
   * from; sure: from it a suggestion is sure (>= threshold); candidates scored (noise, new, low-confidence members) and
   * those left out as rejected before
   */
  runId: id(), cluster: nint(), name: nul(str()), threshold: anyNum(), thresholdFrom: str(), sure: anyNum(), margin: anyNum(), candidates: nint(), rejected: nint(),
  suggestions: v.array(faceSuggestionSchema),
  timings: v.object({ read: anyNum(), score: anyNum() }),
});
/** Two people (clusters) that are probably one identity. */
export const mergeSuggestionSchema = v.object({
  /** similarity: average linkage (mean over every pair of their faces, up to 64 each); max: the highest pair similarity */
  a: personLiteSchema, b: personLiteSchema, similarity: anyNum(), max: anyNum(), zone: picklist(SUGGESTION_ZONES),
});
export const mergeSuggestionReportSchema = v.object({
  /** sure: the similarity from which a merge is sure (>= threshold) */
  runId: id(), threshold: anyNum(), thresholdFrom: str(), sure: anyNum(),
  suggestions: v.array(mergeSuggestionSchema),
});
/** One part of a split preview: its items, up to 8 faces nearest its centre, its mean similarity to its centre. */
export const splitPartSchema = v.object({ items: v.array(id()), size: nint(), samples: v.array(id()), meanSim: nul(anyNum()) });
export const splitPreviewSchema = v.object({
  /** the parts, largest first (HDBSCAN: members it left out form a last part) */
  runId: id(), cluster: nint(), algo: picklist(SPLIT_PREVIEW_ALGOS),
  parts: v.array(splitPartSchema),
});
/** What `addFace` made: a face drawn by hand, embedded and joined to the run (unassigned) when one was given (runId null: none given). */
export const addFaceReportSchema = v.object({
  face: v.object({ id: id(), photoId: id(), box: box(), score: anyNum(), thumb: nul(str()), manual: v.boolean() }),
  model: str(), runId: nul(id()), editId: nul(nint()),
});
/** The best person for one face (`suggestPerson`), by the same prototypes, threshold and margin as `getSuggestions`. */
export const personSuggestionSchema = v.object({
  /**
   * from: where the face is now (-1 noise, null not in the run, else its cluster); cluster: the suggested person, null
   * when none clears the threshold and the margin (or the best is where it is already); reason: why there is no
   * suggestion ('' when there is one)
   */
  runId: id(), item: id(), from: nul(v.pipe(num(), v.integer())), cluster: nul(nint()), name: nul(str()), similarity: nul(anyNum()), second: nul(anyNum()),
  secondCluster: nul(nint()), threshold: anyNum(), margin: anyNum(), reason: str(),
});
/** Tentative groups of a run's unknown faces (`getUnknownGroups`): complete linkage at the identity threshold. */
export const unknownGroupsReportSchema = v.object({
  /** candidates: unassigned faces looked at (noise + embedded after the run, not-a-face left out); total: groups found (the report holds the first `limit`); groups: best first */
  runId: id(), threshold: anyNum(), thresholdFrom: str(), candidates: nint(), total: nint(),
  groups: v.array(v.object({ items: v.array(id()), size: nint(), minSim: anyNum(), faces: v.array(itemViewSchema) })),
});
export const importRunReportSchema = v.object({
  runId: id(), model: str(), kind: itemKindSchema, items: nint(), clusters: nint(), noise: nint(), unmatched: nint(), unmatchedIds: v.array(str()),
  rows: nint(), source: str(), named: nint(), carried: nint(),
});
export const exportJobReportSchema = v.object({ dir: str(), items: nint(), partitions: nint(), model: str(), kind: itemKindSchema, files: v.array(str()), driver: str(), command: v.array(str()) });
