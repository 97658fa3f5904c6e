/**
 * One CLI command: its spec (name, options, positionals; cli/args.ts) and what it runs. The command files export
 * lists of these; cli/main.ts gathers them into COMMANDS (the command files never import main.ts back).
 */
import type { CommandSpec } from './args.ts';
import type { CliContext } from './context.ts';

export interface Command {
  spec: CommandSpec;
  run(ctx: CliContext): Promise<number | void>;
}
