/**
 * Issue 14, the HTTP layer of serve mode: no request crashes the server (malformed cookies on HTTP and on the
 * WebSocket upgrade, read errors on static and thumbnail files), the session is bound to one server instance
 * (per-instance cookie name, path-scoped, CSRF header on cookie-authenticated API calls), and large bodies are refused
 * with 413 before they are read.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CoreService } from '../core/service.ts';
import { tempDir } from '../testing/fixtures.ts';
import { parseCookies } from './http-guard.ts';
import { startServer, type RunningServer } from './server.ts';

const t = tempDir('constellate-guard-');
let svc: CoreService;
let srv: RunningServer;
let other: RunningServer;
const renderer = join(t.dir, 'renderer');

beforeAll(async () => {
  mkdirSync(join(renderer, 'assets', 'dir.js'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  svc = CoreService.open(join(t.dir, 'lib.constellate'));
  srv = await startServer({ service: svc, rendererDir: renderer });
  other = await startServer({ service: svc, rendererDir: renderer });
});
afterAll(async () => { await srv.close(); await other.close(); await svc.close(); t.cleanup(); });

interface Res { status: number; body: string; headers: Record<string, string | string[] | undefined> }
function raw(path: string, headers: Record<string, string> = {}, method = 'GET', body?: string | Buffer, s = srv): Promise<Res> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: s.port, path, method, headers: { host: `127.0.0.1:${s.port}`, ...headers } }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => ok({ status: res.statusCode!, body: b, headers: res.headers }));
      res.on('error', fail);
    });
    req.on('error', fail);
    if (body !== undefined) req.write(body);
    req.end();
  });
}
const auth = (s = srv) => ({ 'x-constellate-token': s.token });
const alive = async () => expect((await raw('/api/getInfo', auth(), 'POST', '')).status).toBe(200);

function wsStatus(path: string, headers: Record<string, string>, s = srv): Promise<number> {
  return new Promise((ok) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}${path}`, { headers });
    ws.on('unexpected-response', (_q, res) => { ok(res.statusCode!); ws.terminate(); });
    ws.on('open', () => { ok(101); ws.close(); });
    ws.on('error', () => ok(-1));
  });
}

/** Logs in like a browser: the token URL, then the session cookie it sets. */
async function login(s = srv): Promise<{ cookie: string; name: string; base: string; setCookie: string }> {
  const r = await raw(`/?token=${s.token}`, {}, 'GET', undefined, s);
  expect(r.status).toBe(303);
  const setCookie = String((r.headers['set-cookie'] as string[])[0]);
  const cookie = setCookie.split(';')[0];
  return { cookie, name: cookie.split('=')[0], base: String(r.headers.location), setCookie };
}

describe('malformed cookies never crash the server', () => {
  it('the parser skips undecodable values instead of throwing', () => {
    expect(parseCookies('other=%E0%A4%A; a=1; b=%zz; =x; c="q%20"')).toEqual({ other: '%E0%A4%A', a: '1', b: '%zz', c: 'q ' });
    expect(parseCookies(undefined)).toEqual({});
    expect(parseCookies('__proto__=1').__proto__).toBe('1');
  });

  it('HTTP: every route answers, with and without the token, and the server stays up', async () => {
    for (const cookie of ['other=%E0%A4%A', '%=%', 'a=%', 'a=%E0%A4%A; cst_token=%E0', 'x'.repeat(8000) + '=%E0%A4%A']) {
      for (const p of ['/', '/index.html', '/assets/app.js', '/api/getInfo', '/thumb/0123456789abcdef.jpg']) {
        const r = await raw(p, { cookie }, p.startsWith('/api/') ? 'POST' : 'GET', '');
        expect(r.status, `${p} ${cookie.slice(0, 20)}`).toBe(401);
      }
      expect((await raw('/api/getInfo', { cookie, ...auth() }, 'POST', '')).status).toBe(200);
    }
    await alive();
  });

  it('WebSocket upgrade: refused or accepted, never a crash', async () => {
    expect(await wsStatus('/events', { cookie: 'other=%E0%A4%A' })).toBe(401);
    expect(await wsStatus('/events', { cookie: 'other=%E0%A4%A', ...auth() })).toBe(101);
    const { cookie, base } = await login();
    expect(await wsStatus(`${base}events`, { cookie: `other=%E0%A4%A; ${cookie}`, origin: `http://127.0.0.1:${srv.port}` })).toBe(101);
    await alive();
  });
});

describe('the session belongs to one server instance', () => {
  it('the token URL sets an HttpOnly, SameSite=Strict cookie named for this instance and scoped to its path', async () => {
    const a = await login();
    expect(a.base).toMatch(/^\/s\/[A-Za-z0-9_-]{12,}\/$/);
    expect(a.name).toMatch(new RegExp(`^cst_${srv.port}_[A-Za-z0-9_-]{12,}$`));
    expect(a.setCookie).toMatch(/; HttpOnly/);
    expect(a.setCookie).toMatch(/; SameSite=Strict/);
    expect(a.setCookie).toContain(`; Path=${a.base}`);
    expect(a.cookie.split('=')[1]).not.toContain(srv.token); // the session is not the token
    // the cookie opens the app under its path
    expect((await raw(a.base, { cookie: a.cookie })).status).toBe(200);
    expect((await raw(`${a.base}assets/app.js`, { cookie: a.cookie })).status).toBe(200);
    const api = await raw(`${a.base}api/getInfo`, { cookie: a.cookie, 'x-constellate-csrf': '1', origin: `http://127.0.0.1:${srv.port}` }, 'POST', '');
    expect(api.status).toBe(200);
    // a cookie-authenticated API call needs the CSRF header and, when an Origin is sent, ours
    expect((await raw(`${a.base}api/getInfo`, { cookie: a.cookie }, 'POST', '')).status).toBe(403);
    expect((await raw(`${a.base}api/getInfo`, { cookie: a.cookie, 'x-constellate-csrf': '1', origin: 'http://127.0.0.1:1' }, 'POST', '')).status).toBe(403);
    // outside its path, or under another instance's path, the cookie is worth nothing
    expect((await raw('/api/getInfo', { cookie: a.cookie, 'x-constellate-csrf': '1' }, 'POST', '')).status).toBe(401);
    expect((await raw('/', { cookie: a.cookie })).status).toBe(401);
    const b = await login(other);
    expect(b.name).not.toBe(a.name);
    expect(b.base).not.toBe(a.base);
    expect((await raw(b.base, { cookie: a.cookie.replace(a.name, b.name) }, 'GET', undefined, other)).status).toBe(401);
    expect((await raw(a.base, { cookie: b.cookie })).status).toBe(401);
    // both stay logged in together (one browser sends both cookies to both)
    expect((await raw(a.base, { cookie: `${b.cookie}; ${a.cookie}` })).status).toBe(200);
    expect((await raw(b.base, { cookie: `${a.cookie}; ${b.cookie}` }, 'GET', undefined, other)).status).toBe(200);
    // the old port-blind cookie no longer authenticates anything
    expect((await raw('/', { cookie: `cst_token=${srv.token}` })).status).toBe(401);
    expect(await wsStatus('/events', { cookie: `cst_token=${srv.token}` })).toBe(401);
    expect(await wsStatus(`${a.base}events`, { cookie: a.cookie, origin: `http://127.0.0.1:${srv.port}` })).toBe(101);
    expect(await wsStatus(`${a.base}events`, { cookie: a.cookie })).toBe(403);
    expect(await wsStatus(`${a.base}events`, { cookie: a.cookie, origin: 'http://127.0.0.1:1' })).toBe(403);
  });

  it('a wrong or forged session is refused', async () => {
    const a = await login();
    const forged = `${a.name}=${'A'.repeat(a.cookie.split('=')[1].length)}`;
    expect((await raw(a.base, { cookie: forged })).status).toBe(401);
    expect((await raw(`${a.base.slice(0, -2)}x/`, { cookie: a.cookie })).status).toBe(401);
  });
});

describe('read errors on files answer an error status', () => {
  it('a directory in place of a thumbnail, a removed one, a directory among the assets', async () => {
    const key = '0123456789abcdef';
    const file = svc.lib.thumbPath(key);
    mkdirSync(file, { recursive: true }); // a directory where the thumbnail should be
    const r = await raw(`/thumb/${key}.jpg`, auth());
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).not.toBe(200);
    rmSync(file, { recursive: true });
    expect((await raw(`/thumb/${key}.jpg`, auth())).status).toBe(404);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.alloc(10));
    expect((await raw(`/thumb/${key}.jpg`, auth())).status).toBe(200);
    rmSync(file);
    expect((await raw('/assets/dir.js', auth())).status).toBe(404);
    await alive();
  });
});

describe('request bodies', () => {
  it('a declared body over the limit is answered 413 before it is sent', async () => {
    const status = await new Promise<number>((ok, fail) => {
      const s = connect({ host: '127.0.0.1', port: srv.port }, () => {
        s.write(`POST /api/getInfo HTTP/1.1\r\nhost: 127.0.0.1:${srv.port}\r\nx-constellate-token: ${srv.token}\r\ncontent-type: application/json\r\ncontent-length: ${57 << 20}\r\n\r\n[`);
      });
      let got = '';
      s.on('data', (d) => { got += d; const m = /^HTTP\/1\.1 (\d+)/.exec(got); if (m) { ok(Number(m[1])); s.destroy(); } });
      s.on('error', fail);
      setTimeout(() => fail(new Error('no answer within 5 s')), 5000);
    });
    expect(status).toBe(413);
    await alive();
  });

  it('a chunked JSON body over the limit is cut off with 413', async () => {
    const status = await new Promise<number>((ok) => {
      const req = request({ host: '127.0.0.1', port: srv.port, path: '/api/listPhotos', method: 'POST',
        headers: { host: `127.0.0.1:${srv.port}`, ...auth(), 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => { res.resume(); ok(res.statusCode!); });
      req.on('error', () => ok(-1));
      const chunk = Buffer.alloc(1 << 20, 0x20);
      let sent = 0;
      const pump = () => { while (sent < 40 && req.write(chunk)) sent++; if (sent < 40) req.once('drain', pump); else req.end(); };
      req.write('[');
      pump();
    });
    expect([413, -1]).toContain(status);
    await alive();
  });

  it('bodies under the limit still work; a JSON body is small enough not to block the loop', async () => {
    const body = '{"offset":0,"limit":5' + ' '.repeat(1 << 20) + '}';
    const r = await raw('/api/listPhotos', { ...auth(), 'content-type': 'application/json' }, 'POST', body);
    expect(r.status).toBe(200);
  });
});
