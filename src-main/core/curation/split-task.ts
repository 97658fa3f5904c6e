/**
 * The split preview's numeric half (services/people.ts previewSplit routes to it): the figures of each proposed part
 * of a cluster (its size, its members' mean similarity to its centre, the members nearest the centre: ./people.ts
 * partOf) on the cluster's vectors, which come in shared memory and are normalized here, in a worker.
 */
import type { SplitPart } from '../../common/types.ts';
import { AppError } from '../../common/errors.ts';
import { normalizeRowsInPlace } from '../../algo/linalg.ts';
import { partOf } from './people.ts';
import type { TaskContext } from '../workers/tasks.ts';

export interface SplitPartsPayload {
  /** the cluster's vectors, one row per member (not normalized) */
  X: Float32Array; n: number; d: number;
  /** the members' item ids, in the rows' order */
  items: Int32Array;
  /** the parts, as row indices (empty ones are left out of the result) */
  groups: number[][];
}

export async function splitPartsTask(p: SplitPartsPayload, ctx: TaskContext): Promise<{ result: { parts: SplitPart[] } }> {
  const { n, d, items } = p;
  const Xn = normalizeRowsInPlace(Float32Array.from(p.X.subarray(0, n * d)), n, d);
  const parts: SplitPart[] = [];
  for (const g of p.groups) {
    if (g.length === 0) continue;
    if (ctx.isCancelled()) throw new AppError('CANCELLED', 'split preview: cancelled');
    const rows = new Float32Array(g.length * d);
    g.forEach((i, j) => rows.set(Xn.subarray(i * d, (i + 1) * d), j * d));
    parts.push(partOf(g.map((i) => items[i]), rows, d));
  }
  return { result: { parts } };
}
