#!/usr/bin/env node
/**
 * The house check: measures the house floors over the tree and prints one JSON document.
 *
 *   node scripts/house-check.mjs [ROOT] [--details] [--strict]
 *
 * - fileCycles: import cycles between production files (strongly connected groups of two or more files, or a file
 *   importing itself). Every import counts: type-only ones (`import type`, `export type ... from`, `import('x').T`),
 *   re-exports, dynamic `import()`, and the renderer's `@common/` alias.
 * - roomCircles: circles of core/ rooms importing each other; a room is a folder under src-main/core/ or a loose file
 *   there (strongly connected groups of two or more rooms, from the same file imports).
 * - sqlFiles: production files with SQL statement text (in any case) in a string or template literal, outside
 *   src-main/core/store/ (comments do not count).
 * - coreFilesOver500: production files under src-main/core/ with more than 500 lines.
 * - issueNumberFiles: production files that mention an issue number ("issue 19", "issues 19 and 20", "issue #19").
 * - issueNumberDocs: README.md, BENCHMARKS.md and RELIABILITY.md when they mention one (the docs describe the product by capability).
 *
 * Production files: src-main/{common,algo,core,cli,server,electron} and src-renderer/src (.ts, .mts, .vue), without
 * tests (*.test.ts), declarations (*.d.ts) and the test helpers (src-main/testing, src-main/reliability).
 * --details lists the files of each measure; --strict exits 1 when any measure is not zero.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const ROOT = resolve(args.find((a) => !a.startsWith('--')) ?? join(dirname(new URL(import.meta.url).pathname), '..'));
const DETAILS = args.includes('--details');
const STRICT = args.includes('--strict');
// typescript from the checked tree's node_modules, else from this script's
const require = createRequire(existsSync(join(ROOT, 'node_modules/typescript')) ? join(ROOT, 'package.json') : import.meta.url);
const ts = require('typescript');

const PROD_DIRS = ['src-main/common', 'src-main/algo', 'src-main/core', 'src-main/cli', 'src-main/server', 'src-main/electron', 'src-renderer/src'];
const isProd = (rel) => /\.(ts|mts|vue)$/.test(rel) && !/\.test\.ts$|\.d\.ts$/.test(rel);

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'node_modules') walk(p, out); } else out.push(p);
  }
  return out;
}

const rel = (abs) => relative(ROOT, abs).split(sep).join('/');
const files = PROD_DIRS.flatMap((d) => walk(join(ROOT, d), [])).filter((f) => isProd(rel(f))).sort();
const fileSet = new Set(files);

/** The script of a .vue file (its <script> blocks), or the file itself. */
function codeOf(file) {
  const text = readFileSync(file, 'utf8');
  if (!file.endsWith('.vue')) return text;
  return [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

// ---- imports ----
const compilerOptions = {
  module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, allowImportingTsExtensions: true, allowJs: true,
  resolveJsonModule: true, baseUrl: ROOT, paths: { '@common/*': ['src-main/common/*'] },
};
const host = ts.createCompilerHost(compilerOptions);

function resolveImport(spec, from) {
  if (spec.endsWith('.vue') && (spec.startsWith('.') || spec.startsWith('@common/'))) {
    const p = spec.startsWith('@common/') ? join(ROOT, 'src-main/common', spec.slice(8)) : resolve(dirname(from), spec);
    return fileSet.has(p) ? p : null;
  }
  const r = ts.resolveModuleName(spec, from, compilerOptions, host).resolvedModule;
  if (!r || r.isExternalLibraryImport) return null;
  const p = resolve(r.resolvedFileName);
  return fileSet.has(p) ? p : null;
}

/** Every module a file names: imports and re-exports (type-only too), dynamic import() and import('x') types. */
function importsOf(file) {
  const code = codeOf(file);
  const specs = new Set(ts.preProcessFile(code, true, true).importedFiles.map((f) => f.fileName));
  // import('x') in type positions and require('x') (preProcessFile sees most; this catches the rest)
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.add(m[1]);
  const out = new Set();
  for (const s of specs) { const p = resolveImport(s, file); if (p) out.add(p); }
  return out;
}

const graph = new Map(files.map((f) => [f, importsOf(f)]));

/** Strongly connected components (Tarjan, iterative) of a graph given as Map<node, Set<node>>. */
function sccs(g) {
  let index = 0;
  const idx = new Map(), low = new Map(), on = new Set(), stack = [], out = [];
  for (const v0 of g.keys()) {
    if (idx.has(v0)) continue;
    const work = [[v0, [...(g.get(v0) ?? [])], 0]];
    idx.set(v0, index); low.set(v0, index); index++; stack.push(v0); on.add(v0);
    while (work.length) {
      const top = work[work.length - 1];
      const [v, succ] = top;
      if (top[2] < succ.length) {
        const w = succ[top[2]++];
        if (!g.has(w)) continue;
        if (!idx.has(w)) {
          idx.set(w, index); low.set(w, index); index++; stack.push(w); on.add(w);
          work.push([w, [...(g.get(w) ?? [])], 0]);
        } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
      } else {
        work.pop();
        if (work.length) { const u = work[work.length - 1][0]; low.set(u, Math.min(low.get(u), low.get(v))); }
        if (low.get(v) === idx.get(v)) {
          const comp = [];
          let w;
          do { w = stack.pop(); on.delete(w); comp.push(w); } while (w !== v);
          if (comp.length > 1 || g.get(v)?.has(v)) out.push(comp.sort());
        }
      }
    }
  }
  return out;
}

const fileCycles = sccs(graph).map((c) => c.map(rel));

// ---- rooms of core/ ----
const CORE = join(ROOT, 'src-main/core') + sep;
const roomOf = (f) => { const r = f.slice(CORE.length).split(sep); return r.length > 1 ? `${r[0]}/` : r[0]; };
const rooms = new Map();
for (const [f, deps] of graph) {
  if (!f.startsWith(CORE)) continue;
  const a = roomOf(f);
  if (!rooms.has(a)) rooms.set(a, new Set());
  for (const d of deps) if (d.startsWith(CORE) && roomOf(d) !== a) rooms.get(a).add(roomOf(d));
}
const roomCircles = sccs(rooms).filter((c) => c.length > 1);
/** the pairs of rooms that import each other directly */
const roomPairs = [];
for (const [a, ds] of rooms) for (const b of ds) if (a < b && rooms.get(b)?.has(a)) roomPairs.push(`${a} <-> ${b}`);

// ---- SQL outside core/store/ ----
const SQL = new RegExp([
  String.raw`\bselect\s+(distinct\s+)?[\w*.,()\s'"=<>!+-]+?\s+from\s+[\w"]+`,
  String.raw`\binsert\s+(or\s+\w+\s+)?into\s+[\w"]+`,
  String.raw`\breplace\s+into\s+[\w"]+`,
  String.raw`\bupdate\s+[\w"]+\s+set\s+[\w"]+\s*=`,
  String.raw`\bdelete\s+from\s+[\w"]+`,
  String.raw`\bcreate\s+(temp(orary)?\s+)?(unique\s+)?(table|index|view|trigger)\b`,
  String.raw`\bdrop\s+(table|index|view|trigger)\b`,
  String.raw`\balter\s+table\s+[\w"]+`,
  String.raw`\bpragma\s+\w+`,
  String.raw`^\s*(begin(\s+(immediate|exclusive|deferred))?(\s+transaction)?|commit|rollback|savepoint\s+\w+|release\s+\w+|vacuum|analyze)\s*;?\s*$`,
  String.raw`\bwith\s+(recursive\s+)?\w+\s*(\([\w\s,]*\))?\s+as\s*\(\s*select\b`,
  // fragments of statements built in pieces
  String.raw`\bjoin\s+\w+(\s+(as\s+)?\w+)?\s+on\s+\w+(\.\w+)?\s*=`,
  String.raw`\bwhere\s+\w+(\.\w+)?\s*(=|<>|!=|<=|>=|<|>|\s+in\s*\(|\s+is\s+(not\s+)?null|\s+like\s|\s+between\s)`,
  String.raw`\b(order|group)\s+by\s+\w+(\.\w+)?(\s+(asc|desc))?\s*(,|$|\s+limit\b)`,
].join('|'), 'i');

/** The text of every string and template literal of a file (a template whole, `${...}` as `?`); comments are not literals. */
function literals(file) {
  const out = [];
  const scan = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, codeOf(file));
  // open templates: their text so far and the depth of braces inside the current substitution
  const open = [];
  let t = scan.scan();
  while (t !== ts.SyntaxKind.EndOfFileToken) {
    if (t === ts.SyntaxKind.StringLiteral || t === ts.SyntaxKind.NoSubstitutionTemplateLiteral) out.push(scan.getTokenValue());
    else if (t === ts.SyntaxKind.TemplateHead) open.push({ text: scan.getTokenValue(), braces: 0 });
    else if (t === ts.SyntaxKind.OpenBraceToken && open.length) open[open.length - 1].braces++;
    else if (t === ts.SyntaxKind.CloseBraceToken && open.length) {
      const top = open[open.length - 1];
      if (top.braces === 0) {
        t = scan.reScanTemplateToken(false);
        top.text += '?' + scan.getTokenValue();
        if (t === ts.SyntaxKind.TemplateTail) out.push(open.pop().text);
      } else top.braces--;
    } else if (t === ts.SyntaxKind.SlashToken || t === ts.SyntaxKind.SlashEqualsToken) scan.reScanSlashToken();
    t = scan.scan();
  }
  return out;
}

const STORE = join(ROOT, 'src-main/core/store') + sep;
const sqlFiles = files.filter((f) => !f.startsWith(STORE) && literals(f).some((s) => SQL.test(s))).map(rel);

// ---- core/ files over 500 lines ----
const lineCount = (f) => { const t = readFileSync(f, 'utf8'); return t.length === 0 ? 0 : t.split('\n').length - (t.endsWith('\n') ? 1 : 0); };
const coreFilesOver500 = files.filter((f) => f.startsWith(CORE)).map((f) => ({ file: rel(f), lines: lineCount(f) })).filter((x) => x.lines > 500);

// ---- issue numbers in production code ----
const ISSUE = /\bissues?\s+#?\d+/i;
const issueNumberFiles = files.filter((f) => ISSUE.test(readFileSync(f, 'utf8'))).map(rel);
const issueNumberDocs = ['README.md', 'BENCHMARKS.md', 'RELIABILITY.md'].map((f) => join(ROOT, f)).filter((f) => existsSync(f) && ISSUE.test(readFileSync(f, 'utf8'))).map(rel);

const report = {
  root: ROOT,
  files: files.length,
  fileCycles: fileCycles.length,
  roomCircles: roomCircles.length,
  roomCircleSizes: roomCircles.map((c) => c.length),
  sqlFiles: sqlFiles.length,
  coreFilesOver500: coreFilesOver500.length,
  issueNumberFiles: issueNumberFiles.length,
  issueNumberDocs: issueNumberDocs.length,
};
if (DETAILS) Object.assign(report, { details: { fileCycles, roomCircles, roomPairs, sqlFiles, coreFilesOver500, issueNumberFiles, issueNumberDocs } });
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
if (STRICT && (report.fileCycles || report.roomCircles || report.sqlFiles || report.coreFilesOver500 || report.issueNumberFiles || report.issueNumberDocs)) process.exitCode = 1;
