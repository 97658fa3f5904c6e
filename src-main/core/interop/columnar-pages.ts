/**
 * Parquet pages of a vector column read straight into a Float32Array (the fast path of the columnar reader,
 * core/interop/columnar.ts).
 */
import { parquetSchema, type FileMetaData } from 'hyparquet';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import { parquetHeader } from 'hyparquet/src/column.js';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { getMaxDefinitionLevel, getMaxRepetitionLevel, getTreePath } from 'hyparquet/src/schema.js';

/**
 * One row group's list<float> column read page by page into one Float32Array: hyparquet's page decoding (dictionary,
 * PLAIN, BYTE_STREAM_SPLIT; v1 and v2 pages; its codecs) without its list assembly, which makes a JS array per row and
 * dominated the import (8x slower at 512-d, BENCHMARKS.md). Null (the caller falls back to the general reader)
 * unless every row is a non-null list of the same length.
 */
export function readVectorChunk(file: { slice(a: number, b?: number): ArrayBuffer }, md: FileMetaData, group: number, name: string, rows: number, expectD: number | null): { X: Float32Array; d: number } | null {
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
