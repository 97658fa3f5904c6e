/** export (a run as folders, CSV, JSON or an HTML report) and import-labels (ground truth from a file or folder tree). */
import { resolve } from 'node:path';
import { AppError, badArg } from '../common/errors.ts';
import { expandHome } from '../core/user-path.ts';
import { FACE_EXPORTS } from '../common/schema-kit.ts';
import { EXPORT_FORMATS, LINK_MODES, type ExportFormat, type ExportOptions, type ExportReport, type LinkMode } from '../core/export/export.ts';
import type { CliContext } from './context.ts';
import type { Command } from './command.ts';

const exportCmd: Command = {
  spec: {
    name: 'export', summary: 'export a run\'s groups as folders (copies, links or face crops), CSV, JSON or an HTML report', positionals: [0, 0],
    usage: `constellate export --run ID --to DIR --format ${EXPORT_FORMATS.join('|')} [--link ${LINK_MODES.join('|')}] [--faces ${FACE_EXPORTS.join('|')}] [--dry-run] [--curated-only] [--include-noise] [--library F] [--json]`,
    options: {
      run: { type: 'number', help: 'the run to export (the runId printed by constellate cluster)' },
      to: { type: 'string', help: 'target folder (created if missing; existing files are never overwritten)' },
      format: { type: 'string', help: EXPORT_FORMATS.join(' | ') },
      link: { type: 'string', help: `folders: ${LINK_MODES.join(' | ')} (default ${LINK_MODES[0]}); face crops are always new files` },
      faces: { type: 'string', help: 'folders of a face run: crops (default, one file per face) | photos (each person\'s original photos, once each, by --link)' },
      'dry-run': { type: 'flag', help: 'list what would be written and write nothing' },
      'curated-only': { type: 'flag', help: 'only groups marked curated' },
      'include-noise': { type: 'flag', help: 'also export noise / rejected items (as the group "noise")' },
    },
  },
  async run(ctx: CliContext) {
    const runId = ctx.opt<number>('run');
    if (runId === undefined) throw badArg('--run', 'is required (a run id)');
    if (!Number.isInteger(runId) || runId < 1) throw badArg('--run', `expected a run id (integer >= 1), got ${runId}`);
    const to = ctx.opt<string>('to');
    if (!to) throw badArg('--to', 'is required (the target folder)');
    const format = ctx.opt<string>('format');
    if (!format) throw badArg('--format', `is required: ${EXPORT_FORMATS.join(', ')}`);
    if (!EXPORT_FORMATS.includes(format as ExportFormat)) throw badArg('--format', `expected ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    const link = ctx.opt<string>('link');
    if (link !== undefined && !LINK_MODES.includes(link as LinkMode)) throw badArg('--link', `expected ${LINK_MODES.join(', ')}, got ${JSON.stringify(link)}`);
    if (link !== undefined && format !== 'folders') throw badArg('--link', `only applies to --format folders`);
    const faces = ctx.opt<string>('faces');
    if (faces !== undefined && !(FACE_EXPORTS as readonly string[]).includes(faces)) throw badArg('--faces', `expected ${FACE_EXPORTS.join(' or ')}, got ${JSON.stringify(faces)}`);
    if (faces !== undefined && format !== 'folders') throw badArg('--faces', `only applies to --format folders`);
    const svc = ctx.api();
    const job = await ctx.runJob(() => svc.exportRun({
      // relative to the shell's folder (the service refuses relative paths: a UI has no such folder)
      runId, to: resolve(expandHome(to)), format: format as ExportFormat, link: link as LinkMode | undefined, ...(faces ? { faces: faces as NonNullable<ExportOptions['faces']> } : {}),
      dryRun: !!ctx.opt('dry-run'), curatedOnly: !!ctx.opt('curated-only'), includeNoise: !!ctx.opt('include-noise'),
    }));
    const r = ctx.result(job);
    const lines: string[] = [];
    if (r.dryRun) {
      lines.push(`dry run: nothing written; run ${r.runId} (${r.kind}s) to ${r.to}`);
      for (const p of r.plan ?? []) lines.push(`  ${p.action} ${p.from ?? ''}${p.from ? ' -> ' : ''}${p.to}`);
      if (r.planTruncated) lines.push(`  ... (${r.files - (r.plan?.length ?? 0)} more)`);
    }
    const how = r.kind === 'face' && r.faces !== 'photos' ? 'face crops' : `${r.kind === 'face' ? 'original photos, ' : ''}${r.link === 'copy' ? 'copies' : `${r.link}s`}`;
    lines.push(`${r.dryRun ? 'would export' : 'exported'} ${r.items - r.skipped} ${r.kind}s in ${r.groups} groups as ${r.format}` +
      `${r.format === 'folders' ? ` (${r.files} files, ${how})` : ''}` +
      ` to ${r.out ?? r.to}; ${r.collisions} name collision${r.collisions === 1 ? '' : 's'} resolved, ${r.skipped} skipped`);
    for (const s of r.skippedItems ?? []) lines.push(`  skipped ${s.path ?? `item ${s.item}`}: ${s.reason}`);
    for (const w of r.warnings ?? []) process.stderr.write(`constellate: warning: ${w}\n`);
    ctx.out(r, lines.join('\n'));
  },
};

const importLabelsCmd: Command = {
  spec: {
    name: 'import-labels', summary: 'import ground-truth labels from a CSV/JSON file (path,label[,x,y,w,h]) or a folder tree (folder name = label)', positionals: [1, 1],
    usage: 'constellate import-labels FILE|DIR [--run ID] [--no-seed] [--library F] [--json]',
    options: {
      run: { type: 'number', help: 'the run whose groups are named after the labels (default: the newest run); one undoable edit' },
      'no-seed': { type: 'flag', help: 'do not name any run\'s groups after the labels' },
    },
  },
  async run(ctx: CliContext) {
    const source = resolve(expandHome(ctx.parsed.positionals[0]));
    const runId = ctx.opt<number>('run');
    if (runId !== undefined && (!Number.isInteger(runId) || runId < 1)) throw badArg('--run', `expected a run id (integer >= 1), got ${runId}`);
    const r = await ctx.api().importLabels({ source, seed: !ctx.opt('no-seed'), ...(runId !== undefined ? { runId } : {}) });
    const lines = [`imported labels from ${r.source} (${r.mode}): ${r.matched}/${r.rows} matched; ${r.photos} photo labels, ${r.faces} face labels` +
      `${r.inherited ? ` (${r.inherited} inherited from single-face photos)` : ''}, ${r.labels} distinct; ${r.unmatched} unmatched, ${r.ignored} ignored, ${r.conflicts} conflicts`];
    for (const p of r.unmatchedPaths.slice(0, 5)) lines.push(`  unmatched: ${p}`);
    for (const s of r.seeded) lines.push(`run ${s.runId} (${s.kind}): ${s.named} groups named, ${s.curated} marked curated`);
    ctx.out({ ...r, runId: r.runId ?? null }, lines.join('\n'));
  },
};

export const exportCommands: Command[] = [exportCmd, importLabelsCmd];
