/**
 * The clustering contract, written once: the algorithms, the presets, every cluster parameter (its schema, its CLI
 * flag, its help and its default) and the reduction grammar. Everything else is read from here: the API's argument
 * schema (common/schemas.ts `clusterParamsSchema`), the TypeScript types (`ClusterParams`, `ClusterRequest`,
 * `ClusterAlgo`, `ClusterPreset`: inferred from the schema), the CLI's cluster flags, their help and the check at its
 * door (cli/commands-cluster.ts), the algorithms' defaults (algo/cluster/run.ts) and the UI's choices (Tune).
 * Adding a parameter or a preset is one entry here.
 * Pure: no Node, no Electron.
 */
import * as v from 'valibot';
import { badArg } from './errors.ts';
import { METRICS, int, num, opt, picklist, range, type ITEM_KINDS } from './schema-kit.ts';

type Kind = (typeof ITEM_KINDS)[number];

/** The clustering algorithms (in this order everywhere), each with its name on screen, what it needs and a line of help. */
export const CLUSTER_ALGO_INFO = {
  kmeans: { label: 'k-means', needsK: true, help: 'k-means: k round groups' },
  'minibatch-kmeans': { label: 'mini-batch k-means', needsK: true, help: 'mini-batch k-means: k-means in batches (large sets; streams Parquet row groups)' },
  hdbscan: { label: 'HDBSCAN', needsK: false, help: 'HDBSCAN: groups of any shape and number, the rest left over as noise' },
  dbscan: { label: 'DBSCAN', needsK: false, help: 'DBSCAN: groups of neighbours closer than a radius' },
  ward: { label: 'agglomerative (UMAP + Ward)', needsK: true, help: 'agglomerative (ward, average or complete linkage), cut at k groups or a distance' },
  dec: { label: 'DEC (deep embedded clustering)', needsK: true, help: 'DEC: an autoencoder refined for k groups' },
  gmm: { label: 'Gaussian mixture', needsK: false, help: 'Gaussian mixture (without k: k picked by BIC)' },
} as const satisfies Record<string, { label: string; needsK: boolean; help: string }>;
export type ClusterAlgo = keyof typeof CLUSTER_ALGO_INFO;
export const CLUSTER_ALGOS = Object.keys(CLUSTER_ALGO_INFO) as ClusterAlgo[];
/** The algorithms that take k (the k-means family, dec; ward takes k or a distance threshold). */
export const ALGOS_WITH_K = CLUSTER_ALGOS.filter((a) => CLUSTER_ALGO_INFO[a].needsK);

/** What a preset chooses from: the data (items, dimension, kind) and the model's identity threshold and impostor tail. */
export interface PresetData {
  n: number;
  d: number;
  kind: Kind;
  /** the model's identity threshold (cosine similarity at which two faces are the same person), when it has one */
  identity?: { similarity: number; far: number; set: string } | null;
  /** the impostor tail the people preset computes its linking similarity with (the model's, else a stand-in) */
  tail?: PeopleTail;
}
/** A model's standardized impostor tail (see algo/cluster/identity-scale.ts). */
export interface PeopleTail { a: number; b: number; set: string; loc?: number; scale?: number }
/** A preset's choice: the parameters, why, and (people) the tail to compute the linking similarity on the data with. */
export interface PresetPick { params: ClusterParams; why: string[]; tail?: PeopleTail }

/** The placeholder linking similarity of the people preset until the worker computes the library's own. */
export const PEOPLE_DEFAULT_FLOOR = 0.4;
const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Presets by purpose: each picks the algorithm and its parameters from the model and the data, and says why, with
 * the kinds of items it is for and a line of help (explicit parameters override its values: algo/cluster/presets.ts).
 * - people: faces, few or many photos per person. Average linkage on the kNN graph (algo/cluster/people-link.ts): two
 *   groups join only when the MEAN similarity of their cross pairs reaches the linking similarity, so a run of
 *   look-alike detections (drawn faces, an eye, a cheek) cannot chain into one huge person as single link does; a face
 *   seen once stays a person of one photo (noise). The linking similarity is the library's own (computed on the data
 *   in the worker from the model's impostor tail and the library's pair similarities, algo/cluster/identity-scale.ts),
 *   with the library's sure / maybe thresholds beside it. Exactly: `ward` with average linkage cut at a distance
 *   threshold, limited to the kNN graph.
 * - themes: whole photos, a few large groups. UMAP to 10 dimensions, then HDBSCAN (excess of mass) with a minimum
 *   group size that grows with the collection; noise joins its nearest theme when similar enough.
 * - objects: many small groups (object crops). HDBSCAN leaf selection (many fine clusters) with a small minimum
 *   size, on a UMAP reduction for large or high-dimensional sets; left-overs join a group at cosine >= 0.6.
 * - duplicates: near-identical items: single link at cosine similarity 0.95; lone items are left out (noise).
 * - overview: a first look at any set: k-means with k = sqrt(n / 2) (the rule of thumb), every item placed.
 */
export const CLUSTER_PRESET_INFO = {
  people: {
    kinds: ['face'], help: 'faces: one group per person, whether they have few photos or many (uses the face model\'s identity threshold)',
    choose: (c: PresetData): PresetPick => {
      const why: string[] = [];
      if (c.identity) why.push(`the model's identity threshold is cosine ${c.identity.similarity} (false-accept rate ${c.identity.far}, calibrated on ${c.identity.set})`);
      if (c.kind !== 'face') why.push('these are whole photos, not faces: people works best on the face model');
      why.push('average linkage on the 10-NN graph: two groups of faces join only when the mean similarity of all their cross pairs reaches the linking similarity, so look-alike detections do not chain into one person; a face seen once stays a person of one photo');
      if (c.tail) why.push(`the linking similarity and the sure / maybe thresholds are the library's own: from the impostor tail of ${c.tail.set} and this library's pair similarities, tightening as the library grows`);
      else why.push(`no impostor tail: linking similarity ${PEOPLE_DEFAULT_FLOOR}`);
      return { params: { algo: 'ward', linkage: 'average', metric: 'cosine', distanceThreshold: round4(1 - PEOPLE_DEFAULT_FLOOR) }, why, ...(c.tail ? { tail: c.tail } : {}) };
    },
  },
  themes: {
    kinds: ['photo'], help: 'whole photos: a few large groups of what the photos show',
    choose: (c: PresetData): PresetPick => {
      const mcs = clamp(Math.round(Math.sqrt(c.n) / 2), 5, 200);
      return {
        params: { algo: 'hdbscan', metric: 'cosine', reduce: 'umap:10', minClusterSize: mcs, minSamples: Math.min(5, mcs), selection: 'eom', attachNoise: 0.5 },
        why: [`whole photos in a few large groups: UMAP to 10 dimensions then HDBSCAN (excess of mass), min group size ${mcs} (half the square root of ${c.n} items, 5..200)`,
          'photos left over join their nearest theme at cosine >= 0.5 to its centre'],
      };
    },
  },
  objects: {
    kinds: ['photo'], help: 'many small groups: object crops, products, individual things',
    choose: (c: PresetData): PresetPick => {
      const mcs = clamp(Math.round(Math.log2(Math.max(2, c.n)) / 2), 3, 10);
      const reduce = c.n > 2000 || c.d > 256 ? 'umap:10' : undefined;
      return {
        params: { algo: 'hdbscan', metric: 'cosine', minClusterSize: mcs, minSamples: mcs, selection: 'leaf', attachNoise: 0.6, ...(reduce ? { reduce } : {}) },
        why: [`many small groups: HDBSCAN leaf selection (the finest stable clusters), min group size ${mcs} (grows with log2 of ${c.n} items, 3..10)`,
          reduce ? `UMAP to 10 dimensions first (${c.n} items of ${c.d} dimensions)` : `no reduction (${c.n} items of ${c.d} dimensions)`,
          'items left over join their nearest group at cosine >= 0.6 to its centre (stricter than themes: small groups are easily mixed)'],
      };
    },
  },
  duplicates: {
    kinds: ['photo', 'face'], help: 'near-identical copies: the same photo resized, re-encoded or lightly edited',
    choose: (): PresetPick => ({
      params: { algo: 'dbscan', metric: 'cosine', eps: 0.05, minSamples: 2 },
      why: ['near-identical items: single link at cosine similarity 0.95 (DBSCAN eps 0.05, min samples 2); items with no near copy are left out'],
    }),
  },
  overview: {
    kinds: ['photo', 'face'], help: 'a quick first look: about the square root of n/2 groups, every item in one (k-means)',
    choose: (c: PresetData): PresetPick => {
      const k = clamp(Math.round(Math.sqrt(c.n / 2)), 2, Math.min(200, c.n));
      return {
        params: { algo: 'kmeans', metric: 'cosine', k },
        why: [`a first look: k-means with k = ${k} (the rule of thumb k = sqrt(n / 2) for ${c.n} items, 2..200); every item is placed, none left over as noise`],
      };
    },
  },
} as const satisfies Record<string, { kinds: readonly Kind[]; help: string; choose: (c: PresetData) => PresetPick }>;
export type ClusterPreset = keyof typeof CLUSTER_PRESET_INFO;
export const CLUSTER_PRESETS = Object.keys(CLUSTER_PRESET_INFO) as ClusterPreset[];
/** The presets meant for items of this kind. */
export const presetsFor = (kind: Kind): ClusterPreset[] => CLUSTER_PRESETS.filter((p) => (CLUSTER_PRESET_INFO[p].kinds as readonly Kind[]).includes(kind));

export const HDBSCAN_SELECTIONS = ['eom', 'leaf'] as const;
export const LINKAGES = ['ward', 'average', 'complete'] as const;
export const COVARIANCES = ['full', 'diag'] as const;

/** One cluster parameter: its schema (the check at every door), its help, its CLI flag and its default. */
export interface ParamDef<S extends v.GenericSchema = v.GenericSchema> {
  schema: S;
  help: string;
  /**
   * the CLI flag (default: the field in kebab-case; '' for a group whose parts have flags of their own, as
   * postprocess); `negate`: a flag that sets the field false (--no-hold)
   */
  flag?: string;
  negate?: boolean;
  /** the flag's value on the CLI (default: from the schema: a boolean is a flag, a number a number, else a string) */
  cli?: 'flag' | 'string' | 'number';
  /** the value used when the parameter is not given (written here only; shown in the help) */
  default?: number | string | boolean | null;
}
type ParamMore = Omit<ParamDef, 'schema' | 'help'>;
const param = <S extends v.GenericSchema, const M extends ParamMore = Record<never, never>>(schema: S, help: string, more?: M): { schema: S; help: string } & M =>
  ({ schema, help, ...(more ?? {}) }) as { schema: S; help: string } & M;

/** The reductions grammar, for help and messages. */
const REDUCE_EXPECTED = 'umap:N, pca:N, ae, ae:32 or ae:512-256-32 (comma-separated) or none';

/** Post-processing of a run's groups (`params.postprocess.*`; flags of their own on the CLI). */
export const POSTPROCESS_PARAMS = {
  dedupeSources: param(v.boolean(), 'post-process: keep one item per source photo in each cluster', { default: false }),
  minSim: param(v.nullable(range(-1, 1)), 'post-process: members below this cosine to the centroid become noise (e.g. 0.7)', { default: null }),
  minSize: param(int(1), 'post-process: clusters smaller than this become noise'),
};

/** Every cluster parameter, in the order the CLI's help lists them. */
export const CLUSTER_PARAMS = {
  preset: param(picklist(CLUSTER_PRESETS), `${CLUSTER_PRESETS.join(' | ')}: the algorithm and parameters chosen from the model and the data (no --algo needed; explicit flags override)`),
  algo: param(picklist(CLUSTER_ALGOS), `${CLUSTER_ALGOS.join(' | ')} (optional with --preset; gmm without --k picks k by BIC)`),
  holdGroups: param(v.boolean(), 'library runs: do not hold the curated groups (by default each stays together under its name and only the rest is clustered)', { flag: 'no-hold', negate: true, default: true }),
  k: param(int(1), 'clusters (k-means family, ward)'),
  minClusterSize: param(int(2), 'HDBSCAN min_cluster_size', { default: 5 }),
  minSamples: param(int(1), 'HDBSCAN / DBSCAN min_samples (default: DBSCAN 5, HDBSCAN the min cluster size)', { default: 5 }),
  eps: param(v.pipe(num(), v.minValue(0)), 'DBSCAN radius (cosine distance 1 - cos); HDBSCAN cluster_selection_epsilon'),
  selection: param(picklist(HDBSCAN_SELECTIONS), `HDBSCAN cluster selection: ${HDBSCAN_SELECTIONS.join(' | ')}`, { default: 'eom' }),
  exact: param(v.boolean(), 'HDBSCAN / DBSCAN: the exact all-pairs path at any size (default: an approximate kNN graph above 30,000 rows; the run records which path ran)'),
  allowSingleCluster: param(v.boolean(), 'HDBSCAN allow_single_cluster'),
  attachNoise: param(range(-1, 1), 'HDBSCAN: noise joins its nearest cluster above this cosine to the centroid'),
  linkage: param(picklist(LINKAGES), `agglomerative linkage: ${LINKAGES.join(' | ')}`),
  distanceThreshold: param(v.pipe(num(), v.gtValue(0)), 'agglomerative: cut at this merge distance instead of --k'),
  reduce: param(v.union([v.literal(0), v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(100)),
    v.pipe(v.string(), v.regex(/^(none|(ae|(umap|pca|ae):[0-9-]+)(,(ae|(umap|pca|ae):[0-9-]+))*)$/))],
  'expected umap dimensions 0 (none) or 2..100, or a chain such as ae,umap:10 / ae:32,umap:10 / pca:50,umap:10'),
  'reductions chained left to right: umap:N, pca:N, ae (the literature\'s 500-500-2000-10: linear code, MSE), ae:32 or ae:512-256-32 (the tutorial\'s ReLU recipe; last = code size), e.g. ae,umap:10 (N2D, with --algo gmm); none. Ward defaults to umap:50; dec takes its autoencoder from a last ae step (default ae)', { cli: 'string' }),
  // autoencoder / DEC training
  epochs: param(int(1), 'autoencoder / DEC pretraining: exactly this many epochs (default: enough for --min-updates updates, early stopping on a held-out 10% loss)'),
  minUpdates: param(int(1), 'autoencoder / DEC pretraining: mini-batch updates at least when --epochs is not given', { default: 500 }),
  covariance: param(picklist(COVARIANCES), `gmm: ${COVARIANCES.join(' | ')}`, { default: 'full' }),
  aeBatchSize: param(int(1), 'autoencoder / DEC mini-batch size', { default: 256 }),
  patience: param(int(1), 'autoencoder early stopping: epochs without a held-out improvement (with --epochs only when given)', { default: 4 }),
  tol: param(v.pipe(num(), v.minValue(0), v.ltValue(1)), 'DEC: stop when fewer than this share of labels change', { default: 0.001 }),
  updateInterval: param(int(1), 'DEC: steps between target-distribution updates', { default: 140 }),
  maxIter: param(int(1), 'DEC: most refinement steps (default: 10 passes over the data; it also stops when the changed labels plateau)'),
  metric: param(picklist(METRICS), METRICS.join(' | '), { default: 'cosine' }),
  seed: param(int(0), 'random seed', { default: 0 }),
  nInit: param(int(1), 'k-means restarts'),
  batchSize: param(int(1), 'mini-batch size', { default: 1024 }),
  maxEpochs: param(int(1), 'mini-batch k-means streamed from Parquet: passes over the file at most (early stopping as sklearn)', { default: 10 }),
  postprocess: param(v.strictObject({
    dedupeSources: opt(POSTPROCESS_PARAMS.dedupeSources.schema), minSim: opt(POSTPROCESS_PARAMS.minSim.schema), minSize: opt(POSTPROCESS_PARAMS.minSize.schema),
  }), 'post-processing of the groups', { flag: '' }),
  samples: param(int(0), 'top and tail samples stored per cluster', { default: 10 }),
};
export type ClusterParamName = keyof typeof CLUSTER_PARAMS;

type DefaultsOf<T> = { readonly [K in keyof T as T[K] extends { default: unknown } ? K : never]: T[K] extends { default: infer D } ? D : never };
const defaultsOf = <T extends Record<string, ParamDef>>(t: T) =>
  Object.fromEntries(Object.entries(t).filter(([, d]) => d.default !== undefined).map(([k, d]) => [k, d.default])) as DefaultsOf<T>;
/** The defaults, by parameter (only those that have one): the one place each is written. */
export const CLUSTER_DEFAULTS = defaultsOf(CLUSTER_PARAMS);
export const POSTPROCESS_DEFAULTS = defaultsOf(POSTPROCESS_PARAMS);

type Entries<T extends Record<string, ParamDef>> = { [K in keyof T]: v.OptionalSchema<T[K]['schema'], undefined> };
function optionalEntries<T extends Record<string, ParamDef>>(t: T): Entries<T> {
  return Object.fromEntries(Object.entries(t).map(([k, d]) => [k, opt(d.schema)])) as Entries<T>;
}
const clusterEntries = optionalEntries(CLUSTER_PARAMS);

/** The parameters as an object type: what is inferred for ClusterRequest / ClusterParams. */
const clusterRequestShape = v.object(clusterEntries);
/** Clustering parameters as asked: with a preset the algorithm may be left out (the preset picks it). */
export type ClusterRequest = v.InferOutput<typeof clusterRequestShape>;
/** Parameters of a clustering run (see algo/cluster/run.ts for their meaning): the algorithm always chosen. */
export type ClusterParams = Omit<ClusterRequest, 'algo'> & { algo: ClusterAlgo };

const needsK = (p: ClusterRequest) => p.algo !== undefined && p.algo !== 'ward' && CLUSTER_ALGO_INFO[p.algo].needsK;

/**
 * What the chosen algorithm needs, written once: the door checks them as asked (a preset not yet planned needs
 * nothing: it picks the algorithm and its parameters), the run checks them again once planned (`planned`).
 */
type Namer = (field: string) => string;
const rule = (field: string, say: (name: Namer) => string, ok: (p: ClusterRequest, planned?: boolean) => boolean) => ({ field, say, message: say((f) => f), ok });
const RULES = {
  algo: rule('algo', (n) => (n('preset') === 'preset' ? `is required (or give a preset: ${CLUSTER_PRESETS.join(', ')})`
    : `is required: ${CLUSTER_ALGOS.slice(0, -1).join(', ')} or ${CLUSTER_ALGOS[CLUSTER_ALGOS.length - 1]} (or ${n('preset')} ${CLUSTER_PRESETS.join('|')})`), (p) => p.algo !== undefined || p.preset !== undefined),
  k: rule('k', () => 'is required for k-means and dec', (p, planned = false) => !(needsK(p) && p.k === undefined && (planned || !p.preset))),
  eps: rule('eps', () => 'is required for dbscan (cosine distance 1 - cos, e.g. 0.3)', (p, planned = false) => !(p.algo === 'dbscan' && p.eps === undefined && (planned || !p.preset))),
  epsZero: rule('eps', () => 'must be > 0', (p) => !(p.algo !== 'hdbscan' && p.eps === 0)),
  ward: rule('k', (n) => `ward needs ${n('k')} or ${n('distanceThreshold')}`, (p, planned = false) => !(p.algo === 'ward' && p.k === undefined && p.distanceThreshold === undefined && (planned || !p.preset))),
  wardEither: rule('distanceThreshold', (n) => `give either ${n('k')} or ${n('distanceThreshold')}, not both`, (p) => !(p.algo === 'ward' && p.k !== undefined && p.distanceThreshold !== undefined)),
};

/**
 * Clustering parameters, checked at submit time (ranges and what each algorithm needs), so a bad run is refused when
 * asked, never queued to fail in a worker. Loose object: engine-specific extra fields pass through to the algorithm's
 * own check (algo/cluster/run.ts), which also runs at submit time against the number of items.
 */
export const clusterParamsSchema = v.pipe(
  v.looseObject(clusterEntries),
  v.forward(v.check((p) => RULES.algo.ok(p), RULES.algo.message), ['algo']),
  v.forward(v.check((p) => RULES.k.ok(p), RULES.k.message), ['k']),
  v.forward(v.check((p) => RULES.eps.ok(p), RULES.eps.message), ['eps']),
  v.forward(v.check((p) => RULES.epsZero.ok(p), RULES.epsZero.message), ['eps']),
  v.forward(v.check((p) => RULES.ward.ok(p), RULES.ward.message), ['k']),
  v.forward(v.check((p) => RULES.wardEither.ok(p), RULES.wardEither.message), ['distanceThreshold']),
);

// ---- the CLI's view of the same parameters: flags, help, and the check at its door naming the flags ----

export interface CliFlag { type: 'flag' | 'string' | 'number'; help: string }
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const flagOf = (field: string, d: ParamDef) => d.flag ?? kebab(field);
function cliType(d: ParamDef): CliFlag['type'] {
  if (d.cli) return d.cli;
  const probe = (x: unknown) => v.is(d.schema, x);
  if (probe(true) || probe(false)) return 'flag';
  return probe(1) || probe(0.5) || probe(3) ? 'number' : 'string';
}
const withDefault = (d: ParamDef) => (d.default === undefined || d.default === null || typeof d.default === 'boolean' || /\(default/.test(d.help) ? d.help : `${d.help} (default ${d.default})`);
/** Where a flag's value goes: a field of the parameters, or of their post-processing. */
const FLAG_FIELDS: Array<{ flag: string; field: string; group: 'params' | 'postprocess'; def: ParamDef }> = [
  ...Object.entries(CLUSTER_PARAMS).filter(([, d]) => (d as ParamDef).flag !== '').map(([field, d]) => ({ flag: flagOf(field, d as ParamDef), field, group: 'params' as const, def: d as ParamDef })),
  ...Object.entries(POSTPROCESS_PARAMS).map(([field, d]) => ({ flag: flagOf(field, d as ParamDef), field, group: 'postprocess' as const, def: d as ParamDef })),
];

/** The CLI flags of the cluster parameters (name without `--`: type and help), in the contract's order. */
export function clusterCliFlags(): Record<string, CliFlag> {
  return Object.fromEntries(FLAG_FIELDS.map((f) => [f.flag, { type: cliType(f.def), help: withDefault(f.def) }]));
}

/** The parameters given on a command line (flag name without `--` to its parsed value), before any check. */
export function clusterParamsFromFlags(get: (flag: string) => unknown): ClusterRequest {
  const p: Record<string, unknown> = {};
  const pp: Record<string, unknown> = {};
  for (const f of FLAG_FIELDS) {
    const raw = get(f.flag);
    if (raw === undefined || raw === false) continue;
    const value = f.def.negate ? false : raw;
    (f.group === 'params' ? p : pp)[f.field] = value;
  }
  if (Object.keys(pp).length > 0) {
    // a post-processing asked for states each of its parts (the defaults where not given)
    for (const [field, d] of Object.entries(POSTPROCESS_PARAMS)) if (pp[field] === undefined && (d as ParamDef).default !== undefined) pp[field] = (d as ParamDef).default;
    p.postprocess = pp;
  }
  return p as ClusterRequest;
}

/**
 * The parameters checked against the contract: the parsed value, or a BAD_ARGUMENT naming the parameter as the
 * caller wrote it (`names: 'flag'`: `--min-cluster-size`; `'field'`: `minClusterSize`). `planned`: the preset is
 * resolved, so what the algorithm needs is required whatever the preset.
 */
export function checkClusterRequest(p: unknown, names: 'flag' | 'field', planned = false): ClusterRequest {
  // the reductions' grammar first: its message says what a chain looks like
  const reduce = (p as { reduce?: unknown } | null)?.reduce;
  if (typeof reduce === 'string' || typeof reduce === 'number') {
    try { parseReduce(reduce); } catch (e) { throw rename(e, names); }
  }
  const r = v.safeParse(clusterParamsSchema, p, { abortPipeEarly: true });
  const say = (x: (typeof RULES)[keyof typeof RULES]) => x.say((f) => nameOf([f], names));
  if (!r.success) {
    const issue = r.issues[0];
    const keys = (issue.path ?? []).map((k) => String(k.key));
    const broken = Object.values(RULES).find((x) => x.message === issue.message);
    throw badArg(nameOf(keys, names), broken ? say(broken) : names === 'flag' ? flagMessage(keys, issue) : issue.message);
  }
  const out = r.output as ClusterRequest;
  if (planned) for (const x of Object.values(RULES)) if (!x.ok(out, true)) throw badArg(nameOf([x.field], names), say(x));
  return out;
}

/** A bad choice on the command line, in the CLI's words: `expected eom or leaf, got tree` (the algorithm keeps the API's). */
function flagMessage(keys: string[], issue: v.BaseIssue<unknown>): string {
  const def = keys.length === 1 && keys[0] !== 'algo' ? (CLUSTER_PARAMS as Record<string, ParamDef>)[keys[0]] : undefined;
  const options = (def?.schema as { options?: readonly string[] } | undefined)?.options;
  if (issue.type !== 'picklist' || !options) return issue.message;
  const list = options.length <= 3 ? `${options.slice(0, -1).join(', ')} or ${options[options.length - 1]}` : `one of ${options.join(', ')}`;
  return `expected ${list}, got ${String(issue.input)}`;
}

function nameOf(keys: string[], names: 'flag' | 'field'): string {
  if (names === 'field') return keys.join('.') || 'params';
  const [head, sub] = keys;
  const f = FLAG_FIELDS.find((x) => (head === 'postprocess' ? x.group === 'postprocess' && x.field === sub : x.group === 'params' && x.field === head));
  return f ? `--${f.flag}` : `--${kebab(keys.join('.'))}`;
}

function rename(e: unknown, names: 'flag' | 'field'): unknown {
  const msg = (e as Error).message;
  const m = /^([a-zA-Z-]+): (.*)$/s.exec(msg);
  if (!m || !(m[1] in CLUSTER_PARAMS)) return e;
  return badArg(nameOf([m[1]], names), m[2]);
}

// ---- the reductions grammar (the `reduce` parameter) ----

/** The literature's architecture for deep clustering (Xie et al. 2016; McConville et al. 2020): d-500-500-2000-10. */
export const DEFAULT_HIDDEN: readonly number[] = [500, 500, 2000, 10];
export type AeStep = { method: 'ae'; hidden: number[]; recipe?: 'literature' };
export type ReduceStep = { method: 'umap'; dims: number } | { method: 'pca'; dims: number } | AeStep;

/** `umap:N`, `pca:N`, `ae` (500-500-2000-10), `ae:32` or `ae:512-256-32`, comma-separated; `none` / `0` / '' is no reduction; a number is umap:N. */
export function parseReduce(x: number | string | undefined | null): ReduceStep[] | undefined {
  if (x === undefined || x === null) return undefined;
  if (typeof x === 'number') {
    if (!Number.isInteger(x) || x < 0 || (x > 0 && (x < 2 || x > 100))) throw badArg('reduce', `umap dimensions must be 2..100, got ${x}`);
    return x === 0 ? [] : [{ method: 'umap', dims: x }];
  }
  const s = x.trim();
  if (s === '' || s === 'none' || s === '0') return [];
  return s.split(',').map((part) => {
    if (part.trim() === 'ae') return { method: 'ae', hidden: [...DEFAULT_HIDDEN], recipe: 'literature' };
    const g = /^(umap|pca|ae):(\d+(?:-\d+)*)$/.exec(part.trim());
    if (!g) throw badArg('reduce', `expected ${REDUCE_EXPECTED}, got ${JSON.stringify(part)}`);
    const nums = g[2].split('-').map(Number);
    if (g[1] === 'ae') {
      if (nums.some((h) => h < 1 || h > 65536)) throw badArg('reduce', `autoencoder layer sizes must be 1..65536, got ${g[2]}`);
      return { method: 'ae', hidden: nums };
    }
    if (nums.length !== 1) throw badArg('reduce', `${g[1]} takes one dimension, got ${g[2]}`);
    const dims = nums[0];
    if (g[1] === 'umap' && (dims < 2 || dims > 100)) throw badArg('reduce', `umap dimensions must be 2..100, got ${dims}`);
    if (g[1] === 'pca' && dims < 1) throw badArg('reduce', `pca dimensions must be >= 1, got ${dims}`);
    return g[1] === 'umap' ? { method: 'umap', dims } : { method: 'pca', dims };
  });
}

export function formatReduce(steps: ReduceStep[]): string {
  return steps.length === 0 ? 'none' : steps.map((s) => (s.method === 'ae' ? (s.recipe === 'literature' ? 'ae' : `ae:${s.hidden.join('-')}`) : `${s.method}:${s.dims}`)).join(',');
}
