import { badArg } from '../../../../common/errors.ts';
import { defineOp, notInRun } from './op.ts';

/** Two people are not the same: remembered, never offered as a merge suggestion again. */
export default defineOp({
  type: 'not-same',
  describe: (op, L) => `${L(op.clusters[0])} and ${L(op.clusters[1])} are not the same`,
  plan(ctx, op, cs) {
    const [a, b] = [...op.clusters].sort((x, y) => x - y) as [number, number];
    if (a === b || a < 0) throw badArg('clusters', 'give two different clusters');
    for (const c of [a, b]) if (!ctx.repo.clusterExists(ctx.runId, c)) throw notInRun(c, ctx.runId);
    const group = (c: number) => ctx.repo.cluster(ctx.runId, c)!.group_id;
    cs.remembered.push({ kind: 'not-same', a, b, groupA: group(a), groupB: group(b) });
  },
  names: (op) => [...op.clusters],
});
