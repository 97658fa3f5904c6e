import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreService } from '../service.ts';
import { Library } from '../library.ts';
import { MatrixCache } from '../services/context.ts';
import { loadMatrix } from '../store/embeddings.ts';
import { writeNpy } from '../npy-file.ts';
import { defaultPool } from './pool.ts';
import { sharedPath, tempDir } from '../../testing/fixtures.ts';

const t = tempDir('matrix-task-');
const D = 16;
let svc: CoreService;
const paths: string[] = [];

const importVectors = async (model: string, seed: number) => {
  const X = new Float32Array(paths.length * D).map((_, i) => Math.sin(i * 0.37 + seed));
  writeNpy(join(t.dir, `${model}-${seed}.npy`), X, [paths.length, D]);
  writeFileSync(join(t.dir, 'ids.csv'), 'path\n' + paths.join('\n') + '\n');
  await svc.importEmbeddings({ npy: join(t.dir, `${model}-${seed}.npy`), ids: join(t.dir, 'ids.csv'), model });
};

beforeAll(async () => {
  mkdirSync(join(t.dir, 'photos'), { recursive: true });
  for (const f of readdirSync(sharedPath('data/photos-flowers', 'daisy')).filter((x) => x.endsWith('.jpg')).sort().slice(0, 5)) {
    copyFileSync(sharedPath('data/photos-flowers', 'daisy', f), join(t.dir, 'photos', f));
    paths.push(join(t.dir, 'photos', f));
  }
  svc = CoreService.open(join(t.dir, 'lib.constellate'));
  await svc.addRoots({ paths: [join(t.dir, 'photos')] });
  await svc.waitJob({ id: (await svc.scan()).id });
  await importVectors('toy', 1);
});
afterAll(async () => { await svc?.close(); t.cleanup(); });

describe("a model's matrix read in a worker", () => {
  it('is what the main thread reads, in shared memory; concurrent calls share one read; a new revision is read again', async () => {
    const cache = new MatrixCache(svc.lib);
    const main = loadMatrix(svc.lib.db, 'toy');
    const tasks0 = defaultPool().stats().finished;
    const [a, b] = await Promise.all([cache.load('toy'), cache.load('toy')]);
    expect(a).toBe(b);
    expect(defaultPool().stats().finished - tasks0).toBe(1); // one read, in a worker
    expect(Array.from(a.ids)).toEqual(Array.from(main.ids));
    expect(a.X).toEqual(main.X);
    expect(a.X.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect({ n: a.n, d: a.d, kind: a.kind }).toEqual({ n: 5, d: D, kind: 'photo' });
    expect(cache.isCached('toy')).toBe(true);
    expect(await cache.load('toy')).toBe(a);
    await importVectors('toy', 2); // the model's revision moves
    const c = await cache.load('toy');
    expect(c.revision).toBeGreaterThan(a.revision);
    expect(c.X).toEqual(loadMatrix(svc.lib.db, 'toy').X);
    expect(c.X).not.toEqual(a.X);
  });

  it('an unknown model is NOT_FOUND as on the main thread; an in-memory library is read on the main thread', async () => {
    const cache = new MatrixCache(svc.lib);
    await expect(cache.load('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const mem = Library.inMemory(join(t.dir, 'mem-cache'));
    try {
      const tasks0 = defaultPool().stats().finished;
      await expect(new MatrixCache(mem).load('toy')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(defaultPool().stats().finished).toBe(tasks0);
    } finally { mem.close(); }
  });
});
