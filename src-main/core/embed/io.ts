/**
 * Imported and exported embeddings: a `.npy` matrix (float16/32/64, C order) plus an ids file mapping each row to a
 * photo path and, for faces, a box. ids files are CSV with a header (`path[,x,y,w,h]`) or JSON lines
 * (`{"path": ..., "box": [x, y, w, h]}`). Paths may be absolute or relative to the ids file's folder.
 */
import { lstatSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { writeFileAtomicSync } from '../atomic-write.ts';
import { readFileSafeSync } from '../safe-read.ts';
import { csvRow, readCsv } from '../csv.ts';
import { AppError, badArg } from '../../common/errors.ts';
import { headerSummary } from '../../common/redact.ts';
import type { ItemKind } from '../../common/types.ts';
import type { ImportEmbeddingsReport } from '../../common/api.ts';
import type { Library } from '../library.ts';
import { readNpyMatrix, writeNpy } from '../npy-file.ts';
import { ensureModel, getModel, loadMatrix, vecBlob } from '../store/embeddings.ts';
import { exportStatements, importStatements } from '../store/embed-repo.ts';

export interface IdRow { path: string; box: [number, number, number, number] | null }

/** One CSV line's fields (the one reader, core/csv.ts). */
function parseCsvLine(line: string): string[] {
  try { return readCsv(line)[0] ?? ['']; } catch (e) { throw new AppError('BAD_FILE', `not a CSV line: ${(e as Error).message.split('\n')[0].slice(0, 200)}`); }
}

/** One CSV field, quoted where needed (the one writer, core/csv.ts). */
export function csvField(v: string | number | null | undefined): string {
  return csvRow([v]);
}

export function readIdsFile(file: string): IdRow[] {
  // the one reader: a FIFO or a device named as the ids file is refused by name, the size is bounded
  const text = readFileSafeSync(file, 'ids', undefined, 'utf8');
  const base = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new AppError('BAD_FILE', `${file}: empty ids file`);
  const rows: IdRow[] = [];
  if (lines[0].trimStart().startsWith('{')) {
    lines.forEach((l, i) => {
      let o: { path?: unknown; box?: unknown; x?: unknown; y?: unknown; w?: unknown; h?: unknown };
      try { o = JSON.parse(l); } catch { throw new AppError('BAD_FILE', `${file}:${i + 1}: not a JSON object`); }
      if (typeof o.path !== 'string' || !o.path) throw new AppError('BAD_FILE', `${file}:${i + 1}: missing "path"`);
      let box: IdRow['box'] = null;
      const b = Array.isArray(o.box) ? o.box : (o.x !== undefined ? [o.x, o.y, o.w, o.h] : null);
      if (b) {
        if (b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new AppError('BAD_FILE', `${file}:${i + 1}: "box" must be [x, y, w, h] numbers`);
        box = b as [number, number, number, number];
      }
      rows.push({ path: abs(o.path), box });
    });
    return rows;
  }
  // the whole text through the CSV tokenizer (not split on line breaks first: a quoted path may hold a newline)
  let recs: string[][];
  try { recs = readCsv(text).filter((r) => r.some((f) => f.trim() !== '')); } catch (e) {
    throw new AppError('BAD_FILE', `${file}: not a CSV file (${(e as Error).message.split('\n')[0].slice(0, 200)})`);
  }
  const header = (recs[0] ?? ['']).map((h) => h.trim().toLowerCase());
  const pi = header.indexOf('path');
  if (pi < 0) throw new AppError('BAD_FILE', `${file}: the CSV header must have a 'path' column (${headerSummary(header, ['path'])})`);
  const bi = ['x', 'y', 'w', 'h'].map((k) => header.indexOf(k));
  const hasBox = bi.every((i) => i >= 0);
  for (let li = 1; li < recs.length; li++) {
    const f = recs[li];
    const p = (f[pi] ?? '').trim();
    if (!p) throw new AppError('BAD_FILE', `${file}:${li + 1}: empty path`);
    let box: IdRow['box'] = null;
    if (hasBox && bi.some((i) => (f[i] ?? '').trim() !== '')) {
      const v = bi.map((i) => Number(f[i]));
      if (!v.every(Number.isFinite)) throw new AppError('BAD_FILE', `${file}:${li + 1}: face box x,y,w,h must be numbers`);
      box = v as [number, number, number, number];
    }
    rows.push({ path: abs(p), box });
  }
  return rows;
}

/** What importEmbeddings stored: the contract's report. */
export type ImportReport = ImportEmbeddingsReport;

export function importEmbeddings(lib: Library, npyPath: string, idsPath: string, modelName: string): ImportReport {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(modelName)) throw badArg('model', `model names use letters, digits and _.:- (got ${JSON.stringify(modelName)})`);
  if (modelName === 'photo' || modelName === 'face') throw badArg('model', `${modelName} is a built-in model; import under another name`);
  const M = readNpyMatrix(npyPath);
  const ids = readIdsFile(idsPath);
  if (ids.length !== M.rows) throw new AppError('BAD_FILE', `${idsPath}: ${ids.length} ids for ${M.rows} rows in ${npyPath}`);
  if (M.cols < 1) throw new AppError('BAD_FILE', `${npyPath}: matrix has no columns`);
  const anyBox = ids.some((r) => r.box !== null);
  if (anyBox && ids.some((r) => r.box === null)) throw new AppError('BAD_FILE', `${idsPath}: either every row has a face box or none does`);
  const kind: ItemKind = anyBox ? 'face' : 'photo';
  const db = lib.db;
  const st = importStatements(db);
  const report: ImportReport = { model: modelName, kind, rows: M.rows, dim: M.cols, imported: 0, unmatched: 0, unmatchedPaths: [], facesCreated: 0 };
  const version = `imported:${resolve(npyPath)}@${Date.now()}`;
  const seen = new Map<number, number>();
  db.transaction(() => {
    ensureModel(db, { name: modelName, kind, dim: M.cols, version, source: 'imported', info: { npy: resolve(npyPath), ids: resolve(idsPath) } });
    const d = M.cols;
    for (let i = 0; i < ids.length; i++) {
      const pid = st.photoByPath(ids[i].path);
      if (pid === undefined) {
        report.unmatched++;
        if (report.unmatchedPaths.length < 20) report.unmatchedPaths.push(ids[i].path);
        continue;
      }
      let item = pid;
      if (kind === 'face') {
        const [x, y, w, h] = ids[i].box!;
        const f = st.findFace(pid, x, y, w, h);
        if (f !== undefined) item = f;
        else { item = st.insertImportedFace(pid, x, y, w, h, Date.now()); report.facesCreated++; }
      }
      // one vector per item: a repeated id would be counted twice and stored once
      const first = seen.get(item);
      if (first !== undefined) throw new AppError('BAD_FILE', `${idsPath}: row ${i + 1} repeats the item of row ${first} (${ids[i].path}); each item may have one vector`);
      seen.set(item, i + 1);
      st.upsertVector(modelName, item, version, vecBlob(M.data.subarray(i * d, (i + 1) * d)));
      report.imported++;
    }
    if (report.imported === 0) {
      throw new AppError('BAD_FILE', `${idsPath}: none of the ${ids.length} paths is a photo in this library (first: ${ids[0].path}); scan their folder first`);
    }
  })();
  return report;
}

// the report is the contract's (common/api.ts)
import type { ExportEmbeddingsReport } from '../../common/api.ts';
export type { ExportEmbeddingsReport };

/**
 * Where an export may write `file`: its real path (the folder's symlinks resolved), refused when it is one of the
 * library's own files (the library, -wal, -shm, -journal, .lock, backups, its .cache folder; by name or by inode, so a
 * symlink or hard link to them is refused too), or when it exists and `force` is not given.
 */
export function checkExportFile(lib: Library, param: string, file: string, force: boolean): string {
  let real: string;
  try { real = join(realpathSync(dirname(resolve(file))), basename(file)); } catch {
    throw badArg(param, `${file}: its folder does not exist`);
  }
  const libReal = (() => { try { return realpathSync(lib.path); } catch { return resolve(lib.path); } })();
  const own = (p: string) => (dirname(p) === dirname(libReal) && basename(p).startsWith(basename(libReal))) ||
    p.startsWith(`${libReal}.cache${sep}`) || p.startsWith(`${resolve(lib.cacheDir)}${sep}`);
  const refuse = () => badArg(param, `${file}: is the library's own file or folder (${libReal}); export somewhere else`);
  if (own(real)) throw refuse();
  let exists = false;
  try {
    const l = lstatSync(real);
    exists = true;
    let target: string | null = null;
    try { target = realpathSync(real); } catch { /* a dangling link */ }
    if (target && own(target)) throw refuse();
    const st = (() => { try { return statSync(real); } catch { return l; } })();
    const libSt = statSync(libReal);
    if (st.ino === libSt.ino && st.dev === libSt.dev) throw refuse();
    if (st.isDirectory()) throw badArg(param, `${file}: is a folder`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (exists && !force) throw new AppError('CONFLICT', `${file}: exists; pass force (--force) to replace it`);
  return real;
}

export function exportEmbeddings(lib: Library, modelName: string, out: string, idsOut?: string, options: { force?: boolean } = {}): ExportEmbeddingsReport {
  const model = getModel(lib.db, modelName);
  const m = loadMatrix(lib.db, modelName);
  if (!resolve(out).endsWith('.npy')) throw badArg('out', `must name a .npy file (got ${out})`);
  const force = options.force === true;
  const outPath = checkExportFile(lib, 'out', out, force);
  const idsPath = checkExportFile(lib, 'ids', idsOut ?? resolve(out).replace(/\.npy$/, '.ids.csv'), force);
  if (idsPath === outPath) throw badArg('ids', `${idsPath}: is also the .npy output; name another file`);
  const lines: string[] = [model.kind === 'face' ? 'path,x,y,w,h' : 'path'];
  const q = exportStatements(lib.db);
  for (let i = 0; i < m.n; i++) {
    if (model.kind === 'photo') lines.push(csvField(q.photoPath(m.ids[i])));
    else {
      const f = q.facePathAndBox(m.ids[i]);
      lines.push([csvField(f.path), f.x, f.y, f.w, f.h].join(','));
    }
  }
  writeNpy(outPath, m.X.slice(), [m.n, m.d]);
  writeFileAtomicSync(idsPath, lines.join('\n') + '\n', { tmp: `${idsPath}.${process.pid}.partial` });
  return { model: modelName, kind: model.kind, rows: m.n, dim: m.d, out: outPath, ids: idsPath };
}
