/**
 * The embed job: registers the model, finds the photos it has not processed (new or changed), and splits them over a
 * pool of worker threads (one per core, each with a single-threaded ONNX session) that write their results directly
 * into the library.
 */
import { existsSync } from 'node:fs';
import { readFileSafeSync } from '../safe-read.ts';
import { createHash } from 'node:crypto';
import { resolve, sep } from 'node:path';
import { AppError, badArg } from '../../common/errors.ts';
import { jsonReason } from '../../common/redact.ts';
import type { ItemKind } from '../../common/types.ts';
import type { JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import { FACE_DIM, FACE_MODEL_VERSION, PHOTO_DIM, PHOTO_MODEL_VERSION, validateManifest, verifyModel } from '../models/index.ts';
import { MODELS_DIR } from '../paths.ts';
import { defaultPool, runTask, workerCount } from '../workers/pool.ts';
import type { EmbedTaskPayload, EmbedTaskResult } from './embed-worker.ts';
import { ensureModel, pendingPhotos } from '../store/embeddings.ts';
import { embeddingCount } from '../store/embed-repo.ts';

export type { EmbedSpec, EmbedReport } from '../../common/jobs.ts';
import type { EmbedSpec, EmbedReport } from '../../common/jobs.ts';
import { manifestIdentity } from '../models/identity.ts';
import { faceFolderNotice } from './face-folders.ts';

interface ResolvedModel { task: string; name: string; kind: ItemKind; dim: number; version: string; source: 'builtin' | 'manifest'; identityThreshold?: unknown }

export function resolveModel(spec: EmbedSpec): ResolvedModel {
  const modelsDir = spec.modelsDir ?? MODELS_DIR;
  if (spec.model === 'photo') {
    verifyModel('photo', modelsDir);
    return { task: 'photo', name: 'photo', kind: 'photo', dim: PHOTO_DIM, version: PHOTO_MODEL_VERSION, source: 'builtin' };
  }
  if (spec.model === 'face') {
    verifyModel('face', modelsDir);
    return { task: 'face', name: 'face', kind: 'face', dim: FACE_DIM, version: FACE_MODEL_VERSION, source: 'builtin' };
  }
  const path = resolve(spec.model);
  if (!spec.model.endsWith('.json') && !existsSync(path)) {
    throw badArg('model', `expected photo, face or a model manifest (.json), got ${JSON.stringify(spec.model)}`);
  }
  let raw: unknown;
  try { raw = JSON.parse(readFileSafeSync(path, 'manifest', undefined, 'utf8')); } catch (e) {
    if (e instanceof AppError) throw e.code === 'BAD_FILE' ? new AppError('BAD_MODEL', e.message) : e;
    throw new AppError('BAD_MODEL', `${path}: cannot read the manifest (${e instanceof SyntaxError ? jsonReason(e) : ((e as NodeJS.ErrnoException).code ?? 'read error')})`);
  }
  const m = validateManifest(raw, path);
  if (m.name === 'photo' || m.name === 'face') throw new AppError('BAD_MODEL', `${path}: field 'name' must not be a built-in model's name (${m.name})`);
  const version = m.version ?? createHash('sha256').update(JSON.stringify(m)).digest('hex').slice(0, 16);
  return { task: path, name: m.name, kind: 'photo', dim: m.dim, version, source: 'manifest', identityThreshold: (raw as { identityThreshold?: unknown }).identityThreshold };
}

export async function embedJob(lib: Library, spec: EmbedSpec, ctx: JobContext): Promise<EmbedReport> {
  const t0 = performance.now();
  const m = resolveModel(spec);
  if (spec.batch !== undefined && (!Number.isInteger(spec.batch) || spec.batch < 1 || spec.batch > 256)) throw badArg('batch', 'expected an integer 1..256');
  ensureModel(lib.db, { name: m.name, kind: m.kind, dim: m.dim, version: m.version, source: m.source, info: m.source === 'manifest' ? { manifest: m.task, ...(manifestIdentity(m.identityThreshold) ? { identityThreshold: manifestIdentity(m.identityThreshold) } : {}) } : {} });
  const excluded = m.kind === 'face' ? (spec.face?.excludeFolders ?? []).map((f) => (f.endsWith(sep) ? f : f + sep)) : [];
  // photos under a folder excluded from face detection (a library setting) are not searched for faces
  const pending = pendingPhotos(lib.db, m.name, m.version).filter((p) => !excluded.some((f) => p.path.startsWith(f)));
  const report: EmbedReport = {
    model: m.name, kind: m.kind, dim: m.dim, version: m.version, pending: pending.length, processed: 0, failed: 0, faces: 0, rejectedFaces: 0,
    embeddings: 0, failures: [], seconds: 0, photosPerSecond: 0,
  };
  const rejectedByFolder: Record<string, number> = {};
  // a stage of its own until the workers report items: no "0 / 1318" (and no ETA) while the model loads
  ctx.progress('loading model', 0, 0);
  // even with nothing pending, one worker loads the model: a damaged model file is reported, not hidden
  {
    // at most the pool's threads less two, so read jobs (a sweep, a map, similar) still find threads beside it
    const W = Math.max(1, Math.min(spec.workers ?? workerCount(), Math.ceil(pending.length / 4), defaultPool().maxThreads - 2));
    // interleave so that every worker gets a similar mix of image sizes
    const chunks = Array.from({ length: W }, () => [] as typeof pending);
    pending.forEach((p, i) => chunks[i % W].push(p));
    const done = new Array<number>(W).fill(0);
    const results = await Promise.allSettled(chunks.map((photos, w) => {
      const payload: EmbedTaskPayload = {
        library: lib.path, thumbDir: lib.thumbDir, model: m.task, modelName: m.name, version: m.version,
        modelsDir: spec.modelsDir ?? MODELS_DIR, photos, batch: spec.batch, face: spec.face,
      };
      return runTask('embed', payload, {
        signal: ctx.signal,
        onProgress: (stage, d) => {
          done[w] = d;
          ctx.progress(stage, done.reduce((a, b) => a + b, 0), pending.length);
        },
      });
    }));
    for (const r of results) {
      if (r.status === 'fulfilled') {
        for (const [f, c] of Object.entries(r.value.rejectedByFolder)) rejectedByFolder[f] = (rejectedByFolder[f] ?? 0) + c;
        report.processed += r.value.processed;
        report.failed += r.value.failed;
        report.faces += r.value.faces;
        report.rejectedFaces += r.value.rejectedFaces;
        report.failures.push(...r.value.failures);
      }
    }
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
  }
  report.embeddings = embeddingCount(lib.db, m.name);
  if (m.kind === 'face') {
    ctx.progress('face folders', 0, 0);
    report.faceFolders = await faceFolderNotice(lib, m.name, m.dim, rejectedByFolder, ctx.signal);
  }
  report.seconds = (performance.now() - t0) / 1000;
  report.photosPerSecond = report.seconds > 0 ? (report.processed + report.failed) / report.seconds : 0;
  report.failures = report.failures.slice(0, 50);
  return report;
}
