/**
 * Fuzz soak: thousands of hostile image inputs (mutants of real photos in every accepted format, decompression bombs,
 * huge dimensions, EXIF garbage, SVG in disguise) through the scanner's decoder and the photo embedder's preprocessing,
 * in one process. Records how each failed (reason families), unclean failures, the slowest input and RSS over time.
 *   node --import tsx bench/fuzz.mts [count=3000] [seed=1] [--out FILE] [--no-sharp-cache]
 * --no-sharp-cache turns libvips' operation cache off, to tell its (bounded) memory from a leak.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { PhotoEmbedder } from '../src-main/core/models/index.ts';
import { fixedCases, makeSeeds, mutate } from '../src-main/reliability/fuzz-inputs.ts';
import { reasonFamily, runOne } from '../src-main/reliability/fuzz-core.ts';
import { rng } from '../src-main/reliability/helpers.ts';

const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--out');
const outIdx = process.argv.indexOf('--out');
const COUNT = Number(args[0] ?? 3000);
const SEED = Number(args[1] ?? 1);
const rand = rng(SEED);
const dir = mkdtempSync(join(tmpdir(), 'bench-fuzz-'));
const mib = () => Math.round(process.memoryUsage().rss / (1 << 20));

if (process.argv.includes('--no-sharp-cache')) sharp.cache(false);
const seeds = await makeSeeds();
const embedder = await PhotoEmbedder.load();
const inputs = [...fixedCases(seeds, rand)];
const t0 = performance.now();
const rss: number[] = [mib()];
const byKind: Record<string, { n: number; scanRefused: number; prepRefused: number }> = {};
const families: Record<string, number> = {};
const problems: Array<{ name: string; problem: string }> = [];
let slowest = { name: '', ms: 0 };
let peak = 0;
for (let i = 0; i < COUNT; i++) {
  const inp = i < inputs.length ? inputs[i] : mutate(seeds, rand, i);
  const o = await runOne(inp, join(dir, 'thumbs'), embedder);
  const k = (byKind[o.kind] ??= { n: 0, scanRefused: 0, prepRefused: 0 });
  k.n++;
  if (!o.scan.ok) k.scanRefused++;
  if (!o.preprocess.ok) k.prepRefused++;
  const fam = reasonFamily(o.scan.reason);
  families[fam] = (families[fam] ?? 0) + 1;
  if (o.problem) problems.push({ name: o.name, problem: o.problem });
  if (o.ms > slowest.ms) slowest = { name: o.name, ms: Math.round(o.ms) };
  peak = Math.max(peak, mib());
  if ((i + 1) % 250 === 0) {
    rss.push(mib());
    process.stderr.write(`${i + 1}/${COUNT} rss ${mib()} MiB, problems ${problems.length}\n`);
  }
}
await embedder.release();
rmSync(dir, { recursive: true, force: true });
const seconds = (performance.now() - t0) / 1000;
const report = {
  count: COUNT, seed: SEED, seconds: Math.round(seconds), perSecond: Math.round(COUNT / seconds),
  problems: problems.length, problemList: problems.slice(0, 20), slowest,
  rssMiB: { start: rss[0], afterWarmup: rss[1] ?? rss[0], end: mib(), peak, samples: rss },
  byKind, reasonFamilies: Object.fromEntries(Object.entries(families).sort((a, b) => b[1] - a[1])),
};
const text = JSON.stringify(report, null, 2);
process.stdout.write(text + '\n');
if (outIdx > 0) writeFileSync(process.argv[outIdx + 1], text + '\n');
process.exitCode = problems.length ? 1 : 0;
