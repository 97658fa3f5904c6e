/**
 * The model build's entry as `constellate prepare-models` runs it (its own process): the status of the prepared
 * models on stdout, or the error it ended with as `{error: {code, message}}` and the CLI's exit status.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src-main/testing/fixtures.ts';
import { ensureModels } from '../../src-main/testing/models.ts';

const TOOL = join(REPO_ROOT, 'tools/models/prepare-cli.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
const tool = (args: string[]) => spawnSync(process.execPath, ['--import', TSX, TOOL, ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 300_000 });

describe('prepare-cli (the model build in its own process)', () => {
  it('prints the models\' status as JSON', async () => {
    const dir = await ensureModels();
    const r = tool(['--models-dir', dir, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const status = JSON.parse(r.stdout) as Array<{ name: string; status: string; files: string[] }>;
    expect(status.map((s) => [s.name, s.status])).toEqual([['photo', 'ok'], ['face', 'ok']]);
  });

  it('a models folder that cannot be made, or a flag without its value, is an error naming it, as JSON', () => {
    const bad = tool(['--models-dir', '/dev/null/models', '--quiet']);
    expect(bad.status).toBe(2);
    expect(JSON.parse(bad.stdout).error).toEqual({ code: 'NOT_FOUND', message: expect.stringContaining('/dev/null/models') });
    const noValue = tool(['--models-dir']);
    expect(noValue.status).toBe(2);
    expect(JSON.parse(noValue.stdout).error).toEqual({ code: 'BAD_ARGUMENT', message: '--models-dir needs a value' });
  });
});
