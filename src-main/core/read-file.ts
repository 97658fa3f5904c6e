/**
 * Reading a photo file safely: the file type is checked at read time (a photo replaced by a FIFO or a device after the
 * folder walk must not block a thread forever), the size is bounded, the first bytes must be an image signature before
 * the whole file is read (a 1.5 GB non-image named .jpg is refused after 16 bytes), and the read gives up after a
 * timeout or when the job is cancelled (a hung network mount). Errors carry an errno-like `code` and read as the
 * scanner's reasons ('not a regular file (a FIFO)', 'file too large …', 'read timed out …').
 */
import { fsPath } from './fs-names.ts';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { config } from './config.ts';

/** Largest photo file read (default 1 GiB; CONSTELLATE_MAX_PHOTO_BYTES). */
export function maxPhotoBytes(): number {
  const v = (config.positive('CONSTELLATE_MAX_PHOTO_BYTES') ?? NaN);
  return Number.isFinite(v) && v > 0 ? v : 1 << 30;
}

/** A read that has not finished after this long fails (default 60 s; CONSTELLATE_READ_TIMEOUT_MS). */
export function readTimeoutMs(): number {
  const v = (config.positive('CONSTELLATE_READ_TIMEOUT_MS') ?? NaN);
  return Number.isFinite(v) && v > 0 ? v : 60_000;
}

/** Whether the first bytes are those of an image format sharp reads (or SVG/XML text, which librsvg reads). */
export function looksLikeImage(head: Uint8Array): boolean {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length < 4) return b.length > 0 && b[0] === 0x3c;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return true; // JPEG
  if (b.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]))) return true; // PNG
  const a4 = b.subarray(0, 4).toString('latin1');
  if (a4 === 'GIF8') return true;
  if (a4 === 'RIFF' && b.length >= 12 && b.subarray(8, 12).toString('latin1') === 'WEBP') return true;
  if (a4 === 'II*\0' || a4 === 'MM\0*' || a4 === 'II+\0' || a4 === 'MM\0+') return true; // TIFF / BigTIFF
  if (b.length >= 12 && b.subarray(4, 8).toString('latin1') === 'ftyp') return true; // HEIF / AVIF
  if (b.length >= 12 && b.subarray(0, 12).equals(Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]))) return true; // JPEG 2000
  // SVG / XML text (optionally after a BOM or whitespace): librsvg renders it
  const text = b.toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  return text.startsWith('<');
}

function fail(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function typeName(st: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a folder';
  return 'not a plain file';
}

export interface ReadPhotoOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  maxBytes?: number;
  /** skip the signature check (callers that accept any bytes) */
  anyContent?: boolean;
}

/** Races `p` against the timeout and the abort signal; a late result of `p` is cleaned up with `onLate`. */
function bounded<T>(p: Promise<T>, path: string, o: ReadPhotoOptions, onLate?: (v: T) => void): Promise<T> {
  const ms = o.timeoutMs ?? readTimeoutMs();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const done = () => { settled = true; clearTimeout(timer); o.signal?.removeEventListener('abort', onAbort); };
    const timer = setTimeout(() => { if (!settled) { done(); reject(fail('ETIMEDOUT', `read timed out after ${Math.round(ms / 1000)} s`)); } }, ms);
    timer.unref?.();
    const onAbort = () => { if (!settled) { done(); reject(fail('ECANCELED', 'cancelled')); } };
    if (o.signal?.aborted) { onAbort(); return; }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { if (settled) { onLate?.(v); return; } done(); resolve(v); },
      (e) => { if (settled) return; done(); reject(e); });
  });
}

/** Reads a photo file whole, after checking its type, size and signature; see the module comment. */
export async function readPhotoFile(path: string, o: ReadPhotoOptions = {}): Promise<Buffer> {
  const max = o.maxBytes ?? maxPhotoBytes();
  // O_NONBLOCK: opening a FIFO with no writer returns at once instead of blocking a libuv thread forever
  const fh: FileHandle = await bounded(open(fsPath(path), constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0)), path, o,
    (late) => { void late.close().catch(() => undefined); });
  try {
    const st = await bounded(fh.stat(), path, o);
    if (!st.isFile()) throw fail('EFTYPE', `not a regular file (${typeName(st)})`);
    if (st.size > max) throw fail('EFBIG', `file too large (${st.size} bytes, limit ${max})`);
    if (st.size === 0) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    let checked = !!o.anyContent;
    const head = Math.min(16, st.size);
    while (off < st.size) {
      // the first 16 bytes alone: a file that is no image is refused before it is read whole
      const want = !checked ? head - off : Math.min(st.size - off, 8 << 20);
      const { bytesRead } = await bounded(fh.read(buf, off, want, off), path, o);
      if (bytesRead === 0) break; // shrank while reading: what we have is the file
      off += bytesRead;
      if (!checked && off >= head) {
        checked = true;
        if (!looksLikeImage(buf.subarray(0, off))) throw fail('EFTYPE', 'not a readable image (no image signature in its first bytes)');
      }
    }
    return off === st.size ? buf : buf.subarray(0, off);
  } finally {
    void fh.close().catch(() => undefined);
  }
}
