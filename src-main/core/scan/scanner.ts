/**
 * Incremental folder scan. Walks each root (hidden and system folders skipped, symlink loops detected), skips files
 * whose size and mtime are unchanged, re-reads changed ones, follows moved or renamed files by content hash so that
 * their labels and embeddings stay with them, marks deleted files missing, and records every file it cannot read with a
 * reason. Work is committed in small transactions, so a scan killed half-way is finished by the next one without
 * duplicates.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { opendir, realpath, stat } from 'node:fs/promises';
import { AppError } from '../../common/errors.ts';
import { readPhotoFile } from '../read-file.ts';
import { isRetryableReason } from '../retry-reasons.ts';
import { fsPath, nameFromBytes } from '../fs-names.ts';
import { basename, dirname, extname, isAbsolute, join, relative, sep } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import type { ScanResult, VanishedFolder } from '../../common/types.ts';
import { vanishedWords } from '../../common/scan-words.ts';
import type { JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import { checkDecodeBudget, checkSides } from '../models/image.ts';
import { exifTakenAt } from './exif.ts';
import { finishRootScan, okPhotoCount, rootOkPhotoCount, scanStatements, type ScannedPhoto } from '../store/scan-repo.ts';
import { writeThumb } from './thumbs.ts';

export { isRetryableReason };

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif']);
const SYSTEM_FOLDERS = new Set(['$RECYCLE.BIN', 'System Volume Information', '@eaDir', 'lost+found', '.Trash', '.Trashes',
  '.Spotlight-V100', '.fseventsd', 'node_modules', '__MACOSX']);
/** Images above this many pixels are refused (decompression bombs). */
export const MAX_PIXELS = 200_000_000;

export interface ScanOptions {
  includeHidden?: boolean;
  concurrency?: number;
}

interface Candidate {
  path: string;
  size: number;
  mtimeMs: number;
}

interface WalkIssue { path: string; reason: string }

/** Whether `p` is `dir` or inside it (works for '/', where `dir + sep` would be '//'). */
export function isInside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

export interface WalkResult {
  files: Candidate[];
  issues: WalkIssue[];
  /** the root itself could not be opened (gone, unmounted, no permission) */
  rootFailed: boolean;
  /** folders whose listing failed: what was known under them is not marked missing */
  failedDirs: string[];
}

/**
 * Links: a symlinked photo file is read wherever it points; a symlinked folder is followed only when its real target
 * is inside the root's real folder (and not already scanned). A folder link leaving the root (to '/', to home, to
 * another disk) is not followed and is recorded as an issue: add its target as a folder of its own to scan it. So a
 * scan never leaves the folders it was given, and a link cannot make it walk the machine.
 */
export async function walkRoot(root: string, opts: ScanOptions, onFound: (n: number) => void,
  isCancelled: () => boolean): Promise<WalkResult> {
  const files: Candidate[] = [];
  const issues: WalkIssue[] = [];
  const failedDirs: string[] = [];
  const visited = new Set<string>();
  const hidden = (name: string) => !opts.includeHidden && (name.startsWith('.') || SYSTEM_FOLDERS.has(name));
  const rootReal = await realpath(root).catch((e: NodeJS.ErrnoException) => {
    issues.push({ path: root, reason: describeFsError(e, 'cannot open folder') });
    return null;
  });
  if (!rootReal) return { files, issues, rootFailed: true, failedDirs };
  try {
    if (!(await stat(rootReal)).isDirectory()) {
      issues.push({ path: root, reason: 'cannot open folder: not a folder' });
      return { files, issues, rootFailed: true, failedDirs };
    }
  } catch (e) {
    issues.push({ path: root, reason: describeFsError(e as NodeJS.ErrnoException, 'cannot open folder') });
    return { files, issues, rootFailed: true, failedDirs };
  }
  const stack: Array<{ dir: string; real: string }> = [{ dir: root, real: rootReal }];
  visited.add(rootReal);
  while (stack.length > 0) {
    if (isCancelled()) break;
    const { dir } = stack.pop()!;
    let handle;
    try {
      // names as bytes: a name that is not valid UTF-8 (Latin-1) is kept losslessly (core/fs-names.ts)
      handle = await opendir(fsPath(dir) as string, { encoding: 'buffer' as BufferEncoding });
    } catch (e) {
      issues.push({ path: dir, reason: describeFsError(e as NodeJS.ErrnoException, 'cannot open folder') });
      failedDirs.push(dir);
      if (dir === root) return { files, issues, rootFailed: true, failedDirs };
      continue;
    }
    const subdirs: Array<{ dir: string; real: string }> = [];
    try {
      for await (const ent of handle) {
        const name = nameFromBytes(ent.name as unknown as Buffer);
        if (hidden(name)) continue;
        const p = join(dir, name);
        let isDir = ent.isDirectory();
        let isFile = ent.isFile();
        if (ent.isSymbolicLink()) {
          try {
            const st = await stat(fsPath(p));
            isDir = st.isDirectory();
            isFile = st.isFile();
          } catch (e) {
            issues.push({ path: p, reason: describeFsError(e as NodeJS.ErrnoException, 'broken link') });
            continue;
          }
        }
        if (isDir) {
          let real: string;
          try { real = nameFromBytes(await realpath(fsPath(p), { encoding: 'buffer' })); } catch (e) {
            issues.push({ path: p, reason: describeFsError(e as NodeJS.ErrnoException, 'cannot resolve folder') });
            continue;
          }
          if (visited.has(real)) {
            if (ent.isSymbolicLink()) issues.push({ path: p, reason: `symlink loop: points to ${real}, already scanned` });
            continue;
          }
          if (!isInside(rootReal, real)) {
            // a folder link leaving the root is not followed (see above); '/' and other folders above the root are loops
            const why = isInside(real, rootReal) ? `symlink loop: points to ${real}, a folder above ${rootReal}; not followed`
              : `symlink leaves the folder: points to ${real}, not followed (add it as a folder to scan it)`;
            issues.push({ path: p, reason: why });
            continue;
          }
          visited.add(real);
          subdirs.push({ dir: p, real });
        } else if (isFile && IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) {
          try {
            const st = await stat(fsPath(p));
            files.push({ path: p, size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
            if (files.length % 500 === 0) onFound(files.length);
          } catch (e) {
            issues.push({ path: p, reason: describeFsError(e as NodeJS.ErrnoException, 'cannot stat file') });
          }
        }
      }
    } catch (e) {
      issues.push({ path: dir, reason: describeFsError(e as NodeJS.ErrnoException, 'cannot read folder') });
      failedDirs.push(dir);
    }
    subdirs.sort((a, b) => (a.dir < b.dir ? 1 : -1));
    stack.push(...subdirs);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  onFound(files.length);
  return { files, issues, rootFailed: false, failedDirs };
}


export function describeFsError(e: NodeJS.ErrnoException, what: string): string {
  switch (e.code) {
    case 'EACCES': case 'EPERM': return `${what}: permission denied`;
    case 'ELOOP': return `${what}: symlink loop`;
    case 'ENOENT': return `${what}: no longer exists`;
    case 'EISDIR': return `${what}: is a folder`;
    case 'EFTYPE': return /^not a readable image/.test(e.message) ? e.message : `${what}: ${e.message}`;
    case 'EFBIG': case 'ETIMEDOUT': return `${what}: ${e.message}`;
    default: return `${what}: ${e.code ?? e.message}`;
  }
}

export interface DecodedImage {
  hash: string;
  width: number;
  height: number;
  format: string;
  orientation: number | null;
  takenAt: string | null;
}

/** Decodes fully (so truncated files fail), writes the thumbnail, and returns what the library stores. */
export async function readImage(buf: Buffer, thumbDir: string, hashHint?: string): Promise<DecodedImage> {
  if (buf.length === 0) throw new Error('empty file (0 bytes)');
  const hash = hashHint ?? createHash('sha256').update(buf).digest('hex').slice(0, 32);
  let meta: Metadata;
  try {
    meta = await sharp(buf, { failOn: 'truncated', limitInputPixels: MAX_PIXELS }).metadata();
  } catch (e) {
    throw new Error(`not a readable image (${cleanSharpMessage(e)})`);
  }
  if (!meta.width || !meta.height || !meta.format) throw new Error('not a readable image (no dimensions)');
  if (meta.width * meta.height > MAX_PIXELS) throw new Error(`image too large (${meta.width}x${meta.height} pixels, limit ${MAX_PIXELS})`);
  checkSides(meta.width, meta.height);
  checkDecodeBudget(meta);
  try {
    await writeThumb(buf, thumbDir, hash);
  } catch (e) {
    // a full or read-only thumbnail cache is an I/O failure (retried by the next scan), not a bad image
    if (e instanceof AppError && e.code === 'IO') throw new Error(`cannot write the thumbnail (${e.message})`);
    throw new Error(`cannot decode image (${cleanSharpMessage(e)})`);
  }
  const orientation = meta.orientation ?? null;
  const swap = orientation !== null && orientation >= 5;
  return {
    hash,
    width: swap ? meta.height : meta.width,
    height: swap ? meta.width : meta.height,
    format: meta.format === 'heif' ? (meta.compression === 'av1' ? 'avif' : 'heic') : meta.format,
    orientation,
    takenAt: exifTakenAt(meta.exif),
  };
}

export function cleanSharpMessage(e: unknown): string {
  const lines = (e instanceof Error ? e.message : String(e)).split('\n').map((l) => l.trim()).filter(Boolean);
  let m = (lines[0] ?? 'unknown error').replace(/^Input (buffer|file) /, '');
  // libvips puts the detail on the next line ('has corrupt header:' / 'VipsJpeg: ...'): keep it, on one line
  if (m.endsWith(':')) m = lines[1] ? `${m} ${lines[1]}` : m.slice(0, -1);
  return m.length > 200 ? m.slice(0, 200) + '…' : m;
}

export async function scanRoots(lib: Library, rootIds: number[], ctx: JobContext, opts: ScanOptions = {}): Promise<ScanResult> {
  const db = lib.db;
  const roots = rootIds.map((id) => lib.root(id));
  const result: ScanResult = { roots: roots.length, seen: 0, added: 0, updated: 0, unchanged: 0, moved: 0, missing: 0, errors: 0, photos: 0 };
  const st = scanStatements(db);
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const vanished: VanishedFolder[] = [];

  for (const root of roots) {
    ctx.checkCancelled();
    ctx.progress(`walk ${root.path}`, 0, 0);
    const { files, issues, rootFailed, failedDirs } = await walkRoot(root.path, opts, (n) => ctx.progress(`walk ${root.path}`, n, 0), ctx.isCancelled);
    ctx.checkCancelled();
    if (rootFailed) {
      // a vanished or unreadable folder (unplugged disk, unmounted share) is reported as such, never as an unreadable
      // file nor as 'every photo is gone': its photos are left as they were
      const reason = (issues[0]?.reason ?? 'cannot open folder').replace(/^cannot open folder: /, '');
      vanished.push({ rootId: root.id, path: root.path, reason, photos: rootOkPhotoCount(db, root.id) });
      continue;
    }
    const now = Date.now();
    db.transaction(() => { for (const i of issues) st.setIssue(i.path, root.id, null, null, i.reason, now); })();
    result.errors += issues.length;
    const seen = new Set<string>();
    let done = 0;
    const total = files.length;
    ctx.progress('read', 0, total);
    let next = 0;
    type Outcome =
      | { kind: 'unchanged' | 'stillBad' | 'touch' | 'skip'; c: Candidate; id?: number }
      | { kind: 'issue'; c: Candidate; reason: string }
      | { kind: 'image'; c: Candidate; img: DecodedImage; existingId: number | null };
    const pending: Outcome[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      const batch = pending.splice(0, pending.length);
      db.transaction(() => {
        const t = Date.now();
        for (const o of batch) {
          const c = o.c;
          const rel = relative(root.path, c.path);
          const folder = basename(dirname(c.path));
          if (o.kind === 'issue') { st.setIssue(c.path, root.id, c.size, c.mtimeMs, o.reason, t); result.errors++; continue; }
          if (o.kind === 'skip') continue;
          if (o.kind !== 'image') {
            if (o.kind === 'stillBad') result.errors++;
            else { if (o.kind === 'touch') st.touchOk(o.id!, t); result.unchanged++; }
            continue;
          }
          const img = o.img;
          st.clearIssue(c.path);
          const row: ScannedPhoto = {
            rootId: root.id, path: c.path, relPath: rel, folder, size: c.size, mtimeMs: c.mtimeMs, hash: img.hash,
            width: img.width, height: img.height, format: img.format, orientation: img.orientation, takenAt: img.takenAt,
          };
          if (o.existingId !== null) {
            st.updatePhoto(o.existingId, row, t);
            result.updated++;
            continue;
          }
          // a file at a new path whose content is known: a move or rename when the old file is gone
          const same = st.photosByHash(img.hash);
          const moved = same.find((r) => r.path !== c.path && (r.status === 'missing' || !existsSync(fsPath(r.path))));
          if (moved) {
            st.updatePhoto(moved.id, row, t);
            result.moved++;
          } else {
            st.insertPhoto(row, t);
            result.added++;
          }
        }
      })();
    };
    const processOne = async (c: Candidate): Promise<Outcome> => {
      const existing = st.photoByPath(c.path);
      if (existing && existing.size === c.size && existing.mtimeMs === c.mtimeMs) {
        if (existing.status === 'ok') return { kind: 'unchanged', c };
        if (existsSync(lib.thumbPath(existing.hash))) return { kind: 'touch', c, id: existing.id };
      }
      if (!existing) {
        const issue = st.issueByPath(c.path);
        // an unchanged file that failed for its content stays refused; an I/O failure (gone for a moment, permission,
        // full thumbnail cache, timeout) is tried again
        if (issue && issue.size === c.size && issue.mtimeMs === c.mtimeMs && !isRetryableReason(issue.reason)) return { kind: 'stillBad', c };
      }
      let buf: Buffer;
      try {
        // type checked at read time (a FIFO put in the photo's place does not block), bounded, cancellable
        buf = await readPhotoFile(c.path, { signal: ctx.signal });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ECANCELED') return { kind: 'skip', c };
        return { kind: 'issue', c, reason: describeFsError(e as NodeJS.ErrnoException, 'cannot read file') };
      }
      try {
        const img = await readImage(buf, lib.thumbDir);
        return { kind: 'image', c, img, existingId: existing?.id ?? null };
      } catch (e) {
        return { kind: 'issue', c, reason: (e as Error).message };
      }
    };
    // outcomes are stored in the walk's (sorted) order whatever order the reads finish in, so that a new photo's id
    // follows its path: the same folder scanned into two libraries gives its photos the same ids
    const outcomes: Array<Outcome | undefined> = new Array(total);
    let stored = 0;
    const workers = Array.from({ length: Math.min(concurrency, Math.max(1, total)) }, async () => {
      while (next < total && !ctx.isCancelled()) {
        const at = next++;
        const c = files[at];
        seen.add(c.path);
        outcomes[at] = await processOne(c);
        while (stored < total && outcomes[stored]) { pending.push(outcomes[stored]!); outcomes[stored++] = undefined; }
        done++;
        if (pending.length >= 64) flush();
        if (done % 16 === 0 || done === total) ctx.progress('read', done, total);
      }
    });
    await Promise.all(workers);
    // a cancelled scan keeps what it read past a read still missing, in order
    for (let i = stored; i < total; i++) if (outcomes[i]) pending.push(outcomes[i]!);
    flush();
    ctx.checkCancelled();
    result.seen += total;
    // what was not seen in a complete walk is gone (or was skipped as hidden): mark missing, never delete
    const t = Date.now();
    db.transaction(() => {
      // photos under a folder whose listing failed are not known to be gone: left as they are
      const unknown = (p: string) => failedDirs.some((d) => isInside(d, p));
      const walkIssuePaths = new Set(issues.map((i) => i.path));
      result.missing += finishRootScan(db, root.id, t, (p) => !seen.has(p) && !unknown(p),
        (p) => !seen.has(p) && !walkIssuePaths.has(p) && !unknown(p));
    })();
  }
  result.photos = okPhotoCount(db);
  ctx.progress('done', result.seen, result.seen);
  // nothing could be scanned: a failure naming each folder; otherwise the scan is done and says which folders vanished
  if (vanished.length > 0 && vanished.length === roots.length) throw new AppError('IO', `cannot scan ${vanishedWords(vanished)}`);
  if (vanished.length > 0) result.vanished = vanished;
  return result;
}
