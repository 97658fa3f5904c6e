/**
 * The HTTP layer of serve mode, kept apart from the API dispatch: cookies, the per-instance session, body limits and
 * file streaming. Nothing here may throw out of a request: every failure becomes an error status.
 *
 * Session design (RELIABILITY.md, "Serve mode: session"): cookies ignore ports, so any other server on 127.0.0.1
 * receives every cookie whose path matches. The token printed by `serve` is exchanged once per browser for a random
 * session id in a cookie that is
 *  - named for this instance (`cst_<port>_<serverId>`), so two Constellate servers never overwrite each other's;
 *  - scoped to this instance's random path `/s/<serverId>/` (where the app lives), so the browser sends it to no other
 *    port unless a page asks that port for that unguessable path;
 *  - HttpOnly and SameSite=Strict; and it is accepted only under that path, only with a Host and (when sent) Origin
 *    naming this port, and, for API calls, only with the `x-constellate-csrf` header (which no other origin can add
 *    without a CORS preflight we never grant).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, constants as fsc } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../common/errors.ts';

/** Parses a Cookie header; values that are not valid percent-encoding are kept as sent, never thrown on. */
export function parseCookies(h: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (typeof h !== 'string' || h.length > 16384) return out;
  for (const part of h.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    let v = part.slice(i + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    if (!name || name in out) continue; // the first of two same-named cookies wins (the most specific path)
    try { out[name] = v.includes('%') ? decodeURIComponent(v) : v; } catch { out[name] = v; }
  }
  return out;
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const CSRF_HEADER = 'x-constellate-csrf';
const MAX_SESSIONS = 64;

/** The sessions of one server instance. */
export class Sessions {
  readonly serverId = randomBytes(12).toString('base64url');
  /** the app's path; the session cookie is sent only under it */
  readonly base = `/s/${this.serverId}/`;
  private readonly live = new Map<string, number>();
  constructor(private readonly port: () => number) {}

  get cookieName(): string { return `cst_${this.port()}_${this.serverId}`; }

  /** A new session (after the token was shown); returns its Set-Cookie header. */
  mint(): string {
    const id = randomBytes(32).toString('base64url');
    this.live.set(id, Date.now());
    while (this.live.size > MAX_SESSIONS) this.live.delete(this.live.keys().next().value!);
    return `${this.cookieName}=${id}; Path=${this.base}; HttpOnly; SameSite=Strict`;
  }

  /** True when the request carries one of this instance's live sessions (only meaningful under `base`). */
  valid(req: IncomingMessage): boolean {
    const v = parseCookies(req.headers.cookie)[this.cookieName];
    if (!v || v.length !== 43) return false;
    let ok = false;
    for (const id of this.live.keys()) if (safeEqual(id, v)) ok = true;
    return ok;
  }
}

/** A body refused: the HTTP status and the ErrorCode answered (413 too large and 400 are BAD_ARGUMENT, 503 busy IO). */
export class BodyError extends Error {
  readonly code: ErrorCode;
  constructor(readonly status: number, message: string) { super(message); this.code = status === 503 ? 'IO' : 'BAD_ARGUMENT'; }
}

export interface BodyLimits {
  /** largest JSON body, bytes */
  json: number;
  /** largest binary (application/x-constellate) body, bytes */
  binary: number;
}

/** Bytes of request bodies being read right now, over all requests: a cap on what concurrent uploads can hold. */
let inFlight = 0;
const IN_FLIGHT_CAP = 256 << 20;

/**
 * Reads a body within its limit: a declared Content-Length over it is refused at once (413, nothing read), a chunked
 * body is cut off when it passes it. Rejects with a BodyError carrying the status to answer.
 */
export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const binary = (req.headers['content-type'] ?? '').startsWith('application/x-constellate');
  const max = binary ? limits.binary : limits.json;
  const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : null;
  if (declared !== null && (!Number.isFinite(declared) || declared > max)) {
    return Promise.reject(new BodyError(413, `request body larger than ${max} bytes (${binary ? 'binary' : 'JSON'} limit)`));
  }
  if (inFlight + (declared ?? 0) > IN_FLIGHT_CAP) return Promise.reject(new BodyError(503, 'too many large requests at once; retry'));
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0, done = false;
    const finish = (e: Error | null, b?: Buffer) => {
      if (done) return;
      done = true;
      inFlight -= size;
      if (e) fail(e); else ok(b!);
    };
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      inFlight += c.length;
      if (size > max) { finish(new BodyError(413, `request body larger than ${max} bytes (${binary ? 'binary' : 'JSON'} limit)`)); req.pause(); return; }
      chunks.push(c);
    });
    req.on('end', () => finish(null, Buffer.concat(chunks)));
    req.on('error', (e) => finish(e));
    req.on('close', () => finish(new BodyError(400, 'request aborted')));
  });
}

/** Answers with a JSON error; after an unread body the connection is closed so its rest is not parsed as a request. */
export function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string, close = false): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = JSON.stringify({ error: { code, message } });
  const h: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' };
  if (close) h.connection = 'close';
  res.writeHead(status, h);
  res.end(body, () => { if (close) res.socket?.destroy(); });
}

/**
 * Streams one regular file: opened once (no stat/open race), refused with 404 when it is missing or not a regular file,
 * 500/403 when it cannot be read; a read error after the headers ends the response, never the process.
 */
export function serveFile(res: ServerResponse, file: string, headers: Record<string, string | number>, head = false): void {
  let fd: number;
  try {
    fd = openSync(file, fsc.O_RDONLY | (fsc.O_NOFOLLOW ?? 0) | (fsc.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return sendError(res, 404, 'NOT_FOUND', 'not found');
    if (code === 'EACCES' || code === 'EPERM') return sendError(res, 403, 'IO', 'file not readable (permission denied)');
    return sendError(res, 500, 'INTERNAL', `cannot open file (${code ?? 'error'})`);
  }
  let size: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) { closeSync(fd); return sendError(res, 404, 'NOT_FOUND', 'not found'); }
    size = st.size;
  } catch (e) {
    closeSync(fd);
    return sendError(res, 500, 'INTERNAL', `cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const stream = createReadStream('', { fd, autoClose: true, end: size > 0 ? size - 1 : undefined, start: 0 });
  let started = false;
  stream.on('error', (e) => {
    if (!started && !res.headersSent) sendError(res, 500, 'INTERNAL', `cannot read file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    else res.destroy();
  });
  res.on('close', () => stream.destroy());
  if (head || size === 0) {
    res.writeHead(200, { ...headers, 'content-length': size });
    stream.destroy();
    res.end();
    return;
  }
  // headers go out with the first chunk, so an error on the first read still gets a clean status
  stream.once('data', (c) => {
    started = true;
    res.writeHead(200, { ...headers, 'content-length': size });
    res.write(c);
    stream.pipe(res);
  });
}

/** Wraps a request handler so that a throw or a rejection answers 500 instead of reaching the process. */
export function guarded<A extends unknown[]>(res: (...a: A) => ServerResponse | null, fn: (...a: A) => unknown, log: (e: unknown) => void): (...a: A) => void {
  return (...a: A) => {
    const fail = (e: unknown) => {
      log(e);
      const r = res(...a);
      if (r) sendError(r, 500, 'INTERNAL', 'internal error');
    };
    try {
      const p = fn(...a);
      if (p && typeof (p as Promise<unknown>).then === 'function') (p as Promise<unknown>).catch(fail);
    } catch (e) { fail(e); }
  };
}
