/**
 * Columnar files out: Parquet (parquet-wasm up to 768 MB of rows; beyond, hyparquet-writer streaming one row group per
 * batch, the vector pages written straight from the Float32Array) and Arrow IPC
 * files, written to a temporary file and renamed into place (the writing half of core/interop/columnar.ts).
 */
import { closeSync, fchmodSync, fstatSync, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type SchemaElement } from 'hyparquet';
import { getMaxDefinitionLevel } from 'hyparquet/src/schema.js';
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
import { fsyncDir, writeAllSync } from '../atomic-write.ts';
import { ioError } from '../io-errors.ts';
import { checkWriteTarget } from '../safe-write.ts';
import { config } from '../config.ts';
import { type ColumnarFormat } from './columnar.ts';

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

/**
 * The `ARROW:schema` key of a Parquet file (base64 of the Arrow IPC schema message, as arrow-rs and Arrow C++ write
 * it): vector columns declared FixedSizeList<float32>[d], the convention of LanceDB, Hugging Face datasets and Ray, so
 * an Arrow reader (pyarrow, arrow-rs, parquet-wasm) gets fixed-size lists back rather than variable lists. Field names
 * and nullability follow parquetSchemaOf. Null when d is not known (no rows).
 */
export function arrowSchemaKey(cols: ColSpec[], d: number): string | null {
  if (!(d > 0) && cols.some((c) => c.type === 'vector')) return null;
  const fields = cols.map((c) => {
    const nullable = !!c.nullable;
    const type = c.type === 'vector' ? new arrow.FixedSizeList(d, new arrow.Field('element', new arrow.Float32(), false))
      : c.type === 'f64list' ? new arrow.List(new arrow.Field('element', new arrow.Float64(), false))
        : c.type === 'string' ? new arrow.Utf8() : c.type === 'int32' ? new arrow.Int32() : c.type === 'float64' ? new arrow.Float64() : new arrow.Bool();
    return new arrow.Field(c.name, type as arrow.DataType, nullable);
  });
  const ipc = arrow.tableToIPC(new arrow.Table(new arrow.Schema(fields)), 'stream');
  // the first message of the stream is the schema: continuation marker, metadata length, flatbuffer (no body)
  const view = new DataView(ipc.buffer, ipc.byteOffset, ipc.byteLength);
  if (view.getUint32(0, true) !== 0xffffffff) return null;
  const len = view.getInt32(4, true);
  return Buffer.from(ipc.subarray(0, 8 + len)).toString('base64');
}

/** hyparquet-writer's Writer on a file descriptor: its buffer flushed to the file past 1 MB (as its own node fileWriter). */
function fdWriter(fd: number): ByteWriter {
  const w = new ByteWriter() as ByteWriter & { index: number };
  const flush = () => {
    const chunk = new Uint8Array(w.buffer, 0, w.index);
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
      const vec = this.cols.find((c) => c.type === 'vector');
      const arrowKey = arrowSchemaKey(this.cols, this.d || (vec ? (this.batches[0][vec.name] as Float32Array).length / this.ns[0] : 0));
      this.pq = new ParquetWriter({
        writer: fdWriter(this.fd), schema: parquetSchemaOf(this.cols) as never, createdBy: 'constellate',
        kvMetadata: [...Object.entries(this.meta).map(([key, value]) => ({ key, value })), ...(arrowKey ? [{ key: 'ARROW:schema', value: arrowKey }] : [])],
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
        const bytes = arrow.tableToIPC(inBatches(this.arrowTable(), ARROW_BATCH_BYTES), 'file');
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

/** Bytes of one record batch the Arrow writer aims at: readers (ours streams batch by batch) hold one at a time. */
const ARROW_BATCH_BYTES = 64 << 20;

/** The table cut into record batches of about `bytes` each (the rows are the same, in order). */
function inBatches(t: arrow.Table, bytes: number): arrow.Table {
  if (t.numRows === 0) return t;
  let rowBytes = 0;
  for (const f of t.schema.fields) rowBytes += arrow.DataType.isFixedSizeList(f.type) ? (f.type as arrow.FixedSizeList).listSize * 4 : 16;
  const per = Math.max(1, Math.floor(bytes / Math.max(1, rowBytes)));
  if (t.numRows <= per) return t;
  const batches: arrow.RecordBatch[] = [];
  for (let s = 0; s < t.numRows; s += per) batches.push(...t.slice(s, Math.min(t.numRows, s + per)).batches);
  return new arrow.Table(t.schema, batches);
}
