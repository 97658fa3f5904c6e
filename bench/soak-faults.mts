/**
 * Fault soak (issue 15): the fault cases run together, round after round, in one process: a job whose progress
 * write hits a full disk (tmpfs), JSON/CSV/HTML/folder exports onto a nearly full disk, a photo turned into a FIFO
 * after the walk, a symlink to / in a photo folder, a root that vanishes, a symlink to a locked library, a
 * progressive JPEG over the decode budget, a large non-image named .jpg, and an edit landing during an export. After
 * every round the process must still work: a plain scan and export run, and RSS is recorded.
 *   node --import tsx bench/soak-faults.mts [rounds=3] [--out FILE]     (npm run bench:faults; needs root for mounts)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { applyEdit, undo } from '../src-main/core/curation/edits.ts';
import { exportRun, findExportTemps } from '../src-main/core/export/export.ts';
import { JobManager } from '../src-main/core/jobs.ts';
import { Library } from '../src-main/core/library.ts';
import { readPhotoFile } from '../src-main/core/scan/read-file.ts';
import { readImage, scanRoots } from '../src-main/core/scan/scanner.ts';
import { tempDir, testContext } from '../src-main/testing/fixtures.ts';
import { CAN_MOUNT, fillDisk, smallDisk } from '../src-main/reliability/fault-mounts.ts';
import { makePhotos, runLibrary } from '../src-main/reliability/fault-fixture.ts';

const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--out');
const ROUNDS = Number(args[0] ?? 3);
const outIdx = process.argv.indexOf('--out');
const mib = () => Math.round(process.memoryUsage().rss / (1 << 20));
const t = tempDir('soak-faults-');
const stats: Record<string, { ok: number; failed: number; skipped: number; maxMs: number; notes: string[] }> = {};

async function kase(name: string, needsMount: boolean, fn: () => Promise<void> | void): Promise<void> {
  const s = (stats[name] ??= { ok: 0, failed: 0, skipped: 0, maxMs: 0, notes: [] });
  if (needsMount && !CAN_MOUNT) { s.skipped++; return; }
  const t0 = performance.now();
  try {
    await fn();
    s.ok++;
  } catch (e) {
    s.failed++;
    if (s.notes.length < 3) s.notes.push((e as Error).message.split('\n')[0]);
  }
  s.maxMs = Math.max(s.maxMs, Math.round(performance.now() - t0));
}
function check(cond: unknown, what: string): void { if (!cond) throw new Error(what); }

const { lib, runId } = await runLibrary(join(t.dir, 'base'), 40);
const progressive = await sharp({ create: { width: 6000, height: 6000, channels: 3, background: { r: 9, g: 99, b: 199 } } }).jpeg({ progressive: true }).toBuffer();
const rss: number[] = [mib()];
const t0 = performance.now();

for (let round = 0; round < ROUNDS; round++) {
  const rd = join(t.dir, `r${round}`);
  mkdirSync(rd);

  await kase('disk full during a job', true, async () => {
    const m = smallDisk('2m');
    try {
      const l = Library.open(join(m.dir, 'lib.constellate'), { noBackup: true });
      l.db.pragma('wal_checkpoint(TRUNCATE)');
      const jobs = new JobManager(l.db);
      let open!: () => void;
      const gate = new Promise<void>((r) => { open = r; });
      const job = jobs.start('probe', {}, async (ctx) => {
        await gate;
        for (let i = 0; i < 20; i++) { await new Promise((r) => setTimeout(r, 1)); ctx.progress('w', i + 1, 20); ctx.checkCancelled(); }
      });
      await new Promise((r) => setTimeout(r, 20));
      fillDisk(m.dir);
      open();
      const end = await jobs.wait(job.id);
      l.close();
      check(end.state === 'failed' && end.error?.code === 'IO', `job ended ${end.state} ${JSON.stringify(end.error)}`);
      check(!readdirSync(m.dir).some((n) => n.endsWith('.lock')), 'lock left');
    } finally { m.cleanup(); }
  });

  for (const format of ['json', 'csv', 'html', 'folders'] as const) {
    await kase(`export ${format} on a nearly full disk`, true, async () => {
      const m = smallDisk('256k');
      try {
        const to = join(m.dir, 'out');
        mkdirSync(to);
        fillDisk(m.dir, round * 1500);
        const err = await exportRun(lib, { runId, to, format }, testContext()).then(() => null, (e) => e as { code?: string });
        check(err?.code === 'IO', `export gave ${JSON.stringify(err)}`);
        check(findExportTemps(to).length === 0, 'temp left');
        for (const f of readdirSync(to, { recursive: true }) as string[]) {
          if (f.endsWith('.json')) JSON.parse(readFileSync(join(to, f), 'utf8'));
          else if (!statSync(join(to, f)).isDirectory() && !f.endsWith('.jpg')) throw new Error(`published ${f}`);
        }
      } finally { m.cleanup(); }
    });
  }

  await kase('FIFO after the walk', false, async () => {
    const photos = await makePhotos(join(rd, 'fifo'), 5);
    const l = Library.open(join(rd, 'fifo.constellate'), { noBackup: true });
    try {
      let swapped = false;
      const res = await scanRoots(l, [l.addRoot(join(rd, 'fifo')).id], testContext((stage) => {
        if (stage === 'read' && !swapped) { swapped = true; unlinkSync(photos[1]); execFileSync('mkfifo', [photos[1]]); }
      }));
      check(res.added === 4, `added ${res.added}`);
    } finally { l.close(); }
  });

  await kase('symlink to / in a photo folder', false, async () => {
    await makePhotos(join(rd, 'sym'), 3);
    symlinkSync('/', join(rd, 'sym', 'machine'));
    const l = Library.open(join(rd, 'sym.constellate'), { noBackup: true });
    try {
      const res = await scanRoots(l, [l.addRoot(join(rd, 'sym')).id], testContext());
      check(res.seen === 3, `seen ${res.seen}`);
    } finally { l.close(); }
  });

  await kase('vanished root', false, async () => {
    await makePhotos(join(rd, 'gone'), 3);
    const l = Library.open(join(rd, 'gone.constellate'), { noBackup: true });
    try {
      const root = l.addRoot(join(rd, 'gone'));
      await scanRoots(l, [root.id], testContext());
      renameSync(join(rd, 'gone'), join(rd, 'gone-away'));
      const err = await scanRoots(l, [root.id], testContext()).then(() => null, (e) => e as { code?: string });
      check(err?.code === 'IO', 'no failure');
      check(l.db.prepare(`SELECT COUNT(*) FROM photos WHERE status = 'ok'`).pluck().get() === 3, 'photos marked missing');
    } finally { l.close(); }
  });

  await kase('decode budget', false, async () => {
    const old = process.env.CONSTELLATE_DECODE_BUDGET_MB;
    process.env.CONSTELLATE_DECODE_BUDGET_MB = '64';
    try {
      const err = await readImage(progressive, join(rd, 'thumbs')).then(() => null, (e) => e as Error);
      check(/progressive JPEG needs about/.test(err?.message ?? ''), `decoded: ${err?.message}`);
    } finally { if (old === undefined) delete process.env.CONSTELLATE_DECODE_BUDGET_MB; else process.env.CONSTELLATE_DECODE_BUDGET_MB = old; }
  });

  await kase('non-image .jpg of 300 MB', false, async () => {
    const big = join(rd, 'movie.jpg');
    writeFileSync(big, 'x');
    truncateSync(big, 300 << 20);
    const r0 = mib();
    const err = await readPhotoFile(big).then(() => null, (e) => e as { code?: string });
    check(err?.code === 'EFTYPE' && mib() - r0 < 50, 'read whole');
    unlinkSync(big);
  });

  await kase('edit during an export', false, async () => {
    const all = lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster >= 0').pluck().all(runId) as number[];
    let edited = false;
    const rep = await exportRun(lib, { runId, to: join(rd, 'exp'), format: 'folders' }, testContext((s, d) => {
      if (s === 'export' && d === 5 && !edited) { edited = true; applyEdit(lib.db, runId, { type: 'reject', items: all }); }
    }));
    undo(lib.db, runId);
    check(rep.files === all.length, `${rep.files} of ${all.length}`);
  });

  await kase('still working after the round', false, async () => {
    const rep = await exportRun(lib, { runId, to: join(rd, 'after'), format: 'json' }, testContext());
    check(JSON.parse(readFileSync(rep.out!, 'utf8')).items.length === 40, 'incomplete');
  });
  rss.push(mib());
}
lib.close();
t.cleanup();
const report = { rounds: ROUNDS, mounts: CAN_MOUNT, seconds: Math.round((performance.now() - t0) / 100) / 10, rssMiB: rss, cases: stats,
  failed: Object.values(stats).reduce((s, c) => s + c.failed, 0) };
console.log(JSON.stringify(report, null, 1));
if (outIdx > 0) writeFileSync(process.argv[outIdx + 1], JSON.stringify(report, null, 1));
process.exit(report.failed > 0 ? 1 : 0);
