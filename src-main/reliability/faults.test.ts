/**
 * Faults without losses (issue 15): a full disk, a read-only library, FIFOs, links, vanished folders, bombs. Each case
 * runs on a real condition (a small tmpfs, a read-only bind mount, a real unprivileged process) and is skipped
 * visibly where this machine does not allow it.
 */
import { execFileSync, spawn } from 'node:child_process';
import sharp from 'sharp';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, symlinkSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { exportRun, findExportTemps } from '../core/export/export.ts';
import { applyEdit, redo, undo } from '../core/curation/edits.ts';
import { embedJob } from '../core/embed/embed-job.ts';
import { JobManager } from '../core/jobs.ts';
import { Library } from '../core/library.ts';
import { openLibrary } from '../core/store/db.ts';
import { REPO_ROOT, tempDir, testContext } from '../testing/fixtures.ts';
import { makePhotos, runLibrary } from './fault-fixture.ts';
import { isInside, readImage, scanRoots } from '../core/scan/scanner.ts';
import { readPhotoFile } from '../core/read-file.ts';
import { resizeRgb } from '../core/models/image.ts';
import { cliSync } from './helpers.ts';
import { CAN_MOUNT, fillDisk, readOnlyView, smallDisk, type Mounted } from './fault-mounts.ts';

const cleanups: Array<() => void> = [];
afterEach(() => { while (cleanups.length) { try { cleanups.pop()!(); } catch { /* ignore */ } } });
type Err = { code?: string; message?: string };
/** The error `fn` throws, or null. */
function errOf(fn: () => unknown): Err | null {
  try { fn(); return null; } catch (e) { return e as Err; }
}
function disk(size: string): Mounted { const m = smallDisk(size); cleanups.push(m.cleanup); return m; }

describe.skipIf(!CAN_MOUNT)('disk full (tmpfs)', () => {
  it('a progress write hitting SQLITE_FULL fails the job with an IO error; nothing throws, no lock or running job is left, the next open is not "damaged"', async () => {
    const m = disk('2m');
    const file = join(m.dir, 'lib.constellate');
    const lib = Library.open(file, { noBackup: true });
    lib.db.prepare(`INSERT INTO roots (path, added_at) VALUES ('/earlier-work', 1)`).run();
    lib.db.pragma('wal_checkpoint(TRUNCATE)');
    const jobs = new JobManager(lib.db);
    let filler = '';
    let thrown: unknown = null;
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    const job = jobs.start('probe' as 'scan', {} as never, async (ctx): Promise<never> => {
      await gate;
      // progress as a worker reports it: from a message/timer callback, outside the job's promise
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((res) => setTimeout(() => {
          try { ctx.progress('work', i + 1, 20); } catch (e) { thrown = e; }
          res();
        }, 1));
        ctx.checkCancelled();
      }
      return { ok: true } as never;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(jobs.get(job.id).state).toBe('running');
    filler = fillDisk(m.dir);
    open();
    const end = await jobs.wait(job.id);
    expect(thrown).toBeNull();
    expect(end.state).toBe('failed');
    expect(end.error?.code).toBe('IO');
    expect(end.error?.message).toContain(file);
    expect(end.error?.message).toMatch(/disk is full/);
    lib.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
    // still full: the next open says I/O (or works), never "damaged"
    const reopenErr = errOf(() => Library.open(file, { noBackup: true }).close());
    if (reopenErr) {
      expect(reopenErr.code).toBe('IO');
      expect(reopenErr.message).not.toMatch(/damaged/);
    }
    expect(existsSync(`${file}.lock`)).toBe(false);
    unlinkSync(filler);
    const again = Library.open(file, { noBackup: true });
    expect(again.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(again.db.prepare(`SELECT COUNT(*) FROM roots WHERE path = '/earlier-work'`).pluck().get()).toBe(1);
    new JobManager(again.db); // what CoreService.open does: a row the full disk kept 'running' becomes 'interrupted'
    const row = again.db.prepare('SELECT state FROM jobs WHERE id = ?').pluck().get(job.id);
    expect(['failed', 'interrupted']).toContain(row);
    again.close();
  });

  it('a library on a full disk that cannot even begin a write is an IO error naming it, not LIBRARY_CORRUPT', () => {
    const m = disk('2m');
    const file = join(m.dir, 'lib.constellate');
    Library.open(file, { noBackup: true }).close();
    // an older schema forces a migration write at the next open
    const raw = new Database(file);
    raw.exec('DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)');
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    fillDisk(m.dir);
    const err = errOf(() => Library.open(file, { noBackup: true }).close());
    if (err) {
      expect(err.code).toBe('IO');
      expect(err.message).toContain(file);
    }
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});

describe.skipIf(!CAN_MOUNT)('read-only library (bind mount)', () => {
  it('opening a healthy library on read-only media for writing says read-only, not damaged; read-only open works and makes no lock', () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const file = join(t.dir, 'lib.constellate');
    const lib = Library.open(file, { noBackup: true });
    lib.db.prepare(`INSERT INTO roots (path, added_at) VALUES ('/x', 1)`).run();
    lib.close();
    const ro = readOnlyView(t.dir); cleanups.push(ro.cleanup);
    const roFile = join(ro.dir, 'lib.constellate');
    const err = errOf(() => openLibrary(roFile, { noBackup: true }).db.close());
    expect(err?.code).toBe('IO');
    expect(err?.message).not.toMatch(/damaged/);
    expect(err?.message).toContain(roFile);
    const werr = errOf(() => Library.open(roFile).close());
    expect(werr?.code).toBe('IO');
    const r = Library.open(roFile, { readonly: true });
    expect(r.info().roots).toBe(1);
    r.close();
    expect(readdirSync(ro.dir).filter((n) => n.endsWith('.lock'))).toEqual([]);
  });
});

describe.skipIf(!CAN_MOUNT)('exports on a nearly full disk (tmpfs)', () => {
  it('JSON, CSV, HTML and folder exports fail with an IO error naming the file; nothing truncated under a final name, no temp left', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const { lib, runId } = await runLibrary(t.dir, 40);
    cleanups.push(() => lib.close());
    const outcomes: Record<string, string> = {};
    for (const format of ['json', 'csv', 'html', 'folders'] as const) {
      for (const leave of [0, 2000]) {
        const m = disk('256k');
        const to = join(m.dir, 'out');
        mkdirSync(to);
        fillDisk(m.dir, leave);
        const err = await exportRun(lib, { runId, to, format }, testContext()).then(() => null, (e) => e as Err);
        const left = readdirSync(to, { recursive: true }) as string[];
        outcomes[`${format}/${leave}`] = err ? `${err.code}` : 'ok';
        expect(err, `${format} with ${leave} bytes free`).not.toBeNull();
        expect(err!.code).toBe('IO');
        expect(err!.message).toMatch(/disk is full|ENOSPC/);
        expect(err!.message).toContain(to);
        // nothing under a final name that is not whole; no temp left behind
        expect(findExportTemps(to)).toEqual([]);
        for (const f of left) {
          const p = join(to, f);
          if (statSync(p).isDirectory()) continue;
          if (f.endsWith('.json')) expect(() => JSON.parse(readFileSync(p, 'utf8'))).not.toThrow();
          else if (f.endsWith('.jpg')) expect(readFileSync(p).subarray(-2).toString('hex')).toBe('ffd9');
          else throw new Error(`unexpected file ${f}`);
        }
        m.cleanup();
      }
    }
    console.log('RELIABILITY exports-full-disk', JSON.stringify(outcomes));
  });
});

describe('the scanner: FIFOs, links, vanished folders, retries', () => {
  const issuesOf = (lib: Library) => new Map((lib.db.prepare('SELECT path, reason FROM scan_issues').all() as Array<{ path: string; reason: string }>).map((r) => [r.path, r.reason]));

  it('a photo replaced by a FIFO after the walk does not hang the scan; the next scan retries it once it is a photo again', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const photos = await makePhotos(join(t.dir, 'p'), 6);
    const lib = Library.open(join(t.dir, 'lib.constellate'), { noBackup: true });
    cleanups.push(() => lib.close());
    const root = lib.addRoot(join(t.dir, 'p'));
    const victim = photos[2];
    const saved = readFileSync(victim);
    const st = statSync(victim);
    let swapped = false;
    const t0 = Date.now();
    const res = await scanRoots(lib, [root.id], testContext((stage) => {
      if (stage === 'read' && !swapped) { swapped = true; unlinkSync(victim); execFileSync('mkfifo', [victim]); }
    }));
    const ms = Date.now() - t0;
    expect(swapped).toBe(true);
    expect(ms).toBeLessThan(15_000);
    expect(res.added).toBe(5);
    expect(issuesOf(lib).get(victim)).toMatch(/not a regular file \(a FIFO\)/);
    // the photo comes back with the same size and mtime: an I/O failure is retried, not kept forever
    unlinkSync(victim);
    writeFileSync(victim, saved);
    utimesSync(victim, st.atime, st.mtime);
    const again = await scanRoots(lib, [root.id], testContext());
    expect(again.added).toBe(1);
    expect(issuesOf(lib).has(victim)).toBe(false);
    console.log('RELIABILITY scan-fifo', JSON.stringify({ ms, added: res.added, retried: again.added }));
  }, 30_000);

  it('a symlink to / inside a photo folder is not followed (the scan stays in its root)', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    await makePhotos(join(t.dir, 'p'), 3);
    symlinkSync('/', join(t.dir, 'p', 'machine'));
    mkdirSync(join(t.dir, 'p', 'sub'));
    symlinkSync(join(t.dir, 'p'), join(t.dir, 'p', 'sub', 'back'));
    mkdirSync(join(t.dir, 'elsewhere'));
    await makePhotos(join(t.dir, 'elsewhere'), 2);
    symlinkSync(join(t.dir, 'elsewhere'), join(t.dir, 'p', 'out'));
    const lib = Library.open(join(t.dir, 'lib.constellate'), { noBackup: true });
    cleanups.push(() => lib.close());
    const root = lib.addRoot(join(t.dir, 'p'));
    const t0 = Date.now();
    const res = await scanRoots(lib, [root.id], testContext());
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(res.seen).toBe(3);
    const issues = issuesOf(lib);
    expect(issues.get(join(t.dir, 'p', 'machine'))).toMatch(/symlink loop: points to \/, a folder above .*not followed/);
    expect(issues.get(join(t.dir, 'p', 'sub', 'back'))).toMatch(/symlink loop/);
    expect(issues.get(join(t.dir, 'p', 'out'))).toMatch(/symlink leaves the folder: points to .*elsewhere, not followed/);
    const outside = lib.db.prepare('SELECT COUNT(*) FROM photos WHERE path NOT LIKE ?').pluck().get(join(t.dir, 'p') + '/%');
    expect(outside).toBe(0);
  }, 30_000);

  it('the ancestor check holds for /', () => {
    expect(isInside('/', '/home/x')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a')).toBe(false);
  });

  it('a vanished root fails the scan with an IO error and leaves its photos as they were', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    await makePhotos(join(t.dir, 'p'), 4);
    const lib = Library.open(join(t.dir, 'lib.constellate'), { noBackup: true });
    cleanups.push(() => lib.close());
    const root = lib.addRoot(join(t.dir, 'p'));
    await scanRoots(lib, [root.id], testContext());
    renameSync(join(t.dir, 'p'), join(t.dir, 'p-away'));
    const err = await scanRoots(lib, [root.id], testContext()).then(() => null, (e) => e as Err);
    expect(err?.code).toBe('IO');
    expect(err?.message).toContain(join(t.dir, 'p'));
    expect(lib.db.prepare(`SELECT COUNT(*) FROM photos WHERE status = 'ok'`).pluck().get()).toBe(4);
    renameSync(join(t.dir, 'p-away'), join(t.dir, 'p'));
    const back = await scanRoots(lib, [root.id], testContext());
    expect(back.photos).toBe(4);
    expect(back.missing).toBe(0);
  });
});

describe('one writer per real file', () => {
  it('a symlink or a hard link to a locked library does not bypass its lock', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const file = join(t.dir, 'lib.constellate');
    Library.open(file, { noBackup: true }).close();
    symlinkSync(file, join(t.dir, 'sym.constellate'));
    // another process holds the library by its own name
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src-main/reliability/lock-child.ts'), file, '-1', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => child.kill('SIGKILL'));
    const line = await new Promise<string>((res) => child.stdout!.once('data', (d) => res(String(d))));
    expect(JSON.parse(line).ok).toBe(true);
    const viaSymlink = errOf(() => Library.open(join(t.dir, 'sym.constellate'), { noBackup: true }).close());
    expect(viaSymlink?.code).toBe('LIBRARY_LOCKED');
    expect(viaSymlink?.message).toMatch(new RegExp(`pid ${child.pid}`));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    // a second name for the same file (hard link): refused for writing by either name, read-only still works
    linkSync(file, join(t.dir, 'hard.constellate'));
    const viaHard = errOf(() => Library.open(join(t.dir, 'hard.constellate'), { noBackup: true }).close());
    expect(viaHard?.code).toBe('LIBRARY_LOCKED');
    expect(viaHard?.message).toMatch(/2 hard links/);
    expect(errOf(() => Library.open(file, { noBackup: true }).close())?.code).toBe('LIBRARY_LOCKED');
    const ro = Library.open(join(t.dir, 'hard.constellate'), { readonly: true });
    expect(ro.info().roots).toBe(0);
    ro.close();
    unlinkSync(join(t.dir, 'hard.constellate'));
    Library.open(join(t.dir, 'sym.constellate'), { noBackup: true }).close();
    expect(existsSync(`${file}.lock`)).toBe(false);
  }, 30_000);
});

describe('undo of an edit that emptied a named, curated cluster', () => {
  it('brings back its members, its name and its curated flag (move and reject)', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const { lib, runId } = await runLibrary(t.dir, 12);
    cleanups.push(() => lib.close());
    const clusters = () => new Map((lib.db.prepare('SELECT cluster, name, curated, size FROM clusters WHERE run_id = ?').all(runId) as Array<{ cluster: number; name: string | null; curated: number; size: number }>).map((c) => [c.cluster, c]));
    const members = (c: number) => lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck().all(runId, c) as number[];
    const [a, b] = [...clusters().keys()].sort((x, y) => x - y);
    for (const op of ['move', 'reject'] as const) {
      applyEdit(lib.db, runId, { type: 'rename', cluster: a, name: 'Alice' });
      applyEdit(lib.db, runId, { type: 'accept', cluster: a });
      const before = members(a);
      applyEdit(lib.db, runId, op === 'move' ? { type: 'move', items: before, to: b } : { type: 'reject', items: before });
      expect(clusters().has(a)).toBe(false);
      undo(lib.db, runId);
      const back = clusters().get(a);
      expect(members(a)).toEqual(before);
      expect(back?.name).toBe('Alice');
      expect(back?.curated).toBe(1);
      redo(lib.db, runId);
      expect(clusters().has(a)).toBe(false);
      undo(lib.db, runId);
      expect(clusters().get(a)?.name).toBe('Alice');
    }
  });
});

describe('edits during an export', () => {
  it('an export works on the membership it started with, whatever edits land meanwhile', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const { lib, runId } = await runLibrary(t.dir, 30);
    cleanups.push(() => lib.close());
    const all = lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster >= 0').pluck().all(runId) as number[];
    for (const format of ['folders', 'json'] as const) {
      let edited = false;
      const to = join(t.dir, `out-${format}`);
      const rep = await exportRun(lib, { runId, to, format }, testContext((stage, done) => {
        if (stage === 'export' && done === 5 && !edited) {
          edited = true;
          applyEdit(lib.db, runId, { type: 'reject', items: all });
        }
      }));
      expect(edited).toBe(true);
      if (format === 'folders') expect(rep.files).toBe(30);
      else expect((JSON.parse(readFileSync(rep.out!, 'utf8')) as { items: unknown[] }).items).toHaveLength(30);
      expect(rep.skipped).toBe(0);
      // the edit itself applied to the library
      expect(lib.db.prepare('SELECT COUNT(*) FROM assignments WHERE run_id = ? AND cluster >= 0').pluck().get(runId)).toBe(0);
      undo(lib.db, runId);
    }
  }, 60_000);
});

describe('memory: decode within a budget, non-images refused before a whole read', () => {
  it('a progressive JPEG whose coefficients exceed the decode budget is refused from its header, without the memory', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const n = 4000; // 4000x4000 4:2:0 needs ~46 MiB of coefficients: over a 32 MiB budget (the default is 256 MiB)
    const jpeg = await sharp({ create: { width: n, height: n, channels: 3, background: { r: 120, g: 30, b: 200 } } }).jpeg({ progressive: true, quality: 70 }).toBuffer();
    const baseline = await sharp({ create: { width: n, height: n, channels: 3, background: { r: 20, g: 130, b: 20 } } }).jpeg({ quality: 70 }).toBuffer();
    const old = process.env.CONSTELLATE_DECODE_BUDGET_MB;
    process.env.CONSTELLATE_DECODE_BUDGET_MB = '32';
    try {
      const r0 = process.memoryUsage().rss;
      const t0 = Date.now();
      const err = await readImage(jpeg, join(t.dir, 'thumbs')).then(() => null, (e) => e as Error);
      const grew = (process.memoryUsage().rss - r0) / 1048576;
      expect(err?.message).toMatch(/image too large \(4000x4000 pixels, a progressive JPEG needs about \d+ MiB to decode, budget 32 MiB\)/);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(grew).toBeLessThan(24);
      // the embedders' decoder refuses it the same way; a baseline JPEG of the same size still works (shrink-on-load)
      await expect(resizeRgb(jpeg, 224, 224)).rejects.toThrow(/progressive JPEG needs about/);
      const ok = await readImage(baseline, join(t.dir, 'thumbs'));
      expect(ok.width).toBe(n);
      console.log('RELIABILITY decode-budget', JSON.stringify({ bytes: jpeg.length, rssGrowthMiB: Math.round(grew), ms: Date.now() - t0 }));
    } finally {
      if (old === undefined) delete process.env.CONSTELLATE_DECODE_BUDGET_MB; else process.env.CONSTELLATE_DECODE_BUDGET_MB = old;
    }
  }, 60_000);

  it('a 300 MB non-image named .jpg is refused after its first bytes, not read whole', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    mkdirSync(join(t.dir, 'p'));
    const big = join(t.dir, 'p', 'movie.jpg');
    writeFileSync(big, 'not an image at all');
    truncateSync(big, 300 * 1024 * 1024); // sparse: costs no disk
    const r0 = process.memoryUsage().rss;
    const err = await readPhotoFile(big).then(() => null, (e) => e as Err);
    expect(err?.code).toBe('EFTYPE');
    expect((process.memoryUsage().rss - r0) / 1048576).toBeLessThan(50);
    const lib = Library.open(join(t.dir, 'lib.constellate'), { noBackup: true });
    cleanups.push(() => lib.close());
    await scanRoots(lib, [lib.addRoot(join(t.dir, 'p')).id], testContext());
    expect(lib.db.prepare('SELECT reason FROM scan_issues WHERE path = ?').pluck().get(big)).toMatch(/not a readable image \(no image signature/);
    // and a file above the size limit is refused from its size
    const e2 = await readPhotoFile(big, { maxBytes: 1 << 20 }).then(() => null, (e) => e as Err);
    expect(e2?.message).toMatch(/file too large/);
  });
});

describe('info creates nothing and reads read-only media (CLI)', () => {
  it('info --library <typo> creates no file and no folder', () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const typo = join(t.dir, 'no-such-folder', 'libary.constellate');
    const r = cliSync(['info', '--library', typo, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ library: typo, exists: false, photos: 0 });
    expect(r.stderr).toMatch(/no library at .*nothing was created/);
    expect(existsSync(join(t.dir, 'no-such-folder'))).toBe(false);
    expect(readdirSync(t.dir)).toEqual([]);
  });

  it.skipIf(!CAN_MOUNT)('info works on a library on read-only media, with no lock file', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const file = join(t.dir, 'lib.constellate');
    const lib = Library.open(file, { noBackup: true });
    lib.addRoot(t.dir);
    lib.close();
    const ro = readOnlyView(t.dir); cleanups.push(ro.cleanup);
    const r = cliSync(['info', '--library', join(ro.dir, 'lib.constellate'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).roots).toBe(1);
    expect(readdirSync(t.dir).sort()).toEqual(['lib.constellate', 'lib.constellate.cache'].filter((n) => existsSync(join(t.dir, n))));
  }, 60_000);
});

describe('embed failures are not permanent', () => {
  it('a photo missing for a moment during embed is shown in info and embedded by the next run', async () => {
    const t = tempDir(); cleanups.push(t.cleanup);
    const photos = await makePhotos(join(t.dir, 'p'), 3, 96);
    const lib = Library.open(join(t.dir, 'lib.constellate'), { noBackup: true });
    cleanups.push(() => lib.close());
    await scanRoots(lib, [lib.addRoot(join(t.dir, 'p')).id], testContext());
    renameSync(photos[1], photos[1] + '.away');
    const first = await embedJob(lib, { model: 'photo' }, testContext());
    expect(first.failed).toBe(1);
    expect(lib.info().embedFailures).toEqual({ photo: 1 });
    renameSync(photos[1] + '.away', photos[1]);
    const second = await embedJob(lib, { model: 'photo' }, testContext());
    expect(second.pending).toBe(1);
    expect(second.processed).toBe(1);
    expect(lib.info().embedFailures).toEqual({});
    expect(lib.info().embeddings.photo).toBe(3);
  }, 120_000);
});
