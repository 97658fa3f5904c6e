import type { EditOp } from '../../../../common/types.ts';
import { moveTo } from './move.ts';
import { decide, defineOp, nonEmpty, plural } from './op.ts';

/** Items out of their clusters, to noise. */
export default defineOp({
  type: 'reject',
  describe: (op) => `reject ${plural(op.items.length, 'item')} (to noise)`,
  plan(ctx, op, cs) {
    nonEmpty(op.items);
    moveTo(ctx, cs, op.items, -1);
    decide(ctx, cs, 'moved', op.items);
    // v0.2 logged (and answered) a reject with its target, as a move
    return { op: { ...op, to: -1 } as EditOp };
  },
});
