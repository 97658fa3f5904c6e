/**
 * Near-duplicates on faces-london (30 people x 2, one studio background) + photos-flowers (200) with 12 sharp-made copy
 * sets (re-encoded q60, resized to 3/4, cropped 3% per side), photo model: complete linkage (ours now) against single
 * linkage (union-find over the same kNN pairs, what near-duplicates did before) at several thresholds.
 *   npx tsx bench/neardup.mts
 */
import { join } from 'node:path';
import os from 'node:os';
import { knnExact } from '../src-main/algo/knn.ts';
import { normalizeRows } from '../src-main/algo/linalg.ts';
import { nearDuplicateGroups, singleLinkageGroups } from '../src-main/algo/neardup.ts';
import { loadMatrix } from '../src-main/core/store/embeddings.ts';
import { CoreService } from '../src-main/core/service.ts';
import { tempDir } from '../src-main/testing/fixtures.ts';
import { makeDupFixture } from '../src-main/testing/neardup-data.ts';

const t = tempDir();
const fx = await makeDupFixture(t.dir);
const svc = CoreService.open(join(t.dir, 'lib.constellate'));
await svc.addRoots({ paths: [fx.london, fx.flowers] });
await svc.jobs.wait((await svc.scan()).id);
await svc.jobs.wait((await svc.embed({ model: 'photo' })).id);
const m = loadMatrix(svc.lib.db, 'photo');
const Xn = normalizeRows(m.X, m.n, m.d);
const pathOf = new Map((svc.lib.db.prepare('SELECT id, path FROM photos').raw().all() as Array<[number, string]>));
const paths = Array.from(m.ids, (id) => pathOf.get(id)!);
const person = (p: string) => /\/london\/(person-\d+)\//.exec(p)?.[1] ?? null;
const k = 20;
const r = await knnExact(Xn, m.n, m.d, k, { metric: 'cosine' });
const cand = { indices: r.indices, sims: Float32Array.from(r.distances, (x) => 1 - x), k };
const rows: string[] = [];
rows.push(`| threshold | linkage | groups | largest | lowest true min sim | pairs below threshold | London groups mixing people (max people) | copy sets whole (of 12) | ms |`);
rows.push('|---|---|---|---|---|---|---|---|---|');
for (const th of [0.8, 0.85, 0.9, 0.95, 0.98]) {
  for (const linkage of ['single', 'complete'] as const) {
    const t0 = performance.now();
    const gs = linkage === 'single' ? singleLinkageGroups(Xn, m.n, m.d, cand, th) : nearDuplicateGroups(Xn, m.n, m.d, cand, th);
    const ms = performance.now() - t0;
    let below = 0;
    for (const g of gs) for (let a = 0; a < g.rows.length; a++) for (let b = a + 1; b < g.rows.length; b++) {
      let s = 0; for (let q = 0; q < m.d; q++) s += Xn[g.rows[a] * m.d + q] * Xn[g.rows[b] * m.d + q];
      if (s < th) below++;
    }
    let mixed = 0, maxPeople = 0;
    for (const g of gs) {
      const ps = new Set(g.rows.map((i) => person(paths[i])).filter((x) => x));
      if (ps.size > 1) { mixed++; maxPeople = Math.max(maxPeople, ps.size); }
    }
    let whole = 0;
    for (const [orig, copies] of fx.copies) {
      const g = gs.find((x) => x.rows.some((i) => paths[i] === orig));
      if (g && copies.every((c) => g.rows.some((i) => paths[i] === c))) whole++;
    }
    rows.push(`| ${th} | ${linkage} | ${gs.length} | ${Math.max(0, ...gs.map((g) => g.rows.length))} | ${Math.min(...gs.map((g) => g.minSim)).toFixed(3)} | ${below} | ${mixed}${mixed ? ` (${maxPeople})` : ''} | ${whole} | ${ms.toFixed(0)} |`);
  }
}
const t0 = performance.now();
const api = await svc.nearDuplicates({ model: 'photo', threshold: 0.95 });
const apiMs = performance.now() - t0;
console.log(`n=${m.n} photos (${fx.copies.size * 3} copies), d=${m.d}, kNN k=${k}; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
console.log(rows.join('\n'));
console.log(`nearDuplicates API at 0.95 (kNN in a worker + groups + keep rule with sharpness of every member): ${api.length} groups in ${apiMs.toFixed(0)} ms`);
// the keep rule on each copy set: is the original kept?
let kept = 0;
const idByPath = new Map([...pathOf].map(([id, p]) => [p, id]));
for (const [orig, copies] of fx.copies) {
  const c = await svc.compareItems({ kind: 'photo', ids: [orig, ...copies].map((p) => idByPath.get(p)!) });
  if (c.best === idByPath.get(orig)) kept++;
  const o = c.items[0], re = c.items[1];
  console.log(`${orig.split('/').slice(-2).join('/')}: re-encoded sharpness ${((re.sharpness! / o.sharpness! - 1) * 100).toFixed(1)}% vs original, bytes ${re.bytes} vs ${o.bytes}; kept ${c.items.findIndex((x) => x.item === c.best) === 0 ? 'original' : 'a copy'}`);
}
console.log(`keep rule: original kept in ${kept} of ${fx.copies.size} copy sets`);
await svc.close();
t.cleanup();
