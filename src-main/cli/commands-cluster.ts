/** The cluster command: library mode (a model's embeddings, stored as a run) and matrix mode (a .npy, no library). */
import { resolve } from 'node:path';
import type { ClusterOutput } from '../algo/cluster/run.ts';
import { encoderBytesOf, writeEncoderOnnx } from '../core/models/encoder-onnx.ts';
import { checkWriteTarget, writeFileSafeSync } from '../core/safe-write.ts';
import { AppError, badArg } from '../common/errors.ts';
import { CLUSTER_ALGOS, CLUSTER_PRESETS, checkClusterRequest, clusterCliFlags, clusterParamsFromFlags, type ClusterParams } from '../common/cluster-contract.ts';
import { clusterMatrix, peopleWhy, summarize, type ClusterReport } from '../core/cluster/cluster-job.ts';
import { readNpyLabels, readNpyMatrixShared, writeNpy } from '../core/npy-file.ts';
import type { OptionSpec } from './args.ts';
import { planCluster } from '../core/cluster/plan.ts';
import type { CliContext } from './context.ts';
import type { Command } from './command.ts';
import { columnarMatrixMode, isColumnar } from './commands-interop.ts';
import { readColumnarMatrixShared } from '../core/interop/columnar-matrix.ts';

/** The cluster command's options: its own, and every cluster parameter's flag and help from the contract. */
export const CLUSTER_OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'embeddings in the library to cluster (photo, face, or an imported name)' },
  embeddings: { type: 'string', help: 'matrix mode: cluster the rows of this .npy, .parquet / folder of parts / .arrow (minibatch-kmeans streams row groups; the others read them into shared memory batch by batch; no library)' },
  'vector-column': { type: 'string', help: 'matrix mode from Parquet/Arrow: the list-of-float32 column (default embedding)' },
  out: { type: 'string', help: 'matrix mode: write int32 labels (-1 = noise) to this .npy' },
  ...clusterCliFlags(),
  'save-encoder': { type: 'string', help: 'write the trained encoder (ae / pca head, or DEC) as an ONNX model to this file' },
  labels: { type: 'string', help: 'true labels for the metrics: folders | imported | FILE (library); y.npy (matrix mode)' },
};

/** The cluster parameters given as flags, checked at the door by the contract (a bad one is named by its flag). */
export function paramsFrom(ctx: CliContext): ClusterParams {
  return checkClusterRequest(clusterParamsFromFlags((flag) => ctx.opt(flag)), 'flag') as ClusterParams;
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
  // the service's planner: a preset means the same here as in a library run (a matrix has no model: no identity threshold)
  const plan = planCluster(params, { n: M.rows, d: M.cols, kind: 'photo', identity: null });
  params = plan.params;
  const preset = plan.preset;
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
    usage: `constellate cluster --model NAME --preset ${CLUSTER_PRESETS.join('|')} | --algo ${CLUSTER_ALGOS.join('|')} [params] [--labels folders|FILE] [--library F] [--json]\n` +
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
