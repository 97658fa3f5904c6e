/**
 * The labeling cost of a session, without and with learning: a library is built from a set, clustered once, copied
 * once per mode, and `../shared/tools/labeling_oracle.py` (a simulated person who knows the truth: each item's folder,
 * or a JSON map given by ORACLE_TRUTH) labels the run through a real `constellate serve` of each copy, calling `learn`
 * between rounds unless `nolearn`. Prints one JSON line per mode and a Markdown table row per set.
 *   node --import tsx bench/labeling-cost.mts SET [SET...] [--modes nolearn,learn] [--out FILE] [--keep DIR]
 * --keep DIR: the built, clustered library of each set is kept under DIR/SET and used again by the next run (the
 *   sessions always work on copies), so a change of the queues or of learning is measured on the same clustering.
 * --modes: nolearn (the oracle never asks to learn; no background learning), learn, recluster (as learn, and each
 *   `learn` whose metric the queues use is followed by the edit 'recluster' before the oracle gets its answer: the
 *   bench relays the oracle's calls to serve and adds that edit; what it moved is counted in `reclustered`)
 * SET: flowers | orl-photo | cifar2000 | c1[:N] (the c1 matrix imported as embeddings of N made-up items, default 3000)
 *      | fashion[:N] (Fashion-MNIST's raw pixels the same way: a linear probe tells its classes apart far better than
 *        its clustering does) | npy:X.npy:Y.npy[:N] (any float32 matrix with int32 labels, e.g. to calibrate on)
 *      | london-face | orl-face (face runs: --model face, the people preset)
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createServer, type Server } from 'node:http';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.CONSTELLATE_SHARED ?? resolve(root, '../shared');
const data = join(shared, 'data');
const bin = join(root, 'src-main/cli/bin.mjs');
const argv = process.argv.slice(2);
const flag = (n: string) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : undefined; };
const sets = argv.filter((a, i) => !a.startsWith('--') && !['--modes', '--out', '--keep'].includes(argv[i - 1] ?? ''));
const modes = (flag('--modes') ?? 'nolearn,learn').split(',');
const out = flag('--out');
const keep = flag('--keep');

function cli(lib: string, args: string[]): Record<string, unknown> {
  const r = execFileSync(process.execPath, [bin, ...args, '--library', lib, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(r) as Record<string, unknown>;
}

/** The items of a set as a folder tree (class folder per item) and how to embed and cluster it. */
async function build(set: string, dir: string): Promise<{ lib: string; runId: number; truth?: string; cluster: string[] }> {
  const lib = join(dir, 'set.constellate');
  const photoRun = ['cluster', '--model', 'photo', '--preset', 'objects'];
  const faceRun = ['cluster', '--model', 'face', '--preset', 'people'];
  if (set === 'flowers' || set === 'orl-photo' || set === 'london-face' || set === 'orl-face') {
    const src = { flowers: 'photos-flowers', 'orl-photo': 'faces-orl', 'london-face': 'faces-london', 'orl-face': 'faces-orl' }[set];
    cli(lib, ['scan', join(data, src)]);
    const face = set.endsWith('-face');
    cli(lib, ['embed', '--model', face ? 'face' : 'photo']);
    const r = cli(lib, face ? faceRun : photoRun);
    return { lib, runId: r.runId as number, cluster: face ? faceRun : photoRun };
  }
  if (set === 'cifar2000') {
    // 200 photos per class, the first by name (links keep the class folder: the truth)
    const tree = join(dir, 'cifar');
    for (const c of readdirSync(join(data, 'photos-cifar10')).sort()) {
      const from = join(data, 'photos-cifar10', c);
      if (!existsSync(from) || c.includes('.')) continue;
      mkdirSync(join(tree, c), { recursive: true });
      for (const f of readdirSync(from).sort().slice(0, 200)) symlinkSync(join(from, f), join(tree, c, f));
    }
    cli(lib, ['scan', tree]);
    cli(lib, ['embed', '--model', 'photo']);
    const r = cli(lib, photoRun);
    return { lib, runId: r.runId as number, cluster: photoRun };
  }
  if (set.startsWith('c1') || set.startsWith('fashion') || set.startsWith('npy:')) {
    // N rows of a labeled matrix (the first N of a seeded shuffle) as embeddings of made-up items: tiny distinct images
    // under names that say nothing; the truth goes to the oracle as a map (ORACLE_TRUTH)
    const parts = set.split(':');
    const [xPath, yPath, nArg] = set.startsWith('npy:') ? [resolve(parts[1]!), resolve(parts[2]!), parts[3]]
      : set.startsWith('fashion') ? [join(data, 'matrices/fashion_t10k_784_X.npy'), join(data, 'matrices/fashion_t10k_784_y.npy'), parts[1]]
        : [join(data, 'matrices/c1_18969x512_X.npy'), join(data, 'matrices/c1_18969x512_y.npy'), parts[1]];
    const N = Number(nArg ?? 3000);
    const X = readNpy(xPath), y = readNpy(yPath);
    const n = y.shape[0], d = X.shape[1];
    const order = Array.from({ length: n }, (_, i) => i);
    let s = 12345;
    for (let i = n - 1; i > 0; i--) { s = (s * 1103515245 + 12345) >>> 0; const j = s % (i + 1); [order[i], order[j]] = [order[j], order[i]]; }
    const pick = order.slice(0, N);
    const tree = join(dir, 'items');
    mkdirSync(tree, { recursive: true });
    const truth: Record<string, string> = {};
    const paths: string[] = [];
    for (let t = 0; t < pick.length; t++) {
      const p = join(tree, `item-${String(t).padStart(5, '0')}.png`);
      await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: t & 255, g: (t >> 8) & 255, b: 17 } } }).png().toFile(p);
      paths.push(p);
    }
    cli(lib, ['scan', tree]);
    const Xs = new Float32Array(N * d);
    pick.forEach((r, t) => { Xs.set((X.data as Float32Array).subarray(r * d, (r + 1) * d), t * d); truth[paths[t]] = `g${(y.data as Int32Array)[r]}`; });
    writeNpy(join(dir, 'X.npy'), Xs, [N, d]);
    writeFileSync(join(dir, 'ids.csv'), 'path\n' + paths.map((p) => `"${p}"`).join('\n') + '\n');
    const model = set.startsWith('c1') ? 'c1' : 'matrix';
    cli(lib, ['import-embeddings', join(dir, 'X.npy'), '--ids', join(dir, 'ids.csv'), '--model', model]);
    const run = ['cluster', '--model', model, '--preset', 'objects'];
    const r = cli(lib, run);
    const tf = join(dir, 'truth.json');
    writeFileSync(tf, JSON.stringify(truth));
    return { lib, runId: r.runId as number, truth: tf, cluster: run };
  }
  throw new Error(`unknown set ${set}`);
}

function readNpy(path: string): { data: Float32Array | Int32Array; shape: number[] } {
  const b = readFileSync(path);
  const hl = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + hl).toString('latin1');
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  const off = 10 + hl;
  const bytes = b.subarray(off);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return { data: header.includes('<f4') ? new Float32Array(ab) : new Int32Array(ab), shape };
}

function writeNpy(path: string, X: Float32Array, shape: number[]): void {
  let h = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  while ((10 + h.length + 1) % 64) h += ' ';
  h += '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1'); head[6] = 1; head[7] = 0; head.writeUInt16LE(h.length, 8);
  writeFileSync(path, Buffer.concat([head, Buffer.from(h, 'latin1'), Buffer.from(X.buffer, X.byteOffset, X.byteLength)]));
}

/**
 * A relay between the oracle and serve that re-clusters in the learned metric after each `learn` whose metric is used,
 * before the oracle sees the answer (mode recluster). Counts what the edits moved.
 */
function reclusterRelay(port: number, token: string, runId: number): Promise<{ server: Server; port: number; moved: number[]; regrouped: number[]; refused: string[] }> {
  const stats = { moved: [] as number[], regrouped: [] as number[], refused: [] as string[] };
  const api = async (m: string, arg: unknown) => {
    const r = await fetch(`http://127.0.0.1:${port}/api/${m}?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(arg) });
    return { status: r.status, text: await r.text() };
  };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', async () => {
      const m = /\/api\/([A-Za-z]+)/.exec(req.url ?? '')?.[1] ?? '';
      const r = await api(m, JSON.parse(body || '{}'));
      if (m === 'learn' && r.status === 200 && (JSON.parse(r.text) as { result: { used: boolean } }).result.used) {
        const e = await api('editRun', { runId, op: { type: 'recluster' } });
        if (e.status === 200) { const x = (JSON.parse(e.text) as { result: { recluster: { moved: number; regrouped: number } } }).result.recluster; stats.moved.push(x.moved); stats.regrouped.push(x.regrouped); }
        else stats.refused.push(e.text.slice(0, 200));
      }
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(r.text);
    });
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, port: (server.address() as { port: number }).port, ...stats })));
}

async function session(lib: string, runId: number, mode: string, truth?: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [bin, 'serve', '--json', '--library', lib], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  try {
    const first = await new Promise<{ url: string; port: number }>((ok, fail) => {
      let buf = '';
      child.stdout.on('data', (d) => { buf += d; const nl = buf.indexOf('\n'); if (nl >= 0) ok(JSON.parse(buf.slice(0, nl))); });
      child.on('exit', () => fail(new Error(`serve exited: ${err}`)));
    });
    const token = new URL(first.url).searchParams.get('token')!;
    // a session without learning learns nothing in the background either
    const set = await fetch(`http://127.0.0.1:${first.port}/api/setSettings?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ learnInBackground: mode !== 'nolearn' }) });
    if (!set.ok) throw new Error(`setSettings: ${set.status} ${await set.text()}`);
    const relay = mode === 'recluster' ? await reclusterRelay(first.port, token, runId) : null;
    const t0 = performance.now();
    const r = await new Promise<string>((ok, fail) => {
      const o = spawn('/usr/bin/python3', [join(shared, 'tools/labeling_oracle.py'), String(relay?.port ?? first.port), token, String(runId), ...(mode === 'learn' || mode === 'recluster' ? [] : [mode])],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(truth ? { ORACLE_TRUTH: truth } : {}) } });
      let so = '', se = '';
      o.stdout.on('data', (d) => { so += d; });
      o.stderr.on('data', (d) => { se += d; });
      o.on('exit', (c) => (c === 0 ? ok(so) : fail(new Error(`oracle exited ${c}: ${se.slice(-2000)}`))));
    });
    relay?.server.close();
    const extra = relay ? { reclustered: { moved: relay.moved, regrouped: relay.regrouped, refused: relay.refused } } : {};
    return { ...JSON.parse(r.trim().split('\n').pop()!), ...extra, seconds: Math.round(performance.now() - t0) / 1000 };
  } finally {
    child.kill('SIGTERM');
  }
}

const rows: string[] = [];
for (const set of sets) {
  const kept = keep ? join(resolve(keep), set.replace(/[^a-z0-9-]/gi, '_')) : null;
  const dir = kept ?? mkdtempSync(join(tmpdir(), 'bench-labeling-'));
  try {
    const t0 = performance.now();
    const meta = kept ? join(kept, 'built.json') : null;
    let b: Awaited<ReturnType<typeof build>>;
    if (meta && existsSync(meta)) b = JSON.parse(readFileSync(meta, 'utf8')) as typeof b;
    else {
      if (kept) { rmSync(kept, { recursive: true, force: true }); mkdirSync(kept, { recursive: true }); }
      b = await build(set, dir);
      if (meta) writeFileSync(meta, JSON.stringify(b));
    }
    const buildS = Math.round(performance.now() - t0) / 1000;
    const res: Record<string, Record<string, unknown>> = {};
    for (const mode of modes) {
      const copy = join(dir, `${mode}.constellate`);
      copyFileSync(b.lib, copy);
      res[mode] = await session(copy, b.runId, mode, b.truth);
      const line = { set, mode, cluster: b.cluster.slice(1).join(' '), buildSeconds: buildS, load: loadavg().map((x) => Math.round(x * 100) / 100), ...res[mode] };
      console.log(JSON.stringify(line));
      if (out) appendFileSync(out, JSON.stringify(line) + '\n');
    }
    const a = res.nolearn, l = res.learn;
    if (a && l) {
      const ratio = (l.decisions as number) / (a.decisions as number);
      rows.push(`| ${set} | ${a.items} | ${a.people} | ${a.clusters} | ${a.perItem} | ${l.perItem} | ${ratio.toFixed(3)} | ${l.surePrecision ?? 'n/a'} | ${a.wrongAtEnd}/${l.wrongAtEnd} | ${l.learnOk}/${l.learnCalls} |`);
    }
    const rc = res.recluster;
    if (a && rc) {
      const rr = rc.reclustered as { moved: number[]; regrouped: number[] };
      rows.push(`| ${set} (learn + recluster: moved ${rr.moved.join('+') || 0}, regrouped ${rr.regrouped.join('+') || 0}) | ${a.items} | ${a.people} | ${a.clusters} | ${a.perItem} | ${rc.perItem} | ${((rc.decisions as number) / (a.decisions as number)).toFixed(3)} | ${rc.surePrecision ?? 'n/a'} | ${a.wrongAtEnd}/${rc.wrongAtEnd} | ${rc.learnOk}/${rc.learnCalls} |`);
    }
  } finally {
    if (!kept) rmSync(dir, { recursive: true, force: true });
  }
}
if (rows.length) {
  console.log('| set | items | groups | clusters | decisions/item nolearn | decisions/item learn | learn / nolearn | sure precision (learn) | wrong at end | learn ok |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}
