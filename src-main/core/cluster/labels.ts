/**
 * True labels for the metrics: each item's photo folder name (`folders`), labels imported into the library
 * (`imported`), or a file mapping paths to labels (CSV `path,label[,x,y,w,h]` or JSON lines).
 */
import { readCsv } from '../csv.ts';
import { readFileSafeSync } from '../safe-read.ts';
import { dirname, isAbsolute, resolve } from 'node:path';
import { AppError } from '../../common/errors.ts';
import type { ItemKind } from '../../common/types.ts';
import { itemLabels, itemSources } from '../store/embeddings.ts';
import type { Db } from '../store/db.ts';

export interface TrueLabels {
  /** class index per item, -1 where unknown */
  labels: Int32Array;
  names: string[];
  known: number;
}

function encode(values: Array<string | null>): TrueLabels {
  const map = new Map<string, number>();
  const labels = new Int32Array(values.length);
  let known = 0;
  values.forEach((v, i) => {
    if (v === null || v === '') { labels[i] = -1; return; }
    let id = map.get(v);
    if (id === undefined) { id = map.size; map.set(v, id); }
    labels[i] = id;
    known++;
  });
  return { labels, names: [...map.keys()], known };
}

/**
 * The true labels a clustering or a sweep is measured against: `folders` (each photo's folder name), `imported` (the
 * library's imported labels) or a labels file, for the items `ids` of one kind.
 */
export function trueLabels(db: Db, kind: ItemKind, ids: Int32Array, source: string): TrueLabels {
  return source === 'folders' ? labelsFromFolders(db, kind, ids)
    : source === 'imported' ? labelsFromLibrary(db, kind, ids)
      : labelsFromFile(db, kind, ids, source);
}

export function labelsFromFolders(db: Db, kind: ItemKind, ids: Int32Array): TrueLabels {
  return encode(itemSources(db, kind, ids).folders);
}

export function labelsFromLibrary(db: Db, kind: ItemKind, ids: Int32Array): TrueLabels {
  const t = encode(itemLabels(db, kind, ids));
  if (t.known === 0) throw new AppError('NOT_FOUND', `labels: no imported labels for these ${kind}s; run constellate import-labels first`);
  return t;
}

/** Reads `path,label` rows (CSV with header, or JSON lines {"path","label"}) and maps them onto items by photo path. */
export function labelsFromFile(db: Db, kind: ItemKind, ids: Int32Array, file: string): TrueLabels {
  const text = readFileSafeSync(file, 'labels', undefined, 'utf8');
  const base = dirname(resolve(file));
  const byPath = new Map<string, string>();
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  if (!lines.length) throw new AppError('BAD_FILE', `${file}: empty labels file`);
  if (lines[0].trimStart().startsWith('{')) {
    lines.forEach((l, i) => {
      let o: { path?: unknown; label?: unknown };
      try { o = JSON.parse(l); } catch { throw new AppError('BAD_FILE', `${file}:${i + 1}: not a JSON object`); }
      if (typeof o.path !== 'string' || (typeof o.label !== 'string' && typeof o.label !== 'number')) throw new AppError('BAD_FILE', `${file}:${i + 1}: needs "path" and "label"`);
      byPath.set(isAbsolute(o.path) ? o.path : resolve(base, o.path), String(o.label));
    });
  } else {
    let rows: string[][];
    try { rows = readCsv(text); } catch (e) { throw new AppError('BAD_FILE', `${file}: not a CSV file (${(e as Error).message})`); }
    const header = rows[0].map((h) => h.trim().toLowerCase());
    const pi = header.indexOf('path'), li = header.indexOf('label');
    if (pi < 0 || li < 0) throw new AppError('BAD_FILE', `${file}: the CSV header needs 'path' and 'label' columns`);
    for (let i = 1; i < rows.length; i++) {
      const f = rows[i];
      const p = (f[pi] ?? '').trim();
      if (p) byPath.set(isAbsolute(p) ? p : resolve(base, p), (f[li] ?? '').trim());
    }
  }
  const t = encode(itemSources(db, kind, ids).paths.map((p) => byPath.get(p) ?? null));
  if (t.known === 0) throw new AppError('BAD_FILE', `${file}: none of its paths is a photo of these ${kind}s`);
  return t;
}
