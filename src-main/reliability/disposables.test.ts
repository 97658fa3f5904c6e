/**
 * One cleanup idiom: what holds a resource disposes (`await using`), and leaving the block by return or throw
 * releases it. The server, the folder watcher and a model here (sessions and Gemms: core/thread-budget.test.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CoreService } from '../core/service.ts';
import { FolderWatcher } from '../core/watch.ts';
import { PhotoEmbedder } from '../core/models/photo.ts';
import { ensureModels } from '../testing/models.ts';
import { startServer, type RunningServer } from '../server/server.ts';
import { sharedPath, tempDir } from '../testing/fixtures.ts';

const t = tempDir('disposables-');
afterAll(() => t.cleanup());

/** Whether something answers on the port (any status). */
const answers = (port: number) => new Promise<boolean>((ok) => {
  const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET' }, (res) => { res.resume(); ok(true); });
  req.on('error', () => ok(false));
  req.end();
});

describe('disposables', () => {
  it('a server held with await using is closed when its block throws; a watcher so held stops watching', async () => {
    const renderer = join(t.dir, 'renderer');
    mkdirSync(join(renderer, 'assets'), { recursive: true });
    writeFileSync(join(renderer, 'index.html'), '<!doctype html>');
    const svc = CoreService.open(join(t.dir, 'lib.constellate'));
    try {
      let seen: RunningServer | null = null;
      await expect((async () => {
        await using srv = await startServer({ service: svc, rendererDir: renderer });
        seen = srv;
        expect(await answers(srv.port)).toBe(true);
        throw new Error('left early');
      })()).rejects.toThrow('left early');
      expect(await answers(seen!.port)).toBe(false);

      const root = join(t.dir, 'photos');
      mkdirSync(join(root, 'sub'), { recursive: true });
      await svc.addRoots({ paths: [root] });
      let watcher: FolderWatcher | null = null;
      {
        await using w = new FolderWatcher(svc, 150, undefined, 150);
        watcher = w;
        w.update({ ...(await svc.getSettings()), watch: true });
        expect(w.watchedFolders()).toEqual([root, join(root, 'sub')]);
      }
      expect(watcher.watchedFolders()).toEqual([]);
    } finally {
      await svc.close();
    }
  });

  it('a model held with await using releases its session when its block ends: it embeds inside, not after', async () => {
    const dir = await ensureModels();
    const photo = sharedPath('data', 'photos-flowers');
    const { readdirSync } = await import('node:fs');
    const cls = readdirSync(photo).filter((f) => !f.endsWith('.txt')).sort()[0];
    const file = join(photo, cls, readdirSync(join(photo, cls)).sort()[0]);
    let kept: PhotoEmbedder | null = null;
    let x: Float32Array;
    {
      await using pe = await PhotoEmbedder.load(dir);
      kept = pe;
      x = await pe.preprocess(file);
      expect((await pe.embedBatch([x])).features.length).toBeGreaterThan(0);
    }
    await expect(kept.embedBatch([x])).rejects.toThrow();
  });
});
