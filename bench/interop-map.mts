/**
 * The map of a 100,000 sample of a large imported library (issue 22): the sample's embeddings imported as their own
 * model (import-embeddings of a Parquet file of the sampled rows), the app's map job on it (`map --model`, UMAP), then
 * the map's first draw in the atlas renderer (src-renderer/src/components/atlas-gl.ts) in headless Chromium with
 * software WebGL (SwiftShader), coloured by the generating labels of gen_blobs.py when given.
 *   npx tsx bench/interop-map.mts LIBRARY MODEL [M=100000] [LABELS_y.npy]
 * Writes bench/results/interop-map.json and a screenshot e2e/artifacts/interop-map.png.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createRng } from '../src-main/algo/rng.ts';
import { assignGroupColours } from '../src-main/common/palette.ts';
import { ColumnarWriter } from '../src-main/core/interop/columnar-write.ts';
import { getMapData } from '../src-main/core/map/maps.ts';
import { readNpyLabels } from '../src-main/core/npy-file.ts';
import { openAtlasPage } from './lib/atlas-page.mts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'src-main/cli/bin.mjs');
const [libArg, model, mArg, labelsArg] = process.argv.slice(2);
if (!libArg || !model) throw new Error('usage: interop-map.mts LIBRARY MODEL [M] [LABELS_y.npy]');
const lib = resolve(libArg);
const M = Number(mArg ?? 100_000);
const sampleModel = `${model}-sample${M}`;
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');

function timedCli(args: string[]): { wall: number; rssMb: number; json: Record<string, unknown> } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, bin, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const [wall, kb] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  if (r.status !== 0) throw new Error(`${args[0]} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { wall, rssMb: Math.round(kb / 1024), json: JSON.parse(r.stdout) };
}

// 1. a seeded random sample of M of the model's items, their vectors as a Parquet file, imported as a model
const l0 = load();
const db = new Database(lib, { readonly: true });
const d = db.prepare('SELECT dim FROM models WHERE name = ?').pluck().get(model) as number;
const all = db.prepare('SELECT item_id FROM embeddings WHERE model = ? ORDER BY item_id').pluck().all(model) as number[];
const rng = createRng(22);
for (let i = 0; i < M; i++) { const j = i + rng.int(all.length - i); const t = all[i]; all[i] = all[j]; all[j] = t; }
const sample = all.slice(0, M).sort((a, b) => a - b);
const q = db.prepare('SELECT vec FROM embeddings WHERE model = ? AND item_id = ?').pluck();
const file = join(os.tmpdir(), `constellate-interop-map-${M}.parquet`);
rmSync(file, { force: true });
const w = await ColumnarWriter.create(file, 'parquet', [{ name: 'id', type: 'string' }, { name: 'embedding', type: 'vector' }], { d });
for (let r0 = 0; r0 < M; r0 += 16384) {
  const m = Math.min(16384, M - r0);
  const X = new Float32Array(m * d);
  for (let i = 0; i < m; i++) { const b = q.get(model, sample[r0 + i]) as Buffer; X.set(new Float32Array(b.buffer, b.byteOffset, d), i * d); }
  w.write({ id: sample.slice(r0, r0 + m).map((id) => `photo:${id}`), embedding: X }, m);
}
w.finish();
db.close();
const imp = timedCli(['import-embeddings', file, '--model', sampleModel, '--library', lib, '--json']);
rmSync(file, { force: true });

// 2. the app's map job on the sample (UMAP, the workbench's default map)
const lm = load();
const mp = timedCli(['map', '--model', sampleModel, '--method', 'umap', '--library', lib, '--json']);
const db2 = new Database(lib, { readonly: true });
const map = getMapData(db2 as never, { model: sampleModel, method: 'umap' });
db2.close();
const n = map.ids.length;

// 3. colours: the generating labels (gen_blobs.py's y, row = item id - 1) when given, else one colour
const y = labelsArg ? readNpyLabels(resolve(labelsArg)) : null;
const codes = new Int32Array(n);
let K = 1;
if (y) { for (let i = 0; i < n; i++) { codes[i] = y[map.ids[i] - 1]; K = Math.max(K, codes[i] + 1); } }
const sizes = new Array(K).fill(0), cent = new Float64Array(2 * K);
for (let i = 0; i < n; i++) { sizes[codes[i]]++; cent[2 * codes[i]] += map.xy[2 * i]; cent[2 * codes[i] + 1] += map.xy[2 * i + 1]; }
for (let c = 0; c < K; c++) if (sizes[c]) { cent[2 * c] /= sizes[c]; cent[2 * c + 1] /= sizes[c]; }
const colours = assignGroupColours({ centroids: cent, sizes, noise: sizes.map(() => false) });
const legend = colours.map((colour, code) => ({ code, colour, noise: false }));

// 4. first draw in Chromium (software WebGL), as bench/atlas.mts measures it
const { page, close } = await openAtlasPage(root, map.xy, codes);
const ld = load();
const r = await page.evaluate(async ({ n, legend }) => {
  const A = (window as unknown as { Atlas: typeof import('../src-renderer/src/components/atlas-gl.ts') }).Atlas;
  const buf = await (await fetch('/data')).arrayBuffer();
  const xy = new Float32Array(buf, 0, 2 * n), codes = new Int32Array(buf, 8 * n, n);
  const c = document.getElementById('c') as HTMLCanvasElement, o = document.getElementById('o') as HTMLCanvasElement;
  const sync = (gl: WebGL2RenderingContext) => gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  const t0 = performance.now();
  const at = new A.AtlasRenderer(c, o, { thumbUrl: (i) => `/thumb/${i}.jpg` });
  at.setData(xy, A.coloursFromField(codes, legend));
  at.draw(); sync(at.gl);
  const firstDraw = performance.now() - t0;
  const ts: number[] = [];
  for (let i = 0; i < 20; i++) { const s = performance.now(); at.panBy(i % 2 ? -15 : 15, 5); at.draw(); sync(at.gl); ts.push(performance.now() - s); }
  ts.sort((a, b) => a - b);
  return { firstDraw, panMedian: ts[10], panMax: ts[19] };
}, { n, legend });
mkdirSync(join(root, 'e2e/artifacts'), { recursive: true });
await page.screenshot({ path: join(root, 'e2e/artifacts/interop-map.png') });
await close();

const res = {
  library: lib, model, sampleModel, m: M, d, n,
  importSampleWallS: imp.wall, importSampleRssMb: imp.rssMb,
  mapComputeS: mp.json.seconds, mapWallS: mp.wall, mapRssMb: mp.rssMb,
  firstDrawMs: r.firstDraw, panMedianMs: r.panMedian, panMaxMs: r.panMax, colouredBy: y ? `gen_blobs labels (${K})` : 'one colour',
  load: { start: l0, map: lm, draw: ld, end: load() },
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/interop-map.json'), JSON.stringify(res, null, 2));
console.log(`map of a ${M.toLocaleString('en')} sample of ${model} (${d}-d): import of the sample ${imp.wall.toFixed(1)} s; UMAP map job ${Number(mp.json.seconds).toFixed(1)} s ` +
  `(CLI wall ${mp.wall.toFixed(1)} s, peak RSS ${mp.rssMb} MB, load ${lm}); first draw ${r.firstDraw.toFixed(0)} ms, pan frames median ${r.panMedian.toFixed(1)} / max ${r.panMax.toFixed(1)} ms ` +
  `(SwiftShader, 1280 x 800, load ${ld})`);
process.exit(0);
