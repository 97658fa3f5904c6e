/** A small, strict argument parser: every command declares its options; anything else is a one-line error. */
import { AppError } from '../common/errors.ts';

export interface OptionSpec {
  /** 'flag' takes no value; 'string' and 'number' take one; 'list' may repeat */
  type: 'flag' | 'string' | 'number' | 'list';
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** minimum and maximum positional arguments */
  positionals: [number, number];
}

export interface Parsed {
  positionals: string[];
  options: Record<string, string | number | boolean | string[]>;
}

export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  library: { type: 'string', help: 'library file (default: the one in the user data folder)' },
  json: { type: 'flag', help: 'print one JSON document on stdout (progress goes to stderr)' },
  help: { type: 'flag', help: 'show help for this command' },
};

export function parseArgs(spec: CommandSpec, argv: string[]): Parsed {
  const options: Parsed['options'] = {};
  const positionals: string[] = [];
  const all = { ...COMMON_OPTIONS, ...spec.options };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      let name = a.slice(2);
      let value: string | undefined;
      const eq = name.indexOf('=');
      if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq); }
      const o = all[name];
      if (!o) throw new AppError('BAD_ARGUMENT', `unknown option --${name} for '${spec.name}' (see constellate ${spec.name} --help)`);
      if (o.type === 'flag') {
        if (value !== undefined) throw new AppError('BAD_ARGUMENT', `--${name} takes no value`);
        options[name] = true;
        continue;
      }
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new AppError('BAD_ARGUMENT', `--${name} needs a value`);
        value = argv[++i];
      }
      if (o.type === 'number') {
        const v = Number(value);
        if (value.trim() === '' || !Number.isFinite(v)) throw new AppError('BAD_ARGUMENT', `--${name}: expected a number, got ${JSON.stringify(value)}`);
        options[name] = v;
      } else if (o.type === 'list') {
        const prev = (options[name] as string[] | undefined) ?? [];
        options[name] = [...prev, value];
      } else {
        options[name] = value;
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) throw new AppError('BAD_ARGUMENT', `unknown option ${a} for '${spec.name}'`);
    positionals.push(a);
  }
  if (!options.help) {
    const [min, max] = spec.positionals;
    if (positionals.length < min) throw new AppError('BAD_ARGUMENT', `'${spec.name}' needs ${min === 1 ? 'an argument' : `${min} arguments`}: ${spec.usage}`);
    if (positionals.length > max) throw new AppError('BAD_ARGUMENT', `'${spec.name}' takes at most ${max} argument${max === 1 ? '' : 's'}: ${spec.usage}`);
  }
  return { positionals, options };
}

export function helpText(spec: CommandSpec): string {
  const all = { ...spec.options, ...COMMON_OPTIONS };
  const lines = [`usage: ${spec.usage}`, '', spec.summary, '', 'options:'];
  for (const [k, o] of Object.entries(all)) lines.push(`  --${k}${o.type === 'flag' ? '' : ' VALUE'}`.padEnd(30) + o.help);
  return lines.join('\n');
}
