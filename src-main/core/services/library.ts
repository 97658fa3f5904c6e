/**
 * The library itself: its folders, scans, photos, jobs, settings, backups, the model catalog, and the libraries one
 * can switch to (the switching itself is the host's: core/library-host.ts).
 */
import { statSync } from 'node:fs';
import type { CatalogItem, NoOptions, PageQuery, PhotoQuery, RetryReport } from '../../common/api.ts';
import { AppError, badArg } from '../../common/errors.ts';

import type { CheckReport, RemoveFolderReport, LibraryInfo, Page, PhotoDetail, PhotoSummary, Root, ScanIssue } from '../../common/types.ts';
import type { JobInfo } from '../../common/jobs.ts';
import { checkLibrary } from '../check.ts';
import type { LibrarySettings } from '../../common/types.ts';
import { scanRoots } from '../scan/scanner.ts';
import { isRetryableReason } from '../retry-reasons.ts';
import { listRuns } from '../store/runs.ts';
import { readSettings, writeSettings } from '../store/settings.ts';
import { MODEL_CATALOG, catalogEntry, catalogUrl, downloadModel } from '../models/index.ts';
import { MODELS_DIR } from '../paths.ts';
import { existsSync as fileExists, mkdirSync as mkdirp } from 'node:fs';
import { join as joinPath } from 'node:path';
import { userPath } from '../user-path.ts';
import { backupNow, listBackups, restoreBackup, type BackupInfo } from '../backups.ts';
import { untrashScanned } from '../curation/trash-restore.ts';
import { writeFileSafeSync } from '../safe-write.ts';
import { checkLibraryPath, recentLibraries } from '../recent-libraries.ts';
import type { LibraryCheck, RecentLibrary } from '../../common/api.ts';
import { FolderWatcher, type WatchTarget } from '../watch.ts';
import { scanIssueReasons } from '../store/photos.ts';
import { refreshClusters } from '../curation/edits.ts';
import { DomainService } from './context.ts';

export class LibraryService extends DomainService {
  async getInfo(_o?: NoOptions): Promise<LibraryInfo> {
    return this.lib.info();
  }

  async listRoots(_o?: NoOptions): Promise<Root[]> {
    return this.lib.roots();
  }

  async addRoots({ paths }: { paths: string[] }): Promise<Root[]> {
    const out: Root[] = [];
    for (const p of paths) {
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

  async removeFolder({ rootId: id }: { rootId: number }): Promise<RemoveFolderReport> {
    const root = this.lib.root(id);
    // a scan of the folder, or any job reading or writing the library's items, would fail half-way or leave orphans
    const busy = this.jobs.active().find((j) => j.kind === 'scan'
      ? ((j.params as { rootIds?: number[] } | null)?.rootIds ?? []).includes(id)
      : j.kind !== 'download');
    if (busy) throw new AppError('CONFLICT', `folder ${root.path} is in use by job ${busy.id} (${busy.kind}, ${busy.state}); wait for it to finish or cancel it, then remove the folder`);
    const r = this.lib.removeRoot(id, refreshClusters); // the edit engine refreshes the clusters that lost members
    this.watcher?.update(readSettings(this.lib.db));
    this.emit({ type: 'library', info: this.lib.info() });
    return r;
  }

  async retryFailed(_o?: NoOptions): Promise<RetryReport> {
    const rows = scanIssueReasons(this.lib.db);
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
    for (const id of ids) this.lib.root(id);
    return this.jobs.start('scan', { rootIds: ids }, (ctx) => scanRoots(this.lib, ids, ctx));
  }

  async listPhotos(query: PhotoQuery = {}): Promise<Page<PhotoSummary>> {
    return this.lib.photos(query);
  }

  async getPhoto({ id }: { id: number }): Promise<PhotoDetail> {
    return this.lib.photo(id);
  }

  async listScanIssues({ offset = 0, limit = 200 }: PageQuery = {}): Promise<Page<ScanIssue>> {
    return this.lib.scanIssues(offset, limit);
  }

  async listJobs(_o?: NoOptions): Promise<JobInfo[]> {
    return this.jobs.list();
  }

  async getJob({ id }: { id: number }): Promise<JobInfo> {
    return this.jobs.get(id);
  }

  async waitJob({ id, timeoutMs }: { id: number; timeoutMs?: number }): Promise<JobInfo> {
    const job = this.jobs.get(id);
    if (job.state !== 'queued' && job.state !== 'running') return job;
    if (timeoutMs === undefined) return this.jobs.wait(id);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<JobInfo>((ok) => { timer = setTimeout(() => ok(this.jobs.get(id)), timeoutMs); });
    try { return await Promise.race([this.jobs.wait(id), timeout]); } finally { clearTimeout(timer); }
  }

  async cancelJob({ id }: { id: number }): Promise<void> {
    this.jobs.cancel(id);
  }

  async getSettings(_o?: NoOptions): Promise<LibrarySettings> {
    return readSettings(this.lib.db);
  }

  async setSettings(o: Partial<LibrarySettings>): Promise<LibrarySettings> {
    const s = writeSettings(this.lib.db, o);
    this.watcher?.update(s);
    return s;
  }

  private watcher: FolderWatcher | null = null;

  /** whether changed folders are watched (kept across a library switch) */
  get watching(): boolean { return this.watcher !== null; }

  /**
   * Watches the library's folders while the `watch` setting is on, through `api` (the assembled AppApi: scans,
   * embeds and assigns go through it as any caller's); each cycle ends with a 'watch' event.
   */
  watchFolders(api: WatchTarget, quietMs = 1500): FolderWatcher {
    if (!this.watcher) {
      this.watcher = new FolderWatcher(api, quietMs, (summary) => this.emit({ type: 'watch', summary }));
      this.watcher.update(readSettings(this.lib.db));
    }
    return this.watcher;
  }

  /** Stops watching (the library closes). */
  async stopWatching(): Promise<void> {
    await this.watcher?.close();
    this.watcher = null;
  }

  async listBackups(_o?: NoOptions): Promise<BackupInfo[]> {
    return listBackups(this.lib);
  }

  async backupNow(_o?: NoOptions): Promise<BackupInfo> {
    return backupNow(this.lib);
  }

  async restoreBackup({ path }: { path: string }): Promise<{ restored: string; tables: Record<string, number>; fromTrash: string[] }> {
    const busy = this.jobs.active()[0];
    if (busy) throw new AppError('CONFLICT', `job ${busy.id} (${busy.kind}) is running: wait for it or cancel it, then restore`);
    const restored = await restoreBackup(this.lib, userPath('path', path));
    // the photos of the backup that a later keep-best moved to the trash (their undo went with the edits replaced)
    const r = { ...restored, fromTrash: untrashScanned(this.lib.db).restored };
    this.ctx.matrices.clear();
    this.emit({ type: 'library', info: this.lib.info() });
    for (const run of listRuns(this.lib.db)) this.emit({ type: 'run', runId: run.id });
    return r;
  }

  async getCatalog(_o?: NoOptions): Promise<CatalogItem[]> {
    const dir = joinPath(MODELS_DIR, 'catalog');
    return MODEL_CATALOG.map((e) => {
      const manifestPath = e.manifest ? joinPath(dir, `${e.id}.json`) : null;
      return {
        id: e.id, title: e.title, kind: e.kind, url: e.url, size: e.size, sha256: e.sha256, license: e.license, unverified: [...e.unverified],
        installed: [e.file, ...(e.extra ?? []).map((x) => x.file)].every((f) => fileExists(joinPath(dir, f))), manifestPath: manifestPath && fileExists(manifestPath) ? manifestPath : null, notes: e.notes,
      };
    });
  }

  async downloadCatalogModel({ id }: { id: string }): Promise<JobInfo<'download'>> {
    const e = catalogEntry(id);
    if (!e) throw badArg('id', `no catalog model ${JSON.stringify(id)} (known: ${MODEL_CATALOG.map((x) => x.id).join(', ')})`);
    const dir = joinPath(MODELS_DIR, 'catalog');
    return this.jobs.start('download', { id }, async (ctx) => {
      mkdirp(dir, { recursive: true });
      const r = await downloadModel(catalogUrl(e.url), joinPath(dir, e.file), {
        sha256: e.sha256 ?? undefined, size: e.size ?? undefined, signal: ctx.signal,
        onProgress: (got, total) => ctx.progress('download', got, total ?? 0),
      });
      // the files that go with it (a text encoder's tokenizer), each verified the same way
      for (const x of e.extra ?? []) {
        await downloadModel(catalogUrl(x.url), joinPath(dir, x.file), {
          sha256: x.sha256 ?? undefined, size: x.size ?? undefined, signal: ctx.signal,
          onProgress: (got, total) => ctx.progress(`download ${x.file}`, got, total ?? 0),
        });
      }
      let manifest: string | null = null;
      if (e.manifest) {
        manifest = joinPath(dir, `${e.id}.json`);
        // the one writer: checked, atomic, never over a library or a non-file
        writeFileSafeSync(manifest, JSON.stringify(e.manifest, null, 2), { what: 'the model manifest' });
      }
      return { ...r, manifest };
    });
  }

  async openLibrary(o: { path: string; create?: boolean }): Promise<LibraryInfo> {
    const host = this.ctx.host;
    if (!host) throw new AppError('CONFLICT', `this instance serves ${this.lib.path} only (the CLI): give another library with --library`);
    return host.open(o.path, o.create === true);
  }

  async checkLibrary(o: { path: string; create?: boolean }): Promise<LibraryCheck> {
    return checkLibraryPath(o.path, o.create === true, this.lib.path);
  }

  async listRecentLibraries(_o?: NoOptions): Promise<RecentLibrary[]> {
    return this.ctx.host ? this.ctx.host.recent() : recentLibraries(this.lib.path);
  }
}
