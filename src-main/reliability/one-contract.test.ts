/**
 * One contract source: every enum of the clustering contract is spelled in one place (common/cluster-contract.ts) and
 * read from there; a second literal list of presets or algorithms anywhere in production code (an array, a union
 * type, a `a|b|c` in a help or usage string) fails here. And one planner: only core/cluster/plan.ts turns a preset
 * into parameters.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLUSTER_ALGOS, CLUSTER_PRESETS, COVARIANCES, HDBSCAN_SELECTIONS, LINKAGES } from '../common/cluster-contract.ts';
import * as kit from '../common/schema-kit.ts';
import { REPO_ROOT } from '../testing/fixtures.ts';

const HOME = 'src-main/common/cluster-contract.ts';
const KIT = 'src-main/common/schema-kit.ts';
const ENUMS: Record<string, readonly string[]> = { presets: CLUSTER_PRESETS, algorithms: CLUSTER_ALGOS, linkages: LINKAGES };
/** The contract's other enums of three or more values: every such list common/schema-kit.ts exports. */
const KIT_ENUMS: Record<string, readonly string[]> = Object.fromEntries(
  Object.entries(kit).filter(([, x]) => Array.isArray(x) && x.length >= 3 && x.every((n) => typeof n === 'string')),
) as Record<string, readonly string[]>;

const PROD_DIRS = ['src-main/common', 'src-main/algo', 'src-main/core', 'src-main/cli', 'src-main/server', 'src-main/electron', 'src-renderer/src'];
function productionFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts|vue)$/.test(e.name) && !/\.test\.ts$|\.d\.ts$/.test(e.name)) out.push(relative(REPO_ROOT, p));
    }
  };
  for (const d of PROD_DIRS) walk(join(REPO_ROOT, d));
  return out;
}

/** Lists of the same words that are another concept (file, enum, the words): export columns are not map fields. */
const OTHER_CONCEPTS = new Set(["src-main/core/export/export.ts|MAP_FIELDS|cluster', 'label', 'curated"]);
/** The code without its comments (a comment may list values in prose). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/[^\n]*/g, '$1');

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
/** Runs of three or more different members of `names` written as a list: `'a', 'b', 'c'`, `'a' | 'b' | 'c'`, `a|b|c`, `a, b or c`. */
export function literalLists(text: string, names: readonly string[]): string[] {
  const name = `(?:${[...names].sort((a, b) => b.length - a.length).map(esc).join('|')})`;
  const sep = `['"\`]?\\s*(?:,|\\||\\bor\\b)\\s*(?:or\\s+)?['"\`]?`;
  const re = new RegExp(`(?<![\\w-])${name}(?:${sep}${name}){2,}(?![\\w-])`, 'g');
  return [...text.matchAll(re)].map((m) => m[0]).filter((m) => new Set(m.match(new RegExp(`(?<![\\w-])${name}(?![\\w-])`, 'g'))).size >= 3);
}

/** Every enum of the contract: each list of names exported by schema-kit.ts, and the cluster contract's own. */
const ALL_ENUMS: Record<string, readonly string[]> = {
  ...Object.fromEntries(Object.entries(kit).filter(([, x]) => Array.isArray(x) && x.length >= 2 && x.every((n) => typeof n === 'string')) as Array<[string, readonly string[]]>),
  HDBSCAN_SELECTIONS, COVARIANCES, LINKAGES,
};
/** Where the same words are another thing, and why (file, enum, the list as written). */
const NOT_A_COPY = new Set([
  // SQL of migrations already applied: a library's schema history, never rewritten
  "src-main/core/store/migrations.ts|ITEM_KINDS|'photo', 'face'", "src-main/core/store/migrations.ts|PHOTO_STATUSES|'ok', 'missing'",
  // which item kinds a preset serves (data of the entry, not the enum)
  "src-main/common/cluster-contract.ts|ITEM_KINDS|'photo', 'face'",
  // the property names of a library's zones (the keys, not the suggestion zones)
  "src-main/core/curation/zones.ts|SUGGESTION_ZONES|'sure' | 'maybe'",
  // what an export writes holds the names of how labels were read: two enums that share values
  "src-main/common/schema-kit.ts|LABEL_MODES|'folders', 'csv', 'json', 'html', 'parquet'",
]);

/**
 * Quoted literal lists that hold every member of `names` (any order): a union `'a' | 'b'`, an array or arguments
 * `'a', 'b'`. Two-member enums count too, and so does a copy with one more word beside it (`'parquet', 'arrow', 'npy'`);
 * a longer list that happens to hold them (a list of table names with 'groups' and 'clusters') is something else.
 */
export function enumCopies(text: string, names: readonly string[]): string[] {
  const q = `['"\`](${[...names].sort((a, b) => b.length - a.length).map(esc).join('|')})['"\`]`;
  const re = new RegExp(`${q}(?:\\s*(?:,|\\|)\\s*(?:${q}|['"\`][\\w-]+['"\`]))+`, 'g');
  return [...text.matchAll(re)].map((m) => m[0]).filter((m) => {
    const got = new Set([...m.matchAll(new RegExp(q, 'g'))].map((x) => x[1]));
    const words = m.match(/['"`][\w-]+['"`]/g)?.length ?? 0;
    return names.every((n) => got.has(n)) && words <= names.length + 1;
  });
}

describe('one contract source', () => {
  it('finds a list however it is written (so the check below can fail)', () => {
    expect(literalLists(`const P = ['people', 'themes', 'objects', 'duplicates'] as const;`, CLUSTER_PRESETS)).toHaveLength(1);
    expect(literalLists(`type Purpose = 'people' | 'themes' | 'objects' | 'custom';`, CLUSTER_PRESETS)).toHaveLength(1);
    expect(literalLists(`usage: '--preset people|themes|objects|duplicates'`, CLUSTER_PRESETS)).toHaveLength(1);
    expect(literalLists(`'is required: kmeans, minibatch-kmeans, hdbscan, dbscan, ward, dec or gmm'`, CLUSTER_ALGOS)).toHaveLength(1);
    expect(literalLists(`if (['kmeans', 'minibatch-kmeans', 'ward'].includes(a))`, CLUSTER_ALGOS)).toHaveLength(1);
    // two members, or one repeated, or a member inside another word, are not a list
    expect(literalLists(`a === 'people' || a === 'themes'`, CLUSTER_PRESETS)).toEqual([]);
    expect(literalLists(`'kmeans', 'kmeans', 'kmeans'`, CLUSTER_ALGOS)).toEqual([]);
    expect(literalLists(`my-kmeans, xhdbscan, dbscan-ish`, CLUSTER_ALGOS)).toEqual([]);
  });

  it('no enum of the contract is spelled outside it (presets, algorithms, linkages, formats, methods, states...)', () => {
    const found: string[] = [];
    for (const f of productionFiles()) {
      const text = code(readFileSync(join(REPO_ROOT, f), 'utf8'));
      const check = (enums: Record<string, readonly string[]>) => {
        for (const [what, names] of Object.entries(enums)) for (const l of literalLists(text, names)) if (!OTHER_CONCEPTS.has(`${f}|${what}|${l}`)) found.push(`${f}: ${what}: ${l}`);
      };
      if (f !== HOME) check(ENUMS);
      if (f !== KIT) check(KIT_ENUMS);
    }
    expect(found).toEqual([]);
    // and the contract itself spells each once
    const home = readFileSync(join(REPO_ROOT, HOME), 'utf8');
    for (const names of [...Object.values(ENUMS), HDBSCAN_SELECTIONS, COVARIANCES]) {
      expect(home.match(new RegExp(`\\[${names.map((n) => `'${esc(n)}'`).join(', ')}\\]`, 'g')) ?? [], names.join(',')).toHaveLength(names === CLUSTER_ALGOS || names === CLUSTER_PRESETS ? 0 : 1);
    }
  });

  it('finds a quoted copy of any enum, two members too (so the check below can fail)', () => {
    expect(enumCopies(`function f(kind: 'photo' | 'face') {}`, kit.ITEM_KINDS)).toHaveLength(1);
    expect(enumCopies(`const order = o.order === 'asc' ? 1 : -1; type O = "desc" | "asc";`, kit.MEMBER_ORDERS)).toHaveLength(1);
    expect(enumCopies(`for (const k of ['face', 'photo', 'video'] as const)`, kit.ITEM_KINDS)).toHaveLength(1);
    // one member alone, or the words in prose, are not a copy
    expect(enumCopies(`if (kind === 'photo') return; // a photo or a face`, kit.ITEM_KINDS)).toEqual([]);
    expect(enumCopies(`'the photo, the face'`, kit.ITEM_KINDS)).toEqual([]);
    expect(enumCopies(`['photos', 'groups', 'runs', 'clusters', 'labels']`, kit.ASSIGN_TARGETS)).toEqual([]);
  });

  it('no enum of the contract (schema-kit.ts, cluster-contract.ts) is written again as a literal union or list, in common/ or anywhere', () => {
    const homes = new Set([KIT, HOME]);
    const found: string[] = [];
    for (const f of productionFiles()) {
      if (homes.has(f)) continue;
      const text = code(readFileSync(join(REPO_ROOT, f), 'utf8'));
      for (const [what, names] of Object.entries(ALL_ENUMS)) for (const l of enumCopies(text, names)) if (!NOT_A_COPY.has(`${f}|${what}|${l}`)) found.push(`${f}: ${what}: ${l}`);
    }
    // the homes themselves: each enum's list once (an enum built on another, e.g. EXPORT_ACTIONS on LINK_MODES, spreads it)
    for (const home of homes) {
      const text = code(readFileSync(join(REPO_ROOT, home), 'utf8'));
      for (const [what, names] of Object.entries(ALL_ENUMS)) {
        const copies = enumCopies(text, names).filter((l) => !NOT_A_COPY.has(`${home}|${what}|${l}`));
        if (copies.length > 1) found.push(`${home}: ${what} written ${copies.length} times`);
      }
    }
    expect(found).toEqual([]);
  });

  it('every argument, result and report type of the contract is inferred from its schema: no other hand-written shape', () => {
    // what stays written as TypeScript, and why: the contract itself (its methods and the client), generics a schema
    // function cannot give (a page of T, a job of kind K), and shapes no schema checks (events, typed-array id sets)
    const written: Record<string, string> = {
      ItemIds: 'typed arrays of one kind (no schema: never crosses as JSON)', Page: 'generic over its item (result-shapes.ts pageOf)',
      RunChange: "the 'run' event's change (events are not validated)", WatchSummary: "the 'watch' event's summary (events are not validated)",
      AppApi: 'the contract: its arguments and results are Args/Result or named inferred types', AppClient: 'the contract plus events and URLs',
      JobInfoOf: 'a job of kind K (schemas.ts jobInfoSchema builds one per kind)',
    };
    const found: string[] = [];
    for (const f of ['types.ts', 'api.ts', 'jobs.ts', 'result-shapes.ts', 'arg-schemas.ts', 'job-schemas.ts']) {
      const text = readFileSync(join(REPO_ROOT, 'src-main/common', f), 'utf8');
      for (const m of text.matchAll(/^(?:export )?interface (\w+)/gm)) if (!written[m[1]]) found.push(`common/${f}: interface ${m[1]}`);
      // a type alias to an object literal is a hand-written shape too (a mapped type over the schemas is not)
      for (const m of text.matchAll(/^(?:export )?type (\w+)(?:<[^>]*>)? = \{(?!\s*\[)/gm)) found.push(`common/${f}: type ${m[1]} = { ... }`);
    }
    expect(found).toEqual([]);
  });

  it('one planner: only core/cluster/plan.ts turns a preset into parameters', () => {
    const callers = productionFiles().filter((f) => f !== 'src-main/algo/cluster/presets.ts' && /\b(resolvePreset|applyPreset)\(/.test(readFileSync(join(REPO_ROOT, f), 'utf8')));
    expect(callers).toEqual(['src-main/core/cluster/plan.ts']);
  });
});
