/**
 * A Library: the open SQLite file, its thumbnail cache and the queries the service needs. One per open library.
 */
import { identityThresholdOf } from './models/identity.ts';
import { config } from './config.ts';
import { mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { AppError } from '../common/errors.ts';
import type { RemoveFolderReport, LibraryInfo, ModelInfo, Page, PhotoDetail, PhotoSummary, Root, ScanIssue } from '../common/types.ts';
import { openLibrary, openMemoryLibrary, type Db, type OpenOptions } from './store/db.ts';
import {
  deleteRoot, dropMapPoints, embedFailureCounts, facesOfPhoto, insertRoot, libraryCounts, modelRows, photoDetailRow, photoPage,
  previewSourceOf, thumbSourceOf, recountRun, rootContents, rootIdByPath, rootRows, scanIssueCountsByReason, scanIssuePage, thumbStillUsed,
} from './store/library-repo.ts';
import { acquireLock, type LibraryLock } from './store/lock.ts';
import { previewFile, thumbFile } from './thumb-path.ts';
import { isPhotoHash } from '../common/thumbs.ts';
import { PreviewCache } from './preview.ts';
import { ThumbCache } from './thumb-cache.ts';
import { isRetryableReason } from './retry-reasons.ts';

/** The user data folder, as Electron's app.getPath('userData') gives it for an app named Constellate. */
export function userDataDir(): string {
  const home0 = config.home();
  if (home0) return home0;
  const home = homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'Constellate');
  if (process.platform === 'win32') return join(config.appData() ?? join(home, 'AppData', 'Roaming'), 'Constellate');
  return join(config.xdgConfigHome() ?? join(home, '.config'), 'Constellate');
}

export function defaultLibraryPath(): string {
  return config.library() ?? join(userDataDir(), 'library.constellate');
}

export class Library {
  readonly db: Db;
  readonly path: string;
  readonly version: number;
  readonly backup: string | null;
  readonly cacheDir: string;
  readonly thumbDir: string;
  /** the writer lock (null for read-only opens, which take none) */
  private lock: LibraryLock | null;

  private constructor(path: string, opts: OpenOptions, memory?: { cacheDir: string }) {
    // one writer per library: a second app instance gets LIBRARY_LOCKED before anything is migrated or written
    this.lock = opts.readonly || memory ? null : acquireLock(path);
    let opened;
    try {
      // SQLite's WAL and -shm go next to the real file, the one the lock is keyed on (a symlink's target)
      opened = memory ? openMemoryLibrary() : openLibrary(this.lock ? this.lock.file.slice(0, -'.lock'.length) : path, opts);
    } catch (e) {
      this.lock?.release();
      throw e;
    }
    this.db = opened.db;
    this.path = opened.path === ':memory:' ? ':memory:' : path;
    this.version = opened.version;
    this.backup = opened.backup;
    this.cacheDir = memory ? memory.cacheDir : join(dirname(path), `${basename(path)}.cache`);
    this.thumbDir = join(this.cacheDir, 'thumbs');
    if (!opts.readonly) mkdirSync(this.thumbDir, { recursive: true });
  }

  static open(path: string, opts: OpenOptions = {}): Library {
    return new Library(resolve(path), opts);
  }

  /** A library in memory (`:memory:`: nothing on disk but its thumbnails under `cacheDir`; the fast service tests). */
  static inMemory(cacheDir: string): Library {
    return new Library(':memory:', {}, { cacheDir });
  }

  close(): void {
    if (!this.db.open) return;
    try { this.db.pragma('wal_checkpoint(TRUNCATE)'); } catch { /* read-only or busy: fine */ }
    this.db.close();
    this.lock?.release();
    this.lock = null;
  }

  /** Path of a thumbnail in the cache; the only files the thumbnail routes ever serve. */
  thumbPath(key: string): string {
    return thumbFile(this.thumbDir, key);
  }

  private thumbCache: ThumbCache | null = null;
  /**
   * The thumbnail file of a key of the library's photos or faces, made again from its photo when the cache lost it
   * (./thumb-cache.ts); the file the thumbnail routes serve. Refuses anything but a key.
   */
  thumbFile(key: string): Promise<string> {
    this.thumbCache ??= new ThumbCache(this.thumbDir, (k) => thumbSourceOf(this.db, k));
    return this.thumbCache.file(key);
  }

  private previewCache: PreviewCache | null = null;
  private get previewDir(): string { return join(this.cacheDir, 'previews'); }
  /**
   * The file of the viewer-size preview of the library's photo with this content hash (rendered on first use, cached
   * in `<cache>/previews`, bounded); the only files the preview routes ever serve. Refuses anything but a hash.
   */
  previewPath(hash: string): Promise<string> {
    this.previewCache ??= new PreviewCache(this.previewDir, (h) =>
      previewSourceOf(this.db, h));
    return this.previewCache.file(hash);
  }

  info(): LibraryInfo {
    const counts = libraryCounts(this.db);
    const models = this.models();
    const embeddings: Record<string, number> = {};
    for (const m of models) embeddings[m.name] = m.embeddings;
    return {
      library: this.path,
      schemaVersion: this.version,
      roots: counts.roots,
      photos: counts.photos,
      missing: counts.missing,
      errors: counts.errors,
      faces: counts.faces,
      embeddings,
      models,
      runs: counts.runs,
      retryableErrors: scanIssueCountsByReason(this.db)
        .reduce((a, r) => a + (isRetryableReason(r.reason) ? r.n : 0), 0),
      embedFailures: Object.fromEntries(embedFailureCounts(this.db).map((r) => [r.model, r.n])),
    };
  }

  models(): ModelInfo[] {
    const rows = modelRows(this.db);
    for (const m of rows) m.identityThreshold = identityThresholdOf(this.db, m.name);
    return rows;
  }

  roots(): Root[] {
    return rootRows(this.db);
  }

  root(id: number): Root {
    const r = this.roots().find((x) => x.id === id);
    if (!r) throw new AppError('NOT_FOUND', `root ${id} does not exist`);
    return r;
  }

  addRoot(path: string): Root {
    const abs = resolve(path);
    const existing = rootIdByPath(this.db, abs);
    if (existing !== undefined) return this.root(existing);
    // a folder inside an existing root, or containing one, would list photos twice
    for (const r of this.roots()) {
      if (abs.startsWith(r.path + '/') || abs.startsWith(r.path + '\\')) {
        throw new AppError('CONFLICT', `${abs}: already inside the library's folder ${r.path}`);
      }
      if (r.path.startsWith(abs + '/') || r.path.startsWith(abs + '\\')) {
        throw new AppError('CONFLICT', `${abs}: contains the library's folder ${r.path}; remove that folder first`);
      }
    }
    const id = insertRoot(this.db, abs, Date.now());
    return this.root(id);
  }

  /**
   * Removes a folder and everything of it: its photos, their faces, and (through the library's triggers) their
   * embeddings, labels and run assignments; the runs' groups that lose members are recomputed by `refreshClusters`
   * (the edit engine's, given by the caller; a group left empty goes), and thumbnails no other photo shares are deleted. Ids are never given out again.
   */
  removeRoot(id: number, refreshClusters: (db: Db, runId: number, clusters: number[]) => void): RemoveFolderReport {
    const root = this.root(id);
    const db = this.db;
    const thumbs: string[] = [];
    const report = db.transaction(() => {
      const { photos, faces, touched, thumbs: keys, gone } = rootContents(db, id);
      thumbs.push(...keys);
      deleteRoot(db, id);
      dropMapPoints(db, gone);
      const byRun = new Map<number, number[]>();
      for (const t of touched) byRun.set(t.runId, [...(byRun.get(t.runId) ?? []), t.cluster]);
      for (const [runId, clusters] of byRun) {
        refreshClusters(db, runId, clusters);
        recountRun(db, runId);
      }
      return { removed: root.path, photos, faces };
    }).immediate();
    const stillUsed = thumbStillUsed(db);
    for (const key of new Set(thumbs)) {
      if (stillUsed(key)) continue;
      try { rmSync(this.thumbPath(key), { force: true }); } catch { /* a thumbnail left behind is only cache */ }
      if (isPhotoHash(key)) try { rmSync(previewFile(this.previewDir, key), { force: true }); } catch { /* only cache */ }
    }
    return report;
  }

  photos(q: { offset?: number; limit?: number; rootId?: number; status?: PhotoSummary['status'] } = {}): Page<PhotoSummary> {
    const offset = Math.max(0, Math.floor(q.offset ?? 0));
    const limit = Math.min(5000, Math.max(1, Math.floor(q.limit ?? 200)));
    const { total, items } = photoPage(this.db, { status: q.status ?? 'ok', rootId: q.rootId, limit, offset });
    return { total, offset, items };
  }

  photo(id: number): PhotoDetail {
    const p = photoDetailRow(this.db, id);
    if (!p) throw new AppError('NOT_FOUND', `photo ${id} does not exist`);
    const faces = facesOfPhoto(this.db, id);
    p.faces = faces.map((f) => ({ id: f.id, photoId: f.photoId, box: [f.x, f.y, f.w, f.h], score: f.score, thumb: f.thumb }));
    return p;
  }

  scanIssues(offset = 0, limit = 200): Page<ScanIssue> {
    const { total, items } = scanIssuePage(this.db, Math.min(5000, Math.max(1, limit)), Math.max(0, offset));
    return { total, offset, items };
  }
}
