import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../testing/fixtures.ts';

/** What the app's modules resolve in a fresh process with the given environment. */
function resolved(env: Record<string, string>): { MODELS_DIR: string; defaultModelsDir: string; workers: number } {
  const code = `import { MODELS_DIR } from './src-main/core/paths.ts'; import { defaultModelsDir } from './src-main/core/models/files.ts';
    import { workerCount } from './src-main/core/workers/pool.ts';
    console.log(JSON.stringify({ MODELS_DIR, defaultModelsDir: defaultModelsDir(), workers: workerCount() }));`;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CONSTELLATE_MODELS')));
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...clean, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('config.ts: every environment variable in one place', () => {
  it('CONSTELLATE_MODELS_DIR and CONSTELLATE_MODELS name the same folder for every part of the app (embedding included)', () => {
    for (const name of ['CONSTELLATE_MODELS', 'CONSTELLATE_MODELS_DIR']) {
      const r = resolved({ [name]: '/tmp/some-models' });
      expect(r.MODELS_DIR, name).toBe('/tmp/some-models');
      expect(r.defaultModelsDir, name).toBe('/tmp/some-models');
    }
    const both = resolved({ CONSTELLATE_MODELS: '/tmp/a', CONSTELLATE_MODELS_DIR: '/tmp/b' });
    expect([both.MODELS_DIR, both.defaultModelsDir]).toEqual(['/tmp/a', '/tmp/a']);
    const none = resolved({});
    expect(none.MODELS_DIR).toBe(join(REPO_ROOT, 'resources', 'models'));
  });

  it('CONSTELLATE_WORKERS: a positive integer, else the cores', () => {
    expect(resolved({ CONSTELLATE_WORKERS: '3' }).workers).toBe(3);
    expect(resolved({ CONSTELLATE_WORKERS: '-1' }).workers).toBeGreaterThanOrEqual(1);
  });

  it('no other module reads process.env for the app\'s settings', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) && !p.endsWith(join('core', 'config.ts')) && !p.includes(`${join('src-main', 'reliability')}`)) {
          if (/process\.env\.[A-Za-z_]|process\.env\[/.test(readFileSync(p, 'utf8'))) offenders.push(p.slice(REPO_ROOT.length + 1));
        }
      }
    };
    walk(join(REPO_ROOT, 'src-main'));
    expect(offenders).toEqual([]);
  });
});
