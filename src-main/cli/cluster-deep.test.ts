/**
 * The deep-clustering CLI contract (issue 21), kept exactly: matrix mode `cluster --embeddings X.npy --labels y.npy
 * --algo kmeans --k 10 --reduce ae:32 --seed 0 --out labels.npy --json` and `--algo dec --k 10`, JSON with nmi, ami,
 * timings.reduce / timings.fit and loss (one value per epoch); --save-encoder writes an ONNX model that onnxruntime runs;
 * library mode keeps the encoder with the stored run. Real Fashion-MNIST rows, real library, real onnxruntime.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpyLabels, readNpyMatrix, writeNpy } from '../core/npy-file.ts';
import { encodeOnnx } from '../core/models/encoder-onnx.ts';
import { listRuns } from '../core/store/runs.ts';
import { runEncoderBytes } from '../core/cluster/runs.ts';
import { openLibrary } from '../core/store/db.ts';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const t = tempDir();
afterAll(() => t.cleanup());
const N = 1200;
const M = readNpyMatrix(sharedPath('data/matrices/fashion_t10k_784_X.npy'));
const y = readNpyLabels(sharedPath('data/matrices/fashion_t10k_784_y.npy'));
const Xf = join(t.dir, 'X.npy'), yf = join(t.dir, 'y.npy');
writeNpy(Xf, M.data.slice(0, N * M.cols), [N, M.cols]);
writeNpy(yf, Int32Array.from(y.slice(0, N)), [N]);

describe('cluster --reduce ae / --algo dec (CLI)', () => {
  it('matrix mode: ae:32 + k-means gives nmi, ami, timings.reduce/fit, loss per epoch, labels and an ONNX encoder', async () => {
    const out = join(t.dir, 'labels.npy'), enc = join(t.dir, 'enc.onnx');
    const r = cli(['cluster', '--embeddings', Xf, '--labels', yf, '--algo', 'kmeans', '--k', '10', '--reduce', 'ae:32', '--seed', '0',
      '--out', out, '--json', '--epochs', '3', '--save-encoder', enc]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.nmi).toBeGreaterThan(0.3);
    expect(typeof j.ami).toBe('number');
    expect(j.timings.reduce).toBeGreaterThan(0);
    expect(j.timings.fit).toBeGreaterThan(0);
    expect(j.loss).toHaveLength(3);
    expect(j.record.reduce.steps[0]).toMatchObject({ method: 'ae', architecture: '784-32-784', loss: 'bce' });
    expect(readNpyLabels(out).length).toBe(N);
    const codes = await encodeOnnx(new Uint8Array(readFileSync(enc)), M.data, 4, M.cols);
    expect(codes.length).toBe(4 * 32);
  }, 300_000);

  it('matrix mode: --algo dec --k 10 and chains ae:32,umap:10', () => {
    // the default DEC: the literature net (here 3 epochs and 30 steps, to keep the test short)
    const r = cli(['cluster', '--embeddings', Xf, '--labels', yf, '--algo', 'dec', '--k', '10', '--seed', '0', '--json', '--epochs', '3', '--max-iter', '30']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.nmi).toBeGreaterThan(0.3);
    expect(j.loss).toHaveLength(3);
    expect(j.record.dec).toMatchObject({ tol: 0.001, updateInterval: 140, architecture: '784-500-500-2000-10-2000-500-500-784', recipe: 'literature', maxIter: 30, steps: 30, stopReason: 'max-iter', init: 'gmm', kernel: 'mixture-t' });
    const c = cli(['cluster', '--embeddings', Xf, '--labels', yf, '--algo', 'kmeans', '--k', '10', '--reduce', 'ae:32,umap:10', '--epochs', '2', '--json']);
    expect(c.code).toBe(0);
    const cj = JSON.parse(c.stdout);
    expect(cj.record.reduce.steps.map((s: { method: string }) => s.method)).toEqual(['ae', 'umap']);
    expect(cj.record.reduce.encoder).toBe('ae:32');
  }, 300_000);

  it('matrix mode: --algo gmm picks k by BIC without --k, takes it with --k; bad --covariance names the flag', () => {
    const r = cli(['cluster', '--embeddings', Xf, '--labels', yf, '--algo', 'gmm', '--reduce', 'pca:5', '--seed', '0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.record.gmm.selectedBy).toBe('bic');
    expect(j.record.gmm.bicByK.length).toBeGreaterThan(5);
    expect(j.clusters).toBe(j.record.gmm.k);
    const k = cli(['cluster', '--embeddings', Xf, '--labels', yf, '--algo', 'gmm', '--k', '10', '--reduce', 'pca:5', '--covariance', 'diag', '--seed', '0', '--json']);
    expect(k.code, k.stderr).toBe(0);
    const kj = JSON.parse(k.stdout);
    expect(kj.record.gmm).toMatchObject({ k: 10, selectedBy: 'given', covariance: 'diag' });
    expect(kj.nmi).toBeGreaterThan(0.3);
    const bad = cli(['cluster', '--embeddings', Xf, '--algo', 'gmm', '--k', '10', '--covariance', 'tied', '--json']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--covariance: expected full or diag/);
  }, 300_000);

  it('bad chains and options exit non-zero with a one-line error naming the flag', () => {
    const r = cli(['cluster', '--embeddings', Xf, '--algo', 'kmeans', '--k', '10', '--reduce', 'ae:32,tsne:2', '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--reduce/);
    const d = cli(['cluster', '--embeddings', Xf, '--algo', 'dec', '--k', '10', '--reduce', 'ae:32,umap:10', '--json']);
    expect(d.code).not.toBe(0);
    expect(d.stderr).toMatch(/reduce: dec trains its own encoder/);
    const s = cli(['cluster', '--embeddings', Xf, '--algo', 'kmeans', '--k', '10', '--save-encoder', join(t.dir, 'x.onnx'), '--json']);
    expect(s.code).not.toBe(0);
    expect(s.stderr).toMatch(/--save-encoder: this run trained no encoder/);
  }, 300_000);

  it('library mode: the run keeps its encoder (exported with --save-encoder), the JSON carries loss but not the weights', async () => {
    const lib = join(t.dir, 'deep.constellate');
    const photos = sharedPath('data/photos-flowers');
    expect(cli(['scan', photos, '--library', lib, '--json']).code).toBe(0);
    const files = readdirSync(photos, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.jpg'))
      .map((e) => join(e.parentPath, e.name)).sort();
    const n = files.length, d = 784;
    writeNpy(join(t.dir, 'lib.npy'), M.data.slice(0, n * d), [n, d]);
    writeFileSync(join(t.dir, 'lib-ids.csv'), 'path\n' + files.map((f) => `"${f}"`).join('\n') + '\n');
    const imp = cli(['import-embeddings', join(t.dir, 'lib.npy'), '--ids', join(t.dir, 'lib-ids.csv'), '--model', 'pix', '--library', lib, '--json']);
    expect(imp.code, imp.stderr).toBe(0);
    const enc = join(t.dir, 'lib-enc.onnx');
    const r = cli(['cluster', '--model', 'pix', '--algo', 'kmeans', '--k', '5', '--reduce', 'ae:16', '--epochs', '2', '--library', lib, '--json', '--save-encoder', enc]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.loss).toHaveLength(2);
    expect(j.record.encoder).toMatchObject({ format: 'onnx', inputDim: 784, codeDim: 16 });
    expect(j.record.encoder.base64).toBeUndefined();
    expect(existsSync(enc)).toBe(true);
    const codes = await encodeOnnx(new Uint8Array(readFileSync(enc)), M.data, 3, d);
    expect(codes.length).toBe(3 * 16);
    // the stored run: the listing names the encoder's shape only; runEncoderBytes gives the same ONNX model
    const { db } = openLibrary(lib);
    try {
      const listed = listRuns(db).find((x) => x.id === j.runId)!;
      expect(listed.record.encoder).toMatchObject({ format: 'onnx', codeDim: 16 });
      expect((listed.record.encoder as Record<string, unknown>).base64).toBeUndefined();
      expect(Buffer.from(runEncoderBytes(db, j.runId)).equals(readFileSync(enc))).toBe(true);
    } finally {
      db.close();
    }
  }, 300_000);
});
