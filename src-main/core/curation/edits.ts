/**
 * The labeling session: edits to a run (rename, merge, split, move, reject, accept, the people ops) are applied to its
 * assignments and clusters at once and written to an edit log in the same transaction, with what is needed to undo
 * them. The engine lives in edit/ (engine.ts, one module per op in edit/ops/, its SQL in store/edits-repo.ts); this
 * module is its door for the rest of core.
 */
export { applyAssign, applyEdit, describeEdit, history, redo, undo } from './edit/engine.ts';
export { carryOver, refreshClusters } from './edit/refresh.ts';
/** each member of a run: decided by the user (and how) or placed by the run */
export { runItemStates, type ItemState, type RunItemStates } from './item-states.ts';
