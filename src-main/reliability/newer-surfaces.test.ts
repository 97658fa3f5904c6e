/**
 * The newer surfaces as trustworthy as the old ones (issue 35): sidecars, Parquet/Arrow, backups, exports and job
 * bundles, embed-files, imports. Each case failed on 0.2 (a hang on a FIFO, an endless read of /dev/zero, a spin on
 * /proc, a library emptied or replaced, a wrapped label) and must now end in a clean error naming the file, with the
 * library unchanged. FIFO cases that would freeze a process run through the CLI with a time limit.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupNow, listBackups, restoreBackup } from '../core/backups.ts';
import { exportRun } from '../core/export/export.ts';
import { checkTargetDry } from '../core/export/target.ts';
import { openColumnar, readBatches } from '../core/interop/columnar.ts';
import { ColumnarWriter } from '../core/interop/columnar-write.ts';
import { embedFiles } from '../core/interop/embed-files.ts';
import { exportJob } from '../core/interop/export.ts';
import { importEmbeddingsFile, importRun } from '../core/interop/import.ts';
import { Library } from '../core/library.ts';
import { readFileSafe, readFileSafeSync } from '../core/safe-read.ts';
import { checkWriteTarget, makeDirSafe, writeFileSafeSync } from '../core/safe-write.ts';
import { openLibrary } from '../core/store/db.ts';
import { readXmp } from '../core/xmp/sidecars.ts';
import { tempDir, testContext } from '../testing/fixtures.ts';
import { runLibrary } from './fault-fixture.ts';
import { checkLibrary, cliSync } from './helpers.ts';

type Err = { code?: string; message?: string };
const errOf = async (p: Promise<unknown> | (() => unknown)): Promise<Err | null> => {
  try { await (typeof p === 'function' ? p() : p); return null; } catch (e) { return e as Err; }
};
const mkfifo = (p: string) => execFileSync('mkfifo', [p]);

let t: { dir: string; cleanup: () => void };
let lib: Library;
let runId: number;
let photos: string[];
let file: string;

beforeAll(async () => {
  t = tempDir('constellate-newer-');
  ({ lib, runId, photos } = await runLibrary(t.dir, 12));
  file = lib.path;
});
afterAll(() => { try { lib.close(); } catch { /* closed */ } t.cleanup(); });

function counts(): { photos: number; runs: number; embeddings: number } {
  const one = (sql: string) => lib.db.prepare(sql).pluck().get() as number;
  return { photos: one('SELECT COUNT(*) FROM photos'), runs: one('SELECT COUNT(*) FROM runs'), embeddings: one('SELECT COUNT(*) FROM embeddings') };
}

describe('the one reader', () => {
  it('refuses a FIFO, a link to /dev/zero and an oversized file by name, sync and async, without blocking', async () => {
    const fifo = join(t.dir, 'r.fifo');
    mkfifo(fifo);
    const zero = join(t.dir, 'zero.xmp');
    symlinkSync('/dev/zero', zero);
    const big = join(t.dir, 'big.xmp');
    writeFileSync(big, Buffer.alloc(9 << 20, 0x20));
    for (const [p, why] of [[fifo, /not a regular file \(a FIFO\)/], [zero, /not a regular file \(a device\)/], [big, /too large for an XMP sidecar/]] as const) {
      const e1 = await errOf(() => readFileSafeSync(p, 'sidecar'));
      expect(e1?.code).toBe('BAD_FILE');
      expect(e1?.message).toContain(p);
      expect(e1?.message).toMatch(why);
      const e2 = await errOf(readFileSafe(p, 'sidecar'));
      expect(e2?.code).toBe('BAD_FILE');
      expect(e2?.message).toMatch(why);
    }
    expect((await errOf(() => readFileSafeSync(join(t.dir, 'none'), 'labels')))?.code).toBe('NOT_FOUND');
  });
});

describe('sidecars', () => {
  it('import-xmp (CLI): a FIFO sidecar and one linked to /dev/zero are reported by name, exit 2, within the time limit', () => {
    lib.close();
    const fifo = `${photos[0]}.xmp`, zero = `${photos[1]}.xmp`;
    mkfifo(fifo);
    symlinkSync('/dev/zero', zero);
    try {
      const before = checkLibrary(file);
      const r = cliSync(['import-xmp', '--library', file, '--json'], {});
      expect(r.signal).toBeNull();
      expect(r.code).toBe(2);
      const out = JSON.parse(r.stdout) as { failures: Array<{ path: string; reason: string }> };
      expect(out.failures.map((f) => f.path).sort()).toEqual([fifo, zero].sort());
      expect(out.failures.find((f) => f.path === fifo)!.reason).toMatch(/a FIFO/);
      expect(out.failures.find((f) => f.path === zero)!.reason).toMatch(/a device/);
      expect(r.ms).toBeLessThan(60_000);
      const after = checkLibrary(file);
      expect(after.photos).toBe(before.photos);
      expect(after.runs).toEqual(before.runs);
      expect(existsSync(`${file}.lock`)).toBe(false);
    } finally {
      execFileSync('rm', ['-f', fifo, zero]);
      lib = Library.open(file, { noBackup: true });
    }
  });

  it('readXmp: an oversized sidecar is refused by name, the others still read', async () => {
    const big = `${photos[2]}.xmp`;
    writeFileSync(big, `<x:xmpmeta xmlns:x="adobe:ns:meta/">${' '.repeat(9 << 20)}</x:xmpmeta>`);
    try {
      const r = await readXmp(lib);
      expect(r.failures).toEqual([{ path: big, reason: expect.stringMatching(/too large for an XMP sidecar/) }]);
    } finally { execFileSync('rm', ['-f', big]); }
  });
});

describe('the one writer', () => {
  it('keeps a 0600 file 0600, refuses a 0444 one, a library, a protected file and a folder', () => {
    const p = join(t.dir, 'w', 'private.xmp');
    mkdirSync(join(t.dir, 'w'), { recursive: true });
    writeFileSync(p, 'old');
    chmodSync(p, 0o600);
    writeFileSafeSync(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    const ro = join(t.dir, 'w', 'ro.xmp');
    writeFileSync(ro, 'keep');
    chmodSync(ro, 0o444);
    const e = (() => { try { writeFileSafeSync(ro, 'x'); return null; } catch (x) { return x as Err; } })();
    expect(e?.code).toBe('IO');
    expect(e?.message).toMatch(/read-only file/);
    expect(readFileSync(ro, 'utf8')).toBe('keep');
    expect(statSync(ro).mode & 0o777).toBe(0o444);
    expect(() => checkWriteTarget(file)).toThrow(/is a library/);
    expect(() => checkWriteTarget(p, { protect: [p] })).toThrow(/is the file being read/);
    expect(() => checkWriteTarget(join(t.dir, 'w'))).toThrow(/not a regular file \(a folder\)/);
    expect(readdirSync(join(t.dir, 'w')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('never creates folders or files under /proc or /sys (mkdir -p on procfs looped forever)', async () => {
    for (const bad of ['/proc/self/constellate-export', '/proc/1/x/y', '/sys/kernel/constellate']) {
      expect(() => makeDirSafe(bad)).toThrow(/system/);
      expect(() => checkTargetDry(bad)).toThrow(/system/);
    }
    const e = await errOf(exportRun(lib, { runId, to: '/proc/self/fdinfo/constellate/out', format: 'csv' }, testContext()));
    expect(e?.code).toBe('BAD_ARGUMENT');
    expect(e?.message).toContain('/proc/self/fdinfo/constellate/out');
    const j = await errOf(exportJob(lib, { model: 'photo', to: '/proc/self/task/constellate-bundle' }));
    expect(j?.code).toBe('BAD_ARGUMENT');
  });
});

describe('backups', () => {
  it('a FIFO, an empty file and a foreign file named like a backup are refused; the library is unchanged', async () => {
    const before = counts();
    expect(before.photos).toBeGreaterThan(0);
    const fifo = `${file}.backup-v1-1700000000001`;
    const empty = `${file}.backup-v1-1700000000002`;
    const foreign = `${file}.backup-v1-1700000000003`;
    mkfifo(fifo);
    writeFileSync(empty, '');
    writeFileSync(foreign, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096 - 16, 1)]));
    try {
      for (const [p, why] of [[fifo, /a FIFO/], [empty, /an empty file/], [foreign, /not a (readable )?backup/]] as const) {
        const e = await errOf(restoreBackup(lib, p));
        expect(e?.code).toBe('BAD_FILE');
        expect(e?.message).toContain(p);
        expect(e?.message).toMatch(why);
        expect(e?.message).not.toMatch(/constellate-restore-/);
        expect(counts()).toEqual(before);
      }
    } finally { execFileSync('rm', ['-f', fifo, empty, foreign]); }
  });

  it('a backup of an emptied library is refused; a restore first backs up the current state', async () => {
    const before = counts();
    const b = await backupNow(lib);
    const r = await restoreBackup(lib, b.path);
    expect(r.safety).toMatch(/\.backup-v\d+-\d+-before-restore$/);
    expect(listBackups(lib).map((x) => x.path)).toContain(r.safety);
    expect(counts()).toEqual(before);
    // a library emptied of everything, backed up: restoring it would empty this one
    const emptyLib = join(t.dir, 'empty', 'lib.constellate');
    mkdirSync(join(t.dir, 'empty'));
    const el = Library.open(emptyLib, { noBackup: true });
    const eb = await backupNow(el);
    el.close();
    const copy = `${file}.backup-v${eb.version}-1700000000004`;
    writeFileSync(copy, readFileSync(eb.path));
    const e = await errOf(restoreBackup(lib, copy));
    expect(e?.code).toBe('BAD_FILE');
    expect(e?.message).toMatch(/empty library/);
    expect(counts()).toEqual(before);
  });

  it('backupNow writes under a temp name: no partial file is ever listed as a backup', async () => {
    const n = listBackups(lib).length;
    const p = backupNow(lib);
    // while it runs, nothing new is listed under a backup name until it is whole
    const mid = listBackups(lib);
    expect(mid.length).toBe(n);
    const b = await p;
    expect(listBackups(lib).length).toBe(n + 1);
    expect(statSync(b.path).size).toBe(b.size);
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('opening a library', () => {
  it('/dev/null and /dev/zero are not libraries: refused, no -journal made in /dev', () => {
    for (const dev of ['/dev/null', '/dev/zero']) {
      // a journal left there by an older version (0.2 made one) is not this run's
      execFileSync('rm', ['-f', `${dev}-journal`, `${dev}-wal`]);
      expect(() => openLibrary(dev, { noBackup: true })).toThrow(/not a regular file/);
      expect(existsSync(`${dev}-journal`)).toBe(false);
      expect(existsSync(`${dev}-wal`)).toBe(false);
    }
  });
});

describe('Parquet / Arrow', () => {
  async function writeVectors(path: string, ids: string[], X: Float32Array, d: number, extra: Record<string, unknown[]> = {}, cols: Array<{ name: string; type: 'string' | 'int32' | 'float64' }> = []): Promise<void> {
    const w = await ColumnarWriter.create(path, path.endsWith('.arrow') ? 'arrow' : 'parquet', [{ name: 'path', type: 'string' }, ...cols, { name: 'embedding', type: 'vector' }], { d });
    w.write({ path: ids, embedding: X, ...extra } as never, ids.length);
    w.finish();
  }

  it('a FIFO named .parquet, as a part of a folder, or named .arrow is refused by name (open blocked forever)', async () => {
    const dir = join(t.dir, 'parts');
    mkdirSync(dir);
    await writeVectors(join(dir, 'a.parquet'), photos.slice(0, 2), new Float32Array(8).fill(1), 4);
    mkfifo(join(dir, 'b.parquet'));
    mkfifo(join(t.dir, 'v.arrow'));
    for (const p of [dir, join(dir, 'b.parquet'), join(t.dir, 'v.arrow')]) {
      const e = await errOf(importEmbeddingsFile(lib, { file: p, model: 'fifo' }));
      expect(e?.code).toBe('BAD_FILE');
      expect(e?.message).toMatch(/not a regular file \(a FIFO\)/);
    }
    expect(lib.db.prepare(`SELECT COUNT(*) FROM models WHERE name = 'fifo'`).pluck().get()).toBe(0);
  });

  it('NaN and infinite vectors are refused (Parquet and Arrow), naming the file, column and row; nothing stored', async () => {
    for (const ext of ['parquet', 'arrow']) {
      const X = new Float32Array(4 * 4).fill(0.5);
      X[2 * 4 + 1] = ext === 'parquet' ? NaN : Infinity;
      const p = join(t.dir, `nan.${ext}`);
      await writeVectors(p, photos.slice(0, 4), X, 4);
      const e = await errOf(importEmbeddingsFile(lib, { file: p, model: `nan-${ext}` }));
      expect(e?.code).toBe('BAD_FILE');
      expect(e?.message).toContain(p);
      expect(e?.message).toMatch(/column 'embedding': row 3 holds a non-finite value/);
      expect(lib.db.prepare('SELECT COUNT(*) FROM models WHERE name = ?').pluck().get(`nan-${ext}`)).toBe(0);
      const src = openColumnar(p);
      await expect((async () => { for await (const _ of readBatches(src, { vectors: ['embedding'] })) void _; })()).rejects.toThrow(/non-finite/);
    }
  });

  it('duplicate ids are refused by name instead of "imported 2x" with one stored', async () => {
    const p = join(t.dir, 'dup.parquet');
    await writeVectors(p, [photos[0], photos[1], photos[0]], new Float32Array(12).fill(0.25), 4);
    const e = await errOf(importEmbeddingsFile(lib, { file: p, model: 'dup' }));
    expect(e?.code).toBe('BAD_FILE');
    expect(e?.message).toMatch(/row 3 repeats the item of row 1/);
    expect(lib.db.prepare(`SELECT COUNT(*) FROM models WHERE name = 'dup'`).pluck().get()).toBe(0);
  });

  it('import-run: cluster labels of 2^31 and above are refused (they wrapped: 0 and 2^32 merged)', async () => {
    const p = join(t.dir, 'run-big.parquet');
    const w = await ColumnarWriter.create(p, 'parquet', [{ name: 'path', type: 'string' }, { name: 'cluster', type: 'float64' }]);
    w.write({ path: photos.slice(0, 4), cluster: [0, 2 ** 32, 2 ** 31, 1] }, 4);
    w.finish();
    const runs = counts().runs;
    const e = await errOf(importRun(lib, { file: p, model: 'blobs' }));
    expect(e?.code).toBe('BAD_FILE');
    expect(e?.message).toMatch(/row 2: cluster label 4294967296 is out of range/);
    expect(counts().runs).toBe(runs);
  });

  it('embed-files --out never replaces a library or the bundle manifest (checked before any work)', async () => {
    const manifest = join(t.dir, 'bundle-items.parquet');
    await writeVectors(manifest, photos.slice(0, 2), new Float32Array(8).fill(1), 4);
    const libBytes = statSync(file).size;
    const e1 = await errOf(embedFiles({ manifest, rows: '0:1', out: file }));
    expect(e1?.code).toBe('BAD_ARGUMENT');
    expect(e1?.message).toMatch(/is a library/);
    expect(statSync(file).size).toBe(libBytes);
    const e2 = await errOf(embedFiles({ manifest, rows: '0:1', out: manifest }));
    expect(e2?.code).toBe('BAD_ARGUMENT');
    expect(e2?.message).toMatch(/is the file being read/);
    expect(openColumnar(manifest).rows).toBe(2);
  });
});

describe('label, id and .npy files', () => {
  it('a FIFO or /dev/zero as ids, labels or .npy file is refused by name; a quoted newline in an ids path is one path', async () => {
    const { readIdsFile } = await import('../core/embed/io.ts');
    const { readNpyMatrix } = await import('../core/npy-file.ts');
    const { labelsFromFile } = await import('../core/cluster/labels.ts');
    const fifo = join(t.dir, 'ids.fifo');
    mkfifo(fifo);
    for (const p of [fifo, '/dev/zero']) {
      for (const fn of [() => readIdsFile(p), () => readNpyMatrix(p), () => labelsFromFile(lib.db, 'photo', new Int32Array([1]), p)]) {
        const e = await errOf(fn);
        expect(e?.code).toBe('BAD_FILE');
        expect(e?.message).toContain(p);
        expect(e?.message).toMatch(/not a regular file \((a FIFO|a device)\)/);
      }
    }
    const ids = join(t.dir, 'ids-newline.csv');
    writeFileSync(ids, 'path\n"/photos/two\nlines.jpg"\n/photos/plain.jpg\n');
    expect(readIdsFile(ids).map((r) => r.path)).toEqual(['/photos/two\nlines.jpg', '/photos/plain.jpg']);
  });
});

describe('stop signals', () => {
  async function child(grace: number): Promise<{ proc: import('node:child_process').ChildProcess; exit: Promise<{ code: number | null; ms: number }>; lockFile: string }> {
    const { spawn } = await import('node:child_process');
    const { REPO_ROOT } = await import('../testing/fixtures.ts');
    const libFile = join(t.dir, `guard-${grace}.constellate`);
    writeFileSync(libFile, '');
    const proc = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src-main/reliability/stop-guard-child.ts'), libFile, String(grace)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((ok) => proc.stdout!.on('data', (c) => { if (String(c).includes('ready')) ok(); }));
    let t0 = 0;
    const exit = new Promise<{ code: number | null; ms: number }>((ok) => proc.on('close', (code) => ok({ code, ms: performance.now() - t0 })));
    return { proc: Object.assign(proc, { sent: () => { t0 = performance.now(); } }), exit, lockFile: `${libFile}.lock` };
  }

  it('SIGTERM ends the process and releases the lock even when the graceful stop never comes; a second SIGINT at once', async () => {
    const a = await child(400);
    expect(existsSync(a.lockFile)).toBe(true);
    (a.proc as unknown as { sent(): void }).sent();
    a.proc.kill('SIGTERM');
    const ra = await a.exit;
    expect(ra.code).toBe(130);
    expect(existsSync(a.lockFile)).toBe(false);

    const b = await child(60_000);
    (b.proc as unknown as { sent(): void }).sent();
    b.proc.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    b.proc.kill('SIGINT');
    const rb = await b.exit;
    expect(rb.code).toBe(130);
    expect(rb.ms).toBeLessThan(30_000);
    expect(existsSync(b.lockFile)).toBe(false);
  });
});

describe('check', () => {
  it('sees stored NaN vectors, a leaked import spool / sidecar temp, and a library emptied since its last backup', async () => {
    const { checkLibrary: check } = await import('../core/check.ts');
    const kinds = () => check(lib).problems.map((p) => p.kind);
    expect(kinds()).not.toContain('non-finite-vector');
    const row = lib.db.prepare(`SELECT item_id, vec FROM embeddings WHERE model = 'blobs' LIMIT 1`).get() as { item_id: number; vec: Buffer };
    const bad = Buffer.from(row.vec);
    bad.writeFloatLE(NaN, 4);
    lib.db.prepare(`UPDATE embeddings SET vec = ? WHERE model = 'blobs' AND item_id = ?`).run(bad, row.item_id);
    try {
      expect(check(lib).problems.find((p) => p.kind === 'non-finite-vector')).toMatchObject({ count: 1, message: expect.stringMatching(/model blobs/) });
    } finally {
      lib.db.prepare(`UPDATE embeddings SET vec = ? WHERE model = 'blobs' AND item_id = ?`).run(row.vec, row.item_id);
    }
    // a dead process's spool and sidecar temp (pid 2^22 + 1 is above Linux's pid_max default range of live pids here)
    const dead = 4194301;
    mkdirSync(lib.cacheDir, { recursive: true });
    const spool = join(lib.cacheDir, `.import-${dead}-1700000000000.f32`);
    const side = join(photos[3].replace(/[^/]+$/, ''), `.${photos[3].split('/').pop()}.xmp.${dead}.k3j4h5.tmp`);
    writeFileSync(spool, Buffer.alloc(1024));
    writeFileSync(side, '<x/>');
    try {
      const p = check(lib).problems.find((x) => x.kind === 'leaked-temp');
      expect(p?.count).toBe(2);
    } finally { execFileSync('rm', ['-f', spool, side]); }
    expect(kinds()).not.toContain('leaked-temp');
    // emptied since the last backup: a separate library with a backup, then everything removed
    const dir = join(t.dir, 'emptied');
    const { lib: l2 } = await runLibrary(dir, 4);
    try {
      await backupNow(l2);
      expect(check(l2).problems.map((p) => p.kind)).not.toContain('emptied');
      l2.db.exec('DELETE FROM runs; DELETE FROM photos;');
      expect(check(l2).problems.find((p) => p.kind === 'emptied')?.message).toMatch(/holds 4 photos and 1 runs/);
    } finally { l2.close(); }
  });
});

describe('keep-best trash', () => {
  it('moves only the scanned file: a photo replaced since the scan, or reached through a folder swapped for a symlink, is refused and nothing moves', async () => {
    const { CoreService } = await import('../core/service.ts');
    const { renameSync, cpSync } = await import('node:fs');
    const trash = join(t.dir, 'Trash');
    const prev = process.env.CONSTELLATE_TRASH;
    process.env.CONSTELLATE_TRASH = trash;
    lib.close();
    const svc = CoreService.open(file);
    try {
      const ids = (svc.lib.db.prepare('SELECT id, path FROM photos ORDER BY id').all() as Array<{ id: number; path: string }>);
      const [a, b] = ids;
      const edits = () => svc.lib.db.prepare('SELECT COUNT(*) FROM edits').pluck().get() as number;
      const e0 = edits();
      // b replaced since the scan (another photo's bytes under its name)
      const orig = readFileSync(b.path);
      writeFileSync(b.path, readFileSync(ids[5].path));
      const e = await errOf(svc.keepBestDuplicates({ runId, groups: [{ items: [a.id, b.id], keep: a.id }], trash: true }));
      expect(e?.code).toBe('CONFLICT');
      expect(e?.message).toContain(b.path);
      expect(e?.message).toMatch(/changed since the scan/);
      expect(existsSync(b.path)).toBe(true);
      expect(edits()).toBe(e0);
      writeFileSync(b.path, orig);
      // the library folder swapped for a symlink to a copy elsewhere (same names, same bytes): outside, refused
      const root = dirname(b.path);
      const elsewhere = join(t.dir, 'elsewhere');
      cpSync(root, elsewhere, { recursive: true });
      renameSync(root, `${root}.orig`);
      symlinkSync(elsewhere, root);
      try {
        const e2 = await errOf(svc.keepBestDuplicates({ runId, groups: [{ items: [a.id, b.id], keep: a.id }], trash: true }));
        expect(e2?.code).toBe('CONFLICT');
        expect(e2?.message).toMatch(/symbolic link/);
        expect(existsSync(join(elsewhere, b.path.split('/').pop()!))).toBe(true);
        expect(edits()).toBe(e0);
      } finally {
        execFileSync('rm', ['-f', root]);
        renameSync(`${root}.orig`, root);
      }
      expect(existsSync(join(trash, 'files')) ? readdirSync(join(trash, 'files')) : []).toEqual([]);
      // the unchanged file still goes (and comes back with undo)
      const r = await svc.keepBestDuplicates({ runId, groups: [{ items: [a.id, b.id], keep: a.id }], trash: true });
      expect(r.files!.trashed).toEqual([b.path]);
      await svc.undo({ runId });
      expect(existsSync(b.path)).toBe(true);
    } finally {
      await svc.close();
      if (prev === undefined) delete process.env.CONSTELLATE_TRASH; else process.env.CONSTELLATE_TRASH = prev;
      lib = Library.open(file, { noBackup: true });
    }
  });
});

describe('serve: body limits and error codes', () => {
  it('a binary-codec body over the API limit is refused (413) like a JSON one; every error code is an ErrorCode', async () => {
    const { CoreService } = await import('../core/service.ts');
    const { startServer } = await import('../server/server.ts');
    const { ERROR_CODES } = await import('../common/errors.ts');
    const renderer = join(t.dir, 'renderer');
    mkdirSync(renderer, { recursive: true });
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>x</title>');
    const svc = CoreService.open(join(t.dir, 'serve-lib.constellate'));
    const srv = await startServer({ service: svc, rendererDir: renderer });
    try {
      const post = async (path: string, headers: Record<string, string>, body: Uint8Array | string) => {
        const r = await fetch(`http://127.0.0.1:${srv.port}${path}`, { method: 'POST', headers, body });
        return { status: r.status, error: ((await r.json().catch(() => ({}))) as { error?: { code: string } }).error };
      };
      const big = new Uint8Array(5 << 20);
      const bin = await post('/api/listPhotos', { 'x-constellate-token': srv.token, 'content-type': 'application/x-constellate' }, big);
      expect(bin.status).toBe(413);
      const json = await post('/api/listPhotos', { 'x-constellate-token': srv.token, 'content-type': 'application/json' }, `"${'x'.repeat(5 << 20)}"`);
      expect(json.status).toBe(413);
      const noAuth = await post('/api/getInfo', {}, '{}');
      expect(noAuth.status).toBe(401);
      for (const e of [bin.error, json.error, noAuth.error]) expect(ERROR_CODES).toContain(e?.code);
      expect((await post('/api/getInfo', { 'x-constellate-token': srv.token }, '')).status).toBe(200);
    } finally {
      await srv.close();
      await svc.close();
    }
  });
});

describe('watched folders', () => {
  it('a new subfolder is watched; a root renamed away and made again is watched again and scanned', async () => {
    const { CoreService } = await import('../core/service.ts');
    const { FolderWatcher } = await import('../core/watch.ts');
    const { makePhotos } = await import('./fault-fixture.ts');
    const { renameSync, copyFileSync } = await import('node:fs');
    const base = join(t.dir, 'watched');
    const root = join(base, 'photos');
    const made = await makePhotos(root, 3);
    const svc = CoreService.open(join(base, 'w.constellate'));
    const cycles: Array<{ rootIds: number[]; added: number }> = [];
    const watcher = new FolderWatcher(svc, 150, (s) => cycles.push({ rootIds: s.rootIds, added: s.scan?.added ?? -1 }), 150);
    const until = async (ok: () => boolean, ms = 30_000) => { const end = Date.now() + ms; while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 50)); return ok(); };
    try {
      await svc.addRoots({ paths: [root] });
      await svc.waitJob({ id: (await svc.scan()).id });
      await svc.setSettings({ watchModels: [] });
      watcher.update({ ...(await svc.getSettings()), watch: true });
      expect(watcher.watchedFolders()).toEqual([root]);
      mkdirSync(join(root, 'sub'));
      expect(await until(() => watcher.watchedFolders().includes(join(root, 'sub')))).toBe(true);
      copyFileSync(made[0], join(root, 'sub', 'copy.jpg'));
      expect(await until(() => cycles.some((c) => c.added >= 1))).toBe(true);
      // renamed away, and a folder of that name made again with a new photo
      const n = cycles.length;
      renameSync(root, `${root}.away`);
      mkdirSync(root);
      await makePhotos(join(root, 'again'), 1, 64);
      expect(await until(() => watcher.watchedFolders().includes(root))).toBe(true);
      expect(await until(() => cycles.length > n && cycles.slice(n).some((c) => c.added >= 1))).toBe(true);
      expect(watcher.watchedFolders()).toContain(join(root, 'again'));
    } finally {
      await watcher.close();
      await svc.close();
    }
  });
});

describe('messages', () => {
  it('a job failing on its own file (an export target on a full disk) names that file, not "cannot write the library"', async () => {
    const { JobManager } = await import('../core/jobs.ts');
    const jobs = new JobManager(lib.db);
    const job = jobs.start('export', {} as never, async (): Promise<never> => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', path: '/mnt/usb/export/items.csv', syscall: 'write' });
    });
    const end = await jobs.wait(job.id);
    expect(end.state).toBe('failed');
    expect(end.error?.code).toBe('IO');
    expect(end.error?.message).toMatch(/^\/mnt\/usb\/export\/items\.csv: cannot write \(the disk is full \(ENOSPC\)\)/);
    expect(end.error?.message).not.toMatch(/library/);
  });
});

describe('run_dask.py', () => {
  it('a truncated existing part is not counted as done; a whole one is', async () => {
    const { DASK_DRIVER } = await import('../core/interop/dask-driver.ts');
    const dir = join(t.dir, 'dask');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'run_dask.py'), DASK_DRIVER);
    const whole = join(dir, 'whole.parquet');
    const w = await ColumnarWriter.create(whole, 'parquet', [{ name: 'id', type: 'string' }]);
    w.write({ id: ['photo:1', 'photo:2'] }, 2);
    w.finish();
    const bytes = readFileSync(whole);
    writeFileSync(join(dir, 'cut.parquet'), bytes.subarray(0, bytes.length - 5));
    writeFileSync(join(dir, 'empty.parquet'), '');
    const py = `import importlib.util, json, sys
spec = importlib.util.spec_from_file_location('drv', sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print(json.dumps([m.whole_part(p) for p in sys.argv[2:]]))`;
    const out = execFileSync('/usr/bin/python3', ['-c', py, join(dir, 'run_dask.py'), whole, join(dir, 'cut.parquet'), join(dir, 'empty.parquet'), join(dir, 'none.parquet')], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([true, false, false, false]);
  });
});

describe('XMP regions', () => {
  it('a sidecar with more face regions than a photo can hold is refused by name (it was quadratic: 120,000 regions 116 s)', async () => {
    const { readXmpPeople, MAX_XMP_REGIONS } = await import('../core/xmp/xmp.ts');
    const li = (i: number) => `<rdf:li rdf:parseType="Resource"><mwg-rs:Name>P${i % 7}</mwg-rs:Name><mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Area stArea:x="${((i % 100) / 100 + 0.005).toFixed(4)}" stArea:y="${(Math.floor(i / 100) % 100 / 100 + 0.005).toFixed(4)}" stArea:w="0.01" stArea:h="0.01" stArea:unit="normalized"/></rdf:li>`;
    const doc = (n: number) => `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"><mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList><rdf:Bag>${Array.from({ length: n }, (_, i) => li(i)).join('')}</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>`;
    expect(readXmpPeople(doc(MAX_XMP_REGIONS), 'ok.xmp').regions).toHaveLength(MAX_XMP_REGIONS);
    expect(() => readXmpPeople(doc(MAX_XMP_REGIONS + 1), 'many.xmp')).toThrow(/many\.xmp: 2001 face regions, at most 2000 per photo/);
  });
});

describe('.npy + ids import', () => {
  it('a path repeated in the ids file is refused naming both rows, nothing stored (it said "imported 2x")', async () => {
    const { importEmbeddings } = await import('../core/embed/io.ts');
    const { writeNpy } = await import('../core/npy-file.ts');
    writeNpy(join(t.dir, 'dup.npy'), new Float32Array(12).fill(0.5), [3, 4]);
    writeFileSync(join(t.dir, 'dup-ids.csv'), ['path', photos[0], photos[1], photos[0]].join('\n'));
    const e = await errOf(() => importEmbeddings(lib, join(t.dir, 'dup.npy'), join(t.dir, 'dup-ids.csv'), 'dup-npy'));
    expect(e?.code).toBe('BAD_FILE');
    expect(e?.message).toMatch(/row 3 repeats the item of row 1/);
    expect(lib.db.prepare(`SELECT COUNT(*) FROM models WHERE name = 'dup-npy'`).pluck().get()).toBe(0);
  });
});

describe('restore errors', () => {
  it('a backup that breaks mid-restore is a BAD_FILE naming it (was a raw error, a 500 in serve mode); the library is unchanged', async () => {
    const { default: Database } = await import('better-sqlite3');
    const before = counts();
    const b = await backupNow(lib);
    const broken = `${file}.backup-v${b.version}-1700000000005`;
    writeFileSync(broken, readFileSync(b.path));
    const db = new Database(broken);
    db.exec('DROP TABLE settings');
    db.close();
    const e = await errOf(restoreBackup(lib, broken));
    expect(e?.code).toBe('BAD_FILE');
    expect(e?.message).toContain(broken);
    expect(e?.message).toMatch(/nothing was restored/);
    expect(counts()).toEqual(before);
  });
});
