/**
 * How long `learn` takes and how fast a queue answers after it, on N made-up items (tiny distinct images) carrying rows
 * of the c1 matrix (512-d, or mapped to --dim D by a seeded random projection, e.g. 1792 as the photo model's): a
 * k-means run, then a tenth of the items moved to their group's cluster (explicit decisions) and a few rejections.
 * Prints JSON: the first learn (with its PCA start and every item's scores under it), a second and a third (both kept), wall and
 * CPU seconds, the first queue after learning (the
 * index rebuilt in the learned metric) and the next ones; the load average beside them.
 * --nuisance S: each row also gets strong made-up variation along 16 seeded random directions (S times the rows' own
 *   spread along each), which the model's cosine mixes groups by and a learned map can drop: a metric that is used, so
 *   that re-clustering in it (the groups' clusters named, then the edit 'recluster') is timed too.
 *   node --import tsx bench/learn-speed.mts [N=3000] [--dim D] [--nuisance S]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { checkedApi } from '../src-main/common/dispatch.ts';
import { createRng } from '../src-main/algo/rng.ts';
import { writeNpy } from '../src-main/core/npy-file.ts';
import { CoreService } from '../src-main/core/service.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.CONSTELLATE_SHARED ?? resolve(root, '../shared');
const argv = process.argv.slice(2);
const N = Number(argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--dim' && argv[i - 1] !== '--nuisance') ?? 3000);
const nuisAt = argv.indexOf('--nuisance');
const NUISANCE = nuisAt >= 0 ? Number(argv[nuisAt + 1]) : 0;
const dimAt = argv.indexOf('--dim');
const DIM = dimAt >= 0 ? Number(argv[dimAt + 1]) : 512;

function readNpy(path: string): { data: ArrayBuffer; shape: number[]; f32: boolean } {
  const b = readFileSync(path);
  const hl = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + hl).toString('latin1');
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  const bytes = b.subarray(10 + hl);
  return { data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), shape, f32: header.includes('<f4') };
}

const dir = mkdtempSync(join(tmpdir(), 'bench-learn-'));
const load = () => loadavg().map((x) => Math.round(x * 100) / 100);
try {
  const Xr = readNpy(join(shared, 'data/matrices/c1_18969x512_X.npy')), yr = readNpy(join(shared, 'data/matrices/c1_18969x512_y.npy'));
  const X0 = new Float32Array(Xr.data), y0 = new Int32Array(yr.data), d0 = Xr.shape[1];
  const rng = createRng(3);
  const pick = Array.from({ length: y0.length }, (_, i) => i);
  for (let i = pick.length - 1; i > 0; i--) { const j = rng.int(i + 1); [pick[i], pick[j]] = [pick[j], pick[i]]; }
  const rows = pick.slice(0, N);
  const P = DIM === d0 ? null : Float32Array.from({ length: d0 * DIM }, () => rng.normal() / Math.sqrt(DIM));
  const X = new Float32Array(N * DIM);
  rows.forEach((r, t) => {
    if (!P) { X.set(X0.subarray(r * d0, (r + 1) * d0), t * DIM); return; }
    for (let a = 0; a < d0; a++) { const v = X0[r * d0 + a]; if (v === 0) continue; for (let b = 0; b < DIM; b++) X[t * DIM + b] += v * P[a * DIM + b]; }
  });
  if (NUISANCE > 0) {
    // the rows' spread (root mean square of a coordinate), then 16 random unit directions with S times it along each
    let ss = 0; for (let i = 0; i < X.length; i++) ss += X[i] * X[i];
    const sd = Math.sqrt(ss / X.length) * Math.sqrt(DIM);
    const dirs = Array.from({ length: 16 }, () => { const v = Float32Array.from({ length: DIM }, () => rng.normal()); const nv = Math.hypot(...v); return v.map((x) => x / nv); });
    for (let t = 0; t < N; t++) for (const v of dirs) { const a = rng.normal() * NUISANCE * sd; for (let b = 0; b < DIM; b++) X[t * DIM + b] += a * v[b]; }
  }
  const tree = join(dir, 'items');
  mkdirSync(tree, { recursive: true });
  const paths: string[] = [];
  for (let t = 0; t < N; t++) {
    const p = join(tree, `i${t}.png`);
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: t & 255, g: (t >> 8) & 255, b: 99 } } }).png().toFile(p);
    paths.push(p);
  }
  writeNpy(join(dir, 'X.npy'), X, [N, DIM]);
  writeFileSync(join(dir, 'ids.csv'), 'path\n' + paths.map((p) => `"${p}"`).join('\n') + '\n');
  const svc = CoreService.open(join(dir, 'speed.constellate'));
  const api = checkedApi(svc);
  const [rootRow] = await api.addRoots({ paths: [tree] });
  await api.waitJob({ id: (await api.scan({ rootIds: [rootRow.id] })).id });
  await api.importEmbeddings({ npy: join(dir, 'X.npy'), ids: join(dir, 'ids.csv'), model: 'mine' });
  const job = await api.waitJob({ id: (await api.cluster({ model: 'mine', params: { algo: 'kmeans', k: 100, seed: 1 } })).id, timeoutMs: 600_000 });
  if (job.state !== 'done') throw new Error(`cluster: ${JSON.stringify(job.error)}`);
  const runId = (await api.listRuns())[0].id;
  const idOf = new Map((await api.listPhotos({ limit: 100_000 })).items.map((p) => [p.path, p.id]));
  const truth = new Map(paths.map((p, t) => [idOf.get(p)!, y0[rows[t]]]));
  // each true group goes to the cluster holding most of it; a tenth of the items are moved there explicitly
  const { ids, clusters } = await api.getAssignments({ runId });
  const votes = new Map<number, Map<number, number>>();
  ids.forEach((it, i) => { const g = truth.get(it)!; const m = votes.get(g) ?? new Map(); m.set(clusters[i], (m.get(clusters[i]) ?? 0) + 1); votes.set(g, m); });
  const home = new Map([...votes].map(([g, m]) => [g, [...m].sort((a, b) => b[1] - a[1])[0][0]]));
  const byTarget = new Map<number, number[]>();
  Array.from(ids).filter((_, i) => i % 10 === 0).forEach((it) => { const c = home.get(truth.get(it)!)!; const l = byTarget.get(c) ?? []; l.push(it); byTarget.set(c, l); });
  for (const [c, items] of byTarget) await api.editRun({ runId, op: { type: 'move', items, to: c } });
  // wall and CPU seconds (every thread of this process: the service, its workers), the load beside them
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const t1 = performance.now(), c1 = cpu(), l1 = load();
  const first = await api.learn({ runId });
  const learn1 = (performance.now() - t1) / 1000, cpu1 = cpu() - c1;
  const t2 = performance.now(), c2 = cpu(), l2 = load();
  const second = await api.learn({ runId });
  const learn2 = (performance.now() - t2) / 1000, cpu2 = cpu() - c2;
  const t3 = performance.now(), c3 = cpu();
  await api.learn({ runId });
  const learn3 = (performance.now() - t3) / 1000, cpu3 = cpu() - c3;
  const cl = [...byTarget.keys()].slice(0, 6);
  const q: number[] = [];
  for (const c of cl) { const t = performance.now(); await api.getSuggestions({ runId, cluster: c, limit: 200 }); q.push(Math.round(performance.now() - t)); }
  // re-clustering in the learned metric (when it is used): the groups' clusters named, then the undecided members of
  // the other clusters moved to the named group the metric gives them; wall, CPU, how many moved and how many rightly
  let recluster: Record<string, unknown> | null = null;
  if (second.used) {
    const groupOf = new Map([...home].map(([g, c]) => [c, g])); // (a name per home cluster: one of its groups)
    await api.editRun({ runId, op: { type: 'names', clusters: [...groupOf].map(([c, g]) => ({ cluster: c, name: `g${g}` })) } });
    const was = await api.getAssignments({ runId });
    const before = new Map(Array.from(was.ids, (it, i) => [it, was.clusters[i]]));
    const t4 = performance.now(), c4 = cpu(), l4 = load();
    // nothing any group's margin reaches is an answer too (CONFLICT, nothing moved), timed like a move
    const r = await api.editRun({ runId, op: { type: 'recluster' } }).catch((e: unknown) => {
      if ((e as { code?: string }).code === 'CONFLICT') return { recluster: { moved: 0, regrouped: 0 } };
      throw e;
    });
    const s4 = (performance.now() - t4) / 1000, cpu4 = cpu() - c4;
    const now = await api.getAssignments({ runId });
    let toNamed = 0, right = 0;
    // right: moved to its own group's cluster (a cluster can be the home of several small groups)
    Array.from(now.ids).forEach((it, i) => { const c = now.clusters[i]; if (before.get(it) !== c && groupOf.has(c)) { toNamed++; if (home.get(truth.get(it)!) === c) right++; } });
    recluster = { s: Math.round(s4 * 100) / 100, cpuS: Math.round(cpu4 * 100) / 100, load: l4, moved: r.recluster?.moved, regrouped: r.recluster?.regrouped, toNamed, right };
  }
  console.log(JSON.stringify({ recluster, n: N, d: DIM, nuisance: NUISANCE, decisions: first.pairs, learnFirstS: Math.round(learn1 * 100) / 100, learnFirstCpuS: Math.round(cpu1 * 100) / 100, loadFirst: l1,
    learnAgainS: Math.round(learn2 * 100) / 100, learnAgainCpuS: Math.round(cpu2 * 100) / 100, loadAgain: l2, learnThirdS: Math.round(learn3 * 100) / 100, learnThirdCpuS: Math.round(cpu3 * 100) / 100,
    heldOut: first.heldOut, before: first.before, after: first.after, used: second.used, queueMs: q, load: load() }));
  await svc.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
