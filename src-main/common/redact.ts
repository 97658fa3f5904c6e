/**
 * Error messages about a file never carry the file's content: whoever can trigger an error (serve mode with the token,
 * a script) must not be able to read a file through it. These helpers describe what is wrong without quoting.
 */

/** JSON.parse's reason without the excerpt V8 quotes from the input (`Unexpected token 'r', "root:x:0:0"... is ...`). */
export function jsonReason(e: unknown): string {
  const m = e instanceof Error ? e.message.split('\n')[0] : String(e);
  const pos = /position (\d+)(?: \(line (\d+) column (\d+)\))?/.exec(m);
  if (pos) return pos[2] ? `not valid JSON at line ${pos[2]}, column ${pos[3]}` : `not valid JSON at position ${pos[1]}`;
  if (/Unexpected end of JSON input/.test(m)) return 'not valid JSON (it ends too early)';
  return 'not valid JSON';
}

/**
 * A CSV header described by the wanted column names it has, never by its text: `3 columns, none named path or label`.
 */
export function headerSummary(header: string[], wanted: string[]): string {
  const found = wanted.filter((w) => header.includes(w));
  const missing = wanted.filter((w) => !header.includes(w));
  return `its first line has ${header.length} column${header.length === 1 ? '' : 's'}` +
    (found.length ? `, with ${found.join(', ')} but no ${missing.join(' or ')}` : `, none named ${missing.join(' or ')}`);
}
