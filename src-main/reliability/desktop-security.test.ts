/**
 * Desktop hardening without the Electron binary: the window settings, CSP and protocol resolver are pure (security.ts)
 * and tested directly; main.ts is checked to use them and to guard IPC, navigation and new windows; the preload (bundled
 * from source, and the built out/preload/index.cjs) is run in a VM against a fake `electron` module to see exactly what
 * it exposes and what it can reach.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import vm from 'node:vm';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { API_METHODS } from '../common/api.ts';
import { clientOf, type Reply } from '../common/client.ts';
import { reply } from '../common/dispatch.ts';
import { AppError } from '../common/errors.ts';
import { CoreService } from '../core/service.ts';
import { bridgeCopy, copyingContextBridge } from '../testing/context-bridge.ts';
import { CSP, ORIGIN, isAppUrl, resolveProtocolUrl, webPreferences } from '../electron/security.ts';
import { previewRoute } from '../common/thumbs.ts';
import { REPO_ROOT, tempDir } from '../testing/fixtures.ts';

const t = tempDir('constellate-desktop-');
afterAll(() => t.cleanup());
const MAIN = readFileSync(join(REPO_ROOT, 'src-main/electron/main.ts'), 'utf8');

describe('window and content security policy', () => {
  it('webPreferences: isolated, sandboxed, no Node, web security on', () => {
    const w = webPreferences('/x/preload.cjs');
    expect(w).toMatchObject({ preload: '/x/preload.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false });
    // main.ts builds its window from exactly this object, and nowhere overrides it
    expect(MAIN).toMatch(/webPreferences:\s*webPreferences\(PRELOAD\)/);
    expect(MAIN).not.toMatch(/nodeIntegration:\s*true|contextIsolation:\s*false|sandbox:\s*false|webSecurity:\s*false/);
    expect(MAIN.match(/new BrowserWindow\(/g)).toHaveLength(1);
  });

  it('CSP: self only, no eval, no inline script, no remote hosts, no framing, no plugins', () => {
    const d = new Map(CSP.split(';').map((x) => x.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    expect(d.get('default-src')).toEqual(["'self'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('form-action')).toEqual(["'none'"]);
    expect(CSP).not.toMatch(/unsafe-eval|wasm-unsafe-eval|\*|https?:|wss?:/);
    for (const [k, v] of d) if (k !== 'style-src') expect(v, k).not.toContain("'unsafe-inline'");
    // the protocol handler attaches it to every renderer response
    expect(MAIN).toMatch(/'content-security-policy': CSP/);
  });

  it('navigation, redirects, new windows, webviews and permission requests are denied', () => {
    expect(isAppUrl(`${ORIGIN}/index.html`)).toBe(true);
    for (const u of ['https://evil.example/', 'http://127.0.0.1:8080/', 'file:///etc/passwd', 'constellate://evil/index.html', 'constellate://app.evil/',
      'constellate://app@evil/', 'javascript:alert(1)', 'data:text/html,<script>1</script>', 'about:blank', '', 'not a url', 'constellate:app/x']) {
      expect(isAppUrl(u), u).toBe(false);
    }
    expect(MAIN).toMatch(/'will-navigate', \(ev, url\) => \{ if \(!isAppUrl\(url\)\) ev\.preventDefault\(\); \}/);
    expect(MAIN).toMatch(/'will-redirect', \(ev, url\) => \{ if \(!isAppUrl\(url\)\) ev\.preventDefault\(\); \}/);
    expect(MAIN).toMatch(/setWindowOpenHandler\(\(\) => \(\{ action: 'deny' \}\)\)/);
    expect(MAIN).toMatch(/'will-attach-webview', \(ev\) => ev\.preventDefault\(\)/);
    expect(MAIN).toMatch(/setPermissionRequestHandler\(\(_wc, _perm, cb\) => cb\(false\)\)/);
  });

  it('IPC: one channel, sender frame and webContents checked before the shared door (method name, then its schema)', () => {
    expect(MAIN.match(/ipcMain\.(handle|on)\(/g)).toEqual(['ipcMain.handle(']);
    const handler = MAIN.slice(MAIN.indexOf("ipcMain.handle('constellate:call'"));
    const senderCheck = handler.indexOf('if (!isOurFrame(e))');
    // the library served now (openLibrary switches it); with none open, only openLibrary / listRecentLibraries, through the schema
    const door = handler.indexOf('return reply(host.service, method, arg');
    const noLibrary = handler.indexOf('await withoutLibrary(method, arg)');
    expect(senderCheck).toBeGreaterThan(0);
    expect(senderCheck).toBeLessThan(door);
    expect(senderCheck).toBeLessThan(noLibrary);
    expect(MAIN).toMatch(/const o = parseArgs\('openLibrary', arg\);/);
    expect(MAIN).toMatch(/return isAppUrl\(url\) && e\.sender === win\?\.webContents;/);
  });
});

describe('custom protocol: renderer files and cached thumbnails only', () => {
  const renderer = join(t.dir, 'out', 'renderer');
  mkdirSync(join(renderer, 'assets'), { recursive: true });
  writeFileSync(join(renderer, 'index.html'), 'x');

  it('serves the renderer and thumbnail keys', () => {
    expect(resolveProtocolUrl(`${ORIGIN}/`, renderer)).toEqual({ kind: 'file', file: join(renderer, 'index.html') });
    expect(resolveProtocolUrl(`${ORIGIN}/assets/app.js`, renderer)).toEqual({ kind: 'file', file: join(renderer, 'assets', 'app.js') });
    expect(resolveProtocolUrl(`${ORIGIN}/thumb/0123456789abcdef0123456789abcdef.jpg`, renderer)).toEqual({ kind: 'thumb', key: '0123456789abcdef0123456789abcdef' });
    expect(resolveProtocolUrl(`${ORIGIN}/thumb/0123456789abcdef-f2.jpg`, renderer)).toEqual({ kind: 'thumb', key: '0123456789abcdef-f2' });
    expect(resolveProtocolUrl(`${ORIGIN}/${previewRoute('0123456789abcdef0123')}`, renderer)).toEqual({ kind: 'preview', hash: '0123456789abcdef0123' });
  });

  it('refuses traversal and anything outside, however encoded', () => {
    const attempts = ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/%2e%2e%2fsecret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/%252e%252e%252fsecret.txt', '/..%5csecret.txt', '/assets/..%5c..%5csecret.txt', '/%5c..%5c..%5csecret.txt', '/assets/%00.js', '/%00',
      '/%', '/%e0%a4%a', '/' + '../'.repeat(200) + 'etc/passwd', '/' + '%2e%2e%2f'.repeat(50) + 'etc/passwd', '/thumb/../../secret.txt',
      '/thumb/..%2f..%2fsecret.jpg', '/thumb/0123456789abcdef%2f..%2f..%2fx.jpg', '/thumb/ZZZZ.jpg', '/thumb/0123456789abcdef.jpg/../../x',
      '/preview/../../secret.txt', '/preview/..%2f..%2fsecret.jpg', '/preview/0123456789abcdef%2f..%2f..%2fx.jpg', '/preview/ZZZZ.jpg',
      '/preview/0123456789abcdef-f2.jpg', '/preview/0123456789abcdef.jpg/../../x', '/preview/%2Fetc%2Fpasswd.jpg'];
    for (const p of attempts) {
      const r = resolveProtocolUrl(`${ORIGIN}${p}`, renderer);
      if (r.kind === 'file') expect(r.file.startsWith(renderer + '/'), p).toBe(true);
      if (r.kind === 'thumb') expect(r.key, p).toMatch(/^[0-9a-f]{16,64}(-f\d+)?$/);
      if (r.kind === 'preview') expect(r.hash, p).toMatch(/^[0-9a-f]{16,64}$/);
      // double-encoded dots stay literal names inside the renderer folder, never a way out
      expect(r.kind === 'file' && !r.file.startsWith(renderer), p).toBe(false);
    }
    expect(resolveProtocolUrl(`${ORIGIN}/..%5csecret.txt`, renderer).kind).toBe('none');
    expect(resolveProtocolUrl(`${ORIGIN}/%`, renderer).kind).toBe('none');
    expect(resolveProtocolUrl(`${ORIGIN}/assets/%00.js`, renderer).kind).toBe('none');
    for (const u of ['constellate://evil/index.html', 'file:///etc/passwd', 'https://app/index.html', 'constellate://app.evil/x']) {
      expect(resolveProtocolUrl(u, renderer).kind, u).toBe('none');
    }
  });

  it('main.ts serves thumbnails only through Library.thumbFile (keys of the library only) and files only when they are regular files', () => {
    expect(MAIN).toMatch(/lib\.thumbFile\(target\.key\)/);
    expect(MAIN).toMatch(/lib\.previewPath\(target\.hash\)/);
    expect(MAIN).toMatch(/target\.kind !== 'file' \|\| !existsSync\(target\.file\) \|\| !statSync\(target\.file\)\.isFile\(\)/);
  });
});

/** Runs a bundled CommonJS preload in a fresh VM context with a fake `electron`; returns what it exposed and touched. */
function runPreload(code: string, opts: { bridge?: { exposeInMainWorld(k: string, v: unknown): void }; invoke?: (ch: string, ...a: unknown[]) => Promise<unknown> } = {}) {
  const requires: string[] = [];
  const exposed = new Map<string, unknown>();
  const invokes: Array<[string, unknown[]]> = [];
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  let reply: unknown = { ok: true, result: 42 };
  const electron = {
    contextBridge: opts.bridge ?? { exposeInMainWorld: (k: string, v: unknown) => exposed.set(k, v) },
    ipcRenderer: {
      invoke: async (ch: string, ...a: unknown[]) => { invokes.push([ch, a]); return opts.invoke ? opts.invoke(ch, ...a) : reply; },
      on: (ch: string, h: (...a: unknown[]) => void) => { (listeners.get(ch) ?? listeners.set(ch, new Set()).get(ch)!).add(h); },
      removeListener: (ch: string, h: (...a: unknown[]) => void) => { listeners.get(ch)?.delete(h); },
    },
  };
  const module = { exports: {} };
  const sandbox = {
    module, exports: module.exports, console,
    require: (name: string) => { requires.push(name); if (name === 'electron') return electron; throw new Error(`preload may not require ${name}`); },
  };
  vm.runInNewContext(code, sandbox, { filename: 'preload.cjs' });
  return { requires, exposed, invokes, listeners, setReply: (r: unknown) => { reply = r; } };
}

async function checkPreload(code: string, methods: readonly string[]) {
  const p = runPreload(code);
  expect(p.requires).toEqual(['electron']);
  expect([...p.exposed.keys()]).toEqual(['constellate']);
  const api = p.exposed.get('constellate') as Record<string, (...a: unknown[]) => unknown>;
  expect(Object.isFrozen(api)).toBe(true);
  expect(Object.keys(api).sort()).toEqual([...methods, 'onEvent'].sort());
  for (const k of Object.keys(api)) expect(typeof api[k], k).toBe('function');
  // no ipcRenderer, no generic send/invoke escape hatch
  expect(Object.keys(api).some((k) => /ipc|invoke|send|require|process/i.test(k))).toBe(false);
  // a method call goes out on the one channel with its own name and answers the door's reply object, never throwing
  expect(structuredClone(await api.getInfo())).toEqual({ ok: true, result: 42 });
  expect(p.invokes.at(-1)).toEqual(['constellate:call', ['getInfo', undefined]]);
  expect(structuredClone(await api.getPhoto({ id: 9 }))).toEqual({ ok: true, result: 42 });
  expect(p.invokes.at(-1)).toEqual(['constellate:call', ['getPhoto', { id: 9 }]]);
  p.setReply({ ok: false, error: { code: 'NOT_FOUND', message: 'photo 9 does not exist' } });
  expect(structuredClone(await api.getPhoto({ id: 9 }))).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'photo 9 does not exist' } });
  // a malformed answer or an unknown code is never passed on raw
  p.setReply({ ok: false, error: { code: 'EVIL', message: 'x', extra: 1 } });
  expect(structuredClone(await api.getPhoto({ id: 9 }))).toEqual({ ok: false, error: { code: 'INTERNAL', message: 'x' } });
  p.setReply(undefined);
  expect(structuredClone(await api.getPhoto({ id: 9 }))).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  // events: subscribe and unsubscribe on the one event channel; the listener gets the payload only (no IPC event object)
  const got: unknown[] = [];
  const off = api.onEvent((e: unknown) => got.push(e)) as () => void;
  expect([...p.listeners.keys()]).toEqual(['constellate:event']);
  for (const h of p.listeners.get('constellate:event')!) h({ sender: 'ipc-internals' }, { type: 'library' });
  expect(got).toEqual([{ type: 'library' }]);
  off();
  expect(p.listeners.get('constellate:event')!.size).toBe(0);
  return p;
}

describe('preload', () => {
  it('bundled from source: exposes exactly API_METHODS + onEvent, requires only electron', async () => {
    const r = await build({ entryPoints: [join(REPO_ROOT, 'src-main/electron/preload.ts')], bundle: true, platform: 'node', format: 'cjs',
      external: ['electron'], write: false, logLevel: 'silent' });
    await checkPreload(r.outputFiles[0].text, API_METHODS);
  });

  const built = resolve(REPO_ROOT, 'out/preload/index.cjs');
  it.skipIf(!existsSync(built))('the built out/preload/index.cjs: same shape, no fs/child_process/process access', async () => {
    const code = readFileSync(built, 'utf8');
    const required = [...code.matchAll(/require\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
    expect(required).toEqual(['electron']);
    expect(code).not.toMatch(/\bprocess\.(binding|dlopen|env|mainModule)|child_process|node:fs|["']fs["']|\beval\(|new Function\(/);
    // the methods it exposes are the contract's (the keys of its schema map, compiled in: a stale build fails here, rebuild it)
    await checkPreload(code, API_METHODS);
  });
});

describe('the desktop bridge, crossed as Electron copies it (structured clone, errors rebuilt from their message)', () => {
  const svcDir = tempDir('constellate-bridge-');
  let svc: CoreService;
  afterAll(async () => { await svc?.close(); svcDir.cleanup(); });

  it('the copying bridge itself: errors lose their code, prototypes are dropped, typed arrays are copied, never shared', async () => {
    const world: Record<string, unknown> = {};
    const seen: unknown[] = [];
    copyingContextBridge(world).exposeInMainWorld('x', {
      fail: async () => { throw new AppError('NOT_FOUND', 'photo 9 does not exist'); },
      failNow: () => { throw new AppError('BAD_ARGUMENT', 'id: bad'); },
      echo: async (v: unknown) => { seen.push(v); return v; },
    });
    const x = world.x as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const err = await x.fail().catch((e: unknown) => e) as Error & { code?: string };
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(AppError);
    expect(err.message).toBe('photo 9 does not exist');
    expect(err.code).toBeUndefined();
    expect(() => x.failNow()).toThrow(/id: bad/);
    const v = new Float32Array([1, 2, 3]);
    const arg = { v, e: new AppError('IO', 'disk') };
    const back = await x.echo(arg) as { v: Float32Array; e: Error & { code?: string } };
    expect(seen[0]).not.toBe(arg);
    expect(back.v).toEqual(v);
    expect(back.v).not.toBe(v);
    v[0] = 9;
    expect(back.v[0]).toBe(1);
    expect(back.e.code).toBeUndefined();
    expect(() => copyingContextBridge(world).exposeInMainWorld('x', {})).toThrow(/existing property/);
    expect(() => bridgeCopy(Symbol('s'))).toThrow();
  });

  it('every error code reaches the renderer through the preload and the bridge (the old throwing preload lost them)', async () => {
    svc = CoreService.open(join(svcDir.dir, 'lib.constellate'));
    const r = await build({ entryPoints: [join(REPO_ROOT, 'src-main/electron/preload.ts')], bundle: true, platform: 'node', format: 'cjs',
      external: ['electron'], write: false, logLevel: 'silent' });
    const world: Record<string, unknown> = {};
    // the main process's door behind ipcRenderer.invoke, arguments and replies copied as IPC copies them
    const invoke = async (_ch: string, m: unknown, a: unknown) => structuredClone(await reply(svc, m, structuredClone(a)));
    runPreload(r.outputFiles[0].text, { bridge: copyingContextBridge(world), invoke });
    const bridged = world.constellate as Record<string, (o?: unknown) => Promise<Reply>>;
    // the renderer's IPC client: the generic proxy over the bridged methods' replies
    const client = clientOf((m, a) => bridged[m](a)) as unknown as Record<string, (o?: unknown) => Promise<unknown>>;
    expect(await client.getInfo()).toMatchObject({ photos: 0 });
    await expect(client.getPhoto({ id: 999 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.getPhoto({ id: -1 })).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(/id/) });
    await expect(client.getPhoto({ id: 999 })).rejects.toBeInstanceOf(AppError);
    // Export's "create the folder?" question hangs on NOT_FOUND: it arrives as NOT_FOUND, naming the folder
    const missing = join(svcDir.dir, 'no', 'such', 'folder');
    await expect(client.exportRun({ runId: 1, to: missing, format: 'csv' })).rejects.toMatchObject({ code: expect.stringMatching(/NOT_FOUND|BAD_ARGUMENT/) });

    // the preload as it was: the generic proxy inside the isolated world, throwing AppError across the bridge
    const oldWorld: Record<string, unknown> = {};
    copyingContextBridge(oldWorld).exposeInMainWorld('constellate', clientOf(async (m, a) => invoke('constellate:call', m, a) as Promise<Reply>));
    const old = oldWorld.constellate as Record<string, (o?: unknown) => Promise<unknown>>;
    const lostCode = await old.getPhoto({ id: 999 }).catch((e: { code?: string }) => e.code ?? 'INTERNAL');
    expect(lostCode).toBe('INTERNAL');
  });
});
