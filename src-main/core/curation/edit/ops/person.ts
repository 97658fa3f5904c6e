import { badArg } from '../../../../common/errors.ts';
import { decide, defineOp, snapshot } from './op.ts';

/** A person's hidden flag and/or avatar face, on the cluster and on its library group (kept across runs). */
export default defineOp({
  type: 'person',
  describe: (op, L) => [op.hidden === undefined ? '' : `${op.hidden ? 'hide' : 'unhide'} ${L(op.cluster)}`, op.avatar === undefined ? '' : `${op.avatar === null ? 'reset the avatar of' : `choose face ${op.avatar} as the avatar of`} ${L(op.cluster)}`].filter(Boolean).join(', ') || `no change to ${L(op.cluster)}`,
  plan(ctx, op, cs) {
    snapshot(ctx, cs, [op.cluster]);
    const r = ctx.repo.cluster(ctx.runId, op.cluster)!;
    if (op.avatar !== undefined && op.avatar !== null && ctx.repo.clusterOf(ctx.runId, op.avatar) !== op.cluster) {
      throw badArg('avatar', `face ${op.avatar} is not in cluster ${op.cluster} of run ${ctx.runId}`);
    }
    const ch = cs.clusters[0];
    Object.assign(ch.before!, { hidden: r.hidden, avatar: r.avatar });
    // only the fields the op sets are written forward (redo writes them to the group linked then)
    const set: { hidden?: number; avatar?: number | null } = {};
    if (op.hidden !== undefined) set.hidden = op.hidden ? 1 : 0;
    // hiding a person decides its faces as they are (the next run keeps them together, hidden, named or not)
    if (op.hidden) decide(ctx, cs, 'person', ctx.repo.members(ctx.runId, op.cluster), { keep: true });
    if (op.avatar !== undefined) set.avatar = op.avatar;
    Object.assign(ch.after, set);
    const g = r.group_id !== null ? ctx.repo.group(r.group_id) : undefined;
    cs.groups.push({ cluster: op.cluster, group: r.group_id, before: { hidden: g?.hidden ?? null, avatar: g?.avatar ?? null }, after: set });
  },
  names: (op) => [op.cluster],
});
