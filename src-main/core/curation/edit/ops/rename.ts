import { badArg } from '../../../../common/errors.ts';
import { after, decide, defineOp, quote, snapshot } from './op.ts';

/** A cluster named (an empty name: back to "cluster N"); a name given decides its members. */
export default defineOp({
  type: 'rename',
  describe: (op, L) => `rename ${L(op.cluster)} → ${quote(op.name.trim() || `cluster ${op.cluster}`)}`,
  plan(ctx, op, cs) {
    snapshot(ctx, cs, [op.cluster]);
    const name = op.name.trim();
    if (name.length > 200) throw badArg('name', 'at most 200 characters');
    after(cs, op.cluster).name = name || null;
    if (name) decide(ctx, cs, 'named', ctx.repo.members(ctx.runId, op.cluster), { keep: true });
  },
});
