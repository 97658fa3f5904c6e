/**
 * The contract's one door: every transport (HTTP, the IPC dispatch behind the preload's generic stub, direct calls
 * through checkedApi, the CLI) validates a call's one options object against common/schemas.ts before anything runs.
 * Bad arguments are BAD_ARGUMENT naming the parameter (4xx over HTTP), and a bad clustering run is refused when asked,
 * never queued to fail in a worker.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS, type AppApi } from '../common/api.ts';
import { clientOf } from '../common/client.ts';
import { checkedApi, reply } from '../common/dispatch.ts';
import { AppError } from '../common/errors.ts';
import { API_SCHEMAS } from '../common/schemas.ts';
import { REPO_ROOT, tempDir } from '../testing/fixtures.ts';
import { CoreService } from '../core/service.ts';
import { API_MAX_BODY, startServer, type RunningServer } from '../server/server.ts';
import { post } from './load-core.ts';

const t = tempDir('constellate-contract-');
let svc: CoreService;
let srv: RunningServer;
beforeAll(async () => {
  svc = CoreService.open(join(t.dir, 'lib.constellate'));
  mkdirSync(join(t.dir, 'renderer'));
  srv = await startServer({ service: svc, rendererDir: join(t.dir, 'renderer') });
});
afterAll(async () => { await srv?.close(); await svc?.close(); t.cleanup(); });

/** [method, options, the parameter the refusal must name] */
const BAD: Array<[string, unknown, RegExp]> = [
  ['cluster', { model: 'face', params: { algo: 'kmeans' } }, /^params\.k: is required for k-means/],
  ['cluster', { model: 'face', params: { algo: 'minibatch-kmeans', k: 0 } }, /^params\.k: /],
  ['cluster', { model: 'face', params: { algo: 'dbscan', eps: -0.2 } }, /^params\.eps: /],
  ['cluster', { model: 'face', params: { algo: 'hdbscan', minClusterSize: 1 } }, /^params\.minClusterSize: /],
  ['cluster', { model: 'face', params: { algo: 'kmeans', k: 2.5 } }, /^params\.k: /],
  ['cluster', { model: 'face', params: { algo: 'spectral' } }, /^params\.algo: /],
  ['cluster', { params: { algo: 'kmeans', k: 3 } }, /^model: /],
  ['editRun', { runId: 1, op: { type: 'rename', cluster: 0, name: 5 } }, /^op\.name: /],
  ['editRun', { runId: 1, op: { type: 'frobnicate' } }, /^op\.type: /],
  ['getClusterMembers', { runId: 1, cluster: 0, offset: null }, /^offset: /],
  ['getPhoto', { id: '3' }, /^id: /],
  ['getPhoto', [3], /^options: /],
  ['addRoots', { paths: 5 }, /^paths: /],
  ['addRoots', { paths: [] }, /^paths: give at least one folder/],
  ['listPhotos', { limit: 0 }, /^limit: /],
  ['listPhotos', { offest: 3 }, /^offest: /],
  ['computeMap', { model: 'photo', params: { method: 'mds' } }, /^params\.method: /],
  ['similar', { model: 'photo', item: 7 }, /^item: /],
  ['sweep', { model: 'photo', kind: 'elbow', values: [] }, /^values: give 1\.\.100/],
  ['exportRun', { runId: 1, to: '/tmp/x', format: 'pdf' }, /^format: /],
  ['getMap', {}, /^model: give a map id or a model/],
];

describe('one schema per method', () => {
  it('every AppApi method has an argument schema', () => {
    expect(Object.keys(API_SCHEMAS).sort()).toEqual([...API_METHODS].sort());
  });
});

describe('validated once at the door, on every transport', () => {
  it('HTTP: 400 BAD_ARGUMENT naming the parameter; nothing queued', async () => {
    for (const [m, o, why] of BAD) {
      const r = await post(srv, m, o);
      expect(r.status, `${m} ${JSON.stringify(o)}`).toBe(400);
      const e = JSON.parse(r.body).error;
      expect(e.code, m).toBe('BAD_ARGUMENT');
      expect(e.message, `${m} ${JSON.stringify(o)}`).toMatch(why);
    }
    expect(await svc.listJobs()).toEqual([]);
  });

  it('IPC: the dispatch behind the preload answers {ok: false, BAD_ARGUMENT}; the generic stub throws AppError', async () => {
    const ipc: AppApi = clientOf((m, a) => reply(svc, m, structuredClone(a)));
    for (const [m, o, why] of BAD) {
      const r = await reply(svc, m, o);
      expect(r.ok, m).toBe(false);
      if (!r.ok) { expect(r.error.code).toBe('BAD_ARGUMENT'); expect(r.error.message).toMatch(why); }
      const call = (ipc as unknown as Record<string, (o: unknown) => Promise<unknown>>)[m](o);
      await expect(call).rejects.toBeInstanceOf(AppError);
      await expect(call).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(why) });
    }
    expect(await reply(svc, 'constructor', {})).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await reply(null, 'getInfo', undefined)).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(await svc.listJobs()).toEqual([]);
  });

  it('direct calls through checkedApi', async () => {
    const api = checkedApi(svc);
    for (const [m, o, why] of BAD) {
      await expect((api as unknown as Record<string, (o: unknown) => Promise<unknown>>)[m](o)).rejects.toMatchObject({ code: 'BAD_ARGUMENT', message: expect.stringMatching(why) });
    }
    expect((await api.getInfo()).photos).toBe(0);
    expect((await api.listPhotos({ limit: 5 })).total).toBe(0);
    expect(await svc.listJobs()).toEqual([]);
  });

  it('a clustering run that passes the schema is still checked against its items before it is queued', async () => {
    await expect(svc.cluster({ model: 'face', params: { algo: 'kmeans', k: 3 } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await svc.listJobs()).toEqual([]);
  });

  it('bodies: a 2 MB argument list, deep nesting and non-JSON are 4xx, never 500; the server keeps answering', async () => {
    const bodies = ['[' + '1,'.repeat(1 << 20) + '1]', '['.repeat(1 << 20) + ']'.repeat(1 << 20), '{not json', '"x"', 'null', '{"__proto__": {"polluted": 1}}'];
    for (const b of bodies) {
      const r = await rawPost('listPhotos', b);
      expect(r.status, b.slice(0, 20)).toBeGreaterThanOrEqual(400);
      expect(r.status, b.slice(0, 20)).toBeLessThan(500);
      expect(JSON.parse(r.body).error.code).toBe('BAD_ARGUMENT');
    }
    const huge = await rawPost('getItems', JSON.stringify({ kind: 'photo', ids: Array.from({ length: 700_000 }, (_, i) => i + 1) }));
    expect(huge.status).toBe(413);
    expect(huge.body).toMatch(new RegExp(`${API_MAX_BODY}`));
    expect((await post(srv, 'getInfo')).status).toBe(200);
  });
});

describe('CLI', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  it('a bad clustering parameter exits 2 naming it, and queues no job', async () => {
    const lib = join(t.dir, 'cli.constellate');
    for (const [args, why] of [
      [['--algo', 'kmeans'], /k/],
      [['--algo', 'kmeans', '--k', '0'], /k/],
      [['--algo', 'dbscan', '--eps', '-0.2'], /eps/],
      [['--algo', 'hdbscan', '--min-cluster-size', '1'], /min-?cluster-?size/i],
    ] as Array<[string[], RegExp]>) {
      const r = cli(['cluster', '--model', 'face', ...args, '--library', lib]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(why);
    }
    const after = CoreService.open(lib);
    try { expect(await after.listJobs()).toEqual([]); } finally { await after.close(); }
  });
});

async function rawPost(method: string, body: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${srv.port}/api/${method}`, { method: 'POST', headers: { 'x-constellate-token': srv.token, 'content-type': 'application/json' }, body });
  return { status: r.status, body: await r.text() };
}
