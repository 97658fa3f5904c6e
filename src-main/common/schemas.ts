/**
 * The argument schemas of every AppApi method (valibot: 5 KB minified in the renderer, no code generation, so it runs
 * under the renderer's CSP; see BENCHMARKS.md "Contract validation"). Every transport validates a call's one options
 * object here, once, at the door (common/dispatch.ts); a bad argument is a BAD_ARGUMENT naming the parameter.
 * Pure: no Node, no Electron.
 */
import * as v from 'valibot';
import { AppError, ERROR_CODES, type ErrorCode, type ErrorPayload } from './errors.ts';
import type { JobInfo, JobKind, JobResult } from './jobs.ts';
import { COLUMNAR_FORMATS, MAP_METHODS, MEMBER_ORDERS, SPLIT_ALGOS, id, int, itemKindSchema, m, num, opt, picklist, range, text } from './schema-kit.ts';
import { clusterParamsSchema } from './cluster-contract.ts';
import { JOB_SCHEMAS } from './job-schemas.ts';

/** the options object of a method that takes none (an empty object, or nothing) */
const none = opt(v.strictObject({}));

import {
  clusterRef, editOpSchema, embedOptionsSchema, exportRunOptionsSchema, importEmbeddingsFileOptionsSchema, importLabelsOptionsSchema, importRunOptionsSchema, itemRefSchema, items,
  mapFieldOptionsSchema, mapParamsSchema, page, peopleQuerySchema, photoQuerySchema, searchOptionsSchema, similarOptionsSchema, splitPartsSchema, suggestionQuerySchema, sweepOptionsSchema,
} from './arg-schemas.ts';
import {
  addFaceReportSchema, anyNum, assignReportSchema, backupInfoSchema, catalogItemSchema, checkReportSchema, clusterRowSchema, compareReportSchema, deleteRunReportSchema,
  editResultSchema, exportEmbeddingsFileReportSchema, exportEmbeddingsReportSchema, exportXmpReportSchema, historySchema, importEmbeddingsReportSchema,
  importLabelsReportSchema, importXmpReportSchema, itemStatesReportSchema, itemViewEntries, itemViewSchema, jobProgressSchema, jobStateSchema, learnReportSchema,
  libraryCheckSchema, libraryInfoSchema, librarySettingsSchema, mapDataSchema, mapFieldSchema, mapInfoSchema, mergeSuggestionReportSchema, nearDuplicateGroupSchema,
  nint, nul, pageOf, personRowSchema, personSuggestionSchema, photoDetailSchema, photoSummarySchema, recentLibrarySchema, removeFolderReportSchema, rootSchema,
  runInfoSchema, scanIssueSchema, searchResultSchema, splitPreviewSchema, str, suggestionReportSchema, unknownGroupsReportSchema,
} from './result-shapes.ts';

export { JOB_SCHEMAS };
export { clusterParamsSchema, itemKindSchema, itemRefSchema, mapParamsSchema };
/**
 * One schema per method, for its one options object: its keys are the method list (api.ts API_METHODS), so a method is
 * added here and in API_RESULT_SCHEMAS; api.ts checks at compile time that both give what the AppApi signatures say.
 */
export const API_SCHEMAS = {
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
  listRuns: opt(v.strictObject({ library: opt(text()) })),
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
  getClusterMembers: v.strictObject({ runId: id(), cluster: int(-1), ...page, order: opt(picklist(MEMBER_ORDERS)) }),
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
  previewSplit: v.strictObject({ runId: id(), cluster: clusterRef(), k: opt(v.pipe(int(2), v.maxValue(100))), algo: opt(picklist(SPLIT_ALGOS)), items: opt(v.pipe(items(), v.maxLength(100_000))) }),
  applySplit: v.strictObject({ runId: id(), cluster: clusterRef(), parts: splitPartsSchema() }),
  markNotFace: v.strictObject({ runId: id(), items: v.pipe(items(), v.maxLength(100_000)) }),
  addFace: v.strictObject({
    photoId: id(), runId: opt(id()),
    box: v.pipe(v.tuple([v.pipe(num(), v.minValue(0)), v.pipe(num(), v.minValue(0)), v.pipe(num(), v.gtValue(0)), v.pipe(num(), v.gtValue(0))]), v.check((b) => b[2] >= 8 && b[3] >= 8, 'a face box is at least 8 x 8 pixels')),
  }),
  suggestPerson: v.strictObject({ runId: id(), item: id(), threshold: opt(range(-1, 1)), margin: opt(range(0, 2)) }),
  getUnknownGroups: v.strictObject({ runId: id(), threshold: opt(range(-1, 1)), limit: opt(v.pipe(int(1), v.maxValue(200))) }),
} satisfies Record<string, v.GenericSchema>;
/** A method of the contract: a key of the schema map. */
export type SchemaMethod = keyof typeof API_SCHEMAS;

/** The parameter an issue is about, as a dotted path (`params.k`, `op.items.3`), or `options` for the whole object. */
function issuePath(issue: v.BaseIssue<unknown>): string {
  const keys = (issue.path ?? []).map((p) => String(p.key));
  return keys.length ? keys.join('.') : 'options';
}

/** The options object of a call, checked: its parsed value, or the parameter at fault and a message naming it. */
export function checkArgs<M extends SchemaMethod>(method: M, arg: unknown): { ok: true; value: v.InferOutput<(typeof API_SCHEMAS)[M]> } | { ok: false; param: string; message: string } {
  if (Array.isArray(arg)) return { ok: false, param: 'options', message: `options: expected one options object, got a list of arguments (${method})` };
  const r = v.safeParse(API_SCHEMAS[method] as v.GenericSchema, arg, { abortPipeEarly: true });
  if (r.success) return { ok: true, value: r.output as v.InferOutput<(typeof API_SCHEMAS)[M]> };
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

const errorPayloadSchema: v.GenericSchema<ErrorPayload> = v.object({ code: v.picklist(ERROR_CODES as ErrorCode[]), message: str() });

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

/** One schema per method for what it resolves with (api.ts checks at compile time that it is what the AppApi signature says). */
export const API_RESULT_SCHEMAS = {
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
  importEmbeddings: importEmbeddingsReportSchema,
  exportEmbeddings: exportEmbeddingsReportSchema,
  cluster: jobInfoOf('cluster'),
  listRuns: v.array(runInfoSchema),
  getRun: runInfoSchema,
  getClusters: v.array(clusterRowSchema),
  exportRun: jobInfoOf('export'),
  importLabels: importLabelsReportSchema,
  exportXmp: exportXmpReportSchema,
  importXmp: importXmpReportSchema,
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
  nearDuplicates: v.array(nearDuplicateGroupSchema),
  compareItems: compareReportSchema,
  keepBestDuplicates: v.intersect([editResultSchema, v.object({ kept: v.array(nint()), rejected: v.array(nint()), rule: str() })]),
  getMapField: mapFieldSchema,
  searchItems: searchResultSchema,
  importEmbeddingsFile: jobInfoOf('importEmbeddings'),
  exportEmbeddingsFile: exportEmbeddingsFileReportSchema,
  importRun: jobInfoOf('importRun'),
  exportJob: jobInfoOf('exportJob'),
  assign: assignReportSchema,
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
  listPeople: v.array(personRowSchema),
  setPerson: editResultSchema,
  learn: learnReportSchema,
  getSuggestions: suggestionReportSchema,
  confirmSuggestions: editResultSchema,
  rejectSuggestions: editResultSchema,
  getMergeSuggestions: mergeSuggestionReportSchema,
  notSamePerson: editResultSchema,
  previewSplit: splitPreviewSchema,
  applySplit: editResultSchema,
  markNotFace: editResultSchema,
  addFace: addFaceReportSchema,
  suggestPerson: personSuggestionSchema,
  getUnknownGroups: unknownGroupsReportSchema,
} satisfies { [M in SchemaMethod]: v.GenericSchema };

/** A method's result checked against its schema: null when it holds, else the first mismatch (`path: message`). */
export function checkResult(method: SchemaMethod, result: unknown): string | null {
  const r = v.safeParse(API_RESULT_SCHEMAS[method] as v.GenericSchema, result, { abortPipeEarly: true });
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
