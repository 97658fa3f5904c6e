/**
 * Cold start in matrix mode: mini-batch k-means on Fashion-MNIST 10,000 x 784 (k = 10) through the CLI, each run a
 * fresh process (nothing warm: no worker, no ORT session, no JIT), next to scikit-learn's MiniBatchKMeans (peers.py
 * `minibatch`: batch 1,024, n_init 1) in the same run, alternating ours / peer per round.
 *   npx tsx bench/coldstart.mts [--rounds 5] [--x X.npy --y y.npy --k K] [--base DIR] [--out FILE]
 * --base DIR: also runs the CLI of another checkout (e.g. `git archive` of an older commit with node_modules linked)
 * in each round, for a before / after in the same run.
 * Ours: the JSON's `timings.fit` (the fit from the first row read to the labels, with the ORT session it creates; the
 * worker start and the file read are before it) and the whole command's wall seconds. Peer: peers.py's `fit_s` (data
 * loaded, Python started). Prints per round and the medians, and the ratio of the medians (ours / peer); the load
 * average next to each round.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, REPO, runPeer, SHARED, timed } from './lib/peer.mts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : dflt; };
const rounds = Number(opt('rounds', '5'));
const x = path.resolve(opt('x', path.join(SHARED, 'data/matrices/fashion_t10k_784_X.npy')));
const y = path.resolve(opt('y', path.join(SHARED, 'data/matrices/fashion_t10k_784_y.npy')));
const k = Number(opt('k', '10'));
const base = argv.includes('--base') ? path.resolve(opt('base', '')) : null;
const outFile = opt('out', path.join(REPO, 'bench/results/coldstart.md'));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'coldstart-'));
const load = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');
const median = (v: number[]) => { const s = v.filter(Number.isFinite).sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; };

const ours = { fit: [] as number[], wall: [] as number[], ami: NaN };
const before = { fit: [] as number[], wall: [] as number[] };
const peer = { fit: [] as number[], ami: NaN };
const rows: string[] = [];
const cli = (root: string): { fit: number; wall: number; ami: number } => {
  const t = timed(process.execPath, [path.join(root, 'src-main/cli/bin.mjs'), 'cluster', '--embeddings', x, '--labels', y, '--algo', 'minibatch-kmeans',
    '--k', String(k), '--out', path.join(tmp, 'L.npy'), '--json'], { timeoutS: 600 });
  if (t.rc !== 0) throw new Error(`constellate cluster (${root}) failed (rc ${t.rc}): ${t.stderr.slice(-500)}`);
  const j = JSON.parse(t.stdout);
  return { fit: j.timings.fit, wall: t.wallS, ami: j.ami };
};
for (let r = 0; r < rounds; r++) {
  const l0 = load();
  const o = cli(REPO);
  ours.fit.push(o.fit); ours.wall.push(o.wall); ours.ami = o.ami;
  const b = base ? cli(base) : null;
  if (b) { before.fit.push(b.fit); before.wall.push(b.wall); }
  const p = runPeer(x, y, k, 'minibatch', [], 600);
  if (p.error) throw new Error(`sklearn peer failed: ${p.error}`);
  peer.fit.push(p.fitS); peer.ami = p.ami;
  const row = `| ${r + 1} | ${fmt(o.fit, 3)} | ${fmt(o.wall, 2)} | ${b ? `${fmt(b.fit, 3)} | ${fmt(b.wall, 2)} | ` : ''}${fmt(p.fitS, 2)} | ${fmt(o.fit / p.fitS, 2)} | ${l0} / ${load()} |`;
  rows.push(row);
  console.log(row);
}
rmSync(tmp, { recursive: true, force: true });
mkdirSync(path.dirname(outFile), { recursive: true });
const ratio = median(ours.fit) / median(peer.fit);
const md = [
  `### Cold start: mini-batch k-means, ${path.basename(x)} (k = ${k}), CLI in a fresh process vs scikit-learn (same run)`,
  '',
  `Run ${new Date().toISOString()} with \`npx tsx bench/coldstart.mts --rounds ${rounds}\` on ${os.cpus().length} cores; ours = \`timings.fit\` of`,
  '`constellate cluster --embeddings X --labels y --algo minibatch-kmeans --k K --out L.npy --json` (cold process),',
  `peer = peers.py minibatch \`fit_s\`. AMI ours ${fmt(ours.ami, 3)}, sklearn ${fmt(peer.ami, 3)}.`,
  '',
  ...(base ? [`before = the CLI of ${base}.`, ''] : []),
  `| round | ours fit s | ours whole command s | ${base ? 'before fit s | before whole command s | ' : ''}sklearn fit s | ratio | load before / after |`,
  `|---|---|---|${base ? '---|---|' : ''}---|---|---|`,
  ...rows,
  `| median | ${fmt(median(ours.fit), 3)} | ${fmt(median(ours.wall), 2)} | ${base ? `${fmt(median(before.fit), 3)} | ${fmt(median(before.wall), 2)} | ` : ''}${fmt(median(peer.fit), 2)} | **${fmt(ratio, 2)}** | |`,
  '',
].join('\n');
writeFileSync(outFile, md);
console.log(`\nratio of the medians (ours / sklearn): ${fmt(ratio, 2)}  (written to ${outFile})`);
