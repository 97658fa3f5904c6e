/**
 * Suggestion queues at scale (issue 19): a run of 20,000 faces (synthetic 512-d vectors: person centres plus noise,
 * like face embeddings) in 1,000 people, 10% of them left as noise, plus 1,000 faces embedded after the run; the model
 * states an identity threshold (0.4). Times `getSuggestions` through the AppApi: the first call of a run state (it builds
 * the run's suggestion index: candidates, prototypes, each candidate's two best persons), then calls for 50 people on
 * the same state, then the first call after a confirm (a new state) and again warm. Checks what was suggested.
 *   npx tsx bench/suggest.mts [--n 20000] [--groups 1000] [--new 1000] [--out bench/results/suggest.json]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { postprocess } from '../src-main/algo/cluster/postprocess.ts';
import { createRng } from '../src-main/algo/rng.ts';
import { storeRun } from '../src-main/core/cluster/runs.ts';
import { syncRunGroups } from '../src-main/core/curation/groups.ts';
import { Library } from '../src-main/core/library.ts';
import { CoreService } from '../src-main/core/service.ts';

const opt = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const N = Number(opt('n', '20000')), G = Number(opt('groups', '1000')), NEW = Number(opt('new', '1000'));
const out = opt('out', 'bench/results/suggest.json');
const d = 512;
const rng = createRng(11);
const centres = Array.from({ length: G }, () => { const c = new Float32Array(d); for (let j = 0; j < d; j++) c[j] = rng.normal(); return c; });
const item = (g: number) => { const v = new Float32Array(d); const c = centres[g]; for (let j = 0; j < d; j++) v[j] = c[j] + 1.0 * rng.normal(); return v; };

const dir = mkdtempSync(join(tmpdir(), 'bench-suggest-'));
const file = join(dir, 'suggest.constellate');
const lib = Library.open(file);
const now = Date.now() - 60_000;
const X = new Float32Array(N * d);
const truth = new Int32Array(N), labels = new Int32Array(N), ids = new Int32Array(N);
const truthOf = new Map<number, number>();
const insert = (path: string, hash: string, v: Float32Array) => {
  const root = lib.db.prepare('SELECT id FROM roots').pluck().get() as number;
  const id = Number(lib.db.prepare(`INSERT INTO photos (root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format, added_at, updated_at)
    VALUES (?, ?, ?, 'f', 1000, ?, ?, 64, 64, 'jpeg', ?, ?)`).run(root, path, path.slice(1), now, hash, now, now).lastInsertRowid);
  lib.db.prepare(`INSERT INTO embeddings (model, item_id, version, vec) VALUES ('bench', ?, '1', ?)`).run(id, Buffer.from(v.buffer, v.byteOffset, d * 4));
  return id;
};
lib.db.transaction(() => {
  lib.db.prepare('INSERT INTO roots (path, added_at) VALUES (?, ?)').run('/bench', now);
  lib.db.prepare(`INSERT INTO models (name, kind, dim, version, source, info) VALUES ('bench', 'photo', ?, '1', 'manifest', ?)`)
    .run(d, JSON.stringify({ identityThreshold: { similarity: 0.4, far: 0.0001, set: 'synthetic' } }));
  for (let i = 0; i < N; i++) {
    const g = i % G;
    const v = item(g);
    X.set(v, i * d); truth[i] = g;
    labels[i] = i % 10 === 9 ? -1 : g; // 10% noise
    ids[i] = insert(`/bench/g${g}/${i}.jpg`, `h${i}`, v);
    truthOf.set(ids[i], g);
  }
  for (let i = 0; i < NEW; i++) { const g = (i * 7) % G; truthOf.set(insert(`/bench/new/g${g}/${i}.jpg`, `n${i}`, item(g)), g); }
})();
const pp = postprocess(X, N, d, labels);
const runOut = { labels: pp.labels, rawLabels: labels, probabilities: null, outlierScores: null, stats: pp.stats, report: pp.report,
  metrics: { clusters: G, noise: 0, noiseShare: 0 }, timings: {}, record: { synthetic: true }, encoder: null, loss: null };
const runId = storeRun(lib.db, { model: 'bench', kind: 'photo', params: { algo: 'dbscan', eps: 0.5 }, out: runOut as never, ids });
lib.db.prepare(`UPDATE clusters SET name = 'person-' || cluster WHERE run_id = ?`).run(runId);
syncRunGroups(lib.db, runId);
lib.close();

const svc = CoreService.open(file);
// the person each cluster holds (its members' truth)
const clusterTruth = new Map<number, number>();
for (const r of svc.lib.db.prepare('SELECT cluster, MIN(item_id) AS item FROM assignments WHERE run_id = ? AND cluster >= 0 GROUP BY cluster').all(runId) as Array<{ cluster: number; item: number }>) clusterTruth.set(r.cluster, truthOf.get(r.item)!);
const people = [...clusterTruth.keys()].sort((a, b) => a - b);
const person = (c: number) => clusterTruth.get(c);
const time = async (cluster: number) => { const t0 = performance.now(); const r = await svc.getSuggestions({ runId, cluster }); return { ms: performance.now() - t0, r }; };
const cold = await time(people[0]);
const warm: number[] = [];
let offered = 0, wrong = 0, below = 0;
for (let c = 1; c <= 50; c++) {
  const { ms, r } = await time(people[(c * 13) % people.length]);
  warm.push(ms);
  for (const s of r.suggestions) { offered++; if (truthOf.get(s.item) !== person(r.cluster)) wrong++; if (s.similarity < r.threshold) below++; }
}
// a confirm (new run state): the next call rebuilds the index
const first = (await svc.getSuggestions({ runId, cluster: people[5] })).suggestions.slice(0, 3).map((s) => s.item);
const t0 = performance.now();
await svc.confirmSuggestions({ runId, cluster: people[5], items: first });
const confirmMs = performance.now() - t0;
const afterEdit = await time(people[5]);
const afterWarm = await time(people[6]);
// a run opened the way the UI opens it: People lists the persons first (which starts the index in the background);
// the first queue asked for right away waits for what is left of the build, one asked a little later finds it ready
await svc.close();
const svc2 = CoreService.open(file);
svc2.onEvent(() => undefined); // as the UI: a listener attached
const tl = performance.now();
await svc2.listPeople({ runId });
const listMs = performance.now() - tl;
await svc2.suggestionIndex(runId);
const readyMs = performance.now() - tl;
const t3 = performance.now();
await svc2.getSuggestions({ runId, cluster: people[7] });
const afterReadyMs = performance.now() - t3;
await svc2.close();
const svc3 = CoreService.open(file);
svc3.onEvent(() => undefined);
await svc3.listPeople({ runId });
const t4 = performance.now();
await svc3.getSuggestions({ runId, cluster: people[8] });
const rightAfterListMs = performance.now() - t4;
const sorted = [...warm].sort((a, b) => a - b);
const result = {
  n: N, groups: G, new: NEW, d, candidates: cold.r.candidates, load: loadavg().map((x) => Math.round(x * 100) / 100),
  coldMs: Math.round(cold.ms), warmMs: { p50: Math.round(sorted[25]), p95: Math.round(sorted[47]), max: Math.round(sorted[49]) },
  confirmMs: Math.round(confirmMs), afterEditMs: Math.round(afterEdit.ms), afterEditWarmMs: Math.round(afterWarm.ms),
  offered, wrong, belowThreshold: below, threshold: cold.r.threshold,
  openedFromPeople: { listPeopleMs: Math.round(listMs), indexReadyMs: Math.round(readyMs), firstCallWhenReadyMs: Math.round(afterReadyMs), firstCallRightAfterListMs: Math.round(rightAfterListMs) },
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
await svc3.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
