/**
 * The public surface, generated from the code's own definitions (public-surface.test.ts holds it to the committed
 * public-surface.snapshot.json):
 * - every AppApi method with its argument and result schema (common/schemas.ts, valibot serialised structurally),
 * - every job kind's params and result schema,
 * - every CLI command with its positionals and flags (cli/main.ts COMMANDS, cli/args.ts COMMON_OPTIONS),
 * - the `--json` keys of every CLI command: the TypeScript type of each value a command prints with `ctx.out(...)`
 *   (found through the type checker, following the command's calls into other CLI functions), as key paths,
 * - the export columns: CSV/JSON table fields (core/export TABLE_FIELDS) and every Parquet/Arrow file written through
 *   ColumnarWriter.create (its column list, read from the source, keyed by the name of the function that writes it,
 *   so moving that function to another file does not change the surface).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { API_METHODS } from '../common/api.ts';
import { API_RESULT_SCHEMAS, API_SCHEMAS, JOB_SCHEMAS, jobInfoAnySchema } from '../common/schemas.ts';
import { COMMON_OPTIONS } from '../cli/args.ts';
import { COMMANDS } from '../cli/main.ts';
import { TABLE_FIELDS } from '../core/export/export.ts';
import { REPO_ROOT } from '../testing/fixtures.ts';

type Desc = string | { [k: string]: Desc } | Desc[];
interface VSchema {
  kind: string; type: string; expects?: string;
  pipe?: Array<{ kind: string; type: string; requirement?: unknown }>;
  entries?: Record<string, VSchema>; item?: VSchema; items?: VSchema[]; options?: unknown[];
  wrapped?: VSchema; literal?: unknown; key?: unknown; value?: VSchema; class?: { name: string }; default?: unknown;
}

/** A pipe's validations as `name:requirement` (checks with a function as `check`); transformations too. */
function pipeSuffix(s: VSchema, refs?: Map<unknown, string>): string {
  const parts = pipeParts(s, refs);
  return parts.length ? ` & ${parts.join(' & ')}` : '';
}

function pipeParts(s: VSchema, refs?: Map<unknown, string>): string[] {
  if (!s.pipe) return [];
  // v.pipe(inner, ...actions) keeps `inner` first: a piped inner schema's own actions come before these
  const head = s.pipe[0] as unknown as VSchema;
  const parts: string[] = head !== s && head.pipe ? pipeParts(head, refs) : [];
  for (const a of s.pipe.slice(1)) {
    if (a.kind === 'schema') { parts.push(`(${JSON.stringify(describeSchema(a as unknown as VSchema, refs))})`); continue; }
    const r = a.requirement;
    const req = r === undefined || typeof r === 'function' ? '' : `:${r instanceof RegExp ? r.source : JSON.stringify(r)}`;
    parts.push(`${a.type}${req}`);
  }
  return parts;
}

/** A valibot schema as a plain JSON description: what a change to the contract changes, never its messages. */
export function describeSchema(s: VSchema, refs?: Map<unknown, string>): Desc {
  const ref = refs?.get(s);
  if (ref !== undefined) return `ref:${ref}`;
  const sub = (x: VSchema): Desc => describeSchema(x, refs);
  const p = pipeSuffix(s, refs);
  const withPipe = (d: Desc): Desc => (p ? (typeof d === 'string' ? d + p : { pipe: p.slice(3), of: d }) : d);
  switch (s.type) {
    case 'string': case 'number': case 'boolean': case 'undefined': case 'null': case 'unknown': case 'any': case 'bigint': case 'date':
      return withPipe(s.type);
    case 'literal': return withPipe(`literal:${JSON.stringify(s.literal)}`);
    case 'picklist': return withPipe(`picklist:${(s.options as unknown[]).map((o) => JSON.stringify(o)).join('|')}`);
    case 'instance': return withPipe(`instance:${s.class!.name}`);
    case 'optional': case 'nullable': case 'nullish': case 'exact_optional': case 'undefinedable': {
      const inner = sub(s.wrapped!);
      const def = s.default === undefined ? '' : ` default ${JSON.stringify(typeof s.default === 'function' ? 'fn' : s.default)}`;
      return withPipe(typeof inner === 'string' ? `${s.type}<${inner}>${def}` : { [s.type + def]: inner });
    }
    case 'array': return withPipe({ array: sub(s.item!) });
    case 'tuple': case 'strict_tuple': case 'loose_tuple': return withPipe({ [s.type]: s.items!.map(sub) });
    case 'object': case 'strict_object': case 'loose_object': {
      const entries: Record<string, Desc> = {};
      for (const k of Object.keys(s.entries!).sort()) entries[k] = sub(s.entries![k]);
      return withPipe({ [s.type]: entries });
    }
    case 'record': return withPipe({ record: [sub(s.key as VSchema), sub(s.value!)] });
    case 'union': case 'intersect': return withPipe({ [s.type]: (s.options as VSchema[]).map(sub) });
    case 'variant': return withPipe({ [`variant:${String(s.key)}`]: (s.options as VSchema[]).map(sub) });
    default: throw new Error(`public surface: no description for the valibot schema type '${s.type}' (add it to describeSchema)`);
  }
}

/** The job kinds' schemas, named where the API's schemas use them (described once, under `jobs`). */
function jobRefs(): Map<unknown, string> {
  const refs = new Map<unknown, string>([[jobInfoAnySchema, 'JobInfo of any kind (jobs.*)']]);
  for (const k of Object.keys(JOB_SCHEMAS) as Array<keyof typeof JOB_SCHEMAS>) {
    refs.set(JOB_SCHEMAS[k].params, `jobs.${k}.params`);
    refs.set(JOB_SCHEMAS[k].result, `jobs.${k}.result`);
  }
  return refs;
}

export function apiSurface(): Record<string, { args: Desc; result: Desc }> {
  const out: Record<string, { args: Desc; result: Desc }> = {};
  const refs = jobRefs();
  for (const m of [...API_METHODS].sort()) {
    out[m] = { args: describeSchema(API_SCHEMAS[m] as unknown as VSchema, refs), result: describeSchema(API_RESULT_SCHEMAS[m] as unknown as VSchema, refs) };
  }
  return out;
}

export function jobSurface(): Record<string, { params: Desc; result: Desc }> {
  const out: Record<string, { params: Desc; result: Desc }> = {};
  for (const k of Object.keys(JOB_SCHEMAS).sort() as Array<keyof typeof JOB_SCHEMAS>) {
    out[k] = { params: describeSchema(JOB_SCHEMAS[k].params as unknown as VSchema), result: describeSchema(JOB_SCHEMAS[k].result as unknown as VSchema) };
  }
  return out;
}

export function cliSurface(): { commonOptions: Record<string, string>; commands: Record<string, { positionals: [number, number]; options: Record<string, string> }> } {
  const opts = (o: Record<string, { type: string }>) => Object.fromEntries(Object.keys(o).sort().map((k) => [`--${k}`, o[k].type]));
  const commands: Record<string, { positionals: [number, number]; options: Record<string, string> }> = {};
  for (const c of [...COMMANDS].sort((a, b) => a.spec.name.localeCompare(b.spec.name))) {
    if (commands[c.spec.name]) throw new Error(`public surface: two CLI commands named '${c.spec.name}'`);
    commands[c.spec.name] = { positionals: c.spec.positionals, options: opts(c.spec.options) };
  }
  return { commonOptions: opts(COMMON_OPTIONS), commands };
}

// ---- the TypeScript side: --json keys and Parquet columns, read from the source through the compiler ----

const CLI_DIR = join(REPO_ROOT, 'src-main/cli');
const isProdTs = (f: string) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts');

/**
 * The production files of the project's tsconfig as one program (not only what `roots` import: some types are
 * completed by declaration merging in files nobody imports, e.g. the worker task registry's TaskRegistry).
 */
function program(roots: string[]): ts.Program {
  const cfg = ts.getParsedCommandLineOfConfigFile(join(REPO_ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!cfg) throw new Error('public surface: cannot read tsconfig.json');
  const prod = cfg.fileNames.filter((f) => f.startsWith(join(REPO_ROOT, 'src-main') + '/') && isProdTs(f) && !/\/src-main\/(testing|reliability)\//.test(f));
  return ts.createProgram([...new Set([...roots, ...prod])], { ...cfg.options, noEmit: true });
}

const LEAF_CLASSES = new Set(['Int32Array', 'Float32Array', 'Float64Array', 'Uint8Array', 'Uint32Array', 'Int8Array', 'Int16Array', 'Uint16Array', 'BigInt64Array', 'Date', 'Buffer']);

/** The key paths of a JSON value of this type (`a`, `a.b`, `list[].c`, `map.*`), to `depth` levels. */
function keyPaths(checker: ts.TypeChecker, type: ts.Type, prefix: string, depth: number, out: Set<string>): void {
  if (depth === 0) return;
  if (type.isUnion()) { for (const t of type.types) keyPaths(checker, t, prefix, depth, out); return; }
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) { if (prefix) out.add(`${prefix}:unknown`); return; }
  if (!(type.flags & ts.TypeFlags.Object) && !type.isIntersection()) return;
  const name = type.getSymbol()?.getName();
  if (name && LEAF_CLASSES.has(name)) return;
  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    for (const t of checker.getTypeArguments(type as ts.TypeReference)) keyPaths(checker, t, `${prefix}[]`, depth, out);
    return;
  }
  const idx = checker.getIndexInfosOfType(type);
  for (const i of idx) { const k = prefix ? `${prefix}.*` : '*'; out.add(k); keyPaths(checker, i.type, k, depth - 1, out); }
  for (const p of checker.getPropertiesOfType(type)) {
    const decl = p.valueDeclaration ?? p.declarations?.[0];
    if (decl && (ts.isMethodDeclaration(decl) || ts.isMethodSignature(decl))) continue;
    const pt = checker.getTypeOfSymbol(p);
    if (pt.getCallSignatures().length > 0) continue;
    const k = prefix ? `${prefix}.${p.getName()}` : p.getName();
    out.add(k);
    keyPaths(checker, pt, k, depth - 1, out);
  }
}

/** The top-level declaration (function, const) a node belongs to, in its file. */
function topLevel(node: ts.Node): ts.Node | null {
  let n: ts.Node = node;
  while (n.parent && !ts.isSourceFile(n.parent)) n = n.parent;
  return n.parent && ts.isSourceFile(n.parent) ? n : null;
}

/**
 * Every CLI command's `--json` keys: the key paths of the values its run (and the CLI functions it calls, in any
 * command file) print through `ctx.out(value, human)`, plus `error` (cli/main.ts prints `{error: {code, message}}`).
 */
export function cliJsonSurface(depth = 3): Record<string, string[]> {
  const files = readdirSync(CLI_DIR).filter(isProdTs).map((f) => join(CLI_DIR, f));
  const prog = program(files);
  const checker = prog.getTypeChecker();
  const cliFiles = prog.getSourceFiles().filter((sf) => sf.fileName.startsWith(CLI_DIR + '/') && isProdTs(sf.fileName));
  // per top-level declaration: the keys it prints, and the top-level CLI declarations it refers to
  const prints = new Map<ts.Node, Set<string>>();
  const refs = new Map<ts.Node, Set<ts.Node>>();
  const commandDecl = new Map<string, ts.Node>();
  for (const sf of cliFiles) {
    const visit = (n: ts.Node): void => {
      const top = topLevel(n);
      if (top && ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === 'out' && n.arguments.length === 2) {
        const recv = checker.getTypeAtLocation(n.expression.expression).getSymbol()?.getName();
        if (recv === 'CliContext') {
          const keys = prints.get(top) ?? new Set<string>();
          const t = checker.getTypeAtLocation(n.arguments[0]);
          keyPaths(checker, t, '', depth, keys);
          if (keys.size === 0) keys.add(`:${checker.typeToString(t)}`);
          prints.set(top, keys);
        }
      }
      if (top && ts.isIdentifier(n)) {
        let sym = checker.getSymbolAtLocation(n);
        if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
        for (const d of sym?.declarations ?? []) {
          const dtop = topLevel(d);
          const f = d.getSourceFile().fileName;
          if (dtop && dtop !== top && f.startsWith(CLI_DIR + '/') && isProdTs(f)) {
            const s = refs.get(top) ?? new Set<ts.Node>();
            s.add(dtop);
            refs.set(top, s);
          }
        }
      }
      // a command: an object literal `{ spec: { name: 'NAME', ... }, run ... }`
      if (top && ts.isObjectLiteralExpression(n)) {
        const spec = n.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === 'spec');
        const run = n.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === 'run');
        if (spec && run && ts.isPropertyAssignment(spec) && ts.isObjectLiteralExpression(spec.initializer)) {
          const name = spec.initializer.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === 'name');
          if (name && ts.isPropertyAssignment(name) && ts.isStringLiteral(name.initializer)) commandDecl.set(name.initializer.text, top);
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  const out: Record<string, string[]> = {};
  for (const c of [...COMMANDS].map((x) => x.spec.name).sort()) {
    const start = commandDecl.get(c);
    if (!start) throw new Error(`public surface: the CLI command '${c}' has no { spec: { name: '${c}' }, run } object in src-main/cli`);
    const keys = new Set<string>(['error', 'error.code', 'error.message']);
    const seen = new Set<ts.Node>();
    const stack = [start];
    // other commands' declarations are not followed (a command list refers to every command)
    const others = new Set([...commandDecl.values()].filter((d) => d !== start));
    while (stack.length) {
      const d = stack.pop()!;
      if (seen.has(d)) continue;
      seen.add(d);
      for (const k of prints.get(d) ?? []) keys.add(k);
      for (const r of refs.get(d) ?? []) if (!others.has(r)) stack.push(r);
    }
    out[c] = [...keys].sort();
  }
  return out;
}

/** The columns of every Parquet/Arrow file the production code writes: the writing function's name -> `name:type[?]` (? nullable). */
export function columnarSurface(): Record<string, string[]> {
  const root = join(REPO_ROOT, 'src-main');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) { if (!['testing', 'reliability'].includes(e.name)) walk(join(d, e.name)); } else if (isProdTs(e.name)) files.push(join(d, e.name));
    }
  };
  walk(root);
  const out: Record<string, string[]> = {};
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (!text.includes('ColSpec') && !text.includes('ColumnarWriter.create')) continue;
    const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
    const fnName = (n: ts.Node): string => {
      for (let p: ts.Node | undefined = n; p; p = p.parent) {
        if ((ts.isFunctionDeclaration(p) || ts.isMethodDeclaration(p)) && p.name) return p.name.getText(sf);
      }
      return '(module)';
    };
    // a column list: an array literal of object literals that each have `name` and `type` string properties
    const visit = (n: ts.Node): void => {
      if (ts.isArrayLiteralExpression(n) && n.elements.length > 0 && n.elements.every((e) => ts.isObjectLiteralExpression(e) && colOf(e) !== null)) {
        const cols = n.elements.map((e) => colOf(e as ts.ObjectLiteralExpression)!);
        const key = fnName(n);
        if (out[key]) throw new Error(`public surface: two column lists in functions named ${key} (${relative(REPO_ROOT, f)})`);
        out[key] = cols;
        return;
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return out;
}

function colOf(o: ts.ObjectLiteralExpression): string | null {
  const get = (k: string) => {
    const p = o.properties.find((x) => x.name && ts.isIdentifier(x.name) && x.name.text === k);
    return p && ts.isPropertyAssignment(p) ? p.initializer : undefined;
  };
  const name = get('name'), type = get('type'), nullable = get('nullable');
  if (!name || !type || !ts.isStringLiteral(name) || !ts.isStringLiteral(type)) return null;
  return `${name.text}:${type.text}${nullable && nullable.kind === ts.SyntaxKind.TrueKeyword ? '?' : ''}`;
}

export function exportSurface(): { table: string[]; columnar: Record<string, string[]> } {
  return { table: [...TABLE_FIELDS], columnar: columnarSurface() };
}

export function publicSurface(): unknown {
  return { api: apiSurface(), jobs: jobSurface(), cli: cliSurface(), cliJson: cliJsonSurface(), exports: exportSurface() };
}
