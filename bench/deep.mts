/**
 * Deep-clustering benchmark (issues 21 and 32): each learned path against the plain path it replaces, through the CLI
 * in matrix mode exactly as the checks run it (`constellate cluster --embeddings X.npy --labels y.npy --seed S
 * --json ...`), each command timed as a whole (wall, process start to exit), and the PyTorch peer of the same recipe
 * (bench/peers/ae_kmeans.py: same architecture, epochs, batch, held-out share and lr schedule as our run recorded, then
 * scikit-learn / umap-learn for the clustering) in the same run, one after the other:
 *   1. --algo kmeans --k K                     vs --algo kmeans --k K --reduce ae           (+ peer)
 *   2. --algo kmeans --k K                     vs --algo dec --k K
 *   3. --algo ward --k K --reduce umap:50      vs --algo ward --k K --reduce ae,umap:10     (+ peer)
 *   4. --algo ward --k K --reduce umap:50      vs --algo gmm --k K --reduce ae,umap:10 (N2D)
 *   npx tsx bench/deep.mts [--sets fashion_t10k_784:10,c3_5000x128:50] [--seeds 0,1] [--cases 1,2,3,4] [--no-peer]
 * Appends one JSON line per command to bench/results/deep.jsonl (so a long run keeps what it measured) and prints a
 * markdown table (means over the seeds) at the end, with the load average before and after each command.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { PY, REPO, SHARED } from './lib/peer.mts';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const sets = arg('--sets', 'fashion_t10k_784:10,c3_5000x128:50').split(',').map((s) => { const [t, k] = s.split(':'); return { tag: t, k: Number(k) }; });
const seeds = arg('--seeds', '0,1').split(',').map(Number);
const cases = new Set(arg('--cases', '1,2,3,4').split(',').map(Number));
const peerOn = !args.includes('--no-peer');
const peerThreads = arg('--peer-threads', '2');
const outFile = path.resolve(REPO, arg('--out', 'bench/results/deep.jsonl'));
mkdirSync(path.dirname(outFile), { recursive: true });
// a set is a tag under ../shared/data/matrices, or an absolute path prefix (PREFIX_X.npy, PREFIX_y.npy: e.g. MNIST digits made locally)
const mat = (tag: string) => (path.isAbsolute(tag)
  ? { x: `${tag}_X.npy`, y: `${tag}_y.npy` }
  : { x: path.resolve(SHARED, `data/matrices/${tag}_X.npy`), y: path.resolve(SHARED, `data/matrices/${tag}_y.npy`) });
const la = () => loadavg()[0];

interface Rec { data: string; seed: number; side: 'ours' | 'peer'; name: string; wallS: number; fitS?: number; nmi: number; ami: number; loadBefore: number; loadAfter: number; detail?: Record<string, unknown> }
const recs: Rec[] = [];
function keep(r: Rec): Rec { recs.push(r); appendFileSync(outFile, JSON.stringify({ at: new Date().toISOString(), ...r }) + '\n'); console.error(`${r.data} s${r.seed} ${r.side} ${r.name}: NMI ${r.nmi.toFixed(3)} wall ${r.wallS.toFixed(1)} s (load ${r.loadBefore.toFixed(1)} -> ${r.loadAfter.toFixed(1)})`); return r; }

function ours(tag: string, k: number, seed: number, name: string, extra: string[]): { rec: Rec; j: Record<string, any> } {
  const m = mat(tag);
  const lb = la(), t0 = performance.now();
  const r = spawnSync(process.execPath, [path.resolve(REPO, 'src-main/cli/bin.mjs'), 'cluster', '--embeddings', m.x, '--labels', m.y, '--k', String(k), '--seed', String(seed), '--json', ...extra],
    { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 3600_000 });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`ours ${tag} ${extra.join(' ')}: ${r.stderr.slice(-2000)}`);
  const j = JSON.parse(r.stdout);
  const ae = j.record?.reduce?.steps?.find((s: { method: string }) => s.method === 'ae') ?? j.record?.dec;
  const detail: Record<string, unknown> = {};
  if (ae) Object.assign(detail, { epochs: ae.epochs, epochsPlanned: ae.epochsPlanned, updates: ae.updates, bestEpoch: ae.bestEpoch, stoppedEarly: ae.stoppedEarly, epochsPerSecond: ae.epochsPerSecond, validationRows: ae.validationRows, schedule: ae.schedule, lossCurve: ae.lossCurve });
  if (j.record?.dec) Object.assign(detail, { decSteps: j.record.dec.steps, decStop: j.record.dec.stopReason, decInit: j.record.dec.init, initNmi: j.record.dec.initNmi });
  return { rec: keep({ data: tag, seed, side: 'ours', name, wallS, fitS: ((j.timings.reduce ?? 0) + j.timings.fit), nmi: j.nmi, ami: j.ami, loadBefore: lb, loadAfter: la(), detail }), j };
}

function peer(tag: string, k: number, seed: number, name: string, ae: Record<string, any>, extra: string[]): Rec | null {
  if (!peerOn || !ae) return null;
  const m = mat(tag);
  const a = [path.resolve(REPO, 'bench/peers/ae_kmeans.py'), m.x, String(k), m.y, '--hidden', (ae.hidden as number[]).join('-'), '--recipe', 'literature',
    '--epochs', String(ae.epochs), '--planned', String(ae.epochsPlanned), '--schedule', ae.schedule, '--validation', ae.validationRows > 0 ? '0.1' : '0',
    '--batch', String(ae.batchSize), '--seed', String(seed), '--threads', peerThreads, ...extra];
  const lb = la(), t0 = performance.now();
  const r = spawnSync('env', ['-u', 'OPENBLAS_CORETYPE', '-u', 'OPENBLAS_L2_SIZE', PY, ...a], { encoding: 'utf8', timeout: 3600_000 });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`peer ${tag}: ${r.stderr.slice(-2000)}`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return keep({ data: tag, seed, side: 'peer', name, wallS, fitS: j.fit_s, nmi: j.nmi, ami: j.ami, loadBefore: lb, loadAfter: la(), detail: { updates: j.updates, epochs: j.epochs, threads: j.threads, loss: j.loss } });
}

for (const { tag, k } of sets) {
  for (const seed of seeds) {
    if (cases.has(1) || cases.has(2)) ours(tag, k, seed, 'kmeans (plain)', ['--algo', 'kmeans']);
    if (cases.has(1)) {
      const { j } = ours(tag, k, seed, 'ae + kmeans', ['--algo', 'kmeans', '--reduce', 'ae']);
      // the same clustering on the codes as ours: its metric, its number of k-means starts
      const kf = j.record.reduce.steps[0].kmeansFriendly;
      peer(tag, k, seed, 'ae + kmeans', j.record.reduce.steps[0], ['--cluster', 'kmeans', '--metric', j.record.codeMetric ?? 'euclidean', '--n-init', String(j.record.nInit ?? 1),
        // the same k-means-friendly term from the same update
        ...(kf ? ['--kmeans-term', String(kf.weight), '--kmeans-from', String(kf.from)] : [])]);
    }
    if (cases.has(2)) ours(tag, k, seed, 'dec', ['--algo', 'dec']);
    if (cases.has(3) || cases.has(4)) ours(tag, k, seed, 'umap:50 + ward (plain)', ['--algo', 'ward', '--reduce', 'umap:50']);
    if (cases.has(3)) {
      const { j } = ours(tag, k, seed, 'ae,umap:10 + ward', ['--algo', 'ward', '--reduce', 'ae,umap:10']);
      // the same denoising share and UMAP neighbours as our run recorded
      const [aeStep, umapStep] = j.record.reduce.steps;
      peer(tag, k, seed, 'ae,umap:10 + ward', aeStep, ['--umap', '10', '--umap-neighbors', String(umapStep?.nNeighbors ?? 30), '--cluster', 'ward', '--metric', umapStep?.metric ?? 'euclidean',
        ...(aeStep.noise ? ['--noise', String(aeStep.noise)] : [])]);
    }
    if (cases.has(4)) ours(tag, k, seed, 'ae,umap:10 + gmm (N2D)', ['--algo', 'gmm', '--reduce', 'ae,umap:10']);
  }
}

const f = (v: number | undefined, dg = 3) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(dg));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const lines = ['| data | path | seeds | ours NMI | ours wall s | peer NMI | peer wall s | time ratio | plain NMI | plain wall s | load (min-max) |', '|---|---|---|---|---|---|---|---|---|---|---|'];
const plainOf: Record<string, string> = { 'ae + kmeans': 'kmeans (plain)', dec: 'kmeans (plain)', 'ae,umap:10 + ward': 'umap:50 + ward (plain)', 'ae,umap:10 + gmm (N2D)': 'umap:50 + ward (plain)' };
for (const { tag } of sets) {
  for (const name of Object.keys(plainOf)) {
    const o = recs.filter((r) => r.data === tag && r.side === 'ours' && r.name === name);
    if (o.length === 0) continue;
    const p = recs.filter((r) => r.data === tag && r.side === 'peer' && r.name === name);
    const pl = recs.filter((r) => r.data === tag && r.side === 'ours' && r.name === plainOf[name]);
    const loads = recs.filter((r) => r.data === tag).flatMap((r) => [r.loadBefore, r.loadAfter]);
    lines.push(`| ${tag} | ${name} | ${o.map((r) => r.seed).join(',')} | ${f(mean(o.map((r) => r.nmi)))} | ${f(mean(o.map((r) => r.wallS)), 1)} | ${p.length ? f(mean(p.map((r) => r.nmi))) : '-'} | ${p.length ? f(mean(p.map((r) => r.wallS)), 1) : '-'} | ${p.length ? f(mean(o.map((r) => r.wallS)) / mean(p.map((r) => r.wallS)), 2) : '-'} | ${pl.length ? f(mean(pl.map((r) => r.nmi))) : '-'} | ${pl.length ? f(mean(pl.map((r) => r.wallS)), 1) : '-'} | ${f(Math.min(...loads), 1)}-${f(Math.max(...loads), 1)} |`);
  }
}
console.log(lines.join('\n'));
