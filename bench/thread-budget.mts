/**
 * The process-wide thread budget under load, in serve mode. A real library of faces (faces-london, embedded with the
 * face model) is served over HTTP by this process (startServer, as `constellate serve` does); a second process (the
 * client) then starts, at once: an embed of new photos (faces-orl, a part of it), a silhouette sweep, and a burst of
 * 64 concurrent `similar` calls. Meanwhile this process samples every 2 ms:
 *   - its threads (/proc/self/task), less those it had before the load and less the pools of fixed size that are not
 *     compute threads (Node's libuv I/O pool, sharp's libvips pool: named by the kernel), against the budget
 *     (core/thread-budget.ts) and the budget's own count of places taken;
 *   - the main thread's longest task: the event loop's delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution) and
 *     a 5 ms interval's worst lag.
 * Checks: compute threads never over the budget; longest main-thread task under 50 ms.
 *   node --import tsx bench/thread-budget.mts [--orl-people 10] [--out bench/results/thread-budget.json]
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHook } from 'node:async_hooks';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CoreService } from '../src-main/core/service.ts';
import { budgetStats } from '../src-main/core/thread-budget.ts';
import { startServer } from '../src-main/server/server.ts';
import { sharedPath } from '../src-main/testing/fixtures.ts';

const opt = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const ORL_PEOPLE = Number(opt('orl-people', '10'));
/** which loads to start (a comma list of embed, sweep, similar; default all three) */
const ONLY = new Set(opt('only', 'embed,sweep,similar').split(','));
const out = opt('out', 'bench/results/thread-budget.json');
const load = () => loadavg().map((x) => Math.round(x * 10) / 10);
const loadAtStart = load();

const names = () => {
  const all: string[] = [];
  for (const t of readdirSync('/proc/self/task')) { try { all.push(readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim()); } catch { /* ended */ } }
  return all;
};
const fixedPool = (n: string) => n.startsWith('libuv') || n.startsWith('libvips');
const computeNow = () => names().filter((n) => !fixedPool(n)).length;
// the process's own threads before any work (main, V8's platform threads): whatever is above is the budget's (ORT
// starts none of its own: its telemetry thread is off, core/thread-budget.ts)
const base = computeNow();

const dir = mkdtempSync(join(tmpdir(), 'bench-threads-'));
const copy = (set: string, dst: string, people = Infinity) => {
  const src = sharedPath('data', set);
  for (const p of readdirSync(src).sort().slice(0, people)) cpSync(join(src, p), join(dst, p), { recursive: true });
};
const first = join(dir, 'london'), later = join(dir, 'orl');
copy('faces-london', first);
copy('faces-orl', later, ORL_PEOPLE);

const svc = CoreService.open(join(dir, 'lib.constellate'));
const t0 = performance.now();
await svc.addRoots({ paths: [first] });
await svc.waitJob({ id: (await svc.scan()).id });
const e0 = await svc.waitJob({ id: (await svc.embed({ model: 'face' })).id });
if (e0.state !== 'done') throw new Error(`embed: ${e0.state} ${JSON.stringify(e0.error)}`);
// the new photos are scanned now and embedded under load
await svc.addRoots({ paths: [later] });
await svc.waitJob({ id: (await svc.scan()).id });
const faces = (svc.lib.db.prepare('SELECT id FROM faces ORDER BY id').pluck().all() as number[]);
console.error(`library: ${faces.length} faces embedded in ${Math.round(performance.now() - t0)} ms`);

const renderer = join(dir, 'renderer');
mkdirSync(join(renderer, 'assets'), { recursive: true });
writeFileSync(join(renderer, 'index.html'), '<!doctype html>');
const token = 'bench-thread-budget-token';
const srv = await startServer({ service: svc, rendererDir: renderer, token, log: () => {} });

// one call first, so that what a process starts once is up before the load
await svc.similar({ model: 'face', item: { kind: 'face', id: faces[0] }, k: 10 });

const before = { compute: computeNow() - base, used: budgetStats().used };
const budget = budgetStats().limit;

const samples: Array<{ t: number; threads: number; compute: number; used: number }> = [];
let maxCompute = 0, maxThreads = 0, maxUsed = 0, atMax: Record<string, number> = {};
const tLoad = performance.now();
// every thread started during the load, with its first and last sighting (a short-lived one shows what made it)
const started = new Map<string, { name: string; first: number; last: number }>();
const before0 = new Set(readdirSync('/proc/self/task'));
const sampler = setInterval(() => {
  const all = names();
  const now = Math.round(performance.now() - tLoad);
  for (const t of readdirSync('/proc/self/task')) {
    if (before0.has(t)) continue;
    const seen = started.get(t);
    if (seen) seen.last = now;
    else { let name = '?'; try { name = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim(); } catch { /* ended */ } started.set(t, { name, first: now, last: now }); }
  }
  const compute = all.filter((n) => !fixedPool(n)).length - base;
  const used = budgetStats().used;
  if (compute > maxCompute) atMax = Object.fromEntries([...new Set(all)].map((n) => [n, all.filter((x) => x === n).length]));
  maxCompute = Math.max(maxCompute, compute); maxThreads = Math.max(maxThreads, all.length); maxUsed = Math.max(maxUsed, used);
  samples.push({ t: Math.round(performance.now() - tLoad), threads: all.length, compute, used });
}, 2);
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();
// The main thread's tasks by their own CPU time (process.threadCpuUsage, microseconds): a task runs from the start of
// a callback from the event loop (I/O, a timer, an immediate; a promise's continuation belongs to the task that
// resolved it, and so do process.nextTick callbacks) to the start of the next one, its promise continuations and garbage collection included; waiting in
// the loop costs none. The hook adds its own cost to every callback and promise, so the figures are upper bounds.
const tcpu = () => { const u = process.threadCpuUsage(); return u.user + u.system; };
const loopTypes = new Map<number, string>();
let depth = 0, taskStart = tcpu(), taskType = 'start', taskAt = 0;
const tasks: Array<{ us: number; type: string; at: number }> = [];
const taskHook = createHook({
  init(id, type) { if (type !== 'PROMISE' && type !== 'TickObject' && type !== 'Microtask') loopTypes.set(id, type); },
  before(id) {
    const type = loopTypes.get(id);
    if (type === undefined) return;
    if (depth++ > 0) return;
    const now = tcpu();
    if (taskType !== 'start') tasks.push({ us: now - taskStart, type: taskType, at: taskAt }); // 'start': the bench's own, before the first callback
    taskStart = now; taskType = type; taskAt = Math.round(performance.now() - tLoad);
  },
  after(id) { if (loopTypes.has(id)) depth = Math.max(0, depth - 1); },
  destroy(id) { loopTypes.delete(id); },
}).enable();
// on a machine with more runnable threads than cores a gap may be the main thread waiting for a core, not running:
// the main thread's own CPU time in each gap (/proc/self/task/PID/stat utime + stime, clock ticks of 10 ms) tells them apart
const mainCpuMs = () => { const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
let worstLag = 0, worstAt = 0, worstLagCpu = 0, worstCpu = 0, last = performance.now(), lastCpu = mainCpuMs();
const lagProbe = setInterval(() => {
  const now = performance.now(), cpu = mainCpuMs();
  if (now - last - 5 > worstLag) { worstLag = now - last - 5; worstAt = Math.round(now - tLoad); worstLagCpu = cpu - lastCpu; }
  worstCpu = Math.max(worstCpu, cpu - lastCpu);
  last = now; lastCpu = cpu;
}, 5);

// the client, in a process of its own so that its work is not on this process's main thread
const client = `
  const port = ${srv.port}, token = ${JSON.stringify(token)}, faces = ${JSON.stringify(faces.slice(0, 64))};
  const api = async (m, a) => {
    const r = await fetch('http://127.0.0.1:' + port + '/api/' + m, { method: 'POST', headers: { 'content-type': 'application/json', 'x-constellate-token': token }, body: JSON.stringify(a) });
    const j = await r.json();
    if (!r.ok) throw new Error(m + ': ' + JSON.stringify(j));
    return j.result;
  };
  const t0 = performance.now();
  const only = ${JSON.stringify([...ONLY])};
  const embed = only.includes('embed') ? await api('embed', { model: 'face' }) : null;
  const sweep = only.includes('sweep') ? await api('sweep', { model: 'face', kind: 'silhouette', values: [2, 4, 8, 16, 24, 32], space: 'umap' }) : null;
  const lat = await Promise.all(Array.from({ length: only.includes('similar') ? 64 : 1 }, async (_, i) => {
    const s = performance.now();
    const r = await api('similar', { model: 'face', item: { kind: 'face', id: faces[i % faces.length] }, k: 20 });
    if (!Array.isArray(r) || r.length === 0) throw new Error('similar: empty');
    return performance.now() - s;
  }));
  lat.sort((a, b) => a - b);
  console.log(JSON.stringify({ embedJob: embed?.id ?? null, sweepJob: sweep?.id ?? null, similar: { calls: lat.length, p50: Math.round(lat[lat.length >> 1]), max: Math.round(lat[lat.length - 1]), wall: Math.round(performance.now() - t0) } }));
`;
const child = spawn(process.execPath, ['--input-type=module', '-e', client], { stdio: ['ignore', 'pipe', 'inherit'] });
let stdout = '';
child.stdout.on('data', (d) => { stdout += d; });
const code = await new Promise<number>((ok) => child.on('exit', (c) => ok(c ?? -1)));
if (code !== 0) throw new Error(`client exited ${code}`);
const c = JSON.parse(stdout.trim().split('\n').pop()!) as { embedJob: number | null; sweepJob: number | null; similar: { calls: number; p50: number; max: number; wall: number } };
const none = { state: 'not started' };
const [embed, sweep] = await Promise.all([c.embedJob === null ? none : svc.waitJob({ id: c.embedJob }), c.sweepJob === null ? none : svc.waitJob({ id: c.sweepJob })]);
const tAll = performance.now() - tLoad;
clearInterval(sampler); clearInterval(lagProbe); eld.disable(); taskHook.disable();
tasks.sort((a, b) => b.us - a.us);
const longestTasks = tasks.slice(0, 5).map((t) => ({ ms: Math.round(t.us / 100) / 10, type: t.type, atMs: t.at }));

const result = {
  machine: { cores: (await import('node:os')).availableParallelism(), loadBefore: loadAtStart },
  budget, baseThreads: base, beforeLoad: before,
  faces: { embeddedFirst: faces.length, newPhotos: ORL_PEOPLE * 10 },
  load: { started: [...ONLY], seconds: Math.round(tAll / 100) / 10, embed: { state: embed.state }, sweep: { state: sweep.state }, similar: c.similar },
  threads: {
    maxComputeThreads: maxCompute, threadsAtMax: atMax, maxBudgetUsed: maxUsed, budgetPeak: budgetStats().peak, maxProcessThreads: maxThreads, samples: samples.length,
    overBudgetSamples: samples.filter((s) => s.compute > budget).length,
    /** threads started during the load (fixed pools apart), and those among them that lived under 200 ms */
    startedDuringLoad: [...started.values()].filter((x) => !fixedPool(x.name)).length,
    shortLived: [...started.values()].filter((x) => !fixedPool(x.name) && x.last - x.first < 200).map((x) => `${x.name}@${x.first}ms`),
  },
  mainThread: {
    eventLoopDelayMaxMs: Math.round(eld.max / 1e5) / 10, eventLoopDelayP99Ms: Math.round(eld.percentile(99) / 1e5) / 10,
    worstIntervalLagMs: Math.round(worstLag * 10) / 10, worstLagAtMs: worstAt, mainCpuInWorstLagMs: worstLagCpu,
    /** the most CPU the main thread used between two ticks of the 5 ms probe (10 ms resolution; all it ran between two ticks, several tasks when the loop is busy) */
    longestMainTaskCpuMs: worstCpu,
    /** the main thread's longest tasks by their own CPU time (async_hooks task boundaries, process.threadCpuUsage) */
    longestTasks, tasks: tasks.length,
  },
  loadAfter: load(),
  checks: {
    neverOverBudget: maxCompute <= budget && budgetStats().peak <= budget,
    longestTaskUnder50ms: (longestTasks[0]?.ms ?? 0) < 50,
    probeGapCpuUnder50ms: worstCpu < 50,
    eventLoopDelayUnder50ms: eld.max / 1e6 < 50,
    jobsDone: [embed, sweep].every((j) => j.state === 'done' || j.state === 'not started'),
  },
};
console.log(JSON.stringify(result, null, 1));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ ...result, timeline: samples.filter((_, i) => i % 25 === 0) }, null, 1));
await srv.close();
await svc.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
