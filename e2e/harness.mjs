// Shared e2e plumbing: start `constellate serve` on a fresh library, launch Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = process.env.CONSTELLATE_SHARED ? resolve(process.env.CONSTELLATE_SHARED) : resolve(ROOT, '../shared');
export const ARTIFACTS = join(ROOT, 'e2e', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

export function chromiumPath() {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean)) {
    if (existsSync(p)) return p;
  }
  throw new Error('Chromium not found: apt-get install chromium (or set CHROMIUM_PATH)');
}

/** Starts serve mode on a temp library; resolves with {url, port, token, stop, dir, library}. */
export async function startServe(extraArgs = [], opts = {}) {
  // opts.dir: serve the library of an earlier instance again (a restart)
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'constellate-e2e-'));
  const library = join(dir, 'e2e.constellate');
  // the user data folder (recent libraries) inside the test's folder, never the real user's
  const env = { ...process.env, CONSTELLATE_HOME: opts.home ?? join(dir, 'home') };
  const child = spawn(process.execPath, [join(ROOT, 'src-main/cli/bin.mjs'), 'serve', '--json', '--library', library, ...extraArgs], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env,
  });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const first = await new Promise((ok, fail) => {
    let buf = '';
    const t = setTimeout(() => fail(new Error(`serve did not start in 120 s: ${err}`)), 120_000);
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { clearTimeout(t); ok(JSON.parse(buf.slice(0, nl))); }
    });
    child.on('exit', (code) => { clearTimeout(t); fail(new Error(`serve exited (${code}): ${err}`)); });
  });
  const url = new URL(first.url);
  return {
    url: first.url, port: Number(url.port), token: url.searchParams.get('token'), dir, library,
    stderr: () => err,
    /** stops the server and keeps its folder (for a restart with startServe(args, {dir})) */
    kill: async () => {
      child.kill('SIGTERM');
      await new Promise((ok) => { if (child.exitCode !== null) ok(); else child.once('exit', ok); });
    },
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((ok) => { if (child.exitCode !== null) ok(); else child.once('exit', ok); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Collects console errors and failed requests of a page, so a test can assert there were none. */
export function watchPage(page) {
  const problems = [];
  // failed loads are reported with their URL below; the console repeats them without it
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${new URL(r.url()).pathname}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // a request the page itself gave up is not a failure: a reload or navigation aborts the reads in flight (the views
  // refetch on every change event, so one is often in flight); refused connections, timeouts and resets still count
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? '';
    if (why !== 'net::ERR_ABORTED') problems.push(`requestfailed: ${r.url()} ${why}`);
  });
  return problems;
}

/**
 * API calls made from inside the page (its session cookie and CSRF header, as the app's own client sends them), for
 * tests to set up and check state: `raw` answers {status, result | error} (or {status, binary} for a non-JSON
 * answer); `call` answers the result or throws the error's message. `getPage` is read at each call (tests assign the
 * page in `before`).
 */
export function pageApi(getPage) {
  const raw = (method, options) => getPage().evaluate(async ([m, a]) => {
    const r = await fetch(`api/${m}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-constellate-csrf': '1' }, body: a === null ? '' : JSON.stringify(a) });
    const type = r.headers.get('content-type') ?? '';
    if (!type.includes('json')) return { status: r.status, binary: true };
    return { status: r.status, ...(await r.json()) };
  }, [method, options ?? null]);
  const call = async (method, options) => { const r = await raw(method, options); if (r.error) throw new Error(r.error.message); return r.result; };
  return { raw, call };
}

/** Polls `fn` every 150 ms until it returns something truthy (that value), or throws naming `what` after `ms`. */
export async function until(fn, what, ms = 20_000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A served library and a Chromium page on it at the size every browser test uses, its problems watched. */
export async function openServed(serveArgs = [], serveOpts = {}) {
  const server = await startServe(serveArgs, serveOpts);
  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1440, height: 920 } });
  return { server, browser, page, problems: watchPage(page) };
}

/** Waits for the job an API call answered with ({id}) and asserts it finished; answers the job. */
export function jobWaiter(call, timeoutMs = 240_000) {
  return async (job) => {
    const j = await call('waitJob', { id: job.id, timeoutMs });
    if (j.state !== 'done') throw new Error(`job ${job.id} ended ${j.state}: ${JSON.stringify(j.error)}`);
    return j;
  };
}

/** Opens a view by its navigation tab and waits for it. */
export function viewOpener(getPage) {
  return async (view) => { await getPage().getByTestId(`nav-${view}`).click(); await getPage().getByTestId(`${view}-view`).waitFor(); };
}
