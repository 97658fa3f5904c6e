/**
 * Exports for other engines: a model's embeddings as Parquet or Arrow, and a job bundle for an existing distributed
 * engine (Dask distributed here; Ray, Spark or anything that can run a command per partition, by the same contract):
 *
 *   DIR/items.parquet   id (photo:N | face:N), path, sha256 (the library's content hash: the first 32 hex digits of the
 *                       file's sha256), box (faces: x, y, w, h in pixels of the EXIF-rotated photo), landmarks (faces:
 *                       68 points x0, y0, x1, y1, ... as the app found them, so crops align exactly)
 *   DIR/model/          the model files, checksums.json and manifest.json (name, version, dim, files with sha256/size)
 *   DIR/job.json        rows, partitions [[A, B), ...], the embed-files command line
 *   DIR/run_dask.py     the Dask driver: one task per partition runs
 *                       `constellate embed-files --manifest DIR/items.parquet --rows A:B --out DIR/out/part-XXXXX.parquet`
 *   DIR/out/            the parts, read back by `constellate import-embeddings DIR/out --model NAME`
 */
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, badArg } from '../../common/errors.ts';
import type { ItemKind } from '../../common/types.ts';
import type { ApiArgs } from '../../common/api.ts';
import type { JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import { getModel, loadMatrix } from '../store/embeddings.ts';
import { bundleItemRows, itemFileReaders } from '../store/interop-repo.ts';
import { checkExportFile } from '../embed/io.ts';
import { MODEL_FILES, defaultModelsDir } from '../models/index.ts';
import { readChecksums, sha256File } from '../models/files.ts';
import { FACE_DIM, FACE_MODEL_VERSION } from '../models/face.ts';
import { PHOTO_DIM, PHOTO_MODEL_VERSION } from '../models/photo.ts';
import { writeFileAtomicSync } from '../atomic-write.ts';
import { checkNotPseudoFs, makeDirSafe, writeFileSafeSync } from '../safe-write.ts';
import { type ColumnarFormat } from './columnar.ts';
import { ColumnarWriter, type ColSpec } from './columnar-write.ts';
import { DASK_DRIVER } from './dask-driver.ts';

// the reports are the contract's (common/types.ts)
import type { ExportEmbeddingsFileReport, ExportJobReport } from '../../common/types.ts';
export type { ExportEmbeddingsFileReport, ExportJobReport };

const ROW_GROUP = 65_536;

/** A model's embeddings as Parquet or Arrow: id, path, sha256, box (faces), embedding (list of float32). */
export async function exportEmbeddingsFile(lib: Library, modelName: string, out: string, format: ColumnarFormat, force: boolean): Promise<ExportEmbeddingsFileReport> {
  const model = getModel(lib.db, modelName);
  const outPath = checkExportFile(lib, 'out', out, force);
  const m = loadMatrix(lib.db, modelName);
  const q = itemFileReaders(lib.db);
  const cols: ColSpec[] = [
    { name: 'id', type: 'string' }, { name: 'path', type: 'string', nullable: true }, { name: 'sha256', type: 'string', nullable: true },
    { name: 'box', type: 'f64list', nullable: true }, { name: 'embedding', type: 'vector' },
  ];
  const w = await ColumnarWriter.create(outPath, format, cols, { d: m.d, meta: { 'constellate.model': modelName, 'constellate.kind': model.kind, 'constellate.dim': String(m.d), 'constellate.version': model.version } });
  try {
    for (let r0 = 0; r0 < m.n; r0 += ROW_GROUP) {
      const n = Math.min(ROW_GROUP, m.n - r0);
      const id: string[] = [], path: Array<string | null> = [], sha: Array<string | null> = [], box: Array<number[] | null> = [];
      for (let i = r0; i < r0 + n; i++) {
        const it = m.ids[i];
        id.push(`${model.kind}:${it}`);
        if (model.kind === 'photo') {
          const r = q.photo(it);
          path.push(r?.path ?? null); sha.push(r?.hash ?? null); box.push(null);
        } else {
          const r = q.face(it);
          path.push(r?.path ?? null); sha.push(r?.hash ?? null); box.push(r ? [r.x, r.y, r.w, r.h] : null);
        }
      }
      w.write({ id, path, sha256: sha, box, embedding: m.X.slice(r0 * m.d, (r0 + n) * m.d) }, n);
    }
    w.finish();
  } catch (e) {
    w.abort();
    throw e;
  }
  return { model: modelName, kind: model.kind, rows: m.n, dim: m.d, out: outPath, ids: outPath, format };
}

/** exportJob's options (the contract's). */
export type ExportJobOptions = ApiArgs<'exportJob'>;

/** The command line that runs this checkout's CLI (node + bin.mjs), as the driver will call it. */
export function cliCommand(): string[] {
  const bin = resolve(fileURLToPath(import.meta.url), '../../../cli/bin.mjs');
  return [process.execPath, bin];
}

function landmarksOf(b: Buffer | null): number[] | null {
  if (!b || b.byteLength % 4 !== 0) return null;
  const f = new Float32Array(new Uint8Array(b).buffer);
  return Array.from(f);
}

/** Writes the job bundle (see the file comment); refuses a folder that already holds a bundle or parts. */
export async function exportJob(lib: Library, o: ExportJobOptions, ctx?: JobContext): Promise<ExportJobReport> {
  const name = o.model;
  if (name !== 'photo' && name !== 'face') throw badArg('model', `export-job runs the built-in models photo or face (got ${JSON.stringify(name)})`);
  const kind: ItemKind = name;
  const partRows = o.partitionRows ?? (kind === 'face' ? 400 : 500);
  if (!Number.isInteger(partRows) || partRows < 1) throw badArg('partition-rows', `expected an integer >= 1, got ${partRows}`);
  const dir = resolve(o.to);
  checkNotPseudoFs(dir, 'to');
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw badArg('to', `${dir} is a file`);
    const taken = readdirSync(dir).filter((f) => f === 'items.parquet' || f === 'out' || f === 'job.json');
    if (taken.length) throw new AppError('CONFLICT', `${dir}: already holds a job bundle (${taken.join(', ')}); choose an empty folder`);
  }
  // the one writer's folders: never under /proc or /sys (a recursive mkdir there loops on ENOENT)
  makeDirSafe(join(dir, 'model'), 'to');
  makeDirSafe(join(dir, 'out'), 'to');
  const db = lib.db;
  ctx?.progress('items', 0, 1);
  const rows = bundleItemRows(db, kind);
  if (rows.length === 0) {
    throw new AppError('NOT_FOUND', kind === 'photo' ? 'no photos in this library: scan a folder first' : 'no detected faces with landmarks in this library: run constellate embed --model face first');
  }
  const version = kind === 'photo' ? PHOTO_MODEL_VERSION : FACE_MODEL_VERSION;
  const dim = kind === 'photo' ? PHOTO_DIM : FACE_DIM;
  const cols: ColSpec[] = [
    { name: 'id', type: 'string' }, { name: 'path', type: 'string' }, { name: 'sha256', type: 'string' },
    { name: 'box', type: 'f64list', nullable: true }, { name: 'landmarks', type: 'f64list', nullable: true },
  ];
  const items = join(dir, 'items.parquet');
  const w = await ColumnarWriter.create(items, 'parquet', cols, { meta: { 'constellate.model': name, 'constellate.version': version, 'constellate.dim': String(dim), 'constellate.models': 'model' } });
  try {
    for (let r0 = 0; r0 < rows.length; r0 += ROW_GROUP) {
      const part = rows.slice(r0, r0 + ROW_GROUP);
      w.write({
        id: part.map((r) => `${kind}:${r.id}`), path: part.map((r) => r.path), sha256: part.map((r) => r.hash),
        box: part.map((r) => (r.x !== undefined ? [r.x, r.y!, r.w!, r.h!] : null)),
        landmarks: part.map((r) => (r.landmarks !== undefined ? landmarksOf(r.landmarks) : null)),
      }, part.length);
    }
    w.finish();
  } catch (e) {
    w.abort();
    throw e;
  }
  ctx?.progress('model', 0, 1);
  const src = defaultModelsDir();
  const sums = readChecksums(src);
  const files: Record<string, { sha256: string; size: number }> = {};
  for (const f of MODEL_FILES[name]) {
    const from = join(src, f);
    if (!existsSync(from)) throw new AppError('MODEL_MISSING', `${from}: model file missing; run constellate prepare-models`);
    copyFileSync(from, join(dir, 'model', f));
    const sha = sha256File(join(dir, 'model', f));
    const want = sums?.files[f];
    if (want && want.sha256 !== sha) throw new AppError('BAD_MODEL', `${from}: model file damaged (checksum mismatch); run constellate prepare-models`);
    files[f] = { sha256: sha, size: statSync(join(dir, 'model', f)).size };
  }
  writeFileAtomicSync(join(dir, 'model', 'checksums.json'), JSON.stringify({ version: sums?.version ?? 1, sources: sums?.sources ?? {}, files }, null, 2) + '\n');
  writeFileAtomicSync(join(dir, 'model', 'manifest.json'), JSON.stringify({ name, kind, version, dim, files }, null, 2) + '\n');
  const partitions: Array<[number, number]> = [];
  for (let a = 0; a < rows.length; a += partRows) partitions.push([a, Math.min(rows.length, a + partRows)]);
  const command = cliCommand();
  const job = {
    format: 'constellate-job/1', model: name, kind, version, dim, items: 'items.parquet', rows: rows.length, partitions, out: 'out',
    command: [...command, 'embed-files', '--manifest', '{items}', '--rows', '{a}:{b}', '--out', '{out}', '--json'],
    contract: 'each partition [a, b) of items.parquet is embedded by one command; it writes out/part-<a>-<b>.parquet (id, embedding) atomically and prints {"rows", "out"}; a part that exists is done',
  };
  writeFileAtomicSync(join(dir, 'job.json'), JSON.stringify(job, null, 2) + '\n');
  writeFileSafeSync(join(dir, 'run_dask.py'), DASK_DRIVER, { mode: 0o755 });
  ctx?.progress('model', 1, 1);
  return { dir, items: rows.length, partitions: partitions.length, model: name, kind, files: ['items.parquet', 'job.json', 'run_dask.py', ...Object.keys(files).map((f) => `model/${f}`), 'model/checksums.json', 'model/manifest.json'], driver: join(dir, 'run_dask.py'), command };
}
