/**
 * The argument schemas that have a name in the contract: the TypeScript types of these options (api.ts, types.ts) are
 * inferred from them, so each shape is written once, here. common/schemas.ts uses them in API_SCHEMAS.
 * Pure: no Node, no Electron.
 */
import * as v from 'valibot';
import {
  EXPORT_FORMATS, FACE_EXPORTS, LINK_MODES, MAP_FIELDS, MAP_METHODS, METRICS, PEOPLE_SORTS, SWEEP_KINDS, TSNE_METHODS, PHOTO_STATUSES, SIMILAR_COMBINES, SCORE_SPACES, SWEEP_SCORES, MAP_SCORES, SPLIT_ALGOS, id, int, itemKindSchema, m, num, opt, picklist, range, text,
} from './schema-kit.ts';

export const page = { offset: opt(int(0)), limit: opt(int(1)) };
export const clusterRef = () => int(0);

/** One item of the library wherever it travels: a photo or a face (their ids are separate: photo 7 is not face 7). */
export const itemRefSchema = v.strictObject({ kind: itemKindSchema, id: id() });

export const mapParamsSchema = v.strictObject({
  method: picklist(MAP_METHODS),
  seed: opt(int(0)),
  metric: opt(picklist(METRICS)),
  nNeighbors: opt(int(2)),
  minDist: opt(v.pipe(num(), v.minValue(0))),
  perplexity: opt(v.pipe(num(), v.gtValue(0))),
  nEpochs: opt(int(1)),
  /** t-SNE repulsion: exact (all pairs), bh (Barnes-Hut), fft (FIt-SNE interpolation), auto (default; Barnes-Hut below 5,000 points; from there, per iteration, the cheaper of fft and bh by a cost model of n and the map's extent) */
  tsneMethod: opt(picklist(TSNE_METHODS)),
});

export const photoQuerySchema = v.strictObject({ ...page, rootId: opt(id()), status: opt(picklist(PHOTO_STATUSES)) });

export const embedOptionsSchema = v.strictObject({
  model: text(), batch: opt(int(1)), workers: opt(int(1)), minFaceSize: opt(v.pipe(num(), v.minValue(0))),
  scoreThreshold: opt(v.pipe(num(), v.gtValue(0), v.ltValue(1))),
  /** face quality floor (feature norm; default 2.2, 0 keeps every detection) */
  minFaceQuality: opt(v.pipe(num(), v.minValue(0))),
});

export const exportRunOptionsSchema = v.strictObject({
  runId: id(), to: text(), format: picklist(EXPORT_FORMATS),
  /** create a missing target folder (default true, as the CLI does); false: refuse with CONFLICT naming it, so a UI can ask first */
  createMissing: opt(v.boolean()),
  /** folders only (default copy); ignored by other formats */
  link: opt(picklist(LINK_MODES)),
  /**
   * folders of a face run: each face as a crop (default, a new file), or the original photos of each person (each
   * photo once per person, copied or linked by `link`); ignored for photo runs and other formats
   */
  faces: opt(picklist(FACE_EXPORTS)),
  dryRun: opt(v.boolean()), curatedOnly: opt(v.boolean()), includeNoise: opt(v.boolean()),
});

export const similarOptionsSchema = v.pipe(
  v.strictObject({
    model: text(), item: opt(itemRefSchema), items: opt(v.pipe(v.array(itemRefSchema), v.minLength(1, 'give at least one item'), v.maxLength(10_000))),
    k: opt(v.pipe(int(1), v.maxValue(10_000))), combine: opt(picklist(SIMILAR_COMBINES)), runId: opt(id()),
  }),
  v.forward(v.check((q) => (q.item === undefined) !== (q.items === undefined), 'give either item or items (a selection)'), ['item']),
);

export const sweepOptionsSchema = v.strictObject({
  model: text(), kind: picklist(SWEEP_KINDS),
  values: v.pipe(v.array(num()), v.minLength(1, 'give 1..100 parameter values'), v.maxLength(100, 'give 1..100 parameter values')),
  minSamples: opt(int(1)), minClusters: opt(int(1)), maxNoiseShare: opt(range(0, 1)),
  /** score the silhouette in a UMAP reduction (default) or in the raw embeddings */
  space: opt(picklist(SCORE_SPACES)),
  /**
   * what ranks a DBSCAN sweep's settings: 'dbcv' (default; density-based cluster validation, Moulavi et al. 2014,
   * which tracks label agreement for density methods) or 'silhouette'. k-means sweeps use the silhouette.
   */
  score: opt(picklist(SWEEP_SCORES)),
  /**
   * known labels to rank by ('folders', 'imported' or a labels file, as for cluster): every kind is then scored by the
   * AMI against them (ARI beside it) and the best is the one that agrees most; items without a label are left out
   */
  labels: opt(v.nullable(text())),
});

export const mapFieldOptionsSchema = v.strictObject({
  mapId: id(), field: picklist(MAP_FIELDS),
  /** cluster, curated and score 'similarity' are of a run */
  runId: opt(id()),
  /** label: the labels' source (default 'import') */
  labelSource: opt(text()),
  /** score: 'similarity' (a member's cosine to its cluster centroid in the run) or 'detection' (the face detector's score) */
  score: opt(picklist(MAP_SCORES)),
  /** score and date: number of bins (default 8) */
  bins: opt(v.pipe(int(1), v.maxValue(64))),
});

export const searchOptionsSchema = v.strictObject({
  kind: itemKindSchema,
  /** with `group`: the run whose group names are searched (and the views carry their cluster in it) */
  runId: opt(id()), group: opt(text()), folder: opt(text()), fileName: opt(text()),
  /** dates (YYYY-MM-DD, inclusive, or ISO times) of the photo: EXIF date taken, else the file's modification time */
  from: opt(text()), to: opt(text()),
  /** words to search for (CLIP text search): the photos nearest to them, best first; the other fields narrow them */
  text: opt(text()),
  /** text search: the photo model whose text encoder ranks (default: the first one with a text encoder) */
  model: opt(text()),
  /** views returned (default 200, at most 5000); `ids` has every match */
  limit: opt(v.pipe(int(1), v.maxValue(5000))),
});

export const importEmbeddingsFileOptionsSchema = v.strictObject({ file: text(), model: text(), idColumn: opt(text()), vectorColumn: opt(text()) });
export const importRunOptionsSchema = v.strictObject({ file: text(), model: text(), idColumn: opt(text()), clusterColumn: opt(text()) });

export const peopleQuerySchema = v.strictObject({ runId: id(), search: opt(v.pipe(v.string(), v.maxLength(200))), sort: opt(picklist(PEOPLE_SORTS)), includeHidden: opt(v.boolean()) });

/** A queue's default margin over the second-best group (learning may raise it for a run: `learn`'s offerMargin). */
export const DEFAULT_QUEUE_MARGIN = 0.05;

export const suggestionQuerySchema = v.strictObject({
  runId: id(), cluster: clusterRef(),
  /** suggestions returned (default 50, at most 1000) */
  limit: opt(v.pipe(int(1), v.maxValue(1000))),
  /** at least this similarity (default: the model's identity threshold; never lower) */
  threshold: opt(range(-1, 1)),
  /** over the second-best person (default DEFAULT_QUEUE_MARGIN, or the run's learned offer margin) */
  margin: opt(range(0, 2)),
});

export const importLabelsOptionsSchema = v.strictObject({
  /** name (and mark curated when unanimous) the run's groups after the labels (default true) */
  seed: opt(v.boolean()),
  /** the run whose groups are named, as one undoable edit (default: the newest run of a kind that got labels) */
  runId: opt(id()),
});

export const items = () => v.pipe(v.array(id()), v.minLength(1));
const nint0 = () => v.pipe(v.number(), v.integer());
export const splitPartsSchema = () => v.pipe(
  v.array(v.strictObject({ items: v.pipe(v.array(id()), v.minLength(1, 'a part has at least one item')), name: opt(v.pipe(v.string(), v.maxLength(200, m('at most 200 characters')))) })),
  v.minLength(1, 'give at least one part'), v.maxLength(1000));
/** One edit of a labeling session (EditOp, types.ts, is its type). */
export const editOpSchema = v.variant('type', [
  v.strictObject({ type: v.literal('rename'), cluster: clusterRef(), name: v.string() }),
  v.strictObject({ type: v.literal('accept'), cluster: clusterRef(), curated: opt(v.boolean()) }),
  v.strictObject({ type: v.literal('merge'), clusters: v.pipe(v.array(clusterRef()), v.minLength(2)), into: opt(clusterRef()) }),
  v.strictObject({ type: v.literal('split'), cluster: clusterRef(), k: opt(int(2)), algo: opt(picklist(SPLIT_ALGOS)) }),
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
  // the undecided items re-clustered in the model's learned metric (refused without one): noise and members of unnamed
  // groups go to the named group a queue would offer them to (threshold, margin: the queue's), the rest of the unnamed
  // groups are regrouped there; no item the user decided moves
  v.strictObject({
    type: v.literal('recluster'),
    threshold: opt(v.pipe(num(), v.minValue(-1, m('a similarity in [-1, 1]')), v.maxValue(1, m('a similarity in [-1, 1]')))),
    margin: opt(v.pipe(num(), v.minValue(0, m('a margin in [0, 2]')), v.maxValue(2, m('a margin in [0, 2]')))),
  }),
  // written by `assign` (listed so a run's history, which holds them, checks)
  v.strictObject({ type: v.literal('assign'), items: v.array(nint0()), to: v.array(v.pipe(v.number(), v.integer())) }),
]);
