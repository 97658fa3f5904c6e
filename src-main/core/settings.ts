/** Library settings (migration 5's settings table): key -> JSON value, with defaults. */
import { badArg } from '../common/errors.ts';
import type { LibrarySettings } from '../common/types.ts';
import type { Db } from './store/db.ts';

export const DEFAULT_SETTINGS: LibrarySettings = { autoAssign: false, watch: false, watchModels: ['face'] };

export function readSettings(db: Db): LibrarySettings {
  const out: LibrarySettings = { ...DEFAULT_SETTINGS, watchModels: [...DEFAULT_SETTINGS.watchModels] };
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
      up.run(k, JSON.stringify(v));
    }
  })();
  return readSettings(db);
}
