/**
 * Search the library's items: by group name (in a run), folder, date range and file name, combined with AND; the
 * result is a selection (every matching id as a typed array, plus the first page as item views). Text search (CLIP's
 * text encoder next to the image encoder) ranks the items that pass those filters: text-search.ts.
 */
import { basename } from 'node:path';
import { badArg } from '../../common/errors.ts';
import type { SearchOptions, SearchResult } from '../../common/api.ts';
import { getRun } from '../store/runs.ts';
import type { Db } from '../store/db.ts';
import { searchRows, type SearchFilter } from '../store/items.ts';
import { itemViews } from './items.ts';

function dateMs(name: string, v: string, end: boolean): number {
  // a day (YYYY-MM-DD) covers the whole day: `to` is its end
  const day = /^\d{4}-\d\d-\d\d$/.test(v);
  const t = Date.parse(day ? `${v}T00:00:00Z` : v);
  if (!Number.isFinite(t)) throw badArg(name, `expected a date (YYYY-MM-DD or an ISO time), got ${JSON.stringify(v)}`);
  return day && end ? t + 86_400_000 - 1 : t;
}

/** Whether the search has any filter besides text. */
export function hasFilters(o: SearchOptions): boolean {
  return o.group !== undefined || o.folder !== undefined || o.fileName !== undefined || o.from !== undefined || o.to !== undefined;
}

/** The ids (in id order) of the items that pass the filters (group, folder, dates, file name). */
export function filteredIds(db: Db, o: SearchOptions): number[] {
  const kind = o.kind;
  const filter: SearchFilter = {};
  if (o.group !== undefined) {
    if (o.runId === undefined) throw badArg('runId', 'searching by group name needs a run');
    const run = getRun(db, o.runId);
    if (run.kind !== kind) throw badArg('kind', `run ${o.runId} groups ${run.kind}s`);
    filter.group = { runId: o.runId, name: o.group };
  }
  if (o.folder !== undefined) filter.folder = o.folder;
  if (o.from !== undefined || o.to !== undefined) {
    // the photo's date: EXIF taken_at when it has one, else the file's mtime (store/items.ts)
    const lo = o.from === undefined ? -8.64e15 : dateMs('from', o.from, false);
    const hi = o.to === undefined ? 8.64e15 : dateMs('to', o.to, true);
    if (lo > hi) throw badArg('from', `${o.from} is after ${o.to}`);
    filter.dateMs = [Math.round(lo), Math.round(hi)];
  }
  const rows = searchRows(db, kind, filter);
  const needle = o.fileName?.toLowerCase();
  return needle === undefined ? rows.map((r) => r[0]) : rows.filter((r) => basename(r[1]).toLowerCase().includes(needle)).map((r) => r[0]);
}

export function searchItems(db: Db, o: SearchOptions): SearchResult {
  if (!hasFilters(o)) throw badArg('options', 'give at least one of group, folder, fileName, from, to, text');
  const ids = filteredIds(db, o);
  const limit = Math.min(o.limit ?? 200, 5000);
  return { kind: o.kind, total: ids.length, ids: Int32Array.from(ids), items: itemViews(db, o.kind, ids.slice(0, limit), o.runId) };
}
