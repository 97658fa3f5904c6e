/**
 * Throughput measurement for the built-in models (single-threaded sessions).
 * Run: npx tsx bench/models.mts [photoDir] [faceDir]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaceEmbedder } from '../src-main/core/models/face.ts';
import { defaultModelsDir } from '../src-main/core/models/files.ts';
import { decodeRgb } from '../src-main/core/models/image.ts';
import { PhotoEmbedder } from '../src-main/core/models/photo.ts';
import { SHARED } from '../src-main/testing/fixtures.ts';

export interface ModelBench {
  photo: { images: number; batch: number; endToEndPerSec: number; preprocessPerSec: number; sessionRunPerSec: number };
  face: { images: number; faces: number; imagesPerSec: number; facesPerSec: number; decodePerSec: number };
}

function listJpegs(dir: string, limit: number): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= limit) return;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.jpe?g$/i.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export async function benchModels(opts: { photoDir: string; faceDir: string; photoLimit?: number; faceLimit?: number; batch?: number; modelsDir?: string }): Promise<ModelBench> {
  const modelsDir = opts.modelsDir ?? defaultModelsDir();
  const batch = opts.batch ?? 8;
  const photos = listJpegs(opts.photoDir, opts.photoLimit ?? 48);
  const pe = await PhotoEmbedder.load(modelsDir);
  await pe.embedBatch([await pe.preprocess(photos[0]!)]); // warm-up

  let t = performance.now();
  const tensors: Float32Array[] = [];
  for (const p of photos) tensors.push(await pe.preprocess(p));
  const preMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < tensors.length; i += batch) await pe.embedBatch(tensors.slice(i, i + batch));
  const runMs = performance.now() - t;
  await pe.release();

  const faces = listJpegs(opts.faceDir, opts.faceLimit ?? 20);
  const fe = await FaceEmbedder.load(modelsDir);
  await fe.detectAndEmbed(faces[0]!);
  t = performance.now();
  let nf = 0;
  for (const f of faces) nf += (await fe.detectAndEmbed(f)).length;
  const faceMs = performance.now() - t;
  t = performance.now();
  for (const f of faces) await decodeRgb(f);
  const decMs = performance.now() - t;
  await fe.release();

  return {
    photo: {
      images: photos.length,
      batch,
      endToEndPerSec: photos.length / ((preMs + runMs) / 1000),
      preprocessPerSec: photos.length / (preMs / 1000),
      sessionRunPerSec: photos.length / (runMs / 1000),
    },
    face: { images: faces.length, faces: nf, imagesPerSec: faces.length / (faceMs / 1000), facesPerSec: nf / (faceMs / 1000), decodePerSec: faces.length / (decMs / 1000) },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const shared = path.resolve(SHARED, 'data');
  const r = await benchModels({ photoDir: process.argv[2] ?? path.join(shared, 'photos-flowers'), faceDir: process.argv[3] ?? path.join(shared, 'faces-london') });
  console.log(JSON.stringify(r, null, 2));
}
