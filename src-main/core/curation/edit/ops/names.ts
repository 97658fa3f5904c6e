import { after, decide, defineOp, plural, snapshot } from './op.ts';

/** Several clusters named and/or marked curated at once (import labels, bulk accept); a name given decides the members. */
export default defineOp({
  type: 'names',
  describe: (op) => {
    const named = op.clusters.filter((c) => c.name !== undefined).length;
    const cur = op.clusters.filter((c) => c.curated !== undefined).length;
    const what = [named ? `name ${plural(named, 'group')}` : '', cur ? `mark ${plural(cur, 'group')} ${op.clusters.some((c) => c.curated === false) ? 'curated/uncurated' : 'curated'}` : ''].filter(Boolean).join(', ');
    return `${op.source ? `${op.source}: ` : ''}${what || 'no change'}`;
  },
  plan(ctx, op, cs) {
    snapshot(ctx, cs, [...new Set(op.clusters.map((c) => c.cluster))]);
    const named = new Set<number>();
    for (const c of op.clusters) {
      const a = after(cs, c.cluster);
      if (c.name !== undefined) a.name = c.name === null ? null : c.name.trim() || null;
      if (c.curated !== undefined) a.curated = c.curated ? 1 : 0;
      cs.refresh.push(c.cluster);
      if (c.name !== undefined) { if (a.name) named.add(c.cluster); else named.delete(c.cluster); }
    }
    decide(ctx, cs, 'named', [...named].flatMap((c) => ctx.repo.members(ctx.runId, c)), { keep: true });
  },
});
