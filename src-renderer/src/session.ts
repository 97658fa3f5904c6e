/**
 * Workbench session state: the current view, model, run and cluster, kept in the URL hash so a reload returns to the
 * same place; and the undo/redo entry points shared by every view and the keyboard shortcuts.
 */
import { reactive, watch } from 'vue';
import type { EditOp, HistoryInfo, ItemKind, RunInfo } from '@common/types.ts';
import { api } from './api.ts';
import { showError, state } from './state.ts';

export type ViewName = 'library' | 'map' | 'clusters' | 'cluster' | 'people' | 'review' | 'similar' | 'tune' | 'export';

export const session = reactive({
  view: 'library' as ViewName,
  runId: null as number | null,
  cluster: null as number | null,
  item: null as number | null,
  /** what session.item is (a photo id and a face id are different items) */
  itemKind: null as ItemKind | null,
  model: null as string | null,
  runs: [] as RunInfo[],
  history: null as HistoryInfo | null,
  /** bumps when the current run's clusters change */
  runRevision: 0,
  help: false,
});

function readHash(): void {
  const h = new URLSearchParams(location.hash.slice(1));
  const v = h.get('view') as ViewName | null;
  if (v) session.view = v;
  const num = (k: string) => (h.has(k) && h.get(k) !== '' ? Number(h.get(k)) : null);
  // the run and model stay as they are unless the address names others; cluster and item belong to their view
  if (h.has('run')) session.runId = num('run');
  if (h.has('model')) session.model = h.get('model');
  session.cluster = num('cluster');
  session.item = num('item');
  const k = h.get('kind');
  session.itemKind = k === 'photo' || k === 'face' ? k : null;
}

function writeHash(): void {
  const h = new URLSearchParams();
  h.set('view', session.view);
  if (session.runId !== null) h.set('run', String(session.runId));
  if (session.cluster !== null) h.set('cluster', String(session.cluster));
  if (session.item !== null) h.set('item', String(session.item));
  if (session.item !== null && session.itemKind) h.set('kind', session.itemKind);
  if (session.model) h.set('model', session.model);
  const next = `#${h.toString()}`;
  if (location.hash !== next) history.replaceState(null, '', next);
}

export function go(view: ViewName, extra: Partial<{ runId: number | null; cluster: number | null; item: number | null; itemKind: ItemKind | null; model: string | null }> = {}): void {
  session.view = view;
  Object.assign(session, extra);
}

export function currentRun(): RunInfo | null {
  return session.runs.find((r) => r.id === session.runId) ?? null;
}

export async function loadRuns(): Promise<void> {
  try {
    session.runs = await api.listRuns();
    if (session.runId === null || !session.runs.some((r) => r.id === session.runId)) session.runId = session.runs[0]?.id ?? null;
    if (session.runId !== null) session.history = await api.getHistory({ runId: session.runId });
    const models = state.info?.models ?? [];
    if (!session.model || !models.some((m) => m.name === session.model)) session.model = currentRun()?.model ?? models[0]?.name ?? null;
  } catch (e) { showError(e); }
}

export async function edit(op: EditOp): Promise<boolean> {
  if (session.runId === null) return false;
  try {
    const r = await api.editRun({ runId: session.runId, op });
    session.history = r.history;
    return true;
  } catch (e) { showError(e); return false; }
}

export async function undo(): Promise<void> {
  if (session.runId === null) return;
  try { const r = await api.undo({ runId: session.runId }); if (r) session.history = r.history; } catch (e) { showError(e); }
}

export async function redo(): Promise<void> {
  if (session.runId === null) return;
  try { const r = await api.redo({ runId: session.runId }); if (r) session.history = r.history; } catch (e) { showError(e); }
}

export function startSession(): void {
  readHash();
  window.addEventListener('hashchange', readHash);
  watch(() => [session.view, session.runId, session.cluster, session.item, session.itemKind, session.model], writeHash);
  watch(() => session.runId, async (id) => { session.history = id !== null ? await api.getHistory({ runId: id }).catch(() => null) : null; });
  watch(() => state.revision, loadRuns);
  api.onEvent((e) => {
    if (e.type === 'run' && e.runId === session.runId) session.runRevision++;
    if (e.type === 'job' && e.job.state === 'done' && e.job.kind === 'cluster') {
      const id = e.job.result?.runId; // typed by the job kind
      void loadRuns().then(() => { if (id) session.runId = id; });
    }
  });
  void loadRuns();
}

export function fmt(v: unknown, digits = 3): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}
