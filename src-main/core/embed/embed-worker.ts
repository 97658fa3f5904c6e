/**
 * The embedding task, run in a worker thread with its own ONNX session (one intra-op thread) and its own connection to
 * the library. Reading and preprocessing the next batch overlaps inference of the current one. Each photo's results are
 * committed with its 'processed' mark in one transaction, so a killed job loses at most the batch in flight and a re-run
 * neither duplicates nor skips anything.
 */
import { readFileSafeSync } from '../safe-read.ts';
import { dirname, join } from 'node:path';
import { AppError, toPayload } from '../../common/errors.ts';
import { faceThumbKey } from '../../common/thumbs.ts';
import { saveThumb, thumbFile } from '../thumb-path.ts';
import { FaceEmbedder, MODEL_FILES, PhotoEmbedder, loadManifestModel } from '../models/index.ts';
import type { TaskContext } from '../workers/tasks.ts';
import { matchFaces } from '../../algo/face-match.ts';
import { refreshClusters } from '../curation/edits.ts';
import { fileKey, warmModel } from '../workers/warm.ts';

/** The cache key of a built-in model's sessions: its files' identity (and the checksums file), plus options. */
function builtinKey(name: ItemKind, modelsDir: string, opts: unknown): string {
  return `${name}:` + fileKey([...MODEL_FILES[name].map((f) => join(modelsDir, f)), join(modelsDir, 'checksums.json')], JSON.stringify(opts ?? null));
}

/** The cache key of a manifest model: the manifest and the model file it names. */
function manifestKey(manifestPath: string): string {
  let file = '';
  try { file = join(dirname(manifestPath), String((JSON.parse(readFileSafeSync(manifestPath, 'manifest', undefined, 'utf8')) as { file?: unknown }).file)); } catch { /* load reports it */ }
  return 'manifest:' + fileKey([manifestPath, file]);
}
import { blobVec, openWorkerDb, vecBlob } from '../store/embeddings.ts';
import { detectedFaceStatements, embedWriteStatements } from '../store/embed-repo.ts';
import type { ItemKind } from '../../common/types.ts';

export interface EmbedTaskPayload {
  library: string;
  thumbDir: string;
  /** 'photo', 'face' or a manifest path */
  model: string;
  modelName: string;
  version: string;
  modelsDir: string;
  photos: Array<{ id: number; path: string; hash: string }>;
  batch?: number;
  face?: { scoreThreshold?: number; minFaceSize?: number; minQuality?: number };
}

export interface EmbedTaskResult {
  processed: number;
  failed: number;
  faces: number;
  /** detections dropped by the face quality floor */
  rejectedFaces: number;
  /** face models: detections dropped by the quality floor, by photo folder */
  rejectedByFolder: Record<string, number>;
  /** first few failures, for the report */
  failures: Array<{ path: string; reason: string }>;
  inferenceMs: number;
  totalMs: number;
}

export async function embedTask(p: EmbedTaskPayload, ctx: TaskContext): Promise<{ result: EmbedTaskResult }> {
  const t0 = performance.now();
  const db = openWorkerDb(p.library);
  const res: EmbedTaskResult = { processed: 0, failed: 0, faces: 0, rejectedFaces: 0, rejectedByFolder: {}, failures: [], inferenceMs: 0, totalMs: 0 };
  const writes = embedWriteStatements(db);
  const fail = (ph: { id: number; path: string; hash: string }, e: unknown) => {
    const reason = toPayload(e).message;
    writes.markBad(p.modelName, ph.id, p.version, ph.hash, reason);
    res.failed++;
    if (res.failures.length < 20) res.failures.push({ path: ph.path, reason });
  };
  const total = p.photos.length;
  let done = 0;
  try {
    if (p.model === 'face') {
      const fo = { scoreThreshold: p.face?.scoreThreshold, minFaceSize: p.face?.minFaceSize, minQuality: p.face?.minQuality };
      // a warm worker keeps the three sessions for the next job with the same files and options
      const fe = await warmModel(builtinKey('face', p.modelsDir, fo), () => FaceEmbedder.load(p.modelsDir, fo));
      const rejected0 = fe.rejectedLowQuality;
      // faces drawn by hand stay as they are (a re-embed neither matches nor removes them); boxes marked "not a
      // face" on this photo's content: detections there are dropped; a face's embeddings, labels and run assignments
      // go with it (the library's triggers)
      const fq = detectedFaceStatements(db);
      // overlap: start the next photo's detection while the current one's results are written
      let next = total > 0 ? fe.detectAndEmbed(p.photos[0].path).then((r) => ({ ok: true as const, r }), (e) => ({ ok: false as const, e })) : null;
      for (let i = 0; i < total; i++) {
        if (ctx.isCancelled()) throw new AppError('CANCELLED', 'embedding cancelled');
        const ph = p.photos[i];
        const t1 = performance.now();
        const out = await next!;
        res.inferenceMs += performance.now() - t1;
        // the next photo's detection starts below: the counter now holds this photo's drops exactly
        const dropped = fe.rejectedLowQuality - rejected0 - res.rejectedFaces;
        if (dropped > 0) {
          res.rejectedFaces += dropped;
          const folder = dirname(ph.path);
          res.rejectedByFolder[folder] = (res.rejectedByFolder[folder] ?? 0) + dropped;
        }
        next = i + 1 < total ? fe.detectAndEmbed(p.photos[i + 1].path).then((r) => ({ ok: true as const, r }), (e) => ({ ok: false as const, e })) : null;
        if (!out.ok) { db.transaction(() => fail(ph, out.e)).immediate(); ctx.progress('faces', ++done, total); continue; }
        const now = Date.now();
        const keys: Array<[string, Buffer]> = [];
        const nf = fq.notFaces(ph.hash);
        // each kept detection keeps its index in the photo (its crop's thumbnail key)
        const origK = out.r.map((_, k) => k);
        if (nf.length) {
          const keep = out.r.map((f) => !nf.some((b) => boxIoU(b, { x: f.box.x, y: f.box.y, w: f.box.width, h: f.box.height }) > 0.5));
          out.r = out.r.filter((_, k) => keep[k]);
          origK.splice(0, origK.length, ...origK.filter((k) => keep[k]));
        }
        // IMMEDIATE: several workers write at once, and a deferred transaction that reads first cannot take the
        // write lock once another worker has committed (SQLITE_BUSY without waiting)
        db.transaction(() => {
          // a changed photo (re-encoded, edited) keeps the ids of the faces found again, so that names, curated groups
          // and run assignments stay on them; only faces that appeared or disappeared are added or removed
          const olds = fq.oldFaces(ph.id);
          const match = matchFaces(
            olds.map((o) => { const b = fq.oldVector(p.modelName, o.id); return { box: o, vec: b ? blobVec(b, b.byteLength / 4) : null }; }),
            out.r.map((f) => ({ box: { x: f.box.x, y: f.box.y, w: f.box.width, h: f.box.height }, vec: f.embedding })));
          const kept = new Set(Array.from(match).filter((o) => o >= 0));
          const touched = new Map<number, Set<number>>();
          olds.forEach((o, i) => {
            if (kept.has(i)) return;
            for (const a of fq.faceRunClusters(o.id)) {
              if (!touched.has(a.runId)) touched.set(a.runId, new Set());
              touched.get(a.runId)!.add(a.cluster);
            }
            fq.deleteFace(o.id);
          });
          for (const [runId, clusters] of touched) refreshClusters(db, runId, clusters);
          out.r.forEach((f, k) => {
            const key = faceThumbKey(ph.hash, origK[k]);
            let id: number;
            if (match[k] >= 0) {
              id = olds[match[k]].id;
              fq.updateFace(id, { x: f.box.x, y: f.box.y, w: f.box.width, h: f.box.height }, f.score, vecBlob(f.landmarks), key);
            } else {
              id = fq.insertFace(ph.id, { x: f.box.x, y: f.box.y, w: f.box.width, h: f.box.height }, f.score, vecBlob(f.landmarks), key, now);
            }
            writes.upsertVector(p.modelName, id, p.version, vecBlob(f.embedding), null);
            keys.push([key, f.alignedJpeg]);
          });
          writes.markOk(p.modelName, ph.id, p.version, ph.hash);
        }).immediate();
        for (const [key, jpeg] of keys) await saveThumb(thumbFile(p.thumbDir, key), jpeg);
        res.faces += out.r.length;
        res.processed++;
        ctx.progress('faces', ++done, total);
      }
      if (next) await next;
      res.rejectedFaces = fe.rejectedLowQuality - rejected0;
    } else {
      const manifest = p.model !== 'photo';
      const model = manifest ? await warmModel(manifestKey(p.model), () => loadManifestModel(p.model))
        : await warmModel(builtinKey('photo', p.modelsDir, null), () => PhotoEmbedder.load(p.modelsDir));
      const B = Math.max(1, p.batch ?? 8);
      const prep = (i0: number) => Promise.all(p.photos.slice(i0, i0 + B).map((ph) =>
        model.preprocess(ph.path).then((t) => ({ ph, t, e: null as unknown }), (e) => ({ ph, t: null, e }))));
      let next = total > 0 ? prep(0) : null;
      for (let i0 = 0; i0 < total; i0 += B) {
        if (ctx.isCancelled()) throw new AppError('CANCELLED', 'embedding cancelled');
        const items = await next!;
        next = i0 + B < total ? prep(i0 + B) : null;
        const good = items.filter((x) => x.t !== null);
        let feats: Float32Array = new Float32Array(0);
        let probs: Float32Array | null = null;
        const dim = model.dim;
        if (good.length) {
          const t1 = performance.now();
          if (model instanceof PhotoEmbedder) {
            const r = await model.embedBatch(good.map((x) => x.t!));
            feats = r.features; probs = r.probabilities;
          } else {
            feats = await model.embedBatch(good.map((x) => x.t!));
          }
          res.inferenceMs += performance.now() - t1;
        }
        db.transaction(() => {
          good.forEach((x, j) => {
            const v = feats.subarray(j * dim, (j + 1) * dim);
            const extra = probs ? vecBlob(probs.subarray(j * 5, j * 5 + 5)) : null;
            writes.upsertVector(p.modelName, x.ph.id, p.version, vecBlob(v), extra);
            writes.markOk(p.modelName, x.ph.id, p.version, x.ph.hash);
            res.processed++;
          });
          for (const x of items) if (x.t === null) fail(x.ph, x.e);
        }).immediate();
        done += items.length;
        ctx.progress('photos', done, total);
      }
      if (next) await next;
      // the sessions stay loaded in this (warm) worker: see warmModel
    }
  } finally {
    db.close();
  }
  res.totalMs = performance.now() - t0;
  return { result: res };
}

/** Intersection over union of two boxes (x, y, w, h). */
function boxIoU(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const u = a.w * a.h + b.w * b.h - inter;
  return u > 0 ? inter / u : 0;
}
