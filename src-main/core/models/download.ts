/**
 * Resumable model download: bytes go to `<dest>.partial` (resumed with an HTTP Range request),
 * size + SHA-256 are verified, then the file is renamed atomically onto `dest`.
 */
import { hashFileInto } from './files.ts';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';

export interface DownloadOptions {
  /** expected SHA-256 (hex); mismatch → BAD_MODEL and the partial file is removed */
  sha256?: string;
  /** expected size in bytes */
  size?: number;
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
  maxRedirects?: number;
  /** request headers (e.g. User-Agent) */
  headers?: Record<string, string>;
}

export type { DownloadResult } from '../../common/jobs.ts';
import type { DownloadResult } from '../../common/jobs.ts';

function request(url: string, headers: Record<string, string>, signal: AbortSignal | undefined, redirects: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new AppError('BAD_ARGUMENT', `url: not a valid URL: ${url}`));
      return;
    }
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
    if (!mod) {
      reject(new AppError('BAD_ARGUMENT', `url: unsupported protocol ${u.protocol}`));
      return;
    }
    const req = mod.get(u, { headers, signal, timeout: 60_000 }, (res) => {
      const code = res.statusCode ?? 0;
      if (code >= 300 && code < 400 && res.headers.location) {
        res.resume();
        if (redirects <= 0) {
          reject(new AppError('IO', `${url}: too many redirects`));
          return;
        }
        resolve(request(new URL(res.headers.location, u).toString(), headers, signal, redirects - 1));
        return;
      }
      resolve(res);
    });
    req.on('timeout', () => req.destroy(new Error('connection timed out')));
    req.on('error', reject);
  });
}

function ioError(url: string, e: unknown, signal?: AbortSignal): AppError {
  if (e instanceof AppError) return e;
  if (signal?.aborted) return new AppError('CANCELLED', `${url}: download cancelled (partial data kept for resume)`);
  return new AppError('IO', `${url}: download failed: ${(e as Error).message ?? String(e)} (partial data kept for resume)`);
}

/** Download `url` to `dest`, resuming `<dest>.partial` when present. */
export async function downloadModel(url: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const partial = `${dest}.partial`;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const want = opts.sha256?.toLowerCase();
  if (want !== undefined && !/^[0-9a-f]{64}$/.test(want)) throw new AppError('BAD_ARGUMENT', 'sha256: must be 64 hex digits');

  let have = 0;
  try {
    have = fs.statSync(partial).size;
  } catch {
    have = 0;
  }
  if (opts.size !== undefined && have > opts.size) {
    fs.rmSync(partial, { force: true });
    have = 0;
  }

  const hash = crypto.createHash('sha256');
  const headers: Record<string, string> = { 'user-agent': 'constellate', ...opts.headers };
  let res: http.IncomingMessage;
  try {
    if (have > 0) headers.range = `bytes=${have}-`;
    res = await request(url, headers, opts.signal, opts.maxRedirects ?? 5);
  } catch (e) {
    throw ioError(url, e, opts.signal);
  }

  const code = res.statusCode ?? 0;
  let append = false;
  let total: number | undefined;
  if (code === 206 && have > 0) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    if (m && Number(m[1]) === have) {
      append = true;
      total = m[3] === '*' ? undefined : Number(m[3]);
    }
  } else if (code === 416 && have > 0) {
    // nothing more to send: the partial file may already be complete
    res.resume();
    return finish(url, dest, partial, have, have, hashFileInto(partial, crypto.createHash('sha256')), want, opts.size);
  }
  if (!append) {
    if (code !== 200 && code !== 206) {
      res.resume();
      throw new AppError('IO', `${url}: HTTP ${code}`);
    }
    if (code === 206) {
      // server ignored our offset: start over
      res.destroy();
      fs.rmSync(partial, { force: true });
      return downloadModel(url, dest, opts);
    }
    have = 0;
    const len = Number(res.headers['content-length']);
    total = Number.isFinite(len) ? len : undefined;
  }
  total ??= opts.size;
  if (opts.size !== undefined && total !== undefined && total !== opts.size) {
    res.destroy();
    throw new AppError('BAD_MODEL', `${url}: server reports ${total} bytes, expected ${opts.size}`);
  }
  if (append) hashFileInto(partial, hash);
  const resumedFrom = append ? have : 0;

  const outFd = fs.openSync(partial, append ? 'a' : 'w');
  let received = have;
  try {
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        try {
          fs.writeSync(outFd, chunk);
        } catch (e) {
          res.destroy(e as Error);
          return;
        }
        hash.update(chunk);
        received += chunk.length;
        opts.onProgress?.(received, total);
      });
      res.on('end', () => (res.complete ? resolve() : reject(new Error('connection closed early'))));
      res.on('aborted', () => reject(new Error('connection closed early')));
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(new Error('connection closed early'));
      });
    });
  } catch (e) {
    throw ioError(url, e, opts.signal);
  } finally {
    fs.closeSync(outFd);
  }
  if (total !== undefined && received < total) throw new AppError('IO', `${url}: got ${received} of ${total} bytes (partial data kept for resume)`);
  return finish(url, dest, partial, received, resumedFrom, hash, want, opts.size);
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
