/**
 * Benchmark: end-to-end embedding (the embed job: read, decode, preprocess, infer, store in SQLite, in one worker per
 * core) against the limit measured in the same run (session runs on pre-made inputs, same number of workers).
 *   npx tsx bench/embed.mts      -> prints a table, writes bench/results/embed.md
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { embedJob } from '../src-main/core/embed/embed-job.ts';
import { Library } from '../src-main/core/library.ts';
import { MODELS_DIR } from '../src-main/core/paths.ts';
import { scanRoots } from '../src-main/core/scan/scanner.ts';
import { SHARED, testContext } from '../src-main/testing/fixtures.ts';
import { runTask, workerCount } from '../src-main/core/workers/pool.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = resolve(SHARED, 'data');
const W = workerCount();

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p)); else if (/\.jpe?g$/i.test(e.name)) out.push(p);
  }
  return out;
}

async function limit(model: 'photo' | 'face', all: string[]): Promise<{ perSec: number; facesPerSec: number }> {
  const chunks = Array.from({ length: W }, (_, w) => all.filter((_, i) => i % W === w));
  const rs = await Promise.all(chunks.map((c) => runTask('embedLimit', { model, modelsDir: MODELS_DIR, files: c })));
  const images = rs.reduce((a, r) => a + r.images, 0), faces = rs.reduce((a, r) => a + r.faces, 0);
  const ms = Math.max(...rs.map((r) => r.ms));
  return { perSec: (images / ms) * 1000, facesPerSec: (faces / ms) * 1000 };
}

async function endToEnd(model: 'photo' | 'face', folder: string): Promise<{ perSec: number; facesPerSec: number; n: number; rssMb: number; steady: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-embed-'));
  const lib = Library.open(join(dir, 'b.constellate'));
  await scanRoots(lib, [lib.addRoot(folder).id], testContext());
  // steady state: from the first photo done to the last, leaving out starting the workers and loading the models
  let t1 = 0, d1 = 0, t2 = 0, d2 = 0;
  const r = await embedJob(lib, { model }, testContext((_s, done) => {
    const now = performance.now();
    if (done > 0 && t1 === 0) { t1 = now; d1 = done; }
    if (done > d2) { t2 = now; d2 = done; }
  }));
  const steady = t2 > t1 ? ((d2 - d1) / (t2 - t1)) * 1000 : NaN;
  const rss = process.memoryUsage().rss / 2 ** 20;
  lib.close();
  rmSync(dir, { recursive: true, force: true });
  return { perSec: r.processed / r.seconds, facesPerSec: r.faces / r.seconds, n: r.processed, rssMb: rss, steady };
}

const rows: string[] = [];
for (const [model, folder] of [['photo', join(shared, 'photos-flowers')], ['face', join(shared, 'faces-london')]] as const) {
  const lim = await limit(model, files(folder));
  const e2e = await endToEnd(model, folder);
  const unit = model === 'face' ? 'photos/s (faces/s)' : 'photos/s';
  const show = (x: { perSec: number; facesPerSec: number }) => model === 'face' ? `${x.perSec.toFixed(2)} (${x.facesPerSec.toFixed(2)})` : x.perSec.toFixed(2);
  rows.push(`| ${model} | ${folder.split('/').pop()} (${e2e.n}) | ${unit} | ${show(e2e)} | ${e2e.steady.toFixed(2)} | ${show(lim)} | **${(e2e.perSec / lim.perSec).toFixed(2)}** | **${(e2e.steady / lim.perSec).toFixed(2)}** | ${e2e.rssMb.toFixed(0)} |`);
  console.log(rows.at(-1));
}
const md = [
  `### Embedding throughput (${new Date().toISOString().slice(0, 10)}, ${W} workers x 1 intra-op thread, ${process.version})`, '',
  '| model | set (photos) | unit | end-to-end job (whole job) | job, steady state (photos/s) | limit: session runs on pre-made inputs | ratio (whole job) | ratio (steady) | RSS MB (main) |',
  '|---|---|---|---|---|---|---|---|---|', ...rows, '',
  'Whole job includes starting the workers and loading the models (1-2 s, a large share on 60-200 photos); steady state counts from the first photo done to the last. The limit leaves decoding out, which on 2 cores competes with inference for the same cores.', '',
].join('\n');
console.log(md);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/embed.md'), md);
