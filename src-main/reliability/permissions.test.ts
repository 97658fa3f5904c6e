/**
 * Permission failures as a real unprivileged user (the tests run as root, for whom every file is readable): the CLI
 * runs as nobody through setpriv. An unreadable photo or folder is an I/O failure, retried by the next scan or embed
 * once the permission is fixed; a library file nobody may write is opened read-only for inspection, and writes are
 * refused with a clear IO error (exit 3). Skipped visibly where setpriv or root is missing, or nobody cannot read the
 * checkout.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../testing/fixtures.ts';
import { BIN } from './helpers.ts';

const SETPRIV = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];
const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
const nobodyReadsRepo = isRoot && hasSetpriv && spawnSync('setpriv', [...SETPRIV, 'test', '-r', BIN]).status === 0;
const CAN = isRoot && hasSetpriv && nobodyReadsRepo;

// nobody's own world: a copy of node it may run (the one under /root is out of its reach), a home, a library folder
const home = mkdtempSync(join(tmpdir(), 'constellate-perm-'));
chmodSync(home, 0o755);
afterAll(() => { spawnSync('chmod', ['-R', 'u+rwx', home]); rmSync(home, { recursive: true, force: true }); });
let node = '';

interface Run { code: number | null; stdout: string; stderr: string; json: Record<string, any> }
function asNobody(args: string[]): Run {
  if (!node) {
    node = join(home, 'node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  const r = spawnSync('setpriv', [...SETPRIV, node, BIN, ...args, '--json'], {
    cwd: home, encoding: 'utf8', timeout: 300_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(home, 'home'), CONSTELLATE_WORKERS: '2', CONSTELLATE_SHARED: process.env.CONSTELLATE_SHARED ?? '' },
  });
  let json: Record<string, any> = {};
  try { json = JSON.parse(r.stdout); } catch { /* reported below */ }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

function photos(dir: string, from: string, n: number): string[] {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const f of readdirSync(sharedPath('data/photos-flowers', from)).filter((x) => x.endsWith('.jpg')).sort().slice(0, n)) {
    cpSync(sharedPath('data/photos-flowers', from, f), join(dir, f));
    out.push(join(dir, f));
  }
  return out;
}

describe.skipIf(!CAN)('permissions as an unprivileged user (setpriv nobody)', () => {
  it('an unreadable photo and folder fail as I/O, then are read by the next scan once fixed; embed retries too', () => {
    mkdirSync(join(home, 'home'), { recursive: true });
    chownSync(join(home, 'home'), 65534, 65534);
    const libDir = join(home, 'lib');
    mkdirSync(libDir);
    chownSync(libDir, 65534, 65534);
    const lib = join(libDir, 'l.constellate');
    const root = join(home, 'photos');
    const open = photos(join(root, 'open'), 'daisy', 3);
    const closedDir = join(root, 'closed');
    photos(closedDir, 'roses', 2);
    chmodSync(open[0], 0o000); // root's file: unreadable to nobody
    chmodSync(closedDir, 0o700); // root's folder: nobody cannot list it

    const s1 = asNobody(['scan', root, '--library', lib]);
    expect(s1.code, s1.stderr).toBe(0);
    expect(s1.json).toMatchObject({ photos: 2, errors: 2 });
    const i1 = asNobody(['info', '--errors', '--library', lib]);
    const reasons = (i1.json.errorList as Array<{ path: string; reason: string }>).map((e) => `${e.path}: ${e.reason}`).sort();
    expect(reasons).toEqual([`${closedDir}: cannot open folder: permission denied`, `${open[0]}: cannot read file: permission denied`].sort());

    chmodSync(open[0], 0o644);
    chmodSync(closedDir, 0o755);
    const s2 = asNobody(['scan', root, '--library', lib]);
    expect(s2.code, s2.stderr).toBe(0);
    expect(s2.json).toMatchObject({ photos: 5, errors: 0 });

    // a photo that becomes unreadable before the embed: an I/O failure, shown in info, retried by the next embed
    chmodSync(open[1], 0o000);
    const e1 = asNobody(['embed', '--model', 'photo', '--library', lib]);
    expect(e1.code, e1.stderr).toBe(0);
    expect(e1.json).toMatchObject({ processed: 4, failed: 1 });
    const i2 = asNobody(['info', '--errors', '--library', lib]);
    expect(i2.json.embedFailures).toEqual({ photo: 1 });
    expect(JSON.stringify(i2.json.embedErrorList)).toMatch(/cannot read|permission/);
    chmodSync(open[1], 0o644);
    const e2 = asNobody(['embed', '--model', 'photo', '--library', lib]);
    expect(e2.code, e2.stderr).toBe(0);
    expect(e2.json).toMatchObject({ processed: 1, failed: 0 });
    expect(asNobody(['info', '--library', lib]).json.embeddings).toEqual({ photo: 5 });
  }, 600_000);

  it('a library file nobody may write: info works read-only, a write is refused with IO (exit 3), nothing changes', () => {
    // root's library in root's folder (0755): nobody can read it but not write it, nor make a lock file beside it
    const dir = join(home, 'rolib');
    mkdirSync(dir);
    const lib = join(dir, 'l.constellate');
    const root = join(home, 'ro-photos');
    photos(root, 'tulips', 2);
    const made = spawnSync(process.execPath, [BIN, 'scan', root, '--library', lib, '--json'], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, CONSTELLATE_WORKERS: '2' } });
    expect(made.status, made.stderr).toBe(0);
    const before = readdirSync(dir).sort();

    const info = asNobody(['info', '--library', lib]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.json).toMatchObject({ photos: 2 });
    const scan = asNobody(['scan', root, '--library', lib]);
    expect(scan.code, scan.stdout + scan.stderr).toBe(3);
    expect(scan.json.error?.code).toBe('IO');
    expect(scan.json.error?.message).toMatch(/read-only|permission denied/);
    expect(scan.json.error?.message).toContain(lib);
    expect(readdirSync(dir).sort()).toEqual(before);

    // the same file, read-only (0444, root's) in a folder nobody owns: the lock can be made, the file not written
    const own = join(home, 'ownlib');
    mkdirSync(own);
    chownSync(own, 65534, 65534);
    const lib2 = join(own, 'l.constellate');
    copyFileSync(lib, lib2);
    chmodSync(lib2, 0o444);
    const info2 = asNobody(['info', '--library', lib2]);
    expect(info2.code, info2.stderr).toBe(0);
    expect(info2.json).toMatchObject({ photos: 2 });
    const scan2 = asNobody(['scan', root, '--library', lib2]);
    expect(scan2.code, scan2.stdout + scan2.stderr).toBe(3);
    expect(scan2.json.error?.code).toBe('IO');
    expect(scan2.json.error?.message).toMatch(/read-only|permission denied/);
    expect(readdirSync(own).filter((f) => f.endsWith('.lock'))).toEqual([]); // the lock was released
  }, 600_000);
});
