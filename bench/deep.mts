/**
 * Deep-clustering benchmark (issue 21): the write-up's autoencoder + k-means through our CLI (`constellate cluster
 * --embeddings X.npy --labels y.npy --algo kmeans --k K --reduce ae:32 --seed 0 --json`) against the same recipe in
 * PyTorch (bench/peers/ae_kmeans.py: same architecture, Glorot init, Adam 1e-3, 5 epochs, batch 256, then
 * scikit-learn k-means with the same n_init), run one after the other in the same run; plus DEC, UMAP alone and
 * AE + UMAP (N2D) with k-means, all through the CLI.
 *   npx tsx bench/deep.mts [--quick] [--out FILE]      (npm run bench:deep)
 * Fit time = training + encoding + clustering with the data loaded (ours: timings.reduce + timings.fit; the peer's
 * fit_s). Writes a markdown section to bench/results/deep.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { PY, REPO, SHARED } from './lib/peer.mts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outFile = args.includes('--out') ? args[args.indexOf('--out') + 1] : path.resolve(REPO, 'bench/results/deep.md');
const mat = (tag: string) => ({ x: path.resolve(SHARED, `data/matrices/${tag}_X.npy`), y: path.resolve(SHARED, `data/matrices/${tag}_y.npy`) });

interface Row { data: string; method: string; fitS: number; nmi: number; ami: number; peerFitS?: number; peerNmi?: number; loss?: number[]; note?: string }

function ours(tag: string, k: number, extra: string[]): { fitS: number; nmi: number; ami: number; loss: number[] | null; record: Record<string, unknown> } {
  const m = mat(tag);
  const r = spawnSync(process.execPath, [path.resolve(REPO, 'src-main/cli/bin.mjs'), 'cluster', '--embeddings', m.x, '--labels', m.y, '--k', String(k), '--seed', '0', '--json', ...extra],
    { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 1800_000 });
  if (r.status !== 0) throw new Error(`ours ${tag} ${extra.join(' ')}: ${r.stderr.slice(-2000)}`);
  const j = JSON.parse(r.stdout);
  return { fitS: (j.timings.reduce ?? 0) + j.timings.fit, nmi: j.nmi, ami: j.ami, loss: j.loss, record: j.record };
}

function peer(tag: string, k: number, hidden = '32'): { fitS: number; nmi: number; ami: number; loss: number[] } {
  const m = mat(tag);
  const r = spawnSync(PY, [path.resolve(REPO, 'bench/peers/ae_kmeans.py'), m.x, String(k), m.y, '--hidden', hidden, '--threads', '2'], { encoding: 'utf8', timeout: 1800_000 });
  if (r.status !== 0) throw new Error(`peer ${tag}: ${r.stderr.slice(-2000)}`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { fitS: j.fit_s, nmi: j.nmi, ami: j.ami, loss: j.loss };
}

const rows: Row[] = [];
const sets: Array<[string, number]> = quick ? [['c3_5000x128', 50]] : [['fashion_t10k_784', 10], ['c3_5000x128', 50]];
for (const [tag, k] of sets) {
  console.error(`${tag}: AE + k-means, ours then PyTorch`);
  const o = ours(tag, k, ['--algo', 'kmeans', '--reduce', 'ae:32']);
  const p = peer(tag, k);
  rows.push({ data: tag, method: 'AE 32 + k-means', fitS: o.fitS, nmi: o.nmi, ami: o.ami, peerFitS: p.fitS, peerNmi: p.nmi, loss: o.loss ?? undefined,
    note: `loss ${(o.record.reduce as { steps: Array<{ loss: string }> }).steps[0].loss}; peer loss ${p.loss.map((v) => v.toFixed(3)).join(' ')}` });
  console.error(`${tag}: DEC`);
  const dd = ours(tag, k, ['--algo', 'dec']);
  const decRec = dd.record.dec as { iterations: number; converged: boolean; initNmi?: number };
  rows.push({ data: tag, method: 'DEC (ae:32 pretrain)', fitS: dd.fitS, nmi: dd.nmi, ami: dd.ami, loss: dd.loss ?? undefined,
    note: `${decRec.iterations} refinement steps, converged ${decRec.converged}, NMI of its k-means start ${decRec.initNmi?.toFixed(3)}` });
  if (tag === 'fashion_t10k_784') {
    console.error(`${tag}: UMAP 10 + k-means, AE + UMAP 10 + k-means`);
    const u = ours(tag, k, ['--algo', 'kmeans', '--reduce', 'umap:10']);
    rows.push({ data: tag, method: 'UMAP 10 + k-means', fitS: u.fitS, nmi: u.nmi, ami: u.ami });
    const au = ours(tag, k, ['--algo', 'kmeans', '--reduce', 'ae:32,umap:10']);
    rows.push({ data: tag, method: 'AE 32 + UMAP 10 + k-means (N2D)', fitS: au.fitS, nmi: au.nmi, ami: au.ami, loss: au.loss ?? undefined });
  }
}
const f = (v: number | undefined, dg = 3) => (v === undefined ? '-' : v.toFixed(dg));
const la = loadavg().map((v) => v.toFixed(1)).join(' ');
const md = [`### Deep clustering: autoencoder + k-means vs PyTorch, DEC, N2D (${new Date().toISOString()})`, '',
  `\`npm run bench:deep\` on linux, 2 cores shared with other jobs (load average at the end ${la}). Ours: the CLI in matrix mode (one process per case; training in a worker, products through onnxruntime MatMul, 1 thread). Peer: PyTorch (Debian python3-torch) with 2 threads + scikit-learn k-means (n_init 1, as ours), same architecture 784-32-784 / 128-32-128, Glorot init, Adam 1e-3, 5 epochs, batch 256; BCE when the data are in [0, 1], else MSE (c3 is not: both sides use MSE with a linear output). Seed 0, one run per side.`, '',
  '| data | method | ours fit s | peer fit s | time ratio | ours NMI | peer NMI | ours AMI | notes |', '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.data} | ${r.method} | ${f(r.fitS, 2)} | ${f(r.peerFitS, 2)} | ${r.peerFitS ? f(r.fitS / r.peerFitS, 2) : '-'} | ${f(r.nmi)} | ${f(r.peerNmi)} | ${f(r.ami)} | ${r.note ?? ''}${r.loss ? `; loss/epoch ${r.loss.map((v) => v.toFixed(3)).join(' ')}` : ''} |`), ''].join('\n');
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, md + '\n');
console.log(md);
