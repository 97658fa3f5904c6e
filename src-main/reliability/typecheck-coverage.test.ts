/**
 * `npm run typecheck` covers every TypeScript and JavaScript file of the repository's code: src-main (tsconfig.json),
 * bench/*.mts (bench/tsconfig.json), e2e/*.mjs (e2e/tsconfig.json, checkJs) and the renderer (vue-tsc). A file that no
 * tsconfig matches is never checked (bench/ and e2e/ were not, once: their patterns matched none of their files).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../testing/fixtures.ts';

function filesOf(config: string): Set<string> {
  const cfg = ts.getParsedCommandLineOfConfigFile(join(REPO_ROOT, config), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } });
  if (!cfg) throw new Error(`cannot read ${config}`);
  return new Set(cfg.fileNames.map((f) => relative(REPO_ROOT, f)));
}

const listed = (dir: string, re: RegExp): string[] =>
  (readdirSync(join(REPO_ROOT, dir), { recursive: true }) as string[]).filter((f) => re.test(f)).map((f) => join(dir, f));

describe('type-check coverage', () => {
  it('npm run typecheck runs every tsconfig', () => {
    const script: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts.typecheck;
    for (const c of ['tsc -p tsconfig.json', 'tsc -p bench/tsconfig.json', 'tsc -p e2e/tsconfig.json', 'vue-tsc -p src-renderer/tsconfig.json']) expect(script).toContain(c);
  });

  it('every bench .mts, e2e .mjs and src-main .ts file is matched by its tsconfig', () => {
    const bench = filesOf('bench/tsconfig.json');
    const e2e = filesOf('e2e/tsconfig.json');
    const main = filesOf('tsconfig.json');
    const benchFiles = listed('bench', /\.m?ts$/);
    const e2eFiles = listed('e2e', /\.mjs$/);
    const mainFiles = listed('src-main', /\.ts$/);
    expect(benchFiles.length).toBeGreaterThan(10);
    expect(e2eFiles.length).toBeGreaterThan(5);
    expect(benchFiles.filter((f) => !bench.has(f))).toEqual([]);
    expect(e2eFiles.filter((f) => !e2e.has(f))).toEqual([]);
    expect(mainFiles.filter((f) => !main.has(f))).toEqual([]);
  });
});
