/**
 * CoreService: the AppApi implemented on a Library. Every transport (IPC, HTTP/WebSocket, direct calls) wraps one of
 * these; it validates its arguments itself, so no transport needs to.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { AppApi, ClusterOptions, EmbedOptions, ExportEmbeddingsReport, ImportEmbeddingsReport, PhotoQuery } from '../common/api.ts';
import { AppError, badArg } from '../common/errors.ts';
import type { AppEvent, ClusterRow, JobInfo, MapData, MapInfo, MapParams, RunInfo, LibraryInfo, Page, PhotoDetail, PhotoSummary, Root, ScanIssue } from '../common/types.ts';
import { JobManager } from './jobs.ts';
import { Library } from './library.ts';
import { scanRoots } from './scan/scanner.ts';
import { embedJob } from './embed/embed-job.ts';
import { exportEmbeddings, importEmbeddings } from './embed/io.ts';
import { clusterJob } from './cluster/cluster-job.ts';
import { getRun, listRuns, runClusters } from './cluster/runs.ts';
import { getMapData, listMaps, mapJob } from './map/maps.ts';

export type CoreListener = (e: AppEvent) => void;

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
      if (job.state !== 'running' && job.state !== 'queued') this.emit({ type: 'library', info: lib.info() });
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

  async close(): Promise<void> {
    await this.jobs.cancelAll();
    this.lib.close();
  }

  async getInfo(): Promise<LibraryInfo> {
    return this.lib.info();
  }

  async listRoots(): Promise<Root[]> {
    return this.lib.roots();
  }

  async addRoots(paths: string[]): Promise<Root[]> {
    if (!Array.isArray(paths) || paths.length === 0) throw badArg('paths', 'give at least one folder');
    const out: Root[] = [];
    for (const p of paths) {
      if (typeof p !== 'string' || p.length === 0) throw badArg('paths', `not a folder path: ${JSON.stringify(p)}`);
      const abs = isAbsolute(p) ? p : resolve(p);
      let st;
      try { st = statSync(abs); } catch { throw new AppError('NOT_FOUND', `${abs}: no such folder`); }
      if (!st.isDirectory()) throw badArg('paths', `${abs} is not a folder`);
      out.push(this.lib.addRoot(abs));
    }
    this.emit({ type: 'library', info: this.lib.info() });
    return out;
  }

  async removeRoot(rootId: number): Promise<void> {
    this.lib.removeRoot(int('rootId', rootId, 1));
    this.emit({ type: 'library', info: this.lib.info() });
  }

  async scan(rootIds?: number[]): Promise<JobInfo> {
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

  async getPhoto(id: number): Promise<PhotoDetail> {
    return this.lib.photo(int('id', id, 1));
  }

  async listScanIssues(offset = 0, limit = 200): Promise<Page<ScanIssue>> {
    return this.lib.scanIssues(int('offset', offset), int('limit', limit, 1));
  }

  async listJobs(): Promise<JobInfo[]> {
    return this.jobs.list();
  }

  async getJob(id: number): Promise<JobInfo> {
    return this.jobs.get(int('id', id, 1));
  }

  async cancelJob(id: number): Promise<void> {
    this.jobs.cancel(int('id', id, 1));
  }

  async embed(o: EmbedOptions): Promise<JobInfo> {
    if (!o || typeof o.model !== 'string' || !o.model) throw badArg('model', 'expected photo, face or a model manifest path');
    if (o.workers !== undefined) int('workers', o.workers, 1);
    if (o.batch !== undefined) int('batch', o.batch, 1);
    if (o.minFaceSize !== undefined && !(o.minFaceSize >= 0)) throw badArg('min-face-size', 'expected a number >= 0');
    if (o.scoreThreshold !== undefined && !(o.scoreThreshold > 0 && o.scoreThreshold < 1)) throw badArg('score-threshold', 'expected a number between 0 and 1');
    const spec = { model: o.model, batch: o.batch, workers: o.workers, face: { minFaceSize: o.minFaceSize, scoreThreshold: o.scoreThreshold } };
    return this.jobs.start('embed', spec, (ctx) => embedJob(this.lib, spec, ctx));
  }

  async importEmbeddings(npyPath: string, idsPath: string, model: string): Promise<ImportEmbeddingsReport> {
    if (typeof npyPath !== 'string' || !npyPath) throw badArg('npy', 'expected a .npy file path');
    if (typeof idsPath !== 'string' || !idsPath) throw badArg('ids', 'expected an ids file (CSV or JSON lines)');
    if (typeof model !== 'string' || !model) throw badArg('model', 'expected a model name');
    const r = importEmbeddings(this.lib, npyPath, idsPath, model);
    this.emit({ type: 'library', info: this.lib.info() });
    return r;
  }

  async exportEmbeddings(model: string, outPath: string, idsPath?: string): Promise<ExportEmbeddingsReport> {
    if (typeof outPath !== 'string' || !outPath) throw badArg('out', 'expected a .npy file path');
    return exportEmbeddings(this.lib, model, outPath, idsPath);
  }

  async cluster(o: ClusterOptions): Promise<JobInfo> {
    if (!o || typeof o.model !== 'string' || !o.model) throw badArg('model', 'name the embeddings to cluster');
    if (!o.params || typeof o.params.algo !== 'string') throw badArg('algo', 'expected kmeans, minibatch-kmeans, hdbscan, dbscan or ward');
    const spec = { model: o.model, params: o.params, labels: o.labels ?? null };
    return this.jobs.start('cluster', spec, (ctx) => clusterJob(this.lib, spec, ctx));
  }

  async listRuns(): Promise<RunInfo[]> {
    return listRuns(this.lib.db);
  }

  async getRun(runId: number): Promise<RunInfo> {
    return getRun(this.lib.db, int('runId', runId, 1));
  }

  async getClusters(runId: number): Promise<ClusterRow[]> {
    return runClusters(this.lib.db, int('runId', runId, 1));
  }

  async computeMap(model: string, params: MapParams): Promise<JobInfo> {
    if (typeof model !== 'string' || !model) throw badArg('model', 'name the embeddings to map');
    if (!params || !['umap', 'tsne', 'pca'].includes(params.method)) throw badArg('method', 'expected umap, tsne or pca');
    const spec = { model, params };
    return this.jobs.start('map', spec, (ctx) => mapJob(this.lib, spec, ctx, (xy, ids, stage, done, total) =>
      this.emit({ type: 'mapFrame', jobId: ctx.jobId, model, method: params.method, stage, done, total, ids, xy })));
  }

  async listMaps(): Promise<MapInfo[]> {
    return listMaps(this.lib.db);
  }

  async getMap(query: { id?: number; model?: string; method?: string }): Promise<MapData> {
    if (!query || typeof query !== 'object') throw badArg('query', 'expected {id} or {model, method}');
    if (query.id !== undefined) int('id', query.id, 1);
    return getMapData(this.lib.db, query);
  }
}
