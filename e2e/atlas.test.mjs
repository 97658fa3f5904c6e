// The atlas renderer (src-renderer/src/components/atlas-gl.ts, inside AtlasMap.vue) in Chromium with software WebGL
// (SwiftShader): points far out, distinct thumbnails close in (level of detail), picking, a colour change, and
// screenshots at three zoom levels in e2e/artifacts/atlas-e2e-{far,mid,close}.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import sharp from 'sharp';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const N = 20_000, K = 50;

test('atlas: points, thumbnails at zoom, pick, colour change (SwiftShader)', { timeout: 240_000 }, async () => {
  // deterministic blobs: item i in cluster i % K, on a ring of cluster centres
  const xy = new Float32Array(2 * N), codes = new Int32Array(N);
  let s = 1;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  for (let i = 0; i < N; i++) {
    const c = i % K; codes[i] = c;
    xy[2 * i] = 10 * Math.cos((2 * Math.PI * c) / K) + rnd() * 0.6;
    xy[2 * i + 1] = 10 * Math.sin((2 * Math.PI * c) / K) + rnd() * 0.6;
  }
  const legend = Array.from({ length: K }, (_, code) => ({ code, colour: code === 0 ? '#ff0000' : '#3366cc', noise: false }));
  const labels = Array.from({ length: K }, (_, c) => ({ text: `cluster ${c}`, x: 10 * Math.cos((2 * Math.PI * c) / K), y: 10 * Math.sin((2 * Math.PI * c) / K) }));
  const js = (await build({ entryPoints: [join(root, 'src-renderer/src/components/atlas-gl.ts')], bundle: true, format: 'iife', globalName: 'Atlas', write: false, logLevel: 'silent' })).outputFiles[0].text;
  const served = new Set();
  const server = createServer(async (req, res) => {
    const m = /^\/thumb\/(\d+)\.jpg$/.exec(req.url ?? '');
    if (m) {
      const i = Number(m[1]); served.add(i);
      const b = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: (i * 37) % 256, g: 255 - (i % 200), b: (i * 53) % 256 } } }).jpeg().toBuffer();
      res.writeHead(200, { 'content-type': 'image/jpeg' }); res.end(b); return;
    }
    if (req.url === '/atlas.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(js); return; }
    if (req.url === '/data') { res.writeHead(200); res.end(Buffer.concat([Buffer.from(xy.buffer), Buffer.from(codes.buffer)])); return; }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><body style="margin:0"><canvas id="c" width="800" height="600" style="position:absolute"></canvas><canvas id="o" width="800" height="600" style="position:absolute"></canvas><script src="/atlas.js"></script></body>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'] });
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    await page.goto(`http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}/`);
    const far = await page.evaluate(async ({ N, legend, labels }) => {
      const buf = await (await fetch('/data')).arrayBuffer();
      const xy = new Float32Array(buf, 0, 2 * N), codes = new Int32Array(buf, 8 * N, N);
      const at = new window.Atlas.AtlasRenderer(document.getElementById('c'), document.getElementById('o'), { thumbUrl: (i) => `/thumb/${i}.jpg` });
      at.setData(xy, window.Atlas.coloursFromField(codes, legend));
      at.labels = labels;
      window.at = at; window.xy = xy; window.codes = codes;
      return { thumbs: at.draw() };
    }, { N, legend, labels });
    assert.equal(far.thumbs, 0, 'far out: points only');
    // the whole map keeps half a thumbnail (32 px) of margin on every side: a thumbnail at the edge is never cut off
    const edge = await page.evaluate(() => {
      const at = window.at, xy = window.xy, w = at.canvas.width, h = at.canvas.height;
      let lo = Infinity;
      for (let i = 0; i < xy.length / 2; i++) { const [px, py] = at.toScreen(xy[2 * i], xy[2 * i + 1]); lo = Math.min(lo, px, py, w - px, h - py); }
      return lo;
    });
    assert.ok(edge >= 32, `the nearest point is ${edge.toFixed(1)} px from the edge`);
    // cluster 0 (red) is on screen
    const red = await page.evaluate(() => {
      const gl = window.at.gl, w = gl.drawingBufferWidth, h = gl.drawingBufferHeight, p = new Uint8Array(w * h * 4);
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, p);
      let n = 0; for (let i = 0; i < w * h; i++) if (p[4 * i] > 200 && p[4 * i + 1] < 80 && p[4 * i + 2] < 80) n++;
      return n;
    });
    assert.ok(red > 50, `cluster 0 is drawn red (${red} px)`);
    // far out the points layer is cached: the next frame draws the cached layer and shows the same pixels
    const cached = await page.evaluate(() => {
      const gl = window.at.gl, w = gl.drawingBufferWidth, h = gl.drawingBufferHeight, p = new Uint8Array(w * h * 4);
      const before = window.at.cachedFrames;
      window.at.draw();
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, p);
      let n = 0; for (let i = 0; i < w * h; i++) if (p[4 * i] > 200 && p[4 * i + 1] < 80 && p[4 * i + 2] < 80) n++;
      return { frames: window.at.cachedFrames - before, red: n };
    });
    assert.equal(cached.frames, 1, 'the second far frame drew the cached layer');
    assert.ok(Math.abs(cached.red - red) <= red * 0.05, `the cached layer shows what the direct draw did (${cached.red} vs ${red} red px)`);
    // a lasso (polygon in data units) around cluster 0's centre takes cluster 0's items only, all of them
    const lasso = await page.evaluate(() => {
      const ring = Array.from({ length: 16 }, (_, k) => [10 + 0.5 * Math.cos((2 * Math.PI * k) / 16), 0.5 * Math.sin((2 * Math.PI * k) / 16)]);
      return Array.from(window.at.inside(ring));
    });
    assert.ok(lasso.length > 300 && lasso.every((i) => i % 50 === 0), `lasso: ${lasso.length} items, all of cluster 0`);
    mkdirSync(join(here, 'artifacts'), { recursive: true });
    await page.screenshot({ path: join(here, 'artifacts/atlas-e2e-far.png') });
    // zoom in on cluster 0 (data 10, 0): thumbnails appear once loaded
    const zoomTo = (z) => page.evaluate((z) => { window.at.view.cx = 10; window.at.view.cy = 0; window.at.view.zoom = z; return window.at.draw(); }, z);
    await zoomTo(3);
    await page.screenshot({ path: join(here, 'artifacts/atlas-e2e-mid.png') });
    let thumbs = 0;
    for (let t = 0; t < 60 && thumbs < 50; t++) { thumbs = await zoomTo(30); await page.waitForTimeout(200); }
    assert.ok(thumbs >= 50, `close in: thumbnails drawn (${thumbs})`);
    assert.ok(served.size >= thumbs && served.size <= 1500, `only visible thumbnails were fetched (${served.size})`);
    await page.screenshot({ path: join(here, 'artifacts/atlas-e2e-close.png') });
    // pick: the item nearest the screen centre is one of cluster 0
    const picked = await page.evaluate(() => window.at.pick(400, 300, 40));
    assert.ok(picked >= 0 && picked % 50 === 0, `picked item ${picked} of cluster 0`);
    // a colour change recolours the points (zoom out again, all green now)
    await page.evaluate(({ N }) => {
      const legend = [{ code: 0, colour: '#00ff00', noise: false }];
      window.at.setColours(window.Atlas.coloursFromField(new Int32Array(N), legend));
      window.at.view.zoom = 1; window.at.draw();
    }, { N });
    const green = await page.evaluate(() => {
      const gl = window.at.gl, w = gl.drawingBufferWidth, h = gl.drawingBufferHeight, p = new Uint8Array(w * h * 4);
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, p);
      let g = 0, r = 0; for (let i = 0; i < w * h; i++) { if (p[4 * i + 1] > 200 && p[4 * i] < 80) g++; if (p[4 * i] > 200 && p[4 * i + 1] < 80 && p[4 * i + 2] < 80) r++; }
      return { g, r };
    });
    assert.ok(green.g > 500 && green.r === 0, `recoloured: ${JSON.stringify(green)}`);
  } finally {
    await browser.close();
    server.close();
  }
});
