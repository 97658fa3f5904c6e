// Read jobs beside write jobs, on the warm bounded worker pool: a burst of `similar` calls stays within the pool's
// threads (RSS bounded, getInfo answering), a sweep finishes while an embedding job runs, and `similar` is a
// cancellable read job. Real library file, real photos, real ONNX sessions in real worker threads.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../algo/rng.ts';
import { writeNpy } from './npy-file.ts';
import { CoreService } from './service.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';
import { defaultPool } from './workers/pool.ts';

const t = tempDir();
let svc: CoreService;
const N_DIM = 64;

beforeAll(async () => {
  const dir = join(t.dir, 'photos');
  mkdirSync(dir);
  // 400 photos: the flowers set twice (same pixels, other paths), so an embedding job has a while to run
  cpSync(sharedPath('data/photos-flowers'), join(dir, 'a'), { recursive: true });
  cpSync(sharedPath('data/photos-flowers'), join(dir, 'b'), { recursive: true });
  svc = CoreService.open(join(t.dir, 'lib.constellate'));
  await svc.addRoots({ paths: [dir] });
  const scan = await svc.scan();
  expect((await svc.jobs.wait(scan.id)).state).toBe('done');
  const photos = (await svc.listPhotos({ limit: 5000 })).items;
  // imported embeddings (8 groups) for every photo, so read jobs have a matrix without waiting for an embed
  const rng = createRng(11);
  const X = new Float32Array(photos.length * N_DIM);
  for (let i = 0; i < photos.length; i++) for (let j = 0; j < N_DIM; j++) X[i * N_DIM + j] = (j % 8 === i % 8 ? 3 : 0) + rng.normal();
  writeNpy(join(t.dir, 'X.npy'), X, [photos.length, N_DIM]);
  writeFileSync(join(t.dir, 'ids.csv'), 'path\n' + photos.map((p) => `"${p.path}"`).join('\n') + '\n');
  await svc.importEmbeddings({ npy: join(t.dir, 'X.npy'), ids: join(t.dir, 'ids.csv'), model: 'test' });
}, 240_000);
afterAll(async () => { await svc?.close(); t.cleanup(); });

describe('read jobs beside write jobs', () => {
  it('64 concurrent similar calls run on the bounded pool; RSS stays bounded and getInfo answers within a second', async () => {
    const photos = (await svc.listPhotos({ limit: 5000 })).items;
    await svc.similar({ model: 'test', item: { kind: 'photo', id: photos[0].id }, k: 10 }); // warm: one worker, its session, the normalized matrix
    const pool = defaultPool();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0, worstInfo = 0, infos = 0, running = true;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    const prober = (async () => {
      while (running) {
        const t0 = performance.now();
        await svc.getInfo();
        worstInfo = Math.max(worstInfo, performance.now() - t0);
        infos++;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const calls = Array.from({ length: 64 }, (_, i) => svc.similar({ model: 'test', item: { kind: 'photo', id: photos[i % photos.length].id }, k: 10 }));
    const results = await Promise.all(calls);
    running = false;
    await prober;
    clearInterval(sampler);
    for (const r of results) {
      expect(r).toHaveLength(10);
      expect(r[0].similarity).toBeGreaterThanOrEqual(r[9].similarity);
    }
    // neighbours share the item's group (rows i and i+8 are in one group)
    const byId = new Map(photos.map((p, i) => [p.id, i]));
    expect(results[0].filter((v) => byId.get(v.item)! % 8 === 0).length).toBeGreaterThanOrEqual(8);
    const s = pool.stats();
    const growthMb = (peak - rss0) / 2 ** 20;
    console.log(`64 similar: pool ${JSON.stringify(s)}; RSS ${(rss0 / 2 ** 20).toFixed(0)} MB -> peak ${(peak / 2 ** 20).toFixed(0)} MB (+${growthMb.toFixed(0)} MB); getInfo worst ${worstInfo.toFixed(1)} ms over ${infos} calls`);
    expect(s.peak).toBeLessThanOrEqual(s.maxThreads);
    // the bound: at most maxThreads warm workers, each under 200 MB (loader, ORT session, scratch)
    expect(growthMb).toBeLessThan(200 * s.maxThreads);
    expect(worstInfo).toBeLessThan(1000);
    // each call was a read job, recorded and done
    const jobs = (await svc.listJobs()).filter((j) => j.kind === 'similar');
    expect(jobs.length).toBeGreaterThanOrEqual(50);
    expect(jobs.every((j) => j.state === 'done')).toBe(true);
  }, 240_000);

  it('a similar call is a cancellable job', async () => {
    const photos = (await svc.listPhotos({ limit: 5 })).items;
    const seen: number[] = [];
    // the job is made once the call's arguments are checked against the matrix (read in a worker when not cached):
    // cancelled as soon as it is announced, before its task runs
    let cancelled: Promise<unknown> | null = null;
    const off = svc.onEvent((e) => {
      if (e.type === 'job' && e.job.kind === 'similar' && e.job.state === 'queued') { seen.push(e.job.id); cancelled ??= svc.cancelJob({ id: e.job.id }); }
    });
    const p = svc.similar({ model: 'test', item: { kind: 'photo', id: photos[0].id }, k: 5 });
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
    off();
    expect(seen).toHaveLength(1);
    await cancelled;
    expect((await svc.getJob({ id: seen[0] })).state).toBe('cancelled');
    expect(await svc.similar({ model: 'test', item: { kind: 'photo', id: photos[0].id }, k: 5 })).toHaveLength(5);
  }, 120_000);

  it('near-duplicates is a read job on the normalized matrix', async () => {
    const groups = await svc.nearDuplicates({ model: 'test', threshold: 0.999 });
    expect(Array.isArray(groups)).toBe(true);
    const jobs = (await svc.listJobs()).filter((j) => j.kind === 'neardup');
    expect(jobs[0].state).toBe('done');
    expect(jobs[0].result).toEqual({ groups: groups.length });
  }, 120_000);

  it('a sweep runs and finishes while an embedding job runs', async () => {
    const embed = await svc.embed({ model: 'photo', workers: 1 });
    // wait until the embedding is under way (its worker loaded the model and did some photos)
    for (let i = 0; i < 600; i++) {
      const j = await svc.getJob({ id: embed.id });
      if (j.state !== 'queued' && j.progress.done > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const sweep = await svc.sweep({ model: 'test', kind: 'elbow', values: [2, 4, 8] });
    const sw = await svc.jobs.wait(sweep.id);
    const during = await svc.getJob({ id: embed.id });
    expect(sw.state).toBe('done');
    expect((sw.result as { points: unknown[] }).points).toHaveLength(3);
    expect(during.state).toBe('running'); // the sweep did not wait for the embedding
    expect(sw.startedAt!).toBeLessThan(Date.now());
    await svc.cancelJob({ id: embed.id });
    const e = await svc.jobs.wait(embed.id);
    expect(['cancelled', 'done']).toContain(e.state);
    expect(sw.finishedAt!).toBeLessThanOrEqual(e.finishedAt!);
  }, 240_000);
});
