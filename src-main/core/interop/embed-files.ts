/**
 * embed-files: the headless embedder a distributed engine's worker runs on one partition of a job bundle's
 * items.parquet (rows [A, B)), with the bundle's model files and exactly the app's decoding and preprocessing (the
 * same PhotoEmbedder / FaceEmbedder code; faces are aligned from the landmarks the app found, so crops are the
 * app's). No library, no lock. Writes PART.parquet (id, embedding) atomically: a part that exists is complete.
 */
import { dirname, join, resolve } from 'node:path';
import { AppError, badArg } from '../../common/errors.ts';
import { FaceEmbedder, PhotoEmbedder } from '../models/index.ts';
import { decodeRgb } from '../models/image.ts';
import { checkWriteTarget } from '../safe-write.ts';
import { badFile, column, openColumnar, readBatches } from './columnar.ts';
import { ColumnarWriter } from './columnar-write.ts';

export interface EmbedFilesOptions { manifest: string; rows: string; out: string; threads?: number; batch?: number }
export interface EmbedFilesReport { rows: [number, number]; out: string; embedded: number; failed: number; failures: Array<{ id: string; path: string; reason: string }>; model: string; dim: number; seconds: number }

export function parseRows(s: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(String(s).trim());
  if (!m) throw badArg('rows', `expected A:B (the half-open row range [A, B)), got ${JSON.stringify(s)}`);
  const a = Number(m[1]), b = Number(m[2]);
  if (!(b > a)) throw badArg('rows', `expected A < B, got ${a}:${b}`);
  return [a, b];
}

export async function embedFiles(o: EmbedFilesOptions, onProgress?: (stage: string, done: number, total: number) => void, signal?: AbortSignal): Promise<EmbedFilesReport> {
  const t0 = performance.now();
  const [a, b] = parseRows(o.rows);
  // before any work: --out is never a library, the manifest itself, a folder or under /proc (the one writer's checks)
  const guard = { what: 'out', protect: [resolve(o.manifest)] };
  checkWriteTarget(resolve(o.out), guard);
  const src = openColumnar(resolve(o.manifest));
  if (src.format !== 'parquet' || src.files.length !== 1) throw badFile(src.path, 'expected a job bundle items.parquet');
  if (b > src.rows) throw badArg('rows', `${a}:${b} is past the end of ${src.path} (${src.rows} rows)`);
  const model = src.meta['constellate.model'];
  if (model !== 'photo' && model !== 'face') throw badFile(src.path, `no constellate.model (photo or face) in its metadata: not a job bundle items.parquet`);
  const modelsDir = resolve(dirname(src.path), src.meta['constellate.models'] || 'model');
  for (const c of ['id', 'path']) column(src, c, 'job bundle items');
  if (model === 'face') column(src, 'landmarks', 'face landmarks');
  const parts = src.parts.map((p, i) => ({ p, i })).filter(({ p }) => p.start < b && p.start + p.rows > a).map(({ i }) => i);
  const ids: string[] = [], paths: string[] = [], lms: Array<number[] | null> = [];
  for await (const bt of readBatches(src, { scalars: ['id', 'path'], lists: model === 'face' ? ['landmarks'] : [] }, { parts, signal })) {
    for (let i = 0; i < bt.n; i++) {
      const r = bt.start + i;
      if (r < a || r >= b) continue;
      ids.push(String(bt.cols.id[i])); paths.push(String(bt.cols.path[i]));
      lms.push(model === 'face' ? bt.lists.landmarks[i] : null);
    }
  }
  const opts = { intraOpNumThreads: o.threads ?? 1 };
  const dim = model === 'photo' ? 1792 : 512;
  const vecs = new Float32Array(ids.length * dim);
  const ok = new Uint8Array(ids.length);
  const failures: EmbedFilesReport['failures'] = [];
  let failed = 0;
  const fail = (i: number, e: unknown) => { failed++; if (failures.length < 20) failures.push({ id: ids[i], path: paths[i], reason: (e as Error).message?.split('\n')[0] ?? String(e) }); };
  const total = ids.length;
  onProgress?.('embed', 0, total);
  if (model === 'photo') {
    await using pe = await PhotoEmbedder.load(modelsDir, opts);
    const B = Math.max(1, o.batch ?? 8);
    for (let i0 = 0; i0 < total; i0 += B) {
      if (signal?.aborted) throw new AppError('CANCELLED', 'embed-files cancelled');
      const idx = Array.from({ length: Math.min(B, total - i0) }, (_, t) => i0 + t);
      const pre = await Promise.all(idx.map((i) => pe.preprocess(paths[i]).then((t) => ({ i, t }), (e) => { fail(i, e); return null; })));
      const good = pre.filter((x): x is { i: number; t: Float32Array } => x !== null);
      if (good.length) {
        const r = await pe.embedBatch(good.map((x) => x.t));
        good.forEach((x, j) => { vecs.set(r.features.subarray(j * dim, (j + 1) * dim), x.i * dim); ok[x.i] = 1; });
      }
      onProgress?.('embed', Math.min(total, i0 + B), total);
    }
  } else {
    await using fe = await FaceEmbedder.load(modelsDir, opts);
    let lastPath = '', img: Awaited<ReturnType<typeof decodeRgb>> | null = null;
    for (let i = 0; i < total; i++) {
      if (signal?.aborted) throw new AppError('CANCELLED', 'embed-files cancelled');
      try {
        const lm = lms[i];
        if (!lm || lm.length !== 136) throw badFile(src.path, `row ${a + i + 1}: no 68 landmarks for ${ids[i]}`);
        if (paths[i] !== lastPath) { img = await decodeRgb(paths[i]); lastPath = paths[i]; }
        const r = await fe.embedAligned(img!, Float32Array.from(lm));
        vecs.set(r.embedding, i * dim); ok[i] = 1;
      } catch (e) { fail(i, e); }
      onProgress?.('embed', i + 1, total);
    }
  }
  const keep = Array.from(ok).reduce((s, v) => s + v, 0);
  const outIds: string[] = [];
  const X = new Float32Array(keep * dim);
  let t = 0;
  for (let i = 0; i < total; i++) if (ok[i]) { outIds.push(ids[i]); X.set(vecs.subarray(i * dim, (i + 1) * dim), t * dim); t++; }
  const out = resolve(o.out);
  const w = await ColumnarWriter.create(out, 'parquet', [{ name: 'id', type: 'string' }, { name: 'embedding', type: 'vector' }],
    { d: dim, meta: { 'constellate.model': model, 'constellate.version': src.meta['constellate.version'] ?? '', 'constellate.rows': `${a}:${b}` }, ...guard });
  try { w.write({ id: outIds, embedding: X }, keep); w.finish(); } catch (e) { w.abort(); throw e; }
  void join;
  return { rows: [a, b], out, embedded: keep, failed, failures, model, dim, seconds: (performance.now() - t0) / 1000 };
}
