/**
 * Tests can fail: a test that cannot run here is skipped visibly (`it.skipIf` / `describe.skipIf`), never returns early
 * and passes; no `toBeTruthy()` / `toBeFalsy()` (they hold for any object, so a wrong value passes): assert the value.
 * An early return in setup code is allowed only when marked `// setup only:` (its tests are skipIf'd).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../testing/fixtures.ts';

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules' && e.name !== 'artifacts') out.push(...testFiles(p));
    else if (/\.test\.(ts|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** `file:line: text` for every line that breaks the rules. */
export function hygiene(file: string, code: string): string[] {
  const bad: string[] = [];
  code.split('\n').forEach((line, i) => {
    const where = `${file}:${i + 1}: ${line.trim()}`;
    if (/\.toBe(Truthy|Falsy)\(\)/.test(line)) bad.push(where);
    // a guard that returns from a test or hook: `if (!CAN_X) return;` (helpers returning a value are fine)
    if (/^\s*if \([^)]*\)\s*(\{\s*)?return\s*;?\s*(\}\s*)?(\/\/.*)?$/.test(line) && !/\/\/ setup only:/.test(line)) bad.push(where);
  });
  return bad;
}

describe('test hygiene', () => {
  it('the rule sees what it forbids', () => {
    expect(hygiene('x', `  if (!CAN_MOUNT) return;\n  expect(r).toBeTruthy();\n  if (!ok) { return; }\n  expect(x).toBeFalsy();`)).toHaveLength(4);
    expect(hygiene('x', `  if (a.size !== b.size) return false;\n  if (!PY) return; // setup only: skipIf below\n  expect(r).toEqual({ a: 1 });`)).toEqual([]);
  });

  it('no test returns early or asserts only truthiness', () => {
    const files = [...testFiles(join(REPO_ROOT, 'src-main')), ...testFiles(join(REPO_ROOT, 'tools')), ...testFiles(join(REPO_ROOT, 'e2e'))];
    expect(files.length).toBeGreaterThan(50);
    const bad = files.filter((f) => !f.endsWith('test-hygiene.test.ts')).flatMap((f) => hygiene(relative(REPO_ROOT, f), readFileSync(f, 'utf8')));
    expect(bad).toEqual([]);
  });
});
