/**
 * The `constellate` command line. Every command takes --json (one JSON document on stdout, progress on stderr) and
 * exits non-zero with a one-line error on bad input. Commands are listed in COMMANDS (each command file exports its own, typed by command.ts); later features add theirs.
 */
import { config } from '../core/config.ts';
import { AppError, exitCode, toPayload } from '../common/errors.ts';
import { helpText, parseArgs } from './args.ts';
import type { Command } from './command.ts';
import { installStopGuard } from './signals.ts';
import { CliContext } from './context.ts';
import { foundationCommands } from './commands-foundation.ts';
import { embedCommands } from './commands-embed.ts';
import { clusterCommands } from './commands-cluster.ts';
import { mapCommands } from './commands-map.ts';
import { exportCommands } from './commands-export.ts';
import { libraryCommands } from './commands-library.ts';
import { xmpCommands } from './commands-xmp.ts';
import { exploreCommands } from './commands-explore.ts';
import { interopCommands } from './commands-interop.ts';
import { peopleCommands } from './commands-people.ts';

export const COMMANDS: Command[] = [...foundationCommands, ...embedCommands, ...clusterCommands, ...mapCommands, ...exportCommands, ...libraryCommands, ...xmpCommands, ...exploreCommands, ...interopCommands, ...peopleCommands];

function usage(): string {
  const lines = ['usage: constellate <command> [options]', '', 'commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.spec.name.padEnd(20)}${c.spec.summary}`);
  lines.push('', 'Every command takes --library FILE and --json; `constellate <command> --help` for details.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write('constellate 0.1.0\n');
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.spec.name === name);
  let ctx: CliContext | null = null;
  // SIGTERM/SIGINT always end the process with the lock released (cli/signals.ts)
  const unguard = installStopGuard();
  try {
    if (!cmd) throw new AppError('BAD_ARGUMENT', `unknown command '${name}' (try constellate --help)`);
    const parsed = parseArgs(cmd.spec, argv.slice(1));
    if (parsed.options.help) {
      process.stdout.write(helpText(cmd.spec) + '\n');
      return 0;
    }
    ctx = new CliContext(parsed);
    const code = await cmd.run(ctx);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    const p = toPayload(e);
    const msg = p.message.split('\n')[0];
    if (argv.includes('--json')) process.stdout.write(JSON.stringify({ error: p }) + '\n');
    process.stderr.write(`constellate: ${msg}\n`);
    if (p.code === 'INTERNAL' && config.debug()) process.stderr.write(String((e as Error).stack) + '\n');
    return exitCode(p.code);
  } finally {
    await ctx?.close().catch(() => undefined);
    unguard();
  }
}
