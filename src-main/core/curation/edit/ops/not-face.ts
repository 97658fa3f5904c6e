import { AppError, badArg } from '../../../../common/errors.ts';
import { getRun } from '../../../store/runs.ts';
import { decide, defineOp, nonEmpty, plural, snapshot } from './op.ts';

/** Faces that are not faces: out of the run's people (to noise), remembered by photo and box so a rescan skips them. */
export default defineOp({
  type: 'not-face',
  describe: (op) => `mark ${plural(op.items.length, 'face')} as not a face`,
  plan(ctx, op, cs) {
    nonEmpty(op.items, 'face');
    if (getRun(ctx.db, ctx.runId).kind !== 'face') throw badArg('runId', `run ${ctx.runId} is not a face run`);
    for (const it of new Set(op.items)) {
      const f = ctx.repo.faceBox(it);
      if (!f) throw new AppError('NOT_FOUND', `face ${it} does not exist`);
      if (!ctx.repo.isNotFace(it)) cs.remembered.push({ kind: 'not-face', face: it, hash: f.hash, box: [f.x, f.y, f.w, f.h] });
      const c = ctx.repo.clusterOf(ctx.runId, it);
      if (c !== undefined && c !== -1) { cs.items.push([it, c, -1]); cs.refresh.push(c); }
    }
    snapshot(ctx, cs, [...new Set(cs.items.map(([, c]) => c as number))]);
    cs.refresh.push(-1);
    decide(ctx, cs, 'not-face', cs.items.map(([it]) => it));
  },
});
