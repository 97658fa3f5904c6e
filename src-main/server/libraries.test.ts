/**
 * Serve mode switches the library it serves (openLibrary): the new one is opened as at start, the old one closed with
 * its lock released; one that fails to open (damaged, not a library, locked by another process, not writable) leaves
 * the old one open and serving, with the reason as a 4xx. The recent list is kept outside the library.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CoreService } from '../core/service.ts';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';
import { startServer, type RunningServer } from './server.ts';

const t = tempDir('constellate-libs-');
const libA = join(t.dir, 'a.constellate');
const libB = join(t.dir, 'b.constellate');
const recentFile = join(t.dir, 'home', 'recent-libraries.json');
let svc: CoreService;
let srv: RunningServer;
const children: ChildProcess[] = [];

async function call(method: string, arg?: unknown): Promise<{ status: number; body: { result?: unknown; error?: { code: string; message: string } } }> {
  const r = await fetch(`http://127.0.0.1:${srv.port}/api/${method}`, {
    method: 'POST', headers: { 'x-constellate-token': srv.token, 'content-type': 'application/json' }, body: arg === undefined ? '' : JSON.stringify(arg),
  });
  return { status: r.status, body: await r.json() as { result?: unknown; error?: { code: string; message: string } } };
}
const libraryNow = async () => ((await call('getInfo')).body.result as { library: string }).library;

/** A process that takes the library's lock (lock-child.ts) and holds it until SIGTERM. */
async function holdLock(lib: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src-main/reliability/lock-child.ts'), lib, '-1', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const out = await new Promise<{ ok: boolean; code?: string }>((ok, fail) => {
    let buf = '';
    child.stdout!.on('data', (c) => { buf += c; const i = buf.indexOf('\n'); if (i >= 0) ok(JSON.parse(buf.slice(0, i))); });
    child.on('close', (code) => fail(new Error(`lock child exited (${code}) without an answer`)));
  });
  if (!out.ok) throw new Error(`the lock child could not take ${lib}: ${out.code}`);
  return child;
}

beforeAll(async () => {
  const renderer = join(t.dir, 'renderer');
  mkdirSync(renderer, { recursive: true });
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>x</title>');
  // library B: two folders of photos (its counts tell it apart from the empty A)
  const photos = join(t.dir, 'photos');
  mkdirSync(photos);
  for (const f of readdirSync(sharedPath('data/photos-flowers/daisy')).sort().slice(0, 3)) copyFileSync(sharedPath('data/photos-flowers/daisy', f), join(photos, f));
  const b = CoreService.open(libB);
  await b.addRoots({ paths: [photos] });
  await b.close();
  svc = CoreService.open(libA);
  srv = await startServer({ service: svc, rendererDir: renderer, remember: true, recentFile });
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await srv.close();
  await svc.close();
  t.cleanup();
});

describe('serve mode: open another library', () => {
  it('switches to another library, tells every client, and releases the old one\'s lock', async () => {
    expect(await libraryNow()).toBe(libA);
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/events?token=${srv.token}`);
    await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
    const events: Array<{ type: string; info?: { library: string; roots: number } }> = [];
    ws.on('message', (d) => events.push(JSON.parse(String(d))));

    const r = await call('openLibrary', { path: libB });
    expect([r.status, (r.body.result as { library: string; roots: number }).library, (r.body.result as { roots: number }).roots]).toEqual([200, libB, 1]);
    expect(await libraryNow()).toBe(libB);
    expect(srv.host.service.lib.path).toBe(libB);
    await new Promise((ok) => setTimeout(ok, 100));
    expect(events.filter((e) => e.type === 'library').map((e) => e.info?.library)).toEqual([libB]);
    ws.close();
    // the old library is closed and unlocked: another process can take its lock now
    expect(svc.lib.db.open).toBe(false);
    const child = await holdLock(libA);
    child.kill('SIGTERM');
    await new Promise((ok) => child.once('close', ok));
    // recent: B then A, B the open one
    const recent = (await call('listRecentLibraries')).body.result as Array<{ path: string; current: boolean; exists: boolean }>;
    expect(recent.map((x) => [x.path, x.current, x.exists])).toEqual([[libB, true, true], [libA, false, true]]);
    // and back (the recent list's order follows)
    expect((await call('openLibrary', { path: libA })).status).toBe(200);
    expect(await libraryNow()).toBe(libA);
    expect(((await call('listRecentLibraries')).body.result as Array<{ path: string }>).map((x) => x.path)).toEqual([libA, libB]);
  });

  it('keeps the open library when the new one cannot be opened, and says why (4xx)', async () => {
    const start = await libraryNow();
    const bad = join(t.dir, 'damaged.constellate');
    writeFileSync(bad, 'this is not a database, just some text that is long enough'.repeat(40));
    const cases: Array<[string, unknown, number, string]> = [
      ['not a library', { path: bad }, 400, 'NOT_A_LIBRARY'],
      ['missing without create', { path: join(t.dir, 'nope.constellate') }, 404, 'NOT_FOUND'],
      ['relative path', { path: 'some/lib.constellate' }, 400, 'BAD_ARGUMENT'],
      ['folder missing for a new one', { path: join(t.dir, 'no-such-dir', 'x.constellate'), create: true }, 404, 'NOT_FOUND'],
    ];
    for (const [what, arg, status, code] of cases) {
      const r = await call('openLibrary', arg);
      expect([what, r.status, r.body.error?.code], r.body.error?.message).toEqual([what, status, code]);
    }
    // locked by another process
    const c = join(t.dir, 'c.constellate');
    (await CoreService.open(c).close());
    const child = await holdLock(c);
    const r = await call('openLibrary', { path: c });
    expect([r.status, r.body.error?.code]).toEqual([409, 'LIBRARY_LOCKED']);
    expect(r.body.error?.message).toContain(c);
    child.kill('SIGTERM');
    await new Promise((ok) => child.once('close', ok));
    // the library open before still serves, writable
    expect(await libraryNow()).toBe(start);
    expect((await call('listRoots')).status).toBe(200);
    expect(srv.host.service.lib.db.open).toBe(true);
    expect(((await call('listRecentLibraries')).body.result as Array<{ path: string }>).map((x) => x.path)).not.toContain(bad);
  });

  it.skipIf(process.getuid?.() === 0)('keeps the open library when the new one is not writable', async () => {
    const start = await libraryNow();
    const dir = join(t.dir, 'ro');
    mkdirSync(dir);
    const ro = join(dir, 'ro.constellate');
    await CoreService.open(ro).close();
    chmodSync(ro, 0o444);
    chmodSync(dir, 0o555);
    try {
      const r = await call('openLibrary', { path: ro });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.body.error?.message).toContain(ro);
      expect(await libraryNow()).toBe(start);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('creates a new library with create, and refuses a switch while a job runs', async () => {
    const fresh = join(t.dir, 'fresh.constellate');
    const r = await call('openLibrary', { path: fresh, create: true });
    expect([r.status, (r.body.result as { library: string; photos: number }).library, (r.body.result as { photos: number }).photos]).toEqual([200, fresh, 0]);
    // a scan of B's photos keeps a job running while the switch is asked
    const roots = (await call('addRoots', { paths: [join(t.dir, 'photos')] })).body.result as Array<{ id: number }>;
    const job = (await call('scan', { rootIds: [roots[0].id] })).body.result as { id: number };
    const refused = await call('openLibrary', { path: libA });
    expect([refused.status, refused.body.error?.code]).toEqual([409, 'CONFLICT']);
    expect(refused.body.error?.message).toContain(`job ${job.id} (scan)`);
    expect(await libraryNow()).toBe(fresh);
    await call('waitJob', { id: job.id });
    expect((await call('openLibrary', { path: libA })).status).toBe(200);
  });
});
