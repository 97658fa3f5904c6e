import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';

const t = tempDir();
afterAll(() => t.cleanup());
const lib = join(t.dir, 'cli.constellate');

export function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], {
    cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('constellate CLI', () => {
  it('scan --json reports the 200 flower photos; progress goes to stderr', () => {
    const r = cli(['scan', sharedPath('data/photos-flowers'), '--library', lib, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.photos).toBe(200);
    expect(out.errors).toBe(0);
    expect(r.stderr).toMatch(/read \d+\/200/);
  });

  it('info --json reports photos, errors, faces and embeddings per model', () => {
    const r = cli(['info', '--library', lib, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ photos: 200, errors: 0, faces: 0, embeddings: {} });
  });

  it('bad input exits non-zero with one line naming the problem', () => {
    const cases: Array<[string[], RegExp]> = [
      [['scan', '--library', lib, '--bogus'], /unknown option --bogus/],
      [['scan', join(t.dir, 'no-such-folder'), '--library', lib], /no-such-folder: no such folder/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['serve', '--port', 'abc', '--library', lib], /--port: expected a number/],
      [['info', '--library'], /--library needs a value/],
    ];
    for (const [args, re] of cases) {
      const r = cli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    }
  });

  it('refuses a file that is not a library, and leaves it alone', () => {
    const f = join(t.dir, 'photo.jpg');
    writeFileSync(f, 'definitely not sqlite'.repeat(10));
    const r = cli(['info', '--library', f, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a Constellate library/);
    expect(JSON.parse(r.stdout).error.code).toBe('NOT_A_LIBRARY');
  });
});
