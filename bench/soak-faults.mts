/**
 * Fault soak (issue 15): the fault cases run together, round after round, in one process: a job whose progress
 * write hits a full disk (tmpfs), JSON/CSV/HTML/folder exports onto a nearly full disk, a photo turned into a FIFO
 * after the walk, a symlink to / in a photo folder, a root that vanishes, a symlink to a locked library, a
 * progressive JPEG over the decode budget, a large non-image named .jpg, an edit landing during an export, names that
 * are not valid UTF-8, a full thumbnail cache retried with retryFailed, and (as nobody, through setpriv) an unreadable
 * photo fixed and retried and a library nobody may write (read-only info, writes refused with IO). After
 * every round the process must still work: a plain scan and export run, and RSS is recorded.
 *   node --import tsx bench/soak-faults.mts [rounds=3] [--out FILE]     (npm run bench:faults; needs root for mounts)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { applyEdit, undo } from '../src-main/core/curation/edits.ts';
import { exportRun, findExportTemps } from '../src-main/core/export/export.ts';
import { JobManager } from '../src-main/core/jobs.ts';
import { Library } from '../src-main/core/library.ts';
import { readPhotoFile } from '../src-main/core/read-file.ts';
import { readImage, scanRoots } from '../src-main/core/scan/scanner.ts';
import { tempDir, testContext } from '../src-main/testing/fixtures.ts';
import { CAN_MOUNT, fillDisk, smallDisk } from '../src-main/reliability/fault-mounts.ts';
import { makePhotos, runLibrary } from '../src-main/reliability/fault-fixture.ts';
import { BIN } from '../src-main/reliability/helpers.ts';
import { CoreService } from '../src-main/core/service.ts';
import { fsPath } from '../src-main/core/fs-names.ts';

const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--out');
const ROUNDS = Number(args[0] ?? 3);
const outIdx = process.argv.indexOf('--out');
const mib = () => Math.round(process.memoryUsage().rss / (1 << 20));
const t = tempDir('soak-faults-');
const stats: Record<string, { ok: number; failed: number; skipped: number; maxMs: number; notes: string[] }> = {};

async function kase(name: string, needsMount: boolean | 'nobody', fn: () => Promise<void> | void): Promise<void> {
  const s = (stats[name] ??= { ok: 0, failed: 0, skipped: 0, maxMs: 0, notes: [] });
  if ((needsMount === true && !CAN_MOUNT) || (needsMount === 'nobody' && !CAN_NOBODY)) { s.skipped++; return; }
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

// the CLI as nobody (setpriv), with a node binary it may run (the one under /root is out of its reach)
const SETPRIV = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];
const CAN_NOBODY = process.getuid?.() === 0 && spawnSync('setpriv', [...SETPRIV, 'test', '-r', BIN]).status === 0;
const nobodyNode = join(t.dir, 'node');
if (CAN_NOBODY) { chmodSync(t.dir, 0o755); copyFileSync(process.execPath, nobodyNode); chmodSync(nobodyNode, 0o755); mkdirSync(join(t.dir, 'nobody-home')); chownSync(join(t.dir, 'nobody-home'), 65534, 65534); }
function asNobody(args: string[]): { code: number | null; stdout: string; stderr: string; json: Record<string, any> } {
  const r = spawnSync('setpriv', [...SETPRIV, nobodyNode, BIN, ...args, '--json'], {
    cwd: t.dir, encoding: 'utf8', timeout: 300_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(t.dir, 'nobody-home'), CONSTELLATE_WORKERS: '2' },
  });
  let json: Record<string, any> = {};
  try { json = JSON.parse(r.stdout); } catch { /* the check reports it */ }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

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
      // a writing job of no real kind (as faults.test.ts): only its end state matters
      const job = jobs.start('probe' as 'scan', {} as never, async (ctx): Promise<never> => {
        await gate;
        for (let i = 0; i < 20; i++) { await new Promise((r) => setTimeout(r, 1)); ctx.progress('w', i + 1, 20); ctx.checkCancelled(); }
        return undefined as never;
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

  await kase('names that are not valid UTF-8', false, async () => {
    const root = join(rd, 'bytes');
    const dir = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0xc9, 0x74, 0xe9])]); // Latin-1 "Été"
    mkdirSync(dir as unknown as string, { recursive: true });
    const jpeg = await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 200, g: 20, b: round } } }).jpeg().toBuffer();
    for (const n of [[0x63, 0x61, 0x66, 0xe9], [0xff, 0xfe], [0xe0, 0x80]])
      writeFileSync(Buffer.concat([dir, Buffer.from('/'), Buffer.from(n), Buffer.from(`-${n.length}.jpg`)]) as unknown as string, Buffer.concat([jpeg, Buffer.from([n.length])]));
    const l = Library.open(join(rd, 'bytes.constellate'), { noBackup: true });
    try {
      const r = l.addRoot(root);
      const res = await scanRoots(l, [r.id], testContext());
      check(res.added === 3 && res.errors === 0, `added ${res.added}, errors ${res.errors}`);
      const paths = l.db.prepare('SELECT path FROM photos').pluck().all() as string[];
      for (const p of paths) check(readFileSync(fsPath(p)).length > 100, `cannot read ${p}`);
    } finally { l.close(); }
  });

  await kase('full thumbnail cache, then retryFailed', true, async () => {
    const photos = join(rd, 'tc-photos');
    await makePhotos(photos, 4);
    const libFile = join(rd, 'tc.constellate');
    const thumbs = join(`${libFile}.cache`, 'thumbs');
    mkdirSync(thumbs, { recursive: true });
    const m = smallDisk('256k');
    execFileSync('mount', ['--bind', m.dir, thumbs]);
    const svc = CoreService.open(libFile);
    try {
      const filler = fillDisk(thumbs, 0);
      const [root] = await svc.addRoots({ paths: [photos] });
      await svc.waitJob({ id: (await svc.scan({ rootIds: [root.id] })).id });
      const info = await svc.getInfo();
      check(info.photos === 0 && info.retryableErrors === 4, `photos ${info.photos}, retryable ${info.retryableErrors}`);
      unlinkSync(filler);
      const r = await svc.retryFailed();
      await svc.waitJob({ id: r.scan!.id });
      const after = await svc.getInfo();
      check(after.photos === 4 && after.errors === 0, `after retry: photos ${after.photos}, errors ${after.errors}`);
    } finally {
      await svc.close();
      execFileSync('umount', ['-l', thumbs]);
      m.cleanup();
    }
  });

  await kase('unreadable photo as nobody, then fixed; read-only library', 'nobody', async () => {
    const photos = join(rd, 'perm-photos');
    const files = await makePhotos(photos, 3);
    const libDir = join(rd, 'perm-lib');
    mkdirSync(libDir);
    chownSync(libDir, 65534, 65534);
    const libFile = join(libDir, 'l.constellate');
    chmodSync(files[0], 0o000);
    const a = asNobody(['scan', photos, '--library', libFile]);
    check(a.code === 0 && a.json.photos === 2 && a.json.errors === 1, `first scan: ${a.code} ${a.stdout.slice(0, 200)} ${a.stderr.slice(0, 200)}`);
    chmodSync(files[0], 0o644);
    const b = asNobody(['scan', photos, '--library', libFile]);
    check(b.code === 0 && b.json.photos === 3 && b.json.errors === 0, `after the fix: ${b.stdout.slice(0, 200)}`);
    // the same library, now root's and read-only to nobody: info works, a write is IO (exit 3)
    chownSync(libDir, 0, 0);
    chownSync(libFile, 0, 0);
    chmodSync(libFile, 0o444);
    for (const f of readdirSync(libDir)) if (f !== 'l.constellate' && !statSync(join(libDir, f)).isDirectory()) unlinkSync(join(libDir, f));
    const i = asNobody(['info', '--library', libFile]);
    check(i.code === 0 && i.json.photos === 3, `read-only info: ${i.code} ${i.stderr.slice(0, 200)}`);
    const w = asNobody(['scan', photos, '--library', libFile]);
    check(w.code === 3 && w.json.error?.code === 'IO', `read-only write: ${w.code} ${w.stdout.slice(0, 200)}`);
  });

  await kase('still working after the round', false, async () => {
    const rep = await exportRun(lib, { runId, to: join(rd, 'after'), format: 'json' }, testContext());
    check(JSON.parse(readFileSync(rep.out!, 'utf8')).items.length === 40, 'incomplete');
  });
  rss.push(mib());
}
lib.close();
t.cleanup();
const report = { rounds: ROUNDS, mounts: CAN_MOUNT, nobody: CAN_NOBODY, seconds: Math.round((performance.now() - t0) / 100) / 10, rssMiB: rss, cases: stats,
  failed: Object.values(stats).reduce((s, c) => s + c.failed, 0) };
console.log(JSON.stringify(report, null, 1));
if (outIdx > 0) writeFileSync(process.argv[outIdx + 1], JSON.stringify(report, null, 1));
process.exit(report.failed > 0 ? 1 : 0);
