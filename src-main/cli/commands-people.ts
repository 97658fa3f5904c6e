/** People and faces: people of a run, a person's suggestion queue, merge suggestions. */
import { AppError } from '../common/errors.ts';
import type { AppApi } from '../common/api.ts';
import { PEOPLE_SORTS } from '../common/schema-kit.ts';
import type { CliContext } from './context.ts';
import type { Command } from './command.ts';

function runOf(ctx: CliContext, cmd: string): number {
  const runId = ctx.opt<number>('run');
  if (runId === undefined) throw new AppError('BAD_ARGUMENT', `--run: give the run id (constellate ${cmd} --run ID)`);
  if (!Number.isInteger(runId) || runId < 1) throw new AppError('BAD_ARGUMENT', `--run: expected a run id (an integer >= 1), got ${runId}`);
  return runId;
}

const people: Command = {
  spec: {
    name: 'people', summary: 'the people of a face run: cluster, name, size, hidden (search, sort)', positionals: [0, 0],
    usage: `constellate people --run ID [--search TEXT] [--sort ${PEOPLE_SORTS.join('|')}] [--hidden] [--library F] [--json]`,
    options: {
      run: { type: 'number', help: 'run id' },
      search: { type: 'string', help: 'names containing this (case-insensitive)' },
      sort: { type: 'string', help: 'name | size (default) | recent (most recently changed first)' },
      hidden: { type: 'flag', help: 'include hidden people' },
    },
  },
  async run(ctx) {
    const runId = runOf(ctx, 'people');
    const sort = ctx.opt<string>('sort');
    if (sort !== undefined && !(PEOPLE_SORTS as readonly string[]).includes(sort)) throw new AppError('BAD_ARGUMENT', `--sort: expected ${PEOPLE_SORTS.join(', ')}, got ${sort}`);
    const rows = (await ctx.api({ readFallback: true }).listPeople({ runId, search: ctx.opt<string>('search'), sort: sort as (typeof PEOPLE_SORTS)[number] | undefined, includeHidden: !!ctx.opt('hidden') }))
      .map((p) => ({ cluster: p.cluster, name: p.name, size: p.size, hidden: p.hidden, curated: p.curated, avatar: p.avatar, changedAt: p.changedAt }));
    ctx.out(rows, rows.map((p) => `${String(p.cluster).padStart(5)}  ${String(p.size).padStart(6)}  ${p.hidden ? 'hidden' : '      '}  ${p.name ?? ''}`).join('\n') || 'no people');
  },
};

/** The cluster a --person name means (refused when unknown or ambiguous), or --cluster. */
export async function personCluster(api: AppApi, runId: number, name: string | undefined, cluster: number | undefined): Promise<number> {
  if ((name === undefined) === (cluster === undefined)) throw new AppError('BAD_ARGUMENT', '--person: give --person NAME or --cluster C (one of them)');
  if (cluster !== undefined) {
    if (!Number.isInteger(cluster) || cluster < 0) throw new AppError('BAD_ARGUMENT', `--cluster: expected a cluster id (an integer >= 0), got ${cluster}`);
    return cluster;
  }
  const all = await api.listPeople({ runId, includeHidden: true });
  const want = name!.trim().toLowerCase();
  const hits = all.filter((p) => p.name !== null && p.name.trim().toLowerCase() === want);
  if (hits.length === 0) {
    const named = all.filter((p) => p.name).map((p) => p.name!).sort();
    throw new AppError('NOT_FOUND', `--person: no person named '${name}' in run ${runId} (people: ${named.slice(0, 10).join(', ') || 'none named'}${named.length > 10 ? ', ...' : ''})`);
  }
  if (hits.length > 1) throw new AppError('BAD_ARGUMENT', `--person: '${name}' is ambiguous in run ${runId}: clusters ${hits.map((p) => p.cluster).sort((a, b) => a - b).join(', ')} have that name; give --cluster C`);
  return hits[0].cluster;
}

const suggestions: Command = {
  spec: {
    name: 'suggestions', summary: 'a person\'s suggestion queue: unassigned and low-confidence faces most likely theirs, best first (never below the identity threshold)', positionals: [0, 0],
    usage: 'constellate suggestions --run ID (--person NAME | --cluster C) [--limit N] [--threshold SIM] [--margin M] [--library F] [--json]',
    options: {
      run: { type: 'number', help: 'run id' },
      person: { type: 'string', help: 'the person\'s name (refused when two people have it: give --cluster)' },
      cluster: { type: 'number', help: 'the person\'s cluster' },
      limit: { type: 'number', help: 'suggestions at most (default 50)' },
      threshold: { type: 'number', help: 'at least this similarity (default and floor: the model\'s identity threshold)' },
      margin: { type: 'number', help: 'over the second-best person (default 0.05)' },
    },
  },
  async run(ctx) {
    const runId = runOf(ctx, 'suggestions');
    const api = ctx.api({ readFallback: true });
    await api.getRun({ runId });
    const cluster = await personCluster(api, runId, ctx.opt<string>('person'), ctx.opt<number>('cluster'));
    const r = await api.getSuggestions({ runId, cluster, limit: ctx.opt<number>('limit'), threshold: ctx.opt<number>('threshold'), margin: ctx.opt<number>('margin') });
    const lines = [`${r.name ?? `cluster ${r.cluster}`} (run ${r.runId}): ${r.suggestions.length} suggestion(s) at or above ${r.threshold.toFixed(3)} (${r.thresholdFrom}), margin ${r.margin}`];
    for (const s of r.suggestions) lines.push(`  ${s.similarity.toFixed(3)}  face ${s.item}  ${s.source.padEnd(6)}  ${s.path}`);
    ctx.out(r, lines.join('\n'));
  },
};

const mergeSuggestions: Command = {
  spec: {
    name: 'merge-suggestions', summary: 'pairs of people probably one identity, by average linkage (above the identity threshold)', positionals: [0, 0],
    usage: 'constellate merge-suggestions --run ID [--limit N] [--library F] [--json]',
    options: { run: { type: 'number', help: 'run id' }, limit: { type: 'number', help: 'pairs at most (default 50)' } },
  },
  async run(ctx) {
    const runId = runOf(ctx, 'merge-suggestions');
    const r = await ctx.api({ readFallback: true }).getMergeSuggestions({ runId, limit: ctx.opt<number>('limit') });
    const lbl = (p: { cluster: number; name: string | null }) => p.name ?? `cluster ${p.cluster}`;
    ctx.out(r, [`run ${runId}: ${r.suggestions.length} pair(s) at or above ${r.threshold.toFixed(3)}`, ...r.suggestions.map((s) => `  ${s.similarity.toFixed(3)}  ${lbl(s.a)} + ${lbl(s.b)}`)].join('\n'));
  },
};

const learn: Command = {
  spec: {
    name: 'learn', summary: 'learn a metric for the run\'s model from the explicit decisions of the run (confirmed and rejected suggestions, moves, split parts); the queues then use it', positionals: [0, 0],
    usage: 'constellate learn --run ID [--library F] [--json]',
    options: { run: { type: 'number', help: 'run id' } },
  },
  async run(ctx) {
    const runId = runOf(ctx, 'learn');
    const r = await ctx.api().learn({ runId });
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
    ctx.out(r, `run ${runId}: learned a ${r.dims}-d metric for ${r.model} (version ${r.version}) from ${r.pairs} decision(s) in ${r.seconds} s; held out ${r.heldOut}: accuracy ${pct(r.before)} before, ${pct(r.after)} after${r.used ? "" : " (not used: no better than the model's own)"}`);
  },
};

const recluster: Command = {
  spec: {
    name: 'recluster', summary: 'move the run\'s undecided items (noise, unnamed groups) to the named groups its learned metric gives them, and regroup the rest there; one undoable edit', positionals: [0, 0],
    usage: 'constellate recluster --run ID [--threshold SIM] [--margin M] [--library F] [--json]',
    options: {
      run: { type: 'number', help: 'run id' },
      threshold: { type: 'number', help: 'an item joins a named group from this similarity in the learned metric (default: the queues\' 0.5)' },
      margin: { type: 'number', help: 'over every other group (default 0.05)' },
    },
  },
  async run(ctx) {
    const runId = runOf(ctx, 'recluster');
    const r = await ctx.api().editRun({ runId, op: { type: 'recluster', threshold: ctx.opt<number>('threshold'), margin: ctx.opt<number>('margin') } });
    const moved = r.recluster?.moved ?? 0, regrouped = r.recluster?.regrouped ?? 0;
    ctx.out({ runId, editId: r.editId, moved, regrouped, clusters: r.clusters, description: r.description ?? '' },
      `run ${runId}: ${moved} undecided item(s) moved to named groups, ${regrouped} regrouped among the unnamed ones (edit ${r.editId}; undo takes it back)`);
  },
};

export const peopleCommands: Command[] = [people, suggestions, mergeSuggestions, learn, recluster];
