import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeMessage, decodeMessage } from '../common/codec.ts';
import { CoreService } from '../core/service.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';
import { previewRoute, thumbRoute } from '../common/thumbs.ts';
import sharp from 'sharp';
import { startServer, type RunningServer } from './server.ts';

const t = tempDir();
let svc: CoreService;
let srv: RunningServer;
let base: string;

beforeAll(async () => {
  const renderer = join(t.dir, 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(t.dir, 'secret.txt'), 'secret');
  svc = CoreService.open(join(t.dir, 'lib.constellate'));
  srv = await startServer({ service: svc, rendererDir: renderer });
  base = `http://127.0.0.1:${srv.port}`;
});
afterAll(async () => { await srv.close(); await svc.close(); t.cleanup(); });

/** Raw request so that Host and paths are sent exactly as given. */
function raw(path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, method, headers: { host: `127.0.0.1:${srv.port}`, ...headers } }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => ok({ status: res.statusCode!, body: b, headers: res.headers }));
    });
    req.on('error', fail);
    if (body) req.write(body);
    req.end();
  });
}
const auth = () => ({ 'x-constellate-token': srv.token });

describe('serve mode', () => {
  it('binds loopback and prints a tokenized URL', () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{20,}$/);
  });

  it('answers 401 on every route without the token, and with a wrong one', async () => {
    for (const p of ['/', '/index.html', '/assets/app.js', '/thumb/0123456789abcdef0123456789abcdef.jpg', '/nope']) {
      expect((await raw(p)).status).toBe(401);
      expect((await raw(p, { 'x-constellate-token': 'wrong' })).status).toBe(401);
    }
    expect((await raw('/api/getInfo', {}, 'POST', '{}')).status).toBe(401);
  });

  it('sets an HttpOnly cookie from the token URL and accepts it afterwards', async () => {
    const r = await raw(`/?token=${srv.token}`);
    expect(r.status).toBe(303);
    const cookie = String((r.headers['set-cookie'] as string[])[0]);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(r.headers.location).toBe(srv.base);
    const page = await raw(srv.base, { cookie: cookie.split(';')[0] });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
  });

  it('refuses foreign Host and Origin headers (DNS rebinding, cross-site pages)', async () => {
    expect((await raw('/', { ...auth(), host: `evil.example:${srv.port}` })).status).toBe(403);
    expect((await raw('/api/getInfo', { ...auth(), origin: 'http://evil.example' }, 'POST', '{}')).status).toBe(403);
    expect((await raw('/api/getInfo', { ...auth(), origin: `http://127.0.0.1:${srv.port}` }, 'POST', '{}')).status).toBe(200);
  });

  it('refuses path traversal on every route', async () => {
    const attempts = ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%2fsecret.txt', '/thumb/../../secret.txt', '/thumb/..%2f..%2fsecret.jpg', '/assets/%00.js', '//etc/passwd', '/api/../secret.txt'];
    for (const p of attempts) {
      const r = await raw(p, auth());
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.body).not.toContain('secret');
    }
    expect((await raw('/assets/app.js', auth())).status).toBe(200);
  });

  it('calls the API with JSON and returns errors as {code, message}', async () => {
    const ok = await raw('/api/getInfo', auth(), 'POST', '{}');
    expect(JSON.parse(ok.body).result.photos).toBe(0);
    const bad = await raw('/api/getPhoto', auth(), 'POST', '{"id": -3}');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toEqual({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/^id: /) });
    const missing = await raw('/api/getPhoto', auth(), 'POST', '{"id": 12345}');
    expect(missing.status).toBe(404);
    expect((await raw('/api/constructor', auth(), 'POST', '{}')).status).toBe(404);
    expect((await raw('/api/getInfo', auth(), 'POST', '{not json')).status).toBe(400);
  });

  it('accepts binary-encoded arguments', async () => {
    const body = Buffer.from(encodeMessage({ offset: 0, limit: 5 }));
    const r = await fetch(`${base}/api/listPhotos`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/x-constellate' }, body });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { result: { total: number } }).result.total).toBe(0);
    expect((decodeMessage(encodeMessage({ a: new Float32Array([1]) })) as { a: Float32Array }).a).toEqual(new Float32Array([1]));
  });

  it('refuses WebSocket connections without the token and pushes events with it', async () => {
    const refused = await new Promise<number>((ok) => {
      const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/events`);
      ws.on('unexpected-response', (_req, res) => ok(res.statusCode!));
      ws.on('open', () => ok(101));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(401);
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/events`, { headers: auth() });
    await new Promise((ok) => ws.on('open', ok));
    const got = new Promise<unknown>((ok) => ws.on('message', (m) => ok(JSON.parse(String(m)))));
    const photos = join(t.dir, 'photos');
    mkdirSync(photos);
    await svc.addRoots({ paths: [photos] });
    expect(await got).toMatchObject({ type: 'library' });
    ws.close();
  });
});

describe('serve mode: viewer-size previews', () => {
  it('serves a photo of the library by content hash with the token only; unknown, vanished and hostile names are refused', async () => {
    const dir = join(t.dir, 'photos', 'pv');
    mkdirSync(dir, { recursive: true });
    cpSync(sharedPath('data/faces-london/person-001/neutral.jpg'), join(dir, 'a.jpg'));
    cpSync(sharedPath('data/faces-london/person-002/neutral.jpg'), join(dir, 'b.jpg'));
    const job = await svc.waitJob({ id: (await svc.scan()).id });
    expect(job.state).toBe('done');
    const photos = (await svc.listPhotos({ limit: 100 })).items;
    const a = photos.find((p) => p.relPath.endsWith('a.jpg'))!;
    const b = photos.find((p) => p.relPath.endsWith('b.jpg'))!;
    const route = '/' + previewRoute(a.hash);
    expect((await raw(route)).status).toBe(401);
    expect((await raw(route, { 'x-constellate-token': 'wrong' })).status).toBe(401);
    expect((await raw(route, { ...auth(), host: `evil.example:${srv.port}` })).status).toBe(403);
    const r = await fetch(`${base}${route}`, { headers: auth() });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await r.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([a.width, a.height]); // 1024 px: not enlarged
    const unknown = await raw('/' + previewRoute('0123456789abcdef0123456789abcdef'), auth());
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.code).toBe('NOT_FOUND');
    rmSync(join(dir, 'b.jpg'));
    const gone = await raw('/' + previewRoute(b.hash), auth());
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.body).error.message).toContain(join(dir, 'b.jpg'));
    for (const p of ['/preview/../secret.txt', '/preview/..%2f..%2fsecret.txt', `/preview/${a.hash}.jpg/../../secret.txt`, '/preview/ZZZZ.jpg',
      `/preview/${a.hash}-f0.jpg`, `/preview/${a.hash}.png`, '/preview/%2e%2e%2fsecret.txt', '/preview/', `/preview/${a.hash}`]) {
      const x = await raw(p, auth());
      expect(x.status, p).toBeGreaterThanOrEqual(400);
      expect(x.body, p).not.toContain('secret');
    }
    // still serving
    expect((await raw('/api/getInfo', auth(), 'POST', '{}')).status).toBe(200);
  });

  it('serves a thumbnail the cache lost, made again from its photo; a key of nothing in the library is 404', async () => {
    const a = (await svc.listPhotos({ limit: 100 })).items.find((p) => p.relPath.endsWith('a.jpg'))!;
    const route = '/' + thumbRoute(a.hash);
    const first = await fetch(`${base}${route}`, { headers: auth() });
    expect(first.status).toBe(200);
    const bytes = Buffer.from(await first.arrayBuffer());
    rmSync(svc.lib.thumbDir, { recursive: true, force: true });
    const again = await fetch(`${base}${route}`, { headers: auth() });
    expect(again.status).toBe(200);
    expect(again.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
    const unknown = await raw('/' + thumbRoute('0123456789abcdef0123456789abcdef'), auth());
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.code).toBe('NOT_FOUND');
    expect((await raw('/' + thumbRoute(a.hash))).status).toBe(401);
  });
});
