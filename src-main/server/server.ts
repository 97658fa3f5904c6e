/**
 * Serve mode: the AppApi over loopback HTTP + WebSocket, and the renderer's static files. Binds 127.0.0.1 only. Every
 * request, static files and the WebSocket included, needs the per-start random token (query `token`, the cookie set on
 * the first load, or the `x-constellate-token` header); Host and Origin must name this server (DNS rebinding).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { isApiMethod } from '../common/api.ts';
import { dispatch } from '../common/dispatch.ts';
import { decodeMessage, encodeMessage, hasBinary } from '../common/codec.ts';
import { AppError, toPayload, type ErrorCode } from '../common/errors.ts';
import type { CoreService } from '../core/service.ts';

export interface ServeOptions {
  service: CoreService;
  port?: number;
  /** folder with the built renderer (index.html, assets/) */
  rendererDir: string;
  token?: string;
  /** largest request body accepted, bytes */
  maxBody?: number;
  /** largest API call body accepted, bytes (default API_MAX_BODY) */
  apiMaxBody?: number;
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

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  requests: () => number;
  close(): Promise<void>;
}

const COOKIE = 'cst_token';
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.woff2': 'font/woff2', '.json': 'application/json',
  '.ico': 'image/x-icon', '.map': 'application/json',
};

export function httpStatus(code: ErrorCode): number {
  switch (code) {
    case 'BAD_ARGUMENT': case 'BAD_FILE': case 'BAD_IMAGE': case 'BAD_MODEL': return 400;
    case 'UNAUTHORIZED': return 401;
    case 'NOT_FOUND': case 'MODEL_MISSING': return 404;
    case 'CONFLICT': case 'LIBRARY_LOCKED': return 409;
    case 'CANCELLED': return 499;
    default: return 500;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function parseCookies(h: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (h ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const rendererDir = resolve(opts.rendererDir);
  const maxBody = opts.maxBody ?? 64 << 20;
  const apiMaxBody = Math.min(maxBody, opts.apiMaxBody ?? API_MAX_BODY);
  const service = opts.service;
  let port = 0;
  let served = 0;

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  /** null when the request may go on, else the status and reason to refuse it with */
  const check = (req: IncomingMessage, url: URL): [number, string] | null => {
    if (!allowedHosts().has(req.headers.host ?? '')) return [403, 'forbidden host'];
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return [403, 'forbidden origin'];
    const given = url.searchParams.get('token') ?? (req.headers['x-constellate-token'] as string | undefined) ?? parseCookies(req.headers.cookie)[COOKIE];
    if (!given || !safeEqual(given, token)) return [401, 'unauthorized: open the URL with the token that `constellate serve` printed'];
    return null;
  };

  const sendError = (res: ServerResponse, status: number, code: string, message: string) => {
    const body = JSON.stringify({ error: { code, message } });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  };

  const securityHeaders = (): Record<string, string> => ({
    'content-security-policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  });

  const serveFile = (res: ServerResponse, file: string, extra: Record<string, string> = {}) => {
    const st = statSync(file);
    res.writeHead(200, {
      'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': st.size,
      ...securityHeaders(),
      ...extra,
    });
    createReadStream(file).pipe(res);
  };

  const readBody = (req: IncomingMessage): Promise<Buffer> => new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) { reject(new AppError('BAD_ARGUMENT', `request body larger than ${maxBody} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', reject);
  });

  /** The API door: one options object per call (JSON, or the binary codec), validated by the shared dispatch. */
  const handleApi = async (req: IncomingMessage, res: ServerResponse, method: string) => {
    if (req.method !== 'POST') return sendError(res, 405, 'BAD_ARGUMENT', 'API calls are POST requests');
    if (!isApiMethod(method)) return sendError(res, 404, 'NOT_FOUND', `no API method ${JSON.stringify(method)}`);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > apiMaxBody) return sendError(res, 413, 'BAD_ARGUMENT', `request body: ${declared} bytes is more than the ${apiMaxBody} an API call may send`);
    try {
      const body = await readBody(req);
      if (body.length > apiMaxBody) return sendError(res, 413, 'BAD_ARGUMENT', `request body: more than the ${apiMaxBody} bytes an API call may send`);
      const arg = parseApiBody(body, req.headers['content-type'] ?? '');
      const result = await dispatch(service, method, arg);
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

  const server = createServer((req, res) => {
    served++;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return sendError(res, 400, 'BAD_ARGUMENT', 'bad URL');
    }
    const refused = check(req, url);
    if (refused) return sendError(res, refused[0], refused[0] === 401 ? 'UNAUTHORIZED' : 'UNAUTHORIZED', refused[1]);
    const path = url.pathname;
    try {
      if (path.startsWith('/api/')) return void handleApi(req, res, path.slice(5));
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'BAD_ARGUMENT', 'method not allowed');
      if (path.startsWith('/thumb/')) {
        const m = /^\/thumb\/([0-9a-f]{16,64}(?:-f\d+)?)\.jpg$/.exec(path);
        if (!m) return sendError(res, 404, 'NOT_FOUND', 'no such thumbnail');
        const file = service.lib.thumbPath(m[1]);
        if (!existsSync(file)) return sendError(res, 404, 'NOT_FOUND', 'no such thumbnail');
        return serveFile(res, file, { 'cache-control': 'private, max-age=31536000, immutable' });
      }
      if (path === '/' || path === '/index.html') {
        const cookie = `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
        if (url.searchParams.has('token')) {
          // keep the token out of the address bar and history once the cookie holds it
          res.writeHead(303, { location: '/', 'set-cookie': cookie, 'cache-control': 'no-store' });
          return res.end();
        }
        const index = join(rendererDir, 'index.html');
        if (!existsSync(index)) return sendError(res, 500, 'INTERNAL', `the renderer is not built (${index} missing): run npm run build`);
        return serveFile(res, index, { 'set-cookie': cookie, 'cache-control': 'no-store' });
      }
      // static files of the renderer, never outside its folder
      let decoded: string;
      try { decoded = decodeURIComponent(path); } catch { return sendError(res, 400, 'BAD_ARGUMENT', 'bad path'); }
      if (decoded.includes('\0')) return sendError(res, 400, 'BAD_ARGUMENT', 'bad path');
      const file = resolve(rendererDir, '.' + normalize('/' + decoded));
      if (!file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
        return sendError(res, 404, 'NOT_FOUND', 'not found');
      }
      return serveFile(res, file, { 'cache-control': 'no-cache' });
    } catch (e) {
      const p = toPayload(e);
      return sendError(res, httpStatus(p.code), p.code, p.message);
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    served++;
    let url: URL;
    try { url = new URL(req.url ?? '/', 'http://127.0.0.1'); } catch { socket.destroy(); return; }
    const refused = check(req, url);
    if (refused || url.pathname !== '/events') {
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
  });
  const unsubscribe = service.onEvent((e) => {
    const data = hasBinary(e) ? encodeMessage(e) : JSON.stringify(e);
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(data);
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    requests: () => served,
    close: async () => {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
