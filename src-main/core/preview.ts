/**
 * Viewer-size previews: a photo of the library rendered once to a JPEG of at most PREVIEW_SIZE px on its
 * long side, EXIF-rotated exactly like the thumbnails and the face boxes (sharp's rotate(): the boxes stored with a
 * face are in pixels of the rotated photo, so the viewer maps them onto this image by proportion), cached on disk in
 * the library's cache next to the thumbnails, keyed by the content hash, and bounded in size (least recently served
 * removed first). Only photos of the library can be rendered: the caller names a hash, the file comes from the
 * library's own row. A vanished file is NOT_FOUND, a file that changed since its scan is CONFLICT, an undecodable or
 * truncated one is BAD_IMAGE, each naming the file; nothing here throws anything else for a bad photo.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import { AppError } from '../common/errors.ts';
import { PREVIEW_SIZE, isPhotoHash } from '../common/thumbs.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { ioError } from './io-errors.ts';
import { checkDecodeBudget, checkSides } from './models/image.ts';
import { readPhotoFile } from './read-file.ts';
import { previewFile } from './thumb-path.ts';

/** The row a hash names: the photo's file and its size when scanned. */
export interface PreviewSource {
  path: string;
  size: number;
}

export interface PreviewOptions {
  /** the most bytes the cache keeps on disk (default 256 MiB) */
  maxBytes?: number;
  /** the long side in px (default PREVIEW_SIZE) */
  size?: number;
}

/**
 * Renders a photo's bytes to the preview JPEG (EXIF-rotated, at most `size` px on the long side, never enlarged),
 * within the decode budget: a progressive JPEG or interlaced PNG that must be held whole beyond it (a 14000 px
 * progressive JPEG swapped in cost +600 MB per request) is a BAD_IMAGE naming the file, refused from its header.
 */
export async function renderPreview(path: string, input: Buffer, size = PREVIEW_SIZE): Promise<Buffer> {
  try {
    const img = sharp(input, { failOn: 'truncated', limitInputPixels: 200_000_000 });
    const meta = await img.metadata();
    if (meta.width && meta.height) checkSides(meta.width, meta.height);
    checkDecodeBudget(meta);
    return await img
      .rotate()
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 85, mozjpeg: false })
      .toBuffer();
  } catch (e) {
    throw new AppError('BAD_IMAGE', `${path}: cannot be decoded for the viewer (${(e as Error).message.split('\n')[0]}); the file may be damaged or truncated`);
  }
}

/**
 * The bytes of a scanned photo, to render a cache file from (previews here, thumbnails in ./thumb-cache.ts): a
 * vanished file is NOT_FOUND, one that changed since its scan CONFLICT, something that is not a regular file BAD_FILE,
 * each naming the file.
 */
export async function readScannedPhoto(src: PreviewSource): Promise<Buffer> {
  let input: Buffer;
  try {
    const st = await stat(src.path);
    if (!st.isFile()) throw new AppError('BAD_FILE', `${src.path}: is not a file`);
    if (st.size !== src.size) throw new AppError('CONFLICT', `${src.path}: changed since it was scanned (${src.size} → ${st.size} bytes); rescan its folder`);
    // the photo reader: the type checked on the open descriptor (a FIFO swapped in is never waited on), an image
    // signature first, never more than the size scanned (a larger file swapped in after the stat is not read whole),
    // a time bound
    input = await readPhotoFile(src.path, { maxBytes: src.size });
    if (input.length !== src.size) throw new AppError('CONFLICT', `${src.path}: changed since it was scanned (${src.size} → ${input.length} bytes); rescan its folder`);
  } catch (e) {
    if (e instanceof AppError) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new AppError('NOT_FOUND', `${src.path}: the photo's file is gone (moved or deleted); rescan its folder`);
    if (code === 'EFBIG') throw new AppError('CONFLICT', `${src.path}: changed since it was scanned (larger than its ${src.size} bytes); rescan its folder`);
    if (code === 'EFTYPE') throw new AppError('BAD_FILE', `${src.path}: ${(e as Error).message}`);
    if (code === 'ETIMEDOUT') throw new AppError('IO', `${src.path}: ${(e as Error).message}`);
    throw ioError(src.path, e, 'cannot read the photo');
  }
  return input;
}

/**
 * Renders of cache files from photos: one at a time per key (a second ask waits for the first), at most `limit` at once
 * (each decode may hold the decode budget); more wait their turn.
 */
export class RenderGate {
  private readonly pending = new Map<string, Promise<string>>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit = 2) {}

  run(key: string, render: () => Promise<string>): Promise<string> {
    let p = this.pending.get(key);
    if (!p) {
      p = this.queued(render).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  private async queued(render: () => Promise<string>): Promise<string> {
    while (this.running >= this.limit) await new Promise<void>((ok) => this.waiting.push(ok));
    this.running++;
    try {
      return await render();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

export class PreviewCache {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly size: number;
  /** hash → bytes on disk, least recently served evicted first (its file removed); loaded from the folder on first use */
  private index: LRUCache<string, number> | null = null;
  private readonly gate = new RenderGate();

  constructor(dir: string, private readonly source: (hash: string) => PreviewSource | null, opts: PreviewOptions = {}) {
    this.dir = dir;
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.size = opts.size ?? PREVIEW_SIZE;
  }

  /** Bytes the cache holds on disk now. */
  bytes(): number {
    return this.load().calculatedSize;
  }

  /** The preview file of the library's photo with this content hash, rendered on first use. */
  file(hash: string): Promise<string> {
    let file: string;
    try { file = previewFile(this.dir, hash); } catch (e) { return Promise.reject(e); } // refuses anything but a hash
    // a photo of the library now: a preview left in the cache by a removed folder is not served
    const src = this.source(hash);
    if (!src) return Promise.reject(new AppError('NOT_FOUND', `no photo of this library has the content hash ${hash}`));
    const index = this.load();
    const known = index.get(hash);
    if (known !== undefined && existsSync(file)) return Promise.resolve(file); // get() made it the most recently served
    return this.gate.run(hash, () => this.render(src, hash, file));
  }

  private async render(src: PreviewSource, hash: string, file: string): Promise<string> {
    const input = await readScannedPhoto(src);
    const out = await renderPreview(src.path, input, this.size);
    await mkdir(dirname(file), { recursive: true });
    // a cache (rebuilt from the photo): checked and verified, not fsynced
    await writeFileAtomic(file, out, { tmp: `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`, durable: false });
    // the newest is kept even when it alone is over the bound (the viewer is showing it)
    this.load().set(hash, out.byteLength);
    return file;
  }

  /** The folder's previews, oldest first (by mtime), read once. */
  private load(): LRUCache<string, number> {
    if (this.index) return this.index;
    const found: Array<[string, number, number]> = [];
    let subs: string[] = [];
    try { subs = readdirSync(this.dir); } catch { /* no cache yet */ }
    for (const s of subs) {
      let names: string[] = [];
      try { names = readdirSync(join(this.dir, s)); } catch { continue; }
      for (const n of names) {
        const hash = n.endsWith('.jpg') ? n.slice(0, -4) : '';
        if (!isPhotoHash(hash)) continue; // temp files of a write in progress, strays
        try { const st = statSync(join(this.dir, s, n)); found.push([hash, st.size, st.mtimeMs]); } catch { /* raced away */ }
      }
    }
    found.sort((a, b) => a[2] - b[2]);
    const dir = this.dir;
    this.index = new LRUCache<string, number>({
      maxSize: this.maxBytes,
      sizeCalculation: (n) => Math.max(1, Math.min(n, this.maxBytes)),
      dispose: (_n, h, reason) => {
        if (reason !== 'evict') return;
        try { rmSync(previewFile(dir, h), { force: true }); } catch { /* only cache */ }
      },
    });
    for (const [h, n] of found) this.index.set(h, n); // oldest first: the first to go
    return this.index;
  }
}
