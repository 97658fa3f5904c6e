/**
 * Issue 22 (Parquet / Arrow interchange, runs made elsewhere, job bundles for Dask), end to end through the CLI on
 * real photos, real models and real files; interoperability checked against a second, independent implementation
 * (parquet-wasm: the Rust arrow-rs Parquet reader/writer compiled to WebAssembly).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import * as arrow from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import * as pw from 'parquet-wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';
import { openColumnar, readBatches } from '../core/interop/columnar.ts';
import { ColumnarWriter } from '../core/interop/columnar-write.ts';
import { adjustedRandIndex } from '../algo/metrics.ts';

function cli(args: string[], timeout = 300_000, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: (() => { try { return JSON.parse(r.stdout); } catch { return null; } })() };
}

const PY = '/usr/bin/python3';
const pyEnv = { ...process.env } as Record<string, string>;
delete pyEnv.OPENBLAS_CORETYPE; delete pyEnv.OPENBLAS_L2_SIZE;
const hasDask = existsSync(PY) && spawnSync(PY, ['-c', 'import dask.distributed'], { env: pyEnv }).status === 0;

const t = tempDir('constellate-interop-');
afterAll(() => t.cleanup());
const lib = join(t.dir, 'interop.constellate');
const L = ['--library', lib];

function vectors(model: string): Map<number, Float32Array> {
  const db = new Database(lib, { readonly: true });
  try {
    const rows = db.prepare('SELECT item_id, vec FROM embeddings WHERE model = ? ORDER BY item_id').all(model) as Array<{ item_id: number; vec: Buffer }>;
    return new Map(rows.map((r) => [r.item_id, new Float32Array(new Uint8Array(r.vec).buffer)]));
  } finally { db.close(); }
}
function count(sql: string, ...a: unknown[]): number {
  const db = new Database(lib, { readonly: true });
  try { return db.prepare(sql).pluck().get(...a) as number; } finally { db.close(); }
}
function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

describe('Parquet / Arrow interchange (CLI)', () => {
  beforeAll(() => {
    const photos = join(t.dir, 'photos');
    for (const cls of ['daisy', 'roses']) {
      mkdirSync(join(photos, cls), { recursive: true });
      for (const f of readdirSync(sharedPath('data/photos-flowers', cls)).sort().slice(0, 3)) copyFileSync(sharedPath('data/photos-flowers', cls, f), join(photos, cls, f));
    }
    expect(cli(['scan', photos, ...L, '--json']).code).toBe(0);
    expect(cli(['embed', '--model', 'photo', ...L, '--json']).code).toBe(0);
  }, 300_000);

  it('export-embeddings -> import-embeddings reproduces the vectors (parquet, arrow, npy)', () => {
    const ref = vectors('photo');
    expect(ref.size).toBe(6);
    for (const fmt of ['parquet', 'arrow', 'npy'] as const) {
      const out = join(t.dir, `emb.${fmt}`);
      const e = cli(['export-embeddings', '--model', 'photo', '--out', out, '--format', fmt, ...L, '--json']);
      expect(e.code, e.stderr).toBe(0);
      expect(e.json).toMatchObject({ model: 'photo', rows: 6, dim: 1792, format: fmt });
      const args = fmt === 'npy' ? ['import-embeddings', out, '--ids', e.json.ids, '--model', `rt-${fmt}`] : ['import-embeddings', out, '--model', `rt-${fmt}`];
      const r = cli([...args, ...L, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json).toMatchObject({ model: `rt-${fmt}`, imported: 6, unmatched: 0, dim: 1792 });
      const got = vectors(`rt-${fmt}`);
      expect([...got.keys()]).toEqual([...ref.keys()]);
      for (const [id, v] of ref) expect(Array.from(got.get(id)!)).toEqual(Array.from(v)); // bit for bit
    }
  }, 120_000);

  it('export-embeddings --format parquet through the streaming writer (vector pages from the Float32Array) -> import-embeddings, and parquet-wasm reads it', () => {
    const ref = vectors('photo');
    const out = join(t.dir, 'emb-streamed.parquet');
    const e = cli(['export-embeddings', '--model', 'photo', '--out', out, '--format', 'parquet', ...L, '--json'], 300_000, { CONSTELLATE_PARQUET_WASM_LIMIT_MB: '0' });
    expect(e.code, e.stderr).toBe(0);
    expect(e.json).toMatchObject({ model: 'photo', rows: 6, dim: 1792, format: 'parquet' });
    // written by hyparquet-writer (the streaming path), not by parquet-wasm
    const buf = readFileSync(out);
    const md = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    expect(md.created_by).toBe('constellate');
    expect(md.row_groups[0].columns.find((c) => c.meta_data?.path_in_schema[0] === 'embedding')?.meta_data?.codec).toBe('UNCOMPRESSED');
    const r = cli(['import-embeddings', out, '--model', 'rt-streamed', ...L, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ model: 'rt-streamed', imported: 6, unmatched: 0, dim: 1792 });
    const got = vectors('rt-streamed');
    expect([...got.keys()]).toEqual([...ref.keys()]);
    for (const [id, v] of ref) expect(Array.from(got.get(id)!)).toEqual(Array.from(v)); // bit for bit
    const tb = arrow.tableFromIPC(pw.readParquet(readFileSync(out)).intoIPCStream());
    expect(tb.numRows).toBe(6);
    const emb = tb.getChild('embedding')!;
    for (let i = 0; i < 6; i++) expect((emb.get(i) as arrow.Vector).length).toBe(1792);
  }, 120_000);

  it('export --format parquet -> import-run reproduces the labels, with centroids, samples and metrics computed here', () => {
    const c = cli(['cluster', '--model', 'photo', '--algo', 'kmeans', '--k', '2', ...L, '--json']);
    expect(c.code, c.stderr).toBe(0);
    const runId = c.json.runId;
    const to = join(t.dir, 'runs');
    const x = cli(['export', '--run', String(runId), '--to', to, '--format', 'parquet', ...L, '--json']);
    expect(x.code, x.stderr).toBe(0);
    expect(x.json.out).toBe(join(to, `run-${runId}.parquet`));
    const src = openColumnar(x.json.out);
    expect(src.columns.map((col) => col.name)).toEqual(['item', 'kind', 'id', 'path', 'box', 'cluster', 'name', 'curated', 'similarity', 'distance']);
    const r = cli(['import-run', x.json.out, '--model', 'photo', ...L, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ items: 6, clusters: 2, unmatched: 0 });
    expect(r.json.runId).toBeGreaterThan(runId);
    const labels = (run: number) => {
      const db = new Database(lib, { readonly: true });
      try { return db.prepare('SELECT item_id, cluster FROM assignments WHERE run_id = ? ORDER BY item_id').all(run); } finally { db.close(); }
    };
    expect(labels(r.json.runId)).toEqual(labels(runId));
    const cl = cli(['clusters', '--run', String(r.json.runId), ...L, '--json']);
    expect(cl.code).toBe(0);
    expect((cl.json as unknown[]).length).toBe(2);
    const dbc = new Database(lib, { readonly: true });
    const groups = dbc.prepare('SELECT top, tail, mean_sim FROM clusters WHERE run_id = ?').all(r.json.runId) as Array<{ top: string; tail: string; mean_sim: number }>;
    dbc.close();
    for (const g of groups) { expect(JSON.parse(g.top).length).toBeGreaterThan(0); expect(JSON.parse(g.tail).length).toBeGreaterThan(0); expect(g.mean_sim).toBeGreaterThan(0); }
    const db = new Database(lib, { readonly: true });
    const run = db.prepare('SELECT algo, metrics FROM runs WHERE id = ?').get(r.json.runId) as { algo: string; metrics: string };
    const cents = db.prepare('SELECT COUNT(*) FROM clusters WHERE run_id = ? AND length(centroid) = 1792 * 4').pluck().get(r.json.runId);
    db.close();
    expect(run.algo).toBe('imported');
    expect(JSON.parse(run.metrics).silhouette).not.toBeNull();
    expect(cents).toBe(2);
    // a run from another engine by path, with string labels and a probability column
    const file = join(t.dir, 'elsewhere.parquet');
    const paths = src.columns.length ? readPaths(x.json.out) : [];
    return writeRun(file, paths).then(() => {
      const e = cli(['import-run', file, '--model', 'photo', ...L, '--json']);
      expect(e.code, e.stderr).toBe(0);
      expect(e.json).toMatchObject({ items: 6, clusters: 2, noise: 1, unmatched: 1 });
    });
  }, 120_000);

  it('import-labels reads Parquet (path, label)', async () => {
    const paths = await readPathsAsync(join(t.dir, 'emb.parquet'));
    const file = join(t.dir, 'labels.parquet');
    const w = await ColumnarWriter.create(file, 'parquet', [{ name: 'path', type: 'string' }, { name: 'label', type: 'string' }]);
    w.write({ path: paths, label: paths.map((p) => (p.includes('/daisy/') ? 'daisy' : 'rose')) }, paths.length);
    w.finish();
    const r = cli(['import-labels', file, ...L, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ mode: 'parquet', rows: 6, matched: 6, photos: 6, labels: 2 });
  }, 60_000);

  it('interoperates with a second implementation (parquet-wasm): each reads what the other wrote, identically', async () => {
    // ours -> parquet-wasm
    const ours = join(t.dir, 'emb.parquet');
    const table = arrow.tableFromIPC(pw.readParquet(readFileSync(ours)).intoIPCStream());
    const src = openColumnar(ours);
    let mine: { ids: string[]; X: Float32Array } | null = null;
    for await (const b of readBatches(src, { scalars: ['id'], vectors: ['embedding'] })) mine = { ids: Array.from(b.cols.id as string[]), X: b.vectors.embedding.X };
    expect(table.numRows).toBe(6);
    expect(table.getChild('id')!.toArray()).toEqual(mine!.ids);
    const emb = table.getChild('embedding')!;
    for (let i = 0; i < 6; i++) expect(Array.from(emb.get(i)!.toArray() as Float32Array)).toEqual(Array.from(mine!.X.subarray(i * 1792, (i + 1) * 1792)));
    // parquet-wasm -> ours: a fixed-size list of float32 (as Arrow / Ray write it), several row groups
    const n = 6, d = 1792;
    const X = mine!.X;
    const fsl = arrow.makeVector(arrow.makeData({
      type: new arrow.FixedSizeList(d, new arrow.Field('item', new arrow.Float32(), false)), length: n, nullCount: 0,
      child: arrow.makeData({ type: new arrow.Float32(), length: n * d, data: X }),
    }));
    const t2 = new arrow.Table({ id: arrow.vectorFromArray(mine!.ids, new arrow.Utf8()), vec: fsl });
    const props = new pw.WriterPropertiesBuilder().setMaxRowGroupSize(4).build();
    const theirs = join(t.dir, 'theirs.parquet');
    writeFileSync(theirs, pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(t2, 'stream')), props));
    const s2 = openColumnar(theirs);
    expect(s2.parts.length).toBe(2);
    const r = cli(['import-embeddings', theirs, '--model', 'from-wasm', '--vector-column', 'vec', ...L, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ imported: 6, dim: 1792, format: 'parquet' });
    const ref = vectors('photo'), got = vectors('from-wasm');
    for (const [id, v] of ref) expect(Array.from(got.get(id)!)).toEqual(Array.from(v));
    // our Arrow IPC file read by apache-arrow, and an Arrow file written by apache-arrow read by us
    const a = arrow.tableFromIPC(readFileSync(join(t.dir, 'emb.arrow')));
    expect(a.getChild('id')!.toArray()).toEqual(mine!.ids);
    expect(Array.from(a.getChild('embedding')!.get(5)!.toArray() as Float32Array)).toEqual(Array.from(X.subarray(5 * d, 6 * d)));
    const af = join(t.dir, 'theirs.arrow');
    writeFileSync(af, arrow.tableToIPC(t2, 'file'));
    const r2 = cli(['import-embeddings', af, '--model', 'from-arrow', '--vector-column', 'vec', ...L, '--json']);
    expect(r2.code, r2.stderr).toBe(0);
    for (const [id, v] of ref) expect(Array.from(vectors('from-arrow').get(id)!)).toEqual(Array.from(v));
  }, 120_000);

  it('bad files are BAD_FILE naming the file and column, and store nothing', async () => {
    const models = count('SELECT COUNT(*) FROM models');
    const embs = count('SELECT COUNT(*) FROM embeddings');
    const ours = join(t.dir, 'emb.parquet');
    const wrongCol = cli(['import-embeddings', ours, '--model', 'bad1', '--vector-column', 'vectors', ...L, '--json']);
    expect(wrongCol.code).toBe(2);
    expect(wrongCol.json.error.code).toBe('BAD_FILE');
    expect(wrongCol.json.error.message).toContain(ours);
    expect(wrongCol.json.error.message).toContain("'vectors'");
    const wrongType = cli(['import-embeddings', ours, '--model', 'bad2', '--vector-column', 'path', ...L, '--json']);
    expect(wrongType.code).toBe(2);
    expect(wrongType.json.error).toMatchObject({ code: 'BAD_FILE' });
    expect(wrongType.json.error.message).toMatch(/column 'path' is .*expected a list of float32/);
    const wrongId = cli(['import-embeddings', ours, '--model', 'bad3', '--id-column', 'nope', ...L, '--json']);
    expect(wrongId.json.error.code).toBe('BAD_FILE');
    expect(wrongId.json.error.message).toContain("'nope'");
    const bytes = readFileSync(ours);
    for (const [name, cut] of [['head.parquet', bytes.subarray(0, Math.floor(bytes.length / 2))], ['tail.parquet', Buffer.concat([bytes.subarray(0, 4), bytes.subarray(bytes.length / 2)])]] as const) {
      const f = join(t.dir, name);
      writeFileSync(f, cut);
      const r = cli(['import-embeddings', f, '--model', 'bad4', ...L, '--json']);
      expect(r.code).toBe(2);
      expect(r.json.error.code).toBe('BAD_FILE');
      expect(r.json.error.message).toContain(f);
    }
    // a file whose footer is fine but whose data pages are damaged: found while reading, nothing stored
    const dam = Buffer.from(bytes);
    for (let i = 8; i < Math.min(dam.length - 2000, 30_000); i++) dam[i] = 0xff;
    const df = join(t.dir, 'damaged.parquet');
    writeFileSync(df, dam);
    const r = cli(['import-embeddings', df, '--model', 'bad5', ...L, '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error.code).toBe('BAD_FILE');
    const badRun = cli(['import-run', ours, '--model', 'photo', '--cluster-column', 'nope', ...L, '--json']);
    expect(badRun.json.error.code).toBe('BAD_FILE');
    expect(badRun.json.error.message).toContain("'nope'");
    expect(count('SELECT COUNT(*) FROM models')).toBe(models);
    expect(count('SELECT COUNT(*) FROM embeddings')).toBe(embs);
    expect(count("SELECT COUNT(*) FROM models WHERE name LIKE 'bad%'")).toBe(0);
  }, 120_000);

  it('cluster --embeddings X.parquet streams mini-batch k-means over the row groups', async () => {
    // three separated blobs, 150 rows each, in row groups of 50
    const n = 450, d = 16;
    const X = new Float32Array(n * d);
    const y = new Int32Array(n);
    let s = 1;
    const rnd = () => { s = (s * 1103515245 + 12345) >>> 0; return s / 2 ** 32 - 0.5; };
    for (let i = 0; i < n; i++) { y[i] = i % 3; for (let p = 0; p < d; p++) X[i * d + p] = (p % 3 === y[i] ? 3 : 0) + 0.3 * rnd(); }
    const file = join(t.dir, 'blobs.parquet');
    // written by the streaming writer (hyparquet-writer, one row group per batch), read by ours and by parquet-wasm
    const w = await ColumnarWriter.create(file, 'parquet', [{ name: 'id', type: 'int32' }, { name: 'embedding', type: 'vector' }], { d, streaming: true });
    for (let r0 = 0; r0 < n; r0 += 50) w.write({ id: Int32Array.from({ length: 50 }, (_, t2) => r0 + t2), embedding: X.slice(r0 * d, (r0 + 50) * d) }, 50);
    w.finish();
    // the second implementation reads it too (a file without metadata of ours: hyparquet-writer's empty key-value list was unreadable to it)
    expect(arrow.tableFromIPC(pw.readParquet(readFileSync(file)).intoIPCStream()).numRows).toBe(n);
    const out = join(t.dir, 'blobs-labels.npy');
    const r = cli(['cluster', '--embeddings', file, '--algo', 'minibatch-kmeans', '--k', '3', '--batch-size', '32', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ n, d, clusters: 3, record: { streamed: true, rowGroups: 9 } });
    const buf = readFileSync(out);
    const hl = buf.readUInt16LE(8);
    const labels = new Int32Array(buf.buffer.slice(buf.byteOffset + 10 + hl, buf.byteOffset + buf.length));
    expect(adjustedRandIndex(Array.from(y), Array.from(labels))).toBeGreaterThan(0.99);
    // the algorithms that need every row read the row groups into one shared matrix (no longer refused)
    const other = cli(['cluster', '--embeddings', file, '--algo', 'hdbscan', '--json']);
    expect(other.code, other.stderr).toBe(0);
    expect(other.json).toMatchObject({ n, d });
  }, 120_000);

  it.skipIf(!hasDask)('a job bundle run on Dask (LocalCluster, 2 workers) gives the in-app embeddings (cosine >= 0.9999)', () => {
    const dir = join(t.dir, 'job');
    const j = cli(['export-job', '--model', 'photo', '--to', dir, '--partition-rows', '4', ...L, '--json']);
    expect(j.code, j.stderr).toBe(0);
    expect(j.json).toMatchObject({ dir, items: 6, partitions: 2 });
    for (const f of ['items.parquet', 'job.json', 'run_dask.py', 'model/photo.onnx', 'model/checksums.json', 'model/manifest.json']) expect(statSync(join(dir, f)).size).toBeGreaterThan(0);
    // one partition by hand: the worker's command
    const one = cli(['embed-files', '--manifest', join(dir, 'items.parquet'), '--rows', '4:6', '--out', join(t.dir, 'one.parquet'), '--json']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.json).toMatchObject({ rows: 2, out: join(t.dir, 'one.parquet'), range: [4, 6] });
    const bad = cli(['embed-files', '--manifest', join(dir, 'items.parquet'), '--rows', '4:99', '--out', join(t.dir, 'x.parquet'), '--json']);
    expect(bad.code).toBe(2);
    const py = spawnSync(PY, [join(dir, 'run_dask.py'), '--workers', '2'], { env: pyEnv, encoding: 'utf8', timeout: 400_000 });
    expect(py.status, py.stderr.slice(-3000)).toBe(0);
    expect(JSON.parse(py.stdout.trim().split('\n').pop()!)).toMatchObject({ partitions: 2, rows: 6, workers: 2 });
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['part-000000000-000000004.parquet', 'part-000000004-000000006.parquet']);
    const imp = cli(['import-embeddings', join(dir, 'out'), '--model', 'photo-dask', ...L, '--json']);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.json).toMatchObject({ imported: 6, files: 2, unmatched: 0 });
    const ref = vectors('photo'), got = vectors('photo-dask');
    for (const [id, v] of ref) expect(cosine(v, got.get(id)!)).toBeGreaterThanOrEqual(0.9999);
  }, 600_000);
});

describe('job bundle for faces: embed-files aligns crops from the app\'s landmarks', () => {
  const ft = tempDir('constellate-interop-face-');
  afterAll(() => ft.cleanup());
  const flib = join(ft.dir, 'faces.constellate');
  it('embed-files on a face bundle reproduces the in-app face embeddings', () => {
    const photos = join(ft.dir, 'photos');
    mkdirSync(photos, { recursive: true });
    const src = sharedPath('data/faces-london');
    const files = findImages(src).slice(0, 3);
    files.forEach((f, i) => copyFileSync(f, join(photos, `${i}-${f.split('/').pop()}`)));
    expect(cli(['scan', photos, '--library', flib, '--json']).code).toBe(0);
    expect(cli(['embed', '--model', 'face', '--library', flib, '--json']).code).toBe(0);
    const dir = join(ft.dir, 'job');
    const j = cli(['export-job', '--model', 'face', '--to', dir, '--library', flib, '--json']);
    expect(j.code, j.stderr).toBe(0);
    expect(j.json.items).toBeGreaterThan(0);
    const part = join(dir, 'out', 'part.parquet');
    const e = cli(['embed-files', '--manifest', join(dir, 'items.parquet'), '--rows', `0:${j.json.items}`, '--out', part, '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.json.rows).toBe(j.json.items);
    const imp = cli(['import-embeddings', join(dir, 'out'), '--model', 'face-dask', '--library', flib, '--json']);
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.json).toMatchObject({ kind: 'face', imported: j.json.items, facesCreated: 0 });
    const db = new Database(flib, { readonly: true });
    const q = db.prepare('SELECT a.vec AS a, b.vec AS b FROM embeddings a JOIN embeddings b ON b.item_id = a.item_id AND b.model = ? WHERE a.model = ?');
    const pairs = q.all('face-dask', 'face') as Array<{ a: Buffer; b: Buffer }>;
    db.close();
    expect(pairs.length).toBe(j.json.items);
    for (const p of pairs) expect(cosine(new Float32Array(new Uint8Array(p.a).buffer), new Float32Array(new Uint8Array(p.b).buffer))).toBeGreaterThanOrEqual(0.9999);
  }, 300_000);
});

function findImages(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findImages(p));
    else if (/\.(jpe?g|png)$/i.test(e.name)) out.push(p);
    if (out.length >= 10) break;
  }
  return out;
}

function readPaths(file: string): string[] {
  // synchronous helper for the run test: the paths of a run export (via parquet-wasm, the other implementation)
  const tb = arrow.tableFromIPC(pw.readParquet(readFileSync(file)).intoIPCStream());
  return Array.from(tb.getChild('path')!.toArray() as string[]);
}

async function readPathsAsync(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const b of readBatches(openColumnar(file), { scalars: ['path'] })) for (let i = 0; i < b.n; i++) out.push(String(b.cols.path[i]));
  return out;
}

/** A run "clustered elsewhere": path, a string label (one row noise, one a photo not in the library), probability. */
async function writeRun(file: string, paths: string[]): Promise<void> {
  const ps = [...paths, '/nowhere/else.jpg'];
  const labels = ps.map((p, i) => (i === 0 ? '-1' : p.includes('/daisy/') ? 'daisy' : 'rose'));
  const w = await ColumnarWriter.create(file, 'parquet', [{ name: 'path', type: 'string' }, { name: 'label', type: 'string' }, { name: 'probability', type: 'float64' }]);
  w.write({ path: ps, label: labels, probability: ps.map(() => 0.9) }, ps.length);
  w.finish();
}
