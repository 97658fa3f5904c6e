/** Exploration commands: near-duplicates that cannot chain, with keep-best / reject-the-rest. */
import { badArg } from '../common/errors.ts';
import type { CliContext } from './context.ts';
import type { Command } from './command.ts';

const neardup: Command = {
  spec: {
    name: 'neardup', summary: 'near-duplicate groups that cannot chain (every pair above the threshold); optionally keep the best of each', positionals: [0, 0],
    usage: 'constellate neardup --model NAME [--threshold 0.95] [--limit N] [--keep-best --run ID [--trash]] [--library F] [--json]',
    options: {
      model: { type: 'string', help: 'embeddings in the library (photo, face, ...)' },
      threshold: { type: 'number', help: 'cosine similarity every pair of a group reaches (default 0.95)' },
      limit: { type: 'number', help: 'at most this many groups, largest first (default 500)' },
      'keep-best': { type: 'flag', help: 'keep the best of each group by the rule, reject the rest in --run (one undoable edit)' },
      run: { type: 'number', help: 'with --keep-best: the run to reject in' },
      trash: { type: 'flag', help: 'with --keep-best: move the rejected photos\' files to the system trash (never deleted)' },
    },
  },
  async run(ctx: CliContext) {
    const model = ctx.opt<string>('model');
    if (!model) throw badArg('--model', 'is required');
    const threshold = ctx.opt<number>('threshold') ?? 0.95;
    if (!(threshold > 0 && threshold <= 1)) throw badArg('--threshold', `expected a cosine similarity in (0, 1], got ${threshold}`);
    const limit = ctx.opt<number>('limit');
    const keep = !!ctx.opt('keep-best');
    const runId = ctx.opt<number>('run');
    if (!keep && (runId !== undefined || ctx.opt('trash'))) throw badArg(runId !== undefined ? '--run' : '--trash', 'is for --keep-best');
    if (keep && runId === undefined) throw badArg('--run', 'is required with --keep-best (the run whose items are rejected)');
    const api = ctx.api({ readFallback: !keep });
    const groups = await api.nearDuplicates({ model, threshold, ...(limit !== undefined ? { limit } : {}) });
    const rows = groups.map((g) => ({ items: g.items.map((i) => ({ item: i.item, kind: i.kind, path: i.path })), minSim: g.minSim, representative: g.representative, keep: g.keep }));
    if (!keep) {
      ctx.out({ model, threshold, keepRule: groups[0]?.keepRule ?? null, groups: rows },
        rows.length ? rows.map((g) => `min ${g.minSim.toFixed(3)}  keep ${g.keep}  ${g.items.map((i) => i.path).join('  ')}`).join('\n') : `no near-duplicates at ${threshold}`);
      return;
    }
    if (groups.length === 0) { ctx.out({ model, threshold, groups: [], kept: [], rejected: [], editId: null, trashed: [] }, `no near-duplicates at ${threshold}`); return; }
    const r = await api.keepBestDuplicates({ runId: runId!, groups: groups.map((g) => ({ items: g.items.map((i) => i.item), keep: g.keep })), trash: !!ctx.opt('trash') });
    ctx.out({ model, threshold, keepRule: r.rule, groups: rows, kept: r.kept, rejected: r.rejected, editId: r.editId, trashed: r.files?.trashed ?? [] },
      `kept ${r.kept.length}, rejected ${r.rejected.length} in run ${runId} (edit ${r.editId}; undo puts the items back)` +
      (r.files ? `; ${r.files.trashed.length} files moved to the trash (restore them from the desktop's trash: only the app's own undo in the same session moves them back)` : ''));
  },
};

export const exploreCommands: Command[] = [neardup];
