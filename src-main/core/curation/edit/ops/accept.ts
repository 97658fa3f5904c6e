import { after, defineOp, snapshot } from './op.ts';

/** A cluster marked (or unmarked) as curated. */
export default defineOp({
  type: 'accept',
  describe: (op, L) => (op.curated === false ? `unmark ${L(op.cluster)} as curated` : `accept ${L(op.cluster)} as curated`),
  plan(ctx, op, cs) {
    snapshot(ctx, cs, [op.cluster]);
    after(cs, op.cluster).curated = op.curated === false ? 0 : 1;
  },
});
