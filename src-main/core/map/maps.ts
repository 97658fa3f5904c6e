/** Maps in the library (per model and method), and the map job. Coordinates travel as typed arrays, never per-point JSON. */
import type { MapOutput, MapParams } from '../../algo/map/run.ts';
import { AppError, badArg } from '../../common/errors.ts';
import type { ItemKind, MapData, MapInfo } from '../../common/types.ts';
import { mapSetting, mapSettingKey } from '../../common/map-setting.ts';
import { loadMatrix } from '../store/embeddings.ts';
import { readSnapshot, type JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import type { Db } from '../store/db.ts';
import { runTask } from '../workers/pool.ts';
import type { MapTaskPayload } from './map-task.ts';

export interface MapSpec { model: string; params: MapParams }

function blobTo<T extends Float32Array | Int32Array>(b: Buffer, C: { new(n: number): T; BYTES_PER_ELEMENT: number }): T {
  const out = new C(b.byteLength / C.BYTES_PER_ELEMENT);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export async function mapJob(lib: Library, spec: MapSpec, ctx: JobContext, onFrame?: (xy: Float32Array, ids: Int32Array, stage: string, done: number, total: number) => void): Promise<MapInfo & { seconds: number }> {
  ctx.progress('load', 0, 1);
  const m = readSnapshot(lib.db, () => loadMatrix(lib.db, spec.model)); // one consistent copy
  ctx.progress('load', 1, 1);
  const out = await runTask('map', { X: m.X, n: m.n, d: m.d, params: spec.params } satisfies MapTaskPayload, {
    signal: ctx.signal,
    onProgress: (stage, done, total, extra) => {
      ctx.progress(stage, done, total);
      if (extra instanceof Float32Array) onFrame?.(extra, m.ids, stage, done, total);
    },
  });
  ctx.checkCancelled();
  // one map per model and setting: a map of the same setting is replaced (in the same transaction)
  const key = mapSettingKey(spec.params);
  const insert = lib.db.prepare('INSERT INTO maps (model, method, params, n, ids, xy, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const id = lib.db.transaction(() => {
    for (const old of listMaps(lib.db).filter((x) => x.model === spec.model && x.settingKey === key)) lib.db.prepare('DELETE FROM maps WHERE id = ?').run(old.id);
    return Number(insert.run(spec.model, spec.params.method, JSON.stringify({ ...spec.params, seconds: out.seconds }), m.n,
      Buffer.from(m.ids.buffer, m.ids.byteOffset, m.ids.byteLength), Buffer.from(out.xy.buffer, out.xy.byteOffset, out.xy.byteLength), Date.now()).lastInsertRowid);
  }).immediate();
  return { ...getMapInfo(lib.db, id), seconds: out.seconds };
}

interface MapRow { id: number; model: string; method: string; params: string; n: number; created_at: number }

function toInfo(r: MapRow): MapInfo {
  const params = JSON.parse(r.params) as Record<string, unknown>;
  const p = { ...params, method: r.method } as MapParams;
  return { id: r.id, model: r.model, method: r.method as MapInfo['method'], params, setting: mapSetting(p), settingKey: mapSettingKey(p), n: r.n, createdAt: r.created_at };
}

export function getMapInfo(db: Db, id: number): MapInfo {
  const r = db.prepare('SELECT id, model, method, params, n, created_at FROM maps WHERE id = ?').get(id) as MapRow | undefined;
  if (!r) throw new AppError('NOT_FOUND', `map ${id} does not exist`);
  return toInfo(r);
}

export function listMaps(db: Db): MapInfo[] {
  return (db.prepare('SELECT id, model, method, params, n, created_at FROM maps ORDER BY id DESC').all() as MapRow[]).map(toInfo);
}

/** The newest map of a model and method, or a map by id; coordinates and item ids as typed arrays. */
export function getMapData(db: Db, q: { id?: number; model?: string; method?: string; setting?: MapParams }): MapData {
  let row: (MapRow & { ids: Buffer; xy: Buffer }) | undefined;
  if (q.id !== undefined) row = db.prepare('SELECT * FROM maps WHERE id = ?').get(q.id) as typeof row;
  else if (q.setting) {
    if (!q.model) throw badArg('model', 'give the model of the map');
    const key = mapSettingKey(q.setting);
    const found = listMaps(db).find((m) => m.model === q.model && m.settingKey === key);
    if (!found) throw new AppError('NOT_FOUND', `no map of ${q.model} with the setting ${key} yet (compute it with computeMap)`);
    row = db.prepare('SELECT * FROM maps WHERE id = ?').get(found.id) as typeof row;
  } else {
    if (!q.model) throw badArg('model', 'give a map id or a model');
    row = db.prepare(`SELECT * FROM maps WHERE model = ? AND (? IS NULL OR method = ?) ORDER BY id DESC LIMIT 1`).get(q.model, q.method ?? null, q.method ?? null) as typeof row;
  }
  if (!row) throw new AppError('NOT_FOUND', `no map ${q.id !== undefined ? q.id : `of ${q.model}${q.method ? ` (${q.method})` : ''}`} yet`);
  const kind = (db.prepare('SELECT kind FROM models WHERE name = ?').pluck().get(row.model) as ItemKind | undefined) ?? 'photo';
  return { ...toInfo(row), kind, ids: blobTo(row.ids, Int32Array), xy: blobTo(row.xy, Float32Array) };
}
