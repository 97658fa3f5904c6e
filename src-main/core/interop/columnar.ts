/**
 * Columnar files in and out: Parquet (read with hyparquet one row group at a time, written with hyparquet-writer one
 * row group per batch) and Arrow IPC files (apache-arrow, one record batch at a time: columnar-arrow.ts). Vectors are a list column of float32 (a variable list, or
 * Arrow's fixed-size list) and land in one Float32Array per batch; no JS object is made per value. A folder is a set of
 * Parquet parts (`*.parquet`, read in name order), the layout Dask, Spark and Ray write.
 *
 * Every problem with a file (not Parquet/Arrow, truncated, a missing column, a column of the wrong type, rows of
 * different lengths) is a BAD_FILE naming the file and the column.
 */
import { closeSync, readSync, readdirSync, statSync, fstatSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parquetMetadata, parquetRead, type FileMetaData, type SchemaElement } from 'hyparquet';
import * as arrow from 'apache-arrow';
import { AppError } from '../../common/errors.ts';
import { openRegularSync } from '../safe-read.ts';
import { ArrowBatchReader, arrowLayout, type ArrowLayout } from './columnar-arrow.ts';
import { readVectorChunk } from './columnar-pages.ts';
import type { COLUMNAR_FORMATS } from '../../common/schema-kit.ts';

export type ColumnarFormat = (typeof COLUMNAR_FORMATS)[number];

export interface ColumnInfo {
  name: string;
  /** what the column holds, as far as the importers care */
  type: 'string' | 'int' | 'float' | 'bool' | 'list' | 'other';
  /** list columns: their element type */
  element?: 'float32' | 'float64' | 'int' | 'other';
  /** the file's own type name, for messages */
  raw: string;
}

interface Part { file: string; start: number; rows: number; group: number }

export interface ColumnarSource {
  path: string;
  format: ColumnarFormat;
  files: string[];
  rows: number;
  columns: ColumnInfo[];
  /** row groups (Parquet) or record batches (Arrow), in order */
  parts: Part[];
  /** key-value metadata of the first file */
  meta: Record<string, string>;
}

export function badFile(file: string, why: string): AppError {
  return new AppError('BAD_FILE', `${file}: ${why}`);
}

/** Parquet, Arrow IPC, or a folder of Parquet parts, by the path (a folder) or its extension and magic bytes. */
export function formatOf(path: string): ColumnarFormat | 'npy' | null {
  const p = path.toLowerCase();
  if (p.endsWith('.parquet') || p.endsWith('.pq')) return 'parquet';
  if (p.endsWith('.arrow') || p.endsWith('.feather') || p.endsWith('.ipc')) return 'arrow';
  if (p.endsWith('.npy')) return 'npy';
  try { if (statSync(path).isDirectory()) return 'parquet'; } catch { /* not there: by name only */ }
  return null;
}

/** A local file as hyparquet's AsyncBuffer: reads the byte ranges asked for, nothing else (a large file streams). */
function fileBuffer(file: string, fd: number, size: number) {
  return {
    byteLength: size,
    slice(start: number, end?: number): ArrayBuffer {
      const e = Math.min(end ?? size, size);
      const out = new Uint8Array(Math.max(0, e - start));
      let off = 0;
      while (off < out.length) {
        const r = readSync(fd, out, off, out.length - off, start + off);
        if (r <= 0) throw badFile(file, `truncated: could not read bytes ${start + off}..${e}`);
        off += r;
      }
      return out.buffer;
    },
  };
}

function parquetFiles(path: string): string[] {
  let st;
  try { st = statSync(path); } catch { throw new AppError('NOT_FOUND', `${path}: no such file or folder`); }
  if (!st.isDirectory()) return [path];
  const files = readdirSync(path).filter((f) => f.toLowerCase().endsWith('.parquet') && !f.startsWith('.')).sort().map((f) => join(path, f));
  if (files.length === 0) throw badFile(path, 'the folder has no .parquet parts');
  return files;
}

function readParquetMeta(file: string): FileMetaData {
  // the one reader: regular files only (a FIFO part is refused by name instead of freezing the process)
  const fd = openRegularSync(file, 'columnar').fd;
  try {
    const size = fstatSync(fd).size;
    if (size < 12) throw badFile(file, `not a Parquet file (${size} bytes)`);
    const head = Buffer.alloc(4), tail = Buffer.alloc(8);
    readSync(fd, head, 0, 4, 0);
    readSync(fd, tail, 0, 8, size - 8);
    if (head.toString('latin1') !== 'PAR1') throw badFile(file, 'not a Parquet file (no PAR1 magic at its start)');
    if (tail.toString('latin1', 4) !== 'PAR1') throw badFile(file, 'truncated or not a Parquet file (no PAR1 magic at its end)');
    const metaLen = tail.readUInt32LE(0);
    if (metaLen + 12 > size) throw badFile(file, `truncated Parquet file (footer of ${metaLen} bytes in a ${size}-byte file)`);
    const buf = Buffer.alloc(metaLen + 8);
    readSync(fd, buf, 0, metaLen + 8, size - metaLen - 8);
    try {
      return parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    } catch (e) {
      throw badFile(file, `unreadable Parquet footer (${(e as Error).message})`);
    }
  } finally {
    closeSync(fd);
  }
}

function parquetColumns(md: FileMetaData): ColumnInfo[] {
  const s = md.schema;
  const out: ColumnInfo[] = [];
  // walk the top-level fields of the flattened schema tree
  let i = 1;
  const skip = (j: number): number => { const c = s[j].num_children ?? 0; let k = j + 1; for (let t = 0; t < c; t++) k = skip(k); return k; };
  const leafType = (e: SchemaElement): ColumnInfo['type'] => {
    if (e.type === 'BYTE_ARRAY' && (e.converted_type === 'UTF8' || e.logical_type?.type === 'STRING')) return 'string';
    if (e.type === 'BYTE_ARRAY') return 'string';
    if (e.type === 'INT32' || e.type === 'INT64') return 'int';
    if (e.type === 'FLOAT' || e.type === 'DOUBLE') return 'float';
    if (e.type === 'BOOLEAN') return 'bool';
    return 'other';
  };
  while (i < s.length) {
    const e = s[i];
    const next = skip(i);
    if (!e.num_children) {
      out.push({ name: e.name, type: e.repetition_type === 'REPEATED' ? 'list' : leafType(e), raw: String(e.type), element: e.repetition_type === 'REPEATED' ? (e.type === 'FLOAT' ? 'float32' : e.type === 'DOUBLE' ? 'float64' : 'other') : undefined });
    } else {
      // a list: group (LIST) > repeated group > element leaf (or the legacy two-level form)
      let j = i + 1;
      while (j < next && s[j].num_children) j++;
      const leaf = s[j];
      const isList = e.converted_type === 'LIST' || e.logical_type?.type === 'LIST' || s[i + 1]?.repetition_type === 'REPEATED';
      const el = leaf?.type === 'FLOAT' ? 'float32' : leaf?.type === 'DOUBLE' ? 'float64' : leaf?.type === 'INT32' || leaf?.type === 'INT64' ? 'int' : 'other';
      out.push({ name: e.name, type: isList ? 'list' : 'other', element: isList ? el : undefined, raw: isList ? `list<${leaf?.type ?? '?'}>` : 'struct' });
    }
    i = next;
  }
  return out;
}

function arrowKind(t: arrow.DataType): Pick<ColumnInfo, 'type' | 'element'> {
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) return { type: 'string' };
  if (arrow.DataType.isInt(t)) return { type: 'int' };
  if (arrow.DataType.isFloat(t)) return { type: 'float' };
  if (arrow.DataType.isBool(t)) return { type: 'bool' };
  if (arrow.DataType.isList(t) || arrow.DataType.isFixedSizeList(t)) {
    const c = (t as arrow.List | arrow.FixedSizeList).children[0].type;
    const el = arrow.DataType.isFloat(c) ? ((c as arrow.Float).precision === arrow.Precision.SINGLE ? 'float32' : (c as arrow.Float).precision === arrow.Precision.DOUBLE ? 'float64' : 'other') : arrow.DataType.isInt(c) ? 'int' : 'other';
    return { type: 'list', element: el };
  }
  return { type: 'other' };
}

const arrowLayouts = new WeakMap<ColumnarSource, ArrowLayout>();

/** Opens a Parquet file, a folder of Parquet parts or an Arrow IPC file: its columns, rows and parts, nothing read yet. */
export function openColumnar(path: string): ColumnarSource {
  const p = resolve(path);
  const fmt = formatOf(p);
  if (fmt === 'arrow') {
    // headers only: each record batch is read when it is asked for (a large file is never in memory whole)
    const layout = arrowLayout(p);
    const parts: Part[] = [];
    let start = 0;
    layout.batches.forEach((b, g) => { parts.push({ file: p, start, rows: b.rows, group: g }); start += b.rows; });
    const src: ColumnarSource = {
      path: p, format: 'arrow', files: [p], rows: start, parts, meta: Object.fromEntries(layout.schema.metadata),
      columns: layout.schema.fields.map((f) => ({ name: f.name, raw: String(f.type), ...arrowKind(f.type) })),
    };
    arrowLayouts.set(src, layout);
    return src;
  }
  if (fmt !== 'parquet') throw badFile(p, 'expected a .parquet file, a folder of .parquet parts or an .arrow file');
  const files = parquetFiles(p);
  const parts: Part[] = [];
  let start = 0;
  let columns: ColumnInfo[] | null = null;
  let meta: Record<string, string> = {};
  for (const f of files) {
    const md = readParquetMeta(f);
    const cols = parquetColumns(md);
    if (!columns) { columns = cols; meta = Object.fromEntries((md.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? ''])); }
    else {
      for (const c of columns) {
        const o = cols.find((x) => x.name === c.name);
        if (!o || o.type !== c.type) throw badFile(f, `column '${c.name}' differs from the first part ${basename(files[0])} (${c.raw} there, ${o ? o.raw : 'missing'} here)`);
      }
    }
    md.row_groups.forEach((rg, g) => { const n = Number(rg.num_rows); parts.push({ file: f, start, rows: n, group: g }); start += n; });
  }
  return { path: p, format: 'parquet', files, rows: start, columns: columns ?? [], parts, meta };
}

/** The column, checked to exist (BAD_FILE naming the file, the column and the columns it has). */
export function column(src: ColumnarSource, name: string, what: string): ColumnInfo {
  const c = src.columns.find((x) => x.name === name);
  if (!c) throw badFile(src.path, `no column '${name}' (${what}); its columns: ${src.columns.map((x) => x.name).join(', ') || 'none'}`);
  return c;
}

export function vectorColumn(src: ColumnarSource, name: string): ColumnInfo {
  const c = column(src, name, 'the vectors: a list of float32');
  if (c.type !== 'list' || (c.element !== 'float32' && c.element !== 'float64')) {
    throw badFile(src.path, `column '${name}' is ${c.raw}, expected a list of float32 (fixed-size or variable)`);
  }
  return c;
}

/** One batch of rows: every asked column as an array (strings, numbers) or, for vectors, one Float32Array. */
export interface Batch {
  start: number;
  n: number;
  /** scalar columns */
  cols: Record<string, ArrayLike<unknown>>;
  /** list columns asked for as vectors: n x d row-major */
  vectors: Record<string, { X: Float32Array; d: number }>;
  /** list columns asked for as small lists (boxes, landmarks): per row, or null */
  lists: Record<string, Array<number[] | null>>;
}

export interface ReadRequest { scalars?: string[]; vectors?: string[]; lists?: string[] }

function toVectors(file: string, name: string, rows: ArrayLike<unknown>, expectD: number | null): { X: Float32Array; d: number } {
  const n = rows.length;
  let d = expectD ?? -1;
  if (d < 0) {
    const r0 = rows[0] as ArrayLike<number> | null;
    d = r0 ? r0.length : 0;
  }
  if (n > 0 && d < 1) throw badFile(file, `column '${name}': empty vector in row 1`);
  const X = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = rows[i] as ArrayLike<number> | null;
    if (!r) throw badFile(file, `column '${name}': row ${i + 1} has no vector (null)`);
    if (r.length !== d) throw badFile(file, `column '${name}': rows have different lengths (${d} and ${r.length})`);
    if (r instanceof Float32Array) X.set(r, i * d);
    else for (let p = 0; p < d; p++) X[i * d + p] = r[p];
  }
  return { X, d };
}

function arrowVectors(file: string, name: string, v: arrow.Vector, expectD: number | null): { X: Float32Array; d: number } {
  const n = v.length;
  if (v.nullCount > 0) throw badFile(file, `column '${name}': ${v.nullCount} rows have no vector (null)`);
  const chunks = v.data;
  if (arrow.DataType.isFixedSizeList(v.type)) {
    const d = (v.type as arrow.FixedSizeList).listSize;
    if (expectD !== null && d !== expectD) throw badFile(file, `column '${name}': vectors of ${d} values, expected ${expectD}`);
    const X = new Float32Array(n * d);
    let o = 0;
    for (const c of chunks) {
      const child = c.children[0];
      const vals = child.values as Float32Array | Float64Array;
      const from = (c.offset + child.offset) * d;
      const len = c.length * d;
      if (vals instanceof Float32Array) X.set(vals.subarray(from, from + len), o);
      else for (let t = 0; t < len; t++) X[o + t] = vals[from + t];
      o += len;
    }
    return { X, d };
  }
  // a variable list: offsets into one values array per chunk
  let d = expectD ?? -1;
  const X0: Float32Array[] = [];
  for (const c of chunks) {
    const offs = c.valueOffsets as Int32Array;
    const child = c.children[0];
    const vals = child.values as Float32Array | Float64Array;
    for (let i = 0; i < c.length; i++) {
      const a = offs[c.offset + i], b = offs[c.offset + i + 1];
      if (d < 0) d = b - a;
      if (b - a !== d) throw badFile(file, `column '${name}': rows have different lengths (${d} and ${b - a})`);
    }
    const a0 = offs[c.offset], b0 = offs[c.offset + c.length];
    X0.push(Float32Array.from(vals.subarray(child.offset + a0, child.offset + b0)));
  }
  if (n > 0 && d < 1) throw badFile(file, `column '${name}': empty vector in row 1`);
  const X = new Float32Array(n * Math.max(d, 0));
  let o = 0;
  for (const x of X0) { X.set(x, o); o += x.length; }
  return { X, d };
}

/**
 * Every vector of a batch finite, or a BAD_FILE naming the file, the column and the first row that is not (NaN and
 * infinities are refused as by the .npy importer: one of them poisons every distance to it).
 */
function finiteBatch(file: string, b: Batch): Batch {
  for (const [name, { X, d }] of Object.entries(b.vectors)) {
    for (let i = 0; i < X.length; i++) {
      if (!Number.isFinite(X[i])) {
        throw badFile(file, `column '${name}': row ${b.start + Math.floor(i / Math.max(d, 1)) + 1} holds a non-finite value (${X[i]}); vectors must be finite`);
      }
    }
  }
  return b;
}

/**
 * Reads the source part by part (a Parquet row group, an Arrow record batch) with only the asked columns; memory is
 * one part at a time. `from`/`to` select parts by index (for a streaming reader that revisits one part).
 */
export async function* readBatches(src: ColumnarSource, req: ReadRequest, opts: { parts?: number[]; signal?: AbortSignal } = {}): AsyncGenerator<Batch> {
  const scalars = req.scalars ?? [], vecs = req.vectors ?? [], lists = req.lists ?? [];
  const want = [...scalars, ...vecs, ...lists];
  for (const c of want) column(src, c, 'asked for');
  const order = opts.parts ?? src.parts.map((_, i) => i);
  const dims: Record<string, number | null> = Object.fromEntries(vecs.map((v) => [v, null]));
  if (src.format === 'arrow') {
    const reader = new ArrowBatchReader(src.path, arrowLayouts.get(src) ?? arrowLayout(src.path));
    try {
      for (const pi of order) {
        if (opts.signal?.aborted) throw new AppError('CANCELLED', 'reading cancelled');
        const part = src.parts[pi];
        yield finiteBatch(src.path, arrowBatch(src.path, reader.batch(part.group), part, req, dims));
      }
    } finally {
      reader.close();
    }
    return;
  }
  let fd = -1, fdFile = '';
  const metas = new Map<string, FileMetaData>();
  try {
    for (const pi of order) {
      if (opts.signal?.aborted) throw new AppError('CANCELLED', 'reading cancelled');
      const part = src.parts[pi];
      if (fdFile !== part.file) {
        if (fd >= 0) closeSync(fd);
        fd = openRegularSync(part.file, 'columnar').fd; fdFile = part.file;
      }
      const size = fstatSync(fd).size;
      let md = metas.get(part.file);
      if (!md) { md = readParquetMeta(part.file); metas.set(part.file, md); }
      let rowStart = 0;
      for (let g = 0; g < part.group; g++) rowStart += Number(md.row_groups[g].num_rows);
      const out: Batch = { start: part.start, n: part.rows, cols: {}, vectors: {}, lists: {} };
      // vectors: straight from the pages into one Float32Array (no JS array per row); null when the column is not a
      // plain list of equal-length, non-null rows, which hyparquet's general reader then reads (and names what is wrong)
      const slow: string[] = [];
      for (const c of vecs) {
        let r: { X: Float32Array; d: number } | null = null;
        try { r = readVectorChunk(fileBuffer(part.file, fd, size), md, part.group, c, part.rows, dims[c]); } catch { r = null; }
        if (r) { dims[c] = r.d; out.vectors[c] = r; } else slow.push(c);
      }
      const rest = want.filter((c) => !vecs.includes(c) || slow.includes(c));
      const got: Record<string, unknown[][]> = Object.fromEntries(rest.map((c) => [c, []]));
      if (rest.length) try {
        await parquetRead({
          file: fileBuffer(part.file, fd, size), metadata: md, columns: rest, rowStart, rowEnd: rowStart + part.rows,
          onChunk: (ch) => { if (got[ch.columnName]) got[ch.columnName].push(ch.columnData as unknown as unknown[]); },
        });
      } catch (e) {
        if (e instanceof AppError) throw e;
        throw badFile(part.file, `unreadable row group ${part.group + 1} (${(e as Error).message.split('\n')[0]})`);
      }
      const flat = (c: string): ArrayLike<unknown> => {
        const chunks = got[c];
        if (chunks.length === 1) return chunks[0];
        const all: unknown[] = [];
        for (const ch of chunks) for (let i = 0; i < ch.length; i++) all.push(ch[i]);
        return all;
      };
      for (const c of rest) {
        const v = flat(c);
        if (v.length !== part.rows) throw badFile(part.file, `column '${c}': ${v.length} values in a row group of ${part.rows} rows (truncated?)`);
      }
      for (const c of scalars) {
        const v = flat(c);
        out.cols[c] = v instanceof BigInt64Array || (v.length > 0 && typeof v[0] === 'bigint') ? Array.from(v as ArrayLike<bigint>, Number) : v;
      }
      for (const c of slow) {
        const r = toVectors(part.file, c, flat(c), dims[c]);
        dims[c] = r.d;
        out.vectors[c] = r;
      }
      for (const c of lists) out.lists[c] = Array.from(flat(c) as ArrayLike<ArrayLike<number> | null>, (x) => (x ? Array.from(x, Number) : null));
      yield finiteBatch(part.file, out);
    }
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** One row group's vector column by the page reader alone (null where readBatches falls back to hyparquet's reader). */
export function readVectorRowGroup(path: string, group: number, name: string): { X: Float32Array; d: number } | null {
  const md = readParquetMeta(path);
  const fd = openRegularSync(path, 'columnar').fd;
  try {
    return readVectorChunk(fileBuffer(path, fd, fstatSync(fd).size), md, group, name, Number(md.row_groups[group].num_rows), null);
  } finally { closeSync(fd); }
}


/** The asked columns of one Arrow record batch (or a table of one row group) as a Batch: vectors copied into one Float32Array. */
function arrowBatch(file: string, b: { getChild(name: string): arrow.Vector | null }, part: Part, req: ReadRequest, dims: Record<string, number | null>): Batch {
  const out: Batch = { start: part.start, n: part.rows, cols: {}, vectors: {}, lists: {} };
  for (const c of req.scalars ?? []) {
    const v = b.getChild(c)!;
    const plain = v.nullCount === 0 && (arrow.DataType.isInt(v.type) || arrow.DataType.isFloat(v.type));
    if (plain && (v.type as arrow.Int).bitWidth === 64 && arrow.DataType.isInt(v.type)) out.cols[c] = Array.from(v.toArray() as BigInt64Array, Number);
    else if (plain) out.cols[c] = (v.toArray() as Int32Array).slice(); // a copy: an Arrow batch's buffer is reused for the next
    else out.cols[c] = Array.from({ length: v.length }, (_, i) => { const x = v.get(i); return typeof x === 'bigint' ? Number(x) : x; });
  }
  for (const c of req.vectors ?? []) {
    const r = arrowVectors(file, c, b.getChild(c)!, dims[c]);
    dims[c] = r.d;
    out.vectors[c] = r;
  }
  for (const c of req.lists ?? []) {
    const v = b.getChild(c)!;
    out.lists[c] = Array.from({ length: v.length }, (_, i) => { const x = v.get(i) as arrow.Vector | null; return x ? Array.from(x.toArray() as ArrayLike<number>, Number) : null; });
  }
  return out;
}
