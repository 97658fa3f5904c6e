/**
 * Child process for the lock tests: waits until a given moment (so that several children race), tries to take the
 * library's lock, prints the outcome as one JSON line, holds the lock for a while (or, with a negative time, until
 * SIGTERM, which releases it; SIGKILL leaves it stale).
 * usage: node --import tsx lock-child.ts LIBRARY HOLD_MS START_AT_EPOCH_MS
 */
import { acquireLock } from '../core/store/lock.ts';

const [lib, holdMs, startAt] = process.argv.slice(2);
while (Date.now() < Number(startAt)) { /* spin until the common start */ }
try {
  const lock = acquireLock(lib);
  // the handler goes in before the outcome is printed: the parent may send SIGTERM as soon as it reads it, and
  // without a handler the signal would end the process without releasing the lock
  process.on('SIGTERM', () => { lock.release(); process.exit(0); });
  const hold = Number(holdMs);
  if (hold >= 0) setTimeout(() => { lock.release(); process.exit(0); }, hold);
  else setInterval(() => undefined, 1 << 30); // until killed; SIGTERM releases first
  process.stdout.write(JSON.stringify({ ok: true, pid: process.pid }) + '\n');
} catch (e) {
  const err = e as { code?: string; message: string };
  process.stdout.write(JSON.stringify({ ok: false, pid: process.pid, code: err.code, message: err.message }) + '\n');
  process.exit(3);
}
