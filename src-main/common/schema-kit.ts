/**
 * The building blocks of the contract's valibot schemas (common/schemas.ts, common/cluster-contract.ts) and the enums
 * more than one schema uses. The project's wording for a bad parameter is `expected WHAT, got VALUE`.
 * Pure: no Node, no Electron.
 */
import * as v from 'valibot';

/** `expected WHAT, got VALUE`: the project's wording for a bad parameter */
export const m = (what: string) => (issue: v.BaseIssue<unknown>) => `expected ${what}, got ${issue.received}`;
export const num = () => v.pipe(v.number(m('a number')), v.finite(m('a finite number')));
export const int = (min = 0) => v.pipe(v.number(m(`an integer >= ${min}`)), v.integer(m(`an integer >= ${min}`)), v.minValue(min, m(`an integer >= ${min}`)));
export const id = () => int(1);
export const text = () => v.pipe(v.string(m('a non-empty string')), v.minLength(1, m('a non-empty string')));
export const range = (lo: number, hi: number) => v.pipe(num(), v.minValue(lo, m(`a number in [${lo}, ${hi}]`)), v.maxValue(hi, m(`a number in [${lo}, ${hi}]`)));
export const opt = v.optional;
export const picklist = <const T extends readonly string[]>(xs: T) => v.picklist(xs, m(`one of ${xs.join(', ')}`));

/** What an item is: a photo or a face. */
export const ITEM_KINDS = ['photo', 'face'] as const;
export const itemKindSchema = picklist(ITEM_KINDS);
/** Distances of clustering and maps. */
export const METRICS = ['cosine', 'euclidean'] as const;

// ---- the contract's other enums, each spelled here once (the clustering ones: common/cluster-contract.ts) ----

/** Export formats of a run. */
export const EXPORT_FORMATS = ['folders', 'csv', 'json', 'html', 'parquet'] as const;
/** How a folders export puts each file: a copy, a hard link or a symbolic link. */
export const LINK_MODES = ['copy', 'hardlink', 'symlink'] as const;
/** What a face run's folders export holds per person: the face crops, or the original photos. */
export const FACE_EXPORTS = ['crops', 'photos'] as const;
/** 2-D map methods. */
export const MAP_METHODS = ['umap', 'tsne', 'pca'] as const;
/** t-SNE repulsion: exact, Barnes-Hut, FIt-SNE interpolation, or chosen by a cost model. */
export const TSNE_METHODS = ['exact', 'bh', 'fft', 'auto'] as const;
/** Parameter sweeps: elbow (inertia over k), silhouette over k, DBSCAN eps. */
export const SWEEP_KINDS = ['elbow', 'silhouette', 'dbscan'] as const;
/** A job's states. */
export const JOB_STATES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const;
/** The fields a map can be coloured by. */
export const MAP_FIELDS = ['cluster', 'folder', 'label', 'curated', 'score', 'date'] as const;
/** The orders of the people list. */
export const PEOPLE_SORTS = ['name', 'size', 'recent'] as const;
/** Columnar files of embeddings: Parquet or Arrow IPC. */
export const COLUMNAR_FORMATS = ['parquet', 'arrow'] as const;
/** Where a suggestion stands: above the library's sure threshold, or between its maybe and sure thresholds. */
export const SUGGESTION_ZONES = ['sure', 'maybe'] as const;
/** How a labels file was read. */
export const LABEL_MODES = ['csv', 'json', 'folders', 'parquet'] as const;
/** What an export plan does with each file: a link mode, a face crop, or a file written. */
export const EXPORT_ACTIONS = [...LINK_MODES, 'crop', 'write'] as const;
/** A photo's state in the library: its file is there, or gone. */
export const PHOTO_STATUSES = ['ok', 'missing'] as const;
/** How "more like these" combines a selection: the normalized mean of its vectors, or each item's best similarity to any. */
export const SIMILAR_COMBINES = ['mean', 'max'] as const;
/** Where a sweep's silhouette is scored: the raw embeddings, or their UMAP reduction. */
export const SCORE_SPACES = ['raw', 'umap'] as const;
/** What ranks a DBSCAN sweep's settings. */
export const SWEEP_SCORES = ['silhouette', 'dbcv'] as const;
/** What a sweep's `score` is: inertia (elbow), a ranking score, or the AMI against known labels. */
export const SWEEP_SCORE_NAMES = ['inertia', ...SWEEP_SCORES, 'ami'] as const;
/** The scores a map can be coloured by: a member's similarity to its cluster centroid, or the face detector's score. */
export const MAP_SCORES = ['similarity', 'detection'] as const;
/** How a cluster is split in k parts (or by density). */
export const SPLIT_ALGOS = ['kmeans', 'hdbscan'] as const;
/** How a split preview made its parts: a split algorithm, or a brushed selection against the rest. */
export const SPLIT_PREVIEW_ALGOS = [...SPLIT_ALGOS, 'selection'] as const;
/** Where a model comes from. */
export const MODEL_SOURCES = ['builtin', 'manifest', 'imported'] as const;
/** What `assign` places items into: named or curated groups only (the run has some), or every cluster. */
export const ASSIGN_TARGETS = ['groups', 'clusters'] as const;
/** Where a suggested face is now: unknown in the run, embedded after it, or a low-confidence member of another cluster. */
export const SUGGESTION_SOURCES = ['noise', 'new', 'member'] as const;
/** The order of a cluster's members: most similar to the centroid first, or least. */
export const MEMBER_ORDERS = ['desc', 'asc'] as const;
