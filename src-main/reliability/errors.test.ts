/**
 * One error type: real Node and SQLite failures (a missing file, a write the kernel refuses, a full device, a
 * read-only database, a busy database, a database at its size limit) become app codes whose message names the file,
 * disk or permission, never a raw ENOENT/SQLITE_BUSY; and the CLI's exit-code table (README) holds.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, exitCode, toPayload, type ErrorPayload } from '../common/errors.ts';
import { REPO_ROOT, tempDir } from '../testing/fixtures.ts';

const t = tempDir('constellate-errors-');
afterAll(() => t.cleanup());

function thrown(f: () => unknown): unknown {
  try { f(); } catch (e) { return e; }
  throw new Error('expected a throw');
}
const mapped = (f: () => unknown): ErrorPayload => toPayload(thrown(f));

describe('Node and SQLite errors become app codes', () => {
  it('ENOENT: NOT_FOUND naming the file', () => {
    const p = mapped(() => readFileSync(join(t.dir, 'nope.csv')));
    expect(p).toEqual({ code: 'NOT_FOUND', message: `${join(t.dir, 'nope.csv')}: no such file or folder` });
  });

  it('EACCES (a write the kernel refuses, even to root): IO naming the file and the permission', () => {
    const p = mapped(() => writeFileSync('/sys/constellate-test.partial', 'x'));
    expect(p.code).toBe('IO');
    expect(p.message).toMatch(/^\/sys\/constellate-test\.partial: permission denied/);
  });

  it('ENOSPC (/dev/full): IO saying the disk is full', () => {
    const p = mapped(() => writeFileSync('/dev/full', 'x'));
    expect(p).toEqual({ code: 'IO', message: 'disk full: no space left to write a file (write)' });
  });

  it('SQLITE_READONLY, SQLITE_BUSY, SQLITE_FULL from real databases: IO with what happened', () => {
    const file = join(t.dir, 'db.sqlite');
    const w = new Database(file);
    w.exec('CREATE TABLE x (v BLOB)');
    const ro = new Database(file, { readonly: true });
    const readonly = mapped(() => ro.prepare('INSERT INTO x VALUES (1)').run());
    expect(readonly.code).toBe('IO');
    expect(readonly.message).toMatch(/read-only/);

    const other = new Database(file, { timeout: 0 });
    w.exec('BEGIN EXCLUSIVE');
    const busy = mapped(() => other.prepare('INSERT INTO x VALUES (1)').run());
    expect(busy.code).toBe('IO');
    expect(busy.message).toMatch(/busy \(SQLITE_BUSY\)/);
    w.exec('COMMIT');

    w.pragma('max_page_count = 8');
    const full = mapped(() => { for (let i = 0; i < 100; i++) w.prepare('INSERT INTO x VALUES (?)').run(Buffer.alloc(4096)); });
    expect(full.code).toBe('IO');
    expect(full.message).toMatch(/disk full/);
    for (const db of [ro, other, w]) db.close();
  });

  it('no code crosses unless it is an ErrorCode', () => {
    expect(toPayload(Object.assign(new Error('boom'), { code: 'ERR_SOMETHING' }))).toEqual({ code: 'INTERNAL', message: 'boom' });
    expect(toPayload({ code: 'NOT_A_CODE', message: 'x' }).code).toBe('INTERNAL');
    expect(toPayload({ code: 'CONFLICT', message: 'x' })).toEqual({ code: 'CONFLICT', message: 'x' });
  });
});

describe('CLI exit codes', () => {
  it('the table: 1 internal, 2 bad input, 3 I/O, 130 cancelled', () => {
    const table = Object.fromEntries(ERROR_CODES.map((c) => [c, exitCode(c)]));
    expect(table).toMatchObject({ INTERNAL: 1, BAD_ARGUMENT: 2, BAD_FILE: 2, NOT_FOUND: 2, IO: 3, CANCELLED: 130 });
    expect(new Set(Object.values(table))).toEqual(new Set([1, 2, 3, 130]));
  });

  it('an output the kernel refuses exits 3 with one line naming the file; bad input exits 2', () => {
    const X = join(t.dir, 'x.npy');
    // a 4 x 2 float32 matrix
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }";
    let h = header; while ((10 + h.length + 1) % 64 !== 0) h += ' '; h += '\n';
    const head = Buffer.alloc(10); Buffer.from('\x93NUMPY', 'latin1').copy(head); head[6] = 1; head.writeUInt16LE(h.length, 8);
    writeFileSync(X, Buffer.concat([head, Buffer.from(h, 'latin1'), Buffer.from(new Float32Array([1, 0, 0.9, 0.1, 0, 1, 0.1, 0.9]).buffer)]));
    const cli = (args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
    const io = cli(['cluster', '--embeddings', X, '--algo', 'kmeans', '--k', '2', '--out', '/sys/constellate-labels.npy', '--json']);
    expect(io.status, io.stderr).toBe(3);
    expect(JSON.parse(io.stdout).error.code).toBe('IO');
    expect(io.stderr.trim().split('\n').filter((l) => l.startsWith('constellate: '))).toHaveLength(1);
    expect(io.stderr).toMatch(/constellate: \/sys\/constellate-labels\.npy.*permission denied/);
    const bad = cli(['cluster', '--embeddings', join(t.dir, 'missing.npy'), '--algo', 'kmeans', '--k', '2', '--json']);
    expect(bad.status, bad.stderr).toBe(2);
  });
});
