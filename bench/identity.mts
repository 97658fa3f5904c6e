/**
 * The face model's identity threshold, calibrated on one labeled set and reported on the other (issue 18), and the
 * `people` preset's AMI on both against the best AMI of a full sweep.
 *   npx tsx bench/identity.mts [--orl LIB] [--london LIB] [--out bench/results/identity.json]
 * Without --orl / --london the sets are scanned and embedded (real ONNX face models) into temporary libraries.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { evaluateThreshold, plateauLinkSimilarity, verificationThresholds } from '../src-main/testing/identity-verification.ts';
import { runClustering } from '../src-main/algo/cluster/run.ts';
import type { ClusterParams } from '../src-main/common/types.ts';
import { labelsFromFolders } from '../src-main/core/cluster/labels.ts';
import { loadMatrix } from '../src-main/core/store/embeddings.ts';
import { CoreService } from '../src-main/core/service.ts';
import { sharedPath } from '../src-main/testing/fixtures.ts';
import { defaultPool } from '../src-main/core/workers/pool.ts';
import { resolvePreset } from '../src-main/algo/cluster/presets.ts';
import { FACE_IDENTITY } from '../src-main/core/models/identity.ts';

const opt = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const out = opt('out') ?? 'bench/results/identity.json';
const tmp = mkdtempSync(join(tmpdir(), 'bench-identity-'));

async function library(set: 'faces-orl' | 'faces-london', given?: string): Promise<CoreService> {
  if (given) return CoreService.open(given);
  const svc = CoreService.open(join(tmp, `${set}.constellate`));
  await svc.addRoots({ paths: [sharedPath('data', set)] });
  await svc.waitJob({ id: (await svc.scan()).id });
  const e = await svc.waitJob({ id: (await svc.embed({ model: 'face' })).id });
  if (e.state !== 'done') throw new Error(`embed ${set}: ${e.state} ${JSON.stringify(e.error)}`);
  return svc;
}

const sets = { 'faces-orl': await library('faces-orl', opt('orl')), 'faces-london': await library('faces-london', opt('london')) };
const data = Object.fromEntries(Object.entries(sets).map(([k, svc]) => {
  const m = loadMatrix(svc.lib.db, 'face');
  return [k, { ...m, labels: labelsFromFolders(svc.lib.db, 'face', m.ids).labels }];
})) as Record<keyof typeof sets, ReturnType<typeof loadMatrix> & { labels: Int32Array }>;

const FARS = [1e-2, 1e-3, 1e-4];
const result: Record<string, unknown> = { load: loadavg().map((x) => Math.round(x * 100) / 100), stored: FACE_IDENTITY };
const cal: Record<string, unknown> = {};
for (const [name, m] of Object.entries(data)) {
  const r = await verificationThresholds(m.X, m.n, m.d, m.labels, FARS);
  const other = name === 'faces-orl' ? data['faces-london'] : data['faces-orl'];
  const held = [] as unknown[];
  for (const p of r.points) held.push({ ...(await evaluateThreshold(other.X, other.n, other.d, other.labels, p.similarity)) });
  cal[name] = { ...r, heldOut: held };
}
result.calibration = cal;

async function ami(m: (typeof data)['faces-orl'], p: ClusterParams): Promise<{ ami: number; clusters: number; noise: number }> {
  const o = await runClustering({ X: m.X, n: m.n, d: m.d, labelsTrue: m.labels }, p);
  return { ami: Math.round((o.metrics.ami ?? NaN) * 10000) / 10000, clusters: o.metrics.clusters, noise: o.metrics.noise };
}

// the people preset with each calibration (the other set's threshold never comes from the set it is measured on)
const presets: unknown[] = [];
for (const [name, m] of Object.entries(data)) {
  const otherName = name === 'faces-orl' ? 'faces-london' : 'faces-orl';
  const from = (cal[otherName] as { points: Array<{ far: number; similarity: number }> }).points;
  for (const t of [{ far: 1e-4, similarity: from[2].similarity, set: otherName }, { far: FACE_IDENTITY.far, similarity: FACE_IDENTITY.similarity, set: FACE_IDENTITY.set }]) {
    const plateau = await plateauLinkSimilarity(m.X, m.n, m.d, t.similarity);
    const chosen = resolvePreset('people', { n: m.n, d: m.d, kind: 'face', identity: t });
    presets.push({ set: name, threshold: t, link: plateau.similarity, params: chosen.params, ...(await ami(m, chosen.params)) });
  }
}
result.peoplePreset = presets;

// the full sweep: single link / DBSCAN min 2 over the similarity, HDBSCAN leaf / eom over min cluster size
const sweep: Record<string, unknown> = {};
for (const [name, m] of Object.entries(data)) {
  let best = { ami: -1 } as { ami: number; params?: ClusterParams };
  const rows: unknown[] = [];
  for (let s = 0.3; s <= 0.7001; s += 0.025) {
    for (const minSamples of [1, 2]) {
      const p: ClusterParams = { algo: 'dbscan', eps: Math.round((1 - s) * 1000) / 1000, minSamples };
      const r = await ami(m, p); rows.push({ p, ...r });
      if (r.ami > best.ami) best = { ...r, params: p };
    }
  }
  for (const mcs of [2, 3, 5]) for (const selection of ['eom', 'leaf'] as const) {
    const p: ClusterParams = { algo: 'hdbscan', minClusterSize: mcs, minSamples: 1, selection };
    const r = await ami(m, p); rows.push({ p, ...r });
    if (r.ami > best.ami) best = { ...r, params: p };
  }
  sweep[name] = { best, tried: rows.length };
}
result.sweep = sweep;

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
console.log(JSON.stringify(result, null, 2));
for (const s of Object.values(sets)) await s.close();
await defaultPool().close?.();
rmSync(tmp, { recursive: true, force: true });
process.exit(0);
