/** Real fault conditions for tests: a small fixed-size tmpfs (disk full) and a read-only bind mount (needs root). */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function tryMount(): boolean {
  if (process.platform !== 'linux') return false;
  const d = mkdtempSync(join(tmpdir(), 'constellate-mnt-probe-'));
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d], { stdio: 'ignore' });
    if (r.status !== 0) return false;
    spawnSync('umount', [d], { stdio: 'ignore' });
    return true;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** Whether this process may mount (root on Linux, not in a restricted container). */
export const CAN_MOUNT = tryMount();

/** Whether `setpriv` can run a command as nobody (for permission cases, since the tests run as root). */
export const CAN_SETPRIV = process.platform === 'linux' && process.getuid?.() === 0 &&
  spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'true'], { stdio: 'ignore' }).status === 0;

export interface Mounted { dir: string; cleanup(): void }

/** A tmpfs of `size` (e.g. '1m') mounted on a new temp folder. */
export function smallDisk(size: string): Mounted {
  const dir = mkdtempSync(join(tmpdir(), 'constellate-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return { dir, cleanup: () => { spawnSync('umount', ['-l', dir]); rmSync(dir, { recursive: true, force: true }); } };
}

/** A read-only view of `src` (bind mount, remounted read-only). */
export function readOnlyView(src: string): Mounted {
  const dir = mkdtempSync(join(tmpdir(), 'constellate-ro-'));
  execFileSync('mount', ['--bind', src, dir]);
  execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
  return { dir, cleanup: () => { spawnSync('umount', ['-l', dir]); rmSync(dir, { recursive: true, force: true }); } };
}

/** Fills the file system holding `dir` until ENOSPC, leaving about `leave` bytes free; returns the filler's path. */
export function fillDisk(dir: string, leave = 0): string {
  const file = join(dir, `filler-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 0x5a);
  try {
    for (;;) {
      const free = freeBytes(dir);
      if (free <= leave) break;
      const n = Math.min(chunk.length, Math.max(1, free - leave));
      try { if (writeSync(fd, chunk, 0, n) <= 0) break; } catch { break; }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}
