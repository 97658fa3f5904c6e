/**
 * `similar` on the warm worker pool, at 20,000 items: the first call (starts a worker, loads its MatMul session, makes
 * the normalized matrix), then warm calls one after another (latency of the whole AppApi call: job row, worker task,
 * item views), then a burst of 64 concurrent calls while getInfo is probed every 10 ms (worst getInfo latency, peak
 * RSS of the process, threads used). For comparison, the task body as it was before the pool, run in this process on
 * the same matrix (normalize a copy, transpose, knnQuery through a fresh ORT session), whose cost every call paid.
 * The library is synthetic: 20,000 photo rows (no files) with the c1 matrix (18,969 x 512 face embeddings) plus
 * 1,031 of its rows with noise.
 *   npx tsx bench/similar.mts [--n 20000] [--calls 50] [--burst 64] [--out bench/results/similar.md]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { knnQuery } from '../src-main/algo/knn.ts';
import { normalizeRows } from '../src-main/algo/linalg.ts';
import { createRng } from '../src-main/algo/rng.ts';
import { createOrtGemm } from '../src-main/core/gemm-ort.ts';
import { Library } from '../src-main/core/library.ts';
import { readNpyMatrix } from '../src-main/core/npy-file.ts';
import { CoreService } from '../src-main/core/service.ts';
import { sharedPath } from '../src-main/testing/fixtures.ts';
import { defaultPool, workerCount } from '../src-main/core/workers/pool.ts';

const opt = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const N = Number(opt('n', '20000')), CALLS = Number(opt('calls', '50')), BURST = Number(opt('burst', '64'));
const out = opt('out', 'bench/results/similar.md');
const mib = () => process.memoryUsage().rss / 2 ** 20;

const M = readNpyMatrix(sharedPath('data/matrices/c1_18969x512_X.npy'));
const d = M.cols;
const X = new Float32Array(N * d);
const rng = createRng(1);
for (let i = 0; i < N; i++) {
  const src = i < M.rows ? i : Math.floor(rng.next() * M.rows);
  for (let j = 0; j < d; j++) X[i * d + j] = M.data[src * d + j] + (i < M.rows ? 0 : 0.05 * rng.normal());
}

const dir = mkdtempSync(join(tmpdir(), 'bench-similar-'));
const file = join(dir, 'similar.constellate');
{
  const lib = Library.open(file);
  const now = Date.now();
  lib.db.transaction(() => {
    const root = Number(lib.db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?)').run('/bench/photos', now).lastInsertRowid);
    const ph = lib.db.prepare(`INSERT INTO photos (root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format, added_at, updated_at)
      VALUES (?, ?, ?, ?, 1000, ?, ?, 64, 64, 'jpeg', ?, ?)`);
    lib.db.prepare(`INSERT INTO models (name, kind, dim, version, source) VALUES ('bench', 'photo', ?, '1', 'import')`).run(d);
    const em = lib.db.prepare(`INSERT INTO embeddings (model, item_id, version, vec) VALUES ('bench', ?, '1', ?)`);
    for (let i = 0; i < N; i++) {
      const id = Number(ph.run(root, `/bench/photos/g${i % 100}/${i}.jpg`, `g${i % 100}/${i}.jpg`, `g${i % 100}`, now, `h${i}`, now, now).lastInsertRowid);
      em.run(id, Buffer.from(X.buffer, i * d * 4, d * 4));
    }
  })();
  lib.close();
}

const svc = CoreService.open(file);
const ids = (svc.lib.db.prepare('SELECT id FROM photos ORDER BY id').pluck().all() as number[]);
const pick = (t: number) => ids[(t * 7919) % ids.length];
const rss0 = mib();

let t0 = performance.now();
await svc.similar({ model: 'bench', item: { kind: 'photo', id: pick(0) }, k: 24 });
const first = performance.now() - t0;

const warm: number[] = [];
for (let t = 1; t <= CALLS; t++) {
  t0 = performance.now();
  const r = await svc.similar({ model: 'bench', item: { kind: 'photo', id: pick(t) }, k: 24 });
  warm.push(performance.now() - t0);
  if (r.length !== 24) throw new Error(`similar gave ${r.length} items`);
}
warm.sort((a, b) => a - b);
const q = (p: number) => warm[Math.min(warm.length - 1, Math.floor(p * warm.length))];

// getInfo alone (its own cost: it counts the library's rows), for the figure under load below
const idle: number[] = [];
for (let t = 0; t < 5; t++) { t0 = performance.now(); await svc.getInfo(); idle.push(performance.now() - t0); }
idle.sort((a, b) => a - b);

// bursts of concurrent calls, with getInfo probed meanwhile: the first also starts the pool's other workers, the
// second finds them warm
async function burst(offset: number) {
  const rssBefore = mib();
  let peak = rssBefore, worstInfo = 0, infos = 0, running = true;
  const sampler = setInterval(() => { peak = Math.max(peak, mib()); }, 20);
  const prober = (async () => {
    while (running) {
      const s = performance.now();
      await svc.getInfo();
      worstInfo = Math.max(worstInfo, performance.now() - s);
      infos++;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const t1 = performance.now();
  await Promise.all(Array.from({ length: BURST }, (_, t) => svc.similar({ model: 'bench', item: { kind: 'photo', id: pick(offset + t) }, k: 24 })));
  const ms = performance.now() - t1;
  running = false;
  await prober;
  clearInterval(sampler);
  return { ms, rssBefore, peak, worstInfo, infos };
}
const b1 = await burst(1000);
const b2 = await burst(2000);
const pool = defaultPool().stats();

// the task body as it was: a normalized copy, a transpose inside knnQuery, a fresh ORT session per call
const old: number[] = [];
for (let t = 0; t < 5; t++) {
  t0 = performance.now();
  const gemm = await createOrtGemm(workerCount());
  const Xn = normalizeRows(X, N, d);
  const row = (t * 7919) % N;
  await knnQuery(Xn, N, Xn.subarray(row * d, (row + 1) * d), 1, d, 25, { metric: 'cosine', gemm });
  await gemm.release();
  old.push(performance.now() - t0);
}
old.sort((a, b) => a - b);

await svc.close();
rmSync(dir, { recursive: true, force: true });

const f = (x: number) => x.toFixed(1);
const md = `### Warm \`similar\` at ${N.toLocaleString('en')} items (${new Date().toISOString()})

\`npx tsx bench/similar.mts\` (${N.toLocaleString('en')} x ${d}: the c1 face matrix plus ${Math.max(0, N - M.rows)} noisy copies of its rows; synthetic photo rows; 2 cores shared, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}). Whole AppApi call (read job row, pooled worker task, item views), k = 24.

| measure | value |
|---|---|
| first call (starts a worker, MatMul session, normalized matrix) | ${f(first)} ms |
| warm call, ${CALLS} in a row: median / p95 / max | ${f(q(0.5))} / ${f(q(0.95))} / ${f(warm[warm.length - 1])} ms |
| the old task body per call (normalize copy + transpose + kNN, fresh ORT session), in-process, median of 5 | ${f(old[2])} ms (ratio warm/old ${(q(0.5) / old[2]).toFixed(2)}) |
| ${BURST} concurrent calls, first burst (starts the other workers) / second burst (all warm): wall | ${f(b1.ms)} / ${f(b2.ms)} ms |
| worker threads (created / max) | ${pool.created} / ${pool.maxThreads} |
| RSS before -> peak, first burst / second burst | ${b1.rssBefore.toFixed(0)} -> ${b1.peak.toFixed(0)} MB / ${b2.rssBefore.toFixed(0)} -> ${b2.peak.toFixed(0)} MB (${rss0.toFixed(0)} MB after loading the library) |
| getInfo during the bursts: worst, first / second | ${f(b1.worstInfo)} ms (${b1.infos} calls) / ${f(b2.worstInfo)} ms (${b2.infos} calls); alone, before: median ${f(idle[2])} ms |
`;
process.stdout.write(md);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, md);
