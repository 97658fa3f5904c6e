/**
 * SIGTERM and SIGINT always end the CLI (and serve mode) and release the library's lock. The commands' own handlers
 * stop gracefully (a job is cancelled, the server closed); this guard makes sure that stop comes: a second signal, or
 * the grace time passing after the first, releases every lock this process holds and exits 130 at once. Its timer is
 * unref'd, so a graceful end that empties the event loop is never delayed by it.
 */
import { releaseAllLocks } from '../core/store/lock.ts';

export const STOP_GRACE_MS = 30_000;

export function installStopGuard(graceMs = STOP_GRACE_MS, exit: (code: number) => void = (c) => process.exit(c)): () => void {
  let signals = 0;
  let timer: NodeJS.Timeout | null = null;
  const force = (sig: string) => {
    releaseAllLocks();
    process.stderr.write(`constellate: stopped (${sig})\n`);
    exit(130);
  };
  const on = (sig: NodeJS.Signals) => {
    signals++;
    // a second signal, or no graceful handler of the command's own (only this guard listens): stop now
    if (signals > 1 || process.listenerCount(sig) <= 1) { force(sig); return; }
    timer = setTimeout(() => force(`${sig}, not finished ${Math.round(graceMs / 1000)} s after it`), graceMs);
    timer.unref();
  };
  const onInt = () => on('SIGINT'), onTerm = () => on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    if (timer) clearTimeout(timer);
  };
}
