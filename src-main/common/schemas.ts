/**
 * The argument schemas of every AppApi method (valibot: 5 KB minified in the renderer, no code generation, so it runs
 * under the renderer's CSP; see BENCHMARKS.md "Contract validation"). Every transport validates a call's one options
 * object here, once, at the door (common/dispatch.ts); a bad argument is a BAD_ARGUMENT naming the parameter.
 * Pure: no Node, no Electron.
 */
import * as v from 'valibot';
import type { ApiArgs, ApiMethod } from './api.ts';
import type { ClusterParams, EditOp, MapParams } from './types.ts';

/** `expected WHAT, got VALUE`: the project's wording for a bad parameter */
const m = (what: string) => (issue: v.BaseIssue<unknown>) => `expected ${what}, got ${issue.received}`;
const num = () => v.pipe(v.number(m('a number')), v.finite(m('a finite number')));
const int = (min = 0) => v.pipe(v.number(m(`an integer >= ${min}`)), v.integer(m(`an integer >= ${min}`)), v.minValue(min, m(`an integer >= ${min}`)));
const id = () => int(1);
const text = () => v.pipe(v.string(m('a non-empty string')), v.minLength(1, m('a non-empty string')));
const range = (lo: number, hi: number) => v.pipe(num(), v.minValue(lo, m(`a number in [${lo}, ${hi}]`)), v.maxValue(hi, m(`a number in [${lo}, ${hi}]`)));
const opt = v.optional;
const picklist = <const T extends readonly string[]>(xs: T) => v.picklist(xs, m(`one of ${xs.join(', ')}`));
/** the options object of a method that takes none (an empty object, or nothing) */
const none = opt(v.strictObject({}));

export const itemKindSchema = picklist(['photo', 'face']);
export const itemRefSchema = v.strictObject({ kind: itemKindSchema, id: id() });

/**
 * Clustering parameters, checked at submit time (ranges and what each algorithm needs), so a bad run is refused when
 * asked, never queued to fail in a worker. Loose object: engine-specific extra fields pass through to the algorithm's
 * own check (algo/cluster/run.ts), which also runs at submit time against the number of items.
 */
export const clusterParamsSchema: v.GenericSchema<ClusterParams> = v.pipe(
  v.looseObject({
    algo: picklist(['kmeans', 'minibatch-kmeans', 'hdbscan', 'dbscan', 'ward', 'dec']),
    metric: opt(picklist(['cosine', 'euclidean'])),
    seed: opt(int(0)),
    k: opt(int(1)),
    nInit: opt(int(1)),
    batchSize: opt(int(1)),
    minClusterSize: opt(int(2)),
    minSamples: opt(int(1)),
    eps: opt(v.pipe(num(), v.minValue(0))),
    selection: opt(picklist(['eom', 'leaf'])),
    allowSingleCluster: opt(v.boolean()),
    attachNoise: opt(range(-1, 1)),
    linkage: opt(picklist(['ward', 'average', 'complete'])),
    distanceThreshold: opt(v.pipe(num(), v.gtValue(0))),
    reduce: opt(v.union([v.literal(0), v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(100)),
      v.pipe(v.string(), v.regex(/^(none|(umap|pca|ae):[0-9-]+(,(umap|pca|ae):[0-9-]+)*)$/))],
      'expected umap dimensions 0 (none) or 2..100, or a chain such as ae:32,umap:10 / pca:50,umap:10')),
    postprocess: opt(v.strictObject({ dedupeSources: opt(v.boolean()), minSim: opt(v.nullable(range(-1, 1))), minSize: opt(int(1)) })),
    samples: opt(int(0)),
  }),
  v.forward(v.check((p) => !((p.algo === 'kmeans' || p.algo === 'minibatch-kmeans' || p.algo === 'dec') && p.k === undefined), 'is required for k-means and dec'), ['k']),
  v.forward(v.check((p) => !(p.algo === 'dbscan' && p.eps === undefined), 'is required for dbscan (cosine distance 1 - cos, e.g. 0.3)'), ['eps']),
  v.forward(v.check((p) => !(p.algo !== 'hdbscan' && p.eps === 0), 'must be > 0'), ['eps']),
  v.forward(v.check((p) => !(p.algo === 'ward' && p.k === undefined && p.distanceThreshold === undefined), 'ward needs k or distanceThreshold'), ['k']),
  v.forward(v.check((p) => !(p.algo === 'ward' && p.k !== undefined && p.distanceThreshold !== undefined), 'give either k or distanceThreshold, not both'), ['distanceThreshold']),
) as v.GenericSchema<ClusterParams>;

export const mapParamsSchema: v.GenericSchema<MapParams> = v.strictObject({
  method: picklist(['umap', 'tsne', 'pca']),
  seed: opt(int(0)),
  metric: opt(picklist(['cosine', 'euclidean'])),
  nNeighbors: opt(int(2)),
  minDist: opt(v.pipe(num(), v.minValue(0))),
  perplexity: opt(v.pipe(num(), v.gtValue(0))),
  nEpochs: opt(int(1)),
  tsneMethod: opt(picklist(['exact', 'bh', 'fft', 'auto'])),
});

const clusterRef = () => int(0);
const items = () => v.pipe(v.array(id()), v.minLength(1));
export const editOpSchema: v.GenericSchema<EditOp> = v.variant('type', [
  v.strictObject({ type: v.literal('rename'), cluster: clusterRef(), name: v.string() }),
  v.strictObject({ type: v.literal('accept'), cluster: clusterRef(), curated: opt(v.boolean()) }),
  v.strictObject({ type: v.literal('merge'), clusters: v.pipe(v.array(clusterRef()), v.minLength(2)), into: opt(clusterRef()) }),
  v.strictObject({ type: v.literal('split'), cluster: clusterRef(), k: opt(int(2)), algo: opt(picklist(['kmeans', 'hdbscan'])) }),
  v.strictObject({ type: v.literal('move'), items: items(), to: v.union([clusterRef(), v.literal('new')]), name: opt(v.string()) }),
  v.strictObject({ type: v.literal('reject'), items: items() }),
]);

const page = { offset: opt(int(0)), limit: opt(int(1)) };

/** One schema per method, for its one options object (compile-time checked against the AppApi signatures). */
export const API_SCHEMAS: { [M in ApiMethod]: v.GenericSchema<ApiArgs<M>> } = {
  getInfo: none,
  listRoots: none,
  addRoots: v.strictObject({ paths: v.pipe(v.array(text()), v.minLength(1, 'give at least one folder')) }),
  removeRoot: v.strictObject({ rootId: id() }),
  scan: opt(v.strictObject({ rootIds: opt(v.array(id())) })),
  listPhotos: opt(v.strictObject({ ...page, rootId: opt(id()), status: opt(picklist(['ok', 'missing'])) })),
  getPhoto: v.strictObject({ id: id() }),
  listScanIssues: opt(v.strictObject(page)),
  listJobs: none,
  getJob: v.strictObject({ id: id() }),
  waitJob: v.strictObject({ id: id(), timeoutMs: opt(int(0)) }),
  cancelJob: v.strictObject({ id: id() }),
  embed: v.strictObject({
    model: text(), batch: opt(int(1)), workers: opt(int(1)), minFaceSize: opt(v.pipe(num(), v.minValue(0))),
    scoreThreshold: opt(v.pipe(num(), v.gtValue(0), v.ltValue(1))),
  }),
  importEmbeddings: v.strictObject({ npy: text(), ids: text(), model: text() }),
  exportEmbeddings: v.strictObject({ model: text(), out: text(), ids: opt(text()), force: opt(v.boolean()) }),
  cluster: v.strictObject({ model: text(), params: clusterParamsSchema, labels: opt(v.nullable(text())) }),
  listRuns: none,
  getRun: v.strictObject({ runId: id() }),
  getClusters: v.strictObject({ runId: id() }),
  getCluster: v.strictObject({ runId: id(), cluster: int(-1) }),
  exportRun: v.strictObject({
    runId: id(), to: text(), format: picklist(['folders', 'csv', 'json', 'html']),
    link: opt(picklist(['copy', 'hardlink', 'symlink'])), dryRun: opt(v.boolean()), curatedOnly: opt(v.boolean()), includeNoise: opt(v.boolean()),
  }),
  importLabels: v.strictObject({ source: text(), seed: opt(v.boolean()) }),
  getAssignments: v.strictObject({ runId: id() }),
  getCatalog: none,
  downloadCatalogModel: v.strictObject({ id: text() }),
  computeMap: v.strictObject({ model: text(), params: mapParamsSchema }),
  listMaps: none,
  getMap: v.pipe(
    v.strictObject({ id: opt(id()), model: opt(text()), method: opt(picklist(['umap', 'tsne', 'pca'])) }),
    v.forward(v.check((q) => q.id !== undefined || q.model !== undefined, 'give a map id or a model'), ['model']),
  ),
  editRun: v.strictObject({ runId: id(), op: editOpSchema }),
  undo: v.strictObject({ runId: id() }),
  redo: v.strictObject({ runId: id() }),
  getHistory: v.strictObject({ runId: id() }),
  getClusterMembers: v.strictObject({ runId: id(), cluster: int(-1), ...page, order: opt(picklist(['desc', 'asc'])) }),
  getItems: v.strictObject({ kind: itemKindSchema, ids: v.pipe(v.array(id()), v.maxLength(100_000)), runId: opt(id()) }),
  getReviewQueue: v.strictObject({ runId: id(), ...page, maxSim: opt(range(-1, 1)) }),
  similar: v.strictObject({ model: text(), item: itemRefSchema, k: opt(int(1)) }),
  nearDuplicates: v.strictObject({ model: text(), threshold: opt(v.pipe(num(), v.gtValue(0), v.maxValue(1))) }),
  sweep: v.strictObject({
    model: text(), kind: picklist(['elbow', 'silhouette', 'dbscan']),
    values: v.pipe(v.array(num()), v.minLength(1, 'give 1..100 parameter values'), v.maxLength(100, 'give 1..100 parameter values')),
    minSamples: opt(int(1)), minClusters: opt(int(1)), maxNoiseShare: opt(range(0, 1)),
  }),
  compareRuns: v.strictObject({ a: id(), b: id() }),
  removeFolder: v.strictObject({ rootId: id() }),
  check: none,
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
