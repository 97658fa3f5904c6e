/**
 * Issue 14, serve mode as a real process: `serve --open` never puts the token on a command line (it opens a 0600 page
 * in a 0700 folder that redirects, removed when serve stops), and, run as an unprivileged user (`setpriv` to nobody,
 * since tests run as root), an unreadable thumbnail answers an error status while the server stays up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../testing/fixtures.ts';
import { thumbFile } from '../core/thumb-path.ts';

const t = tempDir('constellate-serveproc-');
const BIN = join(REPO_ROOT, 'src-main/cli/bin.mjs');
const built = existsSync(join(REPO_ROOT, 'out/renderer/index.html'));
const children: ChildProcess[] = [];
afterAll(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); t.cleanup(); });

function startServe(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess; url: string; port: number; token: string; err: () => string }> {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  return new Promise((ok, fail) => {
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`serve did not start: ${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        const j = JSON.parse(buf.slice(0, nl));
        const u = new URL(j.url);
        ok({ child, url: j.url, port: Number(u.port), token: u.searchParams.get('token')!, err: () => err });
      }
    });
    child.on('exit', (c) => { clearTimeout(timer); fail(new Error(`serve exited ${c}: ${err}`)); });
  });
}
const stop = (c: ChildProcess) => new Promise<void>((ok) => { if (c.exitCode !== null) ok(); else { c.once('exit', () => ok()); c.kill('SIGTERM'); } });

describe('serve --open', () => {
  it.skipIf(!built)('opens a private page, never the token on a command line', async () => {
    const fake = join(t.dir, 'bin');
    const rec = join(t.dir, 'rec');
    mkdirSync(fake); mkdirSync(rec);
    writeFileSync(join(fake, 'xdg-open'), `#!/bin/sh
f="\${1#file://}"
printf '%s' "$*" > "$REC/args"
stat -c '%a' "$f" > "$REC/mode"
stat -c '%a' "$(dirname "$f")" > "$REC/dirmode"
cat "$f" > "$REC/page"
echo "$f" > "$REC/file"
`, { mode: 0o755 });
    const s = await startServe(process.execPath, [BIN, 'serve', '--open', '--json', '--library', join(t.dir, 'open.constellate')],
      { ...process.env, PATH: `${fake}:${process.env.PATH}`, REC: rec });
    for (let i = 0; i < 100 && !existsSync(join(rec, 'file')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(join(rec, 'args'), 'utf8')).toMatch(/^file:\/\/.*open\.html$/);
    expect(readFileSync(join(rec, 'args'), 'utf8')).not.toContain(s.token);
    expect(readFileSync(join(rec, 'mode'), 'utf8').trim()).toBe('600');
    expect(readFileSync(join(rec, 'dirmode'), 'utf8').trim()).toBe('700');
    const page = readFileSync(join(rec, 'page'), 'utf8');
    expect(page).toContain(`location.replace("${s.url}")`);
    // no process on the machine has the token in its arguments
    const leaks = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(s.token); } catch { return false; }
    });
    expect(leaks).toEqual([]);
    // the redirect target logs in
    const r = await fetch(s.url, { redirect: 'manual' });
    expect(r.status).toBe(303);
    await stop(s.child);
    expect(existsSync(readFileSync(join(rec, 'file'), 'utf8').trim())).toBe(false);
  });
});

const setpriv = spawnSync('setpriv', ['--version']).status === 0;
// the checkout itself must be readable by nobody (a clone inside a 0700 temp folder is not): skipped visibly otherwise
const nobodyReadsRepo = setpriv && spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'test', '-r', BIN]).status === 0;
describe('serve as an unprivileged user', () => {
  it.skipIf(!built || !setpriv || !nobodyReadsRepo || process.getuid?.() !== 0)('an unreadable thumbnail answers 403 and the server stays up', async () => {
    // the Node binary under /root is out of nobody's reach: a copy it may run
    const home = mkdtempSync(join(tmpdir(), 'constellate-nobody-'));
    chmodSync(home, 0o755);
    try {
      const node = join(home, 'node');
      copyFileSync(process.execPath, node);
      chmodSync(node, 0o755);
      const libDir = join(home, 'lib');
      mkdirSync(libDir);
      chownSync(libDir, 65534, 65534);
      const lib = join(libDir, 'l.constellate');
      const s = await startServe('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', node, BIN, 'serve', '--json', '--library', lib],
        { PATH: process.env.PATH, HOME: home, CONSTELLATE_SHARED: process.env.CONSTELLATE_SHARED ?? '' });
      const get = (p: string) => fetch(`http://127.0.0.1:${s.port}${p}`, { headers: { 'x-constellate-token': s.token } });
      const key = 'ab23456789abcdef';
      const thumb = thumbFile(join(`${lib}.cache`, 'thumbs'), key);
      mkdirSync(dirname(thumb), { recursive: true });
      writeFileSync(thumb, Buffer.alloc(100, 1));
      chmodSync(thumb, 0o000); // root's file, unreadable to nobody
      const r = await get(`/thumb/${key}.jpg`);
      expect(r.status).toBe(403);
      expect(await r.text()).not.toContain('\u0001');
      chmodSync(thumb, 0o644);
      expect((await get(`/thumb/${key}.jpg`)).status).toBe(200);
      // an unreadable folder on the way: 403 as well, never a crash
      chmodSync(dirname(thumb), 0o700);
      expect([403, 404]).toContain((await get(`/thumb/${key}.jpg`)).status);
      expect((await fetch(`http://127.0.0.1:${s.port}/api/getInfo`, { method: 'POST', body: '', headers: { 'x-constellate-token': s.token } })).status).toBe(200);
      expect(s.child.exitCode).toBe(null);
      await stop(s.child);
      expect(s.err()).not.toMatch(/EACCES|Unhandled|uncaught/i);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);
});
