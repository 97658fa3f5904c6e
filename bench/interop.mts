/**
 * Benchmark of the interchange with other engines (issue 22). Each part prints a Markdown block and writes
 * bench/results/interop-PART.json.
 *
 *   npx tsx bench/interop.mts libs   [N=100000]   Parquet libraries: hyparquet(-writer) against parquet-wasm, N x 512 float32
 *   npx tsx bench/interop.mts import [N=1000000]  import-embeddings of N x 512 synthetic rows (a library of N synthetic items): time, peak RSS
 *   npx tsx bench/interop.mts stream [N=1000000] [K=1000] [CAP_MB]  cluster --embeddings X.parquet --algo minibatch-kmeans streamed,
 *                                                 in a cgroup with memory.max = CAP_MB (default: half the matrix) when one can be made
 *   npx tsx bench/interop.mts blobs PREFIX [GROUP=16384]  gen_blobs.py's PREFIX_X.npy / PREFIX_y.npy as a folder of Parquet parts (BENCH_DIR/PREFIX-rgGROUP)
 *   (import, stream: BLOBS=PREFIX reads those parts instead of the bench's own blob rows; stream: GROUP=rows per row group)
 *   npx tsx bench/interop.mts write  [N=262144] [BEFORE_N=16384]  the streaming Parquet writer (exports past 768 MB), N x 512:
 *                                                 vector pages from the Float32Array, against hyparquet-writer's dremel encoder on BEFORE_N
 *   npx tsx bench/interop.mts dask   [M=1000]     cifar10 subset: in-app embed job vs export-job + Dask LocalCluster (2 workers), cosine per row
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { Library } from '../src-main/core/library.ts';
import { SHARED } from '../src-main/testing/fixtures.ts';
import { openColumnar, readBatches, readVectorRowGroup } from '../src-main/core/interop/columnar.ts';
import { ColumnarWriter } from '../src-main/core/interop/columnar-write.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'src-main/cli/bin.mjs');
const work = process.env.BENCH_DIR ?? join(tmpdir(), 'constellate-bench-interop');
mkdirSync(work, { recursive: true });
mkdirSync(join(root, 'bench/results'), { recursive: true });
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
const mb = (b: number) => Math.round(b / 1048576);

function rng(seed: number) { let s = seed >>> 0; return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; }; }

/** Synthetic blobs (gen_blobs.py's recipe: centres ~ N(0,1), rows = centre + 0.3 N(0,1)), rows [r0, r0 + n). */
function blobRows(r0: number, n: number, d: number, centres: number, seed = 7): Float32Array {
  const C = new Float32Array(centres * d);
  const rc = rng(seed);
  const g = (r: () => number) => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  for (let i = 0; i < C.length; i++) C[i] = g(rc);
  const X = new Float32Array(n * d);
  const r = rng(seed * 31 + r0);
  for (let i = 0; i < n; i++) {
    const c = (r0 + i) % centres;
    for (let p = 0; p < d; p++) X[i * d + p] = C[c * d + p] + 0.3 * g(r);
  }
  return X;
}

async function writeBlobParquet(file: string, n: number, d: number, centres: number, group = 16384): Promise<number> {
  if (existsSync(file)) return 0;
  const t0 = performance.now();
  const w = await ColumnarWriter.create(file, 'parquet', [{ name: 'id', type: 'string' }, { name: 'embedding', type: 'vector' }], { d });
  for (let r0 = 0; r0 < n; r0 += group) {
    const m = Math.min(group, n - r0);
    w.write({ id: Array.from({ length: m }, (_, i) => `photo:${r0 + i + 1}`), embedding: blobRows(r0, m, d, centres) }, m);
  }
  w.finish();
  return (performance.now() - t0) / 1000;
}

/** Runs the CLI under /usr/bin/time: wall seconds, peak RSS (MB) and its JSON. */
function timedCli(args: string[], opts: { cgroup?: string; nodeArgs?: string[] } = {}): { wall: number; rssMb: number; json: unknown; code: number | null; stderr: string } {
  const cmd = ['/usr/bin/time', '-f', '%e %M', process.execPath, ...(opts.nodeArgs ?? []), bin, ...args];
  const full = opts.cgroup ? ['sh', '-c', `echo $$ > ${opts.cgroup}/cgroup.procs && exec "$@"`, 'sh', ...cmd] : cmd;
  const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8', maxBuffer: 1 << 28 });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [wall, kb] = last.split(' ').map(Number);
  let json: unknown = null;
  try { json = JSON.parse(r.stdout); } catch { /* error output */ }
  return { wall, rssMb: Math.round(kb / 1024), json, code: r.status, stderr: r.stderr.slice(-2000) };
}

function save(part: string, result: unknown, md: string): void {
  writeFileSync(join(root, `bench/results/interop-${part}.json`), JSON.stringify(result, null, 2));
  console.log(md);
}

async function libs(n: number): Promise<void> {
  const d = 512;
  const file = join(work, `libs-${n}.parquet`);
  rmSync(file, { force: true });
  const l0 = load();
  const tw = await writeBlobParquet(file, n, d, 100);
  const size = statSync(file).size;
  // hyparquet, row group by row group into one Float32Array
  let t0 = performance.now();
  const X = new Float32Array(n * d);
  for await (const b of readBatches(openColumnar(file), { scalars: ['id'], vectors: ['embedding'] })) X.set(b.vectors.embedding.X, b.start * d);
  const tr = (performance.now() - t0) / 1000;
  // parquet-wasm: the whole file to an Arrow table (wasm memory), then the float32 child values into one Float32Array
  t0 = performance.now();
  const tb = arrow.tableFromIPC(pw.readParquet(readFileSync(file)).intoIPCStream());
  const Y = new Float32Array(n * d);
  let o = 0;
  for (const c of tb.getChild('embedding')!.data) { const v = c.children[0].values as Float32Array; Y.set(v.subarray(c.children[0].offset, c.children[0].offset + c.length * d), o); o += c.length * d; }
  const tp = (performance.now() - t0) / 1000;
  let same = true;
  for (let i = 0; i < X.length; i += 9973) if (X[i] !== Y[i]) { same = false; break; }
  // parquet-wasm writer on the same table
  t0 = performance.now();
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(tb, 'stream')), new pw.WriterPropertiesBuilder().setMaxRowGroupSize(16384).build());
  const tpw = (performance.now() - t0) / 1000;
  const res = { n, d, fileMb: mb(size), hyparquetWriteS: tw, hyparquetReadS: tr, parquetWasmReadS: tp, parquetWasmWriteS: tpw, parquetWasmMb: mb(bytes.length), identical: same, load: [l0, load()] };
  save('libs', res, [
    `Parquet libraries, ${n.toLocaleString('en')} x ${d} float32 (${mb(size)} MB file, row groups of 16,384), load ${l0}:`, '',
    '| library | write | read into one Float32Array | streams by row group |', '|---|---|---|---|',
    `| hyparquet-writer / hyparquet (pure JS) | ${tw.toFixed(1)} s | ${tr.toFixed(1)} s | yes (byte ranges of one row group) |`,
    `| parquet-wasm (arrow-rs in WebAssembly) + apache-arrow | ${tpw.toFixed(1)} s | ${tp.toFixed(1)} s | no (whole file in wasm memory, 4 GB cap) |`,
    '', `same values: ${same}`,
  ].join('\n'));
}

/**
 * The large inputs as another engine writes them: a folder of Parquet parts (parquet-wasm, the arrow-rs writer; row
 * groups of 16,384), id = photo:N and a fixed-size list of float32. (hyparquet-writer needs a JS array per row and is
 * too slow on this loaded machine for 2 GB; see the libs part.)
 */
function writeBlobParts(dir: string, n: number, d: number, centres: number, partRows = 65_536, group = 16384): number {
  if (existsSync(join(dir, '_done'))) return 0;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const props = () => new pw.WriterPropertiesBuilder().setMaxRowGroupSize(group).build();
  for (let r0 = 0, p = 0; r0 < n; r0 += partRows, p++) {
    const m = Math.min(partRows, n - r0);
    const X = blobRows(r0, m, d, centres);
    const fsl = arrow.makeVector(arrow.makeData({ type: new arrow.FixedSizeList(d, new arrow.Field('item', new arrow.Float32(), false)), length: m, nullCount: 0,
      child: arrow.makeData({ type: new arrow.Float32(), length: m * d, data: X }) }));
    const t = new arrow.Table({ id: arrow.vectorFromArray(Array.from({ length: m }, (_, i) => `photo:${r0 + i + 1}`), new arrow.Utf8()), embedding: fsl });
    writeFileSync(join(dir, `part-${String(p).padStart(5, '0')}.parquet`), pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(t, 'stream')), props()));
  }
  writeFileSync(join(dir, '_done'), '');
  return (performance.now() - t0) / 1000;
}

/** The header of a little-endian .npy file (v1-v3): dtype, shape, where the data starts. */
function npyHeader(file: string): { descr: string; shape: number[]; offset: number } {
  const fd = openSync(file, 'r');
  try {
    const h = Buffer.alloc(12);
    readSync(fd, h, 0, 12, 0);
    const major = h[6];
    const len = major === 1 ? h.readUInt16LE(8) : h.readUInt32LE(8);
    const start = major === 1 ? 10 : 12;
    const txt = Buffer.alloc(len);
    readSync(fd, txt, 0, len, start);
    const t = txt.toString('latin1');
    const descr = /'descr':\s*'([^']+)'/.exec(t)![1];
    const shape = /'shape':\s*\(([^)]*)\)/.exec(t)![1].split(',').map((x) => x.trim()).filter(Boolean).map(Number);
    return { descr, shape, offset: start + len };
  } finally { closeSync(fd); }
}

/**
 * gen_blobs.py's output (PREFIX_X.npy float32 N x D, PREFIX_y.npy int32 N) as a folder of Parquet parts written by
 * parquet-wasm (as another engine would): id = photo:N (row N-1), label, embedding (fixed-size list of float32).
 * Reads the .npy a part at a time (memory: one part).
 */
function npyToParts(prefix: string, dir: string, partRows = 65_536, group = 16_384): { n: number; d: number; seconds: number } {
  const hx = npyHeader(`${prefix}_X.npy`), hy = npyHeader(`${prefix}_y.npy`);
  if (hx.descr !== '<f4' || hy.descr !== '<i4') throw new Error(`expected <f4 and <i4 .npy files, got ${hx.descr} ${hy.descr}`);
  const [n, d] = hx.shape;
  if (existsSync(join(dir, '_done'))) return { n, d, seconds: 0 };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const fx = openSync(`${prefix}_X.npy`, 'r'), fy = openSync(`${prefix}_y.npy`, 'r');
  const props = () => new pw.WriterPropertiesBuilder().setMaxRowGroupSize(group).build();
  try {
    for (let r0 = 0, p = 0; r0 < n; r0 += partRows, p++) {
      const m = Math.min(partRows, n - r0);
      const X = new Float32Array(m * d), y = new Int32Array(m);
      readSync(fx, new Uint8Array(X.buffer), 0, X.byteLength, hx.offset + r0 * d * 4);
      readSync(fy, new Uint8Array(y.buffer), 0, y.byteLength, hy.offset + r0 * 4);
      const fsl = arrow.makeVector(arrow.makeData({ type: new arrow.FixedSizeList(d, new arrow.Field('item', new arrow.Float32(), false)), length: m, nullCount: 0,
        child: arrow.makeData({ type: new arrow.Float32(), length: m * d, data: X }) }));
      const t = new arrow.Table({
        id: arrow.vectorFromArray(Array.from({ length: m }, (_, i) => `photo:${r0 + i + 1}`), new arrow.Utf8()),
        label: arrow.makeVector(y), embedding: fsl,
      });
      writeFileSync(join(dir, `part-${String(p).padStart(5, '0')}.parquet`), pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(t, 'stream')), props()));
    }
  } finally { closeSync(fx); closeSync(fy); }
  writeFileSync(join(dir, '_done'), '');
  return { n, d, seconds: (performance.now() - t0) / 1000 };
}

function dirMb(dir: string): number { return mb(readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0)); }

function syntheticLibrary(path: string, n: number): void {
  if (existsSync(path)) return;
  const lib = Library.open(path);
  lib.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const now = Date.now();
  db.prepare(`INSERT INTO roots (id, path, added_at) VALUES (1, '/synthetic', ?)`).run(now);
  const ins = db.prepare(`INSERT INTO photos (id, root_id, path, rel_path, folder, size, mtime_ms, hash, width, height, format, added_at, updated_at)
    VALUES (?, 1, ?, ?, 'synthetic', 1, 0, ?, 1, 1, 'jpeg', ?, ?)`);
  db.transaction(() => { for (let i = 1; i <= n; i++) ins.run(i, `/synthetic/${i}.jpg`, `${i}.jpg`, i.toString(16).padStart(32, '0'), now, now); })();
  db.close();
}

async function importBench(n: number): Promise<void> {
  const blobs = process.env.BLOBS;
  const d = 512;
  // BLOBS=PREFIX: gen_blobs.py's PREFIX_X.npy / PREFIX_y.npy (n from the file), else the bench's own blob rows
  const file = blobs ? join(work, `${basename(blobs)}-rg16384`) : join(work, `blobs-${n}`);
  const l0 = load();
  const gen = blobs ? npyToParts(blobs, file).seconds : writeBlobParts(file, n, d, 1000);
  if (blobs) n = npyHeader(`${blobs}_X.npy`).shape[0];
  const libPath = join(work, `import-${n}.constellate`);
  for (const f of readdirSync(work)) if (f.startsWith(`import-${n}.constellate`)) rmSync(join(work, f), { recursive: true, force: true });
  syntheticLibrary(libPath, n);
  const r = timedCli(['import-embeddings', file, '--model', 'synth', '--library', libPath, '--json']);
  if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
  const res = { n, d, matrixMb: mb(n * d * 4), fileMb: dirMb(file), generateS: gen, importWallS: r.wall, peakRssMb: r.rssMb, report: r.json, load: [l0, load()] };
  save('import', res, `import-embeddings of ${n.toLocaleString('en')} x ${d} float32 from a folder of Parquet parts written by parquet-wasm (${dirMb(file)} MB, row groups of 16,384; matrix ${mb(n * d * 4)} MB) into a library of ${n.toLocaleString('en')} synthetic items: ` +
    `${r.wall.toFixed(1)} s wall, peak RSS ${r.rssMb} MB (load ${l0})`);
}

/** A memory cgroup capped at capMb (v1 memory.limit_in_bytes, else v2 memory.max), or null when none can be made. */
function makeCgroup(capMb: number): string | null {
  for (const [cg, file] of [['/sys/fs/cgroup/memory/constellate-bench-interop', 'memory.limit_in_bytes'], ['/sys/fs/cgroup/constellate-bench-interop', 'memory.max']] as const) {
    try {
      if (!existsSync(cg)) mkdirSync(cg);
      writeFileSync(join(cg, file), String(capMb * 1048576));
      return cg;
    } catch { /* try the next layout */ }
  }
  return null;
}

async function streamBench(n: number, k: number, capMb: number | null): Promise<void> {
  const d = 512;
  // row groups of 4,096 rows (8 MB of vectors): the streaming reader holds one row group decoded
  const blobs = process.env.BLOBS;
  const group = Number(process.env.GROUP ?? 4096);
  const file = blobs ? join(work, `${basename(blobs)}-rg${group}`) : join(work, `blobs-${n}-rg${group}`);
  if (blobs) { npyToParts(blobs, file, 65_536, group); n = npyHeader(`${blobs}_X.npy`).shape[0]; } else writeBlobParts(file, n, d, 1000, 65_536, group);
  const cap = capMb ?? Math.floor(mb(n * d * 4) / 2);
  const cg = makeCgroup(cap);
  const l0 = load();
  const args = ['cluster', '--embeddings', file, '--algo', 'minibatch-kmeans', '--k', String(k), '--max-epochs', '1', ...(blobs ? ['--labels', `${blobs}_y.npy`] : []), '--json'];
  const r = timedCli(args, { cgroup: cg ?? undefined, nodeArgs: [`--max-old-space-size=${Math.min(cap, 1024)}`] });
  if (r.code !== 0) throw new Error(`cluster failed (${r.code}): ${r.stderr}`);
  const cgPeak = cg && existsSync(join(cg, 'memory.max_usage_in_bytes')) ? mb(Number(readFileSync(join(cg, 'memory.max_usage_in_bytes'), 'utf8'))) : null;
  const j = r.json as { record: Record<string, unknown>; clusters: number; silhouette: number | null; timings: { wall: number }; ami?: number; ari?: number };
  const res = { n, d, k, group, matrixMb: mb(n * d * 4), capMb: cap, cgroup: !!cg, wallS: r.wall, peakRssMb: r.rssMb, cgroupPeakMb: cgPeak, record: j.record, clusters: j.clusters, silhouette: j.silhouette, ami: j.ami ?? null, ari: j.ari ?? null, load: [l0, load()] };
  save('stream', res, `mini-batch k-means k = ${k} streamed from Parquet, ${n.toLocaleString('en')} x ${d} (matrix ${mb(n * d * 4)} MB), ` +
    `(row groups of ${group.toLocaleString('en')}) ${cg ? `in a cgroup with memory.max = ${cap} MB` : `--max-old-space-size=${Math.min(cap, 1024)} (no cgroup could be made)`}, one epoch (--max-epochs 1): ` +
    `${r.wall.toFixed(1)} s wall, peak RSS ${r.rssMb} MB${cgPeak !== null ? ` (cgroup peak ${cgPeak} MB)` : ''}, ${String(j.record.steps)} steps over ${String(j.record.rowGroups)} row groups, ${j.clusters} clusters${j.ami !== undefined ? `, AMI ${j.ami.toFixed(3)} / ARI ${j.ari!.toFixed(3)} vs gen_blobs.py's labels` : ''} (load ${l0})`);
}

function daskBench(m: number): void {
  const src = join(SHARED, 'data/photos-cifar10');
  const dir = join(work, `cifar-${m}`);
  rmSync(dir, { recursive: true, force: true });
  const classes = readdirSync(src).sort();
  const per = Math.ceil(m / classes.length);
  for (const c of classes) {
    mkdirSync(join(dir, 'photos', c), { recursive: true });
    for (const f of readdirSync(join(src, c)).sort().slice(0, per)) copyFileSync(join(src, c, f), join(dir, 'photos', c, f));
  }
  const lib = join(dir, 'lib.constellate');
  const L = ['--library', lib];
  const l0 = load();
  execFileSync(process.execPath, [bin, 'scan', join(dir, 'photos'), ...L, '--json'], { stdio: ['ignore', 'ignore', 'ignore'] });
  const e = timedCli(['embed', '--model', 'photo', ...L, '--json']);
  // partitions of 125 rows up to 1,000 photos, else 8 partitions (each partition starts a process and loads the model)
  const partRows = Number(process.env.PARTITION_ROWS ?? Math.max(125, Math.ceil(m / 8)));
  const j = timedCli(['export-job', '--model', 'photo', '--to', join(dir, 'job'), '--partition-rows', String(partRows), ...L, '--json']);
  const env = { ...process.env } as Record<string, string>;
  delete env.OPENBLAS_CORETYPE; delete env.OPENBLAS_L2_SIZE;
  const t0 = performance.now();
  const py = spawnSync('/usr/bin/python3', [join(dir, 'job', 'run_dask.py'), '--workers', '2'], { env, encoding: 'utf8' });
  const daskS = (performance.now() - t0) / 1000;
  if (py.status !== 0) throw new Error(`dask failed: ${py.stderr.slice(-2000)}`);
  const im = timedCli(['import-embeddings', join(dir, 'job', 'out'), '--model', 'photo-dask', ...L, '--json']);
  const db = new Database(lib, { readonly: true });
  const rows = db.prepare(`SELECT a.vec AS a, b.vec AS b FROM embeddings a JOIN embeddings b ON b.item_id = a.item_id AND b.model = 'photo-dask' WHERE a.model = 'photo'`).all() as Array<{ a: Buffer; b: Buffer }>;
  db.close();
  let min = 1, sum = 0;
  for (const r of rows) {
    const a = new Float32Array(new Uint8Array(r.a).buffer), b = new Float32Array(new Uint8Array(r.b).buffer);
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
    const c = ab / Math.sqrt(aa * bb);
    min = Math.min(min, c); sum += c;
  }
  const ej = e.json as { processed: number; seconds: number };
  const jj = j.json as { partitions: number };
  const res = { photos: ej.processed, partitionRows: partRows, inAppWallS: e.wall, inAppJobS: ej.seconds, exportJobS: j.wall, daskWallS: daskS, importS: im.wall, partitions: jj.partitions, rows: rows.length, cosineMin: min, cosineMean: sum / rows.length, cores: cpus().length, load: [l0, load()] };
  save('dask', res, [
    `cifar10 subset of ${ej.processed.toLocaleString('en')} photos (${per} per class), load ${l0} on ${cpus().length} cores:`, '',
    '| | wall |', '|---|---|',
    `| in-app embed job (worker per core) | ${e.wall.toFixed(1)} s (job ${ej.seconds.toFixed(1)} s) |`,
    `| export-job (items.parquet + model files) | ${j.wall.toFixed(1)} s |`,
    `| Dask LocalCluster, 2 workers, ${jj.partitions} partitions of ${partRows} (embed-files each) | ${daskS.toFixed(1)} s |`,
    `| import-embeddings DIR/out | ${im.wall.toFixed(1)} s |`,
    '', `cosine per row, Dask vs in-app: min ${min.toFixed(6)}, mean ${(sum / rows.length).toFixed(6)} over ${rows.length} rows`,
  ].join('\n'));
}

/**
 * The streaming Parquet writer (what export-embeddings uses past 768 MB of rows), N x 512 float32 in row groups of
 * 16,384: the vector pages written straight from the Float32Array, and (on BEFORE_N rows: it is ~40x slower)
 * hyparquet-writer's dremel encoder, the writer before. One group of blob rows is made once and written for every group,
 * so the times are the writer's alone. Each file is read back (row count, the last group by the page reader).
 */
async function writeBench(n: number, before: number): Promise<void> {
  const d = 512, group = 16384;
  const X = blobRows(0, group, d, 100);
  const ids = Array.from({ length: group }, (_, i) => `photo:${i + 1}`);
  const one = async (rows: number, dremelVectors: boolean) => {
    const file = join(work, `write-${dremelVectors ? 'dremel' : 'pages'}-${rows}.parquet`);
    rmSync(file, { force: true });
    const l0 = load();
    const t0 = performance.now();
    const w = await ColumnarWriter.create(file, 'parquet', [{ name: 'id', type: 'string' }, { name: 'embedding', type: 'vector' }], { d, streaming: true, dremelVectors });
    for (let r0 = 0; r0 < rows; r0 += group) {
      const m = Math.min(group, rows - r0);
      w.write({ id: ids.slice(0, m), embedding: X.subarray(0, m * d) }, m);
    }
    w.finish();
    const s = (performance.now() - t0) / 1000;
    const src = openColumnar(file);
    const last = readVectorRowGroup(file, src.parts.length - 1, 'embedding');
    const ok = src.rows === rows && last !== null && last.d === d && last.X[last.X.length - 1] === X[(src.parts[src.parts.length - 1].rows) * d - 1];
    const res = { rows, seconds: s, rowsPerS: rows / s, fileMb: mb(statSync(file).size), readBack: ok, load: [l0, load()] };
    rmSync(file, { force: true });
    return res;
  };
  const after = await one(n, false);
  const prior = before > 0 ? await one(before, true) : null;
  save('write', { d, group, after, before: prior }, [
    `Streaming Parquet writer, x ${d} float32, row groups of ${group.toLocaleString('en')}:`, '',
    '| writer | rows | write | rows/s | file | read back | load (start / end) |', '|---|---|---|---|---|---|---|',
    `| vector pages from the Float32Array | ${n.toLocaleString('en')} | ${after.seconds.toFixed(1)} s | ${Math.round(after.rowsPerS).toLocaleString('en')} | ${after.fileMb} MB | ${after.readBack} | ${after.load.join(' / ')} |`,
    ...(prior ? [`| hyparquet-writer dremel (before) | ${before.toLocaleString('en')} | ${prior.seconds.toFixed(1)} s | ${Math.round(prior.rowsPerS).toLocaleString('en')} | ${prior.fileMb} MB | ${prior.readBack} | ${prior.load.join(' / ')} |`] : []),
  ].join('\n'));
}

const [part = 'libs', a1, a2, a3] = process.argv.slice(2);
if (part === 'libs') await libs(Number(a1 ?? 100_000));
else if (part === 'import') await importBench(Number(a1 ?? 1_000_000));
else if (part === 'stream') await streamBench(Number(a1 ?? 1_000_000), Number(a2 ?? 1000), a3 ? Number(a3) : null);
else if (part === 'dask') daskBench(Number(a1 ?? 1000));
else if (part === 'write') await writeBench(Number(a1 ?? 262_144), Number(a2 ?? 16_384));
else if (part === 'blobs') { const r = npyToParts(a1, join(work, `${basename(a1)}-rg${a2 ?? 16384}`), 65_536, Number(a2 ?? 16384)); console.log(`${a1}: ${r.n} x ${r.d} written as Parquet parts in ${r.seconds.toFixed(1)} s`); }
else throw new Error(`unknown part ${part}: libs | import | stream | dask`);
process.exit(0);
