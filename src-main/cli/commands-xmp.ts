/** export-xmp / import-xmp: people in XMP sidecars (MWG face regions + keywords), for digiKam, Lightroom, Immich... */
import { AppError } from '../common/errors.ts';
import type { Command } from './command.ts';

const exportXmp: Command = {
  spec: {
    name: 'export-xmp', summary: 'write a face run\'s named faces into the photos\' XMP sidecars (photo.jpg.xmp; an existing sidecar is updated, originals never touched)', positionals: [0, 0],
    usage: 'constellate export-xmp --run ID [--library F] [--json]',
    options: { run: { type: 'number', help: 'the face run whose named groups are written' } },
  },
  async run(ctx) {
    const runId = ctx.opt<number>('run');
    if (runId === undefined) throw new AppError('BAD_ARGUMENT', '--run: give the face run id (constellate export-xmp --run ID)');
    const r = await ctx.api().exportXmp({ runId });
    const lines = [`run ${r.runId}: ${r.regions} named faces in ${r.photos} photos; sidecars ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged, ${r.failed} failed`];
    for (const f of r.failures.slice(0, 5)) lines.push(`  failed: ${f.path}: ${f.reason}`);
    ctx.out(r, lines.join('\n'));
    // returned, not set on process.exitCode: bin.mjs sets the exit code from main's return value (0 overwrote it)
    if (r.failed > 0) return 3;
  },
};

const importXmp: Command = {
  spec: {
    name: 'import-xmp', summary: 'read the people named in the library photos\' XMP sidecars (digiKam, Lightroom, Immich...) as face labels', positionals: [0, 0],
    usage: 'constellate import-xmp [--no-seed] [--library F] [--json]',
    options: { 'no-seed': { type: 'flag', help: 'do not name the newest face run\'s groups after the labels' } },
  },
  async run(ctx) {
    const r = await ctx.api().importXmp({ seed: !ctx.opt('no-seed') });
    const lines = [`${r.sidecars} sidecars, ${r.regions} named face regions: ${r.matched} matched to faces here, ${r.unmatched} unmatched`];
    for (const f of r.failures.slice(0, 5)) lines.push(`  unreadable: ${f.path}: ${f.reason}`);
    for (const s of r.labels?.seeded ?? []) lines.push(`run ${s.runId} (${s.kind}): ${s.named} groups named, ${s.curated} marked curated`);
    ctx.out(r, lines.join('\n'));
    // sidecars that are not files (a FIFO, a link to /dev/zero) or too large were refused by name: bad input, exit 2
    if (r.failures.length > 0) return 2;
  },
};

export const xmpCommands: Command[] = [exportXmp, importXmp];
