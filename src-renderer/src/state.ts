/**
 * The client store: the library's info, the jobs (with their history), the connection, toasts and the per-library
 * selections, all kept current by the core's events (the one event channel of AppApi: IPC or serve mode's WebSocket).
 * Views read from here and reload on the revisions it bumps; none keeps its own stale copy.
 */
import { count, readable } from './words.ts';
import { reactive } from 'vue';
import type { LibraryInfo, RunChange } from '@common/types.ts';
import type { JobInfo } from '@common/jobs.ts';
import { vanishedWords } from '@common/scan-words.ts';
import { api, connection } from './api.ts';

export const state = reactive({
  info: null as LibraryInfo | null,
  jobs: new Map<number, JobInfo>(),
  error: '' as string,
  /** bumps whenever the library content changes, so views reload */
  revision: 0,
  /** bumps per run whenever its clusters, names or counts change (edit, undo, redo, import): views of that run reload */
  runRevisions: new Map<number, number>(),
  /** the last change of each run, as the core described it */
  lastChange: new Map<number, RunChange>(),
  /** messages that say what an action did (undo/redo/import/job results); they fade */
  toasts: [] as Array<{ id: number; text: string; kind: 'info' | 'error' }>,
  /** jobs whose failure or result the user dismissed (per library, persisted) */
  dismissed: new Set<number>(),
  /** the jobs panel (history: what ran, parameters, duration, result or error) */
  jobsPanel: false,
  historyPanel: false,
  /** bumps when another library is opened: every view remounts and reloads from it */
  epoch: 0,
});

const libraryListeners = new Set<() => void>();
/** Called (synchronously) when another library is opened, after the store was reset to it. */
export function onLibrarySwitch(l: () => void): () => void {
  libraryListeners.add(l);
  return () => libraryListeners.delete(l);
}

/**
 * The store after another library was opened (its info names another file): nothing of the old library is kept
 * (jobs, run revisions and changes, dismissed failures); its persisted selections are its own and stay for next time.
 * No-op when `info` is of the library already shown.
 */
export function switchedLibrary(info: LibraryInfo): void {
  if (state.info && state.info.library === info.library) { state.info = info; return; }
  const first = state.info === null;
  state.info = info;
  if (first) return;
  state.jobs = new Map();
  state.runRevisions = new Map();
  state.lastChange = new Map();
  state.jobsPanel = false;
  state.historyPanel = false;
  state.error = '';
  // what the old library's actions said ("Undid in run 3 …") is not about this one
  state.toasts.splice(0, state.toasts.length);
  loadDismissed();
  state.epoch++;
  state.revision++;
  for (const l of libraryListeners) l();
  void loadJobs();
}

export function runRevision(runId: number | null): number {
  return runId === null ? 0 : (state.runRevisions.get(runId) ?? 0);
}

export async function refreshInfo(): Promise<void> {
  try {
    switchedLibrary(await api.getInfo());
    loadDismissed();
  } catch (e) {
    showError(e);
  }
}

export function activeJobs(): JobInfo[] {
  return [...state.jobs.values()].filter((j) => j.state === 'running' || j.state === 'queued');
}

/** Failed jobs the user has not dismissed yet (they stay on screen, red, until then). */
/** A finished job the user must hear about until dismissed: a scan that could not open some of its folders. */
export function jobWarning(j: JobInfo): string | null {
  if (j.state !== 'done' || j.kind !== 'scan' || !j.result?.vanished?.length) return null;
  return `not scanned: ${vanishedWords(j.result.vanished)}. The other folders were scanned. Reconnect the folder and scan again, or remove it from the library.`;
}

/** Failed jobs, and done ones with a warning, not dismissed: newest first. */
export function failedJobs(): JobInfo[] {
  return [...state.jobs.values()].filter((j) => (j.state === 'failed' || jobWarning(j)) && !state.dismissed.has(j.id)).sort((a, b) => b.id - a.id);
}

const QUIET_KINDS = new Set(['similar', 'neardup', 'split', 'recluster']);
const runListeners = new Set<(runId: number, change: RunChange | undefined) => void>();
/** Called for every run change (after the store is updated). */
export function onRunChange(l: (runId: number, change: RunChange | undefined) => void): () => void {
  runListeners.add(l);
  return () => runListeners.delete(l);
}

export function startState(): void {
  api.onEvent((e) => {
    if (e.type === 'job') {
      const prev = state.jobs.get(e.job.id);
      state.jobs.set(e.job.id, e.job);
      const ended = e.job.state !== 'running' && e.job.state !== 'queued';
      // the short read jobs behind similar / near-duplicates / a split's or a re-clustering's computation change nothing to reload
      if (ended && !QUIET_KINDS.has(e.job.kind)) state.revision++;
      if (ended && prev && prev.state !== e.job.state && !QUIET_KINDS.has(e.job.kind)) {
        if (e.job.state === 'done') toast(`${e.job.kind} finished: ${jobSummary(e.job)}`);
      }
    } else if (e.type === 'library') {
      if (state.info && state.info.library !== e.info.library) { switchedLibrary(e.info); return; }
      state.info = e.info;
      state.revision++;
    } else if (e.type === 'run') {
      state.runRevisions.set(e.runId, runRevision(e.runId) + 1);
      if (e.change) state.lastChange.set(e.runId, e.change);
      for (const l of runListeners) l(e.runId, e.change);
    }
  });
  // a reconnect may have missed events: reload everything that is on screen
  connection.onReconnect = () => { void refreshInfo(); void loadJobs(); state.revision++; for (const id of state.runRevisions.keys()) state.runRevisions.set(id, runRevision(id) + 1); };
  void refreshInfo();
  void loadJobs();
}

async function loadJobs(): Promise<void> {
  try { for (const j of await api.listJobs()) state.jobs.set(j.id, j); } catch { /* shown by the connection banner */ }
}

let toastId = 0;
export function toast(text: string, kind: 'info' | 'error' = 'info', ms = 6000): void {
  const id = ++toastId;
  state.toasts.push({ id, text, kind });
  if (state.toasts.length > 3) state.toasts.splice(0, state.toasts.length - 3);
  setTimeout(() => { const i = state.toasts.findIndex((t) => t.id === id); if (i >= 0) state.toasts.splice(i, 1); }, ms);
}

export function showError(e: unknown): void {
  // a lost connection is the banner's to tell, not a raw "Failed to fetch" per call
  if (connection.state !== 'ok') return;
  state.error = readable(e instanceof Error ? e.message : String(e));
  setTimeout(() => { state.error = ''; }, 8000);
}

/** One line saying what a finished job did (or why it failed). */
export function jobSummary(j: JobInfo): string {
  if (j.state === 'failed') return j.error?.message ?? 'failed';
  if (j.state === 'cancelled') {
    const { done, total } = j.progress;
    const when = total ? ` after ${done.toLocaleString('en')} of ${total.toLocaleString('en')}` : '';
    if (j.kind === 'embed') return `cancelled${when}: the embeddings made so far are kept, and Embed again continues with the rest (nothing is computed twice)`;
    if (j.kind === 'scan') return `cancelled${when}: the photos scanned so far are kept; a new scan continues with the rest`;
    if (j.kind === 'cluster' || j.kind === 'map' || j.kind === 'sweep') return `cancelled${when}: nothing was stored, the earlier runs and maps are as they were`;
    return `cancelled${when}`;
  }
  if (j.state !== 'done' || !j.result) return j.progress.stage || j.state;
  switch (j.kind) {
    case 'scan': return `${j.result.added} added, ${j.result.updated} changed, ${j.result.missing} missing, ${j.result.errors} unreadable (${j.result.photos} photos)` +
      (j.result.vanished?.length ? `; not scanned: ${vanishedWords(j.result.vanished)} (reconnect the folder and scan again, or remove it)` : '');
    case 'embed': return `${j.result.processed} processed, ${j.result.failed} failed, ${j.result.embeddings} embeddings (${j.result.model})`;
    case 'cluster': return j.result.kind === 'face'
      ? `run ${j.result.runId}: ${count(j.result.clusters, 'person', 'people')}, ${count(j.result.noise, 'unknown face')}`
      : `run ${j.result.runId}: ${count(j.result.clusters, 'cluster')}, ${j.result.noise} noise`;
    case 'export': return `${j.result.dryRun ? 'dry run: would write' : 'wrote'} ${j.result.files} files, ${j.result.groups} groups, ${j.result.items} items to ${j.result.out ?? j.result.to}; ${j.result.skipped} skipped, ${j.result.collisions} collisions`;
    case 'map': return `${j.result.method} map of ${j.result.model}`;
    case 'sweep': return `${j.result.points.length} points, best ${j.result.best?.value ?? 'none'}`;
    case 'download': return `${j.result.path} (${j.result.size} bytes)`;
    default: return 'done';
  }
}

/** A job's parameters in words ("model photo · batch 16"), never raw JSON. */
export function jobParams(p: unknown): string {
  if (!p || typeof p !== 'object') return '';
  const show = (v: unknown): string => (Array.isArray(v) ? (v.length > 6 ? `${v.slice(0, 6).join(', ')}… (${v.length})` : v.join(', '))
    : v && typeof v === 'object' ? Object.entries(v).filter(([, x]) => x !== null && x !== undefined).map(([k, x]) => `${k} ${show(x)}`).join(', ') : String(v));
  return Object.entries(p as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined && v !== '').map(([k, v]) => `${k} ${show(v)}`).join(' · ').slice(0, 300);
}

// --- per-library persisted selections (localStorage keyed by the library's path) ---
function key(what: string): string | null {
  return state.info ? `constellate:${state.info.library}:${what}` : null;
}
export function loadPref<T>(what: string, fallback: T): T {
  const k = key(what);
  if (!k) return fallback;
  try { const v = localStorage.getItem(k); return v === null ? fallback : (JSON.parse(v) as T); } catch { return fallback; }
}
export function savePref(what: string, value: unknown): void {
  const k = key(what);
  if (k) try { localStorage.setItem(k, JSON.stringify(value)); } catch { /* storage full or off: the selection lasts this page */ }
}
function loadDismissed(): void {
  state.dismissed = new Set(loadPref<number[]>('dismissed', []));
}
export function dismissJob(id: number): void {
  state.dismissed.add(id);
  savePref('dismissed', [...state.dismissed].slice(-500));
}
