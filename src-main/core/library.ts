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
import { acquireLock, type LibraryLock } from './store/lock.ts';
import { previewFile, thumbFile } from './thumb-path.ts';
import { isPhotoHash } from '../common/thumbs.ts';
import { PreviewCache } from './preview.ts';
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

  private previewCache: PreviewCache | null = null;
  private get previewDir(): string { return join(this.cacheDir, 'previews'); }
  /**
   * The file of the viewer-size preview of the library's photo with this content hash (rendered on first use, cached
   * in `<cache>/previews`, bounded); the only files the preview routes ever serve. Refuses anything but a hash.
   */
  previewPath(hash: string): Promise<string> {
    this.previewCache ??= new PreviewCache(this.previewDir, (h) =>
      (this.db.prepare(`SELECT path, size FROM photos WHERE hash = ? ORDER BY status = 'ok' DESC, id LIMIT 1`).get(h) as { path: string; size: number } | undefined) ?? null);
    return this.previewCache.file(hash);
  }

  info(): LibraryInfo {
    const one = (sql: string, ...args: unknown[]) => (this.db.prepare(sql).pluck().get(...args) as number) ?? 0;
    const models = this.models();
    const embeddings: Record<string, number> = {};
    for (const m of models) embeddings[m.name] = m.embeddings;
    return {
      library: this.path,
      schemaVersion: this.version,
      roots: one('SELECT COUNT(*) FROM roots'),
      photos: one(`SELECT COUNT(*) FROM photos WHERE status = 'ok'`),
      missing: one(`SELECT COUNT(*) FROM photos WHERE status = 'missing'`),
      errors: one('SELECT COUNT(*) FROM scan_issues'),
      faces: one('SELECT COUNT(*) FROM faces'),
      embeddings,
      models,
      runs: one('SELECT COUNT(*) FROM runs'),
      retryableErrors: (this.db.prepare('SELECT reason, COUNT(*) AS n FROM scan_issues GROUP BY reason').all() as Array<{ reason: string; n: number }>)
        .reduce((a, r) => a + (isRetryableReason(r.reason) ? r.n : 0), 0),
      embedFailures: Object.fromEntries((this.db.prepare(`SELECT model, COUNT(*) AS n FROM processed WHERE error IS NOT NULL GROUP BY model ORDER BY model`)
        .all() as Array<{ model: string; n: number }>).map((r) => [r.model, r.n])),
    };
  }

  models(): ModelInfo[] {
    const rows = this.db.prepare(`
      SELECT m.name, m.kind, m.dim, m.version, m.source,
             (SELECT COUNT(*) FROM embeddings e WHERE e.model = m.name) AS embeddings
      FROM models m ORDER BY m.name`).all() as ModelInfo[];
    for (const m of rows) m.identityThreshold = identityThresholdOf(this.db, m.name);
    return rows;
  }

  roots(): Root[] {
    return this.db.prepare(`
      SELECT r.id, r.path, r.added_at AS addedAt, r.last_scan_at AS lastScanAt,
        (SELECT COUNT(*) FROM photos p WHERE p.root_id = r.id AND p.status = 'ok') AS photos,
        (SELECT COUNT(*) FROM scan_issues s WHERE s.root_id = r.id) AS errors,
        (SELECT COUNT(*) FROM photos p WHERE p.root_id = r.id AND p.status = 'missing') AS missing
      FROM roots r ORDER BY r.id`).all() as Root[];
  }

  root(id: number): Root {
    const r = this.roots().find((x) => x.id === id);
    if (!r) throw new AppError('NOT_FOUND', `root ${id} does not exist`);
    return r;
  }

  addRoot(path: string): Root {
    const abs = resolve(path);
    const existing = this.db.prepare('SELECT id FROM roots WHERE path = ?').pluck().get(abs) as number | undefined;
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
    const id = Number(this.db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?)').run(abs, Date.now()).lastInsertRowid);
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
      const photos = db.prepare('SELECT COUNT(*) FROM photos WHERE root_id = ?').pluck().get(id) as number;
      const faces = db.prepare('SELECT COUNT(*) FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.root_id = ?').pluck().get(id) as number;
      const touched = db.prepare(`
        SELECT DISTINCT a.run_id AS runId, a.cluster FROM assignments a JOIN runs r ON r.id = a.run_id
        WHERE (r.kind = 'photo' AND a.item_id IN (SELECT id FROM photos WHERE root_id = ?))
           OR (r.kind = 'face' AND a.item_id IN (SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.root_id = ?))`)
        .all(id, id) as Array<{ runId: number; cluster: number }>;
      thumbs.push(...(db.prepare('SELECT DISTINCT hash FROM photos WHERE root_id = ?').pluck().all(id) as string[]));
      thumbs.push(...(db.prepare('SELECT DISTINCT f.thumb FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.root_id = ? AND f.thumb IS NOT NULL').pluck().all(id) as string[]));
      const gone = {
        photo: new Set(db.prepare('SELECT id FROM photos WHERE root_id = ?').pluck().all(id) as number[]),
        face: new Set(db.prepare('SELECT f.id FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.root_id = ?').pluck().all(id) as number[]),
      };
      db.prepare('DELETE FROM roots WHERE id = ?').run(id);
      dropMapPoints(db, gone);
      const byRun = new Map<number, number[]>();
      for (const t of touched) byRun.set(t.runId, [...(byRun.get(t.runId) ?? []), t.cluster]);
      for (const [runId, clusters] of byRun) {
        refreshClusters(db, runId, clusters);
        db.prepare('UPDATE runs SET n = (SELECT COUNT(*) FROM assignments WHERE run_id = ?) WHERE id = ?').run(runId, runId);
      }
      return { removed: root.path, photos, faces };
    }).immediate();
    const stillUsed = db.prepare('SELECT 1 FROM photos WHERE hash = ? UNION ALL SELECT 1 FROM faces WHERE thumb = ? LIMIT 1').pluck();
    for (const key of new Set(thumbs)) {
      if (stillUsed.get(key, key) !== undefined) continue;
      try { rmSync(this.thumbPath(key), { force: true }); } catch { /* a thumbnail left behind is only cache */ }
      if (isPhotoHash(key)) try { rmSync(previewFile(this.previewDir, key), { force: true }); } catch { /* only cache */ }
    }
    return report;
  }

  photos(q: { offset?: number; limit?: number; rootId?: number; status?: 'ok' | 'missing' } = {}): Page<PhotoSummary> {
    const offset = Math.max(0, Math.floor(q.offset ?? 0));
    const limit = Math.min(5000, Math.max(1, Math.floor(q.limit ?? 200)));
    const where: string[] = [];
    const args: unknown[] = [];
    where.push('status = ?'); args.push(q.status ?? 'ok');
    if (q.rootId !== undefined) { where.push('root_id = ?'); args.push(q.rootId); }
    const w = `WHERE ${where.join(' AND ')}`;
    const total = this.db.prepare(`SELECT COUNT(*) FROM photos ${w}`).pluck().get(...args) as number;
    const items = this.db.prepare(`SELECT ${PHOTO_COLS} FROM photos ${w} ORDER BY root_id, rel_path LIMIT ? OFFSET ?`)
      .all(...args, limit, offset) as PhotoSummary[];
    return { total, offset, items };
  }

  photo(id: number): PhotoDetail {
    const p = this.db.prepare(`SELECT ${PHOTO_COLS}, mtime_ms AS mtimeMs, orientation FROM photos WHERE id = ?`).get(id) as PhotoDetail | undefined;
    if (!p) throw new AppError('NOT_FOUND', `photo ${id} does not exist`);
    const faces = this.db.prepare('SELECT id, photo_id AS photoId, x, y, w, h, score, thumb FROM faces WHERE photo_id = ? ORDER BY id').all(id) as Array<{ id: number; photoId: number; x: number; y: number; w: number; h: number; score: number; thumb: string | null }>;
    p.faces = faces.map((f) => ({ id: f.id, photoId: f.photoId, box: [f.x, f.y, f.w, f.h], score: f.score, thumb: f.thumb }));
    return p;
  }

  scanIssues(offset = 0, limit = 200): Page<ScanIssue> {
    const total = this.db.prepare('SELECT COUNT(*) FROM scan_issues').pluck().get() as number;
    const items = this.db.prepare('SELECT path, root_id AS rootId, reason, at FROM scan_issues ORDER BY path LIMIT ? OFFSET ?')
      .all(Math.min(5000, Math.max(1, limit)), Math.max(0, offset)) as ScanIssue[];
    return { total, offset, items };
  }
}

const PHOTO_COLS = `id, path, rel_path AS relPath, root_id AS rootId, folder, hash, width, height, format, taken_at AS takenAt, status, size`;

/** Stored maps keep only the points of items that still exist (x, y pairs go with their ids). */
function dropMapPoints(db: Db, gone: Record<'photo' | 'face', Set<number>>): void {
  const maps = db.prepare('SELECT m.id, m.ids, m.xy, md.kind FROM maps m JOIN models md ON md.name = m.model').all() as Array<{ id: number; ids: Buffer; xy: Buffer; kind: 'photo' | 'face' }>;
  const upd = db.prepare('UPDATE maps SET n = ?, ids = ?, xy = ? WHERE id = ?');
  for (const m of maps) {
    const set = gone[m.kind];
    if (!set || set.size === 0) continue;
    const ids = new Int32Array(new Uint8Array(m.ids).buffer);
    const xy = new Float32Array(new Uint8Array(m.xy).buffer);
    const keep: number[] = [];
    for (let i = 0; i < ids.length; i++) if (!set.has(ids[i])) keep.push(i);
    if (keep.length === ids.length) continue;
    const ni = Int32Array.from(keep, (i) => ids[i]);
    const nxy = new Float32Array(keep.length * 2);
    keep.forEach((i, j) => { nxy[2 * j] = xy[2 * i]; nxy[2 * j + 1] = xy[2 * i + 1]; });
    upd.run(keep.length, Buffer.from(ni.buffer), Buffer.from(nxy.buffer), m.id);
  }
}
