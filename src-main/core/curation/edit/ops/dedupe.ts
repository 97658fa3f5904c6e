import { badArg } from '../../../../common/errors.ts';
import { defineOp, itemsIn, plural, snapshot } from './op.ts';

/** Near-duplicates resolved: per group one item kept, the rest rejected (to noise); the files to the trash is the service's part. */
export default defineOp({
  type: 'dedupe',
  describe: (op) => `keep the best of ${plural(op.groups.length, 'near-duplicate group')}, reject ${plural(op.groups.reduce((n, g) => n + g.reject.length, 0), 'item')}${op.trash ? ' (files to the trash)' : ''}`,
  plan(ctx, op, cs) {
    if (!Array.isArray(op.groups) || op.groups.length === 0) throw badArg('groups', 'give at least one group');
    const all = new Set<number>();
    const rejects: number[] = [];
    for (const g of op.groups) {
      for (const it of [g.keep, ...g.reject]) {
        if (all.has(it)) throw badArg('groups', `item ${it} is in more than one place of the groups`);
        all.add(it);
      }
      rejects.push(...g.reject);
    }
    // kept items must be in the run too (a group is about the run's items)
    itemsIn(ctx, op.groups.map((g) => g.keep));
    for (const [it, c] of itemsIn(ctx, rejects)) if (c !== -1) { cs.items.push([it, c, -1]); cs.refresh.push(c); }
    snapshot(ctx, cs, [...new Set(cs.items.map(([, c]) => c as number))].filter((c) => c >= 0));
    cs.refresh.push(-1);
  },
});
