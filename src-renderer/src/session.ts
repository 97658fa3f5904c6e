/**
 * Workbench session state: the current view, model, run and cluster, kept in the URL hash so a reload returns to the
 * same place; the run chosen per view kind persisted per library (People keeps its own face run and never changes
 * the run of Clusters / Export); and the undo/redo entry points, scoped to the run on screen, that say what they did.
 */
import { reactive, watch } from 'vue';
import type { EditOp, HistoryInfo, ItemKind, RunChange, RunInfo } from '@common/types.ts';
import { api } from './api.ts';
import { loadPref, onLibrarySwitch, onRunChange, savePref, showError, state, toast } from './state.ts';
import { inRunWords } from './words.ts';

export type ViewName = 'library' | 'map' | 'clusters' | 'cluster' | 'people' | 'review' | 'similar' | 'tune' | 'export' | 'duplicates' | 'label';

export const session = reactive({
  view: 'library' as ViewName,
  runId: null as number | null,
  /** the face run People shows (its own: opening People leaves Clusters / Export on their run) */
  peopleRunId: null as number | null,
  cluster: null as number | null,
  item: null as number | null,
  /** what session.item is (a photo id and a face id are different items) */
  itemKind: null as ItemKind | null,
  model: null as string | null,
  runs: [] as RunInfo[],
  /** the history of the run on screen */
  history: null as HistoryInfo | null,
  /** bumps when the current run's clusters change */
  runRevision: 0,
  help: false,
  /** this session's edits across runs, newest last (what the history panel lists; where "the last edit" was) */
  log: [] as Array<{ runId: number; action: RunChange['action']; description: string; at: number; editId?: number }>,
  /** the selections restored from this library's saved preferences */
  restored: false,
});

/** the view and model the address named when it was last read (a link, a typed address, a reload), not the app's own navigation */
export const addressed: { view: string | null; model: string | null } = { view: null, model: null };

function readHash(): void {
  const h = new URLSearchParams(location.hash.slice(1));
  const v = h.get('view') as ViewName | null;
  addressed.view = v;
  addressed.model = h.get('model');
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
  // a cluster opened from People belongs to People's run
  if (view === 'cluster' && session.view === 'people' && extra.runId === undefined && session.peopleRunId !== null) extra = { ...extra, runId: session.peopleRunId };
  session.view = view;
  Object.assign(session, extra);
}

/** Text about run `runId` in its words: a face run's groups are people ("person 9"), a photo run's clusters. */
export function runWords(text: string, runId: number | null = screenRunId()): string {
  return inRunWords(text, session.runs.find((r) => r.id === runId)?.kind);
}

export function currentRun(): RunInfo | null {
  return session.runs.find((r) => r.id === session.runId) ?? null;
}

/** Views that show no run: undo and redo there touch nothing (an edit of a run that is not on screen is never undone). */
const RUNLESS_VIEWS: ReadonlySet<ViewName> = new Set(['library']);

/** The run the view on screen shows (People: its face run; the Library: none; every other view: the session's run). */
export function screenRunId(): number | null {
  if (RUNLESS_VIEWS.has(session.view)) return null;
  return session.view === 'people' ? session.peopleRunId : session.runId;
}

/** Ctrl+Z / Ctrl+Y where no run is on screen: says where the last edit was and how to undo it, changes nothing. */
function noRunHere(what: 'undo' | 'redo'): void {
  const last = [...session.log].reverse().find((x) => x.action === 'edit' || x.action === 'import');
  toast(`Nothing to ${what} in the Library: it shows no run${last ? `. Your last edit was in run ${last.runId} (${runWords(last.description, last.runId)}): open Clusters or People on it to ${what}` : ''}`);
}

/** bumps when another library opens: an answer asked of the old library is dropped when it lands after the switch */
let libraryGeneration = 0;
/**
 * The runs of the library this page shows; CONFLICT when the server has another one open by then. The generation below
 * drops answers that land after this page heard of a switch; the library named here, those the server gave after it
 * switched (from this page or another) but before this page heard of it: applied, the new library's runs would replace
 * the old one's saved selection, and the newest run would come back with it instead of the one the person had chosen.
 */
function listOwnRuns(): Promise<RunInfo[]> {
  return api.listRuns(state.info ? { library: state.info.library } : undefined);
}
/** the server answered for another library (listRuns's only CONFLICT): its `library` event is on the way, and the switch asks again */
const otherLibrary = (e: unknown) => (e as { code?: string }).code === 'CONFLICT';

export async function loadRuns(): Promise<void> {
  const generation = libraryGeneration;
  try {
    const runs = await listOwnRuns();
    // the old library's runs would hide the saved run of the new one (and the newest run would take its place)
    if (generation !== libraryGeneration) return;
    session.runs = runs;
    if (!session.restored && state.info) {
      session.restored = true;
      const saved = loadPref<{ runId?: number | null; peopleRunId?: number | null; model?: string | null }>('selection', {});
      if (!location.hash.includes('run=') && saved.runId !== undefined) session.runId = saved.runId;
      if (saved.peopleRunId !== undefined) session.peopleRunId = saved.peopleRunId;
      if (!location.hash.includes('model=') && saved.model) session.model = saved.model;
    }
    if (session.runId === null || !session.runs.some((r) => r.id === session.runId)) session.runId = session.runs[0]?.id ?? null;
    const faces = session.runs.filter((r) => r.kind === 'face');
    if (session.peopleRunId === null || !faces.some((r) => r.id === session.peopleRunId)) session.peopleRunId = faces[0]?.id ?? null;
    await loadHistory();
    const models = state.info?.models ?? [];
    if (!session.model || !models.some((m) => m.name === session.model)) session.model = currentRun()?.model ?? models[0]?.name ?? null;
  } catch (e) { if (!otherLibrary(e)) showError(e); }
}

async function loadHistory(): Promise<void> {
  const id = screenRunId();
  const generation = libraryGeneration;
  const h = id !== null ? await api.getHistory({ runId: id }).catch(() => null) : null;
  // another run came on screen (or another library opened) while this was asked
  if (generation === libraryGeneration && id === screenRunId()) session.history = h;
}

/** Applies an edit to the run on screen (or the one given). */
/** edits, undos and redos of this page in flight (their answers carry the run's history) */
let ownCalls = 0;
async function own<T>(p: Promise<T>): Promise<T> {
  ownCalls++;
  try { return await p; } finally { ownCalls--; }
}

export async function edit(op: EditOp, runId: number | null = screenRunId()): Promise<boolean> {
  if (runId === null) return false;
  try {
    const r = await own(api.editRun({ runId, op }));
    if (runId === screenRunId()) session.history = r.history;
    return true;
  } catch (e) { showError(e); if (runId === screenRunId()) void loadHistory(); return false; }
}

function elsewhere(runId: number): string {
  const last = [...session.log].reverse().find((x) => x.action === 'edit' || x.action === 'import');
  return last && last.runId !== runId ? ` (your last edit was in run ${last.runId}: ${runWords(last.description, last.runId)})` : '';
}

/** Undoes the last edit of the run on screen and says what it undid, and in which run. */
export async function undo(): Promise<void> {
  const runId = screenRunId();
  if (runId === null) { if (RUNLESS_VIEWS.has(session.view)) noRunHere('undo'); return; }
  try {
    const r = await own(api.undo({ runId }));
    if (!r) { toast(`Nothing to undo in run ${runId}${elsewhere(runId)}`); return; }
    session.history = r.history;
    toast(runWords(`Undid in run ${runId}: ${r.description ?? r.op.type}${elsewhere(runId)}`, runId));
  } catch (e) { showError(e); }
}

export async function redo(): Promise<void> {
  const runId = screenRunId();
  if (runId === null) { if (RUNLESS_VIEWS.has(session.view)) noRunHere('redo'); return; }
  try {
    const r = await own(api.redo({ runId }));
    if (!r) { toast(`Nothing to redo in run ${runId}`); return; }
    session.history = r.history;
    toast(runWords(`Redid in run ${runId}: ${r.description ?? r.op.type}`, runId));
  } catch (e) { showError(e); }
}

/** Another library was opened: nothing of the old one's runs, clusters or edits stays; its saved selections load. */
function resetForLibrary(): void {
  libraryGeneration++;
  if (runsTimer) { clearTimeout(runsTimer); runsTimer = null; }
  Object.assign(session, { runId: null, peopleRunId: null, cluster: null, item: null, itemKind: null, model: null, runs: [], history: null, runRevision: 0, log: [], restored: false });
  if (session.view === 'cluster') session.view = 'clusters';
  // the address named the old library's run and model
  history.replaceState(null, '', `#view=${session.view}`);
}

let runsTimer: ReturnType<typeof setTimeout> | null = null;
export function startSession(): void {
  onLibrarySwitch(resetForLibrary);
  readHash();
  window.addEventListener('hashchange', readHash);
  watch(() => [session.view, session.runId, session.cluster, session.item, session.itemKind, session.model], writeHash);
  watch(() => screenRunId(), loadHistory);
  // saved on every change once the library's saved selection was read, and once right then: a run the address named
  // (a reload, a link) is on screen without changing afterwards, and must replace the saved one, or the next visit of
  // this library would bring back the run saved before it
  watch(() => [session.runId, session.peopleRunId, session.model, session.restored], () => {
    // a library with no runs (or none listed yet) has nothing chosen: what was saved stays for when it has
    if (session.restored && session.runs.length) savePref('selection', { runId: session.runId, peopleRunId: session.peopleRunId, model: session.model });
  });
  watch(() => state.revision, loadRuns);
  watch(() => state.info?.library, loadRuns);
  onRunChange((runId, change) => {
    if (runId === session.runId) session.runRevision++;
    if (change) session.log.push({ runId, action: change.action, description: change.description, at: Date.now(), editId: change.editId });
    // the run's counts as of now came with the change: pickers and tables follow at once
    if (change?.counts) {
      const i = session.runs.findIndex((r) => r.id === runId);
      const r = session.runs[i];
      if (r && (r.clusters !== change.counts.clusters || r.noise !== change.counts.noise || r.n !== change.counts.n)) session.runs[i] = { ...r, ...change.counts };
    }
    if (change?.action === 'import') toast(`Run ${runId}: ${change.description} (undo to take it back)`);
    // counts as of now in every picker and table (after edits), the on-screen run's history
    // (an edit, undo or redo brought the counts above: no listRuns to queue ahead of the next action on the server)
    if (!change?.counts) {
      if (runsTimer) clearTimeout(runsTimer);
      runsTimer = setTimeout(() => { runsTimer = null; const g = libraryGeneration; void listOwnRuns().then((rs) => { if (g === libraryGeneration) session.runs = rs; }).catch(() => {}); }, 30);
    }
    // an edit, undo or redo of this page brings the history in its answer: no second request queued on the server
    if (runId === screenRunId() && !ownCalls) void loadHistory();
  });
  api.onEvent((e) => {
    if (e.type === 'job' && e.job.state === 'done' && e.job.kind === 'cluster') {
      const r = e.job.result; // typed by the job kind
      const generation = libraryGeneration;
      void loadRuns().then(() => {
        if (!r || generation !== libraryGeneration) return;
        session.runId = r.runId;
        // People on screen stays on the run the person is curating (it says a newer run exists and offers it)
        if (r.kind === 'face' && (session.peopleRunId === null || session.view !== 'people')) session.peopleRunId = r.runId;
      });
    }
  });
  void loadRuns();
}

export function fmt(v: unknown, digits = 3): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

/** How a person tells runs apart: id, model, algorithm, the parameters that differ from the other runs, counts now. */
export function runLabel(r: RunInfo, runs: RunInfo[] = session.runs): string {
  const same = runs.filter((x) => x.model === r.model && x.id !== r.id);
  const p = r.params as unknown as Record<string, unknown>;
  const keys = ['k', 'minClusterSize', 'minSamples', 'eps', 'linkage', 'reduce', 'seed', 'metric', 'selection', 'attachNoise', 'distanceThreshold'];
  const differ = keys.filter((k) => p[k] !== undefined && (same.length === 0 ? ['k', 'minClusterSize', 'eps'].includes(k) : same.some((x) => JSON.stringify((x.params as unknown as Record<string, unknown>)[k]) !== JSON.stringify(p[k]))));
  const name = (r.record as { name?: string } | undefined)?.name;
  return `${name ? `${name} · ` : ''}run ${r.id} · ${r.model} · ${r.algo}${differ.length ? ` ${differ.map((k) => `${k}=${JSON.stringify(p[k])}`).join(' ')}` : ''} · ${r.clusters} clusters · ${r.noise} noise`;
}
