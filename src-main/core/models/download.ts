/**
 * Resumable model download with `fetch` (Node's undici): bytes go to `<dest>.partial` (resumed with an HTTP Range
 * request), size + SHA-256 are verified, then the file is renamed atomically onto `dest`. A failure is an AppError
 * that says what went wrong: IO for the network (cannot connect, host not found, timed out, cut off, HTTP status),
 * BAD_MODEL for a wrong size or checksum, CANCELLED; the bytes received are kept for the next try, and the error says whether any were.
 */
import { hashFileInto } from './files.ts';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import { ioError as fsError } from '../io-errors.ts';

export interface DownloadOptions {
  /** expected SHA-256 (hex); mismatch → BAD_MODEL and the partial file is removed */
  sha256?: string;
  /** expected size in bytes */
  size?: number;
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
  /** request headers (e.g. User-Agent) */
  headers?: Record<string, string>;
  /** give up when the server sends nothing for this long (connect included); default 60 s */
  idleTimeoutMs?: number;
}

export type { DownloadResult } from '../../common/jobs.ts';
import type { DownloadResult } from '../../common/jobs.ts';

/**
 * What a failed download leaves, in words: the partial file's bytes are kept for the next try only when some arrived;
 * an empty one is removed (nothing to resume).
 */
function kept(partial: string): string {
  let n = 0;
  try { n = fs.statSync(partial).size; } catch { n = 0; }
  if (n > 0) return ` (partial data kept for resume: ${n} bytes)`;
  fs.rmSync(partial, { force: true });
  return ' (nothing was received, so nothing is kept)';
}

/** Why a fetch failed, in words (undici wraps the socket error as `cause`). */
function networkReason(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string; name?: string } };
  const c = err?.cause;
  const code = c?.code ?? (err as { code?: string }).code;
  switch (code) {
    case 'ECONNREFUSED': return 'cannot connect: the server refused the connection (ECONNREFUSED)';
    case 'ENOTFOUND': case 'EAI_AGAIN': return `cannot connect: host not found (${code}; no internet connection?)`;
    case 'ECONNRESET': case 'UND_ERR_SOCKET': return `the connection was cut off (${code})`;
    case 'ETIMEDOUT': case 'UND_ERR_CONNECT_TIMEOUT': case 'UND_ERR_HEADERS_TIMEOUT': case 'UND_ERR_BODY_TIMEOUT': return `timed out (${code})`;
    case 'ENETUNREACH': case 'EHOSTUNREACH': return `cannot connect: network unreachable (${code}; no internet connection?)`;
    case 'CERT_HAS_EXPIRED': case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': case 'DEPTH_ZERO_SELF_SIGNED_CERT': case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `the server's TLS certificate was refused (${code})`;
  }
  const msg = c?.message ?? err?.message ?? String(e);
  return code ? `${msg} (${code})` : msg;
}

function downloadError(url: string, partial: string, e: unknown, signal: AbortSignal | undefined, idle: { fired: boolean; ms: number }): AppError {
  if (e instanceof AppError) return e;
  if (signal?.aborted) return new AppError('CANCELLED', `${url}: download cancelled${kept(partial)}`);
  if (idle.fired) return new AppError('IO', `${url}: download failed: timed out (nothing received for ${idle.ms >= 1000 ? `${Math.round(idle.ms / 1000)} s` : `${idle.ms} ms`})${kept(partial)}`);
  return new AppError('IO', `${url}: download failed: ${networkReason(e)}${kept(partial)}`);
}

/** Writes all of `chunk` (continuing short writes). */
function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
}

/** Download `url` to `dest`, resuming `<dest>.partial` when present. */
export async function downloadModel(url: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const partial = `${dest}.partial`;
  let u: URL;
  try { u = new URL(url); } catch { throw new AppError('BAD_ARGUMENT', `url: not a valid URL: ${url}`); }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new AppError('BAD_ARGUMENT', `url: unsupported protocol ${u.protocol}`);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const want = opts.sha256?.toLowerCase();
  if (want !== undefined && !/^[0-9a-f]{64}$/.test(want)) throw new AppError('BAD_ARGUMENT', 'sha256: must be 64 hex digits');

  let have = 0;
  try { have = fs.statSync(partial).size; } catch { have = 0; }
  if (opts.size !== undefined && have > opts.size) {
    fs.rmSync(partial, { force: true });
    have = 0;
  }

  // one controller for cancel and the idle timeout (reset by every chunk)
  const idle = { fired: false, ms: opts.idleTimeoutMs ?? 60_000, timer: undefined as NodeJS.Timeout | undefined };
  const ac = new AbortController();
  const onAbort = () => ac.abort(opts.signal?.reason);
  if (opts.signal?.aborted) throw new AppError('CANCELLED', `${url}: download cancelled${kept(partial)}`);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const arm = () => { clearTimeout(idle.timer); idle.timer = setTimeout(() => { idle.fired = true; ac.abort(new Error('idle timeout')); }, idle.ms); };
  const fail = (e: unknown) => downloadError(url, partial, e, opts.signal, idle);
  try {
    const headers: Record<string, string> = { 'user-agent': 'constellate', ...opts.headers };
    if (have > 0) headers.range = `bytes=${have}-`;
    arm();
    let res: Response;
    try {
      res = await fetch(u, { headers, signal: ac.signal, redirect: 'follow' });
    } catch (e) {
      throw fail(e);
    }
    const code = res.status;
    let append = false;
    let total: number | undefined;
    if (code === 206 && have > 0) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (m && Number(m[1]) === have) {
        append = true;
        total = m[3] === '*' ? undefined : Number(m[3]);
      }
    } else if (code === 416 && have > 0) {
      // nothing more to send: the partial file may already be complete
      await res.body?.cancel().catch(() => {});
      return finish(url, dest, partial, have, have, hashFileInto(partial, crypto.createHash('sha256')), want, opts.size);
    }
    if (!append) {
      if (code !== 200 && code !== 206) {
        await res.body?.cancel().catch(() => {});
        throw new AppError('IO', `${url}: HTTP ${code}${res.statusText ? ` ${res.statusText}` : ''}`);
      }
      if (code === 206) {
        // the server ignored our offset: start over
        await res.body?.cancel().catch(() => {});
        fs.rmSync(partial, { force: true });
        clearTimeout(idle.timer);
        opts.signal?.removeEventListener('abort', onAbort);
        return downloadModel(url, dest, opts);
      }
      have = 0;
      const len = Number(res.headers.get('content-length') ?? NaN);
      total = Number.isFinite(len) ? len : undefined;
    }
    total ??= opts.size;
    if (opts.size !== undefined && total !== undefined && total !== opts.size) {
      await res.body?.cancel().catch(() => {});
      throw new AppError('BAD_MODEL', `${url}: server reports ${total} bytes, expected ${opts.size}`);
    }
    const hash = crypto.createHash('sha256');
    if (append) hashFileInto(partial, hash);
    const resumedFrom = append ? have : 0;

    let outFd: number;
    try { outFd = fs.openSync(partial, append ? 'a' : 'w'); } catch (e) { throw fsError(partial, e, 'cannot write the download'); }
    let received = have;
    try {
      if (res.body) {
        for await (const chunk of res.body) {
          arm();
          try { writeAll(outFd, chunk); } catch (e) { throw fsError(partial, e, 'cannot write the download'); }
          hash.update(chunk);
          received += chunk.length;
          opts.onProgress?.(received, total);
        }
      }
    } catch (e) {
      throw fail(e);
    } finally {
      fs.closeSync(outFd);
    }
    if (total !== undefined && received < total) throw new AppError('IO', `${url}: download failed: the connection was cut off after ${received} of ${total} bytes${kept(partial)}`);
    return finish(url, dest, partial, received, resumedFrom, hash, want, opts.size);
  } finally {
    clearTimeout(idle.timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

function finish(url: string, dest: string, partial: string, size: number, resumedFrom: number, hash: crypto.Hash, want: string | undefined, wantSize: number | undefined): DownloadResult {
  const got = hash.digest('hex');
  if (wantSize !== undefined && size !== wantSize) {
    fs.rmSync(partial, { force: true });
    throw new AppError('BAD_MODEL', `${url}: downloaded ${size} bytes, expected ${wantSize}`);
  }
  if (want !== undefined && got !== want) {
    fs.rmSync(partial, { force: true });
    throw new AppError('BAD_MODEL', `${url}: checksum mismatch (sha256 ${got}, expected ${want}); the download was discarded`);
  }
  fs.renameSync(partial, dest);
  return { path: dest, size, sha256: got, resumedFrom };
}
