/**
 * Benchmark: scanning + thumbnailing the 10,000 CIFAR-10 test photos (32x32 JPEGs) into a fresh library, through the
 * CLI as a user runs it, then an unchanged rescan. Prints photos/s and peak RSS; writes bench/results/scan.md.
 *   npx tsx bench/scan.mts [folder]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED } from '../src-main/testing/fixtures.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const folder = resolve(process.argv[2] ?? join(SHARED, 'data/photos-cifar10'));
const dir = mkdtempSync(join(tmpdir(), 'bench-scan-'));
const lib = join(dir, 'bench.constellate');

function run(label: string) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, join(root, 'src-main/cli/bin.mjs'), 'scan', folder, '--library', lib, '--json'],
    { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
  return { label, wall, photos: out.photos, added: out.added, unchanged: out.unchanged, rssMb: rss };
}

const first = run('first scan');
const again = run('unchanged rescan');
rmSync(dir, { recursive: true, force: true });
const rows = [first, again].map((r) =>
  `| ${r.label} | ${r.photos} | ${r.wall.toFixed(1)} | ${((r.label === 'first scan' ? r.added : r.unchanged) / r.wall).toFixed(0)} | ${r.rssMb.toFixed(0)} |`);
const md = [
  `### Scan + thumbnails: ${folder.split('/').slice(-1)[0]} (${new Date().toISOString().slice(0, 10)}, ${process.version})`,
  '',
  '| run | photos | wall s (whole CLI process) | photos/s | peak RSS MB |',
  '|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
console.log(md);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/scan.md'), md);
