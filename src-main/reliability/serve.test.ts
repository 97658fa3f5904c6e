/**
 * Serve mode under attack and under load: bound to loopback only, the token on every HTTP route, API method and
 * WebSocket, path traversal in every spelling on every route, DNS-rebinding Host/Origin checks, and a bounded loopback
 * load (concurrent reads and writes while a scan job runs) with no errors and no lost writes. bench/load.mts runs more.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { API_METHODS } from '../common/api.ts';
import { CoreService } from '../core/service.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';
import { startServer, type RunningServer } from '../server/server.ts';
import { writeNpy } from '../core/npy-file.ts';
import { post, runLoad } from './load-core.ts';
import { rng } from './helpers.ts';
import { request } from 'node:http';

const t = tempDir('constellate-serve-');
let svc: CoreService;
let srv: RunningServer;
const figures: Record<string, unknown> = {};
const renderer = join(t.dir, 'renderer');
const photos = join(t.dir, 'photos');

beforeAll(async () => {
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(t.dir, 'secret.txt'), 'TOPSECRET');
  writeFileSync(join(t.dir, 'renderer-secret.txt'), 'TOPSECRET'); // a sibling whose name starts like the folder
  for (const c of ['daisy', 'roses', 'tulips']) {
    mkdirSync(join(photos, c), { recursive: true });
    for (const f of readdirSync(sharedPath('data/photos-flowers', c)).sort().slice(0, 20)) copyFileSync(sharedPath('data/photos-flowers', c, f), join(photos, c, f));
  }
  svc = CoreService.open(join(t.dir, 'lib.constellate'));
  srv = await startServer({ service: svc, rendererDir: renderer });
});
afterAll(async () => {
  await srv.close();
  await svc.close();
  console.log(`RELIABILITY serve ${JSON.stringify(figures)}`);
  t.cleanup();
});

function raw(path: string, headers: Record<string, string | undefined> = {}, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const h: Record<string, string> = { host: `127.0.0.1:${srv.port}` };
    for (const [k, v] of Object.entries(headers)) { if (v === undefined) delete h[k]; else h[k] = v; }
    const req = request({ host: '127.0.0.1', port: srv.port, path, method, headers: h }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => ok({ status: res.statusCode!, body: b }));
    });
    req.on('error', fail);
    if (body) req.write(body);
    req.end();
  });
}
const auth = () => ({ 'x-constellate-token': srv.token });

function wsStatus(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((ok) => {
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}${path}`, { headers });
    ws.on('unexpected-response', (_q, res) => { ok(res.statusCode!); ws.terminate(); });
    ws.on('open', () => { ok(101); ws.close(); });
    ws.on('error', () => ok(-1));
  });
}

describe('serve mode security', () => {
  it('listens on 127.0.0.1 only', async () => {
    // the kernel's socket table: the port is bound to 127.0.0.1 (0100007F), not 0.0.0.0 or ::
    const hex = srv.port.toString(16).toUpperCase().padStart(4, '0');
    const rows = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) => { try { return readFileSync(f, 'utf8').split('\n'); } catch { return []; } })
      .map((l) => l.trim().split(/\s+/)).filter((c) => c[1]?.endsWith(`:${hex}`) && c[3] === '0A'); // 0A = LISTEN
    if (existsSync('/proc/net/tcp')) expect(rows.map((c) => c[1])).toEqual([`0100007F:${hex}`]); // Linux only
    // and it is not reachable through any other address of this machine
    const others = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4').map((a) => a!.address);
    for (const ip of others) {
      const reached = await new Promise<boolean>((ok) => {
        const s = connect({ host: ip, port: srv.port, timeout: 1500 }, () => { s.destroy(); ok(true); });
        s.on('error', () => ok(false));
        s.on('timeout', () => { s.destroy(); ok(false); });
      });
      expect(reached, ip).toBe(false);
    }
    figures.otherAddressesTried = others.length;
  });

  it('every API method, static route and the WebSocket need the token', async () => {
    const wrong = srv.token.slice(0, -1) + (srv.token.endsWith('A') ? 'B' : 'A');
    for (const m of [...API_METHODS, 'nonexistent']) {
      for (const h of [{}, { 'x-constellate-token': wrong }, { 'x-constellate-token': '' }, { cookie: `cst_token=${wrong}` }, { authorization: `Bearer ${srv.token}` }]) {
        const r = await raw(`/api/${m}`, h, 'POST', '{}');
        expect(r.status, `${m} ${JSON.stringify(h)}`).toBe(401);
      }
      expect((await raw(`/api/${m}?token=${wrong}`, {}, 'POST', '{}')).status).toBe(401);
    }
    for (const p of ['/', '/index.html', '/assets/app.js', '/thumb/0123456789abcdef.jpg', '/preview/0123456789abcdef.jpg', '/events', '/api/', '/x'.repeat(2000)]) {
      expect((await raw(p)).status, p).toBe(401);
    }
    expect(await wsStatus('/events', {})).toBe(401);
    expect(await wsStatus(`/events?token=${wrong}`, {})).toBe(401);
    expect(await wsStatus('/events', { cookie: `cst_token=${wrong}` })).toBe(401);
    expect(await wsStatus('/events', auth())).toBe(101);
    expect(await wsStatus(`/events?token=${srv.token}`, {})).toBe(101);
    expect(await wsStatus('/other', auth())).toBe(404);
    figures.apiMethodsChecked = API_METHODS.length;
  });

  it('path traversal in every spelling, on every route, is refused', async () => {
    const attempts = [
      '/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/.%2e/secret.txt', '/%2e./secret.txt',
      '/%252e%252e%252fsecret.txt', '/%25252e%25252e/secret.txt', '/..%5csecret.txt', '/%5c..%5csecret.txt', '/..\\secret.txt',
      '/assets/..%5c..%5csecret.txt', '/assets/%2e%2e%5c%2e%2e%5csecret.txt', '/%c0%ae%c0%ae/secret.txt', '/%c0%ae%c0%ae%c0%afsecret.txt',
      '/assets/../../secret.txt', '/assets/./../../secret.txt', '/assets%2f..%2f..%2fsecret.txt', '/..;/secret.txt', '/%2e%2e;/secret.txt',
      '/../renderer-secret.txt', '/%2e%2e/renderer-secret.txt', '/..%2frenderer-secret.txt',
      '/' + '../'.repeat(300) + 'secret.txt', '/' + '%2e%2e%2f'.repeat(300) + 'secret.txt', '/assets/' + 'a/'.repeat(3000) + '../'.repeat(3001) + 'secret.txt',
      '/%00', '/assets/app.js%00.html', '/%', '/%zz', '/%e0%a4%a', '//etc/passwd', '///etc/passwd', '/\\etc\\passwd',
      '/thumb/../../secret.txt', '/thumb/..%2f..%2fsecret.jpg', '/thumb/0123456789abcdef%2f..%2f..%2fx.jpg', '/thumb/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/thumb/0123456789abcdef.jpg/../../../secret.txt', '/thumb/0123456789ABCDEF.jpg', '/api/../secret.txt', '/api/%2e%2e/secret.txt',
      '/api/..%2f..%2fsecret.txt', `/events/../secret.txt`,
      '/preview/../../secret.txt', '/preview/..%2f..%2fsecret.jpg', '/preview/0123456789abcdef%2f..%2f..%2fx.jpg', '/preview/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/preview/0123456789abcdef.jpg/../../../secret.txt', '/preview/0123456789ABCDEF.jpg', '/preview/0123456789abcdef-f1.jpg',
    ];
    let refused = 0;
    for (const p of attempts) {
      for (const method of ['GET', 'HEAD', 'POST']) {
        const r = await raw(p, auth(), method, method === 'POST' ? '[]' : undefined);
        expect(r.body, `${method} ${p}`).not.toContain('TOPSECRET');
        if (method === 'GET') expect(r.status, p).toBeGreaterThanOrEqual(400);
        if (r.status >= 400) refused++;
      }
    }
    // a path that stays inside after normalising is served, so the guard is not simply refusing everything
    expect((await raw('/assets/../assets/app.js', auth())).status).toBe(200);
    expect((await raw('/assets/%61pp.js', auth())).status).toBe(200);
    figures.traversalAttempts = attempts.length * 3;
    figures.traversalRefused = refused;
  });

  it('Host and Origin must name this server (DNS rebinding, cross-site pages), on HTTP and WebSocket', async () => {
    const p = srv.port;
    const badHosts = [`evil.example:${p}`, '127.0.0.1', `127.0.0.1:${p + 1}`, `127.0.0.1.evil.example:${p}`, `localhost.evil.example:${p}`, `[::1]:${p}`,
      `0.0.0.0:${p}`, `127.1:${p}`, `2130706433:${p}`, ' ', `127.0.0.1:${p}@evil.example`, `evil.example`, `LOCALHOST:${p}`];
    for (const host of badHosts) {
      expect((await raw('/api/getInfo', { ...auth(), host }, 'POST', '{}')).status, `host ${host}`).toBe(403);
      expect(await wsStatus('/events', { ...auth(), host }), `ws host ${host}`).toBe(403);
    }
    // no Host header at all, and an empty one (written by hand: Node's client would add its own)
    for (const hostLine of ['', 'Host: \r\n']) {
      const status = await new Promise<number>((ok) => {
        const s = connect({ host: '127.0.0.1', port: p }, () => s.write(`POST /api/getInfo HTTP/1.1\r\n${hostLine}x-constellate-token: ${srv.token}\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`));
        let b = '';
        s.on('data', (c) => { b += c; });
        s.on('end', () => ok(Number(/^HTTP\/1\.1 (\d+)/.exec(b)?.[1] ?? -1)));
        s.on('error', () => ok(-1));
      });
      expect(status, JSON.stringify(hostLine)).toBeGreaterThanOrEqual(400);
    }
    const badOrigins = ['http://evil.example', 'null', `http://127.0.0.1:${p}.evil.example`, `https://127.0.0.1:${p}`, `http://127.0.0.1:${p + 1}`,
      `http://localhost:${p}@evil.example`, 'file://', `http://[::1]:${p}`, ''];
    for (const origin of badOrigins) {
      expect((await raw('/api/getInfo', { ...auth(), origin }, 'POST', '{}')).status, `origin ${origin}`).toBe(403);
      expect(await wsStatus('/events', { ...auth(), origin }), `ws origin ${origin}`).toBe(403);
    }
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`]) expect((await raw('/api/getInfo', { ...auth(), host }, 'POST', '{}')).status).toBe(200);
    expect((await raw('/api/getInfo', { ...auth(), origin: `http://localhost:${p}` }, 'POST', '{}')).status).toBe(200);
    figures.hostOriginCases = badHosts.length * 2 + badOrigins.length * 2;
  });

  it('oversized bodies and malformed arguments are refused without hurting the server', async () => {
    const big = 'x'.repeat(1 << 16);
    const small = await startServer({ service: svc, rendererDir: renderer, maxBody: 1 << 12 });
    try {
      const r = await new Promise<number>((ok) => {
        const req = request({ host: '127.0.0.1', port: small.port, path: '/api/getInfo', method: 'POST',
          headers: { host: `127.0.0.1:${small.port}`, 'x-constellate-token': small.token } }, (res) => { res.resume(); ok(res.statusCode!); });
        req.on('error', () => ok(-1));
        req.end(big);
      });
      expect([400, 413, -1]).toContain(r);
    } finally {
      await small.close();
    }
    for (const body of ['{}', '"x"', 'null', '[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]', '[' + '1,'.repeat(10000) + '1]', '\u0000', '[{"__proto__": {"polluted": 1}}]']) {
      const r = await raw('/api/listPhotos', auth(), 'POST', body);
      expect(r.status, body.slice(0, 30)).toBeLessThan(500);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await raw('/api/getInfo', auth(), 'POST', '{}')).status).toBe(200);
  });
});

describe('serve mode under load', () => {
  it('concurrent API calls while a scan runs: no errors, no lost writes, the scan completes', async () => {
    const N = Math.max(100, Number(process.env.LOAD_REQUESTS) || 600);
    const report = await runLoad({
      srv, requests: N, concurrency: 16, scratch: join(t.dir, 'scratch'), writes: 12,
      startJob: async () => {
        const [root] = await svc.addRoots({ paths: [photos] });
        return (await svc.scan({ rootIds: [root.id] })).id;
      },
      waitJob: (id) => svc.jobs.wait(id),
    });
    figures.load = report;
    expect(report.errorSamples).toEqual([]);
    expect(report.errors).toBe(0);
    expect(report.jobState).toBe('done');
    expect(report.rootsAdded).toBe(12);
    expect(report.wsEvents).toBeGreaterThan(0);
    expect(svc.lib.info().photos).toBe(60);
    expect(svc.lib.roots()).toHaveLength(13);
    expect(report.latencyMs.p99).toBeLessThan(5000);
  });
});

describe('labeling edits under concurrency', () => {
  it('a move racing a split of the same cluster is never lost; undo restores the run', async () => {
    if ((await svc.getInfo()).photos === 0) { // run alone (-t): scan first
      const [root] = await svc.addRoots({ paths: [photos] });
      await svc.jobs.wait((await svc.scan({ rootIds: [root.id] })).id);
    }
    // embeddings for the 60 photos: three blobs in 8-d (imported, so no model is needed), clustered with k-means, k = 3
    const list = (await svc.listPhotos({ limit: 500 })).items;
    const r = rng(7);
    const X = new Float32Array(list.length * 8);
    list.forEach((_, i) => { for (let j = 0; j < 8; j++) X[i * 8 + j] = (j === i % 3 ? 5 : 0) + (j === 3 + (i % 2) ? 2 : 0) + r(); });
    writeNpy(join(t.dir, 'x.npy'), X, [list.length, 8]);
    writeFileSync(join(t.dir, 'ids.csv'), ['path', ...list.map((p) => p.path)].join('\n'));
    await svc.importEmbeddings({ npy: join(t.dir, 'x.npy'), ids: join(t.dir, 'ids.csv'), model: 'blobs' });
    const job = await svc.jobs.wait((await svc.cluster({ model: 'blobs', params: { algo: 'kmeans', k: 3 } })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('done');
    const runId = (job.result as { runId: number }).runId;
    const before = await svc.getAssignments({ runId });
    const clusters = (await svc.getClusters({ runId })).filter((c) => c.cluster >= 0).sort((a, b) => b.size - a.size);
    const A = clusters[0].cluster, B = clusters[1].cluster;
    const moved = Array.from(before.ids).filter((_, i) => before.clusters[i] === A).slice(0, 3);
    let conflicts = 0, applied = 0;
    for (let round = 0; round < 4; round++) {
      // the split computes its parts in a worker; the move lands while it does (the last round: after it)
      const split = post(srv, 'editRun', { runId, op: { type: 'split', cluster: A, k: 2 } });
      if (round === 3) await split;
      else await new Promise((ok) => setTimeout(ok, 5 + round * 15));
      const move = await post(srv, 'editRun', { runId, op: { type: 'move', items: moved, to: B } });
      const s = await split;
      expect(move.status, move.body).toBe(200);
      expect([200, 409], s.body).toContain(s.status);
      if (s.status === 409) conflicts++; else applied++;
      // whatever order they ran in, the moved items are in B now: split-then-move moves them after the split, and
      // move-then-split must split A's members as they are then (or refuse), not the list it read before the move
      const now = await svc.getAssignments({ runId });
      const at = new Map(Array.from(now.ids).map((id, i) => [id, now.clusters[i]]));
      const order = (await svc.getHistory({ runId })).edits.filter((e) => !e.undone).map((e) => e.op.type).join(' then ');
      for (const it of moved) expect(at.get(it), `round ${round} (${order}, split ${s.status}): item ${it} lost its move`).toBe(B);
      expect(now.ids.length).toBe(before.ids.length);
      // undo everything: the run is as it was
      while (await svc.undo({ runId })) { /* all the way back */ }
      const back = await svc.getAssignments({ runId });
      expect(Array.from(back.clusters)).toEqual(Array.from(before.clusters));
    }
    figures.labeling = { rounds: 4, splitRefusedAsConflict: conflicts, splitApplied: applied };
  });
});
