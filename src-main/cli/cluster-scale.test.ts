import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpyLabels, readNpyMatrix, writeNpy } from '../core/npy-file.ts';
import { createRng } from '../algo/rng.ts';
import { GRAPH_MIN_ROWS } from '../algo/cluster/run.ts';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';

const t = tempDir();
afterAll(() => t.cleanup());

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const C3X = sharedPath('data/matrices/c3_5000x128_X.npy');
const C3Y = sharedPath('data/matrices/c3_5000x128_y.npy');

describe('cluster in matrix mode at scale: path switch, --exact, streamed input, peak RSS', () => {
  it('below the switch HDBSCAN runs the exact path, says so, and reports its peak RSS', () => {
    const out = join(t.dir, 'c3.npy');
    const r = cli(['cluster', '--embeddings', C3X, '--labels', C3Y, '--algo', 'hdbscan', '--min-cluster-size', '6', '--min-samples', '6', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.record.path).toBe('exact');
    expect(j.record.graph).toBeUndefined();
    expect(j.peakRssMB).toBeGreaterThan(50);
    expect(readNpyLabels(out).length).toBe(5000);
  });

  it(`from ${GRAPH_MIN_ROWS.toLocaleString('en')} rows the graph path runs and records its recall`, () => {
    // c1's 18,969 face-like rows and a jittered copy of the first ones: GRAPH_MIN_ROWS rows, two points per identity
    const c1 = readNpyMatrix(sharedPath('data/matrices/c1_18969x512_X.npy'));
    const y1 = readNpyLabels(sharedPath('data/matrices/c1_18969x512_y.npy'));
    const n = GRAPH_MIN_ROWS, d = c1.cols, rng = createRng(1);
    const X = new Float32Array(n * d), y = new Int32Array(n);
    X.set(c1.data.subarray(0, c1.rows * d));
    y.set(y1);
    for (let i = c1.rows; i < n; i++) {
      const src = i - c1.rows;
      for (let p = 0; p < d; p++) X[i * d + p] = c1.data[src * d + p] + rng.normal() * 0.01;
      y[i] = y1[src];
    }
    const xf = join(t.dir, 'big_X.npy'), yf = join(t.dir, 'big_y.npy');
    writeNpy(xf, X, [n, d]);
    writeNpy(yf, y, [n]);
    const r = cli(['cluster', '--embeddings', xf, '--labels', yf, '--algo', 'hdbscan', '--min-cluster-size', '6', '--min-samples', '6', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.record.path).toBe('graph');
    expect(j.record.mst.path).toBe('graph');
    expect(j.record.graph.recall).toBeGreaterThan(0.8);
    expect(j.record.graph.recallSample).toBeGreaterThan(0);
    expect(j.ami).toBeGreaterThan(0.5);
    // DBSCAN on the same rows reads the graph too
    const g = JSON.parse(cli(['cluster', '--embeddings', xf, '--algo', 'dbscan', '--eps', '0.3', '--min-samples', '5', '--json']).stdout);
    expect(g.record.path).toBe('graph');
  }, 900_000);

  it('--exact is taken as a parameter and keeps the exact path', () => {
    const r = cli(['cluster', '--embeddings', C3X, '--algo', 'dbscan', '--eps', '0.3', '--min-samples', '5', '--exact', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.params.exact).toBe(true);
    expect(j.record.path).toBe('exact');
  });

  it('a truncated or non-finite matrix is refused naming the file (exit 2), before any clustering', () => {
    const bytes = readFileSync(C3X);
    const cut = join(t.dir, 'cut.npy');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 1000));
    const r = cli(['cluster', '--embeddings', cut, '--algo', 'hdbscan', '--json']);
    expect(r.code).toBe(2);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).toBe('BAD_FILE');
    expect(err.message).toContain('cut.npy');
  });
});

describe('cluster in matrix mode from Parquet for the algorithms that need every row', () => {
  it('HDBSCAN on a Parquet file gives the labels of the same rows as .npy', async () => {
    const { ColumnarWriter } = await import('../core/interop/columnar-write.ts');
    const M = readNpyMatrix(C3X);
    const pq = join(t.dir, 'c3.parquet');
    const w = await ColumnarWriter.create(pq, 'parquet', [{ name: 'id', type: 'int32' }, { name: 'embedding', type: 'vector' }], { d: M.cols });
    for (let r0 = 0; r0 < M.rows; r0 += 1500) {
      const r1 = Math.min(M.rows, r0 + 1500);
      w.write({ id: Int32Array.from({ length: r1 - r0 }, (_, i) => r0 + i), embedding: M.data.slice(r0 * M.cols, r1 * M.cols) }, r1 - r0);
    }
    w.finish();
    const a = join(t.dir, 'pq_L.npy'), b = join(t.dir, 'npy_L.npy');
    const args = ['--algo', 'hdbscan', '--min-cluster-size', '6', '--min-samples', '6', '--json'];
    const rp = cli(['cluster', '--embeddings', pq, ...args, '--out', a]);
    expect(rp.code, rp.stdout + rp.stderr).toBe(0);
    const rn = cli(['cluster', '--embeddings', C3X, ...args, '--out', b]);
    expect(rn.code, rn.stderr).toBe(0);
    expect(Array.from(readNpyLabels(a))).toEqual(Array.from(readNpyLabels(b)));
    // a missing vector column is named
    const bad = cli(['cluster', '--embeddings', pq, ...args, '--vector-column', 'nope']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.message).toContain('nope');
  }, 600_000);
});
