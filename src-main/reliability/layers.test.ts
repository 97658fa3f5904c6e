/**
 * The layers hold (README "Layout"), checked by dependency-cruiser with the repository's .dependency-cruiser.cjs
 * (also run by `npm test` before vitest: `npm run lint:layers`). Here: the tree has no violation, and a fixture tree
 * with one violation of each rule is refused (the check can fail).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../testing/fixtures.ts';

const DEPCRUISE = join(REPO_ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
const CONFIG = join(REPO_ROOT, '.dependency-cruiser.cjs');

interface Violation { rule: { name: string }; from: string; to: string }

/** Runs depcruise in `cwd` over `dirs`; its violations. */
function cruise(cwd: string, dirs: string[]): { violations: Violation[] } {
  const r = spawnSync(process.execPath, [DEPCRUISE, ...dirs, '--config', CONFIG, '--output-type', 'json'], { cwd, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (!r.stdout) throw new Error(`depcruise gave no output: ${r.stderr}`);
  return { violations: JSON.parse(r.stdout).summary.violations as Violation[] };
}

/** The exit status of depcruise as `npm run lint:layers` runs it (text output: non-zero on any violation). */
function lintStatus(cwd: string, dirs: string[]): number | null {
  return spawnSync(process.execPath, [DEPCRUISE, ...dirs, '--config', CONFIG], { cwd, encoding: 'utf8' }).status;
}

describe('layers (dependency-cruiser)', () => {
  const tmp = tempDir('constellate-layers-');
  afterAll(() => tmp.cleanup());

  it('the tree has no violation', () => {
    const r = cruise(REPO_ROOT, ['src-main', 'src-renderer/src']);
    expect(r.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  it('a fixture with one violation per rule is refused, each by its rule', () => {
    const root = tmp.dir;
    const put = (rel: string, code: string) => { mkdirSync(dirname(join(root, rel)), { recursive: true }); writeFileSync(join(root, rel), code); };
    copyFileSync(join(REPO_ROOT, 'tsconfig.depcruise.json'), join(root, 'tsconfig.depcruise.json'));
    mkdirSync(join(root, 'src-main/common'), { recursive: true });
    put('src-main/common/api.ts', `export const x = 1;\n`);
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    // the entry points reach every production file except the test-only helper
    put('src-main/cli/main.ts', `import { x } from '../common/api.ts';\nimport { a } from '../algo/bad.ts';\nimport { c } from '../common/bad.ts';\nimport { k } from '../core/bad.ts';\nimport { s } from '../server/bad.ts';\nimport { u } from './uses-core.ts';\nimport { t } from '../core/uses-tool.ts';\nexport const m = [x, a, c, k, s, u, t];\n`);
    put('src-main/electron/main.ts', `import { app } from 'electron';\nexport const e = app;\n`);
    put('src-main/electron/preload.ts', `export const p = 1;\n`);
    put('src-main/core/tasks/worker.ts', `export const w = 1;\n`);
    put('src-main/algo/bad.ts', `import { readFileSync } from 'node:fs';\nimport { k } from '../core/ok.ts';\nexport const a = [readFileSync, k];\n`);
    put('src-main/common/bad.ts', `import { a } from '../algo/ok.ts';\nimport { join } from 'node:path';\nexport const c = [a, join];\n`);
    put('src-main/algo/ok.ts', `export const a = 1;\n`);
    put('src-main/core/ok.ts', `export const k = 1;\n`);
    put('src-main/core/bad.ts', `import { app } from 'electron';\nimport { s } from '../server/bad.ts';\nimport { T } from '../testing/fixture.ts';\nexport const k = [app, s, T];\n`);
    put('src-main/server/bad.ts', `export const s = 1;\n`);
    put('src-main/testing/fixture.ts', `export const T = 1;\n`);
    put('src-main/core/test-only-helper.ts', `import { k } from './ok.ts';\nexport const helper = k;\n`);
    // core/'s rooms in order: a repository (store/) never reaches up into a domain service
    put('src-main/core/store/up.ts', `import { v } from '../services/v.ts';\nexport const u = v;\n`);
    put('src-main/core/services/v.ts', `export const v = 1;\n`);
    put('src-main/core/uses-helper.test.ts', `import { helper } from './test-only-helper.ts';\nexport const t = helper;\n`);
    // cycles: a type-only one, one through an alias-free re-export chain of three files, service.ts <-> watch.ts and a cycle through service.ts and another file
    // the model build is a tool: a production file never imports it (a test helper may)
    put('tools/models/build.ts', `export const build = 1;\n`);
    put('src-main/core/uses-tool.ts', `import { build } from '../../tools/models/build.ts';\nexport const t = build;\n`);
    put('src-main/testing/uses-tool.ts', `import { build } from '../../tools/models/build.ts';\nexport const t2 = build;\n`);
    put('src-main/core/cyc-a.ts', `import type { B } from './cyc-b.ts';\nexport interface A { b?: B }\n`);
    put('src-main/core/cyc-b.ts', `import type { A } from './cyc-a.ts';\nexport interface B { a?: A }\n`);
    put('src-main/core/tri-1.ts', `import { t2 } from './tri-2.ts';\nexport const t1 = () => t2;\n`);
    put('src-main/core/tri-2.ts', `export { t3 as t2 } from './tri-3.ts';\n`);
    put('src-main/core/tri-3.ts', `import { t1 } from './tri-1.ts';\nexport const t3 = () => t1;\n`);
    put('src-main/core/service.ts', `import { w } from './watch.ts';\nimport { h } from './helper-of-service.ts';\nexport const s = () => [w, h];\n`);
    put('src-main/core/watch.ts', `import { s } from './service.ts';\nexport const w = () => s;\n`);
    put('src-main/core/helper-of-service.ts', `import { s } from './service.ts';\nexport const h = () => s;\n`);
    put('src-main/cli/uses-core.ts', `import { k } from '../core/ok.ts';\nimport type { A } from '../core/cyc-a.ts';\nimport { t1 } from '../core/tri-1.ts';\nimport { s } from '../core/service.ts';\nexport const u = [k, t1, s] as unknown as A;\n`);
    put('src-renderer/src/main.ts', `import { x } from '@common/api.ts';\nimport { k } from '../../src-main/core/ok.ts';\nimport { readFileSync } from 'node:fs';\nexport const r = [x, k, readFileSync];\n`);

    const r = cruise(root, ['src-main', 'src-renderer/src']);
    expect(lintStatus(root, ['src-main', 'src-renderer/src'])).not.toBe(0);
    const got = r.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
    const has = (rule: string, from: string, to: RegExp) => expect(got.some((g) => g.startsWith(`${rule}: ${from} -> `) && to.test(g.split(' -> ')[1])), `${rule} ${from} -> ${to}\n${got.join('\n')}`).toBe(true);
    has('algo-pure', 'src-main/algo/bad.ts', /^node:fs$|^fs$/);
    has('algo-pure', 'src-main/algo/bad.ts', /core\/ok\.ts$/);
    has('common-pure', 'src-main/common/bad.ts', /algo\/ok\.ts$/);
    has('common-pure', 'src-main/common/bad.ts', /path$/);
    has('core-no-shells', 'src-main/core/bad.ts', /server\/bad\.ts$/);
    has('only-electron-imports-electron', 'src-main/core/bad.ts', /electron/);
    has('no-test-helpers-in-production', 'src-main/core/bad.ts', /testing\/fixture\.ts$/);
    has('renderer-through-common', 'src-renderer/src/main.ts', /core\/ok\.ts$/);
    has('renderer-no-node', 'src-renderer/src/main.ts', /fs$/);
    has('no-build-tools-in-production', 'src-main/core/uses-tool.ts', /tools\/models\/build\.ts$/);
    expect(got.filter((g) => g.includes('src-main/testing/uses-tool.ts'))).toEqual([]);
    has('no-circular', 'src-main/core/cyc-a.ts', /cyc-b\.ts$/);
    has('no-circular', 'src-main/core/tri-1.ts', /tri-2\.ts$/);
    has('no-circular', 'src-main/core/helper-of-service.ts', /service\.ts$/);
    has('no-circular', 'src-main/core/service.ts', /watch\.ts$/);
    has('core-room-order-store', 'src-main/core/store/up.ts', /core\/services\/v\.ts$/);
    expect(got.some((g) => g.startsWith('production-file-used-by-production:') && g.includes('src-main/core/test-only-helper.ts')), got.join('\n')).toBe(true);
    // what is allowed stays allowed: electron/ imports electron, the renderer imports @common/, tests import helpers
    expect(got.filter((g) => g.includes('src-main/electron/main.ts') || g.includes('@common') || g.includes('/common/api.ts') || g.includes('uses-helper.test.ts'))).toEqual([]);
  });

  it('npm test runs the layer check before vitest', () => {
    const pkg = JSON.parse(execFileSync('cat', [join(REPO_ROOT, 'package.json')], { encoding: 'utf8' }));
    expect(pkg.scripts['lint:layers']).toMatch(/depcruise/);
    expect(pkg.scripts.test).toMatch(/npm run lint:layers &&[^]*vitest run/);
  });
});
