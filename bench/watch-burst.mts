/**
 * Watched folders under a burst of new files (issue 35): the longest stall of the main thread (event-loop lag,
 * sampled every 10 ms) while a child process writes N files into a watched folder, with the FolderWatcher (one
 * non-recursive watcher per folder) and, as the peer in the same run, Node's recursive fs.watch (what 0.2 used).
 *   node --import tsx bench/watch-burst.mts [N=1000,3000]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, watch } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { FolderWatcher } from '../src-main/core/watch.ts';
import type { CoreService } from '../src-main/core/service.ts';
import { tempDir } from '../src-main/testing/fixtures.ts';

const sizes = (process.argv[2] ?? '1000,3000').split(',').map(Number);
const t = tempDir('watch-burst-');

/** Writes n small .jpg files into dir from another process; resolves when it has exited. */
function burst(dir: string, n: number): Promise<void> {
  const code = `const fs=require('fs');for(let i=0;i<${n};i++)fs.writeFileSync(require('path').join(${JSON.stringify(dir)},'f'+i+'.jpg'),'x');`;
  return new Promise((ok) => spawn(process.execPath, ['-e', code], { stdio: 'ignore' }).on('close', () => ok()));
}

async function measure(kind: 'folder-watcher' | 'recursive-fs-watch', n: number): Promise<{ maxLagMs: number; events: number; wallMs: number }> {
  const root = join(t.dir, `${kind}-${n}`);
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  let events = 0;
  let stop: () => Promise<void> | void;
  if (kind === 'folder-watcher') {
    const fake = { lib: { roots: () => [{ id: 1, path: root }] } } as unknown as CoreService;
    const w = new FolderWatcher(fake, 60_000, undefined, 60_000);
    (w as unknown as { mark: (id: number) => void }).mark = () => { events++; };
    w.update({ watch: true } as never);
    stop = () => w.close();
  } else {
    const w = watch(root, { recursive: true, persistent: false }, () => { events++; });
    stop = () => w.close();
  }
  let last = performance.now(), maxLag = 0;
  const tick = setInterval(() => { const now = performance.now(); maxLag = Math.max(maxLag, now - last - 10); last = now; }, 10);
  const t0 = performance.now();
  await burst(join(root, 'a', 'b'), n);
  await new Promise((r) => setTimeout(r, 500)); // let the last events arrive
  clearInterval(tick);
  await stop();
  return { maxLagMs: Math.round(maxLag), events, wallMs: Math.round(performance.now() - t0) };
}

const rows: Array<Record<string, unknown>> = [];
for (const n of sizes) {
  const a = await measure('folder-watcher', n);
  const b = await measure('recursive-fs-watch', n);
  rows.push({ n, folderWatcher: a, recursiveFsWatch: b, lagRatio: b.maxLagMs > 0 ? +(b.maxLagMs / Math.max(1, a.maxLagMs)).toFixed(1) : null });
}
process.stdout.write(JSON.stringify({ load: loadavg().map((x) => x.toFixed(2)).join(' '), rows }, null, 1) + '\n');
t.cleanup();
