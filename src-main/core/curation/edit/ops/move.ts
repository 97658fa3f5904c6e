import type { EditOp } from '../../../../common/types.ts';
import type { ChangeSet } from '../change-set.ts';
import { decide, defineOp, itemsIn, nonEmpty, notInRun, plural, quote, snapshot, type OpContext } from './op.ts';

/** Items moved to a cluster, or to noise (reject): the sources the move empties keep their names for undo. */
export function moveTo(ctx: OpContext, cs: ChangeSet, items: number[], to: number): void {
  const from = itemsIn(ctx, items);
  for (const [it, c] of from) if (c !== to) { cs.items.push([it, c, to]); cs.refresh.push(c); }
  snapshot(ctx, cs, [...new Set(cs.items.map(([, c]) => c as number))].filter((c) => c >= 0));
  cs.refresh.push(to);
}

/** Items moved by hand to a cluster, or to a new one (optionally named: a new person). */
export default defineOp({
  type: 'move',
  describe: (op, L) => `move ${plural(op.items.length, 'item')} to ${op.to === 'new' ? (op.name ? `a new cluster ${quote(op.name)}` : 'a new cluster') : L(op.to)}`,
  plan(ctx, op, cs) {
    nonEmpty(op.items);
    let to = op.to;
    if (to === 'new') {
      to = ctx.repo.nextCluster(ctx.runId);
      cs.clusters.push({ cluster: to, before: null, after: { name: op.name ?? null } });
    } else if (typeof to !== 'number' || !ctx.repo.clusterExists(ctx.runId, to)) throw notInRun(String(to), ctx.runId);
    moveTo(ctx, cs, op.items, to);
    decide(ctx, cs, op.to === 'new' ? 'person' : 'moved', op.items);
    return { op: { ...op, to } as EditOp };
  },
});
