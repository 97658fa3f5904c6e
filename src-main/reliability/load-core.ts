/**
 * Loopback load on serve mode: many concurrent API calls (reads, and writes that must not be lost) while a scan job runs
 * in the same server, plus a WebSocket listening to the job's events. Shared by serve.test.ts and bench/load.mts.
 */
import { mkdirSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { RunningServer } from '../server/server.ts';

export interface LoadOptions {
  srv: RunningServer;
  /** total API calls */
  requests: number;
  concurrency: number;
  /** folder in which `writes` new empty folders are created and added as roots concurrently with the reads */
  scratch: string;
  writes: number;
  /** called once the load starts, e.g. to start the scan job */
  startJob: () => Promise<number>;
  waitJob: (id: number) => Promise<{ state: string }>;
}

export interface LoadReport {
  requests: number;
  errors: number;
  errorSamples: string[];
  statuses: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  seconds: number;
  perSecond: number;
  wsEvents: number;
  jobState: string;
  rootsAdded: number;
}

/** One API call over HTTP: the method's one options object as the JSON body (none: an empty body). */
export function post(srv: RunningServer, method: string, options?: unknown, agent?: Agent): Promise<{ status: number; body: string }> {
  const body = options === undefined ? '' : JSON.stringify(options);
  return new Promise((ok, fail) => {
    const req = request({
      host: '127.0.0.1', port: srv.port, path: `/api/${method}`, method: 'POST', agent,
      headers: { host: `127.0.0.1:${srv.port}`, 'x-constellate-token': srv.token, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { b += c; });
      res.on('end', () => ok({ status: res.statusCode!, body: b }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method}: no answer in 30 s`)));
    req.on('error', fail);
    req.end(body);
  });
}

const pct = (xs: number[], p: number) => xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : 0;

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const ws = new WebSocket(`ws://127.0.0.1:${o.srv.port}/events`, { headers: { 'x-constellate-token': o.srv.token } });
  let wsEvents = 0;
  ws.on('message', () => { wsEvents++; });
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });

  const folders = Array.from({ length: o.writes }, (_, i) => join(o.scratch, `added-${i}`));
  for (const f of folders) mkdirSync(f, { recursive: true });
  const t0 = performance.now();
  const jobId = await o.startJob();
  const reads: Array<[string, unknown]> = [
    ['getInfo', undefined], ['listPhotos', { offset: 0, limit: 50 }], ['listRoots', {}], ['listJobs', undefined], ['getJob', { id: jobId }],
    ['listScanIssues', { offset: 0, limit: 20 }], ['listPhotos', { offset: 20, limit: 5 }], ['listRuns', undefined],
  ];
  // the writes are spread through the read traffic: each folder is added twice (the second must return the same root)
  const plan: Array<[string, unknown]> = [];
  for (let i = 0; i < o.requests; i++) plan.push(reads[i % reads.length]);
  folders.forEach((f, i) => {
    plan.splice(Math.floor(((i + 0.5) / folders.length) * plan.length), 0, ['addRoots', { paths: [f] }]);
    plan.splice(Math.floor(((i + 0.7) / folders.length) * plan.length), 0, ['addRoots', { paths: [f] }]);
  });
  const lat: number[] = [];
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;
  const addedIds = new Map<string, number[]>();
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (next < plan.length) {
      const [method, args] = plan[next++];
      const s = performance.now();
      try {
        const r = await post(o.srv, method, args, agent);
        lat.push(performance.now() - s);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status !== 200) { errors++; if (errorSamples.length < 5) errorSamples.push(`${method}: ${r.status} ${r.body.slice(0, 200)}`); continue; }
        if (method === 'addRoots') {
          const root = (JSON.parse(r.body).result as Array<{ id: number; path: string }>)[0];
          (addedIds.get(root.path) ?? addedIds.set(root.path, []).get(root.path)!).push(root.id);
        }
      } catch (e) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push(`${method}: ${(e as Error).message}`);
      }
    }
  }));
  const job = await o.waitJob(jobId);
  const seconds = (performance.now() - t0) / 1000;
  ws.close();
  agent.destroy();
  // no lost or doubled writes: each folder became exactly one root, and both adds returned it
  let rootsAdded = 0;
  for (const f of folders) {
    const ids = addedIds.get(f) ?? [];
    if (ids.length === 2 && ids[0] === ids[1]) rootsAdded++;
    else { errors++; if (errorSamples.length < 5) errorSamples.push(`addRoots ${f}: ids ${JSON.stringify(ids)}`); }
  }
  lat.sort((a, b) => a - b);
  const r2 = (x: number) => Math.round(x * 10) / 10;
  return {
    requests: plan.length, errors, errorSamples, statuses,
    latencyMs: { p50: r2(pct(lat, 50)), p95: r2(pct(lat, 95)), p99: r2(pct(lat, 99)), max: r2(lat[lat.length - 1] ?? 0) },
    seconds: r2(seconds), perSecond: Math.round(plan.length / seconds), wsEvents, jobState: job.state, rootsAdded,
  };
}
