import { AppError, badArg } from '../../../../common/errors.ts';
import { defineOp, snapshot } from './op.ts';

/** A cluster split by a sub-clustering computed (in a worker) before the edit: the largest part keeps the cluster. */
export default defineOp({
  type: 'split',
  describe: (op, L) => `split ${L(op.cluster)} in ${op.k ?? 2}`,
  plan(ctx, op, cs) {
    const split = ctx.split;
    if (!split) throw badArg('split', 'the split labels were not computed');
    snapshot(ctx, cs, [op.cluster]);
    // the parts were computed from the members as they were then: if another edit changed the cluster meanwhile,
    // applying them would undo that edit's moves; refuse instead
    const current = ctx.repo.members(ctx.runId, op.cluster);
    const planned = [...split.items].sort((a, b) => a - b);
    if (current.length !== planned.length || current.some((it, i) => it !== planned[i])) {
      throw new AppError('CONFLICT', `cluster ${op.cluster} changed while it was being split; split it again`);
    }
    const labels = Array.from(split.labels);
    const groups = [...new Set(labels)].filter((l) => l >= 0).sort((a, b) => a - b);
    if (groups.length < 2) throw new AppError('CONFLICT', `cluster ${op.cluster} did not split: its members form one group`);
    const sizes = groups.map((g) => labels.filter((l) => l === g).length);
    const keep = groups[sizes.indexOf(Math.max(...sizes))];
    const newId = new Map<number, number>();
    let next = ctx.repo.nextCluster(ctx.runId);
    for (const g of groups) if (g !== keep) newId.set(g, next++);
    for (const c of newId.values()) cs.clusters.push({ cluster: c, before: null, after: { name: null } });
    split.items.forEach((it, i) => {
      const l = labels[i];
      const to = l < 0 ? -1 : l === keep ? op.cluster : newId.get(l)!;
      if (to !== op.cluster) cs.items.push([it, op.cluster, to]);
    });
    cs.refresh.push(op.cluster, -1, ...newId.values());
  },
});
