/** The cluster command: library mode (a model's embeddings, stored as a run) and matrix mode (a .npy, no library). */
import { resolve } from 'node:path';
import type { ClusterOutput } from '../algo/cluster/run.ts';
import { parseReduce } from '../algo/cluster/reduce.ts';
import { encoderBytesOf, writeEncoderOnnx } from '../core/models/encoder-onnx.ts';
import { checkWriteTarget, writeFileSafeSync } from '../core/safe-write.ts';
import { AppError, badArg } from '../common/errors.ts';
import type { ClusterParams } from '../common/types.ts';
import { clusterMatrix, peopleWhy, summarize, type ClusterReport } from '../core/cluster/cluster-job.ts';
import { DEFAULT_TAIL } from '../core/models/identity.ts';
import { readNpyLabels, readNpyMatrixShared, writeNpy } from '../core/npy-file.ts';
import type { OptionSpec } from './args.ts';
import { PRESETS, applyPreset, resolvePreset } from '../algo/cluster/presets.ts';
import type { PresetRecord } from '../common/jobs.ts';
import type { CliContext } from './context.ts';
import type { Command } from './command.ts';
import { columnarMatrixMode, isColumnar } from './commands-interop.ts';
import { readColumnarMatrixShared } from '../core/interop/columnar-matrix.ts';

export const CLUSTER_OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'embeddings in the library to cluster (photo, face, or an imported name)' },
  embeddings: { type: 'string', help: 'matrix mode: cluster the rows of this .npy, .parquet / folder of parts / .arrow (minibatch-kmeans streams row groups; the others read them into shared memory batch by batch; no library)' },
  'vector-column': { type: 'string', help: 'matrix mode from Parquet/Arrow: the list-of-float32 column (default embedding)' },
  out: { type: 'string', help: 'matrix mode: write int32 labels (-1 = noise) to this .npy' },
  preset: { type: 'string', help: 'people | themes | objects | duplicates: the algorithm and parameters chosen from the model and the data (no --algo needed; explicit flags override)' },
  algo: { type: 'string', help: 'kmeans | minibatch-kmeans | hdbscan | dbscan | ward | dec | gmm (optional with --preset; gmm without --k picks k by BIC)' },
  'no-hold': { type: 'flag', help: 'library runs: do not hold the curated groups (by default each stays together under its name and only the rest is clustered)' },
  k: { type: 'number', help: 'clusters (k-means family, ward)' },
  'min-cluster-size': { type: 'number', help: 'HDBSCAN min_cluster_size (default 5)' },
  'min-samples': { type: 'number', help: 'HDBSCAN / DBSCAN min_samples' },
  eps: { type: 'number', help: 'DBSCAN radius (cosine distance 1 - cos); HDBSCAN cluster_selection_epsilon' },
  selection: { type: 'string', help: 'HDBSCAN cluster selection: eom | leaf' },
  exact: { type: 'flag', help: 'HDBSCAN / DBSCAN: the exact all-pairs path at any size (default: an approximate kNN graph above 30,000 rows; the run records which path ran)' },
  'allow-single-cluster': { type: 'flag', help: 'HDBSCAN allow_single_cluster' },
  'attach-noise': { type: 'number', help: 'HDBSCAN: noise joins its nearest cluster above this cosine to the centroid' },
  linkage: { type: 'string', help: 'agglomerative linkage: ward | average | complete' },
  'distance-threshold': { type: 'number', help: 'agglomerative: cut at this merge distance instead of --k' },
  reduce: { type: 'string', help: 'reductions chained left to right: umap:N, pca:N, ae (the literature\'s 500-500-2000-10: linear code, MSE), ae:32 or ae:512-256-32 (the tutorial\'s ReLU recipe; last = code size), e.g. ae,umap:10 (N2D, with --algo gmm); none. Ward defaults to umap:50; dec takes its autoencoder from a last ae step (default ae)' },
  epochs: { type: 'number', help: 'autoencoder / DEC pretraining: exactly this many epochs (default: enough for --min-updates updates, early stopping on a held-out 10% loss)' },
  'min-updates': { type: 'number', help: 'autoencoder / DEC pretraining: mini-batch updates at least when --epochs is not given (default 500)' },
  covariance: { type: 'string', help: 'gmm: full (default) | diag' },
  'ae-batch-size': { type: 'number', help: 'autoencoder / DEC mini-batch size (default 256)' },
  patience: { type: 'number', help: 'autoencoder early stopping: epochs without a held-out improvement (default 4; with --epochs only when given)' },
  tol: { type: 'number', help: 'DEC: stop when fewer than this share of labels change (default 0.001)' },
  'update-interval': { type: 'number', help: 'DEC: steps between target-distribution updates (default 140)' },
  'max-iter': { type: 'number', help: 'DEC: most refinement steps (default: 10 passes over the data; it also stops when the changed labels plateau)' },
  'save-encoder': { type: 'string', help: 'write the trained encoder (ae / pca head, or DEC) as an ONNX model to this file' },
  metric: { type: 'string', help: 'cosine (default) | euclidean' },
  seed: { type: 'number', help: 'random seed (default 0)' },
  'n-init': { type: 'number', help: 'k-means restarts' },
  'batch-size': { type: 'number', help: 'mini-batch size (default 1024)' },
  'max-epochs': { type: 'number', help: 'mini-batch k-means streamed from Parquet: passes over the file at most (default 10; early stopping as sklearn)' },
  labels: { type: 'string', help: 'true labels for the metrics: folders | imported | FILE (library); y.npy (matrix mode)' },
  'dedupe-sources': { type: 'flag', help: 'post-process: keep one item per source photo in each cluster' },
  'min-sim': { type: 'number', help: 'post-process: members below this cosine to the centroid become noise (e.g. 0.7)' },
  'min-size': { type: 'number', help: 'post-process: clusters smaller than this become noise' },
  samples: { type: 'number', help: 'top and tail samples stored per cluster (default 10)' },
};

export function paramsFrom(ctx: CliContext): ClusterParams {
  const algo = ctx.opt<string>('algo');
  const preset = ctx.opt<string>('preset');
  if (preset !== undefined && !(PRESETS as readonly string[]).includes(preset)) throw badArg('--preset', `expected one of ${PRESETS.join(', ')}, got ${preset}`);
  if (!algo && !preset) throw badArg('--algo', 'is required: kmeans, minibatch-kmeans, hdbscan, dbscan, ward, dec or gmm (or --preset people|themes|objects|duplicates)');
  const reduceOpt = ctx.opt<string>('reduce');
  let reduce: string | undefined;
  if (reduceOpt !== undefined) {
    try { parseReduce(String(reduceOpt)); } catch (e) { throw badArg('--reduce', (e as Error).message.replace(/^reduce: /, '')); }
    reduce = String(reduceOpt);
  }
  const selection = ctx.opt<string>('selection');
  if (selection !== undefined && selection !== 'eom' && selection !== 'leaf') throw badArg('--selection', `expected eom or leaf, got ${selection}`);
  const metric = ctx.opt<string>('metric');
  if (metric !== undefined && metric !== 'cosine' && metric !== 'euclidean') throw badArg('--metric', `expected cosine or euclidean, got ${metric}`);
  const linkage = ctx.opt<string>('linkage');
  if (linkage !== undefined && !['ward', 'average', 'complete'].includes(linkage)) throw badArg('--linkage', `expected ward, average or complete, got ${linkage}`);
  const covariance = ctx.opt<string>('covariance');
  if (covariance !== undefined && covariance !== 'full' && covariance !== 'diag') throw badArg('--covariance', `expected full or diag, got ${covariance}`);
  const pp = { dedupeSources: !!ctx.opt('dedupe-sources'), minSim: ctx.opt<number>('min-sim') ?? null, minSize: ctx.opt<number>('min-size') };
  const p: ClusterParams = {
    algo: algo as ClusterParams['algo'], metric: metric as ClusterParams['metric'], seed: ctx.opt<number>('seed'), k: ctx.opt<number>('k'),
    nInit: ctx.opt<number>('n-init'), batchSize: ctx.opt<number>('batch-size'), minClusterSize: ctx.opt<number>('min-cluster-size'),
    minSamples: ctx.opt<number>('min-samples'), eps: ctx.opt<number>('eps'), selection: selection as ClusterParams['selection'],
    allowSingleCluster: ctx.opt<boolean>('allow-single-cluster') || undefined, attachNoise: ctx.opt<number>('attach-noise'),
    linkage: linkage as ClusterParams['linkage'], distanceThreshold: ctx.opt<number>('distance-threshold'), reduce,
    samples: ctx.opt<number>('samples'), epochs: ctx.opt<number>('epochs'), aeBatchSize: ctx.opt<number>('ae-batch-size'),
    patience: ctx.opt<number>('patience'), tol: ctx.opt<number>('tol'), updateInterval: ctx.opt<number>('update-interval'),
    maxIter: ctx.opt<number>('max-iter'), minUpdates: ctx.opt<number>('min-updates'), covariance: covariance as ClusterParams['covariance'], preset: preset as ClusterParams['preset'], holdGroups: ctx.opt('no-hold') ? false : undefined, exact: ctx.opt('exact') ? true : undefined, maxEpochs: ctx.opt<number>('max-epochs'),
    postprocess: pp.dedupeSources || pp.minSim !== null || pp.minSize !== undefined ? pp : undefined,
  };
  for (const k of Object.keys(p) as Array<keyof ClusterParams>) if (p[k] === undefined) delete p[k];
  return p;
}

const seconds = (t: Record<string, number>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v) / 1000]));

function humanSummary(head: string, m: Record<string, unknown>, top: Array<{ cluster: number; size: number }>): string {
  const f = (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : '-');
  const lines = [head,
    `clusters ${m.clusters}, noise ${m.noise} (${(Number(m.noiseShare) * 100).toFixed(1)}%), silhouette ${f(m.silhouette)}, Davies-Bouldin ${f(m.daviesBouldin)}`];
  if (m.ami !== undefined) lines.push(`AMI ${f(m.ami)}  ARI ${f(m.ari)}  NMI ${f(m.nmi)}  homogeneity ${f(m.homogeneity)}  completeness ${f(m.completeness)}  BCubed F ${f(m.bcubedF)}`);
  lines.push(`largest clusters: ${top.map((c) => `${c.cluster}:${c.size}`).join(' ')}`);
  return lines.join('\n');
}

/** --save-encoder FILE: the trained encoder as ONNX (input "x" [N, d] -> output "code"). */
function saveEncoder(ctx: CliContext, encoder: ClusterOutput['encoder'] | null): string | null {
  const file = ctx.opt<string>('save-encoder');
  if (!file) return null;
  if (!encoder) throw badArg('--save-encoder', 'this run trained no encoder (use --reduce ae:..., pca:... or --algo dec)');
  const path = resolve(file);
  writeEncoderOnnx(path, encoder);
  return path;
}

async function matrixMode(ctx: CliContext, params: ClusterParams): Promise<void> {
  const file = resolve(ctx.opt<string>('embeddings')!);
  if (ctx.opt('model')) throw badArg('--model', 'not used with --embeddings (matrix mode needs no library)');
  // mini-batch k-means streams Parquet / Arrow row groups; every other path reads them into shared memory batch by batch
  if (isColumnar(file) && (params.algo === 'minibatch-kmeans' || !params.algo)) return columnarMatrixMode(ctx, params, file);
  // streamed into shared memory: the matrix is in memory once (no whole-file read, no second copy)
  const M = isColumnar(file) ? await readColumnarMatrixShared(file, ctx.opt<string>('vector-column') ?? 'embedding') : readNpyMatrixShared(file);
  const labelsOpt = ctx.opt<string>('labels');
  const labelsTrue = labelsOpt ? readNpyLabels(resolve(labelsOpt)) : null;
  if (labelsTrue && labelsTrue.length !== M.rows) throw badArg('--labels', `${labelsTrue.length} labels for ${M.rows} rows of ${file}`);
  const X = M.data;
  let preset: PresetRecord | undefined;
  if (params.preset) {
    const choice = resolvePreset(params.preset, { n: M.rows, d: M.cols, kind: 'photo', identity: null }, DEFAULT_TAIL);
    const applied = applyPreset(choice, params);
    params = applied.params;
    const linked = choice.tail !== undefined && applied.params.distanceThreshold === choice.params.distanceThreshold && params.algo === choice.params.algo && params.linkage === 'average';
    preset = { name: choice.preset, chose: choice.params, why: choice.why, overridden: applied.overridden, ...(linked ? { tail: choice.tail } : {}) };
  }
  const report = ctx.progress();
  const c = new AbortController();
  const stop = () => c.abort();
  process.once('SIGINT', stop);
  const t0 = performance.now();
  let out: Awaited<ReturnType<typeof clusterMatrix>>;
  try {
    out = await clusterMatrix(X, M.rows, M.cols, params, labelsTrue, { signal: c.signal, onProgress: report, zones: preset?.tail ? { tail: preset.tail, people: true } : null });
  } finally {
    process.off('SIGINT', stop);
  }
  const wall = performance.now() - t0;
  if (preset) {
    const link = out.peopleLink;
    if (link) {
      const { distanceThreshold, ...l } = link;
      params = { ...params, distanceThreshold }; preset.chose = { ...preset.chose, distanceThreshold }; preset.link = l; preset.why.push(peopleWhy(link));
    }
    out.record.preset = preset;
  }
  const outPath = ctx.opt<string>('out');
  if (outPath) writeNpy(resolve(outPath), out.labels, [M.rows]);
  const s = summarize(out);
  const encoderPath = saveEncoder(ctx, out.encoder ?? null);
  const result = {
    ...out.metrics, loss: out.loss ?? null, encoder: encoderPath, embeddings: file, n: M.rows, d: M.cols, algo: params.algo, params, clusters: out.metrics.clusters, noise: out.metrics.noise,
    noiseShare: out.metrics.noiseShare, timings: seconds({ ...out.timings, wall }), metrics: out.metrics,
    record: out.record, ...s, report: out.report, out: outPath ? resolve(outPath) : null,
    // the process's peak resident memory so far (main thread and workers), MiB
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  ctx.out(result, humanSummary(`${params.algo} on ${M.rows} x ${M.cols} in ${(wall / 1000).toFixed(1)} s` + (outPath ? `; labels written to ${outPath}` : ''), out.metrics as never, s.top10));
}

const cluster: Command = {
  spec: {
    name: 'cluster', summary: 'cluster a model\'s embeddings (stored as a run), or a .npy matrix', positionals: [0, 0],
    usage: 'constellate cluster --model NAME --preset people|themes|objects|duplicates | --algo kmeans|minibatch-kmeans|hdbscan|dbscan|ward [params] [--labels folders|FILE] [--library F] [--json]\n' +
      '       constellate cluster --embeddings X.npy [--labels y.npy] --algo ... --out labels.npy --json',
    options: CLUSTER_OPTIONS,
  },
  async run(ctx) {
    const params = paramsFrom(ctx);
    if (ctx.opt('embeddings')) return matrixMode(ctx, params);
    if (ctx.opt('out')) throw badArg('--out', 'is for matrix mode (--embeddings); library runs are stored in the library');
    const model = ctx.opt<string>('model');
    if (!model) throw badArg('--model', 'is required (or --embeddings X.npy for matrix mode)');
    // --save-encoder is checked before the run (never a library, a folder or under /proc) and written by the one writer
    if (ctx.opt('save-encoder')) checkWriteTarget(resolve(ctx.opt<string>('save-encoder')!), { what: 'save-encoder' });
    const svc = ctx.api();
    const job = await ctx.runJob(() => svc.cluster({ model, params, labels: ctx.opt<string>('labels') ?? null }));
    const r = ctx.result(job);
    let encoder: string | null = null;
    if (ctx.opt('save-encoder')) {
      encoder = resolve(ctx.opt<string>('save-encoder')!);
      writeFileSafeSync(encoder, encoderBytesOf(r.record, r.runId), { what: 'save-encoder' });
    }
    // the encoder's weights stay in the library; the JSON names its shape
    const { base64: _b, ...encoderInfo } = (r.record.encoder ?? {}) as Record<string, unknown>;
    const record = r.record.encoder ? { ...r.record, encoder: encoderInfo } : r.record;
    const out = {
      ...r.metrics, loss: (r.record.loss as number[] | undefined) ?? null, encoder, runId: r.runId, model: r.model, kind: r.kind, algo: r.algo, params: r.params, n: r.n, clusters: r.clusters, noise: r.noise,
      noiseShare: (r.metrics as { noiseShare: number }).noiseShare, timings: seconds(r.timings), metrics: r.metrics,
      record, top10: r.top10, tail10: r.tail10,
    };
    ctx.out(out, humanSummary(`run ${r.runId}: ${r.algo} on ${r.n} ${r.kind} embeddings (${r.model})`, r.metrics, r.top10));
  },
};

export const clusterCommands: Command[] = [cluster];
