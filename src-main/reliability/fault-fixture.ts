/** A small library with photos, imported embeddings and a k-means run, built without models (for fault tests). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { clusterJob } from '../core/cluster/cluster-job.ts';
import { importEmbeddings } from '../core/embed/io.ts';
import { Library } from '../core/library.ts';
import { writeNpy } from '../core/npy-file.ts';
import { scanRoots } from '../core/scan/scanner.ts';
import { testContext } from '../testing/fixtures.ts';

export async function makePhotos(dir: string, n: number, size = 48): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(dir, `photo-${String(i).padStart(4, '0')}-with-a-rather-long-name-to-make-rows-longer.jpg`);
    await sharp({ create: { width: size, height: size, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 13) % 256 } } })
      .jpeg({ quality: 80 }).toFile(p);
    out.push(p);
  }
  return out;
}

export async function runLibrary(dir: string, n = 40): Promise<{ lib: Library; runId: number; photos: string[] }> {
  const photos = await makePhotos(join(dir, 'photos'), n);
  const lib = Library.open(join(dir, 'lib.constellate'), { noBackup: true });
  const root = lib.addRoot(join(dir, 'photos'));
  await scanRoots(lib, [root.id], testContext());
  const X = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) for (let j = 0; j < 4; j++) X[i * 4 + j] = (j === i % 2 ? 5 : 0) + ((i * 7 + j * 3) % 10) / 10;
  writeNpy(join(dir, 'x.npy'), X, [n, 4]);
  writeFileSync(join(dir, 'ids.csv'), ['path', ...photos].join('\n'));
  importEmbeddings(lib, join(dir, 'x.npy'), join(dir, 'ids.csv'), 'blobs');
  const rep = await clusterJob(lib, { model: 'blobs', params: { algo: 'kmeans', k: 2 } as never }, testContext());
  return { lib, runId: rep.runId, photos };
}
