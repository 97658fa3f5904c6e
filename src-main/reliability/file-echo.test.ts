/**
 * Issue 14: whoever holds the serve token must not be able to read files through error messages or overwrite files
 * through exports. importLabels / importEmbeddings / embed({model: path}) on a file that is not theirs say what is
 * wrong without its content; exportEmbeddings refuses an existing file unless `force`, never writes over the library's
 * own files (the library, -wal, -shm, -journal, lock, backups) and reports the real paths it wrote.
 */
import { copyFileSync, existsSync, linkSync, rmSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreService } from '../core/service.ts';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';
import { writeNpy } from '../core/npy-file.ts';

const t = tempDir('constellate-echo-');
let svc: CoreService;
const lib = join(t.dir, 'lib.constellate');
const SECRET = 'hunter2-TOPSECRET-9f8e7d';
const secrets: Record<string, string> = {};

async function failure(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { return `${(e as { code?: string }).code}: ${(e as Error).message}`; }
  throw new Error('expected a failure');
}
function noLeak(msg: string, file: string) {
  expect(msg).not.toContain(SECRET);
  expect(msg).not.toContain('hunter2');
  expect(msg).not.toContain('TOPSECRET');
  expect(msg).not.toMatch(/root:x:0/);
  expect(msg).not.toContain('ghp_');
  expect(msg, `names the file: ${msg}`).toContain(file);
}

beforeAll(async () => {
  secrets.env = join(t.dir, '.env');
  writeFileSync(secrets.env, `API_KEY=${SECRET}\nOTHER=1\n`);
  secrets.gitcred = join(t.dir, '.git-credentials');
  writeFileSync(secrets.gitcred, `https://user:ghp_${SECRET}@github.com\n`);
  secrets.csv = join(t.dir, 'secret.csv');
  writeFileSync(secrets.csv, `${SECRET},${SECRET}\n${SECRET},x\n`);
  secrets.json = join(t.dir, 'secret.json');
  writeFileSync(secrets.json, `{"password": "${SECRET}"`);
  secrets.jsonl = join(t.dir, 'secret.jsonl');
  writeFileSync(secrets.jsonl, `{"token": "${SECRET}"}\n${SECRET}\n`);
  secrets.passwd = '/etc/passwd';
  const photos = join(t.dir, 'photos');
  mkdirSync(photos);
  for (const f of readdirSync(sharedPath('data/photos-flowers', 'daisy')).sort().slice(0, 3)) copyFileSync(sharedPath('data/photos-flowers', 'daisy', f), join(photos, f));
  svc = CoreService.open(lib);
  await svc.addRoots({ paths: [photos] });
  const job = await svc.scan();
  for (let i = 0; i < 600 && ['queued', 'running'].includes((await svc.getJob({ id: job.id })).state); i++) await new Promise((r) => setTimeout(r, 100));
  const paths = readdirSync(photos).sort().map((f) => join(photos, f));
  writeNpy(join(t.dir, 'x.npy'), new Float32Array(paths.length * 4).map((_, i) => i + 1), [paths.length, 4]);
  writeFileSync(join(t.dir, 'ids.csv'), 'path\n' + paths.join('\n') + '\n');
  await svc.importEmbeddings({ npy: join(t.dir, 'x.npy'), ids: join(t.dir, 'ids.csv'), model: 'mine' });
}, 120_000);
let closed = false;
afterAll(async () => { if (!closed) await svc.close(); t.cleanup(); });

describe('errors never echo file content', () => {
  it('importLabels', async () => {
    for (const f of Object.values(secrets)) noLeak(await failure(svc.importLabels({ source: f })), f);
  });

  it('importEmbeddings (ids file and matrix file)', async () => {
    for (const f of Object.values(secrets)) {
      noLeak(await failure(svc.importEmbeddings({ npy: join(t.dir, 'x.npy'), ids: f, model: 'imp' })), f);
      noLeak(await failure(svc.importEmbeddings({ npy: f, ids: join(t.dir, 'ids.csv'), model: 'imp' })), f);
    }
  });

  it('embed with a model manifest path', async () => {
    for (const f of Object.values(secrets)) {
      let msg: string;
      try {
        const job = await svc.embed({ model: f });
        let info = await svc.getJob({ id: job.id });
        for (let i = 0; i < 600 && ['queued', 'running'].includes(info.state); i++) { await new Promise((r) => setTimeout(r, 50)); info = await svc.getJob({ id: job.id }); }
        expect(info.state).toBe('failed');
        msg = `${info.error?.code}: ${info.error?.message}`;
      } catch (e) { msg = `${(e as { code?: string }).code}: ${(e as Error).message}`; }
      noLeak(msg, f);
    }
  });
});

describe('exportEmbeddings writes only where it may', () => {
  it('refuses an existing file unless force, and reports the real paths', async () => {
    const out = join(t.dir, 'exp', 'e.npy');
    mkdirSync(join(t.dir, 'exp'));
    const r = await svc.exportEmbeddings({ model: 'mine', out });
    expect(r.out).toBe(out);
    expect(r.ids).toBe(join(t.dir, 'exp', 'e.ids.csv'));
    expect(existsSync(r.out) && existsSync(r.ids)).toBe(true);
    // again: both exist
    expect(await failure(svc.exportEmbeddings({ model: 'mine', out }))).toMatch(/^CONFLICT: .*e\.npy.*exists.*force/);
    const victim = join(t.dir, 'victim.csv');
    writeFileSync(victim, 'keep me');
    expect(await failure(svc.exportEmbeddings({ model: 'mine', out: join(t.dir, 'exp', 'new.npy'), ids: victim }))).toMatch(/^CONFLICT: .*victim\.csv/);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(existsSync(join(t.dir, 'exp', 'new.npy'))).toBe(false); // nothing written when one of the two is refused
    const forced = await svc.exportEmbeddings({ model: 'mine', out, force: true });
    expect(forced.rows).toBe(3);
    // a symlinked folder: the JSON names where the files really are
    symlinkSync(join(t.dir, 'exp'), join(t.dir, 'via-link'));
    const linked = await svc.exportEmbeddings({ model: 'mine', out: join(t.dir, 'via-link', 'l.npy') });
    expect(linked.out).toBe(join(t.dir, 'exp', 'l.npy'));
    expect(linked.ids).toBe(join(t.dir, 'exp', 'l.ids.csv'));
  });

  it('never writes over the library or its own files, force or not', async () => {
    const before = statSync(lib);
    const sneaky = join(t.dir, 'sub');
    mkdirSync(sneaky);
    symlinkSync(lib, join(sneaky, 'lib-link.npy'));
    linkSync(lib, join(sneaky, 'hard.npy'));
    symlinkSync(t.dir, join(sneaky, 'up'));
    const attempts: Array<[string, string | undefined]> = [
      [join(t.dir, 'x2.npy'), lib],
      [join(t.dir, 'x3.npy'), `${lib}-wal`],
      [join(t.dir, 'x4.npy'), `${lib}-shm`],
      [join(t.dir, 'x5.npy'), `${lib}.lock`],
      [join(t.dir, 'x6.npy'), `${lib}.backup-20260101.csv`],
      [`${lib}.npy`, undefined],
      [join(sneaky, 'lib-link.npy'), undefined],
      [join(sneaky, 'hard.npy'), undefined],
      [join(sneaky, 'x7.npy'), join(sneaky, 'up', 'lib.constellate')],
    ];
    for (const [out, ids] of attempts) {
      for (const force of [false, true]) {
        const msg = await failure(svc.exportEmbeddings({ model: 'mine', out, ids, force }));
        expect(msg, `${out} ${ids}`).toMatch(/^(BAD_ARGUMENT|CONFLICT): .*librar/);
      }
    }
    const after = statSync(lib);
    expect(after.ino).toBe(before.ino);
    expect((await svc.getInfo()).photos).toBe(3);
    // out and ids naming one file
    expect(await failure(svc.exportEmbeddings({ model: 'mine', out: join(t.dir, 'same.npy'), ids: join(t.dir, 'same.npy'), force: true }))).toMatch(/^BAD_ARGUMENT: /);
  });
});

describe('constellate export-embeddings --force', () => {
  it('refuses an existing file without --force, replaces it with it, prints the real paths', async () => {
    await svc.close();
    closed = true;
    // the earlier hard link to the library would (rightly) make it refuse to open for writing: keep one name
    rmSync(join(t.dir, 'sub', 'hard.npy'), { force: true });
    const cli = (args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args, '--library', lib, '--json'], { encoding: 'utf8' });
    const out = join(t.dir, 'via-link', 'cli.npy'); // via-link -> exp, made above
    const first = cli(['export-embeddings', '--model', 'mine', '--out', out]);
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ rows: 3, out: join(t.dir, 'exp', 'cli.npy'), ids: join(t.dir, 'exp', 'cli.ids.csv') });
    const again = cli(['export-embeddings', '--model', 'mine', '--out', out]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/cli\.npy: exists; pass force \(--force\)/);
    expect(cli(['export-embeddings', '--model', 'mine', '--out', out, '--force']).status).toBe(0);
    const lib2 = cli(['export-embeddings', '--model', 'mine', '--out', join(t.dir, 'z.npy'), '--ids', lib, '--force']);
    expect(lib2.status).not.toBe(0);
    expect(lib2.stderr).toMatch(/library's own file/);
  }, 120_000);
});
