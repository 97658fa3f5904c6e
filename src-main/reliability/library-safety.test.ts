/**
 * Library safety: one writer per library across processes (lock file with stale-lock takeover), read-only access beside
 * a running instance, clean errors for damaged files, WAL folded back on close.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Library } from '../core/library.ts';
import { APPLICATION_ID } from '../core/store/db.ts';
import { acquireLock, lockPath, pidAlive } from '../core/store/lock.ts';
import { MIGRATIONS, LATEST_VERSION } from '../core/store/migrations.ts';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';
import { checkLibrary, cliSpawn, cliSync } from './helpers.ts';

const t = tempDir('constellate-safety-');
const photos = join(t.dir, 'photos');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  t.cleanup();
});
beforeAll(() => {
  mkdirSync(photos);
  for (const f of readdirSync(sharedPath('data/photos-flowers/daisy')).sort().slice(0, 12)) copyFileSync(sharedPath('data/photos-flowers/daisy', f), join(photos, f));
});

/** Starts lock-child.ts; resolves with its one-line outcome (and the process, still holding the lock if it won). */
function lockChild(lib: string, holdMs: number, startAt = 0): { child: ChildProcess; outcome: Promise<{ ok: boolean; pid: number; code?: string; message?: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src-main/reliability/lock-child.ts'), lib, String(holdMs), String(startAt)], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const outcome = new Promise<{ ok: boolean; pid: number; code?: string; message?: string }>((ok, fail) => {
    let buf = '';
    child.stdout!.on('data', (c) => {
      buf += c;
      const i = buf.indexOf('\n');
      if (i >= 0) ok(JSON.parse(buf.slice(0, i)));
    });
    child.on('close', (code) => fail(new Error(`lock child exited (${code}) without an answer`)));
  });
  return { child, outcome };
}

const exited = (c: ChildProcess) => new Promise<void>((ok) => { if (c.exitCode !== null || c.signalCode !== null) ok(); else c.on('close', () => ok()); });

describe('two app instances on one library', () => {
  const lib = join(t.dir, 'shared.constellate');

  it('a second writer gets LIBRARY_LOCKED naming the first one\'s pid; info still reads; the lock goes with the owner', async () => {
    expect(cliSync(['scan', photos, '--library', lib, '--json']).code).toBe(0);
    expect(existsSync(lockPath(lib)), 'lock left after a clean exit').toBe(false);
    // instance 1: serve mode, holding the library
    const serve = cliSpawn(['serve', '--library', lib, '--json', '--port', '0']);
    children.push(serve.child);
    await new Promise<void>((ok) => { serve.child.stdout!.once('data', () => ok()); });
    const holder = JSON.parse(readFileSync(lockPath(lib), 'utf8'));
    expect(holder.pid).toBe(serve.child.pid);
    expect(holder.hostname).toBe(hostname());

    // instance 2: every writing command is refused with one clear line, nothing written
    const before = statSync(lib).mtimeMs;
    for (const args of [['scan', photos], ['embed', '--model', 'photo'], ['cluster', '--model', 'photo', '--algo', 'kmeans', '--k', '2']]) {
      const r = cliSync([...args, '--library', lib, '--json']);
      expect(r.code, args[0]).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('LIBRARY_LOCKED');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${lib}: in use by another Constellate (pid ${serve.child.pid}`);
    }
    expect(statSync(lib).mtimeMs).toBe(before);
    // in-process too (what the Electron app sees)
    expect(() => Library.open(lib)).toThrow(/in use by another Constellate \(pid \d+/);

    // read-only use: info opens the library beside the running instance
    const info = cliSync(['info', '--library', lib, '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).photos).toBe(12);

    serve.child.kill('SIGTERM');
    await serve.done;
    expect(existsSync(lockPath(lib))).toBe(false);
    const again = cliSync(['scan', photos, '--library', lib, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(checkLibrary(lib).problems).toEqual([]);
  });

  it('a lock left by a SIGKILLed process is taken over (its pid is dead)', async () => {
    const f = join(t.dir, 'stale.constellate');
    const a = lockChild(f, -1);
    const got = await a.outcome;
    expect(got.ok).toBe(true);
    expect(() => acquireLock(f)).toThrow(new RegExp(`pid ${got.pid}`));
    a.child.kill('SIGKILL');
    await exited(a.child);
    expect(existsSync(lockPath(f))).toBe(true); // left behind
    expect(pidAlive(got.pid)).toBe(false);
    const mine = acquireLock(f);
    expect(JSON.parse(readFileSync(lockPath(f), 'utf8')).pid).toBe(process.pid);
    mine.release();
    expect(existsSync(lockPath(f))).toBe(false);
  });

  it('of several processes racing for a free or a stale lock exactly one wins', async () => {
    for (const stale of [false, true]) {
      for (let round = 0; round < 2; round++) {
        const f = join(t.dir, `race-${stale}-${round}.constellate`);
        if (stale) writeFileSync(lockPath(f), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: hostname(), startedAt: 0, nonce: 'dead' }));
        // all five spin until the same moment, then try; the winner holds until every one has answered
        const startAt = Date.now() + 1500;
        const racers = Array.from({ length: 5 }, () => lockChild(f, -1, startAt));
        const outcomes = await Promise.all(racers.map((r) => r.outcome));
        for (const r of racers) r.child.kill('SIGTERM');
        const winners = outcomes.filter((o) => o.ok);
        expect(winners, JSON.stringify(outcomes)).toHaveLength(1);
        for (const o of outcomes.filter((x) => !x.ok)) expect(o.code).toBe('LIBRARY_LOCKED');
        await Promise.all(racers.map((r) => exited(r.child)));
        expect(existsSync(lockPath(f))).toBe(false);
      }
    }
  });

  it('a lock from another host is never taken over; the message names the file to delete', () => {
    const f = join(t.dir, 'remote.constellate');
    writeFileSync(lockPath(f), JSON.stringify({ pid: 1, hostname: 'other-machine.example', startedAt: Date.now(), nonce: 'x' }));
    expect(() => Library.open(f)).toThrow(new RegExp(`pid 1 on other-machine.example.*delete ${lockPath(f).replaceAll('.', '\\.')}`));
    expect(existsSync(f)).toBe(false); // nothing created
  });

  it('one process may hold several handles (reference-counted), the file goes with the last', () => {
    const f = join(t.dir, 'refs.constellate');
    const a = Library.open(f);
    const b = Library.open(f);
    a.close();
    expect(existsSync(lockPath(f))).toBe(true);
    b.close();
    expect(existsSync(lockPath(f))).toBe(false);
  });
});

describe('damaged and half-created files', () => {
  it('a damaged library gives LIBRARY_CORRUPT with the backup hint, leaves no lock, and is not changed', () => {
    const lib = join(t.dir, 'damaged.constellate');
    expect(cliSync(['scan', photos, '--library', lib, '--json']).code).toBe(0);
    expect(statSync(lib).size).toBeGreaterThan(8 * 4096);
    const fd = openSync(lib, 'r+');
    const junk = Buffer.alloc(4096 * 4, 0xa5);
    writeSync(fd, junk, 0, junk.length, 4096 * 2); // pages 3..6: b-tree pages of the tables
    closeSync(fd);
    const bytes = readFileSync(lib);
    const r = cliSync(['info', '--library', lib, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('LIBRARY_CORRUPT');
    expect(r.stderr).toMatch(/the library file is damaged/);
    expect(r.stderr).toContain(`${lib}.backup-`);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const w = cliSync(['scan', photos, '--library', lib, '--json']);
    expect(JSON.parse(w.stdout).error.code).toBe('LIBRARY_CORRUPT');
    expect(readFileSync(lib).equals(bytes)).toBe(true);
    expect(existsSync(lockPath(lib))).toBe(false);
  });

  it('a truncated library file is refused clearly', () => {
    const lib = join(t.dir, 'truncated.constellate');
    expect(cliSync(['scan', photos, '--library', lib, '--json']).code).toBe(0);
    const bytes = readFileSync(lib);
    writeFileSync(lib, bytes.subarray(0, 60));
    const r = cliSync(['info', '--library', lib, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a Constellate library|damaged/);
  });

  it('a new library killed before its first close (all of it still in the WAL) reopens with its content', () => {
    const lib = join(t.dir, 'never-closed.constellate');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src-main/reliability/open-and-die.ts'), lib, photos], { cwd: REPO_ROOT });
    expect(r.signal).toBe('SIGKILL');
    expect(statSync(`${lib}-wal`).size).toBeGreaterThan(0);
    expect(existsSync(lockPath(lib))).toBe(true);
    const l = Library.open(lib);
    expect(l.version).toBe(LATEST_VERSION);
    expect(l.roots().map((x) => x.path)).toEqual([photos]);
    l.close();
  });

  it('a library whose creation was killed between migrations opens and finishes migrating', () => {
    const lib = join(t.dir, 'half.constellate');
    // what the first open leaves when killed right after its first migration committed
    const db = new Database(lib);
    db.pragma('journal_mode = WAL');
    db.transaction(() => {
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
      db.pragma(`application_id = ${APPLICATION_ID}`);
    })();
    db.transaction(() => {
      db.exec(MIGRATIONS[0].sql);
      db.prepare('INSERT INTO schema_migrations VALUES (1, ?, 0)').run(MIGRATIONS[0].name);
    })();
    db.close();
    const l = Library.open(lib);
    expect(l.version).toBe(LATEST_VERSION);
    l.close();
  });

  it('the WAL is folded back into the library on close', () => {
    const lib = join(t.dir, 'wal.constellate');
    expect(cliSync(['scan', photos, '--library', lib, '--json']).code).toBe(0);
    const wal = `${lib}-wal`;
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
  });
});
