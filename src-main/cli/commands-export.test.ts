import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const t = tempDir();
afterAll(() => t.cleanup());
const lib = join(t.dir, 'export.constellate');

describe('constellate export / import-labels', () => {
  let runId: number;
  beforeAll(() => {
    const photos = join(t.dir, 'photos');
    for (const cls of ['daisy', 'roses']) {
      mkdirSync(join(photos, cls), { recursive: true });
      for (const f of readdirSync(sharedPath('data/photos-flowers', cls)).sort().slice(0, 3)) copyFileSync(sharedPath('data/photos-flowers', cls, f), join(photos, cls, f));
    }
    expect(cli(['scan', photos, '--library', lib, '--json']).code).toBe(0);
    expect(cli(['embed', '--model', 'photo', '--library', lib, '--json']).code).toBe(0);
    const c = cli(['cluster', '--model', 'photo', '--algo', 'kmeans', '--k', '2', '--library', lib, '--json']);
    expect(c.code).toBe(0);
    runId = JSON.parse(c.stdout).runId;
  }, 180_000);

  it('exports folders with --json and imports them back', () => {
    const to = join(t.dir, 'out');
    const dry = cli(['export', '--run', String(runId), '--to', to, '--format', 'folders', '--dry-run', '--library', lib, '--json']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ runId, format: 'folders', to, items: 6, files: 6, dryRun: true, skipped: 0 });
    expect(existsSync(to)).toBe(false);
    const r = cli(['export', '--run', String(runId), '--to', to, '--format', 'folders', '--link', 'hardlink', '--library', lib, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ runId, format: 'folders', link: 'hardlink', to, items: 6, files: 6, collisions: 0, dryRun: false });
    expect(out.groups).toBe(readdirSync(to).length);
    expect(r.stderr).toMatch(/export \d+\/6/);
    const imp = cli(['import-labels', to, '--library', lib, '--json']);
    expect(imp.code).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ mode: 'folders', matched: 6, photos: 6, unmatched: 0 });
    // the imported labels are ground truth for cluster --labels imported: the same grouping scores AMI 1
    const again = cli(['cluster', '--model', 'photo', '--algo', 'kmeans', '--k', '2', '--labels', 'imported', '--library', lib, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).ami).toBeCloseTo(1, 6);
    const html = cli(['export', '--run', String(runId), '--to', to, '--format', 'html', '--library', lib]);
    expect(html.code).toBe(0);
    expect(html.stdout).toMatch(/exported 6 photos in \d groups as html/);
    expect(readFileSync(join(to, `run-${runId}.html`), 'utf8')).toContain('<svg');
  });

  it('bad input exits non-zero with one line naming the parameter or folder', () => {
    const file = join(t.dir, 'plain-file');
    writeFileSync(file, 'x');
    const cases: Array<[string[], RegExp]> = [
      [['export', '--to', t.dir, '--format', 'csv'], /--run: is required/],
      [['export', '--run', String(runId), '--to', t.dir, '--format', 'zip'], /--format: expected folders, csv, json, html/],
      [['export', '--run', String(runId), '--to', t.dir, '--format', 'folders', '--link', 'move'], /--link: expected copy, hardlink, symlink/],
      [['export', '--run', '999', '--to', t.dir, '--format', 'csv'], /run 999 does not exist/],
      [['export', '--run', String(runId), '--to', join(file, 'sub'), '--format', 'csv'], /plain-file\/sub: cannot write there/],
      [['import-labels', file], /plain-file: the CSV header needs 'path' and 'label'/],
    ];
    for (const [args, re] of cases) {
      const r = cli([...args, '--library', lib]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
  });

  it('import-labels --run ID names that run\'s groups (one undoable edit) and --json names the run used as runId', () => {
    const photos = join(t.dir, 'photos');
    const other = cli(['cluster', '--model', 'photo', '--algo', 'kmeans', '--k', '2', '--seed', '9', '--library', lib, '--json']);
    expect(other.code).toBe(0);
    const newest = JSON.parse(other.stdout).runId;
    const r = cli(['import-labels', photos, '--run', String(runId), '--library', lib, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.runId).toBe(runId);
    expect(out.seeded).toEqual([expect.objectContaining({ runId, kind: 'photo' })]);
    // the default is the newest run
    const d = cli(['import-labels', photos, '--library', lib, '--json']);
    expect(JSON.parse(d.stdout).runId).toBe(newest);
    expect(cli(['import-labels', photos, '--run', '0', '--library', lib]).stderr).toMatch(/--run: expected a run id/);
    // a relative path is the shell's folder's (the CLI resolves it; the service refuses relative paths from a UI)
    const rel = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), 'import-labels', 'photos', '--library', lib, '--json'], { cwd: t.dir, encoding: 'utf8', timeout: 300_000 });
    expect(rel.status).toBe(0);
    expect(JSON.parse(rel.stdout).source).toBe(photos);
  });
});
