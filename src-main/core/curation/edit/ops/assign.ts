import { defineOp, plural } from './op.ts';

/** New items placed by `assign` (each to its cluster, -1: unassigned, for review): written by applyAssign, not by editRun. */
export default defineOp({
  type: 'assign',
  describe: (op) => `assign ${plural(op.items.length, 'new item')}`,
});
