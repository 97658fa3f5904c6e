import { AppError, badArg } from '../../../../common/errors.ts';
import { itemStatesRepo } from '../../../store/item-states.ts';
import { defineOp, snapshot } from './op.ts';

/**
 * The undecided items re-clustered in the learned metric, by a plan computed (in a worker) before the edit
 * (../../recluster.ts): items go to named groups or among the unnamed ones; nothing is decided (they stay placed by
 * the run), and undo puts every one back.
 */
export default defineOp({
  type: 'recluster',
  describe: () => 'move the undecided items to the groups the learned metric gives them',
  plan(ctx, op, cs) {
    const plan = ctx.recluster;
    if (!plan) throw badArg('op', 'the re-clustering was not computed');
    const states = itemStatesRepo(ctx.db);
    const moves = [...plan.moves, ...plan.regrouped];
    if (!moves.length) throw new AppError('CONFLICT', `nothing to re-cluster in run ${ctx.runId}: no undecided item of the noise or an unnamed group reaches a named group${op.threshold === undefined ? '' : ` at ${op.threshold}`}, and the unnamed groups stay as they are`);
    // the plan was made from the run as it was: if an edit moved or decided one of its items meanwhile, refuse
    for (const [it, from, to] of moves) {
      if (ctx.repo.clusterOf(ctx.runId, it) !== from || states.get(ctx.runId, it) !== null) {
        throw new AppError('CONFLICT', `item ${it} changed while the run was being re-clustered; re-cluster again`);
      }
      if (!ctx.repo.clusterExists(ctx.runId, to)) throw new AppError('CONFLICT', `cluster ${to} is no longer in run ${ctx.runId}; re-cluster again`);
      cs.items.push([it, from, to]);
    }
    const touched = [...new Set(moves.flatMap(([, from, to]) => [from, to]))];
    snapshot(ctx, cs, touched.filter((c) => c >= 0));
    cs.refresh.push(...touched);
  },
});
