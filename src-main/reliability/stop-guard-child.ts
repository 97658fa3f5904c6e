/**
 * Child process for the stop-guard test: takes the library's lock, installs the CLI's stop guard (grace GRACE_MS) and
 * a "graceful" SIGTERM/SIGINT handler that never finishes (a job whose cancel does not come), then waits forever.
 * usage: node --import tsx stop-guard-child.ts LIBRARY GRACE_MS
 */
import { installStopGuard } from '../cli/signals.ts';
import { acquireLock } from '../core/store/lock.ts';

const [lib, grace] = process.argv.slice(2);
acquireLock(lib);
installStopGuard(Number(grace));
const stuck = () => { /* a graceful stop that never completes */ };
process.on('SIGTERM', stuck);
process.on('SIGINT', stuck);
setInterval(() => undefined, 1 << 30);
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + '\n');
