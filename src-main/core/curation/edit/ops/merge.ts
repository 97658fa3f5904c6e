import { badArg } from '../../../../common/errors.ts';
import { after, defineOp, listOf, snapshot } from './op.ts';

/** Clusters merged into one (the first, or `into`); it keeps a name if it had none. */
export default defineOp({
  type: 'merge',
  describe: (op, L) => { const into = op.into ?? op.clusters[0]; return `merge ${listOf(op.clusters.filter((c) => c !== into).map(L))} into ${L(into)}`; },
  plan(ctx, op, cs) {
    if (!Array.isArray(op.clusters) || op.clusters.length < 2) throw badArg('clusters', 'merge needs at least two clusters');
    const into = op.into ?? op.clusters[0];
    if (into < 0) throw badArg('into', 'cannot merge into noise');
    snapshot(ctx, cs, [...new Set([into, ...op.clusters])]);
    for (const c of op.clusters) {
      if (c === into) continue;
      for (const it of ctx.repo.members(ctx.runId, c)) cs.items.push([it, c, into]);
      cs.refresh.push(c);
    }
    cs.refresh.push(into);
    // the merged group keeps a name if the target had none
    const named = cs.clusters.find((b) => b.before!.name && b.cluster !== into);
    if (!after(cs, into).name && named) after(cs, into).name = named.before!.name;
  },
});
