/**
 * Interchange with other engines: Parquet / Arrow in and out of embeddings, runs clustered elsewhere, job
 * bundles for a distributed engine (Dask) and their per-partition embedder, and clustering streamed from Parquet.
 *
 *   import-embeddings FILE.parquet|FILE.arrow|DIR|X.npy --model NAME [--id-column id] [--vector-column embedding] [--ids ids.csv]
 *   export-embeddings --model NAME --out FILE [--format parquet|arrow|npy] [--ids ids.csv] [--force]
 *   import-run FILE.parquet --model NAME [--id-column C] [--cluster-column C]           -> {runId, items, clusters, unmatched}
 *   export-job --model photo|face --to DIR [--partition-rows N]                          -> {dir, items, partitions}
 *   embed-files --manifest ITEMS.parquet --rows A:B --out PART.parquet                    -> {rows, out}   (no library)
 */
import { resolve } from 'node:path';
import { writeNpy, readNpyLabels } from '../core/npy-file.ts';
import { AppError, badArg } from '../common/errors.ts';
import type { ClusterParams } from '../common/types.ts';
import { formatOf } from '../core/interop/columnar.ts';
import { embedFiles } from '../core/interop/embed-files.ts';
import { runTask } from '../core/workers/pool.ts';
import type { CliContext } from './context.ts';
import type { Command } from './command.ts';
import { COLUMNAR_FORMATS } from '../common/schema-kit.ts';

/** What `export-embeddings` writes: a columnar file, or .npy + ids. */
const EMBEDDING_FILE_FORMATS = [...COLUMNAR_FORMATS, 'npy'] as const;
type EmbeddingFileFormat = (typeof EMBEDDING_FILE_FORMATS)[number];

const importEmb: Command = {
  spec: {
    name: 'import-embeddings', summary: 'import a model\'s embeddings: Parquet (a file or a folder of parts), Arrow, or .npy + ids file', positionals: [1, 1],
    usage: 'constellate import-embeddings FILE.parquet|FILE.arrow|DIR --model NAME [--id-column id] [--vector-column embedding] [--library F] [--json]\n' +
      '       constellate import-embeddings X.npy --ids ids.csv --model NAME [--library F] [--json]',
    options: {
      model: { type: 'string', help: 'name to store the embeddings under' },
      'id-column': { type: 'string', help: 'Parquet/Arrow: the column naming each row\'s item (default id: photo:N / face:N / N; else path [+ box], else sha256)' },
      'vector-column': { type: 'string', help: 'Parquet/Arrow: the list-of-float32 column (default embedding)' },
      ids: { type: 'string', help: '.npy only: CSV (path[,x,y,w,h]) or JSON lines ({"path","box"}) with one row per matrix row' },
    },
  },
  async run(ctx) {
    const file = ctx.parsed.positionals[0];
    const model = ctx.opt<string>('model');
    if (!model) throw badArg('--model', 'is required');
    const fmt = formatOf(resolve(file));
    if (fmt === 'npy') {
      const ids = ctx.opt<string>('ids');
      if (!ids) throw badArg('--ids', 'is required for a .npy matrix');
      if (ctx.opt('id-column') || ctx.opt('vector-column')) throw badArg('--id-column', 'only applies to Parquet/Arrow files');
      const r = await ctx.api().importEmbeddings({ npy: file, ids, model });
      ctx.out(r, `${r.imported} of ${r.rows} rows imported as ${r.model} (${r.kind}, ${r.dim}-d)` + (r.unmatched ? `; ${r.unmatched} paths are not photos of this library` : ''));
      return;
    }
    if (ctx.opt('ids')) throw badArg('--ids', 'only applies to .npy matrices (Parquet/Arrow name items in a column: --id-column)');
    const svc = ctx.api();
    const job = await ctx.runJob(() => svc.importEmbeddingsFile({ file, model, idColumn: ctx.opt<string>('id-column'), vectorColumn: ctx.opt<string>('vector-column') }));
    const r = ctx.result(job);
    ctx.out(r, `${r.imported} of ${r.rows} rows imported as ${r.model} (${r.kind}, ${r.dim}-d) from ${r.files} ${r.format} file${r.files === 1 ? '' : 's'}` +
      (r.unmatched ? `; ${r.unmatched} rows are not items of this library` : '') + (r.facesCreated ? `; ${r.facesCreated} faces created` : ''));
  },
};

const exportEmb: Command = {
  spec: {
    name: 'export-embeddings', summary: 'write a model\'s embeddings as Parquet, Arrow or .npy + ids CSV', positionals: [0, 0],
    usage: `constellate export-embeddings --model NAME --out FILE [--format ${EMBEDDING_FILE_FORMATS.join('|')}] [--ids ids.csv] [--force] [--library F] [--json]`,
    options: {
      model: { type: 'string', help: 'model name' },
      out: { type: 'string', help: 'the file to write (.parquet, .arrow or .npy)' },
      format: { type: 'string', help: `${EMBEDDING_FILE_FORMATS.join(' | ')} (default: by the --out extension, else npy)` },
      ids: { type: 'string', help: 'npy: the ids CSV to write (default: next to --out, .ids.csv)' },
      force: { type: 'flag', help: 'replace existing output files (never the library\'s own files)' },
    },
  },
  async run(ctx) {
    const model = ctx.opt<string>('model');
    const out = ctx.opt<string>('out');
    if (!model) throw badArg('--model', 'is required');
    if (!out) throw badArg('--out', 'is required');
    const given = ctx.opt<string>('format');
    if (given !== undefined && !EMBEDDING_FILE_FORMATS.includes(given as EmbeddingFileFormat)) throw badArg('--format', `expected ${COLUMNAR_FORMATS.join(', ')} or npy, got ${JSON.stringify(given)}`);
    const byExt = formatOf(out);
    const format = (given ?? (byExt === 'parquet' || byExt === 'arrow' ? byExt : 'npy')) as EmbeddingFileFormat;
    if (format === 'npy') {
      const r = await ctx.api().exportEmbeddings({ model, out, ids: ctx.opt<string>('ids'), force: !!ctx.opt('force') });
      ctx.out({ ...r, format: 'npy' }, `${r.rows} x ${r.dim} embeddings of ${r.model} written to ${r.out} (ids: ${r.ids})`);
      return;
    }
    if (ctx.opt('ids')) throw badArg('--ids', `only applies to --format npy (${format} keeps the ids in the file)`);
    const r = await ctx.api().exportEmbeddingsFile({ model, out, format, force: !!ctx.opt('force') });
    ctx.out(r, `${r.rows} x ${r.dim} embeddings of ${r.model} written to ${r.out} (${r.format}: id, path, sha256, box, embedding)`);
  },
};

const importRunCmd: Command = {
  spec: {
    name: 'import-run', summary: 'store a run clustered elsewhere (item id or path, cluster label, optional probability) with metrics computed here', positionals: [1, 1],
    usage: 'constellate import-run FILE.parquet|FILE.arrow|DIR --model NAME [--id-column C] [--cluster-column C] [--library F] [--json]',
    options: {
      model: { type: 'string', help: 'the embeddings the run is over (centroids, samples and metrics are computed on them)' },
      'id-column': { type: 'string', help: 'the column naming each row\'s item (default id / item, else path [+ box], else sha256)' },
      'cluster-column': { type: 'string', help: 'the cluster label column (default cluster, else label; -1 = noise; strings are numbered)' },
    },
  },
  async run(ctx) {
    const model = ctx.opt<string>('model');
    if (!model) throw badArg('--model', 'is required');
    const svc = ctx.api();
    const job = await ctx.runJob(() => svc.importRun({ file: ctx.parsed.positionals[0], model, idColumn: ctx.opt<string>('id-column'), clusterColumn: ctx.opt<string>('cluster-column') }));
    const r = ctx.result(job);
    ctx.out(r, `run ${r.runId}: ${r.items} ${r.kind}s of ${r.model} in ${r.clusters} clusters (${r.noise} noise) imported from ${r.source}` +
      (r.unmatched ? `; ${r.unmatched} rows unmatched (first: ${r.unmatchedIds[0]})` : '') + (r.carried ? `; ${r.carried} names/curated groups carried over` : ''));
  },
};

const exportJobCmd: Command = {
  spec: {
    name: 'export-job', summary: 'write a job bundle (items.parquet, model files, Dask driver) for an existing distributed engine', positionals: [0, 0],
    usage: 'constellate export-job --model photo|face --to DIR [--partition-rows N] [--library F] [--json]\n' +
      '       then: /usr/bin/python3 DIR/run_dask.py [--workers N] [--scheduler ADDRESS]; constellate import-embeddings DIR/out --model NAME',
    options: {
      model: { type: 'string', help: 'photo or face (faces: the ones detected in this library, with their boxes and landmarks)' },
      to: { type: 'string', help: 'an empty (or new) folder for the bundle' },
      'partition-rows': { type: 'number', help: 'rows per partition (default 500 photos, 400 faces)' },
    },
  },
  async run(ctx) {
    const model = ctx.opt<string>('model');
    const to = ctx.opt<string>('to');
    if (!model) throw badArg('--model', 'is required (photo or face)');
    if (!to) throw badArg('--to', 'is required (the bundle folder)');
    const svc = ctx.api();
    const job = await ctx.runJob(() => svc.exportJob({ model, to, partitionRows: ctx.opt<number>('partition-rows') }));
    const r = ctx.result(job);
    ctx.out(r, `job bundle for ${r.items} ${r.kind}s in ${r.partitions} partitions written to ${r.dir}\n` +
      `  run:    /usr/bin/python3 ${r.driver} [--workers N] [--scheduler ADDRESS]\n  import: constellate import-embeddings ${r.dir}/out --model ${r.model}-dask`);
  },
};

const embedFilesCmd: Command = {
  spec: {
    name: 'embed-files', summary: 'embed rows [A, B) of a job bundle\'s items.parquet into PART.parquet (no library, no lock)', positionals: [0, 0],
    usage: 'constellate embed-files --manifest ITEMS.parquet --rows A:B --out PART.parquet [--threads N] [--batch N] [--json]',
    options: {
      manifest: { type: 'string', help: 'the bundle\'s items.parquet (its model files are in model/ next to it)' },
      rows: { type: 'string', help: 'the half-open row range A:B' },
      out: { type: 'string', help: 'the Parquet part to write (id, embedding), atomically' },
      threads: { type: 'number', help: 'ONNX intra-op threads (default 1: the engine runs one task per core)' },
      batch: { type: 'number', help: 'photos per inference batch (default 8)' },
    },
  },
  async run(ctx) {
    const manifest = ctx.opt<string>('manifest'), rows = ctx.opt<string>('rows'), out = ctx.opt<string>('out');
    if (!manifest) throw badArg('--manifest', 'is required (a job bundle\'s items.parquet)');
    if (rows === undefined) throw badArg('--rows', 'is required (A:B)');
    if (!out) throw badArg('--out', 'is required (PART.parquet)');
    if (ctx.opt('library')) throw badArg('--library', 'embed-files uses no library');
    const c = new AbortController();
    const stop = () => c.abort();
    process.once('SIGINT', stop); process.once('SIGTERM', stop);
    try {
      const r = await embedFiles({ manifest, rows: String(rows), out, threads: ctx.opt<number>('threads'), batch: ctx.opt<number>('batch') }, ctx.progress(), c.signal);
      ctx.out({ ...r, rows: r.embedded, range: r.rows }, `rows ${r.rows[0]}:${r.rows[1]} of ${manifest}: ${r.embedded} embedded, ${r.failed} failed -> ${r.out}` +
        r.failures.slice(0, 5).map((f) => `\n  failed: ${f.path}: ${f.reason}`).join(''));
    } finally {
      process.off('SIGINT', stop); process.off('SIGTERM', stop);
    }
  },
};

/**
 * `cluster --embeddings X.parquet|DIR`: mini-batch k-means streams the row groups (memory: one row group plus the
 * centres); other algorithms read the matrix into memory first.
 */
export async function columnarMatrixMode(ctx: CliContext, params: ClusterParams, file: string): Promise<void> {
  const vcol = ctx.opt<string>('vector-column') ?? 'embedding';
  if (params.algo !== 'minibatch-kmeans') {
    throw badArg('--algo', `clustering from Parquet/Arrow streams with minibatch-kmeans only (got ${params.algo}); export a .npy for the other algorithms`);
  }
  if (params.reduce !== undefined && params.reduce !== 'none') throw badArg('--reduce', 'not available when streaming from Parquet');
  const labelsOpt = ctx.opt<string>('labels');
  const report = ctx.progress();
  const c = new AbortController();
  const stop = () => c.abort();
  process.once('SIGINT', stop);
  const t0 = performance.now();
  let r;
  try {
    r = await runTask('streamKmeans', { path: file, vectorColumn: vcol, params }, { signal: c.signal, onProgress: report });
  } finally {
    process.off('SIGINT', stop);
  }
  const wall = performance.now() - t0;
  let external: Record<string, number> = {};
  if (labelsOpt) {
    const y = readNpyLabels(resolve(labelsOpt));
    if (y.length !== r.n) throw badArg('--labels', `${y.length} labels for ${r.n} rows of ${file}`);
    const { externalScores } = await import('../algo/metrics.ts');
    const e = externalScores(y, r.labels);
    external = { ami: e.ami, ari: e.ari, nmi: e.nmi, homogeneity: e.homogeneity, completeness: e.completeness, vMeasure: e.vMeasure };
  }
  const outPath = ctx.opt<string>('out');
  if (outPath) writeNpy(resolve(outPath), r.labels, [r.n]);
  const metrics = { ...r.metrics, daviesBouldin: null, ...external };
  const result = {
    ...metrics, embeddings: file, n: r.n, d: r.d, algo: params.algo, params, clusters: r.metrics.clusters, noise: r.metrics.noise, noiseShare: r.metrics.noiseShare,
    timings: { wall: Math.round(wall) / 1000 }, metrics, record: { inertia: r.inertia, steps: r.steps, epochs: r.epochs, streamed: true, rowGroups: r.parts, rowGroupsRead: r.partsRead },
    top10: r.top10, tail10: r.tail10, out: outPath ? resolve(outPath) : null,
  };
  ctx.out(result, `minibatch-kmeans streamed from ${file}: ${r.n} x ${r.d} in ${(wall / 1000).toFixed(1)} s (${r.steps} steps, ${r.parts} row groups)` +
    `; clusters ${r.metrics.clusters}, silhouette (sample of ${r.metrics.silhouetteSample}) ${r.metrics.silhouette?.toFixed(3) ?? '-'}` + (outPath ? `; labels written to ${outPath}` : ''));
}

export function isColumnar(file: string): boolean {
  const f = formatOf(file);
  return f === 'parquet' || f === 'arrow';
}

void AppError;
export const interopCommands: Command[] = [importEmb, exportEmb, importRunCmd, exportJobCmd, embedFilesCmd];
