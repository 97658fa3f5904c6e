/**
 * Item states, in one table: a member of a run the user decided (named with its person, confirmed from a queue, moved,
 * split into a named part, made into a person, marked not a face) has a row saying how; a member without one was
 * placed by the run. Written only by the edit engine (its change sets carry the states before and after, so undo and
 * redo restore them); read through core/curation/item-states.ts.
 */
import type { Db } from './db.ts';

/** How the user decided an item. */
export type ItemDecision = 'named' | 'confirmed' | 'moved' | 'split' | 'person' | 'not-face';
export const ITEM_DECISIONS: readonly ItemDecision[] = ['named', 'confirmed', 'moved', 'split', 'person', 'not-face'];

export function itemStatesRepo(db: Db) {
  const get = db.prepare('SELECT how FROM item_states WHERE run_id = ? AND item_id = ?').pluck();
  // only a member of the run has a state (undo of an edit whose item was deleted since writes none)
  const set = db.prepare('INSERT OR REPLACE INTO item_states (run_id, item_id, how, at) SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM assignments WHERE run_id = ? AND item_id = ?)');
  const drop = db.prepare('DELETE FROM item_states WHERE run_id = ? AND item_id = ?');
  return {
    get: (runId: number, item: number) => (get.get(runId, item) as ItemDecision | undefined) ?? null,
    /** null: back to "placed by the run" */
    set(runId: number, item: number, how: ItemDecision | null, at: number): void {
      if (how === null) drop.run(runId, item); else set.run(runId, item, how, at, runId, item);
    },
    all: (runId: number) => db.prepare('SELECT item_id AS item, how, at FROM item_states WHERE run_id = ? ORDER BY item_id').all(runId) as Array<{ item: number; how: ItemDecision; at: number }>,
  };
}

/**
 * The library's decisions on items of a kind: every item decided in some run of that kind, with its latest decision
 * (a new run carries them, so they outlive every run). "Not a face" is left out: the not_faces rows keep those.
 */
export function libraryDecisions(db: Db, kind: string): Map<number, { how: ItemDecision; at: number }> {
  const rows = db.prepare(`SELECT s.item_id AS item, s.how, MAX(s.at) AS at FROM item_states s JOIN runs r ON r.id = s.run_id
    WHERE r.kind = ? AND s.how != 'not-face' GROUP BY s.item_id`).all(kind) as Array<{ item: number; how: ItemDecision; at: number }>;
  return new Map(rows.map((r) => [r.item, { how: r.how, at: r.at }]));
}
