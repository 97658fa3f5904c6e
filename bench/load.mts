/**
 * Loopback load on serve mode: N API calls (getInfo, listPhotos, listRoots, listJobs, getJob, listScanIssues, listRuns)
 * at concurrency C, with concurrent addRoots writes (each folder added twice: one root, same id), while a scan job of a
 * photo folder runs in the same server and a WebSocket listens to its events. 127.0.0.1 only; bounded in count and time.
 *   node --import tsx bench/load.mts [requests=5000] [concurrency=32] [folder=../shared/data/photos-flowers] [--out FILE]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreService } from '../src-main/core/service.ts';
import { startServer } from '../src-main/server/server.ts';
import { runLoad } from '../src-main/reliability/load-core.ts';
import { SHARED } from '../src-main/testing/fixtures.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--out');
const outIdx = process.argv.indexOf('--out');
const N = Number(args[0] ?? 5000);
const C = Number(args[1] ?? 32);
const folder = resolve(args[2] ?? join(SHARED, 'data/photos-flowers'));
const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
const renderer = join(root, 'out', 'renderer');
const mib = () => Math.round(process.memoryUsage().rss / (1 << 20));

const svc = CoreService.open(join(dir, 'load.constellate'));
const srv = await startServer({ service: svc, rendererDir: renderer });
const rssStart = mib();
let peak = rssStart;
const sampler = setInterval(() => { peak = Math.max(peak, mib()); }, 100);
const deadline = setTimeout(() => { process.stderr.write('load bench: time limit (10 min) reached\n'); process.exit(2); }, 600_000);
try {
  const report = await runLoad({
    srv, requests: N, concurrency: C, scratch: join(dir, 'scratch'), writes: 50,
    startJob: async () => { const [r] = await svc.addRoots({ paths: [folder] }); return (await svc.scan({ rootIds: [r.id] })).id; },
    waitJob: (id) => svc.jobs.wait(id),
  });
  const out = {
    ...report, concurrency: C, folder, photos: svc.lib.info().photos, served: srv.requests(),
    rssMiB: { start: rssStart, peak, end: mib() },
  };
  const text = JSON.stringify(out, null, 2);
  process.stdout.write(text + '\n');
  if (outIdx > 0) writeFileSync(process.argv[outIdx + 1], text + '\n');
  process.exitCode = report.errors ? 1 : 0;
} finally {
  clearInterval(sampler);
  clearTimeout(deadline);
  await srv.close();
  await svc.close();
  rmSync(dir, { recursive: true, force: true });
}
