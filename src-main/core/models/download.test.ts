import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.ts';
import { downloadModel } from './download.ts';
import { encodeModel } from './onnx-proto.ts';

// a small real ONNX model (MatMul with 64×512 weights ≈ 128 KiB) served from loopback
const W = Float32Array.from({ length: 64 * 512 }, (_, i) => Math.cos(i));
const model = Buffer.from(
  encodeModel({
    graph: {
      name: 'dl',
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
      initializers: [{ name: 'W', dims: [64, 512], dataType: 'float', data: W }],
      inputs: [{ name: 'x', shape: ['N', 64] }],
      outputs: [{ name: 'y', shape: ['N', 512] }],
    },
  }),
);
const sha = crypto.createHash('sha256').update(model).digest('hex');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'download-test-'));
let server: http.Server;
let base: string;
const log: Array<{ url: string; range?: string }> = [];
/** when set, the next full (non-range) response is cut after this many bytes */
let cutAfter: number | undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    log.push({ url: req.url!, range: req.headers.range });
    if (req.url === '/missing.onnx') {
      res.writeHead(404).end();
      return;
    }
    if (req.url === '/broken') {
      res.writeHead(500, 'Internal Server Error').end();
      return;
    }
    if (req.url === '/stall') {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(10)); // then nothing
      return;
    }
    if (req.url === '/silent') {
      res.writeHead(200, { 'content-length': 1000 });
      res.flushHeaders(); // then not one byte
      return;
    }
    if (req.url === '/cut') {
      res.writeHead(200, { 'content-length': model.length });
      res.write(model.subarray(0, 1000), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/model.onnx' }).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      if (start >= model.length) {
        res.writeHead(416, { 'content-range': `bytes */${model.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': model.length - start, 'content-range': `bytes ${start}-${model.length - 1}/${model.length}` });
      res.end(model.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': model.length, 'content-type': 'application/octet-stream' });
    if (cutAfter !== undefined) {
      const n = cutAfter;
      cutAfter = undefined;
      res.write(model.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(model);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as AppError);

describe('downloadModel', () => {
  it('downloads, verifies and renames atomically; the result loads in onnxruntime', async () => {
    const dest = path.join(tmp, 'a', 'model.onnx');
    const progress: number[] = [];
    const r = await downloadModel(`${base}/redirect`, dest, { sha256: sha, size: model.length, onProgress: (n) => progress.push(n) });
    expect(r).toEqual({ path: dest, size: model.length, sha256: sha, resumedFrom: 0 });
    expect(fs.existsSync(`${dest}.partial`)).toBe(false);
    expect(progress.at(-1)).toBe(model.length);
    const s = await ort.InferenceSession.create(dest, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    expect(s.outputNames).toEqual(['y']);
    await s.release();
  });

  it('resumes an interrupted download with a Range request', async () => {
    const dest = path.join(tmp, 'resume.onnx');
    cutAfter = 40_000;
    log.length = 0;
    const e = await err(downloadModel(`${base}/model.onnx`, dest, { sha256: sha }));
    expect(e?.code).toBe('IO');
    expect(e?.message).toMatch(/partial data kept/);
    expect(fs.existsSync(dest)).toBe(false);
    const kept = fs.statSync(`${dest}.partial`).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(model.length);

    const r = await downloadModel(`${base}/model.onnx`, dest, { sha256: sha, size: model.length });
    expect(r.resumedFrom).toBe(kept);
    expect(log.at(-1)!.range).toBe(`bytes=${kept}-`);
    expect(fs.readFileSync(dest).equals(model)).toBe(true);
    expect(fs.existsSync(`${dest}.partial`)).toBe(false);
  });

  it('rejects a bad checksum and leaves nothing behind', async () => {
    const dest = path.join(tmp, 'bad.onnx');
    const e = await err(downloadModel(`${base}/model.onnx`, dest, { sha256: 'f'.repeat(64) }));
    expect(e?.code).toBe('BAD_MODEL');
    expect(e?.message).toMatch(/checksum mismatch \(sha256 [0-9a-f]{64}, expected f{64}\)/);
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.existsSync(`${dest}.partial`)).toBe(false);
    const e2 = await err(downloadModel(`${base}/model.onnx`, dest, { size: model.length + 1 }));
    expect(e2?.code).toBe('BAD_MODEL');
  });

  it('reports HTTP errors and cancellation', async () => {
    const e = await err(downloadModel(`${base}/missing.onnx`, path.join(tmp, 'm.onnx')));
    expect([e?.code, e?.message]).toEqual(['IO', `${base}/missing.onnx: HTTP 404 Not Found`]);
    const ac = new AbortController();
    ac.abort();
    const c = await err(downloadModel(`${base}/model.onnx`, path.join(tmp, 'c.onnx'), { signal: ac.signal }));
    expect(c?.code).toBe('CANCELLED');
  });

  it('a failed download says why, with code IO, and keeps what it got (fetch)', async () => {
    // a port nothing listens on
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await err(downloadModel(`http://127.0.0.1:${port}/m.onnx`, path.join(tmp, 'r.onnx')));
    expect([refused?.code, refused?.message]).toEqual(['IO', `http://127.0.0.1:${port}/m.onnx: download failed: cannot connect: the server refused the connection (ECONNREFUSED) (nothing was received, so nothing is kept)`]);
    expect(fs.existsSync(path.join(tmp, 'r.onnx.partial'))).toBe(false);
    const broken = await err(downloadModel(`${base}/broken`, path.join(tmp, 'b.onnx')));
    expect([broken?.code, broken?.message]).toEqual(['IO', `${base}/broken: HTTP 500 Internal Server Error`]);
    const t0 = Date.now();
    const stalled = await err(downloadModel(`${base}/stall`, path.join(tmp, 's.onnx'), { idleTimeoutMs: 300 }));
    expect([stalled?.code, stalled?.message]).toEqual(['IO', `${base}/stall: download failed: timed out (nothing received for 300 ms) (partial data kept for resume: 10 bytes)`]);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(fs.statSync(path.join(tmp, 's.onnx.partial')).size).toBe(10);
    // the answer began but no byte of the body came: nothing is kept, and no empty partial file is left
    const silent = await err(downloadModel(`${base}/silent`, path.join(tmp, 'q.onnx'), { idleTimeoutMs: 300 }));
    expect([silent?.code, silent?.message]).toEqual(['IO', `${base}/silent: download failed: timed out (nothing received for 300 ms) (nothing was received, so nothing is kept)`]);
    expect(fs.existsSync(path.join(tmp, 'q.onnx.partial'))).toBe(false);
    const cut = await err(downloadModel(`${base}/cut`, path.join(tmp, 'cut.onnx')));
    expect(cut?.code).toBe('IO');
    expect(cut?.message).toMatch(new RegExp(`^${base}/cut: download failed: .*(cut off|terminated|closed).*\\(partial data kept for resume: \\d+ bytes\\)$`));
    expect(fs.statSync(path.join(tmp, 'cut.onnx.partial')).size).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(tmp, 'cut.onnx'))).toBe(false);
    const bad = await err(downloadModel('ftp://example.com/x.onnx', path.join(tmp, 'f.onnx')));
    expect([bad?.code, bad?.message]).toEqual(['BAD_ARGUMENT', 'url: unsupported protocol ftp:']);
  });

  it('the downloader is fetch: no hand-made http/https client', () => {
    const src = fs.readFileSync(new URL('./download.ts', import.meta.url), 'utf8');
    expect(src).toMatch(/await fetch\(/);
    expect(src).not.toMatch(/from 'node:https?'|require\('https?'\)/);
  });
});
