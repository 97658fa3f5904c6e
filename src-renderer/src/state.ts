/** App-wide reactive state: the library's info and the jobs, kept current by core events. */
import { reactive } from 'vue';
import type { JobInfo, LibraryInfo } from '@common/types.ts';
import { api } from './api.ts';

export const state = reactive({
  info: null as LibraryInfo | null,
  jobs: new Map<number, JobInfo>(),
  error: '' as string,
  /** bumps whenever the library content changes, so views reload */
  revision: 0,
});

export async function refreshInfo(): Promise<void> {
  try {
    state.info = await api.getInfo();
  } catch (e) {
    state.error = (e as Error).message;
  }
}

export function activeJobs(): JobInfo[] {
  return [...state.jobs.values()].filter((j) => j.state === 'running' || j.state === 'queued');
}

const QUIET_KINDS = new Set(['similar', 'neardup', 'split']);

export function startState(): void {
  api.onEvent((e) => {
    if (e.type === 'job') {
      state.jobs.set(e.job.id, e.job);
      // the short read jobs behind similar / near-duplicates / a split's computation change nothing to reload
      if (e.job.state !== 'running' && e.job.state !== 'queued' && !QUIET_KINDS.has(e.job.kind)) state.revision++;
    } else if (e.type === 'library') {
      state.info = e.info;
      state.revision++;
    }
  });
  void refreshInfo();
  void api.listJobs().then((jobs) => { for (const j of jobs) state.jobs.set(j.id, j); });
}

export function showError(e: unknown): void {
  state.error = e instanceof Error ? e.message : String(e);
  setTimeout(() => { state.error = ''; }, 8000);
}
