/**
 * CoreService: the AppApi implemented on a Library. Every transport (IPC, HTTP/WebSocket, direct calls) wraps one of
 * these; it validates its arguments itself, so no transport needs to.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { AppApi, CatalogItem, ClusterOptions, ExportRunOptions, ImportLabelsOptions, ImportLabelsReport, ExportXmpReport, ImportXmpReport, EmbedOptions, ExportEmbeddingsReport, ImportEmbeddingsReport, NoOptions, PageQuery, PhotoQuery, RunRef, SweepOptions, DeleteRunReport, CompareReport, SearchOptions, SearchResult, MapField, MapFieldOptions, NearDuplicateGroup, SimilarOptions } from '../common/api.ts';
import { AppError, badArg, fromPayload, type ErrorPayload } from '../common/errors.ts';
import type { RetryReport } from '../common/jobs.ts';
import type { CheckReport, ItemRef, RemoveFolderReport, ClusterRow, EditOp, EditResult, HistoryInfo, ItemKind, ItemView, MapData, MapInfo, MapParams, RunInfo, LibraryInfo, Page, PhotoDetail, PhotoSummary, Root, ScanIssue, RunChange } from '../common/types.ts';
import type { AppEvent, JobInfo } from '../common/jobs.ts';
import { JobManager, jobWrites, readSnapshot, type JobContext } from './jobs.ts';
import { checkLibrary } from './check.ts';
import type { JobParams, JobResult, PresetRecord } from '../common/jobs.ts';
import type { AssignReport, ClusterParams, ClusterRequest, LibrarySettings } from '../common/types.ts';
import { applyPreset, resolvePreset } from '../algo/cluster/presets.ts';
import { identityThresholdOf } from './models/identity.ts';
import { Library } from './library.ts';
import { scanRoots } from './scan/scanner.ts';
import { isRetryableReason } from './scan/retry.ts';
import { embedJob } from './embed/embed-job.ts';
import { exportEmbeddings, importEmbeddings } from './embed/io.ts';
import { clusterJob } from './cluster/cluster-job.ts';
import { getRun, listRuns, runCluster, runClusters } from './cluster/runs.ts';
import { getMapData, listMaps, mapJob } from './map/maps.ts';
import { mapField } from './map/fields.ts';
import { searchItems } from './curation/search.ts';
import { checkExportOptions, checkTargetDry, exportRun } from './export/export.ts';
import { importLabels } from './export/import-labels.ts';
import { exportXmp, readXmp } from './xmp/sidecars.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { applyEdit, history, redo, undo } from './curation/edits.ts';
import { assignRun } from './curation/assign.ts';
import { readSettings, writeSettings } from './settings.ts';
import { FolderWatcher } from './watch.ts';
import { clusterMembers, itemViews, reviewQueue } from './curation/items.ts';
import { blobVec, getModel, loadMatrix } from './embed/store.ts';
import { runTask } from './workers/pool.ts';
import { MODEL_CATALOG, catalogEntry, downloadModel } from './models/index.ts';
import { MODELS_DIR } from './paths.ts';
import { existsSync as fileExists, writeFileSync, mkdirSync as mkdirp } from 'node:fs';
import { join as joinPath } from 'node:path';
import { userPath } from './user-path.ts';
import { backupNow, listBackups, restoreBackup, type BackupInfo } from './backups.ts';
import { bestOf, itemQualities, KEEP_RULE } from './curation/neardup.ts';
import { moveToTrash, restoreFromTrash, type Trashed } from './curation/trash.ts';
import { checkTrashable } from './curation/trash-guard.ts';
import { rowDot } from '../algo/neardup.ts';
import { exportEmbeddingsFile, exportJob } from './interop/export.ts';
import { importEmbeddingsFile, importRun } from './interop/import.ts';
import type { ExportEmbeddingsFileReport, ImportEmbeddingsFileOptions, ImportRunOptions } from '../common/api.ts';
import type { LibraryHost } from './library-host.ts';
import { recentLibraries } from './recent-libraries.ts';
import type { RecentLibrary } from '../common/api.ts';
import { adjustedMutualInfo, adjustedRandIndex, normalizedMutualInfo } from '../algo/metrics.ts';
import type { PeopleQuery, SuggestionQuery } from '../common/api.ts';
import type { AddFaceReport, MergeSuggestionReport, PersonRow, PersonSuggestion, SplitPreview, SuggestionReport, UnknownGroupsReport } from '../common/types.ts';
import { listPeople, mergeSuggestions, partOf } from './curation/people.ts';
import { unknownGroups } from './curation/unknown-groups.ts';
import { buildIndex, indexKey, suggest, suggestPersonFor, type SuggestionIndex } from './curation/suggest.ts';
import { addManualFace } from './curation/add-face.ts';
import { applyAssign } from './curation/edits.ts';
import { createOrtGemm } from './gemm-ort.ts';

export type CoreListener = (e: AppEvent) => void;

/** A model's matrix as the service caches it (plus lazily: item id -> row, and the row-normalized copy). */
interface CachedMatrix {
  ids: Int32Array; X: Float32Array; n: number; d: number; kind: ItemKind;
  /** the model's revision (bumped by every write of its embeddings) the matrix was read at */
  revision: number;
  rowOf?: Map<number, number>;
  xn?: Promise<Float32Array>;
}

function int(name: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw badArg(name, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

export class CoreService implements AppApi {
  readonly lib: Library;
  readonly jobs: JobManager;
  private listeners = new Set<CoreListener>();

  constructor(lib: Library) {
    this.lib = lib;
    this.jobs = new JobManager(lib.db);
    this.jobs.onChange((job) => {
      this.emit({ type: 'job', job });
      // a read job that ended changed nothing in the library
      if (job.state !== 'running' && job.state !== 'queued' && jobWrites(job.kind)) this.emit({ type: 'library', info: lib.info() });
    });
  }

  static open(path: string, opts: { readonly?: boolean } = {}): CoreService {
    return new CoreService(Library.open(path, opts));
  }

  onEvent(l: CoreListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(e: AppEvent): void {
    for (const l of this.listeners) {
      try { l(e); } catch { /* listeners never break the core */ }
    }
  }

  private closing = false;

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.suggestIdx.values()].map((p) => p.catch(() => undefined)));
    await this.watcher?.close();
    this.watcher = null;
    await this.jobs.cancelAll();
    this.lib.close();
  }

  async getInfo(_o?: NoOptions): Promise<LibraryInfo> {
    return this.lib.info();
  }

  async listRoots(_o?: NoOptions): Promise<Root[]> {
    return this.lib.roots();
  }

  async addRoots({ paths }: { paths: string[] }): Promise<Root[]> {
    if (!Array.isArray(paths) || paths.length === 0) throw badArg('paths', 'give at least one folder');
    const out: Root[] = [];
    for (const p of paths) {
      if (typeof p !== 'string' || p.length === 0) throw badArg('paths', `not a folder path: ${JSON.stringify(p)}`);
      const abs = userPath('paths', p);
      let st;
      try { st = statSync(abs); } catch { throw new AppError('NOT_FOUND', `${abs}: no such folder`); }
      if (!st.isDirectory()) throw badArg('paths', `${abs} is not a folder`);
      out.push(this.lib.addRoot(abs));
    }
    this.watcher?.update(readSettings(this.lib.db));
    this.emit({ type: 'library', info: this.lib.info() });
    return out;
  }

  async removeRoot({ rootId }: { rootId: number }): Promise<void> {
    await this.removeFolder({ rootId });
  }

  async removeFolder(options: { rootId: number }): Promise<RemoveFolderReport> {
    if (!options || typeof options !== 'object') throw badArg('options', 'expected {rootId}');
    const id = int('rootId', options.rootId, 1);
    const root = this.lib.root(id);
    // a scan of the folder, or any job reading or writing the library's items, would fail half-way or leave orphans
    const busy = this.jobs.active().find((j) => j.kind === 'scan'
      ? ((j.params as { rootIds?: number[] } | null)?.rootIds ?? []).includes(id)
      : j.kind !== 'download');
    if (busy) throw new AppError('CONFLICT', `folder ${root.path} is in use by job ${busy.id} (${busy.kind}, ${busy.state}); wait for it to finish or cancel it, then remove the folder`);
    const r = this.lib.removeRoot(id);
    this.watcher?.update(readSettings(this.lib.db));
    this.emit({ type: 'library', info: this.lib.info() });
    return r;
  }

  async retryFailed(_o?: NoOptions): Promise<RetryReport> {
    const rows = this.lib.db.prepare('SELECT root_id AS rootId, reason FROM scan_issues').all() as Array<{ rootId: number | null; reason: string }>;
    const retry = rows.filter((r) => isRetryableReason(r.reason));
    const known = new Set(this.lib.roots().map((r) => r.id));
    const rootIds = [...new Set(retry.map((r) => r.rootId).filter((id): id is number => id !== null && known.has(id)))].sort((a, b) => a - b);
    const scan = rootIds.length > 0 ? await this.scan({ rootIds }) : null;
    return { errors: rows.length, retryable: retry.length, rootIds, scan };
  }

  async check(_options: Record<string, never> = {}): Promise<CheckReport> {
    return checkLibrary(this.lib);
  }

  async scan({ rootIds }: { rootIds?: number[] } = {}): Promise<JobInfo<'scan'>> {
    const ids = rootIds ?? this.lib.roots().map((r) => r.id);
    if (!Array.isArray(ids)) throw badArg('rootIds', 'expected a list of root ids');
    for (const id of ids) this.lib.root(int('rootIds', id, 1));
    return this.jobs.start('scan', { rootIds: ids }, (ctx) => scanRoots(this.lib, ids, ctx));
  }

  async listPhotos(query: PhotoQuery = {}): Promise<Page<PhotoSummary>> {
    if (query.offset !== undefined) int('offset', query.offset);
    if (query.limit !== undefined) int('limit', query.limit, 1);
    if (query.rootId !== undefined) int('rootId', query.rootId, 1);
    if (query.status !== undefined && query.status !== 'ok' && query.status !== 'missing') throw badArg('status', `expected ok or missing`);
    return this.lib.photos(query);
  }

  async getPhoto({ id }: { id: number }): Promise<PhotoDetail> {
    return this.lib.photo(int('id', id, 1));
  }

  async listScanIssues({ offset = 0, limit = 200 }: PageQuery = {}): Promise<Page<ScanIssue>> {
    return this.lib.scanIssues(int('offset', offset), int('limit', limit, 1));
  }

  async listJobs(_o?: NoOptions): Promise<JobInfo[]> {
    return this.jobs.list();
  }

  async getJob({ id }: { id: number }): Promise<JobInfo> {
    return this.jobs.get(int('id', id, 1));
  }

  async waitJob({ id, timeoutMs }: { id: number; timeoutMs?: number }): Promise<JobInfo> {
    const job = this.jobs.get(int('id', id, 1));
    if (job.state !== 'queued' && job.state !== 'running') return job;
    if (timeoutMs === undefined) return this.jobs.wait(id);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<JobInfo>((ok) => { timer = setTimeout(() => ok(this.jobs.get(id)), timeoutMs); });
    try { return await Promise.race([this.jobs.wait(id), timeout]); } finally { clearTimeout(timer); }
  }

  async cancelJob({ id }: { id: number }): Promise<void> {
    this.jobs.cancel(int('id', id, 1));
  }

  async embed(o: EmbedOptions): Promise<JobInfo<'embed'>> {
    if (!o || typeof o.model !== 'string' || !o.model) throw badArg('model', 'expected photo, face or a model manifest path');
    if (o.workers !== undefined) int('workers', o.workers, 1);
    if (o.batch !== undefined) int('batch', o.batch, 1);
    if (o.minFaceSize !== undefined && !(o.minFaceSize >= 0)) throw badArg('min-face-size', 'expected a number >= 0');
    if (o.scoreThreshold !== undefined && !(o.scoreThreshold > 0 && o.scoreThreshold < 1)) throw badArg('score-threshold', 'expected a number between 0 and 1');
    // the library's face settings (issue 19): its quality floor (an option given here wins) and folders without faces
    const st = readSettings(this.lib.db);
    const minQuality = o.minFaceQuality ?? st.faceMinQuality ?? undefined;
    const face = { minFaceSize: o.minFaceSize, scoreThreshold: o.scoreThreshold, minQuality, ...(st.faceExcludedFolders.length ? { excludeFolders: st.faceExcludedFolders } : {}) };
    const spec = { model: o.model, batch: o.batch, workers: o.workers, face };
    return this.jobs.start('embed', spec, async (ctx) => {
      const r = await embedJob(this.lib, spec, ctx);
      // assign after embed (a library setting): the new items join the newest run of the model
      const assigned = r.processed > 0 ? await this.autoAssign(r.model) : null;
      return assigned ? { ...r, assigned } : r;
    });
  }

  async importEmbeddings({ npy: npyPath, ids: idsPath, model }: { npy: string; ids: string; model: string }): Promise<ImportEmbeddingsReport> {
    if (typeof npyPath !== 'string' || !npyPath) throw badArg('npy', 'expected a .npy file path');
    if (typeof idsPath !== 'string' || !idsPath) throw badArg('ids', 'expected an ids file (CSV or JSON lines)');
    if (typeof model !== 'string' || !model) throw badArg('model', 'expected a model name');
    const r = importEmbeddings(this.lib, npyPath, idsPath, model);
    this.emit({ type: 'library', info: this.lib.info() });
    return r;
  }

  async exportEmbeddings({ model, out: outPath, ids: idsPath, force }: { model: string; out: string; ids?: string; force?: boolean }): Promise<ExportEmbeddingsReport> {
    const options = { force };
    if (typeof outPath !== 'string' || !outPath) throw badArg('out', 'expected a .npy file path');
    if (idsPath !== undefined && idsPath !== null && (typeof idsPath !== 'string' || !idsPath)) throw badArg('ids', 'expected an ids CSV path');
    if (options === null || typeof options !== 'object') throw badArg('options', 'expected {force?: boolean}');
    return exportEmbeddings(this.lib, model, outPath, idsPath ?? undefined, { force: options.force === true });
  }

  async cluster(o: ClusterOptions): Promise<JobInfo<'cluster'>> {
    if (!o || typeof o.model !== 'string' || !o.model) throw badArg('model', 'name the embeddings to cluster');
    const req = (o.params ?? {}) as ClusterRequest;
    if (!req.preset && typeof req.algo !== 'string') throw badArg('algo', 'expected kmeans, minibatch-kmeans, hdbscan, dbscan or ward (or a preset: people, themes, objects, duplicates)');
    // refused when asked, never queued to fail in a worker: the model exists and the parameters fit its items
    const model = getModel(this.lib.db, o.model);
    const n = this.lib.db.prepare('SELECT COUNT(*) FROM embeddings WHERE model = ?').pluck().get(o.model) as number;
    if (n < 2) throw badArg('model', `${o.model} has ${n} embedding(s): need at least 2 items to cluster`);
    let params = req as ClusterParams;
    let preset: PresetRecord | undefined;
    if (req.preset) {
      // the preset picks the algorithm and parameters from the model and the data; explicit ones override it
      const choice = resolvePreset(req.preset, { n, d: model.dim, kind: model.kind, identity: identityThresholdOf(this.lib.db, o.model) });
      const applied = applyPreset(choice, req);
      params = applied.params;
      const linked = choice.linkFrom !== undefined && req.eps === undefined && params.algo === choice.params.algo;
      preset = { name: req.preset, chose: choice.params, why: choice.why, overridden: applied.overridden, ...(linked ? { linkFrom: choice.linkFrom } : {}) };
    }
    const { checkParams } = await import('../algo/cluster/run.ts'); // the algorithms load only when a run is asked for
    checkParams(params, n);
    const spec = { model: o.model, params, labels: o.labels ?? null, ...(preset ? { preset } : {}) };
    return this.jobs.start('cluster', spec, (ctx) => clusterJob(this.lib, spec, ctx));
  }

  async listRuns(_o?: NoOptions): Promise<RunInfo[]> {
    return listRuns(this.lib.db);
  }

  async getRun({ runId }: RunRef): Promise<RunInfo> {
    return getRun(this.lib.db, int('runId', runId, 1));
  }

  async getClusters({ runId, clusters }: RunRef & { clusters?: number[] }): Promise<ClusterRow[]> {
    return runClusters(this.lib.db, int('runId', runId, 1), clusters);
  }

  async exportRun(options: ExportRunOptions): Promise<JobInfo<'export'>> {
    const o = checkExportOptions({ ...options, to: userPath('to', String(options?.to ?? '')) });
    getRun(this.lib.db, o.runId);
    checkTargetDry(o.to); // a target under a file fails here, before a job starts
    // a UI asks before a folder is created (the CLI creates it, as its help says)
    if (options.createMissing === false && !o.dryRun && !fileExists(o.to)) throw new AppError('CONFLICT', `${o.to} does not exist: export would create it`);
    const spec = { runId: o.runId, to: o.to, format: o.format, link: o.link, dryRun: !!o.dryRun, curatedOnly: !!o.curatedOnly, includeNoise: !!o.includeNoise };
    return this.jobs.start('export', spec, (ctx) => exportRun(this.lib, spec, ctx));
  }

  async importLabels(options: { source: string } & ImportLabelsOptions): Promise<ImportLabelsReport> {
    if (options === null || typeof options !== 'object') throw badArg('options', 'expected {source, seed?: boolean}');
    const source = options.source;
    if (typeof source !== 'string' || !source) throw badArg('source', 'expected a labels file (CSV/JSON) or a folder');
    if (options.runId !== undefined) getRun(this.lib.db, int('runId', options.runId, 1));
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
    return exportXmp(this.lib, runId);
  }

  async importXmp(options: ImportLabelsOptions = {}): Promise<ImportXmpReport> {
    const r = readXmp(this.lib);
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

  async computeMap({ model, params }: { model: string; params: MapParams }): Promise<JobInfo<'map'>> {
    if (typeof model !== 'string' || !model) throw badArg('model', 'name the embeddings to map');
    if (!params || !['umap', 'tsne', 'pca'].includes(params.method)) throw badArg('method', 'expected umap, tsne or pca');
    const spec = { model, params };
    return this.jobs.start('map', spec, (ctx) => mapJob(this.lib, spec, ctx, (xy, ids, stage, done, total) =>
      this.emit({ type: 'mapFrame', jobId: ctx.jobId, model, method: params.method, stage, done, total, ids, xy })));
  }

  async listMaps(o?: { model?: string }): Promise<MapInfo[]> {
    const all = listMaps(this.lib.db);
    return o?.model === undefined ? all : all.filter((m) => m.model === o.model);
  }

  async getMap(query: { id?: number; model?: string; method?: MapParams['method']; setting?: MapParams }): Promise<MapData> {
    if (!query || typeof query !== 'object') throw badArg('query', 'expected {id} or {model, method}');
    if (query.id !== undefined) int('id', query.id, 1);
    return getMapData(this.lib.db, query);
  }

  private changed(runId: number, action: RunChange['action'], r: EditResult | null): void {
    this.suggestChanged(runId, r ? r.clusters : null);
    if (!r) { this.emit({ type: 'run', runId }); return; }
    const change: RunChange = { action, editId: r.editId, description: r.description ?? r.op.type, clusters: r.clusters };
    // the changed clusters as they are now and the run's counts ride along, so a view patches its list without asking
    // (a small change: a large one, such as an import, is reloaded by the views)
    if (this.listeners.size && r.clusters.length <= 200) {
      change.rows = runClusters(this.lib.db, runId, r.clusters.filter((c) => c >= 0));
      const run = getRun(this.lib.db, runId);
      change.counts = { clusters: run.clusters, noise: run.noise, n: run.n };
    }
    this.emit({ type: 'run', runId, change });
  }

  async editRun({ runId, op }: RunRef & { op: EditOp }): Promise<EditResult> {
    int('runId', runId, 1);
    if (!op || typeof op !== 'object' || typeof (op as { type?: unknown }).type !== 'string') throw badArg('op', 'expected an edit {type, ...}');
    let split: { items: number[]; labels: Int32Array } | undefined;
    if (op.type === 'split') {
      // the members and their vectors from one snapshot (never half of another edit)
      const { items, X, d } = readSnapshot(this.lib.db, () => {
        const run = getRun(this.lib.db, runId);
        const items = this.lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck().all(runId, op.cluster) as number[];
        if (items.length < 2) throw new AppError('CONFLICT', `cluster ${op.cluster} has ${items.length} member(s): nothing to split`);
        const d = getModel(this.lib.db, run.model).dim;
        const X = new Float32Array(new SharedArrayBuffer(items.length * d * 4));
        const q = this.lib.db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
        items.forEach((it, i) => X.set(blobVec(q.get(run.model, it) as Buffer, d), i * d));
        return { items, X, d };
      });
      const k = op.k ?? 2;
      if (!Number.isInteger(k) || k < 2 || k > items.length) throw badArg('k', `split into 2..${items.length} parts, got ${k}`);
      const params = op.algo === 'hdbscan'
        ? { algo: 'hdbscan' as const, minClusterSize: Math.max(2, Math.min(5, Math.floor(items.length / 4))) }
        : { algo: 'kmeans' as const, k, nInit: 3 };
      // a cancellable read job (cancelJob): the sub-clustering runs in a pooled worker
      const labels = await this.readJob('split', { runId, cluster: op.cluster, k, algo: params.algo }, async (ctx) => {
        const out = await runTask('cluster', { X, n: items.length, d, params, labelsTrue: null, sourceIds: null, stream: null }, { signal: ctx.signal, onProgress: (s, dn, t) => ctx.progress(s, dn, t) });
        return out.labels;
      }, (l) => ({ members: l.length }));
      split = { items, labels };
    }
    const r = applyEdit(this.lib.db, runId, op, split);
    this.changed(runId, 'edit', r);
    return r;
  }

  async undo({ runId }: RunRef): Promise<EditResult | null> {
    let r = undo(this.lib.db, int('runId', runId, 1));
    // a dedupe that moved files to the trash in this session: they come back with it
    const moved = r && r.op.type === 'dedupe' ? this.trashed.get(r.editId) : undefined;
    if (r && moved) {
      const restored: string[] = [], problems: string[] = [];
      for (const t of moved) {
        try { restoreFromTrash(t); restored.push(t.original); } catch (e) { problems.push((e as Error).message); }
      }
      this.trashed.delete(r.editId);
      r = { ...r, files: { trashed: [], restored, problems } };
    }
    this.changed(runId, 'undo', r);
    return r;
  }

  async redo({ runId }: RunRef): Promise<EditResult | null> {
    let r = redo(this.lib.db, int('runId', runId, 1));
    if (r && r.op.type === 'dedupe' && r.op.trash) {
      const trashed: string[] = [], problems: string[] = [], moved: Trashed[] = [];
      for (const g of r.op.groups) for (const id of g.reject) {
        try { const t = this.trashPhotos([id])[0]; moved.push(t); trashed.push(t.original); } catch (e) { problems.push((e as Error).message); }
      }
      this.trashed.set(r.editId, moved);
      r = { ...r, files: { trashed, restored: [], problems } };
    }
    this.changed(runId, 'redo', r);
    return r;
  }

  async renameRun({ runId, name }: RunRef & { name: string }): Promise<RunInfo> {
    const before = getRun(this.lib.db, int('runId', runId, 1));
    const n = String(name ?? '').trim();
    const rec = { ...before.record };
    if (n) rec.name = n; else delete rec.name;
    this.lib.db.prepare('UPDATE runs SET record = ? WHERE id = ?').run(JSON.stringify(rec), runId);
    const was = typeof before.record.name === 'string' ? `'${before.record.name}'` : `run ${runId}`;
    this.emit({ type: 'run', runId, change: { action: 'rename-run', description: `rename ${was} → ${n ? `'${n}'` : `run ${runId}`}`, clusters: [] } });
    this.emit({ type: 'library', info: this.lib.info() });
    return getRun(this.lib.db, runId);
  }

  async deleteRun({ runId }: RunRef): Promise<DeleteRunReport> {
    const run = getRun(this.lib.db, int('runId', runId, 1));
    const busy = this.jobs.active().find((j) => (j.params as { runId?: number } | null)?.runId === runId);
    if (busy) throw new AppError('CONFLICT', `run ${runId} is in use by job ${busy.id} (${busy.kind}); wait for it or cancel it`);
    const db = this.lib.db;
    const report = db.transaction((): DeleteRunReport => {
      const one = (sql: string) => db.prepare(sql).pluck().get(runId) as number;
      const r = {
        runId, clusters: one('SELECT COUNT(*) FROM clusters WHERE run_id = ?'), named: one(`SELECT COUNT(*) FROM clusters WHERE run_id = ? AND (name IS NOT NULL OR curated = 1)`),
        items: one('SELECT COUNT(*) FROM assignments WHERE run_id = ?'), edits: one('SELECT COUNT(*) FROM edits WHERE run_id = ?'),
      };
      db.prepare('DELETE FROM edits WHERE run_id = ?').run(runId);
      db.prepare('DELETE FROM assignments WHERE run_id = ?').run(runId);
      db.prepare('DELETE FROM clusters WHERE run_id = ?').run(runId);
      db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
      return r;
    }).immediate();
    this.emit({ type: 'run', runId, change: { action: 'delete-run', description: `delete run ${runId} (${run.model} · ${run.algo}: ${report.clusters} clusters, ${report.named} named or curated)`, clusters: [] } });
    this.emit({ type: 'library', info: this.lib.info() });
    return report;
  }

  async checkExportTarget({ to }: { to: string }): Promise<{ to: string; exists: boolean }> {
    const abs = userPath('to', String(to ?? ''));
    checkTargetDry(abs);
    return { to: abs, exists: fileExists(abs) };
  }

  async listBackups(_o?: NoOptions): Promise<BackupInfo[]> {
    return listBackups(this.lib);
  }

  async backupNow(_o?: NoOptions): Promise<BackupInfo> {
    return backupNow(this.lib);
  }

  async restoreBackup({ path }: { path: string }): Promise<{ restored: string; tables: Record<string, number> }> {
    const busy = this.jobs.active()[0];
    if (busy) throw new AppError('CONFLICT', `job ${busy.id} (${busy.kind}) is running: wait for it or cancel it, then restore`);
    const r = await restoreBackup(this.lib, userPath('path', String(path ?? '')));
    this.matrices.clear();
    this.emit({ type: 'library', info: this.lib.info() });
    for (const run of listRuns(this.lib.db)) this.emit({ type: 'run', runId: run.id });
    return r;
  }

  async getHistory({ runId }: RunRef): Promise<HistoryInfo> {
    getRun(this.lib.db, int('runId', runId, 1));
    return history(this.lib.db, runId);
  }

  async getClusterMembers({ runId, cluster, offset = 0, limit = 200, order = 'desc' }: RunRef & PageQuery & { cluster: number; order?: 'desc' | 'asc' }): Promise<Page<ItemView>> {
    if (!Number.isInteger(cluster) || cluster < -1) throw badArg('cluster', `expected a cluster id or -1 for noise, got ${cluster}`);
    return clusterMembers(this.lib.db, int('runId', runId, 1), cluster, int('offset', offset), int('limit', limit, 1), order === 'asc' ? 'asc' : 'desc');
  }

  async getItems({ kind, ids, runId }: { kind: ItemKind; ids: number[]; runId?: number }): Promise<ItemView[]> {
    if (kind !== 'photo' && kind !== 'face') throw badArg('kind', 'expected photo or face');
    if (!Array.isArray(ids)) throw badArg('ids', 'expected a list of item ids');
    return itemViews(this.lib.db, kind, ids, runId === undefined ? undefined : int('runId', runId, 1));
  }

  async getReviewQueue({ runId, offset = 0, limit = 200, maxSim = 0.6 }: RunRef & PageQuery & { maxSim?: number }): Promise<Page<ItemView>> {
    if (!(maxSim >= -1 && maxSim <= 1)) throw badArg('maxSim', 'expected a cosine similarity in [-1, 1]');
    return reviewQueue(this.lib.db, int('runId', runId, 1), int('offset', offset), int('limit', limit, 1), maxSim);
  }

  static MATRIX_CACHE_ENTRIES = 4;
  static MATRIX_CACHE_BYTES = 1 << 30;
  /**
   * Loaded matrices (lru-cache, bounded by entries and bytes); each valid while its model's revision (bumped by every
   * write) holds. A matrix larger than the byte bound still stays, alone (its size counts as the whole bound).
   */
  private matrices = CoreService.matrixCache(CoreService.MATRIX_CACHE_ENTRIES, CoreService.MATRIX_CACHE_BYTES);

  private static matrixCache(max: number, maxSize: number): LRUCache<string, CachedMatrix> {
    return new LRUCache<string, CachedMatrix>({ max, maxSize, sizeCalculation: (m) => Math.max(1, Math.min(m.X.byteLength, maxSize)) });
  }

  /** Bounds the matrix cache again (tests; the cache starts empty). */
  limitMatrixCache({ entries = CoreService.MATRIX_CACHE_ENTRIES, bytes = CoreService.MATRIX_CACHE_BYTES }: { entries?: number; bytes?: number }): void {
    this.matrices = CoreService.matrixCache(entries, bytes);
  }

  /** A model's matrix, cached while the model's revision is unchanged (bounded: a few models, at most 1 GiB); read in one snapshot. */
  matrix(model: string): CachedMatrix {
    return readSnapshot(this.lib.db, () => {
      const revision = this.lib.db.prepare('SELECT revision FROM models WHERE name = ?').pluck().get(model) as number | undefined;
      const c = this.matrices.get(model); // a hit becomes the most recently used
      if (c && revision !== undefined && c.revision === revision) return c;
      this.matrices.delete(model);
      const m = loadMatrix(this.lib.db, model);
      const entry: CachedMatrix = { ids: m.ids, X: m.X, n: m.n, d: m.d, revision: revision ?? -1, kind: m.model.kind };
      this.matrices.set(model, entry);
      return entry;
    });
  }

  /** Whether the model's matrix is in the cache at its current revision (nothing is loaded). */
  private matrixIsCached(model: string): boolean {
    const c = this.matrices.peek(model);
    return !!c && c.revision === this.lib.db.prepare('SELECT revision FROM models WHERE name = ?').pluck().get(model);
  }

  /** The model of a run (null: no such run). */
  private runModel(runId: number): string | null {
    return (this.lib.db.prepare('SELECT model FROM runs WHERE id = ?').pluck().get(runId) as string | undefined) ?? null;
  }

  /** The matrix with L2-normalized rows (shared memory), made once per cached matrix in a worker. */
  private normalized(m: CachedMatrix): Promise<Float32Array> {
    if (!m.xn) {
      const out = new Float32Array(new SharedArrayBuffer(m.n * m.d * 4));
      const xn = runTask('normalize', { X: m.X, out, n: m.n, d: m.d }).then(() => out);
      m.xn = xn;
      xn.catch(() => { if (m.xn === xn) m.xn = undefined; });
    }
    return m.xn;
  }

  /**
   * Runs `fn` as a read job (listed, cancellable with cancelJob, run beside write jobs) and resolves with its value;
   * the job row keeps only `summary(value)`. A read-only library has no jobs table to write: there it is a plain call.
   */
  private async readJob<T, K extends 'similar' | 'neardup' | 'split'>(kind: K, params: JobParams<K>, fn: (ctx: JobContext) => Promise<T>, summary: (v: T) => unknown): Promise<T> {
    if (this.lib.db.readonly) {
      const signal = new AbortController().signal;
      return fn({ jobId: 0, signal, progress() {}, checkCancelled() {}, isCancelled: () => false });
    }
    let out: { v: T } | null = null;
    const job = this.jobs.start(kind, params, async (ctx) => {
      const v = await fn(ctx);
      out = { v };
      return summary(v) as JobResult<K>;
    });
    const end = await this.jobs.wait(job.id);
    if (end.state === 'done' && out) return (out as { v: T }).v;
    throw end.error ? fromPayload(end.error as ErrorPayload) : new AppError('CANCELLED', `job ${job.id} (${kind}) was cancelled`);
  }

  /** Models whose matrix is cached now, least recently used first (tests). */
  cachedMatrices(): string[] {
    return [...this.matrices.rkeys()];
  }

  async similar({ model, item, items, k = 24, combine = 'mean', runId }: SimilarOptions): Promise<Array<ItemView & { similarity: number }>> {
    if (item !== undefined && items !== undefined) throw badArg('item', 'give either item or items (a selection), not both');
    const refs = items ?? (item ? [item] : []);
    if (refs.length === 0) throw badArg('item', 'give an item or a selection (items)');
    const m = this.matrix(model);
    m.rowOf ??= new Map(Array.from(m.ids, (x, i) => [x, i]));
    const rows = refs.map((it, i) => {
      const name = items ? `items.${i}` : 'item';
      if (!it || typeof it !== 'object' || (it.kind !== 'photo' && it.kind !== 'face')) throw badArg(name, `expected {kind: 'photo' | 'face', id}, got ${JSON.stringify(it)}`);
      const id = int(`${name}.id`, it.id, 1);
      if (it.kind !== m.kind) throw badArg(name, `${it.kind} ${id} is not a ${m.kind}: model ${model} embeds ${m.kind}s`);
      const row = m.rowOf!.get(id) ?? -1;
      if (row < 0) throw new AppError('NOT_FOUND', `${it.kind} ${id} has no ${model} embedding`);
      return row;
    });
    if (combine !== 'mean' && combine !== 'max') throw badArg('combine', 'expected mean or max');
    if (runId !== undefined) getRun(this.lib.db, int('runId', runId, 1));
    const many = items !== undefined;
    const kk = Math.min(int('k', k, 1), m.n - new Set(rows).size);
    if (kk < 1) return [];
    const params = many ? { model, item: refs[0], k: kk, selection: refs.length, combine } : { model, item: refs[0], k: kk };
    return this.readJob('similar', params, async (ctx) => {
      const X = await this.normalized(m);
      const r = await runTask('similar', { X, n: m.n, d: m.d, row: rows[0], k: kk, normalized: true, ...(many ? { rows, combine } : {}) }, { signal: ctx.signal });
      ctx.checkCancelled();
      const views = itemViews(this.lib.db, m.kind, Array.from(r.indices, (i) => m.ids[i]));
      const sim = new Map(Array.from(r.indices, (i, t) => [m.ids[i], r.sims[t]]));
      // with a run: each result's cluster there (null for an item the run does not have)
      const inRun = runId === undefined ? null : new Map((this.lib.db.prepare('SELECT item_id, cluster, sim FROM assignments WHERE run_id = ? AND item_id IN (SELECT value FROM json_each(?))')
        .raw().all(runId, JSON.stringify(views.map((v) => v.item))) as Array<[number, number, number | null]>).map(([i, c, s]) => [i, { c, s }]));
      return views.map((v) => ({ ...v, ...(inRun ? { cluster: inRun.get(v.item)?.c ?? null, sim: inRun.get(v.item)?.s ?? null } : {}), similarity: sim.get(v.item)! }));
    }, (v) => ({ items: v.length }));
  }

  async nearDuplicates({ model, threshold = 0.95, limit = 500 }: { model: string; threshold?: number; limit?: number }): Promise<NearDuplicateGroup[]> {
    if (!(threshold > 0 && threshold <= 1)) throw badArg('threshold', 'expected a cosine similarity in (0, 1]');
    const m = this.matrix(model);
    return this.readJob('neardup', { model, threshold }, async (ctx) => {
      const X = await this.normalized(m);
      const r = await runTask('neardup', { X, n: m.n, d: m.d, threshold, normalized: true }, { signal: ctx.signal, onProgress: (s, d, t) => ctx.progress(s, d, t) });
      ctx.checkCancelled();
      const groups = r.groups.slice(0, limit);
      const views = readSnapshot(this.lib.db, () => groups.map((g) => itemViews(this.lib.db, m.kind, g.rows.map((i) => m.ids[i]))));
      const out: NearDuplicateGroup[] = [];
      for (let gi = 0; gi < groups.length; gi++) {
        if ((gi & 15) === 0) ctx.checkCancelled();
        const items = views[gi];
        if (items.length < 2) continue; // removed meanwhile
        const best = bestOf(await itemQualities(this.lib, m.kind, items.map((v) => v.item)));
        out.push({ items, minSim: groups[gi].minSim, representative: m.ids[groups[gi].representative], keep: best.item, keepRule: KEEP_RULE });
      }
      return out;
    }, (v) => ({ groups: v.length }));
  }

  async compareItems({ kind, ids, model }: { kind: ItemKind; ids: number[]; model?: string }): Promise<CompareReport> {
    if (kind !== 'photo' && kind !== 'face') throw badArg('kind', 'expected photo or face');
    if (!Array.isArray(ids) || ids.length === 0) throw badArg('ids', 'give at least one item');
    const items = await itemQualities(this.lib, kind, ids);
    let sims: number[][] | null = null;
    if (model !== undefined) {
      const m = this.matrix(model);
      if (m.kind !== kind) throw badArg('model', `model ${model} embeds ${m.kind}s, not ${kind}s`);
      m.rowOf ??= new Map(Array.from(m.ids, (x, i) => [x, i]));
      const X = await this.normalized(m);
      const rows = ids.map((id) => {
        const r = m.rowOf!.get(id);
        if (r === undefined) throw new AppError('NOT_FOUND', `${kind} ${id} has no ${model} embedding`);
        return r;
      });
      sims = rows.map((a) => rows.map((b) => Math.round(rowDot(X, m.d, a, b) * 1e6) / 1e6));
    }
    return { items, best: bestOf(items).item, rule: KEEP_RULE, sims };
  }

  async getMapField(o: MapFieldOptions): Promise<MapField> {
    return readSnapshot(this.lib.db, () => mapField(this.lib.db, o));
  }

  async searchItems(o: SearchOptions): Promise<SearchResult> {
    return readSnapshot(this.lib.db, () => searchItems(this.lib.db, o));
  }

  /** Files the 'dedupe' edits of this session moved to the trash, by edit id (undo puts them back while the app runs). */
  private trashed = new Map<number, Trashed[]>();

  async keepBestDuplicates({ runId, groups, trash = false }: RunRef & { groups: Array<{ items: number[]; keep?: number }>; trash?: boolean }): Promise<EditResult & { kept: number[]; rejected: number[]; rule: string }> {
    const run = getRun(this.lib.db, int('runId', runId, 1));
    if (!Array.isArray(groups) || groups.length === 0) throw badArg('groups', 'give at least one group');
    if (trash && run.kind !== 'photo') throw badArg('trash', `run ${runId} groups faces: only whole photos go to the trash (reject the faces without trash)`);
    const plan: Array<{ keep: number; reject: number[] }> = [];
    for (const [gi, g] of groups.entries()) {
      const ids = [...new Set(g.items)];
      if (ids.length < 2) throw badArg(`groups.${gi}.items`, 'a group has at least two different items');
      if (g.keep !== undefined && !ids.includes(g.keep)) throw badArg(`groups.${gi}.keep`, `item ${g.keep} is not in the group`);
      const keep = g.keep ?? bestOf(await itemQualities(this.lib, run.kind, ids)).item;
      plan.push({ keep, reject: ids.filter((x) => x !== keep) });
    }
    const op: EditOp = { type: 'dedupe', groups: plan, ...(trash ? { trash: true } : {}) };
    const rejected = plan.flatMap((g) => g.reject);
    let moved: Trashed[] = [];
    if (trash) {
      // every item checked against the run first (nothing goes to the trash for an edit that will be refused)
      readSnapshot(this.lib.db, () => { for (const it of [...plan.map((g) => g.keep), ...rejected]) {
        if (this.lib.db.prepare('SELECT 1 FROM assignments WHERE run_id = ? AND item_id = ?').get(runId, it) === undefined) throw new AppError('NOT_FOUND', `item ${it} is not in run ${runId}`);
      } });
      moved = this.trashPhotos(rejected);
    }
    let r: EditResult;
    try {
      r = applyEdit(this.lib.db, runId, op);
    } catch (e) {
      for (const t of moved.reverse()) try { restoreFromTrash(t); } catch { /* reported by the error below */ }
      throw e;
    }
    if (trash) {
      this.trashed.set(r.editId, moved);
      r = { ...r, files: { trashed: moved.map((t) => t.original), restored: [], problems: [] } };
    }
    this.changed(runId, 'edit', r);
    return { ...r, kept: plan.map((g) => g.keep), rejected, rule: KEEP_RULE };
  }

  /** Moves the photos' files to the trash, all or none (a failure puts back the ones already moved). */
  private trashPhotos(photoIds: number[]): Trashed[] {
    // only the files scanned, inside the library's folders (identity: size + content hash; curation/trash-guard.ts)
    const paths = checkTrashable(this.lib.db, photoIds);
    const moved: Trashed[] = [];
    try {
      for (const p of paths) moved.push(moveToTrash(p));
    } catch (e) {
      for (const t of moved.reverse()) try { restoreFromTrash(t); } catch { /* left in the trash, restorable from the desktop */ }
      throw e;
    }
    return moved;
  }

  async sweep({ model, kind, values, space = 'umap', ...options }: SweepOptions): Promise<JobInfo<'sweep'>> {
    if (!['elbow', 'silhouette', 'dbscan'].includes(kind)) throw badArg('kind', 'expected elbow, silhouette or dbscan');
    if (!Array.isArray(values) || values.length === 0 || values.length > 100) throw badArg('values', 'give 1..100 parameter values');
    const m = this.matrix(model);
    return this.jobs.start('sweep', { model, kind, values, options }, async (ctx) => {
      const r = await runTask('sweep', { X: m.X, n: m.n, d: m.d, kind, values, space, ...options }, { signal: ctx.signal, onProgress: (s, d, t) => ctx.progress(s, d, t) });
      return { model, kind, ...r };
    });
  }

  async compareRuns({ a, b }: { a: number; b: number }): Promise<{ a: RunInfo; b: RunInfo; common: number; ari: number; ami: number; nmi: number }> {
    // both runs from one snapshot
    const { ra, rb, rows } = readSnapshot(this.lib.db, () => ({
      ra: getRun(this.lib.db, int('a', a, 1)), rb: getRun(this.lib.db, int('b', b, 1)),
      rows: this.lib.db.prepare(`SELECT x.cluster AS ca, y.cluster AS cb FROM assignments x JOIN assignments y ON y.item_id = x.item_id AND y.run_id = ?
      WHERE x.run_id = ? ORDER BY x.item_id`).all(b, a) as Array<{ ca: number; cb: number }>,
    }));
    if (ra.kind !== rb.kind) throw badArg('b', `run ${a} groups ${ra.kind}s and run ${b} groups ${rb.kind}s: only runs over the same kind of items can be compared`);
    if (rows.length === 0) throw new AppError('CONFLICT', `runs ${a} and ${b} share no items`);
    const la = rows.map((r) => r.ca), lb = rows.map((r) => r.cb);
    return { a: ra, b: rb, common: rows.length, ari: adjustedRandIndex(la, lb), ami: adjustedMutualInfo(la, lb), nmi: normalizedMutualInfo(la, lb) };
  }

  async getAssignments({ runId }: RunRef): Promise<{ runId: number; kind: ItemKind; ids: Int32Array; clusters: Int32Array }> {
    const run = getRun(this.lib.db, int('runId', runId, 1));
    const rows = this.lib.db.prepare('SELECT item_id, cluster FROM assignments WHERE run_id = ? ORDER BY item_id').raw().all(runId) as Array<[number, number]>;
    const ids = new Int32Array(rows.length), clusters = new Int32Array(rows.length);
    rows.forEach(([i, c], t) => { ids[t] = i; clusters[t] = c; });
    return { runId, kind: run.kind, ids, clusters };
  }

  async getCatalog(_o?: NoOptions): Promise<CatalogItem[]> {
    const dir = joinPath(MODELS_DIR, 'catalog');
    return MODEL_CATALOG.map((e) => {
      const manifestPath = e.manifest ? joinPath(dir, `${e.id}.json`) : null;
      return {
        id: e.id, title: e.title, kind: e.kind, url: e.url, size: e.size, sha256: e.sha256, license: e.license, unverified: [...e.unverified],
        installed: fileExists(joinPath(dir, e.file)), manifestPath: manifestPath && fileExists(manifestPath) ? manifestPath : null, notes: e.notes,
      };
    });
  }

  async downloadCatalogModel({ id }: { id: string }): Promise<JobInfo<'download'>> {
    const e = catalogEntry(String(id));
    if (!e) throw badArg('id', `no catalog model ${JSON.stringify(id)} (known: ${MODEL_CATALOG.map((x) => x.id).join(', ')})`);
    const dir = joinPath(MODELS_DIR, 'catalog');
    return this.jobs.start('download', { id }, async (ctx) => {
      mkdirp(dir, { recursive: true });
      const r = await downloadModel(e.url, joinPath(dir, e.file), {
        sha256: e.sha256 ?? undefined, size: e.size ?? undefined, signal: ctx.signal,
        onProgress: (got, total) => ctx.progress('download', got, total ?? 0),
      });
      let manifest: string | null = null;
      if (e.manifest) {
        manifest = joinPath(dir, `${e.id}.json`);
        writeFileSync(manifest, JSON.stringify(e.manifest, null, 2));
      }
      return { ...r, manifest };
    });
  }

  async getCluster({ runId, cluster }: RunRef & { cluster: number }): Promise<ClusterRow> {
    if (!Number.isInteger(cluster)) throw badArg('cluster', `expected a cluster id, got ${cluster}`);
    return runCluster(this.lib.db, int('runId', runId, 1), cluster);
  }

  // --- library groups and assignment (issue 18) ---

  async assign({ runId, threshold, margin }: RunRef & { threshold?: number; margin?: number }): Promise<AssignReport> {
    const r = await assignRun(this.lib.db, int('runId', runId, 1), { threshold, margin });
    if (r.editId !== null) {
      this.emit({ type: 'run', runId, change: {
        action: 'edit', editId: r.editId, description: `assign ${r.assigned} new item${r.assigned === 1 ? '' : 's'} to ${r.groups} group${r.groups === 1 ? '' : 's'}`,
        clusters: r.joined.map((j) => j.cluster) } });
    }
    return r;
  }

  async getSettings(_o?: NoOptions): Promise<LibrarySettings> {
    return readSettings(this.lib.db);
  }

  async setSettings(o: Partial<LibrarySettings>): Promise<LibrarySettings> {
    const s = writeSettings(this.lib.db, o);
    this.settingsChanged?.(s);
    return s;
  }

  /** Set by whoever watches folders (core/watch.ts) to follow the settings. */
  settingsChanged?: (s: LibrarySettings) => void;

  private watcher: FolderWatcher | null = null;

  /**
   * Watches the library's folders while the `watch` setting is on (the desktop app and serve mode call this; CLI
   * commands do not): changed folders are scanned, embedded and assigned; each cycle ends with a 'watch' event.
   */
  watchFolders(quietMs = 1500): FolderWatcher {
    if (!this.watcher) {
      this.watcher = new FolderWatcher(this, quietMs, (summary) => this.emit({ type: 'watch', summary }));
      this.settingsChanged = (st) => this.watcher?.update(st);
      this.watcher.update(readSettings(this.lib.db));
    }
    return this.watcher;
  }

  /** After an embed with assign-after-embed on: the new items join the newest run of the model (an undoable edit). */
  async autoAssign(model: string): Promise<AssignReport | null> {
    if (!readSettings(this.lib.db).autoAssign) return null;
    const runId = this.lib.db.prepare('SELECT id FROM runs WHERE model = ? ORDER BY id DESC LIMIT 1').pluck().get(model) as number | undefined;
    if (runId === undefined) return null;
    return this.assign({ runId });
  }

  // --- interchange with other engines (issue 22) ---

  async importEmbeddingsFile(o: ImportEmbeddingsFileOptions): Promise<JobInfo<'importEmbeddings'>> {
    const spec: ImportEmbeddingsFileOptions = { file: resolve(o.file), model: o.model, idColumn: o.idColumn, vectorColumn: o.vectorColumn };
    for (const k of ['idColumn', 'vectorColumn'] as const) if (spec[k] === undefined) delete spec[k];
    return this.jobs.start('importEmbeddings', spec, async (ctx) => {
      const r = await importEmbeddingsFile(this.lib, spec, ctx);
      this.emit({ type: 'library', info: this.lib.info() });
      return r;
    });
  }

  async exportEmbeddingsFile(o: { model: string; out: string; format: 'parquet' | 'arrow'; force?: boolean }): Promise<ExportEmbeddingsFileReport> {
    return exportEmbeddingsFile(this.lib, o.model, o.out, o.format, o.force === true);
  }

  async importRun(o: ImportRunOptions): Promise<JobInfo<'importRun'>> {
    getModel(this.lib.db, o.model); // refused when asked: the embeddings the run is over
    const spec: ImportRunOptions = { file: resolve(o.file), model: o.model, idColumn: o.idColumn, clusterColumn: o.clusterColumn };
    for (const k of ['idColumn', 'clusterColumn'] as const) if (spec[k] === undefined) delete spec[k];
    return this.jobs.start('importRun', spec, (ctx) => importRun(this.lib, spec, ctx));
  }

  // --- people and faces (issue 19) ---

  async listPeople(o: PeopleQuery): Promise<PersonRow[]> {
    const rows = listPeople(this.lib.db, int('runId', o?.runId, 1), { search: o.search, sort: o.sort, includeHidden: o.includeHidden });
    // a UI is attached (it listens to events): the queues open fast (a one-shot CLI call builds nothing it won't use)
    if (this.listeners.size && !this.suggestIdx.has(o.runId)) setImmediate(() => this.warmSuggestions(o.runId));
    return rows;
  }

  /** One edit through edits.ts, with the run's change event (every people action). */
  private edit(runId: number, op: EditOp): EditResult {
    const r = applyEdit(this.lib.db, int('runId', runId, 1), op);
    this.changed(runId, 'edit', r);
    return r;
  }

  async setPerson({ runId, cluster, hidden, avatar }: RunRef & { cluster: number; hidden?: boolean; avatar?: number | null }): Promise<EditResult> {
    if (hidden === undefined && avatar === undefined) throw badArg('hidden', 'give hidden and/or avatar');
    const op: EditOp = { type: 'person', cluster: int('cluster', cluster) };
    if (hidden !== undefined) op.hidden = hidden;
    if (avatar !== undefined) op.avatar = avatar;
    return this.edit(runId, op);
  }

  /** Suggestion indexes of runs (one per run, valid while the run's edits and its model's embeddings are unchanged). */
  private suggestIdx = new Map<number, Promise<SuggestionIndex>>();
  private gemmP: ReturnType<typeof createOrtGemm> | null = null;

  /** The suggestion index of a run as it is now (built once per state of the run). */
  async suggestionIndex(runId: number): Promise<SuggestionIndex> {
    const cur = this.suggestIdx.get(runId);
    const prev = cur ? await cur.catch(() => null) : null;
    const key = indexKey(this.lib.db, runId);
    const gen = this.suggestGen.get(runId) ?? 0;
    if (prev && prev.key === key && this.suggestBuiltGen.get(runId) === gen) return prev;
    const again = this.suggestIdx.get(runId);
    if (again !== cur && again) return this.suggestionIndex(runId); // another call started the refresh meanwhile
    this.gemmP ??= createOrtGemm(2);
    const gemm = await this.gemmP;
    if (this.suggestIdx.get(runId) !== cur) return this.suggestionIndex(runId);
    // brought up to date from the previous state: only what the edits changed is read and scored again (the clusters
    // the edits since named; null: unknown, everything is read)
    const hint = this.suggestHint.has(runId) ? this.suggestHint.get(runId)! : null;
    this.suggestHint.set(runId, new Set());
    this.suggestBuiltGen.set(runId, this.suggestGen.get(runId) ?? 0);
    // the model's vectors from the matrix cache: a new index reads every candidate and prototype (one load of the
    // matrix costs what that scan costs, and later calls share it); a refresh of a few persons only when it is cached
    const model = prev?.model ?? this.runModel(runId);
    let cached: CachedMatrix | null = null;
    try { if (model !== null && (!prev || this.matrixIsCached(model))) cached = this.matrix(model); } catch { /* no embeddings: read as before */ }
    const p = buildIndex(this.lib.db, runId, gemm, prev, hint, cached);
    this.suggestIdx.set(runId, p);
    if (this.suggestIdx.size > 4) this.suggestIdx.delete(this.suggestIdx.keys().next().value as number);
    p.catch(() => { if (this.suggestIdx.get(runId) === p) this.suggestIdx.delete(runId); });
    return p;
  }

  /** Clusters changed by edits since each run's index was last brought up to date (absent: unknown, read in full). */
  private suggestHint = new Map<number, Set<number>>();
  /** Edits seen per run, and as of which the run's latest index was started (an index is current only for both). */
  private suggestGen = new Map<number, number>();
  private suggestBuiltGen = new Map<number, number>();

  /** After an edit: note what changed and bring a run's index up to date at once, so the next call finds it ready. */
  private suggestChanged(runId: number, clusters: number[] | null): void {
    this.suggestGen.set(runId, (this.suggestGen.get(runId) ?? 0) + 1);
    if (!this.suggestIdx.has(runId)) { this.suggestHint.delete(runId); return; }
    const h = this.suggestHint.get(runId);
    if (!clusters) this.suggestHint.delete(runId);
    else if (h) for (const c of clusters) h.add(c);
    setImmediate(() => this.warmSuggestions(runId));
  }

  /** Build (or bring up to date) a run's suggestion index ahead of need; errors wait for the call that needs it. */
  private warmSuggestions(runId: number): void {
    if (this.closing) return;
    try { getRun(this.lib.db, runId); } catch { return; }
    this.suggestionIndex(runId).catch(() => undefined);
  }

  async getSuggestions(o: SuggestionQuery): Promise<SuggestionReport> {
    const runId = int('runId', o?.runId, 1);
    getRun(this.lib.db, runId);
    const idx = await this.suggestionIndex(runId);
    this.gemmP ??= createOrtGemm(2);
    return suggest(this.lib.db, idx, int('cluster', o.cluster), { limit: o.limit, threshold: o.threshold, margin: o.margin }, await this.gemmP);
  }

  async suggestPerson(o: RunRef & { item: number; threshold?: number; margin?: number }): Promise<PersonSuggestion> {
    const runId = int('runId', o?.runId, 1);
    getRun(this.lib.db, runId);
    const idx = await this.suggestionIndex(runId);
    return suggestPersonFor(this.lib.db, idx, int('item', o.item, 1), { threshold: o.threshold, margin: o.margin });
  }

  async getUnknownGroups({ runId, threshold, limit }: RunRef & { threshold?: number; limit?: number }): Promise<UnknownGroupsReport> {
    int('runId', runId, 1);
    this.gemmP ??= createOrtGemm(2);
    return unknownGroups(this.lib.db, runId, { threshold, limit, gemm: await this.gemmP });
  }

  async confirmSuggestions({ runId, cluster, items }: RunRef & { cluster: number; items: number[] }): Promise<EditResult> {
    return this.edit(runId, { type: 'confirm', cluster: int('cluster', cluster), items });
  }

  async rejectSuggestions({ runId, cluster, items }: RunRef & { cluster: number; items: number[] }): Promise<EditResult> {
    return this.edit(runId, { type: 'reject-suggestions', cluster: int('cluster', cluster), items });
  }

  async getMergeSuggestions({ runId, limit, threshold }: RunRef & { limit?: number; threshold?: number }): Promise<MergeSuggestionReport> {
    this.gemmP ??= createOrtGemm(2);
    if (this.listeners.size && !this.suggestIdx.has(runId)) setImmediate(() => this.warmSuggestions(runId));
    return mergeSuggestions(this.lib.db, int('runId', runId, 1), { limit, threshold, gemm: await this.gemmP });
  }

  async notSamePerson({ runId, clusters }: RunRef & { clusters: [number, number] }): Promise<EditResult> {
    if (!Array.isArray(clusters) || clusters.length !== 2) throw badArg('clusters', 'give two clusters');
    return this.edit(runId, { type: 'not-same', clusters: [int('clusters.0', clusters[0]), int('clusters.1', clusters[1])] });
  }

  async previewSplit({ runId, cluster, k, algo, items: brushed }: RunRef & { cluster: number; k?: number; algo?: 'kmeans' | 'hdbscan'; items?: number[] }): Promise<SplitPreview> {
    int('runId', runId, 1);
    int('cluster', cluster);
    const { items, X, d } = readSnapshot(this.lib.db, () => {
      const run = getRun(this.lib.db, runId);
      const items = this.lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck().all(runId, cluster) as number[];
      if (items.length < 2) throw new AppError('CONFLICT', `cluster ${cluster} has ${items.length} member(s): nothing to split`);
      const d = getModel(this.lib.db, run.model).dim;
      const X = new Float32Array(new SharedArrayBuffer(items.length * d * 4));
      const q = this.lib.db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
      items.forEach((it, i) => { const b = q.get(run.model, it) as Buffer | undefined; if (b) X.set(blobVec(b, d), i * d); });
      return { items, X, d };
    });
    // normalized rows for the parts' figures
    const Xn = Float32Array.from(X);
    for (let i = 0; i < items.length; i++) {
      let s = 0; for (let p = 0; p < d; p++) s += Xn[i * d + p] ** 2;
      const r = s > 0 ? 1 / Math.sqrt(s) : 0; for (let p = 0; p < d; p++) Xn[i * d + p] *= r;
    }
    const rowsOf = (idx: number[]) => { const out = new Float32Array(idx.length * d); idx.forEach((i, j) => out.set(Xn.subarray(i * d, (i + 1) * d), j * d)); return out; };
    const toParts = (groups: number[][]) => groups.filter((g) => g.length > 0).map((g) => partOf(g.map((i) => items[i]), rowsOf(g), d));
    if (brushed) {
      const sel = new Set(brushed);
      const pos = new Map(items.map((it, i) => [it, i]));
      for (const it of sel) if (!pos.has(it)) throw badArg('items', `item ${it} is not in cluster ${cluster} of run ${runId}`);
      const inSel = items.map((_, i) => i).filter((i) => sel.has(items[i])), rest = items.map((_, i) => i).filter((i) => !sel.has(items[i]));
      if (rest.length === 0) throw badArg('items', 'the selection is the whole cluster: nothing to split off');
      return { runId, cluster, algo: 'selection', parts: toParts([inSel, rest]) };
    }
    const kk = k ?? 2;
    if (!Number.isInteger(kk) || kk < 2 || kk > items.length) throw badArg('k', `split into 2..${items.length} parts, got ${kk}`);
    const params = algo === 'hdbscan'
      ? { algo: 'hdbscan' as const, minClusterSize: Math.max(2, Math.min(5, Math.floor(items.length / 4))) }
      : { algo: 'kmeans' as const, k: kk, nInit: 3 };
    const labels = await this.readJob('split', { runId, cluster, k: kk, algo: params.algo }, async (ctx) => {
      const out = await runTask('cluster', { X, n: items.length, d, params, labelsTrue: null, sourceIds: null, stream: null }, { signal: ctx.signal, onProgress: (st, dn, t) => ctx.progress(st, dn, t) });
      return out.labels;
    }, (l) => ({ members: l.length }));
    const byLabel = new Map<number, number[]>();
    const left: number[] = [];
    labels.forEach((l, i) => { if (l < 0) left.push(i); else { const g = byLabel.get(l) ?? []; g.push(i); byLabel.set(l, g); } });
    const groups = [...byLabel.values()].sort((a, b) => b.length - a.length || a[0] - b[0]);
    return { runId, cluster, algo: params.algo, parts: toParts([...groups, left]) };
  }

  async applySplit({ runId, cluster, parts }: RunRef & { cluster: number; parts: Array<{ items: number[]; name?: string }> }): Promise<EditResult> {
    return this.edit(runId, { type: 'split-parts', cluster: int('cluster', cluster), parts: parts.map((p) => (p.name === undefined ? { items: p.items } : { items: p.items, name: p.name })) });
  }

  async markNotFace({ runId, items }: RunRef & { items: number[] }): Promise<EditResult> {
    return this.edit(runId, { type: 'not-face', items });
  }

  async addFace({ photoId, box, runId }: { photoId: number; box: [number, number, number, number]; runId?: number }): Promise<AddFaceReport> {
    int('photoId', photoId, 1);
    if (runId !== undefined) {
      const run = getRun(this.lib.db, int('runId', runId, 1));
      if (run.kind !== 'face') throw badArg('runId', `run ${runId} is not a face run`);
    }
    const face = await addManualFace(this.lib, photoId, box);
    let editId: number | null = null;
    if (runId !== undefined) {
      const r = applyAssign(this.lib.db, runId, [face.id], [-1]);
      editId = r.editId;
      this.emit({ type: 'run', runId, change: { action: 'edit', editId: r.editId, description: `add a face drawn by hand on photo ${photoId} (unassigned)`, clusters: [-1] } });
    }
    this.emit({ type: 'library', info: this.lib.info() });
    return { face, model: 'face', runId: runId ?? null, editId };
  }

  async exportJob(o: { model: string; to: string; partitionRows?: number }): Promise<JobInfo<'exportJob'>> {
    if (o.model !== 'photo' && o.model !== 'face') throw badArg('model', `export-job runs the built-in models photo or face (got ${JSON.stringify(o.model)})`);
    const spec = { model: o.model, to: resolve(o.to), ...(o.partitionRows !== undefined ? { partitionRows: o.partitionRows } : {}) };
    return this.jobs.start('exportJob', spec, (ctx) => exportJob(this.lib, spec, ctx));
  }

  // --- libraries (issue 17) ---
  /** the app instance that serves this library and can switch it (desktop, serve; null in the CLI) */
  host: LibraryHost | null = null;

  /** whether changed folders are watched (kept across a library switch) */
  get watching(): boolean { return this.watcher !== null; }

  async openLibrary(o: { path: string; create?: boolean }): Promise<LibraryInfo> {
    if (!this.host) throw new AppError('CONFLICT', `this instance serves ${this.lib.path} only (the CLI): give another library with --library`);
    return this.host.open(o.path, o.create === true);
  }

  async listRecentLibraries(_o?: NoOptions): Promise<RecentLibrary[]> {
    return this.host ? this.host.recent() : recentLibraries(this.lib.path);
  }
}
