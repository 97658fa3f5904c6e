/**
 * No lost work under SIGKILL: the real CLI is started for scan, embed, cluster (and export, once it exists), killed with
 * SIGKILL at a random moment, restarted, and finished. After every kill and after every finish the library file is
 * checked as a plain SQLite file: integrity, no duplicate or missing rows, every embedding backed by its 'processed'
 * mark, every run complete or absent. The stale lock the killed process leaves must not block the restart.
 *
 * Even kills come at a random time from the start (start-up, library creation, migrations); odd ones a random time after
 * the first progress line of the work itself. RELIABILITY_KILLS (default 3) sets the kills per operation;
 * RELIABILITY_SEED makes the delays reproducible.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath, tempDir } from '../testing/fixtures.ts';
import { checkLibrary, cliSync, rng, runAndKill, seedFromEnv, walkFiles, type KillOutcome } from './helpers.ts';

const KILLS = Math.max(1, Number(process.env.RELIABILITY_KILLS) || 3);
const SEED = seedFromEnv();
const rand = rng(SEED);
const t = tempDir('constellate-sigkill-');
const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];

const figures: Record<string, { injected: number; landedMidRun: number; survived: number; delaysMs: number[]; partial: number[] }> = {};
function record(op: string, k: KillOutcome, partial: number, ok: boolean) {
  const f = (figures[op] ??= { injected: 0, landedMidRun: 0, survived: 0, delaysMs: [], partial: [] });
  f.injected++;
  if (k.killed) f.landedMidRun++;
  if (ok) f.survived++;
  f.delaysMs.push(Math.round(k.delayMs));
  f.partial.push(partial);
}

/** what a kill leaves in an export folder: hidden temp files, and duplicates ' (2)' once the export is run again */
const exportFindings = { tempsLeftAfterKill: [] as number[], duplicatesAfterRerun: [] as number[] };

afterAll(() => {
  console.log(`RELIABILITY sigkill seed=${SEED} ${JSON.stringify({ ...figures, exportFindings })}`);
  t.cleanup();
});

function copyPhotos(dest: string, perClass: number): number {
  let n = 0;
  for (const c of CLASSES) {
    mkdirSync(join(dest, c), { recursive: true });
    for (const f of readdirSync(sharedPath('data/photos-flowers', c)).sort().slice(0, perClass)) {
      copyFileSync(sharedPath('data/photos-flowers', c, f), join(dest, c, f)); n++;
    }
  }
  return n;
}

let startupMs = 800;
const scanDir = join(t.dir, 'scan-photos');
const embedDir = join(t.dir, 'embed-photos');
let nScan = 0, nEmbed = 0;
const embedLib = join(t.dir, 'embed.constellate');

beforeAll(() => {
  nScan = copyPhotos(scanDir, 30);
  nEmbed = copyPhotos(embedDir, 6);
  // the CLI's start-up time on this machine now scales the kill delays (slow, busy machines get later kills)
  const r = cliSync(['info', '--library', join(t.dir, 'probe.constellate'), '--json']);
  expect(r.code).toBe(0);
  startupMs = r.ms;
});

const delay = (workMs: number) => startupMs * 0.6 + rand() * (startupMs * 0.6 + workMs);
/** even kills: timed from the start; odd kills: timed from the first progress line of the work */
const plan = (i: number, workMs: number, progress: RegExp): [number, RegExp | undefined] =>
  // the last kill of each operation comes right after its first progress line, so that at least one lands mid-work
  // however fast the machine is
  i === KILLS - 1 ? [rand() * Math.min(50, workMs * 0.2), progress]
    : i % 2 === 0 ? [delay(workMs), undefined] : [rand() * workMs * 0.8, progress];

/** Every thumbnail in the cache decodes completely (none half-written); returns leftover temp files. */
async function checkThumbs(lib: string): Promise<{ thumbs: number; tmp: number }> {
  const files = walkFiles(`${lib}.cache`);
  let thumbs = 0;
  for (const f of files.filter((x) => x.endsWith('.jpg'))) {
    await sharp(readFileSync(f), { failOn: 'truncated' }).raw().toBuffer();
    thumbs++;
  }
  return { thumbs, tmp: files.filter((x) => /\.(tmp|partial)$/.test(x)).length };
}

describe('SIGKILL at random moments loses no work', () => {
  it(`scan (${KILLS} kills, ${'150'} photos each)`, async () => {
    for (let i = 0; i < KILLS; i++) {
      const lib = join(t.dir, `scan-${i}.constellate`);
      const k = await runAndKill(['scan', scanDir, '--library', lib, '--json'], ...plan(i, 2500, /^read \d+\/\d+/m));
      let partial = 0;
      if (existsSync(lib)) {
        const c = checkLibrary(lib);
        expect(c.problems, `after kill ${i}`).toEqual([]);
        partial = c.photos;
      }
      const fin = cliSync(['scan', scanDir, '--library', lib, '--json']);
      expect(fin.code, fin.stderr).toBe(0);
      const out = JSON.parse(fin.stdout);
      expect(out.photos).toBe(nScan);
      expect(out.errors).toBe(0);
      const c = checkLibrary(lib);
      expect(c.problems).toEqual([]);
      expect(c.photos).toBe(nScan);
      expect(c.missing).toBe(0);
      expect(c.jobs.running ?? 0).toBe(0);
      const th = await checkThumbs(lib);
      expect(th.thumbs).toBe(nScan);
      record('scan', k, partial, true);
    }
    expect(figures.scan.landedMidRun).toBeGreaterThan(0);
  });

  it(`embed --model photo (${KILLS} kills, 30 photos)`, async () => {
    const s = cliSync(['scan', embedDir, '--library', embedLib, '--json']);
    expect(s.code, s.stderr).toBe(0);
    for (let i = 0; i < KILLS; i++) {
      if (i > 0) {
        // start over: forget the model's results (with no process running, straight in the file)
        const db = new Database(embedLib);
        db.exec(`DELETE FROM embeddings WHERE model = 'photo'; DELETE FROM processed WHERE model = 'photo';`);
        db.close();
      }
      const k = await runAndKill(['embed', '--model', 'photo', '--library', embedLib, '--json'], ...plan(i, 2000, /^photos \d+\/\d+/m));
      const mid = checkLibrary(embedLib);
      expect(mid.problems, `after kill ${i}`).toEqual([]);
      const partial = mid.embeddings.photo ?? 0;
      const fin = cliSync(['embed', '--model', 'photo', '--library', embedLib, '--json']);
      expect(fin.code, fin.stderr).toBe(0);
      const out = JSON.parse(fin.stdout);
      // only what the killed run had not committed is redone
      expect(out.pending).toBe(nEmbed - partial);
      expect(out.failed).toBe(0);
      const c = checkLibrary(embedLib);
      expect(c.problems).toEqual([]);
      expect(c.embeddings.photo).toBe(nEmbed);
      expect(c.processed.photo).toBe(nEmbed);
      expect(c.jobs.running ?? 0).toBe(0);
      record('embed', k, partial, true);
    }
    expect(figures.embed.landedMidRun).toBeGreaterThan(0);
  });

  it(`cluster --algo kmeans (${KILLS} kills)`, async () => {
    const args = ['cluster', '--model', 'photo', '--algo', 'kmeans', '--k', '5', '--library', embedLib, '--json'];
    for (let i = 0; i < KILLS; i++) {
      const before = checkLibrary(embedLib).runs.length;
      const k = await runAndKill(args, ...plan(i, 400, /^(kmeans|load) \d+/m));
      const mid = checkLibrary(embedLib);
      expect(mid.problems, `after kill ${i}`).toEqual([]);
      // a run is there completely or not at all
      expect(mid.runs.length - before).toBeLessThanOrEqual(1);
      const fin = cliSync(args);
      expect(fin.code, fin.stderr).toBe(0);
      const out = JSON.parse(fin.stdout);
      const c = checkLibrary(embedLib);
      expect(c.problems).toEqual([]);
      const run = c.runs.find((r) => r.id === out.runId)!;
      expect(run.assignments).toBe(nEmbed);
      record('cluster', k, mid.runs.length - before, true);
    }
    expect(figures.cluster.landedMidRun).toBeGreaterThan(0);
  });

  const help = cliSync(['--help']).stdout;
  const hasExport = /^\s+export\s/m.test(help);
  it.skipIf(!hasExport)(`export --format folders (${KILLS} kills)`, async () => {
    const runs = checkLibrary(embedLib).runs;
    const runId = runs[runs.length - 1].id;
    const sources = new Map<string, string>(); // content hash -> source photo
    for (const f of walkFiles(embedDir)) sources.set(createHash('sha256').update(readFileSync(f)).digest('hex'), f);
    const ex = exportFindings;
    for (let i = 0; i < KILLS; i++) {
      const dir = join(t.dir, `export-${i}`);
      const args = ['export', '--run', String(runId), '--to', dir, '--format', 'folders', '--library', embedLib, '--json'];
      // an export of 30 photos takes tens of milliseconds once started: kill within that window
      const k = await runAndKill(args, ...plan(i, 60, /^export \d+\/\d+/m));
      expect(checkLibrary(embedLib).problems).toEqual([]);
      const left = walkFiles(dir);
      // whatever carries a final name is a whole image (a kill leaves no truncated photo behind a real name)
      for (const f of left.filter((x) => !/\.tmp$/.test(x) && !basename(x).startsWith('.'))) await sharp(readFileSync(f), { failOn: 'truncated' }).raw().toBuffer();
      ex.tempsLeftAfterKill.push(left.filter((x) => /\.(tmp|partial)$/.test(x)).length);
      const fin = cliSync(args);
      expect(fin.code, fin.stderr).toBe(0);
      // the finishing export removes what the killed one left (temp files of a dead pid)
      expect(walkFiles(dir).filter((x) => /\.(tmp|partial)$/.test(x) || basename(x).startsWith('.')), 'temp files left after the re-run').toEqual([]);
      const files = walkFiles(dir);
      const seen = new Map<string, number>();
      for (const f of files) {
        await sharp(readFileSync(f), { failOn: 'truncated' }).raw().toBuffer();
        const h = createHash('sha256').update(readFileSync(f)).digest('hex');
        expect(sources.has(h), `${f} is not a byte-exact copy of a photo`).toBe(true);
        seen.set(h, (seen.get(h) ?? 0) + 1);
      }
      // every photo of the run is exported, whole, after the restart
      expect(seen.size).toBe(nEmbed);
      ex.duplicatesAfterRerun.push(files.length - seen.size);
      record('export', k, files.length, true);
    }
  });
});
