import { defineOp, nonEmpty, notInRun, plural } from './op.ts';

/** Suggested faces rejected for a person: remembered, never suggested to them again (members are not moved). */
export default defineOp({
  type: 'reject-suggestions',
  describe: (op, L) => `reject ${plural(op.items.length, 'suggestion')} for ${L(op.cluster)}`,
  plan(ctx, op, cs) {
    nonEmpty(op.items, 'face');
    if (op.cluster < 0 || !ctx.repo.clusterExists(ctx.runId, op.cluster)) throw notInRun(op.cluster, ctx.runId);
    const group = ctx.repo.cluster(ctx.runId, op.cluster)!.group_id;
    for (const it of new Set(op.items)) if (!ctx.repo.hasReject(ctx.runId, op.cluster, it)) cs.remembered.push({ kind: 'reject', cluster: op.cluster, item: it, group });
  },
  names: (op) => [op.cluster],
});
