/** `constellate people` and `constellate suggestions` (issue 19) on real London faces, through the CLI process. */
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreService } from '../core/service.ts';
import { REPO_ROOT, sharedPath, tempDir } from '../testing/fixtures.ts';

function cli(args: string[], timeout = 120_000) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'src-main/cli/bin.mjs'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: (() => { try { return JSON.parse(r.stdout); } catch { return null; } })() };
}

const t = tempDir('constellate-cli-people-');
const lib = join(t.dir, 'people.constellate');
const L = ['--library', lib];
let runId = 0;
let lost = 0;
const cl: number[] = [];

beforeAll(async () => {
  const dir = join(t.dir, 'faces');
  for (const p of ['person-001', 'person-002', 'person-003', 'person-011']) { mkdirSync(join(dir, p), { recursive: true }); cpSync(sharedPath('data/faces-london', p), join(dir, p), { recursive: true }); }
  const svc = CoreService.open(lib);
  try {
    await svc.addRoots({ paths: [dir] });
    await svc.jobs.wait((await svc.scan()).id);
    await svc.jobs.wait((await svc.embed({ model: 'face' })).id);
    runId = ((await svc.jobs.wait((await svc.cluster({ model: 'face', params: { preset: 'people' } })).id)).result as { runId: number }).runId;
    const people = await svc.listPeople({ runId });
    cl.push(...people.map((p) => p.cluster));
    await svc.editRun({ runId, op: { type: 'rename', cluster: cl[0], name: 'Ann' } });
    await svc.editRun({ runId, op: { type: 'rename', cluster: cl[1], name: 'Sam' } });
    await svc.editRun({ runId, op: { type: 'rename', cluster: cl[2], name: 'Sam' } });
    lost = (await svc.getClusterMembers({ runId, cluster: cl[0] })).items[1].item;
    await svc.editRun({ runId, op: { type: 'reject', items: [lost] } });
    await svc.setPerson({ runId, cluster: cl[3], hidden: true });
  } finally { await svc.close(); }
}, 300_000);
afterAll(() => t.cleanup());

describe('people and suggestions (CLI)', () => {
  it('people --json: rows with cluster, name, size, hidden (hidden ones with --hidden)', () => {
    const r = cli(['people', '--run', String(runId), ...L, '--json']);
    expect(r.code).toBe(0);
    expect(r.json.map((p: { cluster: number; name: string | null; size: number; hidden: boolean }) => [p.cluster, p.name, p.size, p.hidden]).sort())
      .toEqual([[cl[0], 'Ann', 1, false], [cl[1], 'Sam', 2, false], [cl[2], 'Sam', 2, false]].sort());
    const all = cli(['people', '--run', String(runId), '--hidden', '--sort', 'name', ...L, '--json']);
    expect(all.json.map((p: { name: string | null }) => p.name)).toEqual(['Ann', 'Sam', 'Sam', null]);
    expect(all.json[3]).toMatchObject({ cluster: cl[3], hidden: true });
  });

  it('suggestions --person NAME --json: the person\'s candidates best first with item, path, similarity', () => {
    const r = cli(['suggestions', '--run', String(runId), '--person', 'ann', ...L, '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ runId, cluster: cl[0], name: 'Ann' });
    expect(r.json.suggestions[0]).toMatchObject({ item: lost, path: expect.stringMatching(/person-00\d\/\w+\.jpg$/) });
    expect(r.json.suggestions[0].similarity).toBeGreaterThanOrEqual(r.json.threshold);
    expect(cli(['suggestions', '--run', String(runId), '--cluster', String(cl[0]), ...L, '--json']).json.suggestions[0].item).toBe(lost);
    const m = cli(['merge-suggestions', '--run', String(runId), ...L, '--json']);
    // four different people: none offered as sure (an uncertain pair may be offered, marked maybe)
    expect([m.code, m.json.runId, m.json.suggestions.filter((x: { zone: string }) => x.zone !== 'maybe')]).toEqual([0, runId, []]);
    for (const x of m.json.suggestions) expect(x.similarity).toBeLessThan(m.json.sure);
    expect(r.json.suggestions[0].zone).toBe('sure');
  });

  it('an ambiguous name, an unknown name, an unknown run are refused with the exit code of bad input', () => {
    const amb = cli(['suggestions', '--run', String(runId), '--person', 'Sam', ...L, '--json']);
    expect(amb.code).toBe(2);
    expect(amb.json.error).toMatchObject({ code: 'BAD_ARGUMENT', message: `--person: 'Sam' is ambiguous in run ${runId}: clusters ${[cl[1], cl[2]].sort((a, b) => a - b).join(', ')} have that name; give --cluster C` });
    const unknown = cli(['suggestions', '--run', String(runId), '--person', 'Nobody', ...L]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^constellate: --person: no person named 'Nobody' in run \d+ \(people: Ann, Sam, Sam\)\n$/);
    for (const cmd of ['people', 'suggestions']) {
      const r = cli([cmd, '--run', '999', ...(cmd === 'suggestions' ? ['--person', 'Ann'] : []), ...L, '--json']);
      expect([r.code, r.json.error.code]).toEqual([cli(['clusters', '--run', '999', ...L, '--json']).code, 'NOT_FOUND']);
      expect(r.json.error.message).toMatch(/run 999/);
    }
    expect(cli(['suggestions', '--run', String(runId), ...L]).code).toBe(2);
  });
});
