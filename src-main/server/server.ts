/**
 * Serve mode: the AppApi over loopback HTTP + WebSocket, and the renderer's static files. Binds 127.0.0.1 only. Every
 * request, static files and the WebSocket included, needs the per-start random token (query `token` or the
 * `x-constellate-token` header) or a session of this instance (the cookie the token URL sets, valid only under the
 * instance's path `/s/<id>/`: see http-guard.ts); Host and Origin must name this server (DNS rebinding).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { previewHashOfRoute, thumbKeyOfRoute } from '../common/thumbs.ts';
import { isApiMethod } from '../common/api.ts';
import { dispatch } from '../common/dispatch.ts';
import { decodeMessage, encodeMessage, hasBinary } from '../common/codec.ts';
import { AppError, toPayload, type ErrorCode } from '../common/errors.ts';
import { config } from '../core/config.ts';
import type { CoreService } from '../core/service.ts';
import { LibraryHost } from '../core/library-host.ts';
import { BodyError, CSRF_HEADER, guarded, readBody, safeEqual, sendError, serveFile, Sessions } from './http-guard.ts';

export interface ServeOptions {
  service: CoreService;
  port?: number;
  /** folder with the built renderer (index.html, assets/) */
  rendererDir: string;
  token?: string;
  /** largest request body accepted, bytes (binary bodies; JSON bodies are also held to maxJsonBody) */
  maxBody?: number;
  /** largest JSON request body, bytes (default 8 MiB: JSON.parse of more would block the event loop) */
  maxJsonBody?: number;
  /** where request-scoped internal errors are logged (default stderr) */
  log?: (message: string) => void;
  /** largest API call body accepted, bytes (default API_MAX_BODY) */
  apiMaxBody?: number;
  /** put the served library in the user's recent list at start (serve mode does; tests need not) */
  remember?: boolean;
  /** the recent libraries file (default: the user data folder's) */
  recentFile?: string;
}

/** An API call's options object is small (ids, paths, parameters): 4 MiB holds a move of 400,000 item ids. */
export const API_MAX_BODY = 4 << 20;

/** The one options object of an API call from its body: empty (no options), JSON, or the binary codec. */
export function parseApiBody(body: Buffer, contentType: string): unknown {
  if (body.length === 0) return undefined;
  try {
    if (contentType.startsWith('application/x-constellate')) return decodeMessage(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    // a malformed or pathologically nested body is the caller's error, never an internal one
    throw new AppError('BAD_ARGUMENT', `request body: not a JSON options object (${e instanceof RangeError ? 'nested too deeply' : (e as Error).message})`);
  }
}

/** A running server; disposing it (`await using`) is close(). */
export interface RunningServer extends AsyncDisposable {
  url: string;
  port: number;
  token: string;
  /** the app's path for this instance (`/s/<id>/`), where its session cookie is valid */
  base: string;
  /** name of this instance's session cookie */
  cookieName: string;
  requests: () => number;
  /** the library served now (openLibrary switches it; the service given at start stays its caller's to close) */
  host: LibraryHost;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.woff2': 'font/woff2', '.json': 'application/json',
  '.ico': 'image/x-icon', '.map': 'application/json',
};

export function httpStatus(code: ErrorCode): number {
  switch (code) {
    case 'BAD_ARGUMENT': case 'BAD_FILE': case 'BAD_IMAGE': case 'BAD_MODEL': case 'NOT_A_LIBRARY': return 400;
    // a library file the user chose to open that is damaged or of a newer app: their file, not our failure
    case 'LIBRARY_CORRUPT': case 'LIBRARY_TOO_NEW': return 422;
    case 'UNAUTHORIZED': return 401;
    case 'NOT_FOUND': case 'MODEL_MISSING': return 404;
    case 'CONFLICT': case 'LIBRARY_LOCKED': return 409;
    case 'CANCELLED': return 499;
    default: return 500;
  }
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const rendererDir = resolve(opts.rendererDir);
  const maxBody = opts.maxBody ?? 64 << 20;
  // binary-codec bodies are held to the API limit too (a 60 MB binary body once froze serve for 21 minutes at 3.3 GB)
  const limits = { binary: Math.min(maxBody, opts.apiMaxBody ?? API_MAX_BODY), json: Math.min(maxBody, opts.maxJsonBody ?? API_MAX_BODY) };
  const log = opts.log ?? ((m: string) => process.stderr.write(`serve: ${m}\n`));
  const sessions = new Sessions(() => port);
  // the library served now: every request asks the host (openLibrary switches it)
  const host = new LibraryHost(opts.service, { remember: opts.remember === true, recentFile: opts.recentFile });
  let port = 0;
  let served = 0;

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  interface Allowed { path: string; via: 'token' | 'session' }
  /** the route (the instance path stripped) and how the request proved itself, else the status and reason to refuse it */
  const check = (req: IncomingMessage, url: URL): Allowed | [number, string] => {
    if (!allowedHosts().has(req.headers.host ?? '')) return [403, 'forbidden host'];
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return [403, 'forbidden origin'];
    let path = url.pathname;
    const under = path.startsWith(sessions.base);
    if (under) path = path.slice(sessions.base.length - 1);
    const header = req.headers['x-constellate-token'];
    const given = url.searchParams.get('token') ?? (typeof header === 'string' ? header : undefined);
    if (given !== undefined) {
      if (given && safeEqual(given, token)) return { path, via: 'token' };
    } else if (under && sessions.valid(req)) return { path, via: 'session' };
    return [401, 'unauthorized: open the URL with the token that `constellate serve` printed'];
  };

  const securityHeaders = (): Record<string, string> => ({
    'content-security-policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  });

  const sendFile = (req: IncomingMessage, res: ServerResponse, file: string, extra: Record<string, string> = {}) =>
    serveFile(res, file, { 'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream', ...securityHeaders(), ...extra }, req.method === 'HEAD');

  /** The API door: one options object per call (JSON, or the binary codec), validated by the shared dispatch. */
  const handleApi = async (req: IncomingMessage, res: ServerResponse, method: string) => {
    if (req.method !== 'POST') return sendError(res, 405, 'BAD_ARGUMENT', 'API calls are POST requests');
    if (!isApiMethod(method)) return sendError(res, 404, 'NOT_FOUND', `no API method ${JSON.stringify(method)}`);
    let body: Buffer;
    try {
      body = await readBody(req, limits);
    } catch (e) {
      if (e instanceof BodyError) return sendError(res, e.status, e.code, e.message, true);
      throw e;
    }
    try {
      const arg = parseApiBody(body, req.headers['content-type'] ?? '');
      const result = await dispatch(host.service, method, arg, { checkResults: config.checkResults() });
      if (hasBinary(result)) {
        const bytes = encodeMessage(result);
        res.writeHead(200, { 'content-type': 'application/x-constellate', 'content-length': bytes.byteLength, 'cache-control': 'no-store' });
        res.end(bytes);
      } else {
        const text = JSON.stringify({ result: result ?? null });
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
        res.end(text);
      }
    } catch (e) {
      const p = toPayload(e);
      if (!res.headersSent) sendError(res, httpStatus(p.code), p.code, p.message);
      else res.destroy();
    }
  };

  /** A photo's viewer-size preview, rendered on first use (a damaged or truncated photo is 422, a vanished one 404). */
  /** A cache file made from a photo on first ask (a preview, a thumbnail the cache lost). */
  const serveRendered = async (req: IncomingMessage, res: ServerResponse, make: () => Promise<string>) => {
    let file: string;
    try {
      file = await make();
    } catch (e) {
      const p = toPayload(e);
      if (!res.headersSent) sendError(res, p.code === 'BAD_IMAGE' ? 422 : httpStatus(p.code), p.code, p.message);
      return;
    }
    return sendFile(req, res, file, { 'cache-control': 'private, max-age=31536000, immutable' });
  };

  const server = createServer(guarded((_req, res) => res, (req: IncomingMessage, res: ServerResponse) => {
    served++;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return sendError(res, 400, 'BAD_ARGUMENT', 'bad URL');
    }
    const allowed = check(req, url);
    if (Array.isArray(allowed)) return sendError(res, allowed[0], 'UNAUTHORIZED', allowed[1]);
    const path = allowed.path;
    try {
      if (path.startsWith('/api/')) {
        // a session cookie rides along on any request the browser makes; our client adds this header, which no other
        // origin can send without a CORS preflight (never granted)
        if (allowed.via === 'session' && req.headers[CSRF_HEADER] !== '1') return sendError(res, 403, 'UNAUTHORIZED', `API calls with a session need the ${CSRF_HEADER} header`);
        return handleApi(req, res, path.slice(5));
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'BAD_ARGUMENT', 'method not allowed');
      if (path.startsWith('/thumb/')) {
        const key = thumbKeyOfRoute(path);
        if (!key) return sendError(res, 404, 'NOT_FOUND', 'no such thumbnail');
        return serveRendered(req, res, () => host.service.lib.thumbFile(key));
      }
      if (path.startsWith('/preview/')) {
        const hash = previewHashOfRoute(path);
        if (!hash) return sendError(res, 404, 'NOT_FOUND', 'no such preview');
        return serveRendered(req, res, () => host.service.lib.previewPath(hash));
      }
      if (path === '/' || path === '/index.html') {
        if (url.searchParams.has('token')) {
          // the token buys a session of this instance; it leaves the address bar and history
          res.writeHead(303, { location: sessions.base, 'set-cookie': sessions.mint(), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
          return res.end();
        }
        const index = join(rendererDir, 'index.html');
        if (!existsSync(index)) return sendError(res, 500, 'INTERNAL', `the renderer is not built (${index} missing): run npm run build`);
        return sendFile(req, res, index, { 'cache-control': 'no-store' });
      }
      // static files of the renderer, never outside its folder
      let decoded: string;
      try { decoded = decodeURIComponent(path); } catch { return sendError(res, 400, 'BAD_ARGUMENT', 'bad path'); }
      if (decoded.includes('\0')) return sendError(res, 400, 'BAD_ARGUMENT', 'bad path');
      const file = resolve(rendererDir, '.' + normalize('/' + decoded));
      if (!file.startsWith(rendererDir + sep)) return sendError(res, 404, 'NOT_FOUND', 'not found');
      return sendFile(req, res, file, { 'cache-control': 'no-cache' });
    } catch (e) {
      const p = toPayload(e);
      return sendError(res, httpStatus(p.code), p.code, p.message);
    }
  }, (e) => log(`request failed (kept serving): ${(e as Error)?.stack ?? e}`)));
  server.on('clientError', (_e, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'); else socket.destroy(); });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  const clients = new Set<WebSocket>();
  server.on('upgrade', guarded((_q: IncomingMessage, s: import('node:stream').Duplex, _h: Buffer) => { s.destroy(); return null; }, (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    served++;
    socket.on('error', () => socket.destroy());
    let url: URL;
    try { url = new URL(req.url ?? '/', 'http://127.0.0.1'); } catch { socket.destroy(); return; }
    let allowed = check(req, url);
    // browsers always send an Origin on a WebSocket; a session without one did not come from our page
    if (!Array.isArray(allowed) && allowed.via === 'session' && req.headers.origin === undefined) allowed = [403, 'forbidden origin'];
    const refused = Array.isArray(allowed) ? allowed : null;
    if (refused || (allowed as Allowed).path !== '/events') {
      const status = refused ? refused[0] : 404;
      socket.write(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => clients.delete(ws));
    });
  }, (e) => log(`upgrade failed (kept serving): ${(e as Error)?.stack ?? e}`)));
  const unsubscribe = host.onEvent((e) => {
    const data = hasBinary(e) ? encodeMessage(e) : JSON.stringify(e);
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(data);
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  port = (server.address() as AddressInfo).port;
  const running: RunningServer = {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    base: sessions.base,
    cookieName: sessions.cookieName,
    requests: () => served,
    host,
    close: async () => {
      unsubscribe();
      // a library this server switched to is its own to close; the one given at start is the caller's
      if (host.service !== opts.service) await host.close();
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
    [Symbol.asyncDispose]: () => running.close(),
  };
  return running;
}
