/**
 * The edit engine against the v0.2 code: a library written by that code (src-main/testing/fixtures/edits-v0.2.constellate,
 * its edit log in the old form, the last 3 edits undone) and what that code answered, step by step, to two sessions
 * on copies of it (edits-v0.2.expected.json): redo/undo/redo of the old rows, and the same edits applied anew, undone
 * and redone. The engine must answer both with the same results and the same rows. GEN_EDIT_FIXTURE=1 writes the
 * fixture again with the code of the day (the committed one was written by v0.2's edits.ts).
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { EditResult } from '../../common/types.ts';
import { clusterJob } from '../cluster/cluster-job.ts';
import { embedJob } from '../embed/embed-job.ts';
import { Library } from '../library.ts';
import { scanRoots } from '../scan/scanner.ts';
import { REPO_ROOT, sharedPath, tempDir, testContext } from '../../testing/fixtures.ts';
import { dumpRun, resultOf, type ScriptStep } from '../../testing/edit-log.ts';
import { applyAssign, applyEdit, redo, refreshClusters, undo } from './edits.ts';
import type { Db } from '../store/db.ts';

const FIX = join(REPO_ROOT, 'src-main/testing/fixtures');
const LIB = join(FIX, 'edits-v0.2.constellate.gz');
const EXPECTED = join(FIX, 'edits-v0.2.expected.json.gz');
const UNDONE = 3;
const t = tempDir();
afterAll(() => t.cleanup());

interface Step { what: string; result: unknown; state: unknown }
interface Expected { runId: number; script: ScriptStep[]; legacy: Step[]; anew: Step[] }

function step(db: Db, runId: number, s: ScriptStep): EditResult {
  if ('assign' in s) return applyAssign(db, runId, s.assign.items, s.assign.to);
  return applyEdit(db, runId, s.op, s.split ? { items: s.split.items, labels: Int32Array.from(s.split.labels) } : undefined);
}

type Record = (what: string, r: EditResult | null) => void;

/** On the fixture as written (old rows, the last 3 undone): redo them, undo everything, redo everything. */
function legacySession(db: Db, runId: number, n: number, rec: Record): void {
  for (let i = n - UNDONE; i <= n; i++) rec(`redo ${i}`, redo(db, runId));
  for (let i = n - 1; i >= -1; i--) rec(`undo ${i}`, undo(db, runId));
  for (let i = 0; i < n; i++) rec(`redo ${i}`, redo(db, runId));
}

/** On the fixture as written: back to the start, then the session applied anew (new rows), undone and redone. */
function anewSession(db: Db, runId: number, script: ScriptStep[], rec: Record): void {
  for (let i = 0; i < script.length - UNDONE; i++) undo(db, runId);
  rec('start', null);
  script.forEach((s, i) => rec(`apply ${i} ${JSON.stringify(s).slice(0, 80)}`, step(db, runId, s)));
  for (let i = script.length - 1; i >= 0; i--) rec(`undo ${i}`, undo(db, runId));
  for (let i = 0; i < script.length; i++) rec(`redo ${i}`, redo(db, runId));
}

describe.skipIf(!process.env.GEN_EDIT_FIXTURE)('the v0.2 edit-log fixture', () => {
  it('is written by a scripted session over every op', async () => {
    const dir = join(t.dir, 'faces');
    mkdirSync(dir);
    for (const p of readdirSync(sharedPath('data/faces-london')).sort().slice(0, 10)) cpSync(sharedPath('data/faces-london', p), join(dir, p), { recursive: true });
    const file = join(t.dir, 'gen.constellate');
    const lib = Library.open(file);
    await scanRoots(lib, [lib.addRoot(dir).id], testContext());
    await embedJob(lib, { model: 'face' }, testContext());
    const runId = (await clusterJob(lib, { model: 'face', params: { algo: 'kmeans', k: 5, nInit: 3, seed: 1 }, labels: 'folders' }, testContext())).runId;
    const db = lib.db;
    // two faces leave the run: "embedded after it" (confirm and assign bring them in)
    const all = db.prepare('SELECT item_id FROM assignments WHERE run_id = ? ORDER BY item_id').pluck().all(runId) as number[];
    const [outA, outB] = all.slice(-2);
    db.prepare('DELETE FROM assignments WHERE run_id = ? AND item_id IN (?, ?)').run(runId, outA, outB);
    refreshClusters(db, runId, (db.prepare('SELECT cluster FROM clusters WHERE run_id = ?').pluck().all(runId) as number[]));
    db.prepare('UPDATE runs SET n = (SELECT COUNT(*) FROM assignments WHERE run_id = ?) WHERE id = ?').run(runId, runId);
    const members = (c: number) => db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ? ORDER BY item_id').pluck().all(runId, c) as number[];
    const big = (db.prepare('SELECT cluster FROM clusters WHERE run_id = ? ORDER BY size DESC, cluster').pluck().all(runId) as number[]);
    const [c0, c1, c2, c3, c4] = big;
    const script: ScriptStep[] = [];
    const run = (s: ScriptStep) => {
      script.push(s);
      try { step(db, runId, s); } catch (e) { throw new Error(`step ${script.length - 1} ${JSON.stringify(s)}: ${(e as Error).message}`); }
    };
    run({ op: { type: 'rename', cluster: c0, name: 'Anna' } });
    run({ op: { type: 'accept', cluster: c0 } });
    run({ op: { type: 'rename', cluster: c2, name: 'Bob' } });
    run({ op: { type: 'merge', clusters: [c1, c2] } });
    run({ op: { type: 'move', items: [members(c3)[0]], to: c0 } });
    run({ op: { type: 'move', items: [members(c3)[0]], to: 'new', name: 'Newbie' } });
    run({ op: { type: 'reject', items: [members(c4)[0]] } });
    run({ op: { type: 'names', clusters: [{ cluster: c3, name: 'Cara', curated: true }, { cluster: c1, curated: true }], source: 'import labels' } });
    run({ op: { type: 'person', cluster: c0, hidden: true, avatar: members(c0)[1] } });
    run({ op: { type: 'confirm', cluster: c0, items: [outA, ...members(c4).slice(0, 1)] } });
    run({ op: { type: 'reject-suggestions', cluster: c0, items: [...members(-1), outB] } });
    run({ op: { type: 'not-same', clusters: [c3, c0] } });
    const m1 = members(c1);
    run({ op: { type: 'split-parts', cluster: c1, parts: [{ items: [m1[0]], name: 'Part one' }] } });
    const m1b = members(c1);
    run({ op: { type: 'split-parts', cluster: c1, parts: [{ items: m1b.slice(0, 1), name: 'Kept' }, { items: m1b.slice(1), name: 'Other' }] } });
    const m0 = members(c0);
    run({ op: { type: 'split', cluster: c0, k: 2 }, split: { items: m0, labels: m0.map((_, i) => (i % 2 ? 1 : 0)) } });
    run({ op: { type: 'person', cluster: c0, avatar: null } });
    run({ op: { type: 'not-face', items: [members(c0)[0]] } });
    const keep = members(c3)[0];
    const placed = all.filter((it) => it !== keep && it !== outB && (db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck().get(runId, it) ?? -1) !== -1);
    run({ op: { type: 'dedupe', groups: [{ keep, reject: placed.slice(0, 2) }] } });
    run({ assign: { items: [outB], to: [c3] } });
    // every edit undone and redone once, the last ones left undone: the rows of both kinds a library holds
    for (let i = 0; i < script.length; i++) undo(db, runId);
    for (let i = 0; i < script.length; i++) redo(db, runId);
    for (let i = 0; i < UNDONE; i++) undo(db, runId);
    lib.close();
    const out = Library.open(file); out.db.exec('VACUUM'); out.close();
    mkdirSync(FIX, { recursive: true });
    writeFileSync(LIB, gzipSync(readFileSync(file), { level: 9 }));
    const expected: Expected = { runId, script, legacy: [], anew: [] };
    for (const [name, into, session] of [['legacy', expected.legacy, legacySession], ['anew', expected.anew, anewSession]] as const) {
      const f = join(t.dir, `${name}.constellate`);
      copyFileSync(file, f);
      const l = Library.open(f);
      const rec: Record = (what, r) => into.push({ what, result: resultOf(r), state: dumpRun(l.db, runId) });
      if (session === legacySession) legacySession(l.db, runId, script.length, rec); else anewSession(l.db, runId, script, rec);
      l.close();
    }
    writeFileSync(EXPECTED, gzipSync(`${JSON.stringify(expected)}\n`, { level: 9 }));
  }, 600_000);
});

describe.skipIf(!!process.env.GEN_EDIT_FIXTURE)('the edit engine on a library written by v0.2', () => {
  const expected = JSON.parse(gunzipSync(readFileSync(EXPECTED)).toString('utf8')) as Expected;
  const { runId, script } = expected;
  const compare = (name: string, want: Step[], session: (db: Db, rec: Record) => void) => {
    const f = join(t.dir, `${name}.constellate`);
    writeFileSync(f, gunzipSync(readFileSync(LIB)));
    const lib = Library.open(f);
    let i = 0;
    try {
      session(lib.db, (what, r) => {
        const w = want[i++];
        expect(what).toBe(w.what);
        expect(resultOf(r), `${what}: result`).toEqual(w.result);
        expect(dumpRun(lib.db, runId), `${what}: rows`).toEqual(w.state);
      });
      expect(i).toBe(want.length);
    } finally { lib.close(); }
  };

  it('undoes and redoes the old edit-log rows as v0.2 did', () => {
    compare('legacy', expected.legacy, (db, rec) => legacySession(db, runId, script.length, rec));
  });

  it('applies, undoes and redoes the same session anew as v0.2 did', () => {
    compare('anew', expected.anew, (db, rec) => anewSession(db, runId, script, rec));
  });

  it('a damaged log row is refused, naming it, and nothing changes', () => {
    const f = join(t.dir, 'damaged.constellate');
    writeFileSync(f, gunzipSync(readFileSync(LIB)));
    const lib = Library.open(f);
    try {
      const last = lib.db.prepare('SELECT id FROM edits WHERE run_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1').pluck().get(runId) as number;
      for (const bad of ['{"op": {"type": "merge"', '{"v": 2, "op": {"type": "rename", "cluster": 0, "name": "x"}}', 'null']) {
        lib.db.prepare('UPDATE edits SET op = ? WHERE id = ?').run(bad, last);
        const before = dumpRun(lib.db, runId);
        expect(() => undo(lib.db, runId)).toThrow(expect.objectContaining({ code: 'LIBRARY_CORRUPT', message: expect.stringMatching(new RegExp(`^edit ${last} of run ${runId} is unreadable .*nothing was changed$`)) }));
        expect(dumpRun(lib.db, runId)).toEqual(before);
      }
    } finally { lib.close(); }
  });
});
