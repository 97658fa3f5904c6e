/**
 * Interchange with other tools and engines: exports of runs, labels and XMP sidecars in and out, embedding files
 * (Parquet/Arrow), runs clustered elsewhere and job bundles for distributed engines.
 */
import type { JobInfo } from '../../common/jobs.ts';
import { resolve } from 'node:path';
import type { ExportRunOptions, ImportLabelsOptions, ImportLabelsReport, ExportXmpReport, ImportXmpReport, RunRef } from '../../common/api.ts';
import { AppError, badArg } from '../../common/errors.ts';

import { importEmbeddings } from '../embed/io.ts';
import { getRun } from '../store/runs.ts';
import { checkExportOptions, exportRun } from '../export/export.ts';
import { checkTargetDry } from '../export/target.ts';
import { importLabels } from '../export/import-labels.ts';
import { exportXmp, readXmp } from '../xmp/sidecars.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { history } from '../curation/edits.ts';
import { getModel } from '../store/embeddings.ts';
import { existsSync as fileExists, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { userPath } from '../user-path.ts';
import { exportEmbeddingsFile, exportJob } from '../interop/export.ts';
import { importEmbeddingsFile, importRun } from '../interop/import.ts';
import type { ApiArgs, ExportEmbeddingsFileReport, ImportEmbeddingsFileOptions, ImportRunOptions } from '../../common/api.ts';
import { DomainService } from './context.ts';

export class InterchangeService extends DomainService {
  async exportRun(options: ExportRunOptions): Promise<JobInfo<'export'>> {
    const o = checkExportOptions({ ...options, to: userPath('to', String(options?.to ?? '')) });
    getRun(this.lib.db, o.runId);
    checkTargetDry(o.to); // a target under a file fails here, before a job starts
    // a UI asks before a folder is created (the CLI creates it, as its help says)
    if (options.createMissing === false && !o.dryRun && !fileExists(o.to)) throw new AppError('CONFLICT', `${o.to} does not exist: export would create it`);
    const spec = { runId: o.runId, to: o.to, format: o.format, link: o.link, ...(o.faces ? { faces: o.faces } : {}), dryRun: !!o.dryRun, curatedOnly: !!o.curatedOnly, includeNoise: !!o.includeNoise };
    return this.jobs.start('export', spec, (ctx) => exportRun(this.lib, spec, ctx));
  }

  async checkExportTarget({ to }: { to: string }): Promise<{ to: string; exists: boolean }> {
    const abs = userPath('to', String(to ?? ''));
    checkTargetDry(abs);
    return { to: abs, exists: fileExists(abs) };
  }

  async importLabels(options: { source: string } & ImportLabelsOptions): Promise<ImportLabelsReport> {
    const source = options.source;
    if (options.runId !== undefined) getRun(this.lib.db, options.runId);
    const r = await importLabels(this.lib, userPath('source', source), { seed: options.seed !== false, runId: options.runId });
    this.emit({ type: 'library', info: this.lib.info() });
    if (r.runId && r.editId) {
      const h = history(this.lib.db, r.runId);
      const e = h.edits.find((x) => x.id === r.editId);
      const clusters = e?.op.type === 'names' ? e.op.clusters.map((c) => c.cluster) : [];
      this.emit({ type: 'run', runId: r.runId, change: { action: 'import', editId: r.editId, description: e?.description ?? 'import labels', clusters } });
    }
    return r;
  }

  async exportXmp({ runId }: RunRef): Promise<ExportXmpReport> {
    return await exportXmp(this.lib, runId);
  }

  async importXmp(options: ImportLabelsOptions = {}): Promise<ImportXmpReport> {
    const r = await readXmp(this.lib);
    const report: ImportXmpReport = { sidecars: r.sidecars, regions: r.regions, matched: r.matched, unmatched: r.unmatched, failures: r.failures, labels: null };
    if (r.entries.length === 0) return report;
    // the matched regions go through import-labels as JSON rows with the library's own face boxes: one way in for labels
    const dir = mkdtempSync(joinPath(tmpdir(), 'constellate-xmp-'));
    try {
      const file = joinPath(dir, 'xmp-labels.json');
      writeFileSync(file, JSON.stringify(r.entries));
      report.labels = await this.importLabels({ ...options, source: file });
      report.labels.source = 'xmp';
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return report;
  }

  async importEmbeddingsFile(o: ImportEmbeddingsFileOptions): Promise<JobInfo<'importEmbeddings'>> {
    const spec: ImportEmbeddingsFileOptions = { file: resolve(o.file), model: o.model, idColumn: o.idColumn, vectorColumn: o.vectorColumn };
    for (const k of ['idColumn', 'vectorColumn'] as const) if (spec[k] === undefined) delete spec[k];
    return this.jobs.start('importEmbeddings', spec, async (ctx) => {
      const r = await importEmbeddingsFile(this.lib, spec, ctx);
      this.emit({ type: 'library', info: this.lib.info() });
      return r;
    });
  }

  async exportEmbeddingsFile(o: ApiArgs<'exportEmbeddingsFile'>): Promise<ExportEmbeddingsFileReport> {
    return exportEmbeddingsFile(this.lib, o.model, o.out, o.format, o.force === true);
  }

  async importRun(o: ImportRunOptions): Promise<JobInfo<'importRun'>> {
    getModel(this.lib.db, o.model); // refused when asked: the embeddings the run is over
    const spec: ImportRunOptions = { file: resolve(o.file), model: o.model, idColumn: o.idColumn, clusterColumn: o.clusterColumn };
    for (const k of ['idColumn', 'clusterColumn'] as const) if (spec[k] === undefined) delete spec[k];
    return this.jobs.start('importRun', spec, (ctx) => importRun(this.lib, spec, ctx));
  }

  async exportJob(o: { model: string; to: string; partitionRows?: number }): Promise<JobInfo<'exportJob'>> {
    if (o.model !== 'photo' && o.model !== 'face') throw badArg('model', `export-job runs the built-in models photo or face (got ${JSON.stringify(o.model)})`);
    const spec = { model: o.model, to: resolve(o.to), ...(o.partitionRows !== undefined ? { partitionRows: o.partitionRows } : {}) };
    return this.jobs.start('exportJob', spec, (ctx) => exportJob(this.lib, spec, ctx));
  }
}
