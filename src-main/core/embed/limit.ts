/**
 * The throughput limit of the embedding models: session runs on inputs decoded and preprocessed beforehand (not
 * timed), in a worker like the embed job's. bench/embed compares the end-to-end job against this in the same run.
 */
import { FaceEmbedder, PhotoEmbedder, decodeRgb } from '../models/index.ts';
import type { TaskContext } from '../workers/tasks.ts';
import type { ItemKind } from '../../common/types.ts';

export interface LimitPayload { model: ItemKind; modelsDir: string; files: string[]; batch?: number; repeat?: number }
export interface LimitResult { images: number; faces: number; ms: number }

export async function limitTask(p: LimitPayload, _ctx: TaskContext): Promise<{ result: LimitResult }> {
  const repeat = p.repeat ?? 1;
  if (p.model === 'photo') {
    await using pe = await PhotoEmbedder.load(p.modelsDir);
    const tensors = await Promise.all(p.files.map((f) => pe.preprocess(f)));
    const B = p.batch ?? 8;
    await pe.embedBatch(tensors.slice(0, 1));
    const t0 = performance.now();
    for (let r = 0; r < repeat; r++) for (let i = 0; i < tensors.length; i += B) await pe.embedBatch(tensors.slice(i, i + B));
    const ms = performance.now() - t0;
    return { result: { images: tensors.length * repeat, faces: 0, ms } };
  }
  await using fe = await FaceEmbedder.load(p.modelsDir);
  const imgs = await Promise.all(p.files.map((f) => decodeRgb(f)));
  await fe.detectAndEmbedRgb(imgs[0]);
  let faces = 0;
  const t0 = performance.now();
  for (let r = 0; r < repeat; r++) for (const img of imgs) faces += (await fe.detectAndEmbedRgb(img)).length;
  const ms = performance.now() - t0;
  return { result: { images: imgs.length * repeat, faces, ms } };
}
