/**
 * The workbench's words, in one place: counts with their plural ("1 face", "2 faces"), a group's label by the kind of
 * its run ("person 9" in a face run, "cluster 9" in a photo run, wherever it is said: People, Review, undo titles,
 * toasts), and the contract's refusals as sentences (the parameter in plain words, no schema jargon, no "params."
 * or argument-letter prefixes).
 */
import type { ItemKind } from '@common/types.ts';

/** "1 face", "3 faces" (irregular plurals given). */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

/** A group's label: its name, else "person N" (face runs) or "cluster N" (photo runs); -1 is noise. */
export function groupLabel(cluster: number | null, name: string | null | undefined, kind: ItemKind | null | undefined): string {
  if (name) return name;
  if (cluster === null || cluster < 0) return kind === 'face' ? 'unknown faces' : 'noise';
  return `${kind === 'face' ? 'person' : 'cluster'} ${cluster}`;
}

/** Text from the core (an edit's description) in the words of a face run: "cluster 9" → "person 9". */
export function inRunWords(text: string, kind: ItemKind | null | undefined): string {
  if (kind !== 'face') return text;
  return text
    .replace(/\bclusters (-?\d+(?:(?:, | and )-?\d+)*)/g, 'people $1')
    .replace(/\bcluster (-?\d+)/g, (_, c: string) => (c === '-1' ? 'unknown faces' : `person ${c}`))
    .replace(/\bnew cluster\b/g, 'new person')
    .replace(/\bclusters\b/g, 'people')
    .replace(/\bcluster\b/g, 'person');
}

/** Plain names of the parameters the contract names in its refusals. */
const PARAM_WORDS: Record<string, string> = {
  k: 'number of groups (k)', eps: 'radius (eps)', minClusterSize: 'min cluster size', minSamples: 'min samples', attachNoise: 'attach left-overs at',
  minSim: 'min similarity', minSize: 'min size', seed: 'seed', reduce: 'reduce', epochs: 'epochs', tol: 'tol', threshold: 'threshold',
  a: 'the first run', b: 'the second run',
};

/**
 * A refusal as a sentence: "params.k: expected an integer >= 1, got 0 (cluster)" → "number of groups (k): must be a
 * whole number of at least 1 (got 0)"; "params.eps: Invalid value: Expected >=0 but received -0.2" → "radius (eps):
 * must be at least 0 (got -0.2)"; "b: run 9 does not exist" → "the second run: run 9 does not exist".
 */
export function readable(message: string): string {
  const m = /^([A-Za-z][\w.-]*(?:\.\d+)?): ([\s\S]*)$/.exec(message);
  if (!m) return message;
  const path = m[1].replace(/^(params|options|o)\./, '');
  const key = path.split('.').pop() ?? path;
  // the clustering parameters and the compared runs get their plain names; any other parameter keeps its own name
  const what = /^params\./.test(m[1]) || key === 'a' || key === 'b' ? PARAM_WORDS[key] ?? key : m[1];
  let why = m[2].replace(/\s*\((cluster|sweep|embed|map|[a-zA-Z]+)\)\s*$/, '').replace(/^Invalid (value|type): /, '');
  why = why
    .replace(/^expected an integer >= (-?[\d.]+), got (.+)$/, 'must be a whole number of at least $1 (got $2)')
    .replace(/^expected an integer <= (-?[\d.]+), got (.+)$/, 'must be a whole number of at most $1 (got $2)')
    .replace(/^expected an integer, got (.+)$/, 'must be a whole number (got $1)')
    .replace(/^Expected >=\s*(-?[\d.]+) but received (.+)$/, 'must be at least $1 (got $2)')
    .replace(/^Expected <=\s*(-?[\d.]+) but received (.+)$/, 'must be at most $1 (got $2)')
    .replace(/^Expected >\s*(-?[\d.]+) but received (.+)$/, 'must be above $1 (got $2)')
    .replace(/^Expected <\s*(-?[\d.]+) but received (.+)$/, 'must be below $1 (got $2)')
    .replace(/^Expected (\w+) but received (.+)$/, 'must be a $1 (got $2)')
    .replace(/^expected (.+?) >= (-?[\d.]+), got (.+)$/, 'must be $1 of at least $2 (got $3)');
  return `${what}: ${why}`;
}
