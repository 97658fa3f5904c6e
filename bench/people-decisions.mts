/**
 * People decisions (issue 30, algorithmic groundwork): linking that does not chain and thresholds calibrated to the
 * library's size, with the real face model on faces-london, faces-orl and a mixed library (London + ORL +
 * photos-flowers + a sample of photos-cifar10, whose face detections are junk).
 *
 * - thresholds: the impostor tail is calibrated on faces-orl (all of it, and its half A = even person folders) and the
 *   sure / maybe / link thresholds are computed for each reporting set from its own unlabeled pairs; reported with the
 *   labeled outcome: impostor pairs above each (false merges), expected false merges, genuine pairs kept (TAR).
 *   Never reported on the calibration data (ORL's half B is reported with the half-A tail only).
 * - linking: AMI (on the labeled faces; junk faces count in the groups but not in the AMI), groups, largest group's
 *   share of all faces, for single link (components above the link similarity: the chaining baseline), average link on
 *   the kNN graph (the proposed method), exact average and complete linkage, all at the library's `link` threshold.
 *   npx tsx bench/people-decisions.mts [--cache DIR] [--cifar 300] [--out bench/results/people-decisions.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { calibrateImpostorTail, libraryThresholds, pairSimilarities, type TailModel } from '../src-main/algo/cluster/identity-scale.ts';
import { exactLink, graphAverageLink, relabelBySize, type LinkResult } from '../src-main/algo/cluster/people-link.ts';
import { knnExact } from '../src-main/algo/knn.ts';
import { normalizeRows } from '../src-main/algo/linalg.ts';
import { adjustedMutualInfo } from '../src-main/algo/metrics.ts';
import { createRng } from '../src-main/algo/rng.ts';
import { faceSet, type FaceSet } from './lib/face-sets.mts';

const opt = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const cache = opt('cache');
const cifar = Number(opt('cifar') ?? 300);
const out = opt('out') ?? 'bench/results/people-decisions.json';
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

interface Part { name: string; X: Float32Array; n: number; d: number; labels: Int32Array; junk: number }
/** rows whose label is -1 (junk) or passes `keep` */
function subset(s: FaceSet, name: string, keep: (label: number) => boolean): Part {
  const rows = [...s.labels.keys()].filter((i) => s.labels[i] < 0 || keep(s.labels[i]));
  const X = new Float32Array(rows.length * s.d);
  rows.forEach((r, t) => X.set(s.X.subarray(r * s.d, (r + 1) * s.d), t * s.d));
  const labels = Int32Array.from(rows, (r) => s.labels[r]);
  return { name, X, n: rows.length, d: s.d, labels, junk: labels.filter((l) => l < 0).length };
}

function labeledOutcome(p: Part, thresholds: Record<string, number>) {
  const { sims, i, j } = pairSimilarities(p.X, p.n, p.d, { maxPairs: Number.MAX_SAFE_INTEGER });
  const o: Record<string, { falseMerges: number; tar: number }> = {};
  let gen = 0;
  for (let q = 0; q < sims.length; q++) if (p.labels[i[q]] >= 0 && p.labels[i[q]] === p.labels[j[q]]) gen++;
  for (const [k, t] of Object.entries(thresholds)) {
    let fm = 0, ta = 0;
    for (let q = 0; q < sims.length; q++) {
      if (!(sims[q] > t)) continue;
      const a = p.labels[i[q]], b = p.labels[j[q]];
      if (a >= 0 && a === b) ta++; else if (a >= 0 && b >= 0) fm++;
    }
    o[k] = { falseMerges: fm, tar: r4(gen ? ta / gen : 0) };
  }
  return { genuinePairs: gen, ...o };
}

async function singleLink(p: Part, similarity: number): Promise<LinkResult> {
  const k = Math.min(10, p.n - 1);
  const nn = await knnExact(normalizeRows(p.X, p.n, p.d), p.n, p.d, k, { metric: 'cosine' });
  const parent = new Int32Array(p.n).map((_, i) => i);
  const find = (x: number): number => { while (parent[x] !== x) { parent[x] = parent[parent[x]]; x = parent[x]; } return x; };
  for (let i = 0; i < p.n; i++) for (let t = 0; t < k; t++) if (1 - nn.distances[i * k + t] >= similarity) parent[find(i)] = find(nn.indices[i * k + t]);
  return relabelBySize(Int32Array.from({ length: p.n }, (_, i) => find(i)), p.n);
}

function scores(p: Part, r: LinkResult, ms: number) {
  const known = [...p.labels.keys()].filter((i) => p.labels[i] >= 0);
  const pred = known.map((i) => (r.labels[i] < 0 ? -1 - i : r.labels[i]));
  return { ami: r4(adjustedMutualInfo(known.map((i) => p.labels[i]), pred)), groups: r.groups, largest: r.largest, largestShare: r4(r.largest / p.n), ms: Math.round(ms) };
}

async function report(p: Part, tail: TailModel, tailSet: string) {
  const th = libraryThresholds(p.X, p.n, p.d, tail, { rng: createRng(7) });
  const thresholds = { sure: th.sure, maybe: th.maybe, link: th.link, fixed: 0.465 };
  const row: Record<string, unknown> = {
    set: p.name, faces: p.n, junkFaces: p.junk, tail: tailSet,
    thresholds: { sure: r4(th.sure), maybe: r4(th.maybe), link: r4(th.link), expectedFalseMergesSure: r4(th.farSure * th.pairs), expectedFalseMergesMaybe: r4(th.farMaybe * th.pairs), loc: r4(th.loc), scale: r4(th.scale) },
    outcome: labeledOutcome(p, thresholds),
  };
  const link: Record<string, unknown> = {};
  let t = performance.now();
  link.single = scores(p, await singleLink(p, th.link), performance.now() - t);
  t = performance.now(); link.singleFixed = scores(p, await singleLink(p, 0.465), performance.now() - t);
  t = performance.now(); link.graphAverage = scores(p, await graphAverageLink(p.X, p.n, p.d, { similarity: th.link }), performance.now() - t);
  t = performance.now(); link.average = scores(p, await exactLink(p.X, p.n, p.d, { similarity: th.link, linkage: 'average' }), performance.now() - t);
  t = performance.now(); link.complete = scores(p, await exactLink(p.X, p.n, p.d, { similarity: th.link, linkage: 'complete' }), performance.now() - t);
  row.linking = link;
  return row;
}

const london = await faceSet('london', cache);
const orl = await faceSet('orl', cache);
const mixed = await faceSet('mixed', cache, cifar);
const whole = (s: FaceSet): Part => subset(s, s.name, () => true);
const tailOrl = calibrateImpostorTail(orl.X, orl.n, orl.d, orl.labels);
const orlA = subset(orl, 'orl-half-a', (l) => l % 2 === 0), orlB = subset(orl, 'orl-half-b', (l) => l % 2 === 1);
const tailOrlA = calibrateImpostorTail(orlA.X, orlA.n, orlA.d, orlA.labels);
const rows = [
  await report(whole(london), tailOrl, 'faces-orl'),
  await report(subset(london, 'london-half-a', (l) => l % 2 === 0), tailOrl, 'faces-orl'),
  await report(subset(london, 'london-half-b', (l) => l % 2 === 1), tailOrl, 'faces-orl'),
  await report(orlB, tailOrlA, 'orl-half-a'),
  await report(subset(london, 'london (half-a tail)', () => true), tailOrlA, 'orl-half-a'),
  await report(whole(mixed), tailOrl, 'faces-orl'),
];
const result = { load: loadavg().map((x) => Math.round(x * 100) / 100), cifarPerClass: cifar, tail: { 'faces-orl': tailOrl, 'orl-half-a': tailOrlA }, rows };
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2));
console.log(`load ${result.load.join(' ')}`);
console.log('set | faces (junk) | tail | sure / maybe / link | false merges sure / maybe / link / 0.465 | TAR sure / maybe | AMI single@link / single@0.465 / graph-avg / avg / complete | largest share single@0.465 / graph-avg');
for (const r of rows as Array<Record<string, any>>) {
  const o = r.outcome, l = r.linking, t = r.thresholds;
  console.log(`${r.set} | ${r.faces} (${r.junkFaces}) | ${r.tail} | ${t.sure} / ${t.maybe} / ${t.link} | ${o.sure.falseMerges} / ${o.maybe.falseMerges} / ${o.link.falseMerges} / ${o.fixed.falseMerges} | ${o.sure.tar} / ${o.maybe.tar} | ${l.single.ami} / ${l.singleFixed.ami} / ${l.graphAverage.ami} / ${l.average.ami} / ${l.complete.ami} | ${l.singleFixed.largestShare} / ${l.graphAverage.largestShare}`);
}
