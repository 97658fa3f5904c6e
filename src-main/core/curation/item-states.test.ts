/**
 * Item states: the edits that decide (name, confirm, move, reject, split into a named part, make a person, not a face)
 * mark their items decided, in one table, and undo/redo restore the states; an edit that fails leaves none. On the
 * library written by v0.2 (its run, its session replayed anew).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EditOp } from '../../common/types.ts';
import { Library } from '../library.ts';
import { REPO_ROOT, tempDir } from '../../testing/fixtures.ts';
import type { ScriptStep } from '../../testing/edit-log.ts';
import { applyAssign, applyEdit, redo, undo } from './edits.ts';
import { runItemStates } from './item-states.ts';

const FIX = join(REPO_ROOT, 'src-main/testing/fixtures');
const t = tempDir();
let lib: Library;
let runId: number;
let script: ScriptStep[];

beforeAll(() => {
  const f = join(t.dir, 'states.constellate');
  writeFileSync(f, gunzipSync(readFileSync(join(FIX, 'edits-v0.2.constellate.gz'))));
  ({ runId, script } = JSON.parse(gunzipSync(readFileSync(join(FIX, 'edits-v0.2.expected.json.gz'))).toString('utf8')) as { runId: number; script: ScriptStep[] });
  lib = Library.open(f);
  while (undo(lib.db, runId)) { /* back to the run as it was made */ }
});
afterAll(() => { lib?.close(); t.cleanup(); });

const states = () => Object.fromEntries([...runItemStates(lib.db, runId).decided].map(([it, d]) => [it, d.how]));
const members = (c: number) => lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ? AND cluster = ?').pluck().all(runId, c) as number[];
const clusterOf = (it: number) => lib.db.prepare('SELECT cluster FROM assignments WHERE run_id = ? AND item_id = ?').pluck().get(runId, it) as number | undefined;

/** What each op decides, written from the op's meaning (not from the engine). */
function expectedAfter(op: EditOp, before: Record<number, string>): Record<number, string> {
  const s = { ...before };
  const set = (items: number[], how: string) => { for (const it of items) s[it] = how; };
  const name = (items: number[]) => { for (const it of items) s[it] ??= 'named'; };
  if (op.type === 'rename' && op.name.trim()) name(members(op.cluster));
  if (op.type === 'names') for (const c of op.clusters) if (c.name) name(members(c.cluster));
  if (op.type === 'move') set(op.items, op.to === 'new' ? 'person' : 'moved');
  if (op.type === 'reject') set(op.items, 'moved');
  if (op.type === 'confirm') set(op.items, 'confirmed');
  if (op.type === 'split-parts') for (const p of op.parts) if (p.name?.trim()) set(p.items, 'split');
  if (op.type === 'not-face') set(op.items.filter((it) => (clusterOf(it) ?? -1) !== -1), 'not-face');
  return s;
}

describe('item states', () => {
  it('a run fresh from clustering has every member placed by the run', () => {
    expect(states()).toEqual({});
    expect(runItemStates(lib.db, runId).of(members(0)[0] ?? 1)).toEqual({ state: 'placed' });
    expect(() => runItemStates(lib.db, 9999)).toThrow(/9999/);
  });

  it('the edits that decide mark their items, undo and redo restore the states', () => {
    const seen: Array<Record<number, string>> = [states()];
    let decidedSome = 0;
    for (const s of script) {
      const before = states();
      const want = 'op' in s ? expectedAfter(s.op, before) : before;
      if ('assign' in s) applyAssign(lib.db, runId, s.assign.items, s.assign.to);
      else applyEdit(lib.db, runId, s.op, s.split ? { items: s.split.items, labels: Int32Array.from(s.split.labels) } : undefined);
      expect(states(), JSON.stringify(s)).toEqual(want);
      if (JSON.stringify(want) !== JSON.stringify(before)) decidedSome++;
      seen.push(states());
    }
    expect(decidedSome).toBeGreaterThanOrEqual(7);
    expect(new Set(Object.values(states()))).toEqual(new Set(['named', 'confirmed', 'moved', 'person', 'split', 'not-face']));
    for (let i = script.length - 1; i >= 0; i--) { undo(lib.db, runId); expect(states(), `undo ${i}`).toEqual(seen[i]); }
    for (let i = 0; i < script.length; i++) { redo(lib.db, runId); expect(states(), `redo ${i}`).toEqual(seen[i + 1]); }
    const d = runItemStates(lib.db, runId);
    const [item, how] = [...d.decided][0];
    expect(d.of(item)).toMatchObject({ state: 'decided', how: how.how });
  });

  it('forget-decisions puts members back to placed by the run, where they are; undo and redo restore how each was decided', () => {
    const before = states();
    const rows = () => lib.db.prepare('SELECT item_id, cluster FROM assignments WHERE run_id = ? ORDER BY item_id').all(runId);
    const a = rows();
    // one member decided each way, and one placed by the run (it stays placed, and is no part of the change)
    const byHow = new Map<string, number>();
    for (const [it, how] of Object.entries(before)) if (!byHow.has(how)) byHow.set(how, Number(it));
    expect(byHow.size).toBe(6);
    const forgotten = [...byHow.values()];
    const placed = (lib.db.prepare('SELECT item_id FROM assignments WHERE run_id = ?').pluck().all(runId) as number[]).find((it) => !(it in before))!;
    expect(placed).toBeDefined();
    const r = applyEdit(lib.db, runId, { type: 'forget-decisions', items: [...forgotten, placed, forgotten[0]] });
    expect(r.description).toBe('forget the decisions on 7 items: placed by the run again');
    const want = { ...before };
    for (const it of forgotten) delete want[it];
    expect(states()).toEqual(want);
    for (const it of [...forgotten, placed]) expect(runItemStates(lib.db, runId).of(it)).toEqual({ state: 'placed' });
    expect(rows()).toEqual(a); // nothing moved
    expect(r.history.edits.at(-1)).toMatchObject({ op: { type: 'forget-decisions' } });
    undo(lib.db, runId);
    expect(states()).toEqual(before);
    redo(lib.db, runId);
    expect(states()).toEqual(want);
    expect(rows()).toEqual(a);
    undo(lib.db, runId);
    expect(states()).toEqual(before);
    // refused whole: an item not in the run, no items
    expect(() => applyEdit(lib.db, runId, { type: 'forget-decisions', items: [forgotten[0], 123456] })).toThrow(/item 123456 is not in run/);
    expect(() => applyEdit(lib.db, runId, { type: 'forget-decisions', items: [] })).toThrow(/give at least one item/);
    expect(states()).toEqual(before);
  });

  it('an edit that fails decides nothing and changes no row', () => {
    const before = states();
    const rows = () => lib.db.prepare('SELECT item_id, cluster FROM assignments WHERE run_id = ? ORDER BY item_id').all(runId);
    const a = rows();
    const [item] = members(members(0).length ? 0 : 1);
    expect(() => applyEdit(lib.db, runId, { type: 'move', items: [item], to: 999 })).toThrow(/cluster 999 is not in run/);
    expect(() => applyEdit(lib.db, runId, { type: 'confirm', cluster: clusterOf(item)!, items: [item, 123456] })).toThrow(/item 123456 has no face embedding/);
    expect(() => applyEdit(lib.db, runId, { type: 'move', items: [item, 1.5], to: 'new', name: 'X' })).toThrow(/not an item id: 1.5/);
    expect(() => applyEdit(lib.db, runId, { type: 'nonsense' } as unknown as EditOp)).toThrow(/unknown edit "nonsense"/);
    expect(() => applyEdit(lib.db, runId, { type: 'assign', items: [item], to: [0] })).toThrow(/unknown edit "assign"/);
    expect(states()).toEqual(before);
    expect(rows()).toEqual(a);
  });

  it('a deleted item takes its state with it, and undo writes none for it', () => {
    const decided = Object.keys(states()).map(Number);
    expect(decided.length).toBeGreaterThan(2);
    const [gone] = decided;
    lib.db.prepare('DELETE FROM faces WHERE id = ?').run(gone);
    expect(states()[gone]).toBeUndefined();
    expect(Object.keys(states())).toHaveLength(decided.length - 1);
    while (undo(lib.db, runId)) expect(states()[gone]).toBeUndefined();
    expect(states()).toEqual({});
  });
});
