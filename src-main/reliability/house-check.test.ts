/**
 * scripts/house-check.mjs measures the floors of the house (file cycles, core/ room circles, SQL outside core/store/,
 * core/ files over 500 lines, issue numbers in production code and in README/BENCHMARKS). Here on a fixture tree with one of each, and on the
 * repository (runs, prints the measures as JSON).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../testing/fixtures.ts';

const SCRIPT = join(REPO_ROOT, 'scripts/house-check.mjs');

function check(root: string): { status: number | null; report: Record<string, unknown> & { details: Record<string, unknown> } } {
  const r = spawnSync(process.execPath, [SCRIPT, root, '--details', '--strict'], { encoding: 'utf8' });
  if (!r.stdout) throw new Error(`house-check gave no output: ${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout) };
}

describe('house check', () => {
  const tmp = tempDir('constellate-house-');
  afterAll(() => tmp.cleanup());

  it('finds each kind of problem in a fixture tree, and only those', () => {
    const root = tmp.dir;
    const put = (rel: string, code: string) => { mkdirSync(dirname(join(root, rel)), { recursive: true }); writeFileSync(join(root, rel), code); };
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    // a type-only cycle in common/, and a cycle through the renderer's @common/ alias
    put('src-main/common/a.ts', `import type { B } from './b.ts';\nexport interface A { b?: B }\n`);
    put('src-main/common/b.ts', `export interface B { a?: import('./a.ts').A }\n`);
    put('src-main/common/c.ts', `import { r } from '../../src-renderer/src/r.ts';\nexport const c = r;\n`);
    put('src-renderer/src/r.ts', `import { c } from '@common/c.ts';\nexport const r = () => c;\n`);
    // core rooms: scan/ <-> models/ (folders), and a loose file with a folder; store/ may hold SQL
    put('src-main/core/scan/s.ts', `import { m } from '../models/m.ts';\nexport const s = () => m;\n`);
    put('src-main/core/models/m.ts', `import { s } from '../scan/s.ts';\nexport const m = () => s;\n`);
    put('src-main/core/store/repo.ts', `export const q = 'SELECT id FROM photos WHERE id = ?';\n`);
    // SQL: lower case in a template built in pieces, and a fragment; not in a comment, not a tag name
    put('src-main/core/lower.ts', 'export const q = (t: string) => `select id, path from ${t} where id = ?`;\n');
    put('src-main/core/fragment.ts', `export const from = 'faces f JOIN photos p ON p.id = f.photo_id';\n`);
    put('src-main/core/comment-only.ts', `// SELECT id FROM photos (a comment)\nexport const tag = (t: string) => t === 'SELECT' || t === 'INPUT';\n`);
    // an issue number, and a core file over 500 lines
    put('src-main/cli/notes.ts', `/** people and faces (Issue 19) */\nexport const n = 1;\n`);
    put('src-main/core/big.ts', Array.from({ length: 501 }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n');
    put('src-main/core/ok.ts', Array.from({ length: 500 }, (_, i) => `export const v${i} = ${i};`).join('\n') + '\n');
    // tests and test helpers are not production code
    put('src-main/core/x.test.ts', `import { s } from './scan/s.ts';\nexport const q = 'DELETE FROM photos'; // issue 5\n`);
    put('src-main/testing/h.ts', `export const q = 'DELETE FROM photos'; // issue 5\n`);
    // the docs: an issue number in BENCHMARKS.md counts, a README that names none does not
    put('README.md', `# Fixture\n\nPeople and faces: see the People section.\n`);
    put('BENCHMARKS.md', `# Benchmarks\n\n## Suggestion latency (issue #19)\n`);

    const { status, report } = check(root);
    expect(status).toBe(1);
    const d = report.details as { fileCycles: string[][]; roomCircles: string[][]; sqlFiles: string[]; coreFilesOver500: Array<{ file: string }>; issueNumberFiles: string[]; issueNumberDocs: string[] };
    expect(d.fileCycles.map((c) => c.join(' ')).sort()).toEqual([
      'src-main/common/a.ts src-main/common/b.ts',
      'src-main/common/c.ts src-renderer/src/r.ts',
      'src-main/core/models/m.ts src-main/core/scan/s.ts',
    ]);
    expect(d.roomCircles).toEqual([['models/', 'scan/']]);
    expect(d.sqlFiles.sort()).toEqual(['src-main/core/fragment.ts', 'src-main/core/lower.ts']);
    expect(d.coreFilesOver500.map((x) => x.file)).toEqual(['src-main/core/big.ts']);
    expect(d.issueNumberFiles).toEqual(['src-main/cli/notes.ts']);
    expect(d.issueNumberDocs).toEqual(['BENCHMARKS.md']);
    expect([report.fileCycles, report.roomCircles, report.sqlFiles, report.coreFilesOver500, report.issueNumberFiles, report.issueNumberDocs]).toEqual([3, 1, 2, 1, 1, 1]);
  });

  it('measures the repository (the numbers are the issue\'s "Done when" floors)', () => {
    const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8', cwd: REPO_ROOT });
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['root', 'files', 'fileCycles', 'roomCircles', 'roomCircleSizes', 'sqlFiles', 'coreFilesOver500', 'issueNumberFiles', 'issueNumberDocs']);
    expect(report.files).toBeGreaterThan(150);
  });

  it('holds the repository at its floors: no cycle, no circle of core rooms, no SQL outside the store, no core file over 500 lines, no issue number', () => {
    const { status, report } = check(REPO_ROOT);
    // the details name what broke a floor
    expect(report.details, JSON.stringify(report.details)).toEqual({ ...report.details, fileCycles: [], roomCircles: [], sqlFiles: [], coreFilesOver500: [], issueNumberFiles: [], issueNumberDocs: [] });
    expect(status).toBe(0);
  });
});
