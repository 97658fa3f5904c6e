/**
 * The argument schemas of every AppApi method (valibot: 5 KB minified in the renderer, no code generation, so it runs
 * under the renderer's CSP; see BENCHMARKS.md "Contract validation"). Every transport validates a call's one options
 * object here, once, at the door (common/dispatch.ts); a bad argument is a BAD_ARGUMENT naming the parameter.
 * Pure: no Node, no Electron.
 */
import * as v from 'valibot';
import type { ApiArgs, ApiMethod, ApiResult, CatalogItem, ExportRunReport } from './api.ts';
import { AppError, ERROR_CODES, type ErrorCode, type ErrorPayload } from './errors.ts';
import type { ClusterReport, EmbedReport, JobInfo, JobKind, JobParams, JobResult, SweepPoint } from './jobs.ts';
import type {
  ClusterParams, ClusterRow, EditOp, EditResult, FaceSummary, HistoryInfo, ItemView, JobProgress, JobState, LibraryInfo, MapData,
  MapInfo, MapParams, ModelInfo, PhotoDetail, PhotoSummary, Root, RunInfo, ScanIssue, ScanResult,
} from './types.ts';

import {
  COLUMNAR_FORMATS, EXPORT_ACTIONS, EXPORT_FORMATS, LABEL_MODES, FACE_EXPORTS, JOB_STATES, LINK_MODES, MAP_FIELDS, MAP_METHODS, METRICS, PEOPLE_SORTS, SUGGESTION_ZONES, SWEEP_KINDS, TSNE_METHODS, id, int, itemKindSchema, m, num, opt, picklist, range, text,
} from './schema-kit.ts';
import { clusterParamsSchema } from './cluster-contract.ts';

/** the options object of a method that takes none (an empty object, or nothing) */
const none = opt(v.strictObject({}));

import {
  embedOptionsSchema, exportRunOptionsSchema, importEmbeddingsFileOptionsSchema, importLabelsOptionsSchema, importRunOptionsSchema, itemRefSchema, mapFieldOptionsSchema,
  mapParamsSchema, page, peopleQuerySchema, photoQuerySchema, searchOptionsSchema, similarOptionsSchema, suggestionQuerySchema, sweepOptionsSchema,
} from './arg-schemas.ts';
import {
  backupInfoSchema, checkReportSchema, deleteRunReportSchema, exportXmpReportSchema, itemStatesReportSchema, learnReportSchema, libraryCheckSchema, recentLibrarySchema,
  removeFolderReportSchema,
} from './result-shapes.ts';

export { clusterParamsSchema, itemKindSchema, itemRefSchema, mapParamsSchema };
const clusterRef = () => int(0);
const items = () => v.pipe(v.array(id()), v.minLength(1));
const nint0 = () => v.pipe(v.number(), v.integer());
const splitPartsSchema = () => v.pipe(
  v.array(v.strictObject({ items: v.pipe(v.array(id()), v.minLength(1, 'a part has at least one item')), name: opt(v.pipe(v.string(), v.maxLength(200, m('at most 200 characters')))) })),
  v.minLength(1, 'give at least one part'), v.maxLength(1000));
export const editOpSchema: v.GenericSchema<EditOp> = v.variant('type', [
  v.strictObject({ type: v.literal('rename'), cluster: clusterRef(), name: v.string() }),
  v.strictObject({ type: v.literal('accept'), cluster: clusterRef(), curated: opt(v.boolean()) }),
  v.strictObject({ type: v.literal('merge'), clusters: v.pipe(v.array(clusterRef()), v.minLength(2)), into: opt(clusterRef()) }),
  v.strictObject({ type: v.literal('split'), cluster: clusterRef(), k: opt(int(2)), algo: opt(picklist(['kmeans', 'hdbscan'])) }),
  v.strictObject({ type: v.literal('move'), items: items(), to: v.union([clusterRef(), v.literal('new')]), name: opt(v.string()) }),
  v.strictObject({ type: v.literal('reject'), items: items() }),
  v.strictObject({
    type: v.literal('names'),
    clusters: v.pipe(v.array(v.strictObject({ cluster: clusterRef(), name: opt(v.nullable(v.pipe(v.string(), v.maxLength(200, m('at most 200 characters'))))), curated: opt(v.boolean()) })), v.minLength(1), v.maxLength(100_000)),
    source: opt(v.string()),
  }),
  v.strictObject({
    type: v.literal('dedupe'),
    groups: v.pipe(v.array(v.strictObject({ keep: id(), reject: items() })), v.minLength(1, 'give at least one group'), v.maxLength(10_000)),
    trash: opt(v.boolean()),
  }),
  // people and faces
  v.strictObject({ type: v.literal('person'), cluster: clusterRef(), hidden: opt(v.boolean()), avatar: opt(v.nullable(id())) }),
  v.strictObject({ type: v.literal('confirm'), cluster: clusterRef(), items: v.pipe(items(), v.maxLength(100_000)) }),
  v.strictObject({ type: v.literal('reject-suggestions'), cluster: clusterRef(), items: v.pipe(items(), v.maxLength(100_000)) }),
  v.strictObject({ type: v.literal('not-same'), clusters: v.tuple([clusterRef(), clusterRef()]) }),
  v.strictObject({ type: v.literal('split-parts'), cluster: clusterRef(), parts: splitPartsSchema() }),
  v.strictObject({ type: v.literal('not-face'), items: v.pipe(items(), v.maxLength(100_000)) }),
  v.strictObject({ type: v.literal('forget-decisions'), items: v.pipe(items(), v.maxLength(100_000)) }),
  v.strictObject({
    type: v.literal('recluster'),
    threshold: opt(v.pipe(num(), v.minValue(-1, m('a similarity in [-1, 1]')), v.maxValue(1, m('a similarity in [-1, 1]')))),
    margin: opt(v.pipe(num(), v.minValue(0, m('a margin in [0, 2]')), v.maxValue(2, m('a margin in [0, 2]')))),
  }),
  // written by `assign` (listed so a run's history, which holds them, checks)
  v.strictObject({ type: v.literal('assign'), items: v.array(nint0()), to: v.array(v.pipe(v.number(), v.integer())) }),
]);


/** One schema per method, for its one options object (compile-time checked against the AppApi signatures). */
export const API_SCHEMAS: { [M in ApiMethod]: v.GenericSchema<ApiArgs<M>> } = {
  getInfo: none,
  listRoots: none,
  addRoots: v.strictObject({ paths: v.pipe(v.array(text()), v.minLength(1, 'give at least one folder')) }),
  removeRoot: v.strictObject({ rootId: id() }),
  scan: opt(v.strictObject({ rootIds: opt(v.array(id())) })),
  listPhotos: opt(photoQuerySchema),
  getPhoto: v.strictObject({ id: id() }),
  listScanIssues: opt(v.strictObject(page)),
  listJobs: none,
  getJob: v.strictObject({ id: id() }),
  waitJob: v.strictObject({ id: id(), timeoutMs: opt(int(0)) }),
  cancelJob: v.strictObject({ id: id() }),
  embed: embedOptionsSchema,
  importEmbeddings: v.strictObject({ npy: text(), ids: text(), model: text() }),
  exportEmbeddings: v.strictObject({ model: text(), out: text(), ids: opt(text()), force: opt(v.boolean()) }),
  cluster: v.strictObject({ model: text(), params: clusterParamsSchema, labels: opt(v.nullable(text())) }),
  listRuns: none,
  getRun: v.strictObject({ runId: id() }),
  getClusters: v.strictObject({ runId: id(), clusters: opt(v.pipe(v.array(int(-1)), v.maxLength(100_000))) }),
  getCluster: v.strictObject({ runId: id(), cluster: int(-1) }),
  exportRun: exportRunOptionsSchema,
  exportXmp: v.strictObject({ runId: id() }),
  importXmp: opt(importLabelsOptionsSchema),
  importLabels: v.strictObject({ source: text(), seed: opt(v.boolean()), runId: opt(id()) }),
  getAssignments: v.strictObject({ runId: id() }),
  getCatalog: none,
  downloadCatalogModel: v.strictObject({ id: text() }),
  computeMap: v.strictObject({ model: text(), params: mapParamsSchema }),
  listMaps: opt(v.strictObject({ model: opt(text()) })),
  getMap: v.pipe(
    v.strictObject({ id: opt(id()), model: opt(text()), method: opt(picklist(MAP_METHODS)), setting: opt(mapParamsSchema) }),
    v.forward(v.check((q) => q.id !== undefined || q.model !== undefined, 'give a map id or a model'), ['model']),
  ),
  editRun: v.strictObject({ runId: id(), op: editOpSchema }),
  undo: v.strictObject({ runId: id() }),
  redo: v.strictObject({ runId: id() }),
  getHistory: v.strictObject({ runId: id() }),
  getItemStates: v.strictObject({ runId: id() }),
  getClusterMembers: v.strictObject({ runId: id(), cluster: int(-1), ...page, order: opt(picklist(['desc', 'asc'])) }),
  getItems: v.strictObject({ kind: itemKindSchema, ids: v.pipe(v.array(id()), v.maxLength(100_000)), runId: opt(id()) }),
  getReviewQueue: v.strictObject({ runId: id(), ...page, maxSim: opt(range(-1, 1)) }),
  similar: similarOptionsSchema,
  nearDuplicates: v.strictObject({ model: text(), threshold: opt(v.pipe(num(), v.gtValue(0), v.maxValue(1))), limit: opt(v.pipe(int(1), v.maxValue(10_000))) }),
  sweep: sweepOptionsSchema,
  compareRuns: v.strictObject({ a: id(), b: id() }),
  removeFolder: v.strictObject({ rootId: id() }),
  check: none,
  retryFailed: none,
  renameRun: v.strictObject({ runId: id(), name: v.pipe(v.string(m('a string')), v.maxLength(200, m('at most 200 characters'))) }),
  deleteRun: v.strictObject({ runId: id() }),
  checkExportTarget: v.strictObject({ to: text() }),
  listBackups: none,
  backupNow: none,
  restoreBackup: v.strictObject({ path: text() }),
  compareItems: v.strictObject({ kind: itemKindSchema, ids: v.pipe(v.array(id()), v.minLength(1), v.maxLength(1000)), model: opt(text()) }),
  keepBestDuplicates: v.strictObject({
    runId: id(),
    groups: v.pipe(v.array(v.strictObject({ items: v.pipe(v.array(id()), v.minLength(2, 'a group has at least two items')), keep: opt(id()) })),
      v.minLength(1, 'give at least one group'), v.maxLength(10_000)),
    trash: opt(v.boolean()),
  }),
  getMapField: mapFieldOptionsSchema,
  searchItems: searchOptionsSchema,
  assign: v.strictObject({ runId: id(), threshold: opt(range(-1, 1)), margin: opt(range(0, 2)) }),
  getSettings: none,
  setSettings: v.strictObject({
    autoAssign: opt(v.boolean()), learnInBackground: opt(v.boolean()), watch: opt(v.boolean()), watchModels: opt(v.array(text())),
    faceMinQuality: opt(v.nullable(v.pipe(num(), v.minValue(0, m('a number >= 0'))))), faceExcludedFolders: opt(v.pipe(v.array(text()), v.maxLength(1000))),
  }),
  importEmbeddingsFile: importEmbeddingsFileOptionsSchema,
  exportEmbeddingsFile: v.strictObject({ model: text(), out: text(), format: picklist(COLUMNAR_FORMATS), force: opt(v.boolean()) }),
  importRun: importRunOptionsSchema,
  exportJob: v.strictObject({ model: text(), to: text(), partitionRows: opt(int(1)) }),
  openLibrary: v.strictObject({ path: text(), create: opt(v.boolean()) }),
  listRecentLibraries: none,
  checkLibrary: v.strictObject({ path: text(), create: opt(v.boolean()) }),
  // people and faces
  listPeople: peopleQuerySchema,
  setPerson: v.strictObject({ runId: id(), cluster: clusterRef(), hidden: opt(v.boolean()), avatar: opt(v.nullable(id())) }),
  learn: v.strictObject({ runId: id() }),
  getSuggestions: suggestionQuerySchema,
  confirmSuggestions: v.strictObject({ runId: id(), cluster: clusterRef(), items: v.pipe(items(), v.maxLength(100_000)) }),
  rejectSuggestions: v.strictObject({ runId: id(), cluster: clusterRef(), items: v.pipe(items(), v.maxLength(100_000)) }),
  getMergeSuggestions: v.strictObject({ runId: id(), limit: opt(v.pipe(int(1), v.maxValue(1000))), threshold: opt(range(-1, 1)) }),
  notSamePerson: v.strictObject({ runId: id(), clusters: v.tuple([clusterRef(), clusterRef()]) }),
  previewSplit: v.strictObject({ runId: id(), cluster: clusterRef(), k: opt(v.pipe(int(2), v.maxValue(100))), algo: opt(picklist(['kmeans', 'hdbscan'])), items: opt(v.pipe(items(), v.maxLength(100_000))) }),
  applySplit: v.strictObject({ runId: id(), cluster: clusterRef(), parts: splitPartsSchema() }),
  markNotFace: v.strictObject({ runId: id(), items: v.pipe(items(), v.maxLength(100_000)) }),
  addFace: v.strictObject({
    photoId: id(), runId: opt(id()),
    box: v.pipe(v.tuple([v.pipe(num(), v.minValue(0)), v.pipe(num(), v.minValue(0)), v.pipe(num(), v.gtValue(0)), v.pipe(num(), v.gtValue(0))]), v.check((b) => b[2] >= 8 && b[3] >= 8, 'a face box is at least 8 x 8 pixels')),
  }),
  suggestPerson: v.strictObject({ runId: id(), item: id(), threshold: opt(range(-1, 1)), margin: opt(range(0, 2)) }),
  getUnknownGroups: v.strictObject({ runId: id(), threshold: opt(range(-1, 1)), limit: opt(v.pipe(int(1), v.maxValue(200))) }),
};

/** The parameter an issue is about, as a dotted path (`params.k`, `op.items.3`), or `options` for the whole object. */
function issuePath(issue: v.BaseIssue<unknown>): string {
  const keys = (issue.path ?? []).map((p) => String(p.key));
  return keys.length ? keys.join('.') : 'options';
}

/** The options object of a call, checked: its parsed value, or the parameter at fault and a message naming it. */
export function checkArgs<M extends ApiMethod>(method: M, arg: unknown): { ok: true; value: ApiArgs<M> } | { ok: false; param: string; message: string } {
  if (Array.isArray(arg)) return { ok: false, param: 'options', message: `options: expected one options object, got a list of arguments (${method})` };
  const r = v.safeParse(API_SCHEMAS[method], arg, { abortPipeEarly: true });
  if (r.success) return { ok: true, value: r.output };
  const issue = r.issues[0];
  const param = issuePath(issue);
  const objectKey = issue.kind === 'schema' && /object$/.test(issue.type);
  const message = objectKey && issue.received === 'undefined' ? 'is required'
    : objectKey && issue.expected === 'never' ? 'is not an option of this method'
      : issue.message;
  const why = message.length > 240 ? `${message.slice(0, 240)}...` : message; // never echo a huge value
  return { ok: false, param, message: `${param}: ${why} (${method})` };
}

// ---------------------------------------------------------------------------------------------------------------
// Result schemas: what every method resolves with, and every job kind's params and result (the job-kind map of
// common/jobs.ts), compile-time checked against the AppApi and JobKinds types. `checkResult` validates a result
// (the dispatch does it in development and test builds: core/config.ts checkResults); `jobResult` gives a finished
// job's result typed by its kind, validated, so no caller casts.
// ---------------------------------------------------------------------------------------------------------------

const anyNum = () => v.number();
const nint = () => v.pipe(v.number(), v.integer());
const str = () => v.string();
const nul = <T extends v.GenericSchema>(s: T) => v.nullable(s);
const rec = () => v.record(v.string(), v.unknown());
const box = () => v.tuple([anyNum(), anyNum(), anyNum(), anyNum()]);
const pageOf = <T extends v.GenericSchema>(item: T) => v.object({ total: nint(), offset: nint(), items: v.array(item) });

const errorPayloadSchema: v.GenericSchema<ErrorPayload> = v.object({ code: v.picklist(ERROR_CODES as ErrorCode[]), message: str() });
const jobStateSchema: v.GenericSchema<JobState> = picklist(JOB_STATES);
const jobProgressSchema: v.GenericSchema<JobProgress> = v.object({ stage: str(), done: anyNum(), total: anyNum(), loss: opt(v.array(anyNum())) });

const modelInfoSchema: v.GenericSchema<ModelInfo> = v.object({
  name: str(), kind: itemKindSchema, dim: nint(), version: str(), source: v.picklist(['builtin', 'manifest', 'imported']), embeddings: nint(),
});
const libraryInfoSchema: v.GenericSchema<LibraryInfo> = v.object({
  library: str(), schemaVersion: nint(), roots: nint(), photos: nint(), missing: nint(), errors: nint(), faces: nint(),
  embeddings: v.record(v.string(), nint()), models: v.array(modelInfoSchema), runs: nint(), embedFailures: opt(v.record(v.string(), nint())),
  retryableErrors: opt(nint()),
});
const rootSchema: v.GenericSchema<Root> = v.object({
  id: id(), path: str(), addedAt: anyNum(), lastScanAt: nul(anyNum()), photos: nint(), errors: nint(), missing: nint(),
});
const photoSummaryEntries = {
  id: id(), path: str(), relPath: str(), rootId: id(), folder: str(), hash: str(), width: nint(), height: nint(), format: str(),
  takenAt: nul(str()), status: v.picklist(['ok', 'missing']), size: anyNum(),
};
const photoSummarySchema: v.GenericSchema<PhotoSummary> = v.object(photoSummaryEntries);
const faceSummarySchema: v.GenericSchema<FaceSummary> = v.object({ id: id(), photoId: id(), box: box(), score: anyNum(), thumb: nul(str()) });
const photoDetailSchema: v.GenericSchema<PhotoDetail> = v.object({
  ...photoSummaryEntries, mtimeMs: anyNum(), orientation: nul(anyNum()), faces: v.array(faceSummarySchema),
});
const scanIssueSchema: v.GenericSchema<ScanIssue> = v.object({ path: str(), rootId: nul(nint()), reason: str(), at: anyNum() });
const runInfoEntries = {
  id: id(), model: str(), kind: itemKindSchema, algo: str(), params: v.looseObject({ algo: str() }) as unknown as v.GenericSchema<ClusterParams>,
  metrics: rec(), timings: v.record(v.string(), anyNum()), record: rec(), n: nint(), clusters: nint(), noise: nint(), createdAt: anyNum(),
};
const runInfoSchema: v.GenericSchema<RunInfo> = v.object(runInfoEntries);
const sampleSchema = v.object({ item: nint(), sim: anyNum() });
const clusterRowSchema: v.GenericSchema<ClusterRow> = v.object({
  cluster: nint(), size: nint(), meanSim: nul(anyNum()), name: nul(str()), curated: v.boolean(), top: v.array(sampleSchema), tail: v.array(sampleSchema),
});
const mapInfoEntries = {
  id: id(), model: str(), method: v.picklist(MAP_METHODS), params: rec(), n: nint(), createdAt: anyNum(),
  setting: v.object({
    method: v.picklist(MAP_METHODS), metric: v.picklist(METRICS), seed: anyNum(),
    nNeighbors: opt(anyNum()), minDist: opt(anyNum()), nEpochs: opt(nul(anyNum())), perplexity: opt(nul(anyNum())),
  }),
  settingKey: str(),
};
const mapInfoSchema: v.GenericSchema<MapInfo> = v.object(mapInfoEntries);
const mapDataSchema: v.GenericSchema<MapData> = v.object({ ...mapInfoEntries, kind: itemKindSchema, ids: v.instance(Int32Array), xy: v.instance(Float32Array) });
const itemViewEntries = {
  item: nint(), kind: itemKindSchema, photoId: nint(), path: str(), folder: str(), thumb: nul(str()), box: nul(box()),
  cluster: nul(nint()), sim: nul(anyNum()),
};
const itemViewSchema: v.GenericSchema<ItemView> = v.object(itemViewEntries);
const historySchema: v.GenericSchema<HistoryInfo> = v.object({
  runId: id(), canUndo: v.boolean(), canRedo: v.boolean(), edits: v.array(v.object({ id: id(), op: editOpSchema, undone: v.boolean(), at: anyNum() })),
});
const editResultSchema: v.GenericSchema<EditResult> = v.object({
  editId: nint(), op: editOpSchema, clusters: v.array(nint()), history: historySchema, description: opt(str()), runId: opt(id()),
  files: opt(v.object({ trashed: v.array(str()), restored: v.array(str()), problems: v.array(str()) })),
  recluster: opt(v.object({ moved: nint(), regrouped: nint() })),
});
const catalogItemSchema: v.GenericSchema<CatalogItem> = v.object({
  id: str(), title: str(), kind: str(), url: str(), size: nul(anyNum()), sha256: nul(str()), license: str(), unverified: v.array(str()),
  installed: v.boolean(), manifestPath: nul(str()), notes: opt(str()),
});
const exportRunReportSchema: v.GenericSchema<ExportRunReport> = v.object({
  runId: id(), kind: itemKindSchema, model: str(), format: picklist(EXPORT_FORMATS), to: str(),
  link: nul(picklist(LINK_MODES)), faces: opt(picklist(FACE_EXPORTS)), items: nint(), groups: nint(), files: nint(), skipped: nint(), collisions: nint(),
  dryRun: v.boolean(), out: nul(str()), exportId: nul(nint()), distance: str(),
  folders: opt(v.array(v.object({ cluster: nint(), name: nul(str()), folder: str(), size: nint() }))),
  plan: opt(v.array(v.object({ cluster: nint(), from: nul(str()), to: str(), action: picklist(EXPORT_ACTIONS) }))),
  planTruncated: opt(v.boolean()),
  skippedItems: opt(v.array(v.object({ item: nint(), path: nul(str()), reason: str() }))),
  warnings: v.array(str()),
});
const scanResultSchema: v.GenericSchema<ScanResult> = v.object({
  roots: nint(), seen: nint(), added: nint(), updated: nint(), unchanged: nint(), moved: nint(), missing: nint(), errors: nint(), photos: nint(),
  vanished: opt(v.array(v.object({ rootId: id(), path: str(), reason: str(), photos: nint() }))),
});
const embedReportSchema: v.GenericSchema<EmbedReport> = v.object({
  model: str(), kind: itemKindSchema, dim: nint(), version: str(), pending: nint(), processed: nint(), failed: nint(), faces: nint(),
  rejectedFaces: nint(), embeddings: nint(), failures: v.array(v.object({ path: str(), reason: str() })), seconds: anyNum(), photosPerSecond: anyNum(),
  faceFolders: opt(v.array(v.object({ folder: str(), faces: nint(), rejected: nint(), nearIdentical: nint(), flagged: v.boolean(), reason: nul(str()) }))),
});
const importEmbeddingsFileReportSchema = v.object({
  model: str(), kind: itemKindSchema, rows: nint(), dim: nint(), imported: nint(), unmatched: nint(), unmatchedPaths: v.array(str()), facesCreated: nint(),
  format: picklist(COLUMNAR_FORMATS), files: nint(), source: str(),
});
const librarySettingsSchema = v.object({
  autoAssign: v.boolean(), watch: v.boolean(), watchModels: v.array(str()), faceMinQuality: nul(anyNum()), faceExcludedFolders: v.array(str()), learnInBackground: v.boolean(),
});
const personLiteSchema = v.object({ cluster: nint(), name: nul(str()), size: nint(), avatar: nul(nint()) });
const importLabelsReportSchema = v.object({
  source: str(), mode: picklist(LABEL_MODES), rows: nint(), matched: nint(), photos: nint(), faces: nint(), inherited: nint(),
  unmatched: nint(), unmatchedPaths: v.array(str()), ignored: nint(), conflicts: nint(), labels: nint(),
  seeded: v.array(v.object({ runId: id(), kind: itemKindSchema, named: nint(), curated: nint() })),
  runId: opt(nul(id())), editId: opt(nul(nint())),
});
const sizeRow = v.object({ cluster: nint(), size: nint() });
const clusterReportSchema: v.GenericSchema<ClusterReport> = v.object({ ...runInfoEntries, runId: id(), top10: v.array(sizeRow), tail10: v.array(sizeRow) });
const sweepPointSchema: v.GenericSchema<SweepPoint> = v.object({
  param: str(), value: anyNum(), clusters: nint(), noiseShare: anyNum(), score: anyNum(), rejected: opt(str()), knee: opt(v.boolean()), ari: opt(anyNum()),
});
const sweepKindSchema = picklist(SWEEP_KINDS);
const downloadResultEntries = { path: str(), size: nint(), sha256: str(), resumedFrom: nint() };

/** Every job kind's params and result schemas (the job-kind map, validated). */
export const JOB_SCHEMAS: { [K in JobKind]: { params: v.GenericSchema<JobParams<K>>; result: v.GenericSchema<JobResult<K>> } } = {
  scan: { params: v.object({ rootIds: v.array(id()) }), result: scanResultSchema },
  embed: {
    params: v.object({
      model: str(), workers: opt(nint()), batch: opt(nint()), modelsDir: opt(str()),
      face: opt(v.object({ scoreThreshold: opt(anyNum()), minFaceSize: opt(anyNum()), minQuality: opt(anyNum()), excludeFolders: opt(v.array(str())) })),
    }),
    result: embedReportSchema,
  },
  // a job's parameters are planned (the preset resolved): its algorithm is always set
  cluster: { params: v.object({ model: str(), params: clusterParamsSchema as unknown as v.GenericSchema<ClusterParams>, labels: opt(nul(str())) }), result: clusterReportSchema },
  export: {
    params: v.object({
      runId: id(), to: str(), format: picklist(EXPORT_FORMATS), link: picklist(LINK_MODES),
      faces: opt(picklist(FACE_EXPORTS)), dryRun: v.boolean(), curatedOnly: v.boolean(), includeNoise: v.boolean(),
    }),
    result: exportRunReportSchema,
  },
  map: { params: v.object({ model: str(), params: mapParamsSchema }), result: v.object({ ...mapInfoEntries, seconds: anyNum() }) },
  sweep: {
    params: v.object({
      model: str(), kind: sweepKindSchema, values: v.array(anyNum()),
      options: v.object({ minSamples: opt(anyNum()), minClusters: opt(anyNum()), maxNoiseShare: opt(anyNum()), score: opt(picklist(['silhouette', 'dbcv'])), labels: opt(nul(str())) }),
    }),
    result: v.object({
      model: str(), kind: sweepKindSchema, points: v.array(sweepPointSchema), best: nul(sweepPointSchema), scoreName: opt(picklist(['inertia', 'silhouette', 'dbcv', 'ami'])),
      labels: opt(v.object({ source: str(), known: nint(), classes: nint() })),
    }),
  },
  download: { params: v.object({ id: str() }), result: v.object({ ...downloadResultEntries, manifest: nul(str()) }) },
  similar: {
    params: v.object({ model: str(), item: itemRefSchema, k: nint(), selection: opt(nint()), combine: opt(picklist(['mean', 'max'])) }),
    result: v.object({ items: nint() }),
  },
  neardup: { params: v.object({ model: str(), threshold: anyNum() }), result: v.object({ groups: nint() }) },
  split: {
    params: v.object({ runId: id(), cluster: nint(), k: opt(nint()), algo: opt(str()) }),
    result: rec(),
  },
  recluster: { params: v.object({ runId: id() }), result: v.object({ moved: nint(), regrouped: nint() }) },
  importEmbeddings: {
    params: v.object({ file: str(), model: str(), idColumn: opt(str()), vectorColumn: opt(str()) }),
    result: importEmbeddingsFileReportSchema,
  },
  importRun: {
    params: v.object({ file: str(), model: str(), idColumn: opt(str()), clusterColumn: opt(str()) }),
    result: v.object({
      runId: id(), model: str(), kind: itemKindSchema, items: nint(), clusters: nint(), noise: nint(), unmatched: nint(), unmatchedIds: v.array(str()),
      rows: nint(), source: str(), named: nint(), carried: nint(),
    }),
  },
  exportJob: {
    params: v.object({ model: str(), to: str(), partitionRows: opt(nint()) }),
    result: v.object({ dir: str(), items: nint(), partitions: nint(), model: str(), kind: itemKindSchema, files: v.array(str()), driver: str(), command: v.array(str()) }),
  },
};

/** The JobInfo of one kind: its typed params and (once done) its typed result. */
function jobInfoSchema<K extends JobKind>(kind: K): v.GenericSchema<JobInfo<K>> {
  return v.object({
    id: id(), kind: v.literal(kind), state: jobStateSchema, params: JOB_SCHEMAS[kind].params, progress: jobProgressSchema,
    createdAt: anyNum(), startedAt: nul(anyNum()), finishedAt: nul(anyNum()), error: nul(errorPayloadSchema),
    result: nul(JOB_SCHEMAS[kind].result),
  }) as unknown as v.GenericSchema<JobInfo<K>>;
}
const JOB_KIND_LIST = Object.keys(JOB_SCHEMAS) as JobKind[];
const jobInfoOf = <K extends JobKind>(kind: K) => jobInfoSchema(kind);
/** Any job: one variant per kind. */
export const jobInfoAnySchema: v.GenericSchema<JobInfo> = v.variant('kind', JOB_KIND_LIST.map((k) => jobInfoSchema(k)) as never) as unknown as v.GenericSchema<JobInfo>;

const voidSchema: v.GenericSchema<void> = v.undefined() as unknown as v.GenericSchema<void>;

/** One schema per method for what it resolves with (compile-time checked against the AppApi signatures). */
export const API_RESULT_SCHEMAS: { [M in ApiMethod]: v.GenericSchema<ApiResult<M>> } = {
  getInfo: libraryInfoSchema,
  listRoots: v.array(rootSchema),
  addRoots: v.array(rootSchema),
  removeRoot: voidSchema,
  removeFolder: removeFolderReportSchema,
  check: checkReportSchema,
  scan: jobInfoOf('scan'),
  listPhotos: pageOf(photoSummarySchema),
  getPhoto: photoDetailSchema,
  listScanIssues: pageOf(scanIssueSchema),
  listJobs: v.array(jobInfoAnySchema),
  getJob: jobInfoAnySchema,
  waitJob: jobInfoAnySchema,
  cancelJob: voidSchema,
  embed: jobInfoOf('embed'),
  importEmbeddings: v.object({
    model: str(), kind: itemKindSchema, rows: nint(), dim: nint(), imported: nint(), unmatched: nint(), unmatchedPaths: v.array(str()), facesCreated: nint(),
  }),
  exportEmbeddings: v.object({ model: str(), kind: itemKindSchema, rows: nint(), dim: nint(), out: str(), ids: str() }),
  cluster: jobInfoOf('cluster'),
  listRuns: v.array(runInfoSchema),
  getRun: runInfoSchema,
  getClusters: v.array(clusterRowSchema),
  exportRun: jobInfoOf('export'),
  importLabels: importLabelsReportSchema,
  exportXmp: exportXmpReportSchema,
  importXmp: v.object({
    sidecars: nint(), regions: nint(), matched: nint(), unmatched: nint(), failures: v.array(v.object({ path: str(), reason: str() })),
    labels: nul(importLabelsReportSchema),
  }),
  getCluster: clusterRowSchema,
  getAssignments: v.object({ runId: id(), kind: itemKindSchema, ids: v.instance(Int32Array), clusters: v.instance(Int32Array) }),
  computeMap: jobInfoOf('map'),
  listMaps: v.array(mapInfoSchema),
  getMap: mapDataSchema,
  getCatalog: v.array(catalogItemSchema),
  downloadCatalogModel: jobInfoOf('download'),
  editRun: editResultSchema,
  undo: nul(editResultSchema),
  redo: nul(editResultSchema),
  getHistory: historySchema,
  getItemStates: itemStatesReportSchema,
  getClusterMembers: pageOf(itemViewSchema),
  getItems: v.array(itemViewSchema),
  getReviewQueue: pageOf(itemViewSchema),
  similar: v.array(v.object({ ...itemViewEntries, similarity: anyNum() })),
  nearDuplicates: v.array(v.object({ items: v.array(itemViewSchema), minSim: anyNum(), representative: nint(), keep: nint(), keepRule: str() })),
  compareItems: v.object({
    items: v.array(v.object({
      item: nint(), kind: itemKindSchema, photoId: nint(), path: str(), folder: str(), thumb: nul(str()), width: nint(), height: nint(),
      pixels: nint(), bytes: nint(), format: str(), takenAt: nul(str()), sharpness: nul(anyNum()),
    })),
    best: nint(), rule: str(), sims: nul(v.array(v.array(anyNum()))),
  }),
  keepBestDuplicates: v.intersect([editResultSchema, v.object({ kept: v.array(nint()), rejected: v.array(nint()), rule: str() })]),
  getMapField: v.object({
    mapId: id(), field: picklist(MAP_FIELDS), kind: itemKindSchema, n: nint(),
    ids: v.instance(Int32Array), codes: v.instance(Int32Array), values: nul(v.instance(Float32Array)),
    legend: v.array(v.object({
      code: v.number(), label: str(), value: nul(str()), count: nint(), colour: str(), noise: v.boolean(),
      centroid: opt(v.tuple([anyNum(), anyNum()])), min: opt(anyNum()), max: opt(anyNum()),
    })),
  }),
  searchItems: v.object({ kind: itemKindSchema, total: nint(), ids: v.instance(Int32Array), items: v.array(itemViewSchema), scores: opt(v.instance(Float32Array)), model: opt(str()) }),
  importEmbeddingsFile: jobInfoOf('importEmbeddings'),
  exportEmbeddingsFile: v.object({ model: str(), kind: itemKindSchema, rows: nint(), dim: nint(), out: str(), ids: str(), format: picklist(COLUMNAR_FORMATS) }),
  importRun: jobInfoOf('importRun'),
  exportJob: jobInfoOf('exportJob'),
  assign: v.object({
    runId: id(), assigned: nint(), unassigned: nint(), groups: nint(), editId: nul(nint()), threshold: nul(anyNum()), thresholdFrom: str(),
    margin: anyNum(), joined: v.array(v.object({ cluster: nint(), name: nul(str()), added: nint() })),
    reasons: v.object({ belowThreshold: nint(), ambiguous: nint(), nearestUnnamed: nint() }), targets: picklist(['groups', 'clusters']),
    timings: opt(v.object({ read: anyNum(), score: anyNum(), edit: anyNum() })),
  }),
  getSettings: librarySettingsSchema,
  setSettings: librarySettingsSchema,
  sweep: jobInfoOf('sweep'),
  compareRuns: v.object({ a: runInfoSchema, b: runInfoSchema, common: nint(), ari: anyNum(), ami: anyNum(), nmi: anyNum() }),
  retryFailed: v.object({ errors: nint(), retryable: nint(), rootIds: v.array(id()), scan: nul(jobInfoOf('scan')) }),
  renameRun: runInfoSchema,
  deleteRun: deleteRunReportSchema,
  checkExportTarget: v.object({ to: str(), exists: v.boolean() }),
  listBackups: v.array(backupInfoSchema),
  backupNow: backupInfoSchema,
  restoreBackup: v.object({ restored: str(), tables: v.record(v.string(), nint()), fromTrash: v.array(str()) }),
  openLibrary: libraryInfoSchema,
  listRecentLibraries: v.array(recentLibrarySchema),
  checkLibrary: libraryCheckSchema,
  // people and faces
  listPeople: v.array(v.object({
    cluster: nint(), name: nul(str()), size: nint(), hidden: v.boolean(), curated: v.boolean(), avatar: nul(nint()), avatarChosen: v.boolean(),
    changedAt: nul(anyNum()), thumb: nul(str()), meanSim: nul(anyNum()),
  })),
  setPerson: editResultSchema,
  learn: learnReportSchema,
  getSuggestions: v.object({
    runId: id(), cluster: nint(), name: nul(str()), threshold: anyNum(), thresholdFrom: str(), sure: anyNum(), margin: anyNum(), candidates: nint(), rejected: nint(),
    suggestions: v.array(v.object({
      item: id(), path: str(), similarity: anyNum(), second: nul(anyNum()), secondCluster: nul(nint()), margin: nul(anyNum()),
      source: picklist(['noise', 'new', 'member']), cluster: nul(nint()), photoId: id(), thumb: nul(str()), box: nul(box()), zone: picklist(SUGGESTION_ZONES),
    })),
    timings: v.object({ read: anyNum(), score: anyNum() }),
  }),
  confirmSuggestions: editResultSchema,
  rejectSuggestions: editResultSchema,
  getMergeSuggestions: v.object({
    runId: id(), threshold: anyNum(), thresholdFrom: str(), sure: anyNum(),
    suggestions: v.array(v.object({ a: personLiteSchema, b: personLiteSchema, similarity: anyNum(), max: anyNum(), zone: picklist(SUGGESTION_ZONES) })),
  }),
  notSamePerson: editResultSchema,
  previewSplit: v.object({
    runId: id(), cluster: nint(), algo: picklist(['kmeans', 'hdbscan', 'selection']),
    parts: v.array(v.object({ items: v.array(id()), size: nint(), samples: v.array(id()), meanSim: nul(anyNum()) })),
  }),
  applySplit: editResultSchema,
  markNotFace: editResultSchema,
  addFace: v.object({
    face: v.object({ id: id(), photoId: id(), box: box(), score: anyNum(), thumb: nul(str()), manual: v.boolean() }),
    model: str(), runId: nul(id()), editId: nul(nint()),
  }),
  suggestPerson: v.object({
    runId: id(), item: id(), from: nul(v.pipe(num(), v.integer())), cluster: nul(nint()), name: nul(str()), similarity: nul(anyNum()), second: nul(anyNum()),
    secondCluster: nul(nint()), threshold: anyNum(), margin: anyNum(), reason: str(),
  }),
  getUnknownGroups: v.object({
    runId: id(), threshold: anyNum(), thresholdFrom: str(), candidates: nint(), total: nint(),
    groups: v.array(v.object({ items: v.array(id()), size: nint(), minSim: anyNum(), faces: v.array(itemViewSchema) })),
  }),
};

/** A method's result checked against its schema: null when it holds, else the first mismatch (`path: message`). */
export function checkResult<M extends ApiMethod>(method: M, result: unknown): string | null {
  const r = v.safeParse(API_RESULT_SCHEMAS[method], result, { abortPipeEarly: true });
  if (r.success) return null;
  const issue = r.issues[0];
  const keys = (issue.path ?? []).map((p) => String(p.key));
  const msg = issue.message.length > 240 ? `${issue.message.slice(0, 240)}...` : issue.message;
  return `${keys.length ? keys.join('.') : 'result'}: ${msg}`;
}

/** A finished job's result, typed by its kind and validated against the job-kind map (INTERNAL when it does not match). */
export function jobResult<K extends JobKind>(job: JobInfo<K>): JobResult<K> | null {
  const j = job as { kind: K; result: unknown };
  if (j.result === null || j.result === undefined) return null;
  const r = v.safeParse(JOB_SCHEMAS[j.kind].result, j.result);
  if (!r.success) throw new AppError('INTERNAL', `the ${j.kind} job's result does not match its schema: ${(r.issues[0].path ?? []).map((p) => String(p.key)).join('.') || 'result'}: ${r.issues[0].message}`);
  return j.result as JobResult<K>;
}

/** True when `job` is of `kind` (narrows a JobInfo of any kind to JobInfo<K>, its params and result typed). */
export function isJobOf<K extends JobKind>(job: { kind: JobKind }, kind: K): job is JobInfo<K> {
  return job.kind === kind;
}
