/** `constellate learn --run ID --json` on real London faces, through the CLI process: the report's keys, a missing run. */
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreService } from '../core/service.ts';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';

function cli(args: string[], timeout = 180_000) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, json: (() => { try { return JSON.parse(r.stdout); } catch { return null; } })() };
}

const t = tempDir('constellate-cli-learn-');
const lib = join(t.dir, 'learn.constellate');
const L = ['--library', lib];
let runId = 0;

beforeAll(async () => {
  const dir = join(t.dir, 'faces');
  for (const p of ['person-001', 'person-002', 'person-003']) { mkdirSync(join(dir, p), { recursive: true }); cpSync(sharedPath('data/faces-london', p), join(dir, p), { recursive: true }); }
  const svc = CoreService.open(lib);
  try {
    await svc.addRoots({ paths: [dir] });
    await svc.jobs.wait((await svc.scan()).id);
    await svc.jobs.wait((await svc.embed({ model: 'face' })).id);
    runId = ((await svc.jobs.wait((await svc.cluster({ model: 'face', params: { preset: 'people' } })).id)).result as { runId: number }).runId;
    const [a, b] = (await svc.listPeople({ runId })).map((p) => p.cluster);
    const ma = (await svc.getClusterMembers({ runId, cluster: a })).items.map((i) => i.item);
    const mb = (await svc.getClusterMembers({ runId, cluster: b })).items.map((i) => i.item);
    await svc.confirmSuggestions({ runId, cluster: a, items: ma });
    await svc.confirmSuggestions({ runId, cluster: b, items: mb });
    await svc.rejectSuggestions({ runId, cluster: a, items: [mb[0]] });
  } finally { await svc.close(); }
}, 300_000);
afterAll(() => t.cleanup());

describe('learn (CLI)', () => {
  it('learn --json prints {model, pairs, heldOut, before, after} (+ version, dims, seconds, used); a missing run exits non-zero', () => {
    const r = cli(['learn', '--run', String(runId), ...L, '--json']);
    expect(r.code).toBe(0);
    expect(Object.keys(r.json).sort()).toEqual(['after', 'before', 'dims', 'heldOut', 'model', 'offerMargin', 'pairs', 'runId', 'seconds', 'used', 'version']);
    expect(r.json).toMatchObject({ runId, model: 'face', pairs: 5, version: 1 });
    const gone = cli(['learn', '--run', '999', ...L, '--json']);
    expect(gone.code).not.toBe(0);
    expect(gone.json.error.code).toBe('NOT_FOUND');
    expect(cli(['learn', ...L]).code).toBe(2);
  });
});
