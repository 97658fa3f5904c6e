/** Maps in the library (per model and method), and the map job. Coordinates travel as typed arrays, never per-point JSON. */
import type { MapOutput, MapParams } from '../../algo/map/run.ts';
import { AppError, badArg } from '../../common/errors.ts';
import type { ItemKind, MapData, MapInfo } from '../../common/types.ts';
import { mapSetting, mapSettingKey } from '../../common/map-setting.ts';
import { loadMatrix } from '../store/embeddings.ts';
import { readSnapshot, type JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import type { Db } from '../store/db.ts';
import { deleteMap, mapDataById, mapInserter, mapRow, mapRows, modelKindOf, newestMapData, type MapDataRow, type MapRow } from '../store/maps.ts';
import { runTask } from '../workers/pool.ts';
import type { MapTaskPayload } from './map-task.ts';

// the contract's (common/jobs.ts)
import type { MapSpec } from '../../common/jobs.ts';
export type { MapSpec };

/** The model's vectors through its learned metric (rows by ascending item id), when the metric is used: the map is made of them. */
export interface MetricRows { ids: Int32Array; X: Float32Array; d: number; version: number }

function blobTo<T extends Float32Array | Int32Array>(b: Buffer, C: { new(n: number): T; BYTES_PER_ELEMENT: number }): T {
  const out = new C(b.byteLength / C.BYTES_PER_ELEMENT);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export async function mapJob(lib: Library, spec: MapSpec, ctx: JobContext, onFrame?: (xy: Float32Array, ids: Int32Array, stage: string, done: number, total: number) => void,
  metric: MetricRows | null = null): Promise<MapInfo & { seconds: number }> {
  ctx.progress('load', 0, 1);
  // (in a learned metric: its rows, with the metric's version kept in the map's parameters)
  const m = metric ? { ids: metric.ids, X: metric.X, n: metric.ids.length, d: metric.d } : readSnapshot(lib.db, () => loadMatrix(lib.db, spec.model)); // one consistent copy
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
  const insert = mapInserter(lib.db);
  const id = lib.db.transaction(() => {
    for (const old of listMaps(lib.db).filter((x) => x.model === spec.model && x.settingKey === key)) deleteMap(lib.db, old.id);
    return insert({ model: spec.model, method: spec.params.method, params: JSON.stringify({ ...spec.params, seconds: out.seconds, ...(metric ? { metric: metric.version } : {}) }), n: m.n,
      ids: Buffer.from(m.ids.buffer, m.ids.byteOffset, m.ids.byteLength), xy: Buffer.from(out.xy.buffer, out.xy.byteOffset, out.xy.byteLength), createdAt: Date.now() });
  }).immediate();
  return { ...getMapInfo(lib.db, id), seconds: out.seconds };
}

function toInfo(r: MapRow): MapInfo {
  const params = JSON.parse(r.params) as Record<string, unknown>;
  const p = { ...params, method: r.method } as MapParams;
  return { id: r.id, model: r.model, method: r.method as MapInfo['method'], params, setting: mapSetting(p), settingKey: mapSettingKey(p), n: r.n, createdAt: r.created_at };
}

export function getMapInfo(db: Db, id: number): MapInfo {
  const r = mapRow(db, id);
  if (!r) throw new AppError('NOT_FOUND', `map ${id} does not exist`);
  return toInfo(r);
}

export function listMaps(db: Db): MapInfo[] {
  return mapRows(db).map(toInfo);
}

/** The newest map of a model and method, or a map by id; coordinates and item ids as typed arrays. */
export function getMapData(db: Db, q: { id?: number; model?: string; method?: string; setting?: MapParams }): MapData {
  let row: MapDataRow | undefined;
  if (q.id !== undefined) row = mapDataById(db, q.id);
  else if (q.setting) {
    if (!q.model) throw badArg('model', 'give the model of the map');
    const key = mapSettingKey(q.setting);
    const found = listMaps(db).find((m) => m.model === q.model && m.settingKey === key);
    if (!found) throw new AppError('NOT_FOUND', `no map of ${q.model} with the setting ${key} yet (compute it with computeMap)`);
    row = mapDataById(db, found.id);
  } else {
    if (!q.model) throw badArg('model', 'give a map id or a model');
    row = newestMapData(db, q.model, q.method ?? null);
  }
  if (!row) throw new AppError('NOT_FOUND', `no map ${q.id !== undefined ? q.id : `of ${q.model}${q.method ? ` (${q.method})` : ''}`} yet`);
  const kind = (modelKindOf(db, row.model) as ItemKind | undefined) ?? 'photo';
  return { ...toInfo(row), kind, ids: blobTo(row.ids, Int32Array), xy: blobTo(row.xy, Float32Array) };
}
