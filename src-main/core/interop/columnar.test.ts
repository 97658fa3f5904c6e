/**
 * The Parquet vector reader (columnar.ts): list<float> columns read page by page into one Float32Array. Checked against
 * the values written, for files from two writers (parquet-wasm / arrow-rs, and hyparquet-writer), with dictionary and
 * PLAIN pages, several pages per column chunk, float64 lists, and the rows it must refuse (different lengths, null).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../testing/fixtures.ts';
import { openColumnar, readBatches, readVectorRowGroup } from './columnar.ts';
import { ColumnarWriter } from './columnar-write.ts';

const t = tempDir('constellate-columnar-');
afterAll(() => t.cleanup());

function rows(n: number, d: number, seed: number, levels = 0): Float32Array {
  let s = seed >>> 0;
  const X = new Float32Array(n * d);
  for (let i = 0; i < X.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    X[i] = levels ? Math.floor((s / 4294967296) * levels) / levels : s / 4294967296 - 0.5;
  }
  return X;
}

function fixedList(X: Float32Array, n: number, d: number): arrow.Vector {
  return arrow.makeVector(arrow.makeData({
    type: new arrow.FixedSizeList(d, new arrow.Field('item', new arrow.Float32(), false)), length: n, nullCount: 0,
    child: arrow.makeData({ type: new arrow.Float32(), length: n * d, data: X }),
  }));
}

function writeWasm(file: string, table: arrow.Table, props: pw.WriterProperties): void {
  writeFileSync(file, pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), props));
}

async function readAll(file: string, col = 'embedding'): Promise<{ X: Float32Array; d: number; ids: unknown[] }> {
  const src = openColumnar(file);
  const parts: Float32Array[] = [];
  const ids: unknown[] = [];
  let d = 0;
  for await (const b of readBatches(src, { scalars: ['id'], vectors: [col] })) { parts.push(b.vectors[col].X); d = b.vectors[col].d; ids.push(...Array.from(b.cols.id)); }
  const X = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { X.set(p, o); o += p.length; }
  return { X, d, ids };
}

describe('Parquet vectors read page by page', () => {
  it('arrow-rs files: fixed-size lists, PLAIN and dictionary pages, several pages and row groups, read bit for bit by the page reader', async () => {
    const n = 1000, d = 64;
    const cases: Array<[string, Float32Array, pw.WriterProperties]> = [
      // random values: the dictionary outgrows its limit and the writer falls back to PLAIN pages
      ['plain', rows(n, d, 1), new pw.WriterPropertiesBuilder().setMaxRowGroupSize(300).setDataPageSizeLimit(4096).setWriteBatchSize(7).build()],
      // 8 distinct values: dictionary-encoded pages throughout
      ['dict', rows(n, d, 2, 8), new pw.WriterPropertiesBuilder().setMaxRowGroupSize(300).setDataPageSizeLimit(4096).build()],
      ['snappy', rows(n, d, 3), new pw.WriterPropertiesBuilder().setMaxRowGroupSize(512).setCompression(pw.Compression.SNAPPY).build()],
      ['v2', rows(n, d, 4), new pw.WriterPropertiesBuilder().setMaxRowGroupSize(512).setWriterVersion(pw.WriterVersion.V2).setDataPageSizeLimit(8192).build()],
    ];
    for (const [name, X, props] of cases) {
      const file = join(t.dir, `${name}.parquet`);
      writeWasm(file, new arrow.Table({ id: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => `photo:${i + 1}`), new arrow.Utf8()), embedding: fixedList(X, n, d) }), props);
      const src = openColumnar(file);
      expect(src.parts.length, name).toBeGreaterThan(1);
      let o = 0;
      for (let g = 0; g < src.parts.length; g++) {
        const r = readVectorRowGroup(file, g, 'embedding');
        expect(r, `${name} row group ${g}`).not.toBeNull();
        expect(r!.d).toBe(d);
        expect(Array.from(r!.X)).toEqual(Array.from(X.subarray(o, o + r!.X.length)));
        o += r!.X.length;
      }
      expect(o).toBe(n * d);
      const all = await readAll(file);
      expect(all.d).toBe(d);
      expect(Array.from(all.X)).toEqual(Array.from(X));
      expect(all.ids[n - 1]).toBe(`photo:${n}`);
    }
  });

  it('hyparquet-writer files (variable lists, the streaming writer) and float64 lists', async () => {
    const n = 500, d = 24;
    const X = rows(n, d, 5);
    const file = join(t.dir, 'ours-streamed.parquet');
    const w = await ColumnarWriter.create(file, 'parquet', [{ name: 'id', type: 'string' }, { name: 'embedding', type: 'vector' }], { d, streaming: true });
    for (let r0 = 0; r0 < n; r0 += 200) { const m = Math.min(200, n - r0); w.write({ id: Array.from({ length: m }, (_, i) => `photo:${r0 + i + 1}`), embedding: X.subarray(r0 * d, (r0 + m) * d) }, m); }
    w.finish();
    expect(openColumnar(file).parts.length).toBe(3);
    expect(readVectorRowGroup(file, 2, 'embedding')).not.toBeNull();
    expect(Array.from((await readAll(file)).X)).toEqual(Array.from(X));
    // float64 values (a variable list of doubles), narrowed to float32 as the import stores them
    const f64 = join(t.dir, 'f64.parquet');
    const D = Float64Array.from(X);
    const list = arrow.vectorFromArray(Array.from({ length: n }, (_, i) => Array.from(D.subarray(i * d, (i + 1) * d))), new arrow.List(new arrow.Field('item', new arrow.Float64(), false)));
    writeWasm(f64, new arrow.Table({ id: arrow.vectorFromArray(Array.from({ length: n }, (_, i) => `photo:${i + 1}`), new arrow.Utf8()), embedding: list }), new pw.WriterPropertiesBuilder().setMaxRowGroupSize(200).build());
    expect(readVectorRowGroup(f64, 0, 'embedding')).not.toBeNull();
    expect(Array.from((await readAll(f64)).X)).toEqual(Array.from(X));
  });

  it('rows of different lengths, an empty row and a null row are BAD_FILE naming the column (the page reader leaves them to the general reader)', async () => {
    const mk = (name: string, data: Array<number[] | null>) => {
      const file = join(t.dir, `${name}.parquet`);
      const v = arrow.vectorFromArray(data, new arrow.List(new arrow.Field('item', new arrow.Float32(), false)));
      writeWasm(file, new arrow.Table({ id: arrow.vectorFromArray(data.map((_, i) => `photo:${i + 1}`), new arrow.Utf8()), embedding: v }), new pw.WriterPropertiesBuilder().build());
      return file;
    };
    const good = [1, 2, 3, 4];
    const cases: Array<[string, Array<number[] | null>, RegExp]> = [
      ['ragged', [good, good, [1, 2, 3], good], /column 'embedding': rows have different lengths/],
      ['ragged-last', [good, good, good, [1, 2, 3, 4, 5]], /column 'embedding': rows have different lengths/],
      ['empty', [good, [], good], /column 'embedding'/],
      ['null', [good, null, good], /column 'embedding': row 2 has no vector/],
    ];
    for (const [name, data, msg] of cases) {
      const file = mk(name, data);
      expect(readVectorRowGroup(file, 0, 'embedding'), name).toBeNull();
      await expect(readAll(file), name).rejects.toMatchObject({ code: 'BAD_FILE' });
      await expect(readAll(file), name).rejects.toThrow(msg);
    }
  });
});

describe('the streaming writer writes vector pages straight from the Float32Array', () => {
  /** parquet-wasm (arrow-rs), a second implementation: its table's ids and vectors */
  function readWasm(file: string): { n: number; ids: unknown[]; X: Float32Array; d: number; type: arrow.DataType | undefined } {
    const tb = arrow.tableFromIPC(pw.readParquet(readFileSync(file)).intoIPCStream());
    const emb = tb.getChild('embedding');
    const type = emb?.type;
    const n = tb.numRows;
    const rowsOut: Float32Array[] = [];
    for (let i = 0; i < n; i++) rowsOut.push(Float32Array.from((emb!.get(i) as arrow.Vector).toArray() as Float32Array));
    const d = rowsOut[0]?.length ?? 0;
    const X = new Float32Array(n * d);
    rowsOut.forEach((r, i) => { expect(r.length).toBe(d); X.set(r, i * d); });
    return { n, ids: Array.from(tb.getChild('id')?.toArray() ?? []), X, d, type };
  }

  async function write(file: string, X: Float32Array, n: number, d: number, batch: number, dremelVectors = false): Promise<void> {
    const w = await ColumnarWriter.create(file, 'parquet', [{ name: 'id', type: 'string' }, { name: 'embedding', type: 'vector' }], { d, streaming: true, dremelVectors });
    for (let r0 = 0; r0 < n; r0 += batch) {
      const m = Math.min(batch, n - r0);
      w.write({ id: Array.from({ length: m }, (_, i) => `photo:${r0 + i + 1}`), embedding: X.subarray(r0 * d, (r0 + m) * d) }, m);
    }
    w.finish();
  }

  const cases: Array<[string, number, number, number]> = [
    // name, n, d, rows per batch (= per row group)
    ['d512-groups', 1200, 512, 500], // 512 rows a page: several pages per row group, a short last group
    ['d3-groups', 1000, 3, 333],
    ['d1', 70, 1, 30], // one value a row: the repetition levels are all zeros
    ['one-row', 1, 512, 10],
    ['one-row-d3', 1, 3, 10],
  ];
  for (const [name, n, d, batch] of cases) {
    it(`${name}: n=${n}, d=${d}, row groups of ${batch}: parquet-wasm and hyparquet read the values written, bit for bit`, async () => {
      const X = rows(n, d, 11 + d);
      const file = join(t.dir, `fast-${name}.parquet`);
      await write(file, X, n, d, batch);
      const src = openColumnar(file);
      expect(src.parts.length).toBe(Math.ceil(n / batch));
      expect(src.rows).toBe(n);
      // hyparquet: the project's import path (page reader), and hyparquet's own general reader
      for (let g = 0; g < src.parts.length; g++) expect(readVectorRowGroup(file, g, 'embedding'), `group ${g}`).not.toBeNull();
      const ours = await readAll(file);
      expect(ours.d).toBe(d);
      expect(Array.from(ours.X)).toEqual(Array.from(X));
      expect(ours.ids).toEqual(Array.from({ length: n }, (_, i) => `photo:${i + 1}`));
      const general = await parquetReadObjects({ file: await asyncBufferFromFile(file), columns: ['embedding'] });
      expect(general.length).toBe(n);
      const G = new Float32Array(n * d);
      general.forEach((r, i) => G.set(r.embedding as number[], i * d));
      expect(Array.from(G)).toEqual(Array.from(X));
      // arrow-rs
      const wasm = readWasm(file);
      expect(wasm.n).toBe(n);
      expect(wasm.d).toBe(d);
      expect(Array.from(wasm.X)).toEqual(Array.from(X));
      expect(wasm.ids).toEqual(ours.ids);
      // declared a fixed-size list of float32 (ARROW:schema), as LanceDB, Hugging Face datasets and Ray write vectors
      expect(arrow.DataType.isFixedSizeList(wasm.type!), String(wasm.type)).toBe(true);
      expect((wasm.type as arrow.FixedSizeList).listSize).toBe(d);
      expect(String((wasm.type as arrow.FixedSizeList).children[0].type)).toBe('Float32');
    });
  }

  it('0 rows: both readers see the columns and no rows', async () => {
    const file = join(t.dir, 'fast-empty.parquet');
    await write(file, new Float32Array(0), 0, 512, 100);
    expect(openColumnar(file).rows).toBe(0);
    expect((await readAll(file)).X.length).toBe(0);
    const tb = arrow.tableFromIPC(pw.readParquet(readFileSync(file)).intoIPCStream());
    expect(tb.numRows).toBe(0);
    expect(tb.schema.fields.map((f) => f.name)).toEqual(['id', 'embedding']);
  });

  it('the same values as the dremel writer (hyparquet-writer encoding each value), in a file of similar size', async () => {
    const n = 300, d = 7;
    const X = rows(n, d, 99);
    const a = join(t.dir, 'fast-pages.parquet'), b = join(t.dir, 'fast-dremel.parquet');
    await write(a, X, n, d, 128);
    await write(b, X, n, d, 128, true);
    expect(Array.from((await readAll(a)).X)).toEqual(Array.from((await readAll(b)).X));
    expect(Array.from(readWasm(a).X)).toEqual(Array.from(readWasm(b).X));
    // the vector pages are uncompressed float32 (4 bytes a value) plus a few bytes of levels a row
    expect(statSync(a).size).toBeLessThan(n * d * 4 + n * 8 + 8192);
  });
});
