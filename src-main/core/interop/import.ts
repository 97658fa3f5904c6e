/**
 * Imports from columnar files (Parquet, a folder of Parquet parts, Arrow IPC): a model's embeddings, and a run
 * clustered by another engine. Rows name their item by an `id` column (`photo:12`, `face:3`, or a bare item id of the
 * model's kind), else by `path` (with a `box` list or x, y, w, h columns for a face), else by `sha256` (the photo's
 * content). Each import reads the file once, part by part, before it stores anything, and then stores everything in
 * one transaction: a bad file (a wrong or missing column, a truncated part) stores nothing.
 */
import { closeSync, mkdirSync, openSync, readSync, unlinkSync } from 'node:fs';
import { removeDeadProcessFiles, writeAllSync } from '../atomic-write.ts';
import { join, resolve } from 'node:path';
import { AppError, badArg } from '../../common/errors.ts';
import type { ClusterParams, ItemKind } from '../../common/types.ts';
import type { JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import { ensureModel, getModel, loadMatrix, vecBlob } from '../store/embeddings.ts';
import { getRun } from '../store/runs.ts';
import { importWriters, itemMatchers, nameUnnamedClusters } from '../store/interop-repo.ts';
import { storeRun } from '../cluster/runs.ts';
import { carryOver } from '../curation/edits.ts';
import { runTask } from '../workers/pool.ts';
import type { ClusterOutput } from '../../algo/cluster/run.ts';
import { badFile, column, openColumnar, readBatches, vectorColumn, type ColumnarSource } from './columnar.ts';

// the options and reports are the contract's (common/types.ts)
import type { ImportEmbeddingsFileOptions, ImportEmbeddingsFileReport, ImportRunOptions, ImportRunReport } from '../../common/types.ts';
export type { ImportEmbeddingsFileOptions, ImportEmbeddingsFileReport, ImportRunOptions, ImportRunReport };


type Key =
  | { by: 'id'; col: string }
  | { by: 'path'; col: string; box: { list: string } | { cols: [string, string, string, string] } | null; sha?: string }
  | { by: 'sha256'; col: string };

/** Which column names the items: the asked one, else id, path or sha256 (BAD_FILE naming what is missing). */
export function keyOf(src: ColumnarSource, idColumn: string | undefined): Key {
  const has = (n: string) => src.columns.some((c) => c.name === n);
  const boxOf = (): Extract<Key, { by: 'path' }>['box'] => {
    if (has('box')) {
      const c = column(src, 'box', 'face box');
      if (c.type !== 'list') throw badFile(src.path, `column 'box' is ${c.raw}, expected a list of 4 numbers x, y, w, h`);
      return { list: 'box' };
    }
    if (['x', 'y', 'w', 'h'].every(has)) return { cols: ['x', 'y', 'w', 'h'] };
    return null;
  };
  if (idColumn !== undefined && idColumn !== 'id') {
    const c = column(src, idColumn, 'the item of each row (--id-column)');
    if (idColumn === 'path') return { by: 'path', col: 'path', box: boxOf(), sha: has('sha256') ? 'sha256' : undefined };
    if (idColumn === 'sha256') return { by: 'sha256', col: 'sha256' };
    if (c.type !== 'string' && c.type !== 'int') throw badFile(src.path, `column '${idColumn}' is ${c.raw}, expected item ids (kind:id strings or integers)`);
    return { by: 'id', col: idColumn };
  }
  if (has('id')) {
    const c = column(src, 'id', 'item ids');
    if (c.type !== 'string' && c.type !== 'int') throw badFile(src.path, `column 'id' is ${c.raw}, expected item ids (kind:id strings or integers)`);
    return { by: 'id', col: 'id' };
  }
  if (has('item')) {
    const c = column(src, 'item', 'item ids');
    if (c.type === 'string' || c.type === 'int') return { by: 'id', col: 'item' };
  }
  if (has('path')) {
    const c = column(src, 'path', 'photo paths');
    if (c.type !== 'string') throw badFile(src.path, `column 'path' is ${c.raw}, expected strings`);
    return { by: 'path', col: 'path', box: boxOf(), sha: has('sha256') ? 'sha256' : undefined };
  }
  if (has('sha256')) return { by: 'sha256', col: 'sha256' };
  throw badFile(src.path, `no column 'id' (item ids), 'path' or 'sha256' to name the item of each row; its columns: ${src.columns.map((c) => c.name).join(', ')}`);
}

function keyRequest(k: Key): { scalars: string[]; lists: string[] } {
  if (k.by === 'path') {
    const scalars = [k.col, ...(k.sha ? [k.sha] : []), ...(k.box && 'cols' in k.box ? k.box.cols : [])];
    return { scalars, lists: k.box && 'list' in k.box ? [k.box.list] : [] };
  }
  return { scalars: [k.col], lists: [] };
}

/** A row's item: an existing item id, a face to create (import-embeddings), or null (unmatched). */
type Target = { item: number; kind: ItemKind } | { photo: number; box: [number, number, number, number] } | null;

/** Resolves the rows of one batch to items of the library. */
function resolver(lib: Library, k: Key, defaultKind: ItemKind | null, file: string) {
  const db = lib.db;
  // item ids: the ids of one batch looked up in one query per kind (not one per row: 1,000,000 rows, BENCHMARKS.md)
  const q = itemMatchers(db);
  let batchOf: unknown = null;
  let parsed: Array<{ kind: ItemKind; id: number } | null> = [];
  const found = { photo: new Set<number>(), face: new Set<number>() };
  const parseId = (v: unknown): { kind: ItemKind; id: number } | null => {
    const s = typeof v === 'number' || typeof v === 'bigint' ? String(v) : typeof v === 'string' ? v.trim() : '';
    const m = /^(?:(photo|face):)?(\d+)$/.exec(s);
    return m ? { kind: (m[1] as ItemKind | undefined) ?? defaultKind ?? 'photo', id: Number(m[2]) } : null;
  };
  const prefetch = (b: { cols: Record<string, ArrayLike<unknown>> }) => {
    const col = b.cols[(k as { col: string }).col];
    parsed = Array.from(col as ArrayLike<unknown>, parseId);
    const want = { photo: [] as number[], face: [] as number[] };
    for (const x of parsed) if (x) want[x.kind].push(x.id);
    found.photo = new Set(want.photo.length ? q.photosIn(want.photo) : []);
    found.face = new Set(want.face.length ? q.facesIn(want.face) : []);
    batchOf = col;
  };
  const base = resolve(file, '..');
  return (b: { cols: Record<string, ArrayLike<unknown>>; lists: Record<string, Array<number[] | null>> }, i: number, row: number): { t: Target; label: string } => {
    if (k.by === 'id') {
      if (batchOf !== b.cols[k.col]) prefetch(b);
      const x = parsed[i];
      if (!x) throw badFile(file, `column '${k.col}', row ${row + 1}: ${JSON.stringify(b.cols[k.col][i])} is not an item id (photo:N, face:N or N)`);
      return { t: found[x.kind].has(x.id) ? { item: x.id, kind: x.kind } : null, label: `${x.kind}:${x.id}` };
    }
    if (k.by === 'sha256') {
      const v = b.cols[k.col][i];
      if (typeof v !== 'string') throw badFile(file, `column '${k.col}', row ${row + 1}: expected a hex sha256, got ${JSON.stringify(v)}`);
      const id = q.photoByHash(v.trim().toLowerCase().slice(0, 32));
      return { t: id !== undefined ? { item: id, kind: 'photo' } : null, label: v };
    }
    const pv = b.cols[k.col][i];
    if (typeof pv !== 'string' || !pv) throw badFile(file, `column '${k.col}', row ${row + 1}: expected a path, got ${JSON.stringify(pv)}`);
    const p = pv.startsWith('/') ? pv : resolve(base, pv);
    let photo = q.photoByPath(p);
    if (photo === undefined && k.sha) {
      const h = b.cols[k.sha][i];
      if (typeof h === 'string' && h) photo = q.photoByHash(h.trim().toLowerCase().slice(0, 32));
    }
    let box: [number, number, number, number] | null = null;
    if (k.box) {
      const raw = 'list' in k.box ? b.lists[k.box.list][i] : k.box.cols.map((c) => b.cols[c][i]);
      if (raw && raw.some((x) => x !== null && x !== undefined)) {
        if (raw.length !== 4 || !raw.every((x) => typeof x === 'number' && Number.isFinite(x))) throw badFile(file, `row ${row + 1}: the face box must be 4 numbers x, y, w, h`);
        box = raw as [number, number, number, number];
      }
    }
    if (photo === undefined) return { t: null, label: p };
    if (!box) return { t: { item: photo, kind: 'photo' }, label: p };
    const f = q.findFace(photo, ...box);
    return { t: f !== undefined ? { item: f, kind: 'face' } : { photo, box }, label: p };
  };
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** An import's spool in the library's cache: `.import-<pid>-<ms>.f32`. */
const SPOOL_NAME = /^\.import-(\d+)-\d+\.f32$/;

/**
 * A model's embeddings from a Parquet file, a folder of parts or an Arrow file. Phase 1 reads every part and spools
 * the matched vectors to a temp file (memory: one part plus the ids); phase 2 stores them in one transaction.
 */
export async function importEmbeddingsFile(lib: Library, o: ImportEmbeddingsFileOptions, ctx?: JobContext): Promise<ImportEmbeddingsFileReport> {
  const modelName = o.model;
  if (!MODEL_NAME.test(modelName)) throw badArg('model', `model names use letters, digits and _.:- (got ${JSON.stringify(modelName)})`);
  if (modelName === 'photo' || modelName === 'face') throw badArg('model', `${modelName} is a built-in model; import under another name`);
  const src = openColumnar(o.file);
  const vcol = o.vectorColumn ?? 'embedding';
  vectorColumn(src, vcol);
  const key = keyOf(src, o.idColumn);
  const existing = (() => { try { return getModel(lib.db, modelName); } catch { return null; } })();
  const resolveRow = resolver(lib, key, existing?.kind ?? null, src.path);
  mkdirSync(lib.cacheDir, { recursive: true });
  // spools of imports that were killed (a dead process's) go first: five kills left 341 MB behind
  removeDeadProcessFiles(lib.cacheDir, (n) => { const m = SPOOL_NAME.exec(n); return m ? Number(m[1]) : null; });
  const spool = join(lib.cacheDir, `.import-${process.pid}-${Date.now()}.f32`);
  const fd = openSync(spool, 'w+');
  const targets: Array<Exclude<Target, null>> = [];
  const firstRow = new Map<string, number>();
  const report: ImportEmbeddingsFileReport = {
    model: modelName, kind: 'photo', rows: src.rows, dim: 0, imported: 0, unmatched: 0, unmatchedPaths: [], facesCreated: 0,
    format: src.format, files: src.files.length, source: src.path,
  };
  let kind: ItemKind | null = null;
  try {
    ctx?.progress('read', 0, src.rows);
    const req = keyRequest(key);
    let done = 0;
    for await (const b of readBatches(src, { scalars: req.scalars, lists: req.lists, vectors: [vcol] }, { signal: ctx?.signal })) {
      const { X, d } = b.vectors[vcol];
      if (report.dim === 0) report.dim = d;
      if (existing && existing.dim !== d) throw new AppError('CONFLICT', `model ${modelName}: the library has ${existing.dim}-d embeddings under this name, ${src.path} has ${d}-d; choose another name`);
      // the matched rows moved to the front of X (in order), then written in one go
      let kept = 0;
      for (let i = 0; i < b.n; i++) {
        const { t, label } = resolveRow(b, i, b.start + i);
        if (!t) { report.unmatched++; if (report.unmatchedPaths.length < 20) report.unmatchedPaths.push(label); continue; }
        // one vector per item: a repeated id would be counted twice and stored once (the last one silently winning)
        const tk = 'item' in t ? `${t.kind}:${t.item}` : `${t.photo}:${t.box.join(',')}`;
        const first = firstRow.get(tk);
        if (first !== undefined) throw badFile(src.path, `row ${b.start + i + 1} repeats the item of row ${first} (${label}); each item may have one vector`);
        firstRow.set(tk, b.start + i + 1);
        const k: ItemKind = 'kind' in t ? t.kind : 'face';
        if (kind === null) kind = k;
        else if (kind !== k) throw badFile(src.path, `row ${b.start + i + 1} is a ${k} and earlier rows are ${kind}s: one model's embeddings are of one kind`);
        targets.push(t);
        if (kept !== i) X.copyWithin(kept * d, i * d, (i + 1) * d);
        kept++;
      }
      const bytes = new Uint8Array(X.buffer, X.byteOffset, kept * d * 4);
      writeAllSync(fd, bytes, spool);
      done += b.n;
      ctx?.progress('read', done, src.rows);
    }
    if (targets.length === 0) {
      throw badFile(src.path, `none of its ${src.rows} rows is an item of this library (first: ${report.unmatchedPaths[0] ?? '-'}); scan their folder first`);
    }
    report.kind = kind!;
    if (existing && existing.kind !== kind) throw new AppError('CONFLICT', `model ${modelName}: the library has ${existing.kind} embeddings under this name, ${src.path} has ${kind}s; choose another name`);
    ctx?.checkCancelled();
    const d = report.dim;
    const db = lib.db;
    const version = `imported:${src.path}@${Date.now()}`;
    const wr = importWriters(db);
    const chunk = 4096;
    const buf = new Float32Array(chunk * d);
    const bytes = new Uint8Array(buf.buffer);
    db.transaction(() => {
      ensureModel(db, { name: modelName, kind: kind!, dim: d, version, source: 'imported', info: { file: src.path, format: src.format, parts: src.files.length } });
      for (let r0 = 0; r0 < targets.length; r0 += chunk) {
        const m = Math.min(chunk, targets.length - r0);
        let off = 0;
        const want = m * d * 4;
        while (off < want) {
          const got = readSync(fd, bytes, off, want - off, r0 * d * 4 + off);
          if (got <= 0) throw new AppError('IO', `${spool}: short read`);
          off += got;
        }
        for (let t = 0; t < m; t++) {
          const tg = targets[r0 + t];
          const item = 'item' in tg ? tg.item : wr.insertFace(tg.photo, ...tg.box, Date.now());
          if (!('item' in tg)) report.facesCreated++;
          wr.upsertVec(modelName, item, version, vecBlob(buf.subarray(t * d, (t + 1) * d)));
          report.imported++;
        }
      }
    })();
    ctx?.progress('store', targets.length, targets.length);
    return report;
  } finally {
    closeSync(fd);
    try { unlinkSync(spool); } catch { /* gone */ }
  }
}

export interface AssessPayload { X: Float32Array; n: number; d: number; labels: Int32Array; probabilities: Float32Array | null; samples?: number }

/** Worker task: statistics and metrics of labels made elsewhere (a ClusterOutput as a run here would have). */
export async function assessTask(p: AssessPayload, ctx: { isCancelled(): boolean; progress(s: string, d: number, t: number): void }): Promise<{ result: ClusterOutput }> {
  const { assessLabels } = await import('../../algo/cluster/run.ts');
  const { warmGemm } = await import('../workers/warm.ts');
  const { workerCount } = await import('../workers/pool.ts');
  await using gemm = await warmGemm(workerCount());
  const t0 = performance.now();
  const a = await assessLabels({ X: p.X, n: p.n, d: p.d }, p.labels, { samples: p.samples }, { gemm, isCancelled: ctx.isCancelled, onProgress: ctx.progress });
  return {
    result: {
      labels: a.labels, rawLabels: p.labels, probabilities: p.probabilities, outlierScores: null, stats: a.stats, metrics: a.metrics,
      timings: { ...a.timings, total: performance.now() - t0 }, record: { algo: 'imported' }, report: a.report, encoder: null, loss: null,
    },
  };
}

/**
 * A run clustered elsewhere: rows name an item and its cluster label (an integer, -1 = noise, or any string: labels
 * are numbered in order of first appearance), with an optional probability. The run's centroids, top/tail samples and
 * metrics are computed here on the model's embeddings; curated groups and names carry over as in any re-run.
 */
export async function importRun(lib: Library, o: ImportRunOptions, ctx?: JobContext): Promise<ImportRunReport> {
  const model = getModel(lib.db, o.model);
  const src = openColumnar(o.file);
  const key = keyOf(src, o.idColumn);
  const has = (n: string) => src.columns.some((c) => c.name === n);
  const ccol = o.clusterColumn ?? (has('cluster') ? 'cluster' : has('label') ? 'label' : 'cluster');
  const cc = column(src, ccol, 'the cluster label of each row');
  if (cc.type !== 'int' && cc.type !== 'string' && cc.type !== 'float') throw badFile(src.path, `column '${ccol}' is ${cc.raw}, expected cluster labels (integers, -1 = noise, or strings)`);
  const pcol = has('probability') ? 'probability' : has('prob') ? 'prob' : null;
  if (pcol) { const pc = column(src, pcol, 'probability'); if (pc.type !== 'float' && pc.type !== 'int') throw badFile(src.path, `column '${pcol}' is ${pc.raw}, expected numbers in [0, 1]`); }
  const ncol = has('name') && column(src, 'name', '').type === 'string' ? 'name' : null;
  ctx?.progress('load', 0, 1);
  const m = loadMatrix(lib.db, o.model);
  const rowOf = new Map<number, number>();
  for (let i = 0; i < m.n; i++) rowOf.set(m.ids[i], i);
  const resolveRow = resolver(lib, key, model.kind, src.path);
  const req = keyRequest(key);
  const rows: number[] = [];
  const labs: number[] = [];
  const probs: number[] = [];
  const names = new Map<number, string>();
  const strLabels = new Map<string, number>();
  /** matrix row -> the file's row that named it first (1-based) */
  const seen = new Map<number, number>();
  let unmatched = 0;
  const unmatchedIds: string[] = [];
  let done = 0;
  ctx?.progress('read', 0, src.rows);
  for await (const b of readBatches(src, { scalars: [...req.scalars, ccol, ...(pcol ? [pcol] : []), ...(ncol ? [ncol] : [])], lists: req.lists }, { signal: ctx?.signal })) {
    for (let i = 0; i < b.n; i++) {
      const { t, label } = resolveRow(b, i, b.start + i);
      const r = t && 'item' in t && t.kind === model.kind ? rowOf.get(t.item) : undefined;
      if (r === undefined) { unmatched++; if (unmatchedIds.length < 20) unmatchedIds.push(label); continue; }
      // one label per item: a repeated item is no unmatched row, it is a file that contradicts itself (or a bad join)
      const first = seen.get(r);
      if (first !== undefined) throw badFile(src.path, `row ${b.start + i + 1} repeats the item of row ${first} (${label}); each item may have one cluster label`);
      const lv = b.cols[ccol][i];
      let l: number;
      if (typeof lv === 'string') {
        const s = lv.trim();
        if (/^-?\d+$/.test(s)) l = Number(s);
        else if (s === '' ) l = -1;
        else { if (!strLabels.has(s)) strLabels.set(s, strLabels.size); l = strLabels.get(s)!; if (!names.has(l)) names.set(l, s); }
      } else if (lv === null || lv === undefined) l = -1;
      else l = Number(lv);
      // labels are stored as 32-bit integers: 2^31 and above would wrap (0 and 2^32 merged, 2^31 made noise)
      if (Number.isInteger(l) && l > 0x7fffffff) throw badFile(src.path, `column '${ccol}', row ${b.start + i + 1}: cluster label ${JSON.stringify(typeof lv === 'bigint' ? String(lv) : lv)} is out of range (at most ${0x7fffffff})`);
      if (!Number.isInteger(l) || l < -1) throw badFile(src.path, `column '${ccol}', row ${b.start + i + 1}: ${JSON.stringify(lv)} is not a cluster label (an integer >= -1 or a string)`);
      if (pcol) {
        const pv = b.cols[pcol][i];
        const p = pv === null || pv === undefined ? NaN : Number(pv);
        if (Number.isFinite(p) && (p < 0 || p > 1)) throw badFile(src.path, `column '${pcol}', row ${b.start + i + 1}: ${p} is not a probability in [0, 1]`);
        probs.push(p);
      }
      if (ncol && l >= 0) { const nv = b.cols[ncol][i]; if (typeof nv === 'string' && nv && !names.has(l)) names.set(l, nv); }
      seen.set(r, b.start + i + 1);
      rows.push(r); labs.push(l);
    }
    done += b.n;
    ctx?.progress('read', done, src.rows);
  }
  if (rows.length < 2) throw badFile(src.path, `${rows.length} of its ${src.rows} rows are items with ${o.model} embeddings (first unmatched: ${unmatchedIds[0] ?? '-'}); need at least 2`);
  // rows in item order, as a run made here
  const order = rows.map((_, i) => i).sort((a, b) => m.ids[rows[a]] - m.ids[rows[b]]);
  const n = rows.length, d = m.d;
  const X = new Float32Array(new SharedArrayBuffer(n * d * 4));
  const ids = new Int32Array(n);
  const labels = new Int32Array(n);
  const probabilities = pcol ? new Float32Array(n) : null;
  order.forEach((j, t) => {
    const r = rows[j];
    X.set(m.X.subarray(r * d, (r + 1) * d), t * d);
    ids[t] = m.ids[r]; labels[t] = labs[j];
    if (probabilities) probabilities[t] = probs[j];
  });
  ctx?.checkCancelled();
  const out = await runTask('assess', { X, n, d, labels, probabilities }, { signal: ctx?.signal, onProgress: (s, dn, t) => ctx?.progress(s, dn, t) });
  ctx?.checkCancelled();
  const params = { algo: 'imported', source: src.path, format: src.format } as unknown as ClusterParams;
  out.record = { ...out.record, imported: { source: src.path, format: src.format, rows: src.rows, unmatched, idColumn: key.col, clusterColumn: ccol, probabilityColumn: pcol } };
  const runId = storeRun(lib.db, { model: o.model, kind: model.kind, params, out, ids });
  const carried = carryOver(lib.db, runId);
  // names from the file for the groups the user has not named
  const named = names.size ? nameUnnamedClusters(lib.db, runId, names) : 0;
  const run = getRun(lib.db, runId);
  return {
    runId, model: o.model, kind: model.kind, items: n, clusters: run.clusters, noise: run.noise, unmatched, unmatchedIds,
    rows: src.rows, source: src.path, named, carried: carried.carried,
  };
}
