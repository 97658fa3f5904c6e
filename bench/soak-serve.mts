/**
 * Bounded soak of serve mode under the hostile inputs of issue 14, against the real `constellate serve` process on
 * 127.0.0.1 only: malformed cookies (HTTP and WebSocket upgrade), declared and chunked bodies over the limit, bodies
 * just under it, invalid JSON, raw garbage on the socket, traversal, a directory in place of a thumbnail, a removed
 * thumbnail, file-reading API calls on /etc/passwd, exports aimed at the library; a probe measures getInfo latency all
 * along. Checks: the server never exits, every answer has the expected status, no answer quotes /etc/passwd.
 *   node --import tsx bench/soak-serve.mts [rounds=200] [seconds=120] [--out FILE]     (npm run bench:soak)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { thumbFile } from '../src-main/core/thumb-path.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--out');
const outIdx = process.argv.indexOf('--out');
const ROUNDS = Number(args[0] ?? 200);
const SECONDS = Number(args[1] ?? 120);
const dir = mkdtempSync(join(tmpdir(), 'bench-soak-'));
const lib = join(dir, 'soak.constellate');

const child = spawn(process.execPath, [join(root, 'src-main/cli/bin.mjs'), 'serve', '--json', '--library', lib], { stdio: ['ignore', 'pipe', 'pipe'] });
let stderr = '';
child.stderr.on('data', (d) => { stderr += d; });
let exited: number | null = null;
child.on('exit', (c, s) => { exited = c ?? (s ? -1 : 0); });
const first = await new Promise<{ url: string; port: number }>((ok, fail) => {
  let buf = '';
  child.stdout.on('data', (d) => { buf += d; const nl = buf.indexOf('\n'); if (nl >= 0) ok(JSON.parse(buf.slice(0, nl))); });
  child.on('exit', () => fail(new Error(`serve exited: ${stderr}`)));
});
const port = first.port;
const token = new URL(first.url).searchParams.get('token')!;
const host = `127.0.0.1:${port}`;

interface Res { status: number; body: string }
function http(path: string, headers: Record<string, string | number> = {}, method = 'GET', body?: string | Buffer): Promise<Res> {
  return new Promise((ok) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers } }, (res) => {
      let b = '';
      res.on('data', (c) => { if (b.length < 4096) b += c; });
      res.on('end', () => ok({ status: res.statusCode!, body: b }));
      res.on('error', () => ok({ status: -1, body: '' }));
    });
    req.on('error', () => ok({ status: -1, body: '' }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}
const tok = { 'x-constellate-token': token };
const api = (m: string, a: Record<string, unknown> | string) => http(`/api/${m}`, { ...tok, 'content-type': 'application/json' }, 'POST', typeof a === 'string' ? a : JSON.stringify(a));
function raw(bytes: string): Promise<number> {
  return new Promise((ok) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write(bytes));
    let got = '';
    s.on('data', (d) => { got += d; const m = /^HTTP\/1\.1 (\d+)/.exec(got); if (m) { ok(Number(m[1])); s.destroy(); } });
    s.on('error', () => ok(-1));
    s.on('close', () => ok(-1));
    setTimeout(() => { s.destroy(); ok(-2); }, 10_000);
  });
}
function ws(headers: Record<string, string>): Promise<number> {
  return new Promise((ok) => {
    const w = new WebSocket(`ws://${host}/events`, { headers });
    w.on('unexpected-response', (_q, r) => { ok(r.statusCode!); w.terminate(); });
    w.on('open', () => { ok(101); w.close(); });
    w.on('error', () => ok(-1));
  });
}

const thumbKey = 'cd23456789abcdef', goneKey = 'cd23456789abcde0';
const thumb = thumbFile(join(`${lib}.cache`, 'thumbs'), thumbKey);
const gone = thumbFile(join(`${lib}.cache`, 'thumbs'), goneKey);
const big = Buffer.alloc(6 << 20, 0x20); // under the 8 MiB JSON limit
const cases: Array<[string, () => Promise<number | boolean>, (number | boolean)[]]> = [
  ['cookie-malformed-http', async () => (await http('/', { cookie: 'other=%E0%A4%A' })).status, [401]],
  ['cookie-malformed-api-with-token', async () => (await http('/api/getInfo', { ...tok, cookie: 'other=%E0%A4%A; cst_token=%' }, 'POST', '[]')).status, [200]],
  ['cookie-malformed-ws', () => ws({ cookie: 'other=%E0%A4%A' }), [401]],
  ['cookie-malformed-ws-with-token', () => ws({ cookie: 'other=%E0%A4%A', ...tok }), [101]],
  ['body-declared-57MB', () => raw(`POST /api/getInfo HTTP/1.1\r\nhost: ${host}\r\nx-constellate-token: ${token}\r\ncontent-length: ${57 << 20}\r\n\r\n[`), [413]],
  ['body-chunked-over-limit', async () => (await api('listPhotos', '[' + ' '.repeat(9 << 20) + ']')).status, [413, -1]],
  ['body-6MB-json', async () => (await http('/api/listPhotos', { ...tok, 'content-type': 'application/json' }, 'POST', Buffer.concat([Buffer.from('[{"limit":1'), big, Buffer.from('}]')]))).status, [200]],
  ['json-invalid', async () => (await api('listPhotos', '{nope')).status, [400]],
  ['json-deep', async () => (await api('listPhotos', '['.repeat(5000) + ']'.repeat(5000))).status, [400]],
  ['socket-garbage', () => raw('\u0000\u0001GARBAGE / HTTP/9\r\n\r\n'), [400, -1]],
  ['traversal', async () => (await http('/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd', tok)).status, [404, 400]],
  ['thumb-directory', async () => { mkdirSync(thumb, { recursive: true }); const s = (await http(`/thumb/${thumbKey}.jpg`, tok)).status; rmSync(thumb, { recursive: true, force: true }); return s; }, [404]],
  ['thumb-removed', async () => { mkdirSync(dirname(gone), { recursive: true }); writeFileSync(gone, 'x'); rmSync(gone); return (await http(`/thumb/${goneKey}.jpg`, tok)).status; }, [404]],
  ['importLabels-passwd', async () => { const r = await api('importLabels', { source: '/etc/passwd' }); return r.status === 400 && !/root:x|\/bin\/(ba)?sh/.test(r.body); }, [true]],
  ['importEmbeddings-passwd', async () => { const r = await api('importEmbeddings', { npy: '/etc/passwd', ids: '/etc/passwd', model: 'x' }); return r.status === 400 && !/root:x/.test(r.body); }, [true]],
  ['exportEmbeddings-library', async () => (await api('exportEmbeddings', { model: 'photo', out: join(dir, 'x.npy'), ids: lib, force: true })).status, [400, 404]],
];

const counts: Record<string, { n: number; bad: number; example?: unknown }> = {};
const lat: number[] = [];
let probing = true;
const probe = (async () => {
  while (probing && exited === null) {
    const t0 = performance.now();
    const r = await http('/api/getInfo', tok, 'POST', '[]');
    if (r.status === 200) lat.push(performance.now() - t0);
    await new Promise((ok) => setTimeout(ok, 20));
  }
})();
const rss = () => { try { return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024); } catch { return -1; } };
const rssStart = rss();
let rssPeak = rssStart;
const t0 = Date.now();
let rounds = 0;
for (; rounds < ROUNDS && Date.now() - t0 < SECONDS * 1000 && exited === null; rounds++) {
  // eight hostile requests at once, then the rest in turn
  await Promise.all(Array.from({ length: 8 }, (_, i) => cases[(rounds + i) % cases.length]).map(async ([name, fn, want]) => {
    const got = await fn();
    const c = (counts[name] ??= { n: 0, bad: 0 });
    c.n++;
    if (!want.includes(got)) { c.bad++; c.example ??= got; }
  }));
  rssPeak = Math.max(rssPeak, rss());
}
probing = false;
await probe;
const alive = exited === null && (await api('getInfo', '')).status === 200;
lat.sort((x, y) => x - y);
const q = (p: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? -1);
const out = {
  rounds, requests: Object.values(counts).reduce((s, c) => s + c.n, 0), seconds: Math.round((Date.now() - t0) / 100) / 10,
  unexpected: Object.values(counts).reduce((s, c) => s + c.bad, 0), alive, exited,
  probe: { calls: lat.length, p50ms: q(0.5), p99ms: q(0.99), maxMs: Math.round(lat.at(-1) ?? -1) },
  serverRssMiB: { start: rssStart, peak: rssPeak, end: rss() },
  loggedInternalErrors: (stderr.match(/kept serving/g) ?? []).length,
  cases: counts,
};
console.log(JSON.stringify(out, null, 1));
if (outIdx >= 0) writeFileSync(process.argv[outIdx + 1], JSON.stringify(out, null, 1));
child.kill('SIGTERM');
await new Promise((ok) => { if (exited !== null) ok(null); else child.once('exit', ok); });
rmSync(dir, { recursive: true, force: true });
process.exit(out.alive && out.unexpected === 0 ? 0 : 1);
