/**
 * Columnar files in and out: Parquet (read with hyparquet one row group at a time, written with hyparquet-writer one
 * row group per batch) and Arrow IPC files (apache-arrow). Vectors are a list column of float32 (a variable list, or
 * Arrow's fixed-size list) and land in one Float32Array per batch; no JS object is made per value. A folder is a set of
 * Parquet parts (`*.parquet`, read in name order), the layout Dask, Spark and Ray write.
 *
 * Every problem with a file (not Parquet/Arrow, truncated, a missing column, a column of the wrong type, rows of
 * different lengths) is a BAD_FILE naming the file and the column.
 */
import { closeSync, fchmodSync, fsyncSync, openSync, readSync, readdirSync, renameSync, statSync, unlinkSync, fstatSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parquetMetadata, parquetRead, parquetSchema, type FileMetaData, type SchemaElement } from 'hyparquet';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import { parquetHeader } from 'hyparquet/src/column.js';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { getMaxDefinitionLevel, getMaxRepetitionLevel, getTreePath } from 'hyparquet/src/schema.js';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { writeColumn } from 'hyparquet-writer/src/column.js';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { encodeNestedValues } from 'hyparquet-writer/src/dremel.js';
import { schemaPathResolver } from 'hyparquet-writer/src/schema.js';
import type { ColumnEncoder, Writer as PqWriter } from 'hyparquet-writer/src/types.js';
import type { ColumnChunk, OffsetIndex, RowGroup, SchemaTree } from 'hyparquet';
import { endianness } from 'node:os';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { AppError } from '../../common/errors.ts';
import { fsyncDir, writeAllSync } from '../atomic-write.ts';
import { ioError } from '../io-errors.ts';
import { checkWriteTarget } from '../safe-write.ts';
import { openRegularSync, readFileSafeSync } from '../safe-read.ts';
import { config } from '../config.ts';

export type ColumnarFormat = 'parquet' | 'arrow';

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

function readArrowTable(file: string): arrow.Table {
  let bytes: Buffer;
  bytes = readFileSafeSync(file, 'columnar');
  try {
    const t = arrow.tableFromIPC(bytes);
    if (t.schema.fields.length === 0) throw new Error('no columns');
    return t;
  } catch (e) {
    throw badFile(file, `not a readable Arrow IPC file (${(e as Error).message.split('\n')[0]})`);
  }
}

const arrowTables = new WeakMap<ColumnarSource, arrow.Table>();

/** Opens a Parquet file, a folder of Parquet parts or an Arrow IPC file: its columns, rows and parts, nothing read yet. */
export function openColumnar(path: string): ColumnarSource {
  const p = resolve(path);
  const fmt = formatOf(p);
  if (fmt === 'arrow') {
    const t = readArrowTable(p);
    const parts: Part[] = [];
    let start = 0;
    t.batches.forEach((b, g) => { parts.push({ file: p, start, rows: b.numRows, group: g }); start += b.numRows; });
    const src: ColumnarSource = {
      path: p, format: 'arrow', files: [p], rows: t.numRows, parts, meta: Object.fromEntries(t.schema.metadata),
      columns: t.schema.fields.map((f) => ({ name: f.name, raw: String(f.type), ...arrowKind(f.type) })),
    };
    arrowTables.set(src, t);
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
    const t = arrowTables.get(src) ?? readArrowTable(src.path);
    for (const pi of order) {
      if (opts.signal?.aborted) throw new AppError('CANCELLED', 'reading cancelled');
      const part = src.parts[pi];
      yield finiteBatch(src.path, arrowBatch(src.path, t.batches[part.group], part, req, dims));
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

/**
 * One row group's list<float> column read page by page into one Float32Array: hyparquet's page decoding (dictionary,
 * PLAIN, BYTE_STREAM_SPLIT; v1 and v2 pages; its codecs) without its list assembly, which makes a JS array per row and
 * dominated the import (8x slower at 512-d, BENCHMARKS.md issue 22). Null (the caller falls back to the general reader)
 * unless every row is a non-null list of the same length.
 */
function readVectorChunk(file: { slice(a: number, b?: number): ArrayBuffer }, md: FileMetaData, group: number, name: string, rows: number, expectD: number | null): { X: Float32Array; d: number } | null {
  const rg = md.row_groups[group];
  const chunks = rg.columns.filter((c) => c.meta_data?.path_in_schema[0] === name);
  if (chunks.length !== 1) return null;
  const cm = chunks[0].meta_data!;
  const schemaPath = getTreePath(parquetSchema(md), cm.path_in_schema);
  if (getMaxRepetitionLevel(schemaPath) !== 1) return null;
  const maxDef = getMaxDefinitionLevel(schemaPath);
  const element = schemaPath[schemaPath.length - 1].element;
  if (element.type !== 'FLOAT' && element.type !== 'DOUBLE') return null;
  const decoder = { pathInSchema: cm.path_in_schema, element, schemaPath, type: cm.type, codec: cm.codec, parsers: DEFAULT_PARSERS } as unknown as ColumnDecoder;
  const start = Number(cm.dictionary_page_offset ?? cm.data_page_offset);
  const len = Number(cm.total_compressed_size);
  const buf = file.slice(start, start + len);
  const reader = { view: new DataView(buf), offset: 0 };
  let d = expectD ?? -1;
  let X = new Float32Array(d > 0 ? rows * d : 0);
  let pos = 0, nrows = 0, rowStart = 0;
  let dict: ArrayLike<number> | null = null;
  while (reader.offset < buf.byteLength) {
    const h = parquetHeader(reader);
    const body = new Uint8Array(buf, reader.offset, h.compressed_page_size);
    reader.offset += h.compressed_page_size;
    if (h.type === 'DICTIONARY_PAGE') {
      const page = decompressPage(body, Number(h.uncompressed_page_size), cm.codec, undefined);
      dict = readPlain({ view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 }, element.type, h.dictionary_page_header!.num_values, undefined) as ArrayLike<number>;
      continue;
    }
    let lv: { definitionLevels: ArrayLike<number>; repetitionLevels: ArrayLike<number>; dataPage: ArrayLike<unknown> };
    let encoding: string;
    if (h.type === 'DATA_PAGE') {
      const page = decompressPage(body, Number(h.uncompressed_page_size), cm.codec, undefined);
      const fast = pageLevelsV1(page, h.data_page_header!, element.type, maxDef);
      if (fast === 'nulls') return null;
      lv = fast ?? readDataPage(page, h.data_page_header!, decoder) as typeof lv;
      encoding = h.data_page_header!.encoding;
    } else if (h.type === 'DATA_PAGE_V2') {
      lv = readDataPageV2(body, h, decoder) as typeof lv;
      encoding = h.data_page_header_v2!.encoding;
    } else continue;
    // a null or empty row has a definition level below the maximum (v1 pages: hyparquet drops the levels when none is)
    const def = lv.definitionLevels;
    for (let j = 0; j < def.length; j++) if (def[j] !== maxDef) return null;
    const rep = lv.repetitionLevels;
    const vals = (dict && encoding.endsWith('_DICTIONARY') ? null : lv.dataPage) as ArrayLike<number> | null;
    const idx = vals ? null : lv.dataPage as ArrayLike<number>;
    const m = vals ? vals.length : idx!.length;
    if (rep.length !== m) return null;
    for (let j = 0; j < m; j++) {
      if (rep[j] === 0) {
        if (nrows > 0) {
          const len0 = pos + j - rowStart;
          if (d < 0) { d = len0; if (d < 1) return null; const nx = new Float32Array(rows * d); nx.set(X.subarray(0, Math.min(pos, nx.length))); X = nx; }
          if (len0 !== d) return null;
        }
        rowStart = pos + j;
        nrows++;
        if (nrows > rows) return null;
      }
    }
    if (d < 0) {
      // the first row is not over yet: hold the values until its length is known
      const grown = new Float32Array(pos + m);
      grown.set(X.subarray(0, pos));
      X = grown;
    }
    if (pos + m > X.length) return null;
    if (vals instanceof Float32Array) X.set(vals, pos);
    else if (vals) for (let j = 0; j < m; j++) X[pos + j] = vals[j];
    else for (let j = 0; j < m; j++) { const v = dict![idx![j]]; if (v === undefined) return null; X[pos + j] = v; }
    pos += m;
  }
  if (d < 0) { d = pos - rowStart; if (d < 1) return null; }
  if (nrows !== rows || pos !== rows * d || pos - rowStart !== d) return null;
  if (X.length !== rows * d) X = X.slice(0, rows * d);
  return { X, d };
}

/** One row group's vector column by the page reader alone (null where readBatches falls back to hyparquet's reader). */
export function readVectorRowGroup(path: string, group: number, name: string): { X: Float32Array; d: number } | null {
  const md = readParquetMeta(path);
  const fd = openRegularSync(path, 'columnar').fd;
  try {
    return readVectorChunk(fileBuffer(path, fd, fstatSync(fd).size), md, group, name, Number(md.row_groups[group].num_rows), null);
  } finally { closeSync(fd); }
}

/**
 * A v1 data page of a list column (max repetition level 1) with RLE levels and PLAIN or dictionary values, decoded
 * into typed arrays (hyparquet's readDataPage makes JS arrays of the levels, most of the time at 512-d). 'nulls' when
 * a row is null or empty; null for any other encoding (the caller uses readDataPage).
 */
function pageLevelsV1(page: Uint8Array, daph: { num_values: number; encoding: string; definition_level_encoding: string; repetition_level_encoding: string }, type: string | undefined, maxDef: number):
  { definitionLevels: ArrayLike<number>; repetitionLevels: Uint8Array; dataPage: ArrayLike<unknown> } | 'nulls' | null {
  if (daph.repetition_level_encoding !== 'RLE' || (maxDef > 0 && daph.definition_level_encoding !== 'RLE')) return null;
  if (daph.encoding !== 'PLAIN' && daph.encoding !== 'PLAIN_DICTIONARY' && daph.encoding !== 'RLE_DICTIONARY') return null;
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const reader = { view, offset: 0 };
  const nv = daph.num_values;
  const rep = new Uint8Array(nv);
  readRleBitPackedHybrid(reader, 1, rep);
  if (maxDef > 0) {
    const def = new Uint8Array(nv);
    readRleBitPackedHybrid(reader, 32 - Math.clz32(maxDef), def);
    for (let i = 0; i < nv; i++) if (def[i] !== maxDef) return 'nulls';
  }
  if (daph.encoding === 'PLAIN') return { definitionLevels: [], repetitionLevels: rep, dataPage: readPlain(reader, type as 'FLOAT', nv, undefined) };
  const bw = view.getUint8(reader.offset++);
  const idx = new Uint32Array(nv);
  if (bw) readRleBitPackedHybrid(reader, bw, idx, view.byteLength - reader.offset);
  return { definitionLevels: [], repetitionLevels: rep, dataPage: idx };
}

/** The asked columns of one Arrow record batch (or a table of one row group) as a Batch: vectors copied into one Float32Array. */
function arrowBatch(file: string, b: { getChild(name: string): arrow.Vector | null }, part: Part, req: ReadRequest, dims: Record<string, number | null>): Batch {
  const out: Batch = { start: part.start, n: part.rows, cols: {}, vectors: {}, lists: {} };
  for (const c of req.scalars ?? []) {
    const v = b.getChild(c)!;
    const plain = v.nullCount === 0 && (arrow.DataType.isInt(v.type) || arrow.DataType.isFloat(v.type));
    if (plain && (v.type as arrow.Int).bitWidth === 64 && arrow.DataType.isInt(v.type)) out.cols[c] = Array.from(v.toArray() as BigInt64Array, Number);
    else if (plain) out.cols[c] = v.toArray() as ArrayLike<unknown>;
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

// ---------------------------------------------------------------- writing

export interface ColSpec {
  name: string;
  type: 'string' | 'int32' | 'float64' | 'bool' | 'vector' | 'f64list';
  nullable?: boolean;
}

export type ColData = Array<unknown> | Int32Array | Float64Array | Float32Array;

function parquetSchemaOf(cols: ColSpec[]): SchemaElement[] {
  const s: SchemaElement[] = [{ name: 'root', num_children: cols.length }];
  for (const c of cols) {
    const rep = c.nullable ? 'OPTIONAL' : 'REQUIRED';
    if (c.type === 'vector' || c.type === 'f64list') {
      s.push({ name: c.name, repetition_type: rep, converted_type: 'LIST', num_children: 1 });
      s.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      s.push({ name: 'element', type: c.type === 'vector' ? 'FLOAT' : 'DOUBLE', repetition_type: 'REQUIRED' });
    } else if (c.type === 'string') s.push({ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: rep });
    else if (c.type === 'int32') s.push({ name: c.name, type: 'INT32', repetition_type: rep });
    else if (c.type === 'float64') s.push({ name: c.name, type: 'DOUBLE', repetition_type: rep });
    else s.push({ name: c.name, type: 'BOOLEAN', repetition_type: rep });
  }
  return s;
}

/** hyparquet-writer's Writer on a file descriptor: its buffer flushed to the file past 1 MB (as its own node fileWriter). */
function fdWriter(fd: number): ByteWriter {
  const w = new ByteWriter() as ByteWriter & { index: number };
  const flush = () => {
    const chunk = new Uint8Array(w.buffer, 0, w.index);
    let off = 0;
    writeAllSync(fd, chunk, 'the Parquet file');
    w.index = 0;
  };
  w.ensure = (size: number) => {
    if (w.index > 1_000_000) flush();
    if (w.index + size > w.buffer.byteLength) {
      const nb = new ArrayBuffer(Math.max(w.buffer.byteLength * 2, w.index + size));
      new Uint8Array(nb).set(new Uint8Array(w.buffer));
      w.buffer = nb;
      w.view = new DataView(nb);
    }
  };
  w.finish = () => flush();
  return w;
}

/**
 * Buffered Parquet up to this many bytes goes through parquet-wasm (its WebAssembly memory is capped at 4 GB);
 * CONSTELLATE_PARQUET_WASM_LIMIT_MB lowers it (tests force the streaming writer with 0).
 */
const WASM_WRITE_LIMIT = 768 * 1048576;
const wasmWriteLimit = (): number => { const mb = config.parquetWasmLimitMb(); return mb === null ? WASM_WRITE_LIMIT : mb * 1048576; };

/** Target bytes of one data page of the vector column (as hyparquet-writer's default page size). */
const VECTOR_PAGE_BYTES = 1 << 20;

/** An unsigned LEB128 varint (run headers of the RLE/bit-packed hybrid), of a number up to 2^53. */
function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
  out.push(v);
  return out;
}

/** One RLE run of the hybrid encoding: `count` times `value` at `bitWidth` bits (the value in ceil(bitWidth/8) bytes, LE). */
function rleRun(count: number, value: number, bitWidth: number): number[] {
  const out = varint(count * 2);
  for (let b = 0; b < Math.ceil(bitWidth / 8); b++) out.push((value >>> (8 * b)) & 0xff);
  return out;
}

/** `pattern` repeated `times` times, by doubling copies (no loop per byte). */
function repeatBytes(pattern: number[], times: number): Uint8Array {
  const p = pattern.length;
  const out = new Uint8Array(p * times);
  if (times === 0) return out;
  out.set(pattern, 0);
  let filled = p;
  while (filled < out.length) {
    const k = Math.min(filled, out.length - filled);
    out.copyWithin(filled, 0, k);
    filled += k;
  }
  return out;
}

/**
 * The column chunk of a vector column (list<float32>, no nulls, every row d values) written straight from its n x d
 * Float32Array: v1 data pages of whole rows, repetition levels as two RLE runs per row (0, then d-1 ones), definition
 * levels as one RLE run of the maximum, the values as PLAIN float32 bytes copied from the array (little-endian hosts),
 * uncompressed (float embeddings do not compress). hyparquet-writer's own page header and metadata code does the rest.
 */
function writeVectorChunk(w: PqWriter, schemaPath: SchemaTree[], X: Float32Array, n: number, d: number):
  { chunk: ColumnChunk; offsetIndex?: OffsetIndex } {
  const maxDef = getMaxDefinitionLevel(schemaPath);
  const defWidth = 32 - Math.clz32(maxDef);
  const offsetStart = w.offset;
  const perPage = Math.max(1, Math.floor(VECTOR_PAGE_BYTES / (4 * d)));
  // one row's repetition levels: a run of one 0, then a run of d - 1 ones (d = 1: the whole page is one run of zeros)
  const rowRep = d > 1 ? [...rleRun(1, 0, 1), ...rleRun(d - 1, 1, 1)] : null;
  const locations: OffsetIndex['page_locations'] = [];
  let pages = 0;
  for (let r0 = 0; r0 < n; r0 += perPage) {
    const m = Math.min(perPage, n - r0);
    const rep = rowRep ? repeatBytes(rowRep, m) : Uint8Array.from(rleRun(m, 0, 1));
    const def = Uint8Array.from(rleRun(m * d, maxDef, defWidth));
    const values = new Uint8Array(X.buffer, X.byteOffset + r0 * d * 4, m * d * 4);
    const size = 4 + rep.length + 4 + def.length + values.length;
    const pageOffset = w.offset;
    writePageHeader(w, {
      type: 'DATA_PAGE', uncompressed_page_size: size, compressed_page_size: size,
      data_page_header: { num_values: m * d, encoding: 'PLAIN', definition_level_encoding: 'RLE', repetition_level_encoding: 'RLE' },
    } as never);
    w.appendUint32(rep.length); w.appendBytes(rep);
    w.appendUint32(def.length); w.appendBytes(def);
    w.appendBytes(values);
    locations.push({ offset: BigInt(pageOffset), compressed_page_size: w.offset - pageOffset, first_row_index: BigInt(r0) });
    pages++;
  }
  const total = BigInt(w.offset - offsetStart);
  return {
    chunk: {
      meta_data: {
        type: 'FLOAT', encodings: ['PLAIN', 'RLE'], path_in_schema: schemaPath.slice(1).map((t) => t.element.name),
        codec: 'UNCOMPRESSED', num_values: BigInt(n * d), total_compressed_size: total, total_uncompressed_size: total,
        data_page_offset: BigInt(offsetStart), encoding_stats: [{ page_type: 'DATA_PAGE', encoding: 'PLAIN', count: pages }],
      },
      file_offset: BigInt(offsetStart),
    } as ColumnChunk,
    offsetIndex: locations.length > 1 ? { page_locations: locations } : undefined,
  };
}

/** hyparquet-writer's ParquetWriter state that a row group written here (not through its write()) updates. */
type PqState = ParquetWriter & {
  writer: PqWriter; schema: SchemaElement[]; codec: ColumnEncoder['codec']; compressors: ColumnEncoder['compressors'];
  statistics: boolean; row_groups: RowGroup[]; num_rows: bigint; pendingIndexes: unknown[];
};

/**
 * One row group as hyparquet-writer's write() makes it, but the vector columns' pages written by writeVectorChunk
 * (n = 0: a row group of no rows, which arrow-rs needs to read a file of no rows: without one it misreads the lists).
 */
function writeGroupPages(pqw: ParquetWriter, resolvePath: (path: string[]) => SchemaTree[], cols: ColSpec[], data: Record<string, ColData>, n: number): void {
  const pq = pqw as PqState;
  const w = pq.writer;
  const groupStart = w.offset;
  const columns: ColumnChunk[] = [];
  for (const c of cols) {
    const leaf = resolvePath([c.name]);
    while (leaf[leaf.length - 1].children.length) leaf.push(leaf[leaf.length - 1].children[0]);
    if (c.type === 'vector') {
      const X = data[c.name] as Float32Array;
      const r = writeVectorChunk(w, leaf, X, n, n ? X.length / n : 1);
      columns.push(r.chunk);
      pq.pendingIndexes.push(r);
      continue;
    }
    const schemaPath = leaf.map((t) => t.element);
    const column = {
      columnName: schemaPath.slice(1).map((e) => e.name).join('.'), element: schemaPath[schemaPath.length - 1], schemaPath,
      codec: pq.codec, compressors: pq.compressors, stats: pq.statistics, pageSize: 1048576, columnIndex: false, offsetIndex: true,
    } as ColumnEncoder;
    const r = writeColumn({ writer: w, column, pageData: encodeNestedValues(leaf as never, data[c.name] as never) });
    columns.push(r.chunk);
    pq.pendingIndexes.push(r);
  }
  let total = 0n;
  for (const ch of columns) total += ch.meta_data?.total_uncompressed_size ?? 0n;
  pq.num_rows += BigInt(n);
  pq.row_groups.push({ columns, total_byte_size: total, num_rows: BigInt(n), total_compressed_size: BigInt(w.offset - groupStart) });
  w.flush?.();
}

/**
 * Writes batches of rows to a new Parquet or Arrow file: a temp file next to it, published by rename when finished
 * (a failed or cancelled write leaves nothing). Parquet: written by parquet-wasm (arrow-rs) in one go while the rows
 * fit its memory (40x faster than hyparquet-writer's own encoding here, BENCHMARKS.md), beyond that streamed one row
 * group per batch (memory: one batch) through hyparquet-writer, its vector columns' pages written straight from the
 * Float32Array (writeVectorChunk: 1,000,000 x 512 in seconds, not the dremel encoder's minutes). Arrow: one table,
 * written at the end.
 */
export class ColumnarWriter {
  private rows = 0;
  private bytes = 0;
  private maxBatch = 0;
  private batches: Array<Record<string, ColData>> = [];
  private ns: number[] = [];
  private pq: ParquetWriter | null = null;
  private fd = -1;
  private readonly tmp: string;
  private limit = wasmWriteLimit();
  private vectorPages = endianness() === 'LE';
  private resolvePath: ((path: string[]) => SchemaTree[]) | null = null;
  /** the replaced file's permission bits, kept */
  private mode: number | null = null;
  private constructor(readonly file: string, readonly format: ColumnarFormat, readonly cols: ColSpec[], readonly meta: Record<string, string>, readonly d: number) {
    this.tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`);
  }

  /**
   * `streaming`: Parquet through hyparquet-writer, one row group per batch, whatever the size. `dremelVectors`: the
   * streaming writer encodes vector columns through hyparquet-writer's dremel encoder (a JS array per row, 40x slower;
   * for benchmarks and tests) instead of writing their pages straight from the Float32Array.
   */
  static async create(file: string, format: ColumnarFormat, cols: ColSpec[], opts: { meta?: Record<string, string>; d?: number; streaming?: boolean; dremelVectors?: boolean; what?: string; protect?: string[] } = {}): Promise<ColumnarWriter> {
    // the one writer's checks: never over a library, a protected file (a bundle's manifest), a non-file or under /proc
    const target = checkWriteTarget(file, { what: opts.what, protect: opts.protect });
    const w = new ColumnarWriter(resolve(file), format, cols, { 'constellate.writer': 'constellate', ...(opts.meta ?? {}) }, opts.d ?? 0);
    w.mode = target.mode;
    if (opts.streaming) w.limit = 0;
    if (opts.dremelVectors) w.vectorPages = false;
    if (format === 'parquet') w.fd = openSync(w.tmp, 'wx');
    return w;
  }

  /** n rows: per column an array (null where nullable) or a typed array; vectors as one n x d Float32Array. */
  write(data: Record<string, ColData>, n: number): void {
    if (n === 0) return;
    this.rows += n;
    this.maxBatch = Math.max(this.maxBatch, n);
    if (this.format === 'arrow' || !this.pq) {
      this.batches.push(data);
      this.ns.push(n);
      for (const c of this.cols) this.bytes += c.type === 'vector' ? (data[c.name] as Float32Array).byteLength : n * (c.type === 'string' ? 64 : c.type === 'f64list' ? 48 : 8);
      if (this.format === 'arrow' || this.bytes < this.limit) return;
      // too large for parquet-wasm: stream everything so far and the rest through hyparquet-writer
      this.pq = new ParquetWriter({
        writer: fdWriter(this.fd), schema: parquetSchemaOf(this.cols) as never, createdBy: 'constellate',
        kvMetadata: Object.entries(this.meta).map(([key, value]) => ({ key, value })),
      });
      const pending = this.batches, ns = this.ns;
      this.batches = []; this.ns = [];
      pending.forEach((b, i) => this.writeGroup(b, ns[i]));
      return;
    }
    this.writeGroup(data, n);
  }

  private writeGroup(data: Record<string, ColData>, n: number): void {
    const fast = this.vectorPages && this.cols.some((c) => c.type === 'vector')
      && this.cols.every((c) => c.type !== 'vector' || ((data[c.name] as Float32Array).length % n === 0 && (data[c.name] as Float32Array).length > 0));
    if (fast) { this.writeGroupPages(data, n); return; }
    const columnData = this.cols.map((c) => {
      const v = data[c.name];
      if (c.type === 'vector') {
        const X = v as Float32Array;
        const d = X.length / n;
        // hyparquet-writer's dremel encoder takes a plain array per row
        return { name: c.name, data: Array.from({ length: n }, (_, i) => Array.from(X.subarray(i * d, (i + 1) * d))) };
      }
      return { name: c.name, data: v as unknown[] };
    });
    this.pq!.write({ columnData: columnData as never, rowGroupSize: n });
  }

  private writeGroupPages(data: Record<string, ColData>, n: number): void {
    this.resolvePath ??= schemaPathResolver((this.pq as PqState).schema);
    writeGroupPages(this.pq!, this.resolvePath, this.cols, data, n);
  }

  private arrowTable(): arrow.Table {
    const vectors: Record<string, arrow.Vector> = {};
    for (const c of this.cols) {
      const parts = this.batches.map((b) => b[c.name]);
      let v: arrow.Vector;
      if (c.type === 'vector') {
        const X = concatF32(parts as Float32Array[]);
        const d = this.d || (this.rows ? X.length / this.rows : 0);
        const type = new arrow.FixedSizeList(d, new arrow.Field('item', new arrow.Float32(), false));
        v = arrow.makeVector(arrow.makeData({ type, length: this.rows, nullCount: 0, child: arrow.makeData({ type: new arrow.Float32(), length: X.length, data: X }) }));
      } else {
        const all: unknown[] = [];
        for (const p of parts) for (let i = 0; i < p.length; i++) all.push((p as ArrayLike<unknown>)[i]);
        const type = c.type === 'string' ? new arrow.Utf8() : c.type === 'int32' ? new arrow.Int32() : c.type === 'float64' ? new arrow.Float64()
          : c.type === 'bool' ? new arrow.Bool() : new arrow.List(new arrow.Field('item', new arrow.Float64(), false));
        v = arrow.vectorFromArray(all as never, type as never) as arrow.Vector;
      }
      vectors[c.name] = v;
    }
    const table = new arrow.Table(vectors);
    for (const [k, val] of Object.entries(this.meta)) table.schema.metadata.set(k, val);
    return table;
  }

  finish(): { file: string; rows: number } {
    try {
      if (this.format === 'parquet' && this.pq) {
        this.pq.finish();
        this.seal();
      } else if (this.format === 'parquet') {
        const props = new pw.WriterPropertiesBuilder().setMaxRowGroupSize(Math.max(1, this.maxBatch)).setCompression(pw.Compression.SNAPPY)
          .setCreatedBy('constellate (parquet-wasm)').setKeyValueMetadata(new Map(Object.entries(this.meta))).build();
        const bytes = this.rows === 0 ? emptyParquet(this.cols, this.meta) : pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(this.arrowTable(), 'stream')), props);
        writeAllSync(this.fd, bytes, this.tmp);
        this.seal();
      } else {
        const bytes = arrow.tableToIPC(this.arrowTable(), 'file');
        this.fd = openSync(this.tmp, 'wx');
        writeAllSync(this.fd, bytes, this.tmp);
        this.seal(bytes.length);
      }
      this.batches = [];
      renameSync(this.tmp, this.file);
      try { fsyncDir(dirname(this.file)); } catch { /* best effort */ }
      return { file: this.file, rows: this.rows };
    } catch (e) {
      this.abort();
      throw ioError(this.file, e);
    }
  }

  /** The checked atomic write's end: permissions kept, fsynced, size verified, closed (the caller renames). */
  private seal(expected?: number): void {
    if (this.mode !== null) fchmodSync(this.fd, this.mode);
    fsyncSync(this.fd);
    const size = fstatSync(this.fd).size;
    if (expected !== undefined && size !== expected) throw Object.assign(new Error(`size ${size} instead of ${expected}`), { code: 'EIO' });
    closeSync(this.fd); this.fd = -1;
  }

  abort(): void {
    if (this.fd >= 0) { try { closeSync(this.fd); } catch { /* ignore */ } this.fd = -1; }
    try { unlinkSync(this.tmp); } catch { /* not there */ }
  }
}

/**
 * A Parquet file of no rows with the columns' schema (hyparquet-writer: parquet-wasm wants a row to infer nothing from),
 * holding one row group of no rows (arrow-rs misreads the list column of a file with no row group).
 */
function emptyParquet(cols: ColSpec[], meta: Record<string, string>): Uint8Array {
  const w = new ByteWriter();
  const schema = parquetSchemaOf(cols);
  const pq = new ParquetWriter({ writer: w, schema: schema as never, createdBy: 'constellate', kvMetadata: Object.entries(meta).map(([key, value]) => ({ key, value })) });
  const none: Record<string, ColData> = Object.fromEntries(cols.map((c) => [c.name, c.type === 'vector' ? new Float32Array(0) : []]));
  writeGroupPages(pq, schemaPathResolver(schema as never), cols, none, 0);
  pq.finish();
  return new Uint8Array(w.getBuffer());
}

function concatF32(parts: Float32Array[]): Float32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
