/** Library settings (migration 5's settings table): key -> JSON value, with defaults. */
import { isAbsolute, resolve } from 'node:path';
import { badArg } from '../../common/errors.ts';
import type { LibrarySettings } from '../../common/types.ts';
import type { Db } from './db.ts';

export const DEFAULT_SETTINGS: LibrarySettings = { autoAssign: false, watch: false, watchModels: ['face'], faceMinQuality: null, faceExcludedFolders: [], learnInBackground: true };

export function readSettings(db: Db): LibrarySettings {
  const out: LibrarySettings = { ...DEFAULT_SETTINGS, watchModels: [...DEFAULT_SETTINGS.watchModels], faceExcludedFolders: [] };
  let rows: Array<{ key: string; value: string }> = [];
  try { rows = db.prepare('SELECT key, value FROM settings').all() as typeof rows; } catch { return out; }
  for (const r of rows) {
    if (!(r.key in out)) continue;
    try { (out as unknown as Record<string, unknown>)[r.key] = JSON.parse(r.value); } catch { /* a damaged value keeps its default */ }
  }
  return out;
}

export function writeSettings(db: Db, o: Partial<LibrarySettings>): LibrarySettings {
  if (!o || typeof o !== 'object') throw badArg('options', 'expected {autoAssign?, watch?, watchModels?}');
  const up = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  db.transaction(() => {
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      if (!(k in DEFAULT_SETTINGS)) throw badArg(k, 'is not a library setting');
      if (k === 'faceMinQuality' && v !== null && !(typeof v === 'number' && v >= 0)) throw badArg(k, `expected a number >= 0 or null, got ${JSON.stringify(v)}`);
      if (k === 'faceExcludedFolders') {
        if (!Array.isArray(v) || v.some((f) => typeof f !== 'string' || !isAbsolute(f))) throw badArg(k, 'expected a list of absolute folder paths');
        up.run(k, JSON.stringify([...new Set((v as string[]).map((f) => resolve(f)))]));
        continue;
      }
      up.run(k, JSON.stringify(v));
    }
  })();
  return readSettings(db);
}
