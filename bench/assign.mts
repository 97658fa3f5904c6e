/**
 * `assign` at scale (issue 18): a run of 20,000 items in 1,000 named groups (synthetic 512-d vectors: group centres
 * plus noise, like face embeddings of one person), then 1,000 new items (900 of known groups, 100 of new people) are
 * embedded (inserted) and assigned through the AppApi. Times the whole call (reading prototypes and new vectors,
 * scoring, the undoable edit with group sync), then undo, three times; and checks what was placed.
 * Reports every call, the minimum and the median (the minimum is the least disturbed by other load on the machine).
 *   npx tsx bench/assign.mts [--n 20000] [--groups 1000] [--new 1000] [--reps 7] [--out bench/results/assign.json]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRng } from '../src-main/algo/rng.ts';
import { syncRunGroups } from '../src-main/core/curation/groups.ts';
import { syntheticRun } from './lib/synthetic-run.mts';
import { CoreService } from '../src-main/core/service.ts';

const opt = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const N = Number(opt('n', '20000')), G = Number(opt('groups', '1000')), NEW = Number(opt('new', '1000')), REPS = Number(opt('reps', '7'));
const out = opt('out', 'bench/results/assign.json');
const d = 512;
const rng = createRng(7);
const centre = (k: number) => { const c = new Float32Array(d); for (let j = 0; j < d; j++) c[j] = rng.normal(); void k; return c; };
const centres = Array.from({ length: G + 100 }, (_, k) => centre(k));
// an item of group g: its centre plus noise (cosine to the centre about 0.7, between two items of a group about 0.5)
const item = (g: number) => { const v = new Float32Array(d); const c = centres[g]; for (let j = 0; j < d; j++) v[j] = c[j] + 1.0 * rng.normal(); return v; };

const dir = mkdtempSync(join(tmpdir(), 'bench-assign-'));
const file = join(dir, 'assign.constellate');
const { lib, runId } = syntheticRun(file, N, G, d, item);
lib.db.prepare(`UPDATE clusters SET name = 'person-' || cluster WHERE run_id = ?`).run(runId);
syncRunGroups(lib.db, runId);
// the new items, embedded after the run
const newTruth = new Int32Array(NEW);
lib.db.transaction(() => {
  const root = lib.db.prepare('SELECT id FROM roots').pluck().get() as number;
  const ph = lib.db.prepare(`INSERT INTO photos (root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format, added_at, updated_at)
    VALUES (?, ?, ?, ?, 1000, ?, ?, 64, 64, 'jpeg', ?, ?)`);
  const em = lib.db.prepare(`INSERT INTO embeddings (model, item_id, version, vec) VALUES ('bench', ?, '1', ?)`);
  const t = Date.now();
  for (let i = 0; i < NEW; i++) {
    const g = i < NEW * 0.9 ? (i * 7) % G : G + (i % 100);
    newTruth[i] = g;
    const v = item(g);
    const id = Number(ph.run(root, `/bench/new/g${g}/${i}.jpg`, `g${g}/${i}.jpg`, `g${g}`, t, `n${i}`, t, t).lastInsertRowid);
    em.run(id, Buffer.from(v.buffer, v.byteOffset, d * 4));
  }
})();
lib.close();

const svc = CoreService.open(file);
const times: number[] = [];
const parts: unknown[] = [];
let last = null as Awaited<ReturnType<CoreService['assign']>> | null;
for (let rep = 0; rep < REPS; rep++) {
  const t0 = performance.now();
  last = await svc.assign({ runId, threshold: 0.4 });
  times.push(performance.now() - t0);
  parts.push(last.timings);
  if (rep < REPS - 1) await svc.undo({ runId });
}
const sorted = [...times].sort((a, b) => a - b);
// what was placed: new items of known groups in their group, of new people nowhere
const rows = svc.lib.db.prepare(`SELECT p.folder, a.cluster FROM assignments a JOIN photos p ON p.id = a.item_id WHERE a.run_id = ? AND p.path LIKE '/bench/new/%'`).all(runId) as Array<{ folder: string; cluster: number }>;
let right = 0, wrong = 0, unknownPlaced = 0, knownNew = 0;
for (const r of rows) {
  const g = Number(r.folder.slice(1));
  if (g >= G) { if (r.cluster >= 0) unknownPlaced++; continue; }
  knownNew++;
  if (r.cluster === g) right++; else if (r.cluster >= 0) wrong++;
}
const result = {
  n: N, groups: G, new: NEW, d, load: loadavg().map((x) => Math.round(x * 100) / 100),
  ms: times.map((x) => Math.round(x)), minMs: Math.round(sorted[0]), medianMs: Math.round(sorted[sorted.length >> 1]),
  partsOfMin: parts[times.indexOf(sorted[0])], parts, assigned: last!.assigned, unassigned: last!.unassigned,
  precision: right / Math.max(1, right + wrong), recall: right / knownNew, unknownPlaced,
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
await svc.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
