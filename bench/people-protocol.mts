/**
 * People decisions end to end, through the AppApi of real libraries (real face model, real photos of ../shared):
 * the `people` preset, the run's identity zones, the suggestion queues, `assign` and the labeling cost.
 *
 * Per set, known people and unknown people (alternate person folders): the known people's first photos are scanned,
 * embedded and clustered with `--preset people` (preset AMI on them, largest person's share of all faces, the run's
 * zones), named from the folder tree (import-labels, as the assign protocol does); then their later photos (London:
 * a mirrored copy of the smiling photo) and every photo of the unknown people arrive and are embedded.
 * - queues: for each named person, is the first suggestion one of their own new faces (first-hit rate); how many
 *   unknown people's faces any queue offers as sure;
 * - assign: precision, recall of the known people's new faces, unknown faces placed;
 * - labeling cost: a fresh library of the whole set, `--preset people`, then ../shared/tools/labeling_oracle.py through
 *   `constellate serve` (decisions per person; the floor is 1).
 * Sets: faces-london (30 people x 2), faces-orl (40 x 10), mixed (London + ORL + photos-flowers + N photos per class
 * of photos-cifar10 in the first part; their face detections are junk, labeled by their folder for the oracle).
 *   npx tsx bench/people-protocol.mts [--sets london,orl,mixed] [--cifar 100] [--no-oracle] [--out bench/results/people-protocol.json]
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { CoreService } from '../src-main/core/service.ts';
import { sharedPath } from '../src-main/testing/fixtures.ts';

const opt = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const sets = (opt('sets') ?? 'london,orl,mixed').split(',');
const cifar = Number(opt('cifar') ?? 100);
const oracle = !process.argv.includes('--no-oracle');
const out = opt('out') ?? 'bench/results/people-protocol.json';
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const load = () => loadavg().map((x) => Math.round(x * 10) / 10).join(' ');

const IMG = /\.(jpe?g|png|pgm|bmp|webp)$/i;
const filesOf = (set: string, p: string) => readdirSync(sharedPath('data', set, p)).filter((f) => IMG.test(f)).sort((a, b) => parseInt(a) - parseInt(b) || a.localeCompare(b));
const peopleOf = (set: string) => readdirSync(sharedPath('data', set), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

/** Copies the set's photos into start/ and later/ (known = even person folders). */
async function split(set: 'faces-london' | 'faces-orl', start: string, later: string): Promise<Set<string>> {
  const unknown = new Set<string>();
  for (const [k, p] of peopleOf(set).entries()) {
    const files = filesOf(set, p);
    const known = k % 2 === 0;
    if (!known) unknown.add(p);
    for (const [i, f] of files.entries()) {
      const first = known && (set === 'faces-london' || i < files.length / 2);
      const dir = join(first ? start : later, set, p);
      mkdirSync(dir, { recursive: true });
      cpSync(sharedPath('data', set, p, f), join(dir, f));
    }
    if (known && set === 'faces-london') {
      // a later photo of a known London person: a mirrored copy of the smiling one
      const dir = join(later, set, p);
      mkdirSync(dir, { recursive: true });
      await sharp(sharedPath('data', set, p, 'smiling.jpg')).flop().toFile(join(dir, 'smiling-mirrored.jpg'));
    }
  }
  return unknown;
}

function copyJunk(dst: string): void {
  for (const [set, per] of [['photos-flowers', Infinity], ['photos-cifar10', cifar]] as const) {
    for (const c of peopleOf(set)) {
      mkdirSync(join(dst, set, c), { recursive: true });
      for (const f of filesOf(set, c).slice(0, per)) cpSync(sharedPath('data', set, c, f), join(dst, set, c, f));
    }
  }
}

async function job(svc: CoreService, j: Promise<{ id: number }>): Promise<Record<string, any>> {
  const r = await svc.waitJob({ id: (await j).id });
  if (r.state !== 'done') throw new Error(`job ${r.kind}: ${r.state} ${JSON.stringify(r.error)}`);
  return r.result as Record<string, any>;
}

const personOfPath = (p: string) => p.split('/').at(-2)!;
const setOfPath = (p: string) => p.split('/').at(-3)!;
const isPerson = (p: string) => /faces-(london|orl)$/.test(setOfPath(p));

async function protocol(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `bench-people-${name}-`));
  const start = join(dir, 'start'), later = join(dir, 'later');
  const unknown = new Set<string>();
  if (name === 'london' || name === 'mixed') for (const u of await split('faces-london', start, later)) unknown.add(`faces-london/${u}`);
  if (name === 'orl' || name === 'mixed') for (const u of await split('faces-orl', start, later)) unknown.add(`faces-orl/${u}`);
  if (name === 'mixed') copyJunk(start);
  const svc = CoreService.open(join(dir, 'p.constellate'));
  const t0 = performance.now();
  try {
    await svc.addRoots({ paths: [start] });
    await job(svc, svc.scan());
    await job(svc, svc.embed({ model: 'face' }));
    const run = await job(svc, svc.cluster({ model: 'face', params: { preset: 'people' }, labels: 'folders' }));
    const runId = run.runId as number;
    const info = await svc.getRun({ runId });
    const zones = info.record.identity as Record<string, number>;
    const clusters = await svc.getClusters({ runId });
    const faces = info.n;
    const largest = Math.max(0, ...clusters.filter((c) => c.cluster >= 0).map((c) => c.size));
    // the preset's AMI on the people's faces only (junk detections are in the run but have no person)
    const members: Array<{ item: number; path: string; cluster: number }> = [];
    for (const c of [...clusters.map((x) => x.cluster), -1]) {
      for (let off = 0; ; off += 1000) {
        const p = await svc.getClusterMembers({ runId, cluster: c, offset: off, limit: 1000 });
        members.push(...p.items.map((it) => ({ item: it.item, path: it.path, cluster: c })));
        if (p.items.length < 1000) break;
      }
    }
    const { adjustedMutualInfo } = await import('../src-main/algo/metrics.ts');
    const lab = members.filter((m) => isPerson(m.path));
    const ids = new Map<string, number>();
    const truth = lab.map((m) => { const k = `${setOfPath(m.path)}/${personOfPath(m.path)}`; if (!ids.has(k)) ids.set(k, ids.size); return ids.get(k)!; });
    const presetAmi = r4(adjustedMutualInfo(truth, lab.map((m, i) => (m.cluster < 0 ? -1 - i : m.cluster))));
    await svc.importLabels({ source: start });
    // the later photos
    await svc.addRoots({ paths: [later] });
    await job(svc, svc.scan());
    await job(svc, svc.embed({ model: 'face' }));
    const db = svc.lib.db;
    const newFaces = db.prepare(`SELECT f.id, p.path FROM faces f JOIN photos p ON p.id = f.photo_id WHERE p.path LIKE ?`).all(`${later}/%`) as Array<{ id: number; path: string }>;
    const whoNew = new Map(newFaces.map((f) => [f.id, `${setOfPath(f.path)}/${personOfPath(f.path)}`]));
    // queues: each named person's first suggestion
    const named = (await svc.getClusters({ runId })).filter((c) => c.name);
    let asked = 0, firstHit = 0, withNew = 0, unknownSure = 0, sureOffered = 0, sureWrong = 0, maybeOffered = 0;
    const tq = performance.now();
    const whoAll = new Map<number, string>([...members.filter((m) => isPerson(m.path)).map((m) => [m.item, `${setOfPath(m.path)}/${personOfPath(m.path)}`] as [number, string]), ...whoNew]);
    const misses: Array<Record<string, unknown>> = [];
    for (const c of named) {
      const m = (await svc.getClusterMembers({ runId, cluster: c.cluster, offset: 0, limit: 1 })).items[0];
      const who = `${setOfPath(m.path)}/${personOfPath(m.path)}`;
      const hasNew = [...whoNew.values()].includes(who);
      const r = await svc.getSuggestions({ runId, cluster: c.cluster, limit: 50 });
      asked++;
      const first = r.suggestions[0];
      if (hasNew) {
        withNew++;
        if (first && whoNew.get(first.item) === who) firstHit++;
        else misses.push({ who, clustersNamedSo: named.filter((x) => x.name === c.name).length, first: first ? whoAll.get(first.item) ?? 'junk' : null, fromRun: first ? !whoNew.has(first.item) : null, similarity: first?.similarity ?? null, zone: first?.zone ?? null });
      }
      for (const s of r.suggestions) {
        // who the offered face is (a run face in the noise or a low-confidence member is someone too)
        const w = whoAll.get(s.item);
        if (s.zone === 'sure') { sureOffered++; if (w !== who) sureWrong++; if (w && unknown.has(w)) unknownSure++; } else maybeOffered++;
      }
    }
    const queueMs = performance.now() - tq;
    // assign
    const a = await svc.assign({ runId });
    const placed = db.prepare(`SELECT a.item_id AS id, c.name FROM assignments a JOIN clusters c ON c.run_id = a.run_id AND c.cluster = a.cluster WHERE a.run_id = ? AND a.cluster >= 0`).all(runId) as Array<{ id: number; name: string | null }>;
    let knownNew = 0, right = 0, wrong = 0, unknownPlaced = 0;
    for (const [, w] of whoNew) if (!unknown.has(w)) knownNew++;
    // what the run's cluster a wrong face joined holds (a person merged by the preset: the name is its majority's)
    const startOf = new Map<number, Map<string, number>>();
    for (const m of members) if (m.cluster >= 0 && isPerson(m.path)) {
      const k = `${setOfPath(m.path)}/${personOfPath(m.path)}`, t = startOf.get(m.cluster) ?? new Map<string, number>();
      t.set(k, (t.get(k) ?? 0) + 1); startOf.set(m.cluster, t);
    }
    const clusterOf = new Map((db.prepare(`SELECT item_id AS id, cluster FROM assignments WHERE run_id = ?`).all(runId) as Array<{ id: number; cluster: number }>).map((x) => [x.id, x.cluster]));
    const wrongs: Array<{ who: string; to: string | null; holds: Record<string, number> }> = [];
    for (const p of placed) {
      const w = whoNew.get(p.id);
      if (!w) continue;
      if (unknown.has(w)) { unknownPlaced++; wrongs.push({ who: `${w} (unknown)`, to: p.name, holds: Object.fromEntries(startOf.get(clusterOf.get(p.id)!) ?? []) }); }
      else if (p.name === w.split('/')[1]) right++; else { wrong++; wrongs.push({ who: w, to: p.name, holds: Object.fromEntries(startOf.get(clusterOf.get(p.id)!) ?? []) }); }
    }
    return {
      set: name, faces, people: ids.size, junkFaces: members.length - lab.length, zones: { sure: zones.sure, maybe: zones.maybe, link: zones.link, n: zones.n },
      preset: { ami: presetAmi, clusters: clusters.filter((c) => c.cluster >= 0).length, largest, largestShare: r4(largest / Math.max(1, faces)) },
      queues: { persons: asked, withNewFace: withNew, firstHit, firstHitRate: withNew ? r4(firstHit / withNew) : null, sureOffered, sureWrong, unknownOfferedSure: unknownSure, maybeOffered, ms: Math.round(queueMs), misses },
      assign: { threshold: a.threshold, knownNew, unknownNew: newFaces.length - knownNew, placed: right + wrong, right, precision: right + wrong ? r4(right / (right + wrong)) : 1, recall: knownNew ? r4(right / knownNew) : null, unknownPlaced, wrongs },
      seconds: Math.round((performance.now() - t0) / 1000), load: load(),
    };
  } finally { await svc.close(); rmSync(dir, { recursive: true, force: true }); }
}

/** The labeling cost: a fresh library of the whole set, the people preset, the oracle through serve mode. */
async function labelingCost(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `bench-oracle-${name}-`));
  const photos = join(dir, 'photos');
  const copy = (set: string) => cpSync(sharedPath('data', set), join(photos, set), { recursive: true });
  if (name === 'london' || name === 'mixed') copy('faces-london');
  if (name === 'orl' || name === 'mixed') copy('faces-orl');
  if (name === 'mixed') copyJunk(photos);
  const library = join(dir, 'o.constellate');
  const svc = CoreService.open(library);
  let runId: number;
  try {
    await svc.addRoots({ paths: [photos] });
    await job(svc, svc.scan());
    await job(svc, svc.embed({ model: 'face' }));
    runId = (await job(svc, svc.cluster({ model: 'face', params: { preset: 'people' } }))).runId;
  } finally { await svc.close(); }
  const child = spawn(process.execPath, ['src-main/cli/bin.mjs', 'serve', '--json', '--library', library], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONSTELLATE_HOME: join(dir, 'home') } });
  try {
    const first = await new Promise<{ url: string }>((ok, fail) => {
      let buf = '';
      child.stdout.on('data', (d) => { buf += d; const nl = buf.indexOf('\n'); if (nl >= 0) ok(JSON.parse(buf.slice(0, nl))); });
      child.on('exit', (c) => fail(new Error(`serve exited ${c}`)));
    });
    const url = new URL(first.url);
    const r = spawnSync('/usr/bin/python3', [sharedPath('tools', 'labeling_oracle.py'), url.port, url.searchParams.get('token')!, String(runId)], { encoding: 'utf8', timeout: 1_200_000 });
    if (r.status !== 0) throw new Error(`oracle: ${r.stderr}`);
    return { set: name, ...JSON.parse(r.stdout.trim().split('\n').at(-1)!), load: load() };
  } finally { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); }
}

const rows: unknown[] = [];
const costs: unknown[] = [];
console.log(`load at start ${load()}`);
for (const s of sets) { const r = await protocol(s); rows.push(r); console.log(JSON.stringify(r)); }
if (oracle) for (const s of sets) { const r = await labelingCost(s); costs.push(r); console.log(JSON.stringify(r)); }
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ cifarPerClass: cifar, rows, costs }, null, 2));
