/** What the UI shows of a run's items: members of a cluster, the review queue, item views. */
import { AppError } from '../../common/errors.ts';
import type { ItemKind, ItemView, Page } from '../../common/types.ts';
import { getRun } from '../store/runs.ts';
import type { Db } from '../store/db.ts';
import { clusterMemberCount, clusterMemberRows, itemViewRows, reviewQueueCount, reviewQueueRows, type ItemViewRow } from '../store/items.ts';
import type { MEMBER_ORDERS } from '../../common/schema-kit.ts';

function toView(r: ItemViewRow): ItemView {
  return {
    item: r.item, kind: r.kind, photoId: r.photoId, path: r.path, folder: r.folder, thumb: r.thumb,
    box: r.x === null ? null : [r.x, r.y!, r.w!, r.h!], cluster: r.cluster ?? null, sim: r.sim ?? null,
  };
}

/** Views of items of a kind, with their cluster in a run when given; unknown ids are left out. */
export function itemViews(db: Db, kind: ItemKind, ids: number[], runId?: number): ItemView[] {
  if (ids.length > 5000) throw new AppError('BAD_ARGUMENT', 'items: at most 5000 at a time');
  const rows = itemViewRows(db, kind, ids, runId);
  const byId = new Map(rows.map((r) => [r.item, toView(r)]));
  return ids.map((id) => byId.get(id)).filter((v): v is ItemView => !!v);
}

/** Members of a cluster (or noise, -1), most similar to the centroid first (or least, with order 'asc'). */
export function clusterMembers(db: Db, runId: number, cluster: number, offset = 0, limit = 200, order: (typeof MEMBER_ORDERS)[number] = 'desc'): Page<ItemView> {
  const run = getRun(db, runId);
  const total = clusterMemberCount(db, runId, cluster);
  const rows = clusterMemberRows(db, run.kind, runId, cluster, order, Math.min(5000, Math.max(1, limit)), Math.max(0, offset));
  return { total, offset, items: rows.map(toView) };
}

/** The review queue: noise first, then members with the lowest similarity to their centroid. */
export function reviewQueue(db: Db, runId: number, offset = 0, limit = 200, maxSim = 0.6): Page<ItemView> {
  const run = getRun(db, runId);
  const total = reviewQueueCount(db, runId, maxSim);
  const rows = reviewQueueRows(db, run.kind, runId, maxSim, Math.min(5000, Math.max(1, limit)), Math.max(0, offset));
  return { total, offset, items: rows.map(toView) };
}
