import { AppError, badArg } from '../../../../common/errors.ts';
import { after, decide, defineOp, listOf, plural, quote, snapshot } from './op.ts';

/**
 * A cluster split into given parts (a previewed split, or a brushed selection), each optionally named. Every member
 * placed: the first part keeps the cluster (and its name, unless it is given one); else every part is new.
 */
export default defineOp({
  type: 'split-parts',
  describe: (op, L) => `split ${L(op.cluster)} in ${op.parts.length + (op.parts.length === 1 ? 1 : 0)}${op.parts.some((p) => p.name) ? ` (${listOf(op.parts.filter((p) => p.name).map((p) => quote(p.name!)))})` : ''}`,
  plan(ctx, op, cs) {
    if (!Array.isArray(op.parts) || op.parts.length === 0) throw badArg('parts', 'give at least one part');
    if (op.cluster < 0) throw badArg('cluster', 'split a cluster, not the noise');
    snapshot(ctx, cs, [op.cluster]);
    const members = new Set(ctx.repo.members(ctx.runId, op.cluster));
    const seen = new Set<number>();
    for (const [pi, p] of op.parts.entries()) {
      if (!Array.isArray(p.items) || p.items.length === 0) throw badArg(`parts.${pi}.items`, 'a part has at least one item');
      for (const it of p.items) {
        if (seen.has(it)) throw badArg(`parts.${pi}.items`, `item ${it} is in more than one part`);
        if (!members.has(it)) throw new AppError('CONFLICT', `item ${it} is not in cluster ${op.cluster} (any more); preview the split again`);
        seen.add(it);
      }
    }
    const keepFirst = seen.size === members.size;
    if (keepFirst && op.parts.length < 2) throw badArg('parts', 'one part holding every member is no split');
    let next = ctx.repo.nextCluster(ctx.runId);
    op.parts.forEach((p, pi) => {
      const name = p.name?.trim() || '';
      let to: number;
      if (pi === 0 && keepFirst) {
        to = op.cluster;
        if (name) after(cs, op.cluster).name = name;
      } else {
        to = next++;
        cs.clusters.push({ cluster: to, before: null, after: { name: name || null } });
      }
      for (const it of p.items) if (to !== op.cluster) cs.items.push([it, op.cluster, to]);
      if (name) decide(ctx, cs, 'split', p.items);
    });
    cs.refresh.push(op.cluster, ...cs.clusters.filter((c) => c.before === null).map((c) => c.cluster));
  },
  names: (op) => [op.cluster],
});
