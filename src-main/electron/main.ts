/**
 * The Electron main process: one window, the renderer served from a privileged custom scheme, the AppApi over IPC
 * (one channel, method names checked against the contract, sender checked), thumbnails through the same scheme and
 * only from the cache. Locked down: contextIsolation, sandbox, no nodeIntegration, strict CSP, no navigation, no new
 * windows. Heavy work runs in the core's worker threads, never here.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, session, type IpcMainInvokeEvent } from 'electron';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, reply } from '../common/dispatch.ts';
import { AppError, toPayload } from '../common/errors.ts';
import type { LibraryInfo } from '../common/types.ts';
import { LibraryHost } from '../core/library-host.ts';
import { checkLibraryPath, recentLibraries } from '../core/recent-libraries.ts';
import { defaultLibraryPath } from '../core/library.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { config } from '../core/config.ts';
import { CoreService } from '../core/service.ts';
import { CSP, ORIGIN, SCHEME, isAppUrl, resolveProtocolUrl, webPreferences } from './security.ts';

export { CSP };
const RENDERER_DIR = resolve(REPO_ROOT, 'out', 'renderer');
const PRELOAD = resolve(REPO_ROOT, 'out', 'preload', 'index.cjs');

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

/** the library served now (File > Open, the renderer's library menu and recent list switch it through openLibrary) */
let host: LibraryHost | null = null;
let win: BrowserWindow | null = null;

function libraryArg(): string {
  const a = process.argv.find((x) => x.startsWith('--library='));
  return a ? resolve(a.slice('--library='.length)) : defaultLibraryPath();
}

/**
 * Opens the library at `path` (a new one with `create`): the first through a new host, later ones by switching the
 * host (the old library stays open when the new one fails). Throws the reason it could not be opened.
 */
async function openService(path: string, create = true): Promise<LibraryInfo> {
  if (host) return host.open(path, create);
  const svc = CoreService.open(resolve(path));
  svc.watchFolders(); // watched folders (a library setting; kept across switches)
  host = new LibraryHost(svc);
  host.onEvent((e) => {
    win?.webContents.send('constellate:event', e);
    if (e.type === 'library') win?.setTitle(`Constellate — ${e.info.library}`);
  });
  win?.setTitle(`Constellate — ${svc.lib.path}`);
  const info = svc.lib.info();
  win?.webContents.send('constellate:event', { type: 'library', info });
  return info;
}

/** The methods the renderer may call with no library open (the start failed): open one, list the recent ones. */
async function withoutLibrary(method: unknown, arg: unknown): Promise<unknown> {
  if (method === 'openLibrary') {
    const o = parseArgs('openLibrary', arg);
    const path = checkLibraryPath(o.path, o.create === true, null).path;
    return openService(path, o.create === true);
  }
  if (method === 'checkLibrary') { const o = parseArgs('checkLibrary', arg); return checkLibraryPath(o.path, o.create === true, null); }
  if (method === 'listRecentLibraries') return recentLibraries(null);
  throw new AppError('CONFLICT', 'no library is open: open one (File > Open Library…)');
}

function isOurFrame(e: IpcMainInvokeEvent): boolean {
  const url = e.senderFrame?.url ?? '';
  return isAppUrl(url) && e.sender === win?.webContents;
}

function registerIpc(): void {
  ipcMain.handle('constellate:call', async (e, method: unknown, arg: unknown) => {
    if (!isOurFrame(e)) return { ok: false, error: { code: 'UNAUTHORIZED', message: 'call from an unknown frame' } };
    // the one door: the method name and its one options object checked against the contract's schemas
    if (!host) {
      try { return { ok: true, result: await withoutLibrary(method, arg) }; } catch (err) { return { ok: false, error: toPayload(err) }; }
    }
    return reply(host.service, method, arg, { checkResults: config.checkResults() });
  });
}

function registerProtocol(): void {
  protocol.handle(SCHEME, async (req) => {
    const headers = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' };
    const target = resolveProtocolUrl(req.url, RENDERER_DIR);
    if (target.kind === 'thumb' || target.kind === 'preview') {
      if (!host) return new Response('not found', { status: 404 });
      const lib = host.service.lib;
      try {
        // made from the photo on first ask: a preview, a thumbnail the cache lost
        const file = await (target.kind === 'thumb' ? lib.thumbFile(target.key) : lib.previewPath(target.hash));
        return net.fetch(pathToFileURL(file).toString());
      } catch (e) {
        const p = toPayload(e);
        return new Response(p.message, { status: p.code === 'BAD_IMAGE' ? 422 : p.code === 'NOT_FOUND' ? 404 : p.code === 'CONFLICT' ? 409 : 500, headers });
      }
    }
    if (target.kind !== 'file' || !existsSync(target.file) || !statSync(target.file).isFile()) return new Response('not found', { status: 404 });
    const file = target.file;
    const res = await net.fetch(pathToFileURL(file).toString());
    return new Response(res.body, { status: res.status, headers: { ...Object.fromEntries(res.headers), ...headers } });
  });
}

function lockDown(): void {
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (ev, url) => { if (!isAppUrl(url)) ev.preventDefault(); });
    contents.on('will-redirect', (ev, url) => { if (!isAppUrl(url)) ev.preventDefault(); });
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-attach-webview', (ev) => ev.preventDefault());
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
}

function buildMenu(): void {
  const filters = [{ name: 'Constellate library', extensions: ['constellate', 'db', 'sqlite'] }];
  Menu.setApplicationMenu(Menu.buildFromTemplate([
    {
      label: 'File',
      submenu: [
        {
          label: 'New Library…', accelerator: 'CmdOrCtrl+N', click: async () => {
            const r = await dialog.showSaveDialog(win!, { title: 'New library', defaultPath: 'library.constellate', filters });
            if (!r.canceled && r.filePath) await openOrReport(r.filePath);
          },
        },
        {
          label: 'Open Library…', accelerator: 'CmdOrCtrl+O', click: async () => {
            const r = await dialog.showOpenDialog(win!, { title: 'Open library', properties: ['openFile'], filters });
            if (!r.canceled && r.filePaths[0]) await openOrReport(r.filePaths[0]);
          },
        },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
  ]));
}

async function openOrReport(path: string): Promise<void> {
  try {
    await openService(path, true);
  } catch (e) {
    dialog.showErrorBox('Cannot open library', toPayload(e).message);
  }
}

async function createWindow(): Promise<void> {
  win = new BrowserWindow({
    width: 1400, height: 900, show: false, title: 'Constellate',
    webPreferences: webPreferences(PRELOAD),
  });
  win.once('ready-to-show', () => win?.show());
  await win.loadURL(`${ORIGIN}/index.html`);
}

app.whenReady().then(async () => {
  lockDown();
  registerProtocol();
  registerIpc();
  buildMenu();
  try {
    await openService(libraryArg());
  } catch (e) {
    dialog.showErrorBox('Cannot open library', `${toPayload(e).message}\n\nUse File > Open Library… or File > New Library….`);
  }
  await createWindow();
});

app.on('window-all-closed', async () => {
  await host?.close();
  app.quit();
});
