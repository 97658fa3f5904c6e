/**
 * The exploration selection: the items a lasso, a rectangle, a search or "select all" on the Similar view picked, of
 * one kind and model. One store for every view (the map draws it, its grid lists it, Similar takes it for "more like
 * these"), so it survives switching views; persisted per library with the other preferences (loadPref/savePref).
 */
import { reactive, watch } from 'vue';
import type { ItemKind } from '@common/types.ts';
import { loadPref, savePref, state } from './state.ts';

interface Saved { kind: ItemKind | null; model: string | null; ids: number[]; source: string }

export const selection = reactive({
  kind: null as ItemKind | null,
  model: null as string | null,
  ids: [] as number[],
  /** what made it: 'lasso', 'rectangle', 'search: …', 'similar' */
  source: '',
  /** bumps on every change (views that list it reload) */
  revision: 0,
});

/** At most this many ids are kept in the preferences (a selection of a whole 100,000-item map still works this session). */
const SAVED_MAX = 20_000;

export function setSelection(ids: Iterable<number>, kind: ItemKind | null, model: string | null, source: string): void {
  selection.ids = [...new Set(ids)];
  selection.kind = kind;
  selection.model = model;
  selection.source = source;
  selection.revision++;
}

export function clearSelection(): void { setSelection([], selection.kind, selection.model, ''); }

/** Removes items (after they were rejected or moved elsewhere, if the view wants that). */
export function dropFromSelection(ids: Iterable<number>): void {
  const gone = new Set(ids);
  setSelection(selection.ids.filter((i) => !gone.has(i)), selection.kind, selection.model, selection.source);
}

let started = false;
export function startSelection(): void {
  if (started) return;
  started = true;
  const restore = () => {
    const s = loadPref<Saved | null>('exploreSelection', null);
    if (s && Array.isArray(s.ids)) { selection.ids = s.ids; selection.kind = s.kind; selection.model = s.model; selection.source = s.source ?? ''; selection.revision++; }
  };
  watch(() => state.info?.library, restore, { immediate: true });
  watch(() => selection.revision, () => {
    if (state.info) savePref('exploreSelection', { kind: selection.kind, model: selection.model, ids: selection.ids.slice(0, SAVED_MAX), source: selection.source } satisfies Saved);
  });
}
