import { itemStatesRepo, type ItemDecision } from '../../../store/item-states.ts';
import { defineOp, itemsIn, nonEmpty, plural } from './op.ts';

/** Members whose decisions are forgotten: back to "placed by the run", where they are (nothing moves); undo restores how each was decided. */
export default defineOp({
  type: 'forget-decisions',
  describe: (op) => `forget the decisions on ${plural(new Set(op.items).size, 'item')}: placed by the run again`,
  plan(ctx, op, cs) {
    nonEmpty(op.items);
    itemsIn(ctx, op.items); // every one a member of the run (NOT_FOUND names the first that is not)
    const states = itemStatesRepo(ctx.db);
    const items: number[] = [], before: ItemDecision[] = [];
    for (const it of new Set(op.items)) {
      const b = states.get(ctx.runId, it);
      if (b !== null) { items.push(it); before.push(b); }
    }
    if (items.length) cs.decided.push({ how: null, items, before });
  },
});
