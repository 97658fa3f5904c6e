/**
 * The learning tests' set: G folders of PER real flower photos copied under `dir/photos/f<g>`, scanned into a library
 * opened at `lib`, and a made-up D-d matrix (one row per photo, in `paths` order) whose groups differ only along 4 weak
 * directions under strong nuisance ones (the embedding alone does not separate them; decisions must teach a metric).
 * The caller imports the rows it wants as the model's embeddings.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppApi } from '../common/api.ts';
import { checkedApi } from '../common/dispatch.ts';
import { createRng } from '../algo/rng.ts';
import { CoreService } from '../core/service.ts';
import { writeNpy } from '../core/npy-file.ts';
import { sharedPath } from './fixtures.ts';

export async function nuisancePhotos(dir: string, lib: string, o: { G: number; PER: number; D: number }): Promise<{ svc: CoreService; api: AppApi; paths: string[]; X: Float32Array }> {
  const { G, PER, D } = o;
  const folders = readdirSync(sharedPath('data/photos-flowers')).filter((f) => !f.includes('.')).sort().slice(0, G);
  const paths: string[] = [];
  folders.forEach((folder, g) => {
    mkdirSync(join(dir, 'photos', `f${g}`), { recursive: true });
    for (const f of readdirSync(sharedPath('data/photos-flowers', folder)).filter((x) => x.endsWith('.jpg')).sort().slice(0, PER)) {
      copyFileSync(sharedPath('data/photos-flowers', folder, f), join(dir, 'photos', `f${g}`, f));
      paths.push(join(dir, 'photos', `f${g}`, f));
    }
  });
  const svc = CoreService.open(lib);
  const api = checkedApi(svc);
  const [root] = await api.addRoots({ paths: [join(dir, 'photos')] });
  await api.waitJob({ id: (await api.scan({ rootIds: [root.id] })).id });
  const rng = createRng(7);
  const centers = Array.from({ length: G }, () => Array.from({ length: 4 }, () => rng.normal()));
  const X = new Float32Array(paths.length * D);
  paths.forEach((_, i) => {
    const g = Math.floor(i / PER);
    for (let t = 0; t < D; t++) X[i * D + t] = t < 4 ? centers[g][t] + rng.normal() * 0.3 : rng.normal() * 2.5 + 1;
  });
  return { svc, api, paths, X };
}

/**
 * The same set with every row imported as the model 'mine' and clustered by k-means (k clusters, seed 1): the run
 * and its clusters, for the tests that decide on a run of it.
 */
export async function nuisanceRun(dir: string, lib: string, o: { G: number; PER: number; D: number; k: number }): Promise<{ svc: CoreService; api: AppApi; paths: string[]; X: Float32Array; runId: number; clusters: number[] }> {
  const { svc, api, paths, X } = await nuisancePhotos(dir, lib, o);
  writeNpy(join(dir, 'x.npy'), X, [paths.length, o.D]);
  writeFileSync(join(dir, 'ids.csv'), 'path\n' + paths.join('\n') + '\n');
  await api.importEmbeddings({ npy: join(dir, 'x.npy'), ids: join(dir, 'ids.csv'), model: 'mine' });
  const job = await api.waitJob({ id: (await api.cluster({ model: 'mine', params: { algo: 'kmeans', k: o.k, seed: 1 } })).id });
  if (job.state !== 'done') throw new Error(`clustering ended ${job.state}`);
  const runId = (await api.listRuns())[0]!.id;
  const clusters = (await api.getClusters({ runId })).map((c) => c.cluster);
  return { svc, api, paths, X, runId, clusters };
}
