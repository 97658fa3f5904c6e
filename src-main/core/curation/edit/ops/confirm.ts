import { AppError } from '../../../../common/errors.ts';
import { getRun } from '../../../store/runs.ts';
import { decide, defineOp, nonEmpty, notInRun, plural, snapshot } from './op.ts';

/** Suggested faces confirmed as a person's: members of the run move in, faces embedded after the run join it. */
export default defineOp({
  type: 'confirm',
  describe: (op, L) => `confirm ${plural(op.items.length, 'face')} as ${L(op.cluster)}`,
  plan(ctx, op, cs) {
    nonEmpty(op.items, 'face');
    if (op.cluster < 0 || !ctx.repo.clusterExists(ctx.runId, op.cluster)) throw notInRun(op.cluster, ctx.runId);
    const model = getRun(ctx.db, ctx.runId).model;
    const added: number[] = [], moved: Array<[number, number]> = [];
    for (const it of new Set(op.items)) {
      const c = ctx.repo.clusterOf(ctx.runId, it);
      if (c === undefined) {
        if (!ctx.repo.hasEmbedding(model, it)) throw new AppError('NOT_FOUND', `item ${it} has no ${model} embedding: it cannot join run ${ctx.runId}`);
        added.push(it);
      } else if (c !== op.cluster) { moved.push([it, c]); cs.refresh.push(c); }
    }
    snapshot(ctx, cs, [...new Set([op.cluster, ...moved.map(([, c]) => c)])].filter((c) => c >= 0));
    for (const it of added) cs.items.push([it, null, op.cluster]);
    for (const [it, c] of moved) cs.items.push([it, c, op.cluster]);
    cs.refresh.push(op.cluster);
    decide(ctx, cs, 'confirmed', op.items);
  },
  names: (op) => [op.cluster],
});
