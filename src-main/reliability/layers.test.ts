/**
 * The layers hold (README "Layout"): every import of every production file is read (static, re-export, dynamic) and
 * checked against its layer's rule. Test files (*.test.ts) and test helpers (src-main/testing, core/testing.ts) may use
 * Node; production code may not cross its layer.
 *   common/   imports only common/ and valibot (no Node, no Electron)
 *   algo/     imports only algo/ and common/ (no node:, no core/)
 *   core/     never imports electron, the server, the CLI or the UI
 *   renderer  imports only its own files, @common/ (the contract) and its UI packages
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../testing/fixtures.ts';

const SRC = join(REPO_ROOT, 'src-main');
const RENDERER = join(REPO_ROOT, 'src-renderer', 'src');

function files(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, ext));
    else if (ext.test(e.name) && !/\.test\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Every module specifier a file imports (import/export ... from, import '...', import(...)). */
export function importsOf(code: string): string[] {
  const out: string[] = [];
  const stripped = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  for (const m of stripped.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]/gm)) out.push(m[1]);
  for (const m of stripped.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/gm)) out.push(m[1]);
  for (const m of stripped.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

const NODE = new Set(builtinModules);
const isNode = (s: string) => s.startsWith('node:') || NODE.has(s.split('/')[0]);

/** The violations of a layer: `file: specifier (why)`. */
function check(dir: string, rule: (spec: string, target: string | null) => string | null, ext = /\.ts$/): string[] {
  const bad: string[] = [];
  for (const f of files(dir, ext)) {
    for (const spec of importsOf(readFileSync(f, 'utf8'))) {
      const target = spec.startsWith('.') ? resolve(dirname(f), spec) : null;
      const why = rule(spec, target);
      if (why) bad.push(`${relative(REPO_ROOT, f)}: ${spec} (${why})`);
    }
  }
  return bad;
}

const inside = (target: string | null, dir: string) => target !== null && (target === dir || target.startsWith(dir + '/'));

const rules = {
  common: (spec: string, target: string | null) =>
    target ? (inside(target, join(SRC, 'common')) ? null : 'common/ imports only common/') : spec === 'valibot' ? null : 'common/ imports no package but valibot',
  algo: (spec: string, target: string | null) => {
    if (isNode(spec)) return 'algo/ is pure: no Node';
    if (!target) return 'algo/ imports no packages';
    return inside(target, join(SRC, 'algo')) || inside(target, join(SRC, 'common')) ? null : 'algo/ imports only algo/ and common/';
  },
  core: (spec: string, target: string | null) => {
    if (spec === 'electron' || spec.startsWith('electron/')) return 'only electron/ imports electron';
    for (const l of ['electron', 'server', 'cli']) if (inside(target, join(SRC, l))) return `core/ never imports ${l}/`;
    return inside(target, join(REPO_ROOT, 'src-renderer')) ? 'core/ never imports the UI' : null;
  },
  renderer: (spec: string, target: string | null) => {
    if (isNode(spec)) return 'the renderer has no Node';
    if (spec.startsWith('@common/')) return null;
    if (target) return inside(target, join(REPO_ROOT, 'src-renderer')) ? null : 'the renderer reaches the main side only through @common/';
    return spec.startsWith('@') && !spec.startsWith('@vue/') ? 'the renderer imports no other alias' : spec === 'electron' ? 'the renderer never imports electron' : null;
  },
};

describe('layers', () => {
  it('the import reader sees static, re-export, side-effect and dynamic imports, not comments', () => {
    expect(importsOf(`import a from 'x';\nimport type { B } from "../y.ts";\nexport { c } from './z.ts';\nimport 'side';\nconst w = await import('node:fs');\n// import q from 'commented'\n/* import r from 'block' */`))
      .toEqual(['x', '../y.ts', './z.ts', 'side', 'node:fs']);
  });

  it('a violation is caught (the check can fail)', () => {
    expect(rules.algo('node:fs', null)).toMatch(/no Node/);
    expect(rules.algo('../../core/x.ts', join(SRC, 'core/x.ts'))).toMatch(/only algo/);
    expect(rules.common('../algo/knn.ts', join(SRC, 'algo/knn.ts'))).toMatch(/only common/);
    expect(rules.core('electron', null)).toMatch(/electron/);
    expect(rules.renderer('../../src-main/core/service.ts', join(REPO_ROOT, 'src-main/core/service.ts'))).toMatch(/@common/);
  });

  it('common/: only common/ and valibot', () => expect(check(join(SRC, 'common'), rules.common)).toEqual([]));
  it('algo/: no Node, no core/', () => expect(check(join(SRC, 'algo'), rules.algo)).toEqual([]));
  it('core/: no electron', () => expect(check(join(SRC, 'core'), rules.core).filter((v) => !v.startsWith('src-main/core/testing.ts'))).toEqual([]));
  it('renderer: only @common/ from the main side', () => expect(check(RENDERER, rules.renderer, /\.(ts|vue)$/)).toEqual([]));
});
