/** The map command: a 2-D map of a model's embeddings (stored), or of a .npy matrix written as an N x 2 .npy. */
import { resolve } from 'node:path';
import type { MapOutput } from '../algo/map/run.ts';
import { AppError, badArg } from '../common/errors.ts';
import type { MapParams } from '../common/types.ts';
import { MAP_METHODS, METRICS, TSNE_METHODS } from '../common/schema-kit.ts';
import { readNpyLabels, readNpyMatrix, writeNpy } from '../core/npy-file.ts';
import { runTask, toShared } from '../core/workers/pool.ts';
import type { MapTaskPayload } from '../core/map/map-task.ts';
import type { CliContext } from './context.ts';
import type { Command } from './command.ts';

function paramsFrom(ctx: CliContext): MapParams {
  const method = ctx.opt<string>('method');
  if (!method) throw badArg('--method', `is required: ${MAP_METHODS.join(', ')}`);
  if (!(MAP_METHODS as readonly string[]).includes(method)) throw badArg('--method', `expected ${MAP_METHODS.join(', ')}, got ${method}`);
  const metric = ctx.opt<string>('metric');
  if (metric !== undefined && !(METRICS as readonly string[]).includes(metric)) throw badArg('--metric', `expected ${METRICS.join(' or ')}, got ${metric}`);
  const p: MapParams = {
    method: method as MapParams['method'], seed: ctx.opt<number>('seed') ?? 0, metric: metric as MapParams['metric'],
    nNeighbors: ctx.opt<number>('neighbors') ?? ctx.opt<number>('n-neighbors'), minDist: ctx.opt<number>('min-dist'), perplexity: ctx.opt<number>('perplexity'),
    tsneMethod: ctx.opt<string>('tsne-method') as MapParams['tsneMethod'],
  };
  for (const k of Object.keys(p) as Array<keyof MapParams>) if (p[k] === undefined) delete p[k];
  if (ctx.opt('neighbors') !== undefined && ctx.opt('n-neighbors') !== undefined) throw badArg('--neighbors', 'give --neighbors or --n-neighbors (the same setting), not both');
  if (p.nNeighbors !== undefined && (!Number.isInteger(p.nNeighbors) || p.nNeighbors < 2)) throw badArg(ctx.opt('neighbors') !== undefined ? '--neighbors' : '--n-neighbors', `expected an integer >= 2, got ${p.nNeighbors}`);
  if (p.minDist !== undefined && !(p.minDist >= 0)) throw badArg('--min-dist', `expected a number >= 0, got ${p.minDist}`);
  if (p.perplexity !== undefined && !(p.perplexity > 0)) throw badArg('--perplexity', `expected a number > 0, got ${p.perplexity}`);
  if (p.tsneMethod !== undefined && !TSNE_METHODS.includes(p.tsneMethod)) throw badArg('--tsne-method', `expected ${TSNE_METHODS.join(', ')}, got ${p.tsneMethod}`);
  if (p.tsneMethod !== undefined && p.method !== 'tsne') throw badArg('--tsne-method', `is for --method tsne, got --method ${p.method}`);
  return p;
}

const map: Command = {
  spec: {
    name: 'map', summary: 'compute a 2-D map (UMAP, t-SNE or PCA) of a model\'s embeddings or of a .npy matrix', positionals: [0, 0],
    usage: `constellate map --model NAME --method ${MAP_METHODS.join('|')} [--neighbors N] [--min-dist D] [--perplexity P] [--seed S] [--library F] [--json]\n` +
      `       constellate map --embeddings X.npy --method ${MAP_METHODS.join('|')} [--seed N] --out xy.npy [--labels y.npy] --json`,
    options: {
      model: { type: 'string', help: 'embeddings in the library' },
      embeddings: { type: 'string', help: 'matrix mode: map the rows of this .npy' },
      out: { type: 'string', help: 'matrix mode: write the N x 2 float32 map here' },
      labels: { type: 'string', help: 'matrix mode: y.npy to report 10-NN label agreement (and trustworthiness)' },
      method: { type: 'string', help: MAP_METHODS.join(' | ') },
      seed: { type: 'number', help: 'random seed (default 0): same seed, same map' },
      metric: { type: 'string', help: 'cosine (default) | euclidean' },
      neighbors: { type: 'number', help: 'UMAP n_neighbors (default 15)' },
      'n-neighbors': { type: 'number', help: 'the same as --neighbors' },
      'min-dist': { type: 'number', help: 'UMAP min_dist (default 0.1)' },
      perplexity: { type: 'number', help: 't-SNE perplexity (default 30)' },
      'tsne-method': { type: 'string', help: 't-SNE repulsion: auto (default: bh below 5,000 points, then per iteration the cheaper of fft and bh) | bh (Barnes-Hut) | fft (FIt-SNE interpolation) | exact (all pairs)' },
      quality: { type: 'flag', help: 'matrix mode: also compute trustworthiness@10' },
    },
  },
  async run(ctx: CliContext) {
    const params = paramsFrom(ctx);
    if (ctx.opt('embeddings')) {
      const file = resolve(ctx.opt<string>('embeddings')!);
      const out = ctx.opt<string>('out');
      if (!out) throw badArg('--out', 'is required in matrix mode (an N x 2 .npy to write)');
      const M = readNpyMatrix(file);
      const labels = ctx.opt<string>('labels') ? readNpyLabels(resolve(ctx.opt<string>('labels')!)) : null;
      if (labels && labels.length !== M.rows) throw badArg('--labels', `${labels.length} labels for ${M.rows} rows`);
      const X = toShared(M.data);
      const c = new AbortController();
      const stop = () => c.abort();
      process.once('SIGINT', stop);
      let r: MapOutput;
      try {
        r = await runTask('map', { X, n: M.rows, d: M.cols, params, labels, quality: !!ctx.opt('quality') || !!labels } satisfies MapTaskPayload,
          { signal: c.signal, onProgress: ctx.progress() });
      } finally { process.off('SIGINT', stop); }
      writeNpy(resolve(out), r.xy, [M.rows, 2]);
      const res = { embeddings: file, n: M.rows, d: M.cols, method: params.method, params, seconds: r.seconds, out: resolve(out), quality: r.quality,
        trustworthiness: r.quality?.trustworthiness ?? null, knnAgreement: r.quality?.knnAgreement ?? null };
      ctx.out(res, `${params.method} map of ${M.rows} x ${M.cols} in ${r.seconds.toFixed(1)} s written to ${out}` +
        (r.quality ? ` (trustworthiness@10 ${r.quality.trustworthiness.toFixed(3)}${r.quality.knnAgreement !== null ? `, 10-NN label agreement ${r.quality.knnAgreement.toFixed(3)}` : ''})` : ''));
      return;
    }
    const model = ctx.opt<string>('model');
    if (!model) throw badArg('--model', 'is required (or --embeddings X.npy for matrix mode)');
    if (ctx.opt('out')) throw badArg('--out', 'is for matrix mode (--embeddings)');
    const svc = ctx.api();
    const job = await ctx.runJob(() => svc.computeMap({ model, params }));
    const r = ctx.result(job);
    ctx.out({ mapId: r.id, model, method: params.method, params, setting: r.setting, settingKey: r.settingKey, n: r.n, seconds: r.seconds },
      `map ${r.id}: ${params.method} of ${r.n} ${model} embeddings in ${r.seconds.toFixed(1)} s (${r.settingKey})`);
  },
};

const maps: Command = {
  spec: {
    name: 'maps', summary: 'list the stored maps with their settings (one per model and setting)', positionals: [0, 0],
    usage: 'constellate maps [--model NAME] [--library F] [--json]',
    options: { model: { type: 'string', help: 'only the maps of this model' } },
  },
  async run(ctx: CliContext) {
    const model = ctx.opt<string>('model');
    const list = await ctx.api({ readFallback: true }).listMaps(model === undefined ? {} : { model });
    const rows = list.map((m) => ({ mapId: m.id, model: m.model, method: m.method, setting: m.setting, settingKey: m.settingKey, n: m.n, createdAt: m.createdAt }));
    ctx.out({ maps: rows }, rows.length ? rows.map((m) => `${m.mapId}\t${m.model}\t${m.n}\t${m.settingKey}`).join('\n') : 'no maps');
  },
};

export const mapCommands: Command[] = [map, maps];
