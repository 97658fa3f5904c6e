/**
 * The atlas renderer (src-renderer/src/components/atlas-gl.ts) on a bare page in headless Chromium with software
 * WebGL (SwiftShader), for the benches that time its draws (bench/atlas.mts, bench/interop-map.mts): bundles the
 * renderer, serves it with the points (`/data`: the xy then the codes) and, when given, thumbnails (`/thumb/N.jpg`).
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

export interface AtlasPage {
  page: import('playwright-core').Page;
  close: () => Promise<void>;
}

export async function openAtlasPage(root: string, xy: Float32Array, codes: Int32Array, thumb?: (i: number) => Promise<Buffer>): Promise<AtlasPage> {
  const bundle = await build({ entryPoints: [join(root, 'src-renderer/src/components/atlas-gl.ts')], bundle: true, format: 'iife', globalName: 'Atlas', write: false });
  const js = bundle.outputFiles[0].text;
  const page0 = `<!doctype html><html><body style="margin:0;background:#111"><div style="position:relative;width:1280px;height:800px">
<canvas id="c" width="1280" height="800" style="position:absolute;inset:0"></canvas><canvas id="o" width="1280" height="800" style="position:absolute;inset:0"></canvas></div>
<script src="/atlas.js"></script></body></html>`;
  const data = Buffer.concat([Buffer.from(xy.buffer, xy.byteOffset, xy.byteLength), Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength)]);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const m = /^\/thumb\/(\d+)\.jpg$/.exec(url);
    if (m || url.startsWith('/thumb/')) {
      if (!m || !thumb) { res.writeHead(404); res.end(); return; }
      void thumb(Number(m[1])).then((b) => { res.writeHead(200, { 'content-type': 'image/jpeg' }); res.end(b); });
      return;
    }
    if (url === '/atlas.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(js); return; }
    if (url === '/data') { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(data); return; }
    res.writeHead(200, { 'content-type': 'text/html' }); res.end(page0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // tsx keeps function names with a __name helper inside the functions handed to evaluate: give the page one
  await page.addInitScript('window.__name = (f) => f');
  await page.goto(`http://127.0.0.1:${port}/`);
  return { page, close: async () => { await browser.close(); server.close(); } };
}
