/** Library upkeep: remove-folder, check (as git fsck), clusters (a run's groups). */
import { resolve } from 'node:path';
import { AppError } from '../common/errors.ts';
import type { Command } from './command.ts';

const removeFolder: Command = {
  spec: {
    name: 'remove-folder', summary: 'remove a folder from the library with its photos, faces, embeddings, labels and run assignments', positionals: [1, 1],
    usage: 'constellate remove-folder <folder> [--library F] [--json]', options: {},
  },
  async run(ctx) {
    const svc = ctx.api();
    const path = resolve(ctx.parsed.positionals[0]);
    const roots = await svc.listRoots();
    const root = roots.find((r) => r.path === path);
    if (!root) {
      throw new AppError('NOT_FOUND', `${path}: not a folder of this library (folders: ${roots.map((r) => r.path).join(', ') || 'none'})`);
    }
    const r = await svc.removeFolder({ rootId: root.id });
    ctx.out(r, `removed ${r.removed}: ${r.photos} photos, ${r.faces} faces`);
  },
};

const check: Command = {
  spec: {
    name: 'check', summary: 'check the library (integrity, foreign keys, dangling or reused item ids, thumbnails); exit 4 on problems', positionals: [0, 0],
    usage: 'constellate check [--library F] [--json]', options: {},
  },
  async run(ctx) {
    const svc = ctx.api({ readFallback: true });
    const r = await svc.check({});
    ctx.out(r, r.ok ? 'ok: no problems found' : r.problems.map((p) => `${p.kind}: ${p.message} (${p.count})`).join('\n'));
    return r.ok ? 0 : 4;
  },
};

const clusters: Command = {
  spec: {
    name: 'clusters', summary: 'the groups of a run: cluster, name, size, curated', positionals: [0, 0],
    usage: 'constellate clusters --run ID [--library F] [--json]',
    options: { run: { type: 'number', help: 'run id (constellate info lists the runs count; cluster --json prints the id)' } },
  },
  async run(ctx) {
    const runId = ctx.opt<number>('run');
    if (runId === undefined) throw new AppError('BAD_ARGUMENT', '--run: give the run id (constellate clusters --run ID)');
    if (!Number.isInteger(runId) || runId < 1) throw new AppError('BAD_ARGUMENT', `--run: expected a run id (an integer >= 1), got ${runId}`);
    const svc = ctx.api({ readFallback: true });
    const rows = (await svc.getClusters({ runId })).map((c) => ({ cluster: c.cluster, name: c.name, size: c.size, curated: c.curated }));
    ctx.out(rows, rows.map((c) => `${String(c.cluster).padStart(5)}  ${String(c.size).padStart(6)}  ${c.curated ? 'curated' : '       '}  ${c.name ?? ''}`).join('\n') || 'no groups');
  },
};

const assign: Command = {
  spec: {
    name: 'assign', summary: 'place new items (embedded after the run) into the run\'s groups when close enough; the rest stay unassigned for review', positionals: [0, 0],
    usage: 'constellate assign --run ID [--threshold SIM] [--margin M] [--library F] [--json]',
    options: {
      run: { type: 'number', help: 'run id' },
      threshold: { type: 'number', help: 'cosine similarity to a group\'s nearest prototype (default: the model\'s identity threshold)' },
      margin: { type: 'number', help: 'how much the best group must beat the second best (default 0.05)' },
    },
  },
  async run(ctx) {
    const runId = ctx.opt<number>('run');
    if (runId === undefined) throw new AppError('BAD_ARGUMENT', '--run: give the run id (constellate assign --run ID)');
    if (!Number.isInteger(runId) || runId < 1) throw new AppError('BAD_ARGUMENT', `--run: expected a run id (an integer >= 1), got ${runId}`);
    const r = await ctx.api().assign({ runId, threshold: ctx.opt<number>('threshold'), margin: ctx.opt<number>('margin') });
    const lines = [`run ${r.runId}: ${r.assigned} assigned to ${r.groups} group(s), ${r.unassigned} left for review` + (r.editId !== null ? ` (edit ${r.editId}; undo restores the run)` : '')];
    for (const j of r.joined.slice(0, 20)) lines.push(`  ${String(j.added).padStart(5)} -> ${j.name ?? `cluster ${j.cluster}`}`);
    ctx.out(r, lines.join('\n'));
  },
};

export const libraryCommands: Command[] = [removeFolder, check, clusters, assign];
