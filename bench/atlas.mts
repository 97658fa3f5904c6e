/**
 * The atlas renderer (src-renderer/src/components/atlas-gl.ts) at 100,000 items with DISTINCT thumbnails, in headless
 * Chromium with software WebGL (SwiftShader through ANGLE: no GPU). Thumbnails are generated per item on request by a
 * local server with sharp (a distinct pattern and colour per item, 96 px JPEG), so only what the atlas asks for is made.
 * Measures first draw (upload + draw), pan/zoom frame times at three zoom levels (thumbnails visible at the closest),
 * and a colour change; writes screenshots to e2e/artifacts/atlas-zoom-{far,mid,close}.png.
 *   npx tsx bench/atlas.mts [N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createRng } from '../src-main/algo/rng.ts';
import { assignGroupColours } from '../src-main/common/palette.ts';
import { openAtlasPage } from './lib/atlas-page.mts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 100_000), K = 600;
const rng = createRng(2);
const cx = Float64Array.from({ length: 2 * K }, () => rng.normal() * 10);
const xy = new Float32Array(2 * N), codes = new Int32Array(N);
for (let i = 0; i < N; i++) {
  const c = i < N * 0.05 ? K : rng.int(K); // 5% noise spread over the map
  codes[i] = c;
  if (c === K) { xy[2 * i] = rng.normal() * 12; xy[2 * i + 1] = rng.normal() * 12; }
  else { xy[2 * i] = cx[2 * c] + rng.normal() * 0.35; xy[2 * i + 1] = cx[2 * c + 1] + rng.normal() * 0.35; }
}
const sizes = new Array(K + 1).fill(0);
for (const c of codes) sizes[c]++;
const cent = new Float64Array(2 * (K + 1)); cent.set(cx);
const colours = assignGroupColours({ centroids: cent, sizes, noise: sizes.map((_, i) => i === K) });
const legend = colours.map((colour, code) => ({ code, colour, noise: code === K }));
const labels = Array.from({ length: K }, (_, c) => ({ text: `cluster ${c}`, x: cx[2 * c], y: cx[2 * c + 1], size: sizes[c] }))
  .sort((a, b) => b.size - a.size).map(({ text, x, y }) => ({ text, x, y }));

const thumbs = new Map<number, Buffer>();
async function thumb(i: number): Promise<Buffer> {
  let b = thumbs.get(i);
  if (b) return b;
  const w = 96, h = 72, raw = Buffer.alloc(w * h * 3);
  const r0 = (i * 37) % 256, g0 = (i * 91) % 256, b0 = (i * 53) % 256, f = 1 + (i % 7);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const s = ((Math.floor(x / (4 * f)) + Math.floor(y / (3 + (i % 5)))) & 1) ? 1 : 0.55;
    const o = 3 * (y * w + x);
    raw[o] = r0 * s; raw[o + 1] = g0 * s; raw[o + 2] = (b0 + x) * s;
  }
  b = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
  thumbs.set(i, b);
  return b;
}
const { page, close: closePage } = await openAtlasPage(root, xy, codes, thumb);
const glInfo = await page.evaluate(() => {
  const gl = document.createElement('canvas').getContext('webgl2')!;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
});
const r = await page.evaluate(async ({ N, legend, labels }) => {
  const A = (window as unknown as { Atlas: typeof import('../src-renderer/src/components/atlas-gl.ts') }).Atlas;
  const buf = await (await fetch('/data')).arrayBuffer();
  const xy = new Float32Array(buf, 0, 2 * N), codes = new Int32Array(buf, 8 * N, N);
  const c = document.getElementById('c') as HTMLCanvasElement, o = document.getElementById('o') as HTMLCanvasElement;
  const sync = (gl: WebGL2RenderingContext) => gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  const t0 = performance.now();
  const at = new A.AtlasRenderer(c, o, { thumbUrl: (i) => `/thumb/${i}.jpg` });
  at.setData(xy, A.coloursFromField(codes, legend));
  at.labels = labels;
  at.draw(); sync(at.gl);
  const firstDraw = performance.now() - t0;
  (window as unknown as { at: unknown }).at = at;
  const frames = (k: number, step: (i: number) => void) => {
    const ts: number[] = [];
    for (let i = 0; i < k; i++) { const s = performance.now(); step(i); at.draw(); sync(at.gl); ts.push(performance.now() - s); }
    ts.sort((a, b) => a - b);
    return { median: ts[Math.floor(ts.length / 2)], max: ts[ts.length - 1] };
  };
  const out: Record<string, unknown> = { firstDraw };
  out.far = { pan: frames(20, (i) => at.panBy(i % 2 ? -15 : 15, 5)), zoom: frames(10, (i) => at.zoomAt(i % 2 ? 1 / 1.1 : 1.1, 640, 400)) };
  // profile: the same far pan without the names (the 2-D overlay), to tell WebGL's share from the labels'
  const keep = at.labels; at.labels = [];
  out.farNoLabels = frames(20, (i) => at.panBy(i % 2 ? -15 : 15, 5));
  at.labels = keep;
  // the sharp re-render of every point (what a frame costs when the cached layer is redrawn: after a zoom settles, a colour change)
  out.farSharp = frames(6, () => (at as unknown as { revision: number }).revision++);
  out.cachedFrames = (at as unknown as { cachedFrames: number }).cachedFrames;
  return out;
}, { N, legend, labels });
mkdirSync(join(root, 'e2e/artifacts'), { recursive: true });
await page.screenshot({ path: join(root, 'e2e/artifacts/atlas-zoom-far.png') });
async function at(zoom: number, name: string) {
  await page.evaluate((z) => { const a = (window as unknown as { at: { view: { cx: number; cy: number; zoom: number }; draw(): number } }).at; a.view.zoom = z; a.draw(); }, zoom);
  // let the thumbnails load (close in), redrawing as they come
  for (let t = 0; t < 40; t++) {
    const st = await page.evaluate(() => { const a = (window as unknown as { at: { draw(): number; lastThumbs: number } }).at; a.draw(); return a.lastThumbs; });
    if (name !== 'close' || st > 200) break;
    await page.waitForTimeout(250);
  }
  const res = await page.evaluate(() => {
    const a = (window as unknown as { at: { gl: WebGL2RenderingContext; draw(): number; panBy(x: number, y: number): void; zoomAt(f: number, x: number, y: number): void; lastThumbs: number } }).at;
    const sync = () => a.gl.readPixels(0, 0, 1, 1, a.gl.RGBA, a.gl.UNSIGNED_BYTE, new Uint8Array(4));
    const frames = (k: number, step: (i: number) => void) => {
      const ts: number[] = [];
      for (let i = 0; i < k; i++) { const s = performance.now(); step(i); a.draw(); sync(); ts.push(performance.now() - s); }
      ts.sort((x, y) => x - y);
      return { median: ts[Math.floor(ts.length / 2)], max: ts[ts.length - 1] };
    };
    return { pan: frames(20, (i) => a.panBy(i % 2 ? -6 : 6, 2)), zoom: frames(10, (i) => a.zoomAt(i % 2 ? 1 / 1.05 : 1.05, 640, 400)), thumbs: a.lastThumbs };
  });
  await page.screenshot({ path: join(root, `e2e/artifacts/atlas-zoom-${name}.png`) });
  return res;
}
// centre on the largest cluster for the closer views
const big = sizes.slice(0, K).indexOf(Math.max(...sizes.slice(0, K)));
await page.evaluate(([x, y]) => { const a = (window as unknown as { at: { view: { cx: number; cy: number } } }).at; a.view.cx = x; a.view.cy = y; }, [cx[2 * big], cx[2 * big + 1]]);
const mid = await at(12, 'mid');
const close = await at(60, 'close');
const colour = await page.evaluate(({ N, K }) => {
  const A = (window as unknown as { Atlas: typeof import('../src-renderer/src/components/atlas-gl.ts') }).Atlas;
  const a = (window as unknown as { at: InstanceType<typeof A.AtlasRenderer> }).at;
  const codes2 = new Int32Array(N);
  for (let i = 0; i < N; i++) codes2[i] = (i * 7919) % 5;
  const legend2 = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4'].map((colour, code) => ({ code, colour, noise: false }));
  const s = performance.now();
  a.setColours(A.coloursFromField(codes2, legend2));
  a.draw(); a.gl.readPixels(0, 0, 1, 1, a.gl.RGBA, a.gl.UNSIGNED_BYTE, new Uint8Array(4));
  void K;
  return performance.now() - s;
}, { N, K });
await closePage();
const f = (x: number) => x.toFixed(1);
const far = r.far as { pan: { median: number; max: number }; zoom: { median: number; max: number } };
const lines = [
  `N = ${N} items (${K} clusters + 5% noise), distinct generated thumbnails; renderer: ${glInfo}; 1280 x 800; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} cores`,
  '', '| measure | median ms | max ms |', '|---|---|---|',
  `| first draw (upload + draw) | ${f(r.firstDraw as number)} | |`,
  `| far (points): pan frame | ${f(far.pan.median)} | ${f(far.pan.max)} |`,
  `| far (points): zoom frame | ${f(far.zoom.median)} | ${f(far.zoom.max)} |`,
  `| far: a sharp re-render of all 100,000 points (after a zoom settles; ${r.cachedFrames} of the far frames above drew the cached layer) | ${f((r.farSharp as { median: number }).median)} | ${f((r.farSharp as { max: number }).max)} |`,
  `| far: pan frame without the names overlay (profile) | ${f((r.farNoLabels as { median: number }).median)} | ${f((r.farNoLabels as { max: number }).max)} |`,
  `| mid (zoom 12, ${mid.thumbs} thumbnails): pan frame | ${f(mid.pan.median)} | ${f(mid.pan.max)} |`,
  `| mid: zoom frame | ${f(mid.zoom.median)} | ${f(mid.zoom.max)} |`,
  `| close (zoom 60, ${close.thumbs} thumbnails): pan frame | ${f(close.pan.median)} | ${f(close.pan.max)} |`,
  `| close: zoom frame | ${f(close.zoom.median)} | ${f(close.zoom.max)} |`,
  `| colour change (100,000 RGBA + draw) | ${f(colour)} | |`,
];
console.log(lines.join('\n'));
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/atlas.md'), lines.join('\n') + '\n');
