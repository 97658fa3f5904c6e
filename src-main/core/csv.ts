/**
 * The one CSV reader and writer (RFC 4180, through csv-parse / csv-stringify): ids files, labels files and export
 * tables. Quoted fields may hold commas, quotes and line breaks (a photo path with a comma is one field).
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

/** Every non-empty row of a CSV text as its fields (rows may differ in length; a BOM is dropped). */
export function readCsv(text: string): string[][] {
  return parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: true }) as string[][];
}

/** One CSV line (no line break) of the given fields; null and undefined are empty fields. */
export function csvRow(fields: ReadonlyArray<string | number | null | undefined>): string {
  return stringify([fields.map((v) => (v === null || v === undefined ? '' : String(v)))]).replace(/\r?\n$/, '');
}
