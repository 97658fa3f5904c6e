/**
 * The workbench at scale: a face library of 100,000 faces in 2,000 named people (50 faces each, 512-d vectors around
 * one centre per person; 2 faces of each person left as noise for the suggestion queues), and the calls People, Review and the
 * "move to" picker make, timed through the service as the app calls it: the people list (by size, by name, a search),
 * the picker's groups (getClusters), a person's first page of faces, its suggestion queue, Review's queue, and an edit
 * (move 10 faces) to its 'run' event. Medians and worst of --repeat runs, with the load average beside each.
 *   npx tsx bench/workbench-scale.mts [--faces 100000] [--people 2000] [--repeat 5] [--out bench/results/workbench-scale.md]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { postprocess } from '../src-main/algo/cluster/postprocess.ts';
import { storeRun } from '../src-main/core/cluster/runs.ts';
import { Library } from '../src-main/core/library.ts';
import { CoreService } from '../src-main/core/service.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : dflt; };
const N = Number(opt('faces', '100000')), P = Number(opt('people', '2000')), R = Number(opt('repeat', '5'));
const out = opt('out', 'bench/results/workbench-scale.md');
const d = 512;
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');

/** A deterministic generator (no Math.random in benches). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

function build(file: string): { runId: number; build: number } {
  const t0 = performance.now();
  const lib = Library.open(file);
  const r = rng(7);
  const centres = new Float32Array(P * d);
  for (let i = 0; i < centres.length; i++) centres[i] = r() - 0.5;
  const X = new Float32Array(N * d);
  const truth = new Int32Array(N), ids = new Int32Array(N);
  const now = Date.now() - 60_000;
  lib.db.transaction(() => {
    const root = Number(lib.db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?)').run('/bench/faces', now).lastInsertRowid);
    const ph = lib.db.prepare(`INSERT INTO photos (root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format, added_at, updated_at)
      VALUES (?, ?, ?, 'faces', 1000, ?, ?, 256, 256, 'jpeg', ?, ?)`);
    const fa = lib.db.prepare(`INSERT INTO faces (photo_id, detector, x, y, w, h, score, created_at) VALUES (?, 'bench', 10, 10, 100, 100, 0.9, ?)`);
    lib.db.prepare(`INSERT INTO models (name, kind, dim, version, source) VALUES ('bench-face', 'face', ?, '1', 'imported')`).run(d);
    const em = lib.db.prepare(`INSERT INTO embeddings (model, item_id, version, vec) VALUES ('bench-face', ?, '1', ?)`);
    for (let i = 0; i < N; i++) {
      const g = i % P;
      const v = X.subarray(i * d, (i + 1) * d);
      for (let j = 0; j < d; j++) v[j] = centres[g * d + j] + (r() - 0.5) * 0.35;
      truth[i] = Math.floor(i / P) % 20 === 19 ? -1 : g; // 2 faces of each person as noise (4%): what the suggestion queues offer
      const photo = Number(ph.run(root, `/bench/faces/${i}.jpg`, `${i}.jpg`, now, `h${i}`, now, now).lastInsertRowid);
      ids[i] = Number(fa.run(photo, now).lastInsertRowid);
      em.run(ids[i], Buffer.from(v.buffer, v.byteOffset, d * 4));
    }
  })();
  const pp = postprocess(X, N, d, truth);
  const runId = storeRun(lib.db, {
    model: 'bench-face', kind: 'face', params: { algo: 'hdbscan', minClusterSize: 5 }, ids,
    out: { labels: pp.labels, rawLabels: truth, probabilities: null, outlierScores: null, stats: pp.stats, report: pp.report, metrics: { clusters: P, noise: truth.filter((x) => x < 0).length, noiseShare: truth.filter((x) => x < 0).length / N }, timings: {}, record: { synthetic: true }, encoder: null, loss: null } as never,
  });
  lib.close();
  return { runId, build: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-workbench-scale-'));
  try {
    const file = join(dir, 'scale.constellate');
    const b = build(file);
    console.log(`built ${N.toLocaleString('en')} faces in ${P.toLocaleString('en')} people in ${b.build.toFixed(1)} s (load ${load()})`);
    const svc = CoreService.open(file);
    const runId = b.runId;
    const clusters = (await svc.getClusters({ runId })).filter((c) => c.cluster >= 0).map((c) => c.cluster);
    // every person named, as after a labeling session (one undoable edit each: the History a long day leaves)
    for (const c of clusters) await svc.editRun({ runId, op: { type: 'rename', cluster: c, name: `Person ${String(c).padStart(4, '0')}` } });
    const rows: Array<{ what: string; ms: number[]; size: string; load: string }> = [];
    async function time(what: string, f: (i: number) => Promise<unknown>, size: (v: unknown) => string): Promise<void> {
      const ms: number[] = [];
      let last: unknown;
      for (let i = 0; i < R; i++) { const t0 = performance.now(); last = await f(i); ms.push(performance.now() - t0); }
      rows.push({ what, ms, size: size(last), load: load() });
      const s = [...ms].sort((a, z) => a - z);
      console.log(`${what}: median ${s[Math.floor(s.length / 2)].toFixed(0)} ms, worst ${s[s.length - 1].toFixed(0)} ms (${size(last)}; load ${load()})`);
    }
    const len = (v: unknown) => `${(v as unknown[]).length.toLocaleString('en')} rows`;
    await time('People: list by size', () => svc.listPeople({ runId, sort: 'size' }), len);
    await time('People: list by name', () => svc.listPeople({ runId, sort: 'name' }), len);
    const q = `person ${String(clusters[clusters.length >> 1]).padStart(4, '0').slice(0, 3)}`;
    await time(`People: search "${q}"`, () => svc.listPeople({ runId, search: q }), len);
    await time('Move to picker: getClusters', () => svc.getClusters({ runId }), len);
    await time('Person: first page of faces', (i) => svc.getClusterMembers({ runId, cluster: clusters[i * 37 % clusters.length], limit: 120 }), (v) => `${(v as { items: unknown[] }).items.length} of ${(v as { total: number }).total}`);
    await time('Person: suggestion queue', (i) => svc.getSuggestions({ runId, cluster: clusters[i * 53 % clusters.length] }), (v) => `${(v as { suggestions: unknown[]; candidates: number }).suggestions.length} suggestions of ${(v as { candidates: number }).candidates.toLocaleString('en')} candidates`);
    await time('Review: queue (first 200)', () => svc.getReviewQueue({ runId, limit: 200 }), (v) => `${(v as { items: unknown[] }).items.length} of ${(v as { total: number }).total}`);
    // an edit to its run event (what the views wait for to redraw)
    await time('Edit: move 10 faces to another person, to the run event', async (i) => {
      const from = clusters[(i * 11) % clusters.length], to = clusters[(i * 11 + 1) % clusters.length];
      const items = (await svc.getClusterMembers({ runId, cluster: from, limit: 10 })).items.map((it) => it.item);
      const seen = new Promise<void>((ok) => { const off = svc.onEvent((e) => { if (e.type === 'run' && e.runId === runId) { off(); ok(); } }); });
      await svc.editRun({ runId, op: { type: 'move', items, to } });
      await seen;
    }, () => '10 faces');
    await svc.close();
    const lines = [
      `## Workbench at scale: ${N.toLocaleString('en')} faces, ${P.toLocaleString('en')} named people (${new Date().toISOString().slice(0, 10)})`, '',
      `Built in ${b.build.toFixed(1)} s. Calls through the service (as the app's door calls them), ${R} repeats each.`, '',
      '| call | median ms | worst ms | answer | load (1/5/15 min) |', '|---|---|---|---|---|',
      ...rows.map((r) => { const s = [...r.ms].sort((a, z) => a - z); return `| ${r.what} | ${s[Math.floor(s.length / 2)].toFixed(0)} | ${s[s.length - 1].toFixed(0)} | ${r.size} | ${r.load} |`; }),
    ];
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, lines.join('\n') + '\n');
    console.log(lines.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
