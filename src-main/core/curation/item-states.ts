/**
 * Item states, read in one place: each member of a run was either decided by the user (named with its person,
 * confirmed from a queue, moved, split into a named part, made into a person, marked not a face; written by the edit
 * engine with the edit that decided it, and restored by undo/redo) or placed by the run.
 */
import { getRun } from '../store/runs.ts';
import type { Db } from '../store/db.ts';
import { itemStatesRepo, type ItemDecision } from '../store/item-states.ts';

export type { ItemDecision };

export type ItemState = { state: 'decided'; how: ItemDecision; at: number } | { state: 'placed' };

export interface RunItemStates {
  /** the items the user decided in this run, with how and when */
  decided: Map<number, { how: ItemDecision; at: number }>;
  /** an item's state (an item of the run without a decision was placed by the run) */
  of(item: number): ItemState;
}

/** The item states of a run, as they are now. */
export function runItemStates(db: Db, runId: number): RunItemStates {
  getRun(db, runId);
  const decided = new Map(itemStatesRepo(db).all(runId).map((r) => [r.item, { how: r.how, at: r.at }] as const));
  return {
    decided,
    of: (item) => { const d = decided.get(item); return d ? { state: 'decided', ...d } : { state: 'placed' }; },
  };
}
