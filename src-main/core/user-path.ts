/**
 * Paths a person types (Add folder, Export to, Import labels): `~` and `~/x` are the user's home; a relative path is
 * refused with the reason, never resolved against the server's working directory (which is nobody's choice). The CLI
 * resolves its relative arguments against the shell's directory before it calls, as a shell user expects.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';
import { badArg } from '../common/errors.ts';

export function expandHome(p: string, home = homedir()): string {
  if (p === '~') return home;
  if (p.startsWith('~/') || p.startsWith('~\\')) return join(home, p.slice(2));
  return p;
}

/** The absolute path `p` names (`~` expanded), or BAD_ARGUMENT naming `param` for a relative one. */
export function userPath(param: string, p: string, home = homedir()): string {
  const s = expandHome(p.trim(), home);
  if (!isAbsolute(s)) {
    throw badArg(param, `${JSON.stringify(p)} is a relative path; give an absolute path (such as ${join(home, p.trim())} or ~/${p.trim().replace(/^\.\//, '')})`);
  }
  return normalize(s);
}
