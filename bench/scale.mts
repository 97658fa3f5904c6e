/**
 * Scale benchmark (issue 33): HDBSCAN (6, 6) through the CLI in matrix mode, the goal command as a whole process:
 *   constellate cluster --embeddings X.npy --labels y.npy --algo hdbscan --min-cluster-size 6 --min-samples 6 --out L.npy --json
 *   npx tsx bench/scale.mts [--sizes 100000,300000,1000000] [--seed S] [--faces] [--exact-max N] [--dbscan] [--dir /tmp/scale] [--out FILE]
 * Data: ../shared/peers/gen_blobs.py N 512 N/100 --sigma 1.3 (blobs, seed 0) and, with --faces, the c1 generator at
 * 100,000 rows (gen_blobs.py 100000 512 1250, c1's 80 rows per cluster, default sigma; seed 1). Files are made under
 * --dir (default /tmp/constellate-scale; 1M x 512 is 2 GB) when missing. Per case and path (graph: the default above
 * the size switch; exact: --exact, run up to --exact-max rows, default 0): wall seconds of the whole command, timings.fit,
 * peak RSS (/usr/bin/time -v and the JSON's peakRssMB), AMI / ARI against the blobs, the graph's recall, ARI of the
 * graph path against the exact path where both ran. The load average is printed with every row.
 * --seed S: the blobs' seed (default 0; the held-out goal data uses another seed, e.g. 7). The generator's blobs sit in
 * super-groups (k / 12 super-centres, tau 0.8); each row also reports the AMI of the labels against those super-groups
 * (replayed from the generator's draws with the same seed), which tells a coarser cut of the hierarchy (the exact
 * path's, at 100k: the 83 super-groups) from a finer one.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adjustedMutualInfo, adjustedRandIndex } from '../src-main/algo/metrics.ts';
import { readNpyLabels } from '../src-main/core/npy-file.ts';
import { fmt, PY, REPO, SHARED, timed } from './lib/peer.mts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : dflt; };
const sizes = opt('sizes', '100000,300000').split(',').map(Number);
const exactMax = Number(opt('exact-max', '0'));
const seed = Number(opt('seed', '0'));
const dir = opt('dir', '/tmp/constellate-scale');
const outFile = opt('out', path.join(REPO, 'bench/results/scale.md'));
mkdirSync(dir, { recursive: true });

interface Case { name: string; prefix: string; gen: string[] }
const cases: Case[] = sizes.map((n) => ({
  name: `blobs ${n.toLocaleString('en')} x 512${seed ? ` (seed ${seed})` : ''}`, prefix: path.join(dir, `blobs${n}${seed ? `s${seed}` : ''}`),
  gen: [String(n), '512', String(n / 100), '--sigma', '1.3', '--seed', String(seed)],
}));
if (argv.includes('--faces')) cases.push({ name: 'faces (c1 generator) 100,000 x 512', prefix: path.join(dir, 'c1g100000'), gen: ['100000', '512', '1250', '--seed', '1'] });

/**
 * The super-group of every row of a gen_blobs.py matrix: replays the generator's draws (sizes, super-centres, then
 * each blob's super-centre) with its seed; row labels are blob ids, so the super-group of a row is parent[y].
 */
function superGroups(c: Case): Int32Array {
  const [n, d, k] = c.gen.slice(0, 3).map(Number);
  const s = Number(c.gen[c.gen.indexOf('--seed') + 1] ?? 0);
  const script = ['import numpy as np', `rng = np.random.default_rng(${s})`, `ns = max(2, ${k} // 12)`, `rng.lognormal(0.0, 0.6, ${k})`,
    `rng.standard_normal((ns, ${d}))`, `parent = rng.integers(0, ns, ${k})`, `y = np.load('${c.prefix}_y.npy')`,
    `assert len(y) == ${n}`, `np.save('${c.prefix}_super.npy', parent[y].astype(np.int32))`].join('\n');
  const r = timed(PY, ['-c', script]);
  if (r.rc !== 0) throw new Error(`super-groups of ${c.prefix}: ${r.stderr}`);
  return readNpyLabels(`${c.prefix}_super.npy`);
}

const load = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');
const rows: string[] = [];
for (const c of cases) {
  if (!existsSync(`${c.prefix}_X.npy`)) {
    const g = timed(PY, [path.join(SHARED, 'peers/gen_blobs.py'), ...c.gen.slice(0, 3), c.prefix, ...c.gen.slice(3)], { timeoutS: 1800 });
    if (g.rc !== 0) throw new Error(`gen_blobs failed: ${g.stderr}`);
  }
  const n = Number(c.gen[0]);
  const labels: Record<string, Int32Array> = {};
  const supers = superGroups(c);
  for (const p of ['graph', 'exact'] as const) {
    if (p === 'exact' && n > exactMax) continue;
    if (p === 'graph' && argv.includes('--exact-only')) continue;
    for (const algo of argv.includes('--dbscan') ? ['hdbscan', 'dbscan'] : ['hdbscan']) {
      const out = `${c.prefix}_${algo}_${p}_L.npy`;
      const args = [path.join(REPO, 'src-main/cli/bin.mjs'), 'cluster', '--embeddings', `${c.prefix}_X.npy`, '--labels', `${c.prefix}_y.npy`, '--algo', algo,
        ...(algo === 'hdbscan' ? ['--min-cluster-size', '6', '--min-samples', '6'] : ['--eps', '0.35', '--min-samples', '6']), '--out', out, '--json', ...(p === 'exact' ? ['--exact'] : [])];
      const before = load();
      const t = timed(process.execPath, args, { timeoutS: 3600 });
      if (t.rc !== 0) { rows.push(`| ${c.name} | ${algo} | ${p} | failed (rc ${t.rc}): ${t.stdout.slice(0, 200).replace(/\n/g, ' ')} |`); continue; }
      const r = JSON.parse(t.stdout);
      labels[`${algo}-${p}`] = readNpyLabels(out);
      const g = r.record.graph ?? r.record.mst?.graph;
      const row = `| ${c.name} | ${algo} | ${r.record.path} | ${fmt(t.wallS, 1)} | ${fmt(r.timings.fit, 1)} | ${fmt(t.maxRssMb, 0)} | ${r.peakRssMB} | ${fmt(r.ami, 3)} | ${fmt(r.ari, 3)} | ${fmt(adjustedMutualInfo(supers, labels[`${algo}-${p}`]), 3)} | ${r.clusters} | ${fmt(r.noiseShare, 3)} | ${g ? fmt(g.recall, 3) : '-'} | ${before} |`;
      rows.push(row);
      console.log(row);
    }
  }
  // agreement of the graph path with the exact path where both ran
  for (const algo of ['hdbscan', 'dbscan']) {
    if (labels[`${algo}-graph`] && labels[`${algo}-exact`]) rows.push(`| ${c.name} | ${algo} | graph vs exact | ARI ${fmt(adjustedRandIndex(labels[`${algo}-exact`], labels[`${algo}-graph`]), 3)} |`);
  }
}
const md = [
  `## Scale (${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} cores)`, '',
  '| case | algo | path | wall s (whole command) | timings.fit s | peak RSS MB (time -v) | peakRssMB (JSON) | AMI | ARI | AMI vs super-groups | clusters | noise | graph recall | load before (1/5/15 min) |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows, '',
].join('\n');
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, md);
console.log(md);
